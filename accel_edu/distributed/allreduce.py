"""Ring allreduce from point-to-point messages: a reduce-scatter, then an allgather.

Every rank holds a buffer of n elements; afterwards every rank holds their elementwise sum.
The buffer is cut into p chunks (sizes differ by at most one element). The ranks form a
ring, each sending only to its right neighbour and receiving from its left:

- reduce-scatter, p - 1 steps: at step s rank r sends chunk (r - s) mod p and adds the chunk
  (r - s - 1) mod p it receives into its own. After p - 1 steps rank r holds chunk
  (r + 1) mod p fully reduced.
- allgather, p - 1 steps: the reduced chunks travel once more round the ring, each rank
  copying (not adding) what arrives.

Each rank sends 2 (p - 1) messages of about n / p elements: 2 (p - 1) / p * n elements in all,
almost independent of p. That is the bandwidth-optimal allreduce (Patarasuk and Yuan, 2009),
and the one data-parallel training uses for large gradients.

``comm`` is an mpi4py communicator (``MPI.COMM_WORLD``); this module imports nothing from
mpi4py itself, so importing it never needs MPI.
"""
from __future__ import annotations

import numpy as np

REDUCTIONS = {"sum": np.add, "max": np.maximum, "min": np.minimum}


def chunk_bounds(n: int, p: int) -> list[tuple[int, int]]:
    """Split n elements into p contiguous chunks whose sizes differ by at most one.

    Returns p (start, stop) pairs covering range(n) in order; the first n mod p chunks get
    the extra element. Chunks are empty when n < p (and all are when n == 0).

    >>> chunk_bounds(10, 4)
    [(0, 3), (3, 6), (6, 8), (8, 10)]
    """
    for name, value in (("n", n), ("p", p)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < (0 if name == "n" else 1):
            raise ValueError(f"{name} must be an integer >= {0 if name == 'n' else 1}; got {value!r}")
    base, extra = divmod(int(n), int(p))
    bounds, start = [], 0
    for i in range(p):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def check_allreduce_buffer(name: str, x) -> np.ndarray:
    """A NumPy array of numbers (any shape; flattened for sending)."""
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array; got {type(x).__name__}")
    if x.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold floats or integers; got dtype {x.dtype}")
    return x


def ring_allreduce(comm, sendbuf: np.ndarray, recvbuf: np.ndarray | None = None, *,
                   op: str = "sum", check_sizes: bool = True) -> np.ndarray:
    """Allreduce ``sendbuf`` over ``comm``'s ranks with the ring algorithm; return the result.

    sendbuf: any shape and dtype, n elements, the same n and dtype on every rank.
    recvbuf: optional output of the same shape and dtype (written in place and returned);
    by default a new array. op: "sum", "max" or "min".
    check_sizes: first compare n and dtype across ranks (one small allgather), so a mismatch
    raises ValueError on every rank instead of a truncation error or a hang; the timing
    benchmark turns it off so the ring pays for nothing MPI_Allreduce does not.
    Messages: 2 (p - 1) per rank, of n / p elements (rounded up) each.
    """
    check_allreduce_buffer("sendbuf", sendbuf)
    if op not in REDUCTIONS:
        raise ValueError(f"op must be one of {sorted(REDUCTIONS)}; got {op!r}")
    if recvbuf is None:
        recvbuf = np.empty_like(sendbuf)
    check_allreduce_buffer("recvbuf", recvbuf)
    if recvbuf.shape != sendbuf.shape or recvbuf.dtype != sendbuf.dtype:
        raise ValueError(f"recvbuf must match sendbuf's shape {sendbuf.shape} and dtype {sendbuf.dtype}; "
                         f"got shape {recvbuf.shape} and dtype {recvbuf.dtype}")
    if check_sizes:
        check_same_on_all_ranks(comm, "sendbuf", (sendbuf.size, str(sendbuf.dtype)))
    # Work on one contiguous 1-D copy: chunks are then plain slices, which MPI sends as they are.
    out = np.array(sendbuf, copy=True, order="C").reshape(-1)
    p, rank = comm.Get_size(), comm.Get_rank()
    if p > 1 and out.size > 0:
        _ring_passes(comm, out, p, rank, REDUCTIONS[op])
    recvbuf[...] = out.reshape(sendbuf.shape)
    return recvbuf


def _ring_passes(comm, out, p, rank, reduce):
    bounds = chunk_bounds(out.size, p)
    incoming = np.empty(bounds[0][1] - bounds[0][0], dtype=out.dtype)  # chunk 0 is the largest
    right, left = (rank + 1) % p, (rank - 1) % p
    for step in range(p - 1):  # reduce-scatter: add what arrives
        send_lo, send_hi = bounds[(rank - step) % p]
        recv_lo, recv_hi = bounds[(rank - step - 1) % p]
        got = incoming[:recv_hi - recv_lo]
        # Sendrecv posts the send and the receive together, so no rank waits on its neighbour
        # to receive first (p blocking Sends round a ring can deadlock once messages are large).
        comm.Sendrecv(out[send_lo:send_hi], dest=right, sendtag=step,
                      recvbuf=got, source=left, recvtag=step)
        reduce(out[recv_lo:recv_hi], got, out=out[recv_lo:recv_hi])
    for step in range(p - 1):  # allgather: copy what arrives
        send_lo, send_hi = bounds[(rank + 1 - step) % p]
        recv_lo, recv_hi = bounds[(rank - step) % p]
        comm.Sendrecv(out[send_lo:send_hi], dest=right, sendtag=p + step,
                      recvbuf=out[recv_lo:recv_hi], source=left, recvtag=p + step)


def mpi_allreduce(comm, sendbuf: np.ndarray, recvbuf: np.ndarray | None = None, *,
                  op: str = "sum") -> np.ndarray:
    """The library's MPI_Allreduce on the same arguments: the reference the ring is checked
    and timed against (Open MPI picks its own algorithm by message size)."""
    from mpi4py import MPI  # only launched code reaches this

    check_allreduce_buffer("sendbuf", sendbuf)
    ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
    if op not in ops:
        raise ValueError(f"op must be one of {sorted(ops)}; got {op!r}")
    if recvbuf is None:
        recvbuf = np.empty_like(sendbuf)
    if recvbuf.shape != sendbuf.shape or recvbuf.dtype != sendbuf.dtype:
        raise ValueError(f"recvbuf must match sendbuf's shape {sendbuf.shape} and dtype {sendbuf.dtype}; "
                         f"got shape {recvbuf.shape} and dtype {recvbuf.dtype}")
    comm.Allreduce(np.ascontiguousarray(sendbuf), recvbuf, op=ops[op])
    return recvbuf


def check_same_on_all_ranks(comm, name: str, value) -> None:
    """Raise the same ValueError on every rank when ``value`` differs between ranks."""
    values = comm.allgather(value)
    if any(v != values[0] for v in values):
        raise ValueError(f"{name} must be the same on every rank; got {dict(enumerate(values))}")
