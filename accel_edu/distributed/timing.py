"""Ring allreduce against MPI_Allreduce, side by side over message sizes (run on every rank).

One record per size: the median over ``repeats`` of the slowest rank's time (an allreduce
is done when its last rank is done), ring and MPI alternated in every repeat so both see
the same load on a shared machine. The chapter plots the records and fits the cost model
(:func:`accel_edu.distributed.cost_model.fit_alpha_beta`) to them.
"""
from __future__ import annotations

import time

import numpy as np

from .allreduce import mpi_allreduce, ring_allreduce

DEFAULT_SIZES = tuple(4 ** k for k in range(0, 11))  # 1 .. 1M elements: 4 B .. 4 MiB of float32


def _timed(comm, allreduce, sendbuf, recvbuf) -> float:
    """Seconds of one allreduce on the slowest rank, all ranks starting together."""
    from mpi4py import MPI

    comm.Barrier()
    start = time.perf_counter()
    allreduce(comm, sendbuf, recvbuf)
    elapsed = time.perf_counter() - start
    return comm.allreduce(elapsed, op=MPI.MAX)


def time_allreduce(comm, sizes=DEFAULT_SIZES, *, repeats: int = 20, warmup: int = 3,
                   dtype=np.float32) -> list[dict]:
    """Median seconds of ring_allreduce and MPI_Allreduce for each element count in ``sizes``.

    Returns records {"elements", "bytes", "ranks", "ring_s", "mpi_s", "ring_over_mpi",
    "max_abs_difference"}, the same list on every rank. Sizes and repeats must agree on every rank.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer; got {repeats!r}")
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(comm.Get_rank())
    records = []
    for n in sizes:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"sizes must be element counts >= 0; got {n!r}")
        x = (rng.standard_normal(int(n)) if dtype.kind == "f" else rng.integers(-100, 100, int(n))).astype(dtype)
        ring_out, mpi_out = np.empty_like(x), np.empty_like(x)

        def ring(c, s, r):
            return ring_allreduce(c, s, r, check_sizes=False)

        ring_times, mpi_times = [], []
        for i in range(warmup + repeats):
            t_ring = _timed(comm, ring, x, ring_out)
            t_mpi = _timed(comm, mpi_allreduce, x, mpi_out)
            if i >= warmup:
                ring_times.append(t_ring)
                mpi_times.append(t_mpi)
        ring_s, mpi_s = float(np.median(ring_times)), float(np.median(mpi_times))
        difference = float(np.max(np.abs(ring_out.astype(float) - mpi_out))) if n else 0.0
        records.append({"elements": int(n), "bytes": int(n) * dtype.itemsize, "ranks": comm.Get_size(),
                        "dtype": str(dtype), "ring_s": ring_s, "mpi_s": mpi_s,
                        "ring_over_mpi": ring_s / mpi_s, "max_abs_difference": difference})
    return records
