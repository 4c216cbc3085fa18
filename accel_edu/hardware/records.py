"""Measurements as plain records, and the argument checks every measurement shares.

A record is a dict that JSON can hold and a table or plot can read without knowing which
module made it:

    {"quantity": "bandwidth", "kernel": "triad", "backend": "numba", "device": "2 threads",
     "size": 20000000, "size_unit": "elements", "unit": "GB/s",
     "median": 35.1, "best": 36.4, "median_s": 0.0137, "best_s": 0.0132, ...}

``median`` and ``best`` are the quantity computed from the median and from the fastest sample.
The median is what to compare kernels by; the best is the estimate of a limit (a peak or a
bandwidth), since other processes on a shared machine can only slow a run down.
"""
from __future__ import annotations

import math
import statistics
from typing import Callable

from ..bench.timing import median_time


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return value


def check_sizes(name: str, sizes, minimum: int = 1) -> list[int]:
    """A non-empty list of integers >= minimum (bytes or elements, as the caller says)."""
    try:
        values = list(sizes)
    except TypeError:
        raise ValueError(f"{name} must be a list of integers >= {minimum}; got {sizes!r}") from None
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in values):
        raise ValueError(f"{name} must be a non-empty list of integers >= {minimum}; got {sizes!r}")
    return values


def check_float_dtype(name: str, dtype):
    import numpy as np
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be float32 or float64; got {dtype!r}")
    return dt


def time_samples(fn: Callable[[], object], *, repeat: int = 5, min_seconds: float = 0.02,
                 sync: Callable[[], None] | None = None, warmup: int = 1) -> list[float]:
    """Seconds per call of ``fn``, ``repeat`` samples after ``warmup`` untimed calls.

    Each sample loops ``fn`` for at least ``min_seconds`` and divides, so a microsecond call is
    not lost in the clock's resolution (:func:`accel_edu.bench.timing.median_time` with one
    sample). ``sync`` (an OpenCL queue's finish) runs before each clock stop.
    """
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    return [median_time(fn, repeat=1, warmup=0, min_seconds=min_seconds, settle=0.0, sync=sync)
            for _ in range(repeat)]


def record(quantity: str, unit: str, backend: str, device: str, size: int, size_unit: str,
           samples: list[float], work: float = 1.0, **extra) -> dict:
    """A record from ``samples`` (seconds per call). ``work`` is what one call does in ``unit``
    times seconds (bytes/1e9 for GB/s, FLOPs/1e9 for GFLOP/s); with work=None the quantity is
    the time itself (``unit`` "us" or "s")."""
    if not samples or any(not math.isfinite(s) or s <= 0 for s in samples):
        raise ValueError(f"samples must be positive finite seconds; got {samples!r}")
    median_s, best_s = statistics.median(samples), min(samples)
    if work is None:                      # a latency or overhead: smaller is better
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
        median, best = median_s * scale, best_s * scale
    else:
        median, best = work / median_s, work / best_s
    return {"quantity": quantity, **extra, "backend": backend, "device": device, "size": size,
            "size_unit": size_unit, "unit": unit, "median": median, "best": best,
            "median_s": median_s, "best_s": best_s, "samples": len(samples)}
