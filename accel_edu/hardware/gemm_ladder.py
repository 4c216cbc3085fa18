"""The GEMM optimisation ladder at one size: every rung timed side by side, as records that a
bar chart and a roofline (:func:`accel_edu.hardware.roofline.place`) read directly.

    from accel_edu.hardware.gemm_ladder import ladder_records
    records = ladder_records(n=512)                  # ~10-20 s on two loaded cores
    timed = [r for r in records if r["median_s"]]    # the naive rungs may be skipped

One record per rung of the registered ``gemm`` kernel on each backend asked for, in ladder
order (slowest first, as registered), plus NumPy/OpenBLAS, all timed round-robin in the same
rounds (:func:`accel_edu.bench.timing.interleaved_medians`), so each ``ratio_to_numpy`` is a
ratio measured side by side. Fields:

    kernel "gemm", backend, variant, rung (0 = the slowest rung of its backend), label
    ("numba/vector"), summary (the first line of the rung's docstring), n, size (= n),
    shape [n, n, n], dtype, flops (2 n^3), bytes and bytes_min (4 x 3 n^2 for float32: A and
    B read once, C written once, the compulsory traffic), intensity (flops / bytes, FLOP/byte),
    median_s, gflops, ratio_to_numpy, skipped (None, or why this rung was not timed)

A skipped rung keeps its place, with median_s, gflops and ratio_to_numpy None: above
``slow_limit`` the slowest rungs (naive and local_tiled, 0.3-8 GFLOP/s) would take seconds a call and most of the
notebook's time budget.
"""
from __future__ import annotations

import numpy as np

from ..bench.gemm import SLOW_VARIANTS, gemm_candidates, gemm_counts, ladder, square_inputs
from ..bench.timing import interleaved_medians
from ..runtime import BACKENDS, REGISTRY, available_backends
from .records import check_float_dtype, check_positive_int

SLOW_LIMIT = 512
"""Largest n at which the naive rungs are timed (n = 512: 0.1-0.9 s a call each)."""


def _summary(backend: str, variant: str) -> str:
    if backend == "numpy":
        return "NumPy's a @ b: OpenBLAS's GEMM, the baseline"
    doc = REGISTRY["gemm"].implementation(backend, variant).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _check_backends(backends) -> list[str]:
    chosen = [backends] if isinstance(backends, str) else list(backends)
    if not chosen or any(b not in BACKENDS for b in chosen):
        raise ValueError(f"backends must be a non-empty list drawn from {', '.join(BACKENDS)}; "
                         f"got {backends!r}")
    return chosen


def ladder_records(n: int = 512, backends=("numba", "opencl"), repeat: int = 3, *,
                   slow_limit: int = SLOW_LIMIT, dtype=np.float32) -> list[dict]:
    """Time every GEMM rung on ``backends`` at one size, n x n x n; records as the module says.

    n: matrix size;  backends: any of "numpy", "numba", "opencl" (NumPy/OpenBLAS is always
    timed, as the baseline; an unavailable backend is left out);  repeat: rounds of the
    round-robin (median of that many samples);  slow_limit: above it the slowest rungs
    (bench.gemm.SLOW_VARIANTS) are recorded as skipped;  dtype: float32 or float64.
    """
    check_positive_int("n", n)
    check_positive_int("repeat", repeat)
    check_positive_int("slow_limit", slow_limit)
    dtype = check_float_dtype("dtype", dtype)
    chosen = _check_backends(backends)
    import accel_edu.chapters  # noqa: F401  (registers the kernels)
    a, b = square_inputs(n, dtype)
    candidates = gemm_candidates(a, b, chosen, slow_limit=slow_limit, with_torch=False)
    # Short samples and a short settle keep n = 512 inside a notebook's budget; the
    # round-robin still puts every burst of noise on all the rungs of a round alike.
    times = interleaved_medians(candidates, repeat=repeat, min_seconds=0.02, settle=0.05)
    base = times[("numpy", "openblas")]
    counts = gemm_counts(n, n, n, dtype.itemsize)
    have = available_backends()
    rows = [("numpy", "openblas", 0)]
    rows += [(backend, variant, i) for backend in chosen if backend != "numpy" and have[backend]
             for i, variant in enumerate(ladder(backend))]
    records = []
    for backend, variant, rung in rows:
        seconds = times.get((backend, variant))
        skipped = None
        if seconds is None:
            skipped = (f"not timed: above n = {slow_limit} the slowest rungs "
                       f"({', '.join(sorted('/'.join(s) for s in SLOW_VARIANTS))}) take seconds a call")
        records.append({
            "kernel": "gemm", "backend": backend, "variant": variant, "rung": rung,
            "label": f"{backend}/{variant}", "summary": _summary(backend, variant),
            "n": n, "size": n, "shape": [n, n, n], "dtype": dtype.name,
            **counts, "bytes": counts["bytes_min"], "intensity": counts["flops"] / counts["bytes_min"],
            "median_s": seconds, "gflops": None if seconds is None else counts["flops"] / seconds / 1e9,
            "ratio_to_numpy": None if seconds is None else base / seconds, "skipped": skipped})
    return records
