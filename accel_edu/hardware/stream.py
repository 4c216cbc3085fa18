"""Memory bandwidth as STREAM measures it (McCalpin's four kernels), per backend.

    copy:   c = a            2 arrays touched per element
    scale:  b = s * c        2
    add:    c = a + b        3
    triad:  a = b + s * c    3

Bytes are counted as STREAM counts them: each array read or written once per element (the
write-allocate read of a destination line is not counted, so a kernel can move more than it is
credited with). The arrays should be far larger than the last-level cache (the default,
3 x 20M float64 = 480 MB, is 15x this machine's 32 MiB L3), so every byte comes from DRAM.

- NumPy: ufuncs with ``out=``, so no temporary is allocated. Triad is two passes
  (``a = s * c`` then ``a += b``), which moves 5 words per element while STREAM credits 3:
  fusing is exactly what NumPy cannot do.
- Numba: one ``prange`` loop per kernel over all the cores (the arrays first-touched by the
  same threads, so their pages are mapped before timing).
- OpenCL: ``stream.cl``, one work-item per element, whole work-groups unchecked plus a
  checked tail launch (why: see the .cl file).
"""
from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)
from .records import check_float_dtype, check_positive_int, record, time_samples

KERNELS = ("copy", "scale", "add", "triad")
WORDS = {"copy": 2, "scale": 2, "add": 3, "triad": 3}   # arrays touched per element
DEFAULT_N = 20_000_000
SCALAR = 3.0
SOURCE = Path(__file__).with_name("stream.cl")
GROUP = 256


@njit(cache=True, fastmath=False, parallel=True)
def stream_copy(a, b, c, s):
    for i in prange(a.shape[0]):
        c[i] = a[i]


@njit(cache=True, fastmath=False, parallel=True)
def stream_scale(a, b, c, s):
    for i in prange(a.shape[0]):
        b[i] = s * c[i]


@njit(cache=True, fastmath=False, parallel=True)
def stream_add(a, b, c, s):
    for i in prange(a.shape[0]):
        c[i] = a[i] + b[i]


@njit(cache=True, fastmath=False, parallel=True)
def stream_triad(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(cache=True, parallel=True)
def first_touch(x, value):
    """x[:] = value from the threads that will stream x, so its pages are mapped (and, on a
    machine with several memory nodes, placed near them) before anything is timed."""
    for i in prange(x.shape[0]):
        x[i] = value


NUMBA_KERNELS = {"copy": stream_copy, "scale": stream_scale, "add": stream_add, "triad": stream_triad}


def _numpy_triad(a, b, c, s):
    np.multiply(c, s, out=a)
    np.add(a, b, out=a)


NUMPY_KERNELS = {
    "copy": lambda a, b, c, s: np.copyto(c, a),
    "scale": lambda a, b, c, s: np.multiply(c, s, out=b),
    "add": lambda a, b, c, s: np.add(a, b, out=c),
    "triad": _numpy_triad,
}


def _check(n, repeat, dtype):
    check_positive_int("n", n)
    check_positive_int("repeat", repeat)
    return check_float_dtype("dtype", dtype)


def _records(backend, device, n, dtype, samples, **extra) -> list[dict]:
    return [record("bandwidth", "GB/s", backend, device, n, "elements per array", samples[k],
                   work=WORDS[k] * dtype.itemsize * n / 1e9, kernel=k, dtype=dtype.name,
                   bytes=WORDS[k] * dtype.itemsize * n, **extra) for k in KERNELS]


def _rounds(run: dict, repeat: int, sync=None) -> dict[str, list[float]]:
    """Time the kernels in STREAM's order, each reading the last one's output, ``repeat``
    rounds after one untimed round (compile, page-in)."""
    samples = {k: [] for k in KERNELS}
    for round_ in range(repeat + 1):
        for k in KERNELS:
            (s,) = time_samples(run[k], repeat=1, min_seconds=0.0, sync=sync, warmup=0)
            if round_:
                samples[k].append(s)
    return samples


def numpy_stream(n: int = DEFAULT_N, repeat: int = 5, dtype=np.float64) -> list[dict]:
    dtype = _check(n, repeat, dtype)
    a, b, c = np.full(n, 1.0, dtype), np.full(n, 2.0, dtype), np.zeros(n, dtype)
    s = dtype.type(SCALAR)
    run = {k: (lambda f=f: f(a, b, c, s)) for k, f in NUMPY_KERNELS.items()}
    return _records("numpy", "1 thread", n, dtype, _rounds(run, repeat),
                    note="triad is two passes (5 words moved, 3 credited)")


def numba_stream(n: int = DEFAULT_N, repeat: int = 5, dtype=np.float64) -> list[dict]:
    dtype = _check(n, repeat, dtype)
    a, b, c = (np.empty(n, dtype) for _ in range(3))
    for x, v in ((a, 1.0), (b, 2.0), (c, 0.0)):
        first_touch(x, dtype.type(v))
    s = dtype.type(SCALAR)
    run = {k: (lambda f=f: f(a, b, c, s)) for k, f in NUMBA_KERNELS.items()}
    return _records("numba", f"{numba.get_num_threads()} threads", n, dtype, _rounds(run, repeat))


def opencl_stream_kernels(device, n: int, dtype=np.float64):
    """The three device arrays (a = 1, b = 2, c = 0) and {kernel: run()} enqueueing each
    kernel over all n elements on ``device`` (bulk launch, then the checked tail)."""
    import pyopencl as cl
    from . import opencl_devices as ocl
    check_positive_int("n", n)
    dtype = check_float_dtype("dtype", dtype)
    if dtype == np.float64 and not device.double_fp_config:
        raise ValueError(f"dtype float64 is not supported by OpenCL device {device.name.strip()!r}")
    if n >= 2 ** 31:
        raise ValueError(f"n must be below 2**31 (the kernels index with int); got {n}")
    queue = ocl.queue(device)
    bufs = [ocl.buffer(device, n * dtype.itemsize) for _ in range(3)]
    for buf, v in zip(bufs, (1.0, 2.0, 0.0)):
        cl.enqueue_fill_buffer(queue, buf, dtype.type(v), 0, n * dtype.itemsize)
    a, b, c = bufs
    s = dtype.type(SCALAR)
    real = "float" if dtype == np.float32 else "double"
    bulk = n - n % GROUP
    launches = [(0, bulk, 0), (1, GROUP if n > bulk else 0, bulk)]   # (BOUNDS, global size, offset)
    args = {"copy": (a, c), "scale": (s, b, c), "add": (a, b, c), "triad": (a, b, c, s)}
    kernels = {k: [(ocl.kernel(device, SOURCE, f"stream_{k}", real=real, BOUNDS=bounds), size, offset)
                   for bounds, size, offset in launches if size] for k in KERNELS}

    def launcher(k):
        def run():
            for kernel, size, offset in kernels[k]:
                kernel(queue, (size,), (GROUP,), np.int32(n), np.int32(offset), *args[k])
        return run

    return bufs, {k: launcher(k) for k in KERNELS}


def opencl_stream(device, n: int = DEFAULT_N, repeat: int = 5, dtype=np.float64) -> list[dict]:
    """STREAM on ``device``; float64 needs a device with double support."""
    from . import opencl_devices as ocl
    dtype = _check(n, repeat, dtype)
    _, run = opencl_stream_kernels(device, n, dtype)
    return _records("opencl", ocl.device_label(device), n, dtype,
                    _rounds(run, repeat, sync=ocl.queue(device).finish), local_size=GROUP)
