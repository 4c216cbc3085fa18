"""Trusted code for the hardware exercises (``06_hardware``): the STREAM triads a student's
triads are measured against, and the host code that checks and times a student's OpenCL triad.

Everything here runs in the grader's trusted-code process (trusted_runner.py), never in the
student's worker. The triad is ``a[i] = b[i] + s * c[i]`` over float64 arrays (STREAM's
dtype), credited 24 bytes per element (three arrays of 8 bytes) as STREAM counts it.

The OpenCL launch protocol a student's source must follow (the grader's host code, here):

    triad_groups(a, b, c, s, n)          over (n // L) * L work-items: every one in range
    triad_tail(a, b, c, s, offset, n)    over L work-items from offset = (n // L) * L,
                                         only when n is not a multiple of L

with L the student's ``TRIAD_LOCAL_SIZE``. ``a`` is padded past n with a canary value, so a
write past the end, or an element never written, shows.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)

CANARY = np.float64(-1234.5678)     # never a value of b + s * c in the grader's cases (|b|, |c| < 10)
PAD = 1024                          # canary elements past n: more than any tail can overrun
TRUSTED_GROUP = 256                 # accel_edu.hardware.stream's work-group size
STREAM_CL = Path(__file__).resolve().parents[1] / "hardware" / "stream.cl"
MAX_LOCAL = 1024


@njit(cache=True, fastmath=False, parallel=True)
def triad_sweeps(a, b, c, scalar, sweeps):
    """a, b, c: (n,) float64, scalar: float, sweeps: int  ->  a, with a[i] = b[i] + scalar * c[i],
    written ``sweeps`` times: STREAM's triad, one prange pass per sweep."""
    for _ in range(sweeps):
        for i in prange(a.shape[0]):
            a[i] = b[i] + scalar * c[i]
    return a


# -- the student's OpenCL triad ---------------------------------------------------------------
def _student_kernels(source: str, local_size: int):
    """(triad_groups, triad_tail) built from ``source``, or raise _LaunchProblem."""
    import pyopencl as cl
    from ..runtime import opencl as ocl
    if not (type(local_size) is int and 1 <= local_size <= MAX_LOCAL and local_size & (local_size - 1) == 0):
        raise _LaunchProblem("geometry", f"TRIAD_LOCAL_SIZE must be a power of two from 1 to {MAX_LOCAL}; "
                                         f"got {local_size!r}")
    try:
        program = ocl.build(source)
    except Exception as exc:
        from .trusted_runner import _clean
        raise _LaunchProblem("build", _clean(str(exc))) from None
    kernels = []
    for name, n_args in (("triad_groups", 5), ("triad_tail", 6)):
        try:
            kernel = cl.Kernel(program, name)
        except Exception:
            raise _LaunchProblem("kernel_missing", f"no kernel named `{name}` in the source") from None
        if kernel.num_args != n_args:
            raise _LaunchProblem("signature", f"{name} takes {kernel.num_args} arguments; the grader passes {n_args}")
        kernels.append(kernel)
    return kernels


class _LaunchProblem(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


def _launches(n: int, local: int) -> list[tuple[str, int, int]]:
    """(which kernel, global size, offset) for n elements in work-groups of ``local``."""
    whole = n - n % local
    tail = local if n > whole else 0   # no tail launch when n is whole groups
    return [(k, size, off) for k, size, off in (("groups", whole, 0), ("tail", tail, whole)) if size]


def _enqueue(kernels, bufs, scalar, n, local):
    from ..runtime import opencl as ocl
    groups, tail = kernels
    a, b, c = bufs
    for which, size, offset in _launches(n, local):
        if which == "groups":
            groups(ocl.queue(), (size,), (local,), a, b, c, np.float64(scalar), np.int32(n))
        else:
            tail(ocl.queue(), (size,), (local,), a, b, c, np.float64(scalar), np.int32(offset), np.int32(n))


def opencl_triad_check(source: str, local_size, b: np.ndarray, c: np.ndarray, scalar: float) -> dict:
    """Launch the student's triad once over b, c (float64, (n,)): {"ok", "value", "overrun",
    "unwritten"} or {"ok": False, "kind", "message"}. Never raises: this runs in the trusted
    process, and a failure is the student's to read."""
    from ..runtime import opencl as ocl
    try:
        kernels = _student_kernels(source, local_size)
        n = b.size
        padded = np.full(n + PAD, CANARY)
        bufs = [ocl.to_device(padded).buffer, ocl.to_device(np.append(b, np.zeros(PAD))).buffer,
                ocl.to_device(np.append(c, np.zeros(PAD))).buffer]
        _enqueue(kernels, bufs, scalar, n, local_size)
        ocl.finish()
        out = np.empty(n + PAD)
        import pyopencl as cl
        cl.enqueue_copy(ocl.queue(), out, bufs[0])
    except _LaunchProblem as problem:
        return {"ok": False, "kind": problem.kind, "message": problem.message}
    except Exception as exc:  # a launch error (out of resources, invalid work-group size)
        return {"ok": False, "kind": "launch", "message": f"{type(exc).__name__}: {exc}"[:2000]}
    return {"ok": True, "value": out[:n].copy(), "overrun": int(np.count_nonzero(out[n:] != CANARY)),
            "unwritten": int(np.count_nonzero(out[:n] == CANARY))}


def opencl_triad_timing(source: str, local_size, n: int, repeats: int) -> dict:
    """Seconds per triad of the student's kernels and of the trusted ones (stream.cl, whole
    groups unchecked plus a checked tail) over the same n-element float64 buffers, timed
    alternately, ``repeats`` launches each after one warm-up: {"ok", "student", "trusted"}
    (lists of seconds), or {"ok": False, "kind", "message"}."""
    from ..runtime import opencl as ocl
    import pyopencl as cl
    try:
        mine = _student_kernels(source, local_size)
        trusted_kernels = {which: cl.Kernel(ocl.build(STREAM_CL, real="double", BOUNDS=bounds), "stream_triad")
                           for which, bounds in (("groups", 0), ("tail", 1))}
        bufs = [ocl.empty((n + PAD,), np.float64).buffer for _ in range(3)]
        for buf, value in zip(bufs, (0.0, 1.0, 2.0)):
            cl.enqueue_fill_buffer(ocl.queue(), buf, np.float64(value), 0, (n + PAD) * 8)
        a, b, c = bufs

        def trusted():
            for which, size, offset in _launches(n, TRUSTED_GROUP):
                trusted_kernels[which](ocl.queue(), (size,), (TRUSTED_GROUP,), np.int32(n), np.int32(offset),
                                       a, b, c, np.float64(3.0))

        def student():
            _enqueue(mine, bufs, 3.0, n, local_size)

        times = {"student": [], "trusted": []}
        for repeat in range(repeats + 1):
            for name, run in (("student", student), ("trusted", trusted)):
                ocl.finish()
                started = time.perf_counter()
                run()
                ocl.finish()
                if repeat:  # the first round compiles for the work-group size and maps the pages
                    times[name].append(time.perf_counter() - started)
    except _LaunchProblem as problem:
        return {"ok": False, "kind": problem.kind, "message": problem.message}
    except Exception as exc:
        return {"ok": False, "kind": "launch", "message": f"{type(exc).__name__}: {exc}"[:2000]}
    return {"ok": True, **times}
