"""p ranks in one process: a simulated MPI communicator that counts every message.

The chapter's ring allreduce talks to an mpi4py communicator through a few methods
(``Get_rank``, ``Get_size``, ``Sendrecv``). :class:`SimulatedComm` offers those and a few more
(``Send``/``Recv``, the pickling ``send``/``recv``/``sendrecv``, ``Allreduce``, ``Barrier``), so
code written for MPI runs unchanged as p threads of one process, with no mpiexec:

>>> import numpy as np
>>> def total(comm, x):
...     out = np.empty_like(x)
...     comm.Allreduce(x, out)
...     return out
>>> results, traffic = run_ranks(total, [[np.ones(3)], [np.full(3, 2.0)]])
>>> results[1], traffic["allreduce_calls"]
(array([3., 3., 3.]), [1, 1])

What differs from MPI, on purpose:

- every send is buffered (it copies the data and returns at once), so an order of sends and
  receives that works here can still deadlock under MPI once messages are large; a receive
  that can never be matched is caught here at once, and raises :class:`DeadlockError` on
  every waiting rank instead of hanging;
- ``Allreduce`` sums in rank order, so every rank gets bit-identical results.

Traffic is counted per rank, from what the communicator itself copied: point-to-point
messages sent, their elements and bytes, the largest message, and allreduce calls and their
elements. The grader uses it to tell a ring (2 (p - 1) messages of about n / p elements per
rank) from a correct but naive allreduce that sends whole buffers to one rank.
"""
from __future__ import annotations

import pickle
import sys
import threading
import time

import numpy as np

ANY_SOURCE = -1
ANY_TAG = -1
SUM, MAX, MIN = "sum", "max", "min"
_REDUCE = {SUM: np.add, MAX: np.maximum, MIN: np.minimum}
TRAFFIC_KEYS = ("messages", "elements", "bytes", "largest_message", "allreduce_calls", "allreduce_elements")


class DeadlockError(RuntimeError):
    """Every rank still running waits for something no other rank will ever send."""


class _World:
    """The state the p ranks share: mailboxes, collectives in progress, who waits for what."""

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Condition()
        self.mail = [[] for _ in range(size)]       # mail[dest]: [source, tag, payload] in arrival order
        self.collectives: dict[int, list] = {}      # call number -> deposits, one per rank
        self.alive = size
        self.waiting: dict[int, tuple] = {}         # rank -> (what it waits for, ready())
        self.traffic = {key: [0] * size for key in TRAFFIC_KEYS}

    def wait_until(self, rank: int, what: str, ready) -> None:
        """Block rank until ready() (called under the lock) is true; detect a deadlock."""
        while not ready():
            self.waiting[rank] = (what, ready)
            try:
                if len(self.waiting) == self.alive and not any(r() for _, r in self.waiting.values()):
                    stuck = "; ".join(f"rank {r} {w}" for r, (w, _) in sorted(self.waiting.items()))
                    self.lock.notify_all()
                    raise DeadlockError(f"deadlock: every rank still running waits for a message that is "
                                        f"never sent ({stuck})")
                self.lock.wait(0.5)
            finally:
                self.waiting.pop(rank, None)

    def rank_done(self) -> None:
        with self.lock:
            self.alive -= 1
            self.lock.notify_all()


def _buffer(name: str, buf) -> np.ndarray:
    """mpi4py takes an array or [array, datatype]; the datatype is the array's own here."""
    if isinstance(buf, (list, tuple)) and buf and isinstance(buf[0], np.ndarray):
        buf = buf[0]
    if not isinstance(buf, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array (a buffer); got {type(buf).__name__}")
    return buf


def _count_elements(obj) -> int:
    """Numbers in a pickled message: an array's size, a list's items summed, else 1."""
    if isinstance(obj, np.ndarray):
        return obj.size
    if isinstance(obj, (list, tuple)):
        return sum(_count_elements(item) for item in obj)
    return 1


class SimulatedComm:
    """Rank ``rank``'s view of a simulated communicator of ``size`` ranks (mpi4py's names)."""

    def __init__(self, world: _World, rank: int):
        self._world, self._rank = world, rank
        self._collective_calls = 0

    def Get_rank(self) -> int:
        return self._rank

    def Get_size(self) -> int:
        return self._world.size

    rank = property(Get_rank)
    size = property(Get_size)

    # -- point to point ----------------------------------------------------------------------
    def _post(self, payload, dest, tag, elements, nbytes) -> None:
        w = self._world
        if not isinstance(dest, (int, np.integer)) or not 0 <= dest < w.size:
            raise ValueError(f"dest must be a rank in [0, {w.size}); got {dest!r}")
        with w.lock:
            w.mail[dest].append([self._rank, tag, payload])
            t, r = w.traffic, self._rank
            t["messages"][r] += 1
            t["elements"][r] += elements
            t["bytes"][r] += nbytes
            t["largest_message"][r] = max(t["largest_message"][r], elements)
            w.lock.notify_all()

    def _take(self, source, tag):
        w, me = self._world, self._rank
        if not isinstance(source, (int, np.integer)) or not (source == ANY_SOURCE or 0 <= source < w.size):
            raise ValueError(f"source must be a rank in [0, {w.size}) or ANY_SOURCE; got {source!r}")

        def match():
            for i, (src, t, _) in enumerate(w.mail[me]):
                if source in (ANY_SOURCE, src) and tag in (ANY_TAG, t):
                    return i
            return None

        with w.lock:
            w.wait_until(me, f"waits to receive from {'any rank' if source == ANY_SOURCE else f'rank {source}'}"
                         f"{'' if tag == ANY_TAG else f' (tag {tag})'}", lambda: match() is not None)
            return w.mail[me].pop(match())[2]

    def Send(self, buf, dest: int, tag: int = 0) -> None:
        buf = _buffer("buf", buf)
        self._post(np.array(buf, copy=True).reshape(-1), dest, tag, buf.size, buf.nbytes)

    def Recv(self, buf, source: int = ANY_SOURCE, tag: int = ANY_TAG, status=None) -> None:
        buf = _buffer("buf", buf)
        if not buf.flags.c_contiguous:   # reshape(-1) would copy it, and the message be lost
            raise ValueError(f"buf must be a contiguous array to receive into; got a view with strides {buf.strides}")
        payload = self._take(source, tag)
        if not isinstance(payload, np.ndarray):
            raise ValueError(f"rank {self._rank}: Recv got a pickled object ({type(payload).__name__}), "
                             "sent with lower-case send; receive it with recv")
        if payload.dtype != buf.dtype:
            raise ValueError(f"rank {self._rank}: received {payload.dtype} data into a {buf.dtype} buffer")
        if payload.size > buf.size:
            raise ValueError(f"rank {self._rank}: message truncated: {payload.size} elements arrived for a "
                             f"buffer of {buf.size}")
        buf.reshape(-1)[:payload.size] = payload   # as MPI: a shorter message fills the front

    def Sendrecv(self, sendbuf, dest: int, sendtag: int = 0, recvbuf=None, source: int = ANY_SOURCE,
                 recvtag: int = ANY_TAG, status=None) -> None:
        if recvbuf is None:
            raise ValueError("recvbuf must be a NumPy array to receive into; got None")
        self.Send(sendbuf, dest, sendtag)
        self.Recv(recvbuf, source, recvtag)

    def send(self, obj, dest: int, tag: int = 0) -> None:
        data = pickle.dumps(obj)
        self._post(pickle.loads(data), dest, tag, _count_elements(obj), len(data))

    def recv(self, buf=None, source: int = ANY_SOURCE, tag: int = ANY_TAG, status=None):
        return self._take(source, tag)

    def sendrecv(self, sendobj, dest: int, sendtag: int = 0, recvbuf=None, source: int = ANY_SOURCE,
                 recvtag: int = ANY_TAG, status=None):
        self.send(sendobj, dest, sendtag)
        return self.recv(None, source, recvtag)

    # -- collectives -------------------------------------------------------------------------
    def _collective(self, value):
        """Deposit value for this rank's next collective; return all p deposits in rank order."""
        w, me = self._world, self._rank
        call, self._collective_calls = self._collective_calls, self._collective_calls + 1
        with w.lock:
            deposits = w.collectives.setdefault(call, [None] * w.size)
            deposits[me] = (value,)
            w.lock.notify_all()
            w.wait_until(me, f"waits in collective call {call + 1} for every rank",
                         lambda: all(d is not None for d in deposits))
            return [d[0] for d in deposits]

    def Allreduce(self, sendbuf, recvbuf, op=SUM) -> None:
        sendbuf, recvbuf = _buffer("sendbuf", sendbuf), _buffer("recvbuf", recvbuf)
        if op not in _REDUCE:
            raise ValueError(f"op must be one of {sorted(_REDUCE)}; got {op!r}")
        if recvbuf.shape != sendbuf.shape or recvbuf.dtype != sendbuf.dtype:
            raise ValueError(f"recvbuf must match sendbuf's shape {sendbuf.shape} and dtype {sendbuf.dtype}; "
                             f"got shape {recvbuf.shape} and dtype {recvbuf.dtype}")
        with self._world.lock:
            self._world.traffic["allreduce_calls"][self._rank] += 1
            self._world.traffic["allreduce_elements"][self._rank] += sendbuf.size
        parts = self._collective(np.array(sendbuf, copy=True))
        if any(p.shape != sendbuf.shape or p.dtype != sendbuf.dtype for p in parts):
            raise ValueError("sendbuf must have the same shape and dtype on every rank; got "
                             f"{[(p.shape, str(p.dtype)) for p in parts]}")
        total = parts[0].copy()
        for p in parts[1:]:   # in rank order: the same rounding on every rank
            _REDUCE[op](total, p, out=total)
        recvbuf[...] = total

    def Barrier(self) -> None:
        self._collective(None)


def run_ranks(function, rank_args, *, timeout: float = 30.0):
    """Run ``function(comm, *rank_args[r])`` on p = len(rank_args) simulated ranks at once.

    rank_args: p lists (or tuples) of the arguments after ``comm``, one per rank.
    Returns (results, traffic): results[r] is what rank r returned; traffic maps each of
    TRAFFIC_KEYS to p counts (ints), what each rank sent.
    Raises the first exception a rank raised (a DeadlockError only when no rank raised
    anything else), and TimeoutError when a rank is still running after ``timeout`` seconds.
    """
    if not callable(function):
        raise ValueError(f"function must be callable; got {type(function).__name__}")
    if not isinstance(rank_args, (list, tuple)) or not rank_args:
        raise ValueError(f"rank_args must be a non-empty list with one argument list per rank; got {rank_args!r:.80}")
    world = _World(len(rank_args))
    results, errors = [None] * world.size, []   # errors in the order they were raised

    def rank_main(r):
        try:
            results[r] = function(SimulatedComm(world, r), *rank_args[r])
        except BaseException as exc:  # noqa: B036  (re-raised in the caller's thread)
            errors.append(exc)   # list.append is atomic: no lock needed
        finally:
            world.rank_done()

    threads = [threading.Thread(target=rank_main, args=(r,), daemon=True, name=f"rank {r}")
               for r in range(world.size)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for r, t in enumerate(threads):
        t.join(max(deadline - time.monotonic(), 0.0))
        if t.is_alive():
            raise TimeoutError(f"rank {r} was still running after {timeout:g} s (a loop that never ends?)")
    # A rank's own error explains the others' deadlock; the first deadlock seen names every rank.
    first = next((e for e in errors if not isinstance(e, DeadlockError)), errors[0] if errors else None)
    if first is not None:
        raise first
    return results, {key: list(counts) for key, counts in world.traffic.items()}


def simulate_ranks(name: str, rank_args, timeout: float = 30.0):
    """:func:`run_ranks` on the function called ``name`` in the notebook (``__main__``).

    The grader sends data only (a name and arrays), never a function or a communicator, so
    the notebook imports this and the grader calls it by name.
    """
    function = getattr(sys.modules["__main__"], name, None)
    if function is None:
        raise ValueError(f"no function named {name!r} in the notebook; keep the exercise's names")
    return run_ranks(function, rank_args, timeout=timeout)
