"""The executed pipeline's idle fraction for several micro-batch counts; rank 0 prints the records.

    python -m accel_edu.distributed.workers.pipeline_bubble [--micro-batches 1,2,4,8] [--kind gpipe]

The model is 2p equal Linear+ReLU blocks (width --width), so every stage costs the same, as
the formula (p - 1) / (m + p - 1) assumes. Each configuration runs --repeats times after a
warm-up; the record keeps the median measured bubble.
"""
from __future__ import annotations

import argparse

import numpy as np

from ...backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from ..pipeline import measured_bubble, run_pipeline, split_sequential
from ..rank import worker_main
from ..schedule import ideal_bubble_fraction


def main(comm, argv):
    parser = argparse.ArgumentParser(prog="pipeline_bubble")
    parser.add_argument("--micro-batches", default="1,2,4,8")
    parser.add_argument("--kinds", default="gpipe,1f1b")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--blocks-per-stage", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    p, rank = comm.Get_size(), comm.Get_rank()
    blocks = []
    for i in range(p * args.blocks_per_stage):
        blocks += [Linear(args.width, args.width, seed=i), ReLU()]
    model = Sequential(*blocks, backend="numpy")
    stage = split_sequential(model, p)[rank]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, args.width)).astype(np.float32)
    y = rng.integers(0, args.width, args.batch)
    records = []
    for kind in args.kinds.split(","):
        for m in (int(v) for v in args.micro_batches.split(",")):
            bubbles, spans = [], []
            for i in range(1 + args.repeats):  # the first run warms caches and allocators
                run = run_pipeline(comm, stage, SoftmaxCrossEntropy(), x, y, micro_batches=m, kind=kind)
                measured = measured_bubble(comm.allgather(run.events))
                if i:
                    bubbles.append(measured["bubble_fraction"])
                    spans.append(measured["makespan_s"])
            records.append({"kind": kind, "ranks": p, "micro_batches": m,
                            "measured_bubble": float(np.median(bubbles)),
                            "formula_bubble": ideal_bubble_fraction(p, m),
                            "makespan_s": float(np.median(spans))})
    return {"records": records}


if __name__ == "__main__":
    worker_main(main)
