"""``accel-edu bench gemm``: every rung of the GEMM ladder, side by side with NumPy (and PyTorch).

Each record: kernel, backend, variant, rung (its place on its backend's ladder, 0 = slowest),
shape, median_s, gflops, ratio_to_numpy, and the two counts a roofline needs: ``flops``
(2 M N K) and ``bytes_min`` (4 or 8 bytes x (M K + K N + M N): A and B read once, C written
once, the least traffic any GEMM can get away with). All versions of one size are timed
round-robin in the same run (see ``timing.interleaved_medians``), and the ratio is to
NumPy/OpenBLAS from those same rounds: that is what survives a noisy machine.
"""
from __future__ import annotations

import numpy as np

from ..runtime import REGISTRY, available_backends, to_device
from .timing import interleaved_medians

SLOW_VARIANTS = {("numba", "naive"), ("opencl", "naive"), ("opencl", "local_tiled")}
"""Versions too slow to time at large n without waiting minutes (0.3-8 GFLOP/s: seconds a
call at n = 1024); skipped above SLOW_LIMIT unless include_slow. Every other rung, from
``loop_order`` up, runs n = 1024 in well under a second."""
SLOW_LIMIT = 512


def gemm_counts(m: int, n: int, k: int, itemsize: int = 4) -> dict:
    """The FLOPs of C = A @ B, (M, K) @ (K, N), and its compulsory memory traffic in bytes."""
    return {"flops": 2 * m * n * k, "bytes_min": itemsize * (m * k + k * n + m * n)}


def ladder(backend: str) -> list[str]:
    """The GEMM rungs registered on ``backend``, slowest first (the registry's order)."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    return REGISTRY["gemm"].variants(backend)


def gemm_candidates(a, b, backends, include_slow=False, slow_limit=SLOW_LIMIT, with_torch=True):
    """{(backend, variant): (fn, sync)} for every GEMM version that will be timed on a, b:
    NumPy/OpenBLAS, each rung on each available backend of ``backends`` (the SLOW_VARIANTS
    only up to n = slow_limit, unless include_slow) and, with_torch and installed, PyTorch."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    gemm = REGISTRY["gemm"]
    have = available_backends()
    n = a.shape[0]
    candidates = {("numpy", "openblas"): (lambda: a @ b, None)}
    for backend in backends:
        if backend == "numpy" or not have[backend]:
            continue
        sync, args = None, (a, b)
        if backend == "opencl":
            from ..runtime.opencl import finish
            sync, args = finish, (to_device(a), to_device(b))  # inputs already on the device
        for variant in ladder(backend):
            if (backend, variant) in SLOW_VARIANTS and n > slow_limit and not include_slow:
                continue
            impl = gemm.implementation(backend, variant)
            candidates[(backend, variant)] = (lambda impl=impl, args=args: impl(*args), sync)
    if not with_torch:
        return candidates
    try:
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        candidates[("torch", "cpu")] = (lambda: ta @ tb, None)
    except ImportError:
        pass
    return candidates


def square_inputs(n: int, dtype=np.float32):
    """A and B, both (n, n), seeded by n: every run at one size multiplies the same matrices."""
    rng = np.random.default_rng(n)
    return (rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype))


def gemm_record(backend: str, variant: str, n: int, seconds: float, numpy_seconds: float,
                itemsize: int = 4) -> dict:
    """One measured square GEMM as a record (see the module docstring)."""
    counts = gemm_counts(n, n, n, itemsize)
    rungs = ladder(backend) if backend in ("numba", "opencl") else [variant]
    return {"kernel": "gemm", "backend": backend, "variant": variant,
            "rung": rungs.index(variant) if variant in rungs else 0, "shape": [n, n, n],
            "median_s": seconds, "gflops": counts["flops"] / seconds / 1e9,
            "ratio_to_numpy": numpy_seconds / seconds, **counts}


def gemm_records(sizes, backends, *, dtype=np.float32, repeat=5, include_slow=False, progress=None):
    """Yield one record per (size, backend, variant) for a square n x n x n GEMM."""
    itemsize = np.dtype(dtype).itemsize
    for n in sizes:
        a, b = square_inputs(n, dtype)
        candidates = gemm_candidates(a, b, backends, include_slow)
        times = interleaved_medians(candidates, repeat=repeat)
        base = times[("numpy", "openblas")]
        for (backend, variant), seconds in times.items():
            yield gemm_record(backend, variant, n, seconds, base, itemsize)
        if progress is not None:
            progress.update()
