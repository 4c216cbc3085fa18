"""Peak floating-point rate: FMA-bound kernels with no memory traffic, per backend.

The roof of a roofline. A core's arithmetic limit is reached only by a loop that issues a
fused multiply-add on every FMA pipe every cycle: many *independent* chains (an FMA's result
is ready 4 cycles later and a Zen core has 2 FMA pipes, so at least 8 chains must be in flight),
each chain a full SIMD register, and nothing loaded or stored inside the loop.

- Numba: 12 chains of one register each (12 x 16 float32 on AVX-512) in a stack buffer that
  LLVM splits into registers once the constant-length loop over it is unrolled (the trick of
  the backprop GEMM's micro-kernel). ``fastmath={"contract"}`` lets LLVM fuse ``a * m + c``
  into one FMA and allows nothing else. One set of chains per thread under ``prange``.
  A heap array (``np.empty``) here stays in memory: every step loads and stores it, and the
  store port, not the FMA pipes, sets the pace (``accel_edu/bench/peak.py`` says the same).
- OpenCL: ``accel_edu/bench/peak.cl``, 12 chains of the device's preferred vector width
  (float16 on PoCL with AVX-512, float8 with AVX2, scalar on a GPU, whose lanes are work-items).
- NumPy: no kernel of its own is FMA-bound; its practical peak is a large matrix multiply
  (OpenBLAS), which also reads memory and so lands somewhat under the FMA roof.

:func:`theoretical_peak` multiplies cores x SIMD lanes x FMA pipes x 2 FLOPs x clock, with the
clock that /proc/cpuinfo reports (the VM's nominal clock: turbo can exceed it, and a measured
peak above the theoretical one says the core ran faster than it claims).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..backprop.numba_kernels import _stack_array
from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)
from .records import check_float_dtype, check_positive_int, record, time_samples
from .simd import clock_mhz, cores, register_bytes

CHAINS = 12
# Accumulators per thread: CHAINS registers' worth of each type, fixed at import (a stack buffer
# needs a constant size). 12 registers fit AVX-512's 32 and AVX2's 16 with room for m and c.
ACC_FLOAT32 = CHAINS * register_bytes() // 4
ACC_FLOAT64 = CHAINS * register_bytes() // 8
FMA_ONLY = {"contract"}   # fuse a * m + c into one instruction; no other IEEE rule relaxed


@njit(cache=True, fastmath=FMA_ONLY, inline="always")
def _fma_chains(acc, iterations, m, c, seed):
    """Run acc[q] = acc[q] * m + c ``iterations`` times for every q; return their sum.
    acc: (ACC,), a stack buffer. The sum keeps LLVM from dropping the loop as dead code."""
    for q in range(acc.shape[0]):
        acc[q] = seed + q * 1e-3
    for _ in range(iterations):
        for q in range(acc.shape[0]):   # constant length after inlining: unrolled into registers
            acc[q] = acc[q] * m + c
    total = acc[0] * 0
    for q in range(acc.shape[0]):
        total += acc[q]
    return total


# The machine code (fma_instructions() compiles a copy to show it) on this Zen 5 VM, llvmlite
# 0.50 / LLVM 22: the hot loop is 48 `vfmadd213ps` on zmm registers (12 accumulators, unrolled
# 4 times), a counter and a branch, with no memory operand; float64 the same with vfmadd213pd.
@njit(cache=True, fastmath=FMA_ONLY, parallel=True)
def fma_peak_float32(iterations, m, c, out):
    """out: (threads,) float32, one sum per thread. FLOPs: 2 * ACC_FLOAT32 * iterations * threads."""
    for t in prange(out.shape[0]):
        acc = numba.carray(_stack_array(ACC_FLOAT32, out.dtype), (ACC_FLOAT32,))
        out[t] = _fma_chains(acc, iterations, m, c, out.dtype.type(t))


@njit(cache=True, fastmath=FMA_ONLY, parallel=True)
def fma_peak_float64(iterations, m, c, out):
    """out: (threads,) float64, one sum per thread. FLOPs: 2 * ACC_FLOAT64 * iterations * threads."""
    for t in prange(out.shape[0]):
        acc = numba.carray(_stack_array(ACC_FLOAT64, out.dtype), (ACC_FLOAT64,))
        out[t] = _fma_chains(acc, iterations, m, c, out.dtype.type(t))


def fma_instructions(dtype=np.float32) -> list[tuple[str, str]]:
    """The FMA instructions and register kinds in the Numba peak kernel's machine code, e.g.
    [("vfmadd213ps", "zmm")]: the evidence that the chains are packed FMAs on full-width
    registers. Compiles an uncached copy (Numba cannot show the assembly of cached code)."""
    import re
    dtype = check_float_dtype("dtype", dtype)
    kernel = fma_peak_float32 if dtype == np.float32 else fma_peak_float64
    fresh = njit(cache=False, fastmath=FMA_ONLY, parallel=True)(kernel.py_func)
    m, c = _constants(dtype)
    fresh(1, m, c, np.zeros(1, dtype))
    asm = "\n".join(fresh.inspect_asm().values())
    return sorted(set(re.findall(r"\b(v?fn?madd\w*)\s+%?([xyz]mm)", asm)))


def _constants(dtype):
    # |m| < 1 and a small c keep every chain finite for any number of iterations.
    return dtype.type(0.999999), dtype.type(1e-6)


def numba_peak(dtype=np.float32, iterations: int = 2_000_000, repeat: int = 5, threads: int | None = None) -> dict:
    """GFLOP/s of the FMA chains on ``threads`` Numba threads (default: all of them)."""
    dtype = check_float_dtype("dtype", dtype)
    check_positive_int("iterations", iterations)
    check_positive_int("repeat", repeat)
    threads = numba.get_num_threads() if threads is None else check_positive_int("threads", threads)
    kernel, acc = (fma_peak_float32, ACC_FLOAT32) if dtype == np.float32 else (fma_peak_float64, ACC_FLOAT64)
    out = np.zeros(threads, dtype)
    m, c = _constants(dtype)
    samples = time_samples(lambda: kernel(iterations, m, c, out), repeat=repeat)
    flops = 2 * acc * iterations * threads
    label = f"{threads} thread{'s' * (threads > 1)}"
    return record("peak", "GFLOP/s", "numba", label, iterations, "iterations", samples, work=flops / 1e9, kernel="fma_chains", dtype=dtype.name, accumulators=acc, flops=flops)


def numpy_peak(dtype=np.float32, n: int = 2048, repeat: int = 5) -> dict:
    """GFLOP/s of an n x n matrix multiply (OpenBLAS): NumPy's practical peak, 2 n^3 FLOPs."""
    dtype = check_float_dtype("dtype", dtype)
    check_positive_int("n", n)
    check_positive_int("repeat", repeat)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    samples = time_samples(lambda: np.matmul(a, b, out=out), repeat=repeat)
    return record("peak", "GFLOP/s", "numpy", "OpenBLAS", n, "n (n x n matmul)", samples,
                  work=2 * n ** 3 / 1e9, kernel="matmul", dtype=dtype.name, flops=2 * n ** 3)


def opencl_peak(device, dtype=np.float32, iterations: int = 100_000, repeat: int = 5,
                lanes: int | None = None, min_seconds: float = 0.02) -> dict:
    """GFLOP/s of peak.cl on ``device`` (a pyopencl Device), ``lanes`` wide (default: the
    device's preferred vector width for ``dtype``); each sample runs for ``min_seconds``."""
    from ..bench.peak import ACCUMULATORS, SOURCE
    from . import opencl_devices as ocl
    dtype = check_float_dtype("dtype", dtype)
    check_positive_int("iterations", iterations)
    check_positive_int("repeat", repeat)
    if dtype == np.float64 and not device.double_fp_config:
        raise ValueError(f"dtype float64 is not supported by OpenCL device {device.name.strip()!r}")
    if lanes is None:
        lanes = device.preferred_vector_width_float if dtype == np.float32 else device.preferred_vector_width_double
    if lanes not in (1, 2, 4, 8, 16):
        lanes = 1   # OpenCL C has no vector of other widths (a device reporting 0 or 3 gets scalars)
    real = "float" if dtype == np.float32 else "double"
    kernel = ocl.kernel(device, SOURCE, "fma_peak", real=real, realv=real if lanes == 1 else f"{real}{lanes}")
    if ocl.is_cpu(device):
        # Work-groups of one work-item each, so PoCL spreads them over every core; the SIMD
        # lanes are the vector type's. 32 per compute unit balance the cores.
        local, items = 1, device.max_compute_units * 32
    else:
        # A GPU's lanes are work-items: many full groups per compute unit hide the FMA latency.
        local = min(64, device.max_work_group_size)
        items = device.max_compute_units * local * 16
    out = ocl.buffer(device, items * lanes * dtype.itemsize)
    queue = ocl.queue(device)
    m, c = _constants(dtype)
    samples = time_samples(lambda: kernel(queue, (items,), (local,), out, np.int32(iterations), m, c),
                           repeat=repeat, min_seconds=min_seconds, sync=queue.finish)
    flops = ACCUMULATORS * lanes * 2 * iterations * items
    return record("peak", "GFLOP/s", "opencl", ocl.device_label(device), iterations, "iterations", samples,
                  work=flops / 1e9, kernel="fma_peak (bench/peak.cl)", dtype=dtype.name, lanes=lanes,
                  work_items=items, local_size=local, flops=flops)


def theoretical_peak(dtype=np.float32, fma_units: int = 2, mhz: float | None = None) -> dict:
    """cores x lanes x fma_units x 2 FLOPs x clock, in GFLOP/s. ``fma_units``: FMA pipes per core
    (2 on Zen 4/5 and on Intel server cores since Skylake-SP; check the core's manual). The
    clock is /proc/cpuinfo's unless ``mhz`` is given; None where neither is known."""
    dtype = check_float_dtype("dtype", dtype)
    check_positive_int("fma_units", fma_units)
    mhz = clock_mhz() if mhz is None else mhz
    lanes = register_bytes() // dtype.itemsize
    n = cores()
    value = None if not mhz else n * lanes * fma_units * 2 * mhz / 1e3
    return {"quantity": "theoretical_peak", "unit": "GFLOP/s", "dtype": dtype.name, "value": value,
            "cores": n, "lanes": lanes, "fma_units": fma_units, "clock_mhz": mhz,
            "clock_source": "/proc/cpuinfo 'cpu MHz' (a VM's nominal clock; turbo can exceed it)"}
