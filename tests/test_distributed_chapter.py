"""Chapter 8's model-parallel job: a network split by layers over two ranks gives the unsplit
network's gradients (launched once per case under mpiexec; skipped where MPI is missing)."""
import numpy as np
import pytest

from accel_edu.distributed import MPIUnavailable, run_mpi, split_sequential
from accel_edu.distributed.workers import model_parallel

JOB = "accel_edu.distributed.workers.model_parallel"


def launch(*args):
    try:
        return run_mpi(JOB, n=2, args=list(args), timeout=180)
    except MPIUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def plain():
    """One micro-batch: plain model parallelism, float64."""
    return launch("--micro-batches", "1")


@pytest.fixture(scope="module")
def pipelined():
    """Four micro-batches on the 1F1B schedule, float64."""
    return launch("--micro-batches", "4", "--kind", "1f1b")


def test_the_model_splits_before_a_linear_layer():
    stages = split_sequential(model_parallel.make_model(np.float64), 2)
    assert [repr(layer) for layer in stages[0]][0].startswith("Linear(16, 48")
    assert repr(stages[1][0]).startswith("Linear(32, 24")  # the cut falls before a Linear
    assert sum(len(s) for s in stages) == 9


def test_split_model_gives_the_unsplit_gradients(plain):
    assert plain["ranks"] == 2 and len(plain["stages"]) == 2
    # Both stages hold gradients that are not all zero, and they match the unsplit model's.
    assert all(stage["largest_gradient"] > 1e-4 for stage in plain["stages"])
    assert plain["max_gradient_difference"] <= 1e-15
    assert plain["pipeline_loss"] == pytest.approx(plain["unsplit_loss"], rel=1e-14)


def test_one_micro_batch_leaves_one_rank_idle_at_a_time(plain):
    # With m = 1 each rank's forward ends before the next rank's starts, and the backward
    # comes back in the opposite order: no two ranks compute at once.
    (f0, b0), (f1, b1) = ([e for e in stage["events"]] for stage in plain["stages"])
    assert f0[0] == "F" and b0[0] == "B" and f1[0] == "F" and b1[0] == "B"
    assert f0[3] <= f1[2] <= b1[2] and b1[3] <= b0[2]


def test_micro_batches_on_1f1b_sum_to_the_same_gradients(pipelined):
    assert pipelined["micro_batches"] == 4 and pipelined["kind"] == "1f1b"
    # Four micro-batch gradients added up: rounding differs from one pass, so a tolerance.
    assert pipelined["max_gradient_difference"] < 1e-12
    assert pipelined["pipeline_loss"] == pytest.approx(pipelined["unsplit_loss"], rel=1e-12)
    for stage in pipelined["stages"]:
        assert sorted((ph, j) for ph, j, _, _ in stage["events"]) == sorted(
            [("F", j) for j in range(4)] + [("B", j) for j in range(4)])
