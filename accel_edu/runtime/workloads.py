"""Benchmark inputs at a named size, for ``accel-edu bench kernels``.

A kernel's ``cases`` are tiny, awkward inputs for correctness; a benchmark needs realistic
ones. Every chapter has a ``workloads.py`` with ``WORKLOADS = {kernel name: make}`` where
``make(rng, dtype, size) -> Case`` builds one call's arguments at ``size``:

    small    fits in the L2 cache (arrays of about 256 KiB): the cache's speed, and a
             kernel's fixed costs (launches, parallel region starts) show
    medium   fits in L3 (about 4 MiB an array): between the two
    large    far past L3 (about 64 MiB an array): memory-bound kernels meet DRAM bandwidth

Compute-bound kernels (GEMM, convolution, attention) are sized by their FLOPs instead: about
10 MFLOP, 0.3-1 GFLOP and 2-5 GFLOP. Each chapter's workloads.py says what its sizes are.
"""
from __future__ import annotations

import numpy as np

SIZES = ("small", "medium", "large")

# Elements of one array of an elementwise kernel at each size (float32: 256 KiB, 4 MiB, 64 MiB).
ELEMENTS = {"small": 1 << 16, "medium": 1 << 20, "large": 1 << 24}


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}; got {size!r}")
    return size


def pick(size: str, small, medium, large):
    """The value for ``size``: pick("medium", 128, 512, 1024) -> 512."""
    return {"small": small, "medium": medium, "large": large}[check_size(size)]


def by_size(table: dict, size: str):
    """``table[size]`` for a {"small": ..., "medium": ..., "large": ...} table, size checked."""
    return table[check_size(size)]


def rand(rng, shape, dtype, scale=1.0):
    """Standard normal numbers of ``shape`` in ``dtype``, times ``scale``."""
    return (rng.standard_normal(shape) * scale).astype(dtype)


def positive(rng, shape, dtype):
    """Numbers in [0.1, 1.1): variances and sums of squares."""
    return (rng.random(shape) + 0.1).astype(dtype)


def rows(size: str, width: int = 1024) -> tuple[int, int]:
    """An (N, width) matrix with ELEMENTS[size] elements: what elementwise kernels run on."""
    return (ELEMENTS[check_size(size)] // width, width)


def chapters() -> dict[str, list[str]]:
    """{chapter: [kernel names]}, in the order each chapter's kernels.py lists them."""
    import types

    import accel_edu.chapters as chapter_modules
    table = {}
    for module in vars(chapter_modules).values():
        if isinstance(module, types.ModuleType) and hasattr(module, "ALL"):
            table[module.__package__.rsplit(".", 1)[-1]] = [k.name for k in module.ALL]
    return dict(sorted(table.items()))


def workload_table() -> dict[str, object]:
    """{kernel name: make(rng, dtype, size)} from every chapter's workloads.py. A chapter
    without one is left out; ``accel-edu bench kernels`` then falls back to its largest case."""
    import importlib
    table = {}
    for chapter in chapters():
        try:
            module = importlib.import_module(f"accel_edu.{chapter}.workloads")
        except ModuleNotFoundError:
            continue
        table.update(module.WORKLOADS)
    return table
