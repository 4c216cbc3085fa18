"""Record the GEMM ladder on this machine: every rung, NumPy/OpenBLAS, PyTorch (if
installed) and the measured peak, side by side in one run.

    python benchmarks/gemm.py                  # sizes 256, 512, 1024; writes results/gemm-<date>.json
    python benchmarks/gemm.py --sizes 1024 --out /tmp    # a trial run, kept out of results/

Each time is a median of repeated runs after a warm-up; each ratio is to NumPy measured in
the same run. Each record carries "flops" (2 M N K) and "bytes_min" (the compulsory traffic,
4 (M K + K N + M N) for float32), so a roofline can place it; the JSON also holds the machine
it ran on, its measured peaks and each backend's ladder in order. Record it on an idle
machine: OpenBLAS's and PyTorch's threads spin and collapse when other jobs share the cores.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from tqdm import tqdm

from accel_edu.bench.cli import format_table
from accel_edu.bench.gemm import gemm_records, ladder
from accel_edu.bench.lstm import openblas_kernels
from accel_edu.bench.machine import machine_info
from accel_edu.bench.peak import peak_gflops


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"),
                        help="folder for gemm-<date>.json (default: benchmarks/results)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tqdm(desc="gemm", unit="size", file=sys.stderr) as bar:
        records = list(gemm_records(sizes, ["numba", "opencl"], repeat=args.repeat, progress=bar))
    peak = {"float32": peak_gflops(), "float64": peak_gflops("float64")}
    for r in records:
        r["fraction_of_peak"] = r["gflops"] / peak["float32"]
    ladders = {b: ladder(b) for b in ("numba", "opencl")}
    result = {"machine": machine_info(), "openblas_kernels": openblas_kernels(), "peak_gflops": peak,
              "ladders": ladders, "records": records}
    args.out.mkdir(exist_ok=True)
    path = args.out / f"gemm-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(format_table(records))
    print(f"measured peak: {peak['float32']:.0f} GFLOP/s float32, {peak['float64']:.0f} float64")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
