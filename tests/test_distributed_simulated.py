"""The simulated communicator: p ranks as threads, mpi4py's method names, every message counted.

The library's own ring allreduce (written for mpi4py) runs on it unchanged, which is what lets
the grader run a student's ring without MPI.
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np
import pytest

from accel_edu.distributed.allreduce import ring_allreduce
from accel_edu.distributed.simulated import DeadlockError, run_ranks, simulate_ranks


def library_ring(comm, x):
    return ring_allreduce(comm, x, check_sizes=False)


@pytest.mark.parametrize("p, n", [(1, 5), (2, 0), (2, 7), (3, 2), (4, 10), (5, 1001)])
def test_the_librarys_ring_runs_unchanged_and_sends_2_p_minus_1_chunks(p, n):
    rng = np.random.default_rng(p * 100 + n)
    buffers = [rng.standard_normal(n) for _ in range(p)]
    results, traffic = run_ranks(library_ring, [[b] for b in buffers])
    for total in results:
        np.testing.assert_allclose(total, np.sum(buffers, axis=0), rtol=1e-12, atol=1e-12)
    sends = 2 * (p - 1) if n else 0          # the library skips the passes for an empty buffer
    assert traffic["messages"] == [sends] * p
    assert max(traffic["largest_message"]) == (math.ceil(n / p) if sends else 0)
    # Every element leaves every rank 2 (p - 1) / p times, up to the chunks' rounding.
    assert sum(traffic["elements"]) == 2 * (p - 1) * n
    assert sum(traffic["bytes"]) == 8 * sum(traffic["elements"])


def test_point_to_point_calls_move_copies_and_count_bytes():
    def exchange(comm):
        rank, other = comm.Get_rank(), 1 - comm.Get_rank()
        mine = np.full(3, rank, dtype=np.int32)
        if rank == 0:
            comm.Send(mine, dest=1, tag=7)
            mine[:] = 99                          # the message was copied when sent
            got = comm.recv(source=1)
        else:
            got = np.empty(3, np.int32)
            comm.Recv(got, source=0, tag=7)
            comm.send({"from": rank}, dest=0)
        back = comm.sendrecv(rank * 10, dest=other, source=other)
        return got, back

    (got0, back0), (got1, back1) = run_ranks(exchange, [[], []])[0]
    assert got0 == {"from": 1} and back0 == 10 and back1 == 0
    np.testing.assert_array_equal(got1, [0, 0, 0])
    traffic = run_ranks(exchange, [[], []])[1]
    assert traffic["messages"] == [2, 2]
    assert traffic["bytes"][0] == 12 + len(__import__("pickle").dumps(0))


def test_a_pickled_message_counts_the_numbers_it_holds():
    def send_list(comm):
        if comm.Get_rank() == 0:
            comm.send([np.zeros(4), [1.0, 2.0], 3.0], dest=1)
        else:
            return comm.recv(source=0)

    results, traffic = run_ranks(send_list, [[], []])
    assert traffic["largest_message"] == [7, 0] and traffic["elements"] == [7, 0]
    assert results[1][1:] == [[1.0, 2.0], 3.0]


def test_allreduce_sums_in_rank_order_and_counts_calls():
    def total(comm, x):
        out = np.empty_like(x)
        comm.Allreduce(x, out)
        comm.Barrier()
        return out

    xs = [np.array([0.1, 1e16, -1e16], np.float64) * (r + 1) for r in range(4)]
    results, traffic = run_ranks(total, [[x] for x in xs])
    want = xs[0] + xs[1] + xs[2] + xs[3]            # left to right, as the communicator does
    for r in results:
        np.testing.assert_array_equal(r, want)
    assert traffic["allreduce_calls"] == [1] * 4 and traffic["allreduce_elements"] == [3] * 4
    assert traffic["messages"] == [0] * 4


def test_a_receive_that_is_never_matched_raises_a_deadlock_naming_every_rank():
    def receive_first(comm):
        buf = np.empty(1)
        comm.Recv(buf, source=(comm.Get_rank() + 1) % comm.Get_size())

    started = time.perf_counter()
    with pytest.raises(DeadlockError, match=r"rank 0 waits to receive from rank 1; rank 1 .*rank 2 waits"):
        run_ranks(receive_first, [[], [], []])
    assert time.perf_counter() - started < 5, "a deadlock is detected, not waited out"


def test_a_ranks_own_error_is_raised_not_the_deadlock_it_causes():
    def rank_one_fails(comm):
        if comm.Get_rank() == 1:
            raise IndexError("chunk 4 of 4")
        comm.Recv(np.empty(2), source=1)

    with pytest.raises(IndexError, match="chunk 4 of 4"):
        run_ranks(rank_one_fails, [[], []])


def test_a_rank_still_running_past_the_timeout_is_reported():
    with pytest.raises(TimeoutError, match="rank 0 was still running after 0.1 s"):
        run_ranks(lambda comm: time.sleep(1.0), [[]], timeout=0.1)


@pytest.mark.parametrize("body, message", [
    ("comm.Send(np.ones(3), dest=2)", r"dest must be a rank in \[0, 2\); got 2"),
    ("comm.Send([1.0], dest=0)", "buf must be a NumPy array"),
    ("comm.Sendrecv(np.ones(3), dest=0, recvbuf=np.empty(2), source=0)", "message truncated: 3 elements"),
    ("comm.Sendrecv(np.ones(3), dest=0, recvbuf=np.empty(3, np.float32), source=0)", "float64 data into a float32"),
    ("comm.Sendrecv(np.ones(2), dest=0, recvbuf=np.empty(4)[::2], source=0)", "contiguous array to receive"),
    ("comm.Allreduce(np.ones(2), np.empty(3))", "recvbuf must match sendbuf's shape"),
    ("comm.Recv(np.empty(1), source=5)", r"source must be a rank in \[0, 2\)"),
])
def test_bad_calls_raise_value_errors_naming_the_argument(body, message):
    def rank(comm):
        if comm.Get_rank() == 0:
            exec(body, {"np": np, "comm": comm})

    with pytest.raises(ValueError, match=message):
        run_ranks(rank, [[], []])


def test_run_ranks_checks_its_arguments():
    with pytest.raises(ValueError, match="function must be callable"):
        run_ranks("ring", [[]])
    with pytest.raises(ValueError, match="rank_args must be a non-empty list"):
        run_ranks(library_ring, [])


def test_simulate_ranks_finds_the_notebooks_function_by_name(monkeypatch):
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "student_ring", library_ring, raising=False)
    results, _ = simulate_ranks("student_ring", [[np.ones(4)], [np.ones(4)]])
    np.testing.assert_array_equal(results[1], np.full(4, 2.0))
    with pytest.raises(ValueError, match="no function named 'missing_ring'"):
        simulate_ranks("missing_ring", [[np.ones(1)]])
