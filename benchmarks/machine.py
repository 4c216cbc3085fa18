"""Measure this machine's limits on every backend, in one run, and record them.

    python benchmarks/machine.py            # results/machine-<date>.json (1-2 min idle, estimated)
    python benchmarks/machine.py --quick    # tiny sizes, seconds: checks that it runs, not the machine
    NUMBA_THREADING_LAYER=omp python benchmarks/machine.py   # results/machine-<date>-omp.json

Records (``accel_edu.hardware.measure_all``): the peak FLOP/s of FMA-bound kernels (Numba and
every OpenCL device, float32 and float64) and NumPy's large matmul beside the theoretical peak;
STREAM copy/scale/add/triad on NumPy, Numba and OpenCL; read bandwidth against working-set size
(4 KiB to 256 MiB) with the cache sizes the OS reports; host<->device transfer bandwidth and
latency with their fit; launch overheads; Numba's and PoCL's compile times, cold and cached.
The JSON holds the machine it ran on. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

from accel_edu.hardware.measure import measure_all
from accel_edu.hardware.report import format_summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds); not the machine's limits")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args()
    result = measure_all(quick=args.quick)
    args.out.mkdir(exist_ok=True)
    # A run under another threading layer gets its own file, as conv2d.py's does.
    layer = os.environ.get("NUMBA_THREADING_LAYER", "")
    suffix = (f"-{layer}" if layer and layer != "workqueue" else "") + ("-quick" if args.quick else "")
    path = args.out / f"machine-{datetime.date.today().isoformat()}{suffix}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(format_summary(result))
    print(f"written to {path}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
