"""Data-parallel SGD on every rank against one process on the full batch; rank 0 prints the comparison.

    python -m accel_edu.distributed.workers.data_parallel [--epochs 2] [--batch-size 32] [--dtype float64]

The data are a seeded synthetic classification task (a random linear teacher), the same on
every rank. Rank 0 also trains the same model alone with :func:`accel_edu.backprop.train`
and reports the largest parameter difference: it should be float rounding, no more.
"""
from __future__ import annotations

import argparse

import numpy as np

from ...backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy, train
from ..data_parallel import data_parallel_train
from ..rank import worker_main


def make_model(dtype, backend="numpy"):
    """A small MLP, 20 -> 32 -> 4, initialised from fixed seeds."""
    return Sequential(Linear(20, 32, seed=1, dtype=dtype), ReLU(), Linear(32, 4, seed=2, dtype=dtype),
                      backend=backend)


def make_data(n, dtype, seed=0):
    """x: (n, 20) standard normal; y: (n,) the class a fixed random linear map scores highest."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 20)).astype(dtype)
    return x, (x @ rng.standard_normal((20, 4))).argmax(axis=1)


def main(comm, argv):
    parser = argparse.ArgumentParser(prog="data_parallel")
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--allreduce", default="ring", choices=["ring", "mpi"])
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args(argv)
    dtype = np.dtype(args.dtype)
    x, y = make_data(args.samples, dtype)
    model = make_model(dtype, args.backend)
    losses = data_parallel_train(model, SoftmaxCrossEntropy(backend=args.backend), x, y, comm,
                                 epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                 allreduce=args.allreduce)
    state = model.state_dict()
    # Every replica must hold the same parameters; gather them to check.
    replicas = comm.gather(state, root=0)
    if comm.Get_rank() != 0:
        return None
    alone = make_model(dtype, args.backend)
    train(alone, SoftmaxCrossEntropy(backend=args.backend), x, y, epochs=args.epochs,
          batch_size=args.batch_size, lr=args.lr, progress=False)
    reference = alone.state_dict()
    return {"ranks": comm.Get_size(), "dtype": str(dtype), "steps": len(losses), "losses": losses,
            "max_difference_from_one_process": max(float(np.max(np.abs(state[k] - reference[k])))
                                                   for k in reference),
            "max_difference_between_replicas": max(float(np.max(np.abs(r[k] - state[k])))
                                                   for r in replicas for k in state),
            "max_parameter_change": max(float(np.max(np.abs(state[k] - make_model(dtype).state_dict()[k])))
                                        for k in state)}


if __name__ == "__main__":
    worker_main(main)
