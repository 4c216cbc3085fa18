"""A network split by layers over the ranks against the unsplit network; rank 0 prints the comparison.

    python -m accel_edu.distributed.workers.model_parallel [--micro-batches 1] [--kind gpipe]

Every rank builds the same seeded MLP (widths differ layer to layer, so a wrong hand-over
between stages would show as a shape error), keeps its stage (``split_sequential``) and runs
one forward and backward of a batch through the pipeline (``run_pipeline``): rank r sends
its output activation to rank r + 1, and the gradient of its input back to rank r - 1. Each
rank then compares its stage's gradients with the same layers of the unsplit model, run in
one process on the whole batch, and rank 0 reports the largest difference over all ranks,
with each rank's compute intervals of a second run (the first warms the connection up).
"""
from __future__ import annotations

import argparse

import numpy as np

from ...backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from ..pipeline import run_pipeline, split_sequential
from ..rank import phase, worker_main

WIDTHS = (16, 48, 40, 32, 24, 10)  # input, three hidden widths, ..., ten classes


def make_model(dtype):
    """The MLP 16 -> 48 -> 40 -> 32 -> 24 -> 10 (ReLU between), initialised from fixed seeds."""
    layers = []
    for i, (d_in, d_out) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        layers.append(Linear(d_in, d_out, seed=20 + i, dtype=dtype))
        if i < len(WIDTHS) - 2:
            layers.append(ReLU())
    return Sequential(*layers, backend="numpy")


def make_batch(batch: int, dtype, seed: int = 4):
    """x: (batch, 16) standard normal; y: (batch,) labels in 0..9."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, WIDTHS[0])).astype(dtype), rng.integers(0, WIDTHS[-1], batch)


def main(comm, argv):
    parser = argparse.ArgumentParser(prog="model_parallel")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--micro-batches", type=int, default=1)
    parser.add_argument("--kind", default="gpipe", choices=["gpipe", "1f1b"])
    parser.add_argument("--dtype", default="float64")
    args = parser.parse_args(argv)
    p, rank = comm.Get_size(), comm.Get_rank()
    dtype = np.dtype(args.dtype)
    x, y = make_batch(args.batch, dtype)
    stage = split_sequential(make_model(dtype), p)[rank]
    phase("pipeline")
    # A first run, not reported: the first messages between two ranks set up their connection
    # (milliseconds here), which would hide the pipeline's own waiting in the timings.
    run_pipeline(comm, stage, SoftmaxCrossEntropy(), x, y, micro_batches=args.micro_batches, kind=args.kind)
    run = run_pipeline(comm, stage, SoftmaxCrossEntropy(), x, y, micro_batches=args.micro_batches,
                       kind=args.kind)
    phase("unsplit reference")
    reference = make_model(dtype)  # the same weights, in one piece, on the whole batch
    loss_fn = SoftmaxCrossEntropy()
    unsplit_loss = float(loss_fn(reference.forward(x), y))
    reference.backward(loss_fn.backward())
    mine = split_sequential(reference, p)[rank]
    difference = max((float(np.max(np.abs(layer.grads[k] - ref.grads[k])))
                      for layer, ref in zip(stage, mine) for k in ref.grads), default=0.0)
    largest = max((float(np.max(np.abs(ref.grads[k]))) for ref in mine for k in ref.grads), default=0.0)
    gathered = comm.gather({"rank": rank, "layers": [repr(layer) for layer in stage],
                            "max_gradient_difference": difference, "largest_gradient": largest,
                            "events": run.events, "loss": run.loss}, root=0)
    if rank != 0:
        return None
    return {"ranks": p, "dtype": str(dtype), "batch": args.batch, "micro_batches": args.micro_batches,
            "kind": args.kind, "stages": gathered, "unsplit_loss": unsplit_loss,
            "pipeline_loss": gathered[-1]["loss"],
            "max_gradient_difference": max(g["max_gradient_difference"] for g in gathered)}


if __name__ == "__main__":
    worker_main(main)
