"""The machine's memory bandwidth, measured as STREAM does (McCalpin's four kernels).

    copy:   c = a            2 arrays touched per element
    scale:  b = s * c        2
    add:    c = a + b        3
    triad:  a = b + s * c    3

Bytes are counted as STREAM counts them: each array read or written once per element, 8 bytes
for float64 (the write-allocate read of the destination is not counted). The arrays are far
larger than every cache (default 3 x 20M float64 = 480 MB), so every byte comes from DRAM.
The loops are Numba ``prange`` loops over all the cores, the way the fused optimizer kernels
run, so "fraction of STREAM" compares like with like. A figure is the median (and best) of
``repeat`` runs after a warm-up that also pages the arrays in.
"""
from __future__ import annotations

import time

import numpy as np

# The kernels live with the hardware chapter's measurements (accel_edu/hardware/stream.py),
# which runs them on every backend; this module keeps `accel-edu bench stream`'s Numba run.
from ..hardware.stream import DEFAULT_N, KERNELS, WORDS, first_touch as _first_touch  # noqa: F401
from ..hardware.stream import stream_add, stream_copy, stream_scale, stream_triad


def stream(n: int = DEFAULT_N, repeat: int = 10) -> dict:
    """Run the four kernels ``repeat`` times each (after one warm-up round) on float64 arrays
    of ``n`` elements. Returns {kernel: {"median_gbps", "best_gbps", "median_s", "bytes"}}
    and "n", "array_mb"."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive integer; got {repeat!r}")
    a, b, c = (np.empty(n) for _ in range(3))
    for x, v in ((a, 1.0), (b, 2.0), (c, 0.0)):
        _first_touch(x, v)
    fns = {"copy": stream_copy, "scale": stream_scale, "add": stream_add, "triad": stream_triad}
    times = {k: [] for k in KERNELS}
    for round_ in range(repeat + 1):        # round 0 is the warm-up (compile, page-in)
        for k in KERNELS:                   # in STREAM's order, so each reads the last's output
            start = time.perf_counter()
            fns[k](a, b, c, 3.0)
            elapsed = time.perf_counter() - start
            if round_:
                times[k].append(elapsed)
    out = {"n": n, "array_mb": n * 8 / 1e6}
    for k in KERNELS:
        nbytes = WORDS[k] * 8 * n
        med, best = float(np.median(times[k])), min(times[k])
        out[k] = {"bytes": nbytes, "median_s": med, "median_gbps": nbytes / med / 1e9,
                  "best_gbps": nbytes / best / 1e9}
    return out
