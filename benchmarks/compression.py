"""Record chapter 7's two speed questions in one run: is int8 faster than float32 here, and
where does a sparse (CSR) product beat a dense one?

    python benchmarks/compression.py                  # writes results/compression-<date>.json
    python benchmarks/compression.py --sizes 512,1024 --m 4096 --k 4096 --n 64 --repeat 7
    python benchmarks/compression.py --out /tmp       # a trial run, kept out of the repository

Records: C = A B at each size for OpenBLAS float32, our Numba float32 GEMM, our int8 GEMM
(int32 output) on Numba (int32 loops, float32 lanes) and OpenCL
(``accel_edu.compression.int8_bench.int8_vs_float32``); then CSR SpMM of an (M, K) matrix at
50-99% sparsity times a dense (K, N), on Numba and OpenCL, against OpenBLAS's dense product of
the same matrix, zeros included (``accel_edu.compression.sparsity_bench.spmm_vs_dense``). All
times are interleaved medians after a warm-up; ratios are measured in the same run. The chapter
reads the newest file. The JSON holds the machine it ran on; run it on an idle machine.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from accel_edu.bench.machine import machine_info
from accel_edu.compression.int8_bench import int8_vs_float32
from accel_edu.compression.sparsity_bench import SPARSITIES, spmm_vs_dense


def compression_records(sizes, m: int, k: int, n: int, repeat: int) -> dict:
    """{"int8_vs_float32": {size: rows}, "spmm_vs_dense": {"m", "k", "n", "rows"}}."""
    int8 = {}
    for size in sizes:
        print(f"int8 vs float32 at {size} ...", file=sys.stderr, flush=True)
        int8[str(size)] = int8_vs_float32(size=size, repeat=repeat)
    print(f"CSR SpMM vs dense, ({m}, {k}) x ({k}, {n}) ...", file=sys.stderr, flush=True)
    rows = spmm_vs_dense(m, k, n, sparsities=SPARSITIES, repeat=repeat)
    return {"int8_vs_float32": int8, "spmm_vs_dense": {"m": m, "k": k, "n": n, "rows": rows}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="512,1024", help="int8 GEMM sizes M = N = K, comma-separated")
    parser.add_argument("--m", type=int, default=2048, help="rows of the sparse matrix")
    parser.add_argument("--k", type=int, default=2048, help="its columns")
    parser.add_argument("--n", type=int, default=64, help="columns of the dense operand (a batch)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = {"machine": machine_info(), **compression_records(sizes, args.m, args.k, args.n, args.repeat)}
    args.out.mkdir(exist_ok=True)
    path = args.out / f"compression-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for size, rows in result["int8_vs_float32"].items():
        print(f"C = A B, M = N = K = {size}")
        for r in rows:
            print(f"  {r['name']:<32} {r['median_s'] * 1e3:9.2f} ms {r['gops']:8.1f} GOP/s  "
                  f"x{r['ratio_to_openblas']:.2f} OpenBLAS")
    sp = result["spmm_vs_dense"]
    names = [key[:-8] for key in sp["rows"][0] if key.endswith("_speedup")]
    print(f"CSR ({sp['m']}, {sp['k']}) x dense ({sp['k']}, {sp['n']}): speed-up over dense OpenBLAS")
    for r in sp["rows"]:
        print(f"  {r['sparsity']:5.2f}  dense {r['dense_s'] * 1e3:8.2f} ms  "
              + "  ".join(f"{b} x{r[b + '_speedup']:.2f}" for b in names))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
