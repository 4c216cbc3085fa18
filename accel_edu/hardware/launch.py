"""The fixed cost of starting work, per backend: what a call costs before it does anything.

A kernel that runs for 10 us cannot be sped up past its launch cost, so these numbers set the
smallest layer worth moving to a faster backend. Each is the median time per call of a call
that does (almost) nothing, looped for ``min_seconds`` per sample:

- Python function call (``def f(): pass``): the scale everything else is read against.
- NumPy ufunc on a 1-element array (``np.add(a, b, out=c)``): argument parsing, type
  resolution and the dispatch of one loop.
- Numba ``@njit`` call of an empty function: the dispatcher matching argument types to a
  compiled version, then a native call.
- Numba empty parallel region (``prange`` over one item per thread): waking the worker
  threads of the active threading layer and waiting for all of them. On this 2-core VM it was
  40-110 us with ``workqueue`` and 3 us with OpenMP (``accel_edu/runtime/numba_setup.py``).
- OpenCL: an empty kernel, enqueued and waited for (``finish``): the driver's enqueue, the
  device waking, the completion event.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)
from .records import check_positive_int, record, time_samples

EMPTY_KERNEL = "__kernel void empty_kernel(__global float *x) { }"


def python_function():
    pass


@njit(cache=True)
def empty_function():
    pass


@njit(cache=True, parallel=True)
def empty_parallel_region(out):
    """out: (threads,). One trivial item per thread: a body that did nothing could be removed."""
    for t in prange(out.shape[0]):
        out[t] = t


def _overhead(what: str, backend: str, device: str, fn, repeat: int, min_seconds: float, sync=None, **extra):
    samples = time_samples(fn, repeat=repeat, min_seconds=min_seconds, sync=sync)
    return record("launch_overhead", "us", backend, device, 1, "call", samples, work=None, what=what, **extra)


def host_overheads(repeat: int = 5, min_seconds: float = 0.02) -> list[dict]:
    """Python, NumPy and Numba call overheads, one record each (unit: us per call)."""
    check_positive_int("repeat", repeat)
    if not min_seconds > 0:
        raise ValueError(f"min_seconds must be a positive number of seconds; got {min_seconds!r}")
    a, b, c = np.ones(1), np.ones(1), np.empty(1)
    threads = numba.get_num_threads()
    out = np.zeros(threads, np.int64)
    empty_parallel_region(out)          # compile, and start the threading layer
    layer = numba.threading_layer()
    return [
        _overhead("python function call", "python", "interpreter", python_function, repeat, min_seconds),
        _overhead("ufunc on a 1-element array", "numpy", "1 thread", lambda: np.add(a, b, out=c),
                  repeat, min_seconds),
        _overhead("@njit call of an empty function", "numba", "1 thread", empty_function, repeat, min_seconds),
        _overhead("empty parallel region (prange)", "numba", f"{threads} threads",
                  lambda: empty_parallel_region(out), repeat, min_seconds, threading_layer=layer),
    ]


def opencl_overhead(device, repeat: int = 5, min_seconds: float = 0.02) -> dict:
    """An empty kernel on ``device``, one work-item, enqueued then finished (us per call)."""
    from . import opencl_devices as ocl
    check_positive_int("repeat", repeat)
    queue = ocl.queue(device)
    kernel = ocl.kernel(device, EMPTY_KERNEL, "empty_kernel")
    x = ocl.buffer(device, 4)
    return _overhead("empty kernel, enqueue + finish", "opencl", ocl.device_label(device),
                     lambda: kernel(queue, (1,), (1,), x), repeat, min_seconds, sync=queue.finish)
