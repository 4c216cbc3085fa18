"""Record the convolution ladder and CNN training throughput on this machine, side by side with
PyTorch on the CPU (if installed) in one run.

    python benchmarks/conv2d.py              # writes results/conv2d-<date>.json
    python benchmarks/conv2d.py --shapes lenet1,lenet2
    NUMBA_THREADING_LAYER=omp python benchmarks/conv2d.py   # writes results/conv2d-<date>-omp.json

Records: forward + backward of LeNet's two layer shapes and a large 3x3 layer, for every
backend and variant (``accel-edu bench conv2d``), and the images per second of whole training
steps of the digits LeNet on each backend and in PyTorch. Each time is a median of repeated
runs after a warm-up, each ratio from the same rounds. The JSON holds the machine it ran on.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from tqdm import tqdm

from accel_edu.bench.cli import format_conv_table
from accel_edu.bench.conv2d import SHAPES, conv2d_records
from accel_edu.bench.machine import machine_info
from accel_edu.bench.training import training_throughput
from accel_edu.cnn.models import lenet_digits
from accel_edu.data import load_digits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args()
    shapes = args.shapes.split(",")
    with tqdm(total=len(shapes), desc="conv2d", unit="shape", file=sys.stderr) as bar:
        records = list(conv2d_records(shapes, ["numpy", "numba", "opencl"], repeat=args.repeat, progress=bar))
    digits = load_digits(seed=0)
    x = digits.x_train.reshape(-1, 1, 8, 8)
    throughput = training_throughput(lambda backend: lenet_digits(backend=backend), x, digits.y_train,
                                     batch_size=32, steps=40, repeat=args.repeat)
    result = {"machine": machine_info(), "records": records,
              "training": {"model": "lenet_digits", "batch_size": 32, "images_per_second": throughput}}
    args.out.mkdir(exist_ok=True)
    # The library's default threading layer gets the plain name; another (omp) is named in it.
    layer = result["machine"]["numba_threading_layer"]
    suffix = "" if layer == "workqueue" else f"-{layer}"
    path = args.out / f"conv2d-{datetime.date.today().isoformat()}{suffix}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(format_conv_table(records))
    print("digits LeNet training, images per second:",
          ", ".join(f"{k} {v:,.0f}" for k, v in throughput.items()))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
