"""Is int8 faster here? The int8 GEMM against float32 GEMMs, timed side by side in one run.

    python -m accel_edu.compression.int8_bench [--size 512] [--repeat 5]

Candidates, each C = A B at M = N = K = size: NumPy/OpenBLAS float32 (sgemm), our Numba float32
GEMM (backprop's gemm, its default variant), and our int8 GEMM with int32 output: on Numba as
int32 loops and in float32 lanes (exact, see numba_kernels.int8_gemm_float_lanes), on OpenCL
its default rung. Times are interleaved medians (``bench.timing.interleaved_medians``), so a burst
of load from other processes lands on every candidate alike; ratios are to OpenBLAS.
Why int8 may not win on this CPU: its speed on x86 comes from VNNI (``vpdpbusd``: 64 int8
multiply-adds into int32 per instruction), which OpenBLAS's sgemm does not need and which
neither Numba nor PoCL emit from plain loops; widened to int32 lanes, an int8 multiply-add is
no cheaper than a float32 one.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from ..runtime import available_backends, to_device
from ..runtime.opencl import finish


def int8_vs_float32(size: int = 512, repeat: int = 5, seed: int = 0) -> list[dict]:
    """[{"name", "median_s", "gops", "ratio_to_openblas"}] for each available candidate."""
    from ..backprop import kernels as BK
    from ..bench.timing import interleaved_medians
    from . import kernels as K
    rng = np.random.default_rng(seed)
    a32 = rng.standard_normal((size, size)).astype(np.float32)
    b32 = rng.standard_normal((size, size)).astype(np.float32)
    a8 = rng.integers(-128, 128, (size, size)).astype(np.int8)
    b8 = rng.integers(-128, 128, (size, size)).astype(np.int8)
    have = available_backends()
    candidates = {"numpy float32 (OpenBLAS)": (lambda: a32 @ b32, None)}
    if have["numba"]:
        candidates["numba float32 gemm"] = (lambda: BK.gemm(a32, b32, backend="numba"), None)
        for variant in ("int32", "float_lanes"):
            candidates[f"numba int8 gemm ({variant})"] = (
                lambda v=variant: K.int8_gemm(a8, b8, backend="numba", variant=v), None)
    if have["opencl"]:
        da8, db8 = to_device(a8), to_device(b8)
        candidates["opencl int8 gemm"] = (lambda: K.int8_gemm(da8, db8, backend="opencl"), finish)
    times = interleaved_medians(candidates, repeat=repeat)
    ops = 2.0 * size ** 3
    base = times["numpy float32 (OpenBLAS)"]
    return [{"name": name, "median_s": t, "gops": ops / t / 1e9, "ratio_to_openblas": base / t}
            for name, t in times.items()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = int8_vs_float32(args.size, args.repeat)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"C = A B, M = N = K = {args.size}; ratio > 1 is faster than OpenBLAS float32")
    for r in rows:
        print(f"  {r['name']:<32} {r['median_s'] * 1e3:9.2f} ms {r['gops']:8.1f} GOP/s  x{r['ratio_to_openblas']:.2f}")


if __name__ == "__main__":
    main()
