"""The jobs the chapter launches, run in-process on these ranks with small sizes (no extra mpiexec)."""
import numpy as np

from accel_edu.distributed import fit_alpha_beta
from accel_edu.distributed.workers import allreduce_timing, data_parallel, pipeline_bubble


def test_allreduce_timing_records(comm):
    result = allreduce_timing.main(comm, ["--sizes", "0,1,1000,5000", "--repeats", "2", "--warmup", "1"])
    every = comm.allgather(result)
    records = result["records"]
    assert [r["elements"] for r in records] == [0, 1, 1000, 5000]
    assert [r["bytes"] for r in records] == [0, 4, 4000, 20000]
    assert all(r["ring_s"] > 0 and r["mpi_s"] > 0 and r["ranks"] == comm.Get_size() for r in records)
    assert all(r["max_abs_difference"] < 1e-4 for r in records)  # the ring's answer is MPI's
    assert all(e == result for e in every)  # the slowest rank's times: one answer everywhere
    fit = fit_alpha_beta([r["bytes"] for r in records[1:]], [r["ring_s"] for r in records[1:]],
                         comm.Get_size())
    assert fit["alpha"] >= 0 and fit["beta"] >= 0


def test_data_parallel_job_matches_one_process(comm):
    result = data_parallel.main(comm, ["--samples", str(32 * comm.Get_size()), "--epochs", "1",
                                       "--batch-size", str(8 * comm.Get_size())])
    if comm.Get_rank() == 0:
        assert result["steps"] == 4 and result["max_parameter_change"] > 1e-3
        assert result["max_difference_from_one_process"] < 1e-12
        assert result["max_difference_between_replicas"] == 0.0
    else:
        assert result is None


def test_pipeline_bubble_records(comm):
    result = pipeline_bubble.main(comm, ["--micro-batches", "1,4", "--batch", "16", "--width", "8",
                                         "--repeats", "1"])
    records = result["records"]
    p = comm.Get_size()
    assert [(r["kind"], r["micro_batches"]) for r in records] == [
        ("gpipe", 1), ("gpipe", 4), ("1f1b", 1), ("1f1b", 4)]
    for r in records:
        assert r["formula_bubble"] == (p - 1) / (r["micro_batches"] + p - 1)
        assert 0.0 <= r["measured_bubble"] < 1.0 and r["makespan_s"] > 0
    assert np.isfinite([r["measured_bubble"] for r in records]).all()
