"""``accel-edu bench gemm``: every GEMM version, side by side with NumPy (and PyTorch).

Each record: kernel, backend, variant, shape, median_s, gflops, ratio_to_numpy. The ratio is
to NumPy/OpenBLAS measured in the same run, which is what survives a noisy machine.
"""
from __future__ import annotations

import numpy as np

from ..runtime import REGISTRY, available_backends, to_device
from .timing import median_time

SLOW_VARIANTS = {("numba", "naive"), ("opencl", "naive")}
"""Versions too slow to time at large n without waiting minutes; skipped above SLOW_LIMIT."""
SLOW_LIMIT = 512


def gemm_records(sizes, backends, *, dtype=np.float32, repeat=5, include_slow=False, progress=None):
    """Yield one record per (size, backend, variant) for a square n x n x n GEMM."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    gemm = REGISTRY["gemm"]
    have = available_backends()
    for n in sizes:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(dtype)
        b = rng.standard_normal((n, n)).astype(dtype)
        flops = 2.0 * n ** 3
        base = median_time(lambda: a @ b, repeat=repeat, min_seconds=0.05)
        yield _record("numpy", "openblas", n, base, flops, base)
        if progress is not None:
            progress.update()
        for backend in backends:
            if backend == "numpy" or not have[backend]:
                continue
            sync, args = (None, (a, b))
            if backend == "opencl":
                from ..runtime.opencl import finish
                sync, args = finish, (to_device(a), to_device(b))  # inputs already on the device
            for variant in gemm.variants(backend):
                if (backend, variant) in SLOW_VARIANTS and n > SLOW_LIMIT and not include_slow:
                    continue
                impl = gemm.implementation(backend, variant)
                t = median_time(lambda: impl(*args), repeat=repeat, sync=sync, min_seconds=0.05)
                yield _record(backend, variant, n, t, flops, base)
                if progress is not None:
                    progress.update()
        torch_time = _torch_time(a, b, repeat)
        if torch_time is not None:
            yield _record("torch", "cpu", n, torch_time, flops, base)


def _torch_time(a, b, repeat):
    try:
        import torch
    except ImportError:
        return None
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    return median_time(lambda: ta @ tb, repeat=repeat, min_seconds=0.05)


def _record(backend, variant, n, seconds, flops, numpy_seconds):
    return {"kernel": "gemm", "backend": backend, "variant": variant, "shape": [n, n, n],
            "median_s": seconds, "gflops": flops / seconds / 1e9,
            "ratio_to_numpy": numpy_seconds / seconds}
