"""A bounds guard in every work-item, against whole work-groups and a checked tail launch.

The same elementwise kernel (``guard.cl``: ``out = p - lr * g / (sqrt(v) + eps)``, the heart
of an Adam step) launched two ways on OpenCL:

    guarded         one launch over n rounded up to whole work-groups; every work-item runs
                    ``if (i >= n) return;``
    whole_groups    the n - n % GROUP items that fill whole groups, with no test at all, then
                    the last partial group as a second launch of the guarded kernel

Both give the same numbers. On PoCL's CPU device the guard made the optimizers chapter's Adam
twice as slow (24 ms against 11 ms on 16M parameters); :func:`guard_comparison` measures the
two launches here, side by side.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .records import check_positive_int

HERE = Path(__file__).parent
GROUP = 256                     # the work-group size both launches use (PoCL compiles per size)
VARIANTS = ("guarded", "whole_groups")


def scaled_step_reference(p, g, v, lr: float, eps: float = 1e-8) -> np.ndarray:
    """out = p - lr * g / (sqrt(v) + eps).    p, g, v: (n,) -> out: (n,), NumPy."""
    return p - np.asarray(lr, p.dtype) * g / (np.sqrt(v) + np.asarray(eps, p.dtype))


def scaled_step(p, g, v, out, lr: float, eps: float = 1e-8, *, variant: str = "whole_groups"):
    """``out = p - lr * g / (sqrt(v) + eps)`` on the OpenCL device, launched as ``variant``.

    p, g, v, out: DeviceArrays of one shape and dtype (n elements; out is written). Returns out.
    """
    from ..runtime.opencl import DeviceArray, launch
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    for name, a in (("p", p), ("g", g), ("v", v), ("out", out)):
        if not isinstance(a, DeviceArray):
            raise ValueError(f"{name} must be a DeviceArray (runtime.opencl.to_device); got {type(a).__name__}")
        if a.shape != p.shape or a.dtype != p.dtype:
            raise ValueError(f"{name} must have p's shape {p.shape} and dtype {p.dtype}; "
                             f"got {a.shape} {a.dtype}")
    n = p.size
    args = lambda offset: [n, offset, float(lr), float(eps), p, g, v, out]   # noqa: E731
    if variant == "guarded":
        groups = -(-n // GROUP)
        launch(HERE / "guard.cl", "scaled_step_guarded", (groups * GROUP,), (GROUP,), args(0), p.dtype)
        return out
    bulk = n - n % GROUP
    if bulk:
        launch(HERE / "guard.cl", "scaled_step_unguarded", (bulk,), (GROUP,), args(0), p.dtype)
    if n > bulk:   # the tail: one guarded group starting at the first element not yet done
        launch(HERE / "guard.cl", "scaled_step_guarded", (GROUP,), (GROUP,), args(bulk), p.dtype)
    return out


def guard_inputs(n: int, dtype=np.float32, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(p, g, v): (n,) each, v >= 0 (a second moment), from ``seed``."""
    check_positive_int("n", n)
    rng = np.random.default_rng(seed)
    p, g = rng.standard_normal((2, n)).astype(dtype)
    v = rng.random(n).astype(dtype)
    return p, g, v


def guard_comparison(n: int = 1 << 22, repeat: int = 5, dtype=np.float32) -> list[dict]:
    """Both launches of ``n`` elements timed round-robin in one run.

    One record per variant: {"variant", "n", "median_s", "gbytes_per_s" (4 arrays of n moved),
    "ratio_to_whole_groups"}. Inputs stay on the device; each time waits for the queue.
    """
    from ..bench.timing import interleaved_medians
    from ..runtime.opencl import empty, finish, to_device
    check_positive_int("n", n)
    check_positive_int("repeat", repeat)
    p, g, v = (to_device(a) for a in guard_inputs(n, dtype))
    out = empty((n,), dtype)
    candidates = {variant: (lambda variant=variant: scaled_step(p, g, v, out, 1e-3, variant=variant), finish)
                  for variant in VARIANTS}
    times = interleaved_medians(candidates, repeat=repeat, min_seconds=0.02, settle=0.0)
    moved = 4 * n * np.dtype(dtype).itemsize
    return [{"variant": variant, "n": n, "median_s": times[variant], "gbytes_per_s": moved / times[variant] / 1e9,
             "ratio_to_whole_groups": times[variant] / times["whole_groups"]} for variant in VARIANTS]
