"""``accel-edu bench gemm``: every GEMM version, side by side with NumPy (and PyTorch).

Each record: kernel, backend, variant, shape, median_s, gflops, ratio_to_numpy. All versions
of one size are timed round-robin in the same run (see ``timing.interleaved_medians``), and
the ratio is to NumPy/OpenBLAS from those same rounds: that is what survives a noisy machine.
"""
from __future__ import annotations

import numpy as np

from ..runtime import REGISTRY, available_backends, to_device
from .timing import interleaved_medians

SLOW_VARIANTS = {("numba", "naive"), ("opencl", "naive"), ("opencl", "local_tiled")}
"""Versions too slow to time at large n without waiting minutes; skipped above SLOW_LIMIT."""
SLOW_LIMIT = 512


def gemm_candidates(a, b, backends, include_slow=False):
    """{(backend, variant): (fn, sync)} for every GEMM version that will be timed on a, b."""
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
        for variant in gemm.variants(backend):
            if (backend, variant) in SLOW_VARIANTS and n > SLOW_LIMIT and not include_slow:
                continue
            impl = gemm.implementation(backend, variant)
            candidates[(backend, variant)] = (lambda impl=impl, args=args: impl(*args), sync)
    try:
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        candidates[("torch", "cpu")] = (lambda: ta @ tb, None)
    except ImportError:
        pass
    return candidates


def gemm_records(sizes, backends, *, dtype=np.float32, repeat=5, include_slow=False, progress=None):
    """Yield one record per (size, backend, variant) for a square n x n x n GEMM."""
    for n in sizes:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(dtype)
        b = rng.standard_normal((n, n)).astype(dtype)
        candidates = gemm_candidates(a, b, backends, include_slow)
        times = interleaved_medians(candidates, repeat=repeat)
        base = times[("numpy", "openblas")]
        for (backend, variant), seconds in times.items():
            yield {"kernel": "gemm", "backend": backend, "variant": variant, "shape": [n, n, n],
                   "median_s": seconds, "gflops": 2.0 * n ** 3 / seconds / 1e9,
                   "ratio_to_numpy": base / seconds}
        if progress is not None:
            progress.update()
