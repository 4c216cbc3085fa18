"""Record the fused-versus-unfused Adam step and this machine's STREAM bandwidth, in one run.

    python benchmarks/optim.py              # writes results/optim-<date>.json
    python benchmarks/optim.py --sizes 1048576,16777216 --repeat 9

Records (``accel-edu bench optim``): STREAM copy/scale/add/triad on arrays far past the caches,
then one Adam step on each parameter count for NumPy's unfused reference, a three-pass Numba
version, the fused Numba and OpenCL kernels, and PyTorch's for-loop and fused Adam, each as
achieved GB/s (7 numbers per parameter) and as a fraction of STREAM triad from the same run.
The chapter's bandwidth figure is drawn from this file. The JSON holds the machine it ran on.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from tqdm import tqdm

from accel_edu.bench.cli import format_optim_table, format_stream_table
from accel_edu.bench.machine import machine_info
from accel_edu.bench.optim import DEFAULT_SIZES, optim_records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tqdm(total=len(sizes), desc="adam", unit="size", file=sys.stderr) as bar:
        result = optim_records(sizes, repeat=args.repeat, progress=bar)
    result = {"machine": machine_info(), **result}
    args.out.mkdir(exist_ok=True)
    path = args.out / f"optim-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(format_stream_table(result["stream"]))
    print(format_optim_table(result))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
