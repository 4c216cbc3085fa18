"""The distributed chapter's exercises through the grader: solution, exercise, and classic mistakes.

One batch grades five notebooks with a fixed seed: the solution, the generated exercise, and three
copies of the solution with one classic mistake written into each part, so every score is exact.
Parts 1 and 2 run on the simulated communicator: no MPI is needed anywhere here.
"""
from __future__ import annotations

import nbformat
import pytest

from accel_edu.grading.assignments.distributed import ASSIGNMENT, check_orders
from accel_edu.grading.batch import grade_directory
from accel_edu.grading.grader import GradeOptions
from grading_support import (LIMITS, ROOT, assert_full_marks, assert_stubs_name_the_parts,
                             assert_zero_and_says_what_to_write, parts_by_number, with_mistakes)

NAME = "08_distributed"
RING = "def ring_allreduce(comm, x):\n    p, rank = comm.Get_size(), comm.Get_rank()\n"
STEP = ("def data_parallel_sgd_step(comm, params, x, y, lr):\n    w, b = params\n"
        "    r = x @ w.T + b - y\n    grads = [r.T @ x / len(x), r.sum(axis=0) / len(x)]\n")
RING_PASSES = '''
    right, left = (rank + 1) % p, (rank - 1) % p
    incoming = np.empty(x.size + 1, dtype=x.dtype)
    for step in range(p - 1):
        send, recv = (rank - step) % p, (rank - step - 1) % p
        got = incoming[:starts[recv + 1] - starts[recv]]
        comm.Sendrecv(total[starts[send]:starts[send + 1]], dest=right, recvbuf=got, source=left)
        total[starts[recv]:starts[recv + 1]] += got
'''
ALLGATHER = '''
    for step in range(p - 1):
        send, recv = (rank + 1 - step) % p, (rank - step) % p
        comm.Sendrecv(total[starts[send]:starts[send + 1]], dest=right,
                      recvbuf=total[starts[recv]:starts[recv + 1]], source=left)
'''
ONE_F_ONE_B = '''def one_f_one_b_orders(stages, micro_batches):
    p, m = stages, micro_batches
    orders = []
    for s in range(p):
        warmup = {warmup}
        order = [("F", j) for j in range(warmup)]
        for i in range(m - warmup):
            order += [("F", warmup + i), ("B", i)]
        order += [("B", j) for j in range(m - warmup, m)]
        orders.append(order)
    return orders'''
MISTAKES = {
    "a": {
        # Part 1: everything to rank 0 and the sum back: right sums, (p - 1) whole buffers through rank 0.
        "ring_allreduce": RING + '''    total = x.copy()
    if rank == 0:
        buf = np.empty_like(x)
        for source in range(1, p):
            comm.Recv(buf, source=source)
            total += buf
        for dest in range(1, p):
            comm.Send(total, dest=dest)
    else:
        comm.Send(x, dest=0)
        comm.Recv(total, source=0)
    return total''',
        # Part 2: the gradients summed over the ranks, never divided by p: right on one rank only.
        "data_parallel_sgd_step": STEP + '''    bucket = np.concatenate([g.ravel() for g in grads])
    total = np.empty_like(bucket)
    comm.Allreduce(bucket, total)
    return [w - lr * total[:w.size].reshape(w.shape), b - lr * total[w.size:]]''',
        # Part 3: "backpropagation starts at the end": the backwards listed before the forwards. A
        # backward needs its own stage's forward of that micro-batch first: a deadlock, every case.
        "gpipe_orders": '''def gpipe_orders(stages, micro_batches):
    m = micro_batches
    return [[("B", j) for j in reversed(range(m))] + [("F", j) for j in range(m)] for _ in range(stages)]''',
        # Part 4: the warm-up reversed (s forwards on stage s): stage 0 waits for B0 first: deadlock.
        "one_f_one_b_orders": ONE_F_ONE_B.format(warmup="min(s, m)"),
    },
    "b": {
        # Part 3: each micro-batch's backward right after its forward: valid, but one at a time.
        "gpipe_orders": '''def gpipe_orders(stages, micro_batches):
    return [[(ph, j) for j in range(micro_batches) for ph in ("F", "B")] for _ in range(stages)]''',
        # Part 1: chunks of n // p elements: the last n mod p elements are never sent.
        "ring_allreduce": RING + "    total = x.copy()\n    starts = [i * (x.size // p) for i in range(p + 1)]"
                          + RING_PASSES + ALLGATHER + "    return total",
        # Part 2: the shard's mean gradient divided by the shard's size once more.
        "data_parallel_sgd_step": STEP + '''    bucket = np.concatenate([g.ravel() for g in grads]) / len(x)
    total = np.empty_like(bucket)
    comm.Allreduce(bucket, total)
    total /= comm.Get_size()
    return [w - lr * total[:w.size].reshape(w.shape), b - lr * total[w.size:]]''',
        # Part 4: no warm-up: F0 B0 F1 B1 ... on every stage: valid, but the micro-batches run one at a time.
        "one_f_one_b_orders": ONE_F_ONE_B.format(warmup="0"),
    },
    "c": {
        # Part 1: the reduce-scatter alone: each rank holds only its own chunk of the sum.
        "ring_allreduce": RING + '''    total = x.copy()
    base, extra = divmod(x.size, p)
    starts = [i * base + min(i, extra) for i in range(p + 1)]''' + RING_PASSES + "    return total",
        # Part 2: the bucket cut back in the wrong order (b's entries taken from the front).
        "data_parallel_sgd_step": STEP + '''    bucket = np.concatenate([g.ravel() for g in grads])
    total = np.empty_like(bucket)
    comm.Allreduce(bucket, total)
    total /= comm.Get_size()
    return [w - lr * total[b.size:].reshape(w.shape), b - lr * total[:b.size]]''',
        # Part 2 could also send one Allreduce per tensor; that is graded in mistakes "d".
    },
    "d": {
        # Part 2: right values, but one Allreduce per tensor instead of one bucket.
        "data_parallel_sgd_step": STEP + '''    new = []
    for param, g in zip(params, grads):
        total = np.empty_like(g)
        comm.Allreduce(g, total)
        new.append(param - lr * total / comm.Get_size())
    return new''',
    },
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"solution" | "exercise" | "mistakes_a" ... : result}, graded in one batch."""
    base = tmp_path_factory.mktemp("distributed")
    submissions = base / "submissions"
    submissions.mkdir()
    for student, folder in (("solution", "solutions"), ("exercise", "exercises")):
        (submissions / f"{student}.ipynb").write_bytes((ROOT / folder / f"{NAME}.ipynb").read_bytes())
    for key, mistakes in MISTAKES.items():
        nbformat.write(with_mistakes(NAME, mistakes), submissions / f"mistakes_{key}.ipynb")
    forbidden = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    forbidden.cells[1].source += "\nfrom accel_edu.distributed.allreduce import ring_allreduce as _ring\n"
    nbformat.write(forbidden, submissions / "imports_the_library.ipynb")
    no_simulator = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    no_simulator.cells[1].source = no_simulator.cells[1].source.replace(
        "from accel_edu.distributed.simulated import run_ranks, simulate_ranks", "")
    nbformat.write(no_simulator, submissions / "no_simulator.ipynb")
    batch = grade_directory(submissions, base / "grades", GradeOptions(limits=LIMITS, seed=2024),
                            jobs=3, progress=False)
    return {g.student: g.result for g in batch}


def scores(result) -> dict:
    return {number: part.score for number, part in parts_by_number(result).items()}


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded["solution"], NAME, 50)


def test_exercise_scores_zero_and_says_what_to_write(graded):
    assert_zero_and_says_what_to_write(graded["exercise"], 50)


def test_naive_allreduce_is_right_but_fails_the_traffic_check(graded):
    parts = parts_by_number(graded["mistakes_a"])
    assert parts["1"].score == 14, parts["1"].output        # every sum right, no traffic point
    assert "12 of 12 results right; 0 of 8 traffic checks" in parts["1"].output
    assert "a ring allreduce sends 2 (p - 1)" in parts["1"].output


def test_chunks_that_drop_the_remainder_fail_where_p_does_not_divide_n(graded):
    part = parts_by_number(graded["mistakes_b"])["1"]
    # Right only where p divides n (n = 0, 8, 12, 5 over 2, 4, 5 ranks): 4 of 12 sums, the
    # traffic of the 3 of those with n >= p.
    assert part.score == round(14 * 4 / 12 + 6 * 3 / 8, 2), part.output
    assert "FAILED [p=2, n=1, float32]" in part.output


def test_forgotten_allgather_is_wrong_on_every_rank_but_one_chunk(graded):
    part = parts_by_number(graded["mistakes_c"])["1"]
    assert part.score == round(14 * 1 / 12, 2), part.output   # only n = 0 is right
    assert "rank 0: total" in part.output


def test_gradient_averaging_mistakes(graded):
    # Not divided by p: right only for the one case on a single rank.
    assert scores(graded["mistakes_a"])["2"] == round(12 / 6 + 3 / 6, 2)
    # Divided by the shard size twice, or the bucket cut in the wrong order: no case right.
    assert scores(graded["mistakes_b"])["2"] == 0
    assert scores(graded["mistakes_c"])["2"] == 0
    # One Allreduce per tensor: right values, no bucket point.
    part = parts_by_number(graded["mistakes_d"])["2"]
    assert part.score == 12 and "one bucket is one Allreduce" in part.output, part.output


def test_schedule_mistakes(graded):
    a, b = parts_by_number(graded["mistakes_a"]), parts_by_number(graded["mistakes_b"])
    # GPipe with the backwards first deadlocks in every case.
    assert "orders deadlock" in a["3"].output and a["3"].score == 0, a["3"].output
    # Each backward right after its forward: right only with one micro-batch, (1, 1) and (2, 1);
    # (1, 3) is not GPipe (forwards first); elsewhere the bubble is too large.
    assert b["3"].score == round(5 * 2 / 8, 2) and "the bubble is 0.5000" in b["3"].output, b["3"].output
    # 1F1B with the warm-up reversed deadlocks wherever p > 1 and m > 1; with one stage or one
    # micro-batch the warm-up does not matter: (1, 1), (1, 3), (2, 1) pass, 3 of 8.
    assert "orders deadlock" in a["4"].output and a["4"].score == round(10 * 3 / 8, 2), a["4"].output
    # No warm-up: valid and complete, but the bubble is not (p - 1) / (m + p - 1); the same 3 pass.
    assert "the bubble is 0.5000" in b["4"].output and b["4"].score == round(10 * 3 / 8, 2), b["4"].output


def test_importing_the_chapters_library_scores_zero(graded):
    result = graded["imports_the_library"]
    assert result.score == 0
    assert all("imports accel_edu.distributed.allreduce" in p.output for p in result.parts)


def test_without_the_given_simulator_cell_the_ranked_parts_say_what_is_missing(graded):
    parts = parts_by_number(graded["no_simulator"])
    for number in "12":
        assert parts[number].score == 0 and "keep the given cell that imports it" in parts[number].output
    assert parts["3"].score == 5 and parts["4"].score == 10


def test_check_orders_names_what_is_wrong():
    gpipe = [[("F", 0), ("F", 1), ("B", 1), ("B", 0)]] * 2
    assert check_orders(gpipe, 2, 2, "gpipe") is None
    assert "should return 3 lists" in check_orders(gpipe, 3, 2, "gpipe")
    assert "exactly once" in check_orders([gpipe[0][:3], gpipe[1]], 2, 2, "gpipe")
    assert "(phase, micro) pairs" in check_orders([["F0"], gpipe[1]], 2, 2, "gpipe")
    one_f_one_b = [[("F", 0), ("F", 1), ("B", 0), ("B", 1)], [("F", 0), ("B", 0), ("F", 1), ("B", 1)]]
    assert check_orders(one_f_one_b, 2, 2, "1f1b") is None
    assert "GPipe runs all m forwards" in check_orders(one_f_one_b, 2, 2, "gpipe")
    # GPipe's order holds m = 4 activations on stage 0 of 2: too many for 1F1B.
    assert "1F1B keeps at most" in check_orders([[("F", j) for j in range(4)] + [("B", j) for j in range(4)]] * 2,
                                                2, 4, "1f1b")


def test_stubs_name_the_graded_parts():
    assert_stubs_name_the_parts(NAME, 50)
    assert [p.points for p in ASSIGNMENT.parts] == [20, 15, 5, 10]
