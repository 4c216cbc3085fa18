"""Data-parallel SGD: every rank holds the whole model and a 1/p shard of each batch.

One step on p ranks, for a global batch of B samples:

1. each rank runs forward and backward on its B/p samples (its shard), giving the gradient
   of the mean loss over its shard;
2. an allreduce sums the p gradients and each rank divides by p. With equal shards the mean
   of the shard means is the mean over the whole batch, so every rank now holds exactly the
   gradient one process would compute on all B samples (up to float rounding order);
3. every rank takes the same SGD step, so the replicas stay identical.

The gradients travel as one flat buffer (a "bucket"): one allreduce pays the latency alpha
once, where one allreduce per tensor would pay it once per tensor.
"""
from __future__ import annotations

import numpy as np

from ..backprop.sgd import SGD
from ..runtime import to_numpy
from .allreduce import mpi_allreduce, ring_allreduce

ALLREDUCES = {"ring": ring_allreduce, "mpi": mpi_allreduce}


def shard(x, y, rank: int, size: int):
    """Rank ``rank``'s contiguous 1/``size`` of a batch: x (B, ...) -> (B/size, ...), same for y.

    Raises ValueError when B is not a multiple of size: unequal shards would weight the
    samples of the smaller shard more when the shard means are averaged.
    """
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size (the number of ranks) must be a positive integer; got {size!r}")
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < size:
        raise ValueError(f"rank must be an integer in [0, {size}); got {rank!r}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}")
    if len(x) % size:
        raise ValueError(f"the batch size ({len(x)} samples) must be a multiple of the number of ranks "
                         f"({size}) so every shard is the same size; got {len(x)} = "
                         f"{len(x) // size} * {size} + {len(x) % size}")
    per = len(x) // size
    return x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]


def flatten_gradients(model) -> tuple[np.ndarray, list]:
    """All of ``model``'s gradients in one host buffer (n,), and the layout to put them back.

    layout: one (module, name, shape, offset) per parameter, in ``model.parameters()`` order.
    Every gradient must share one dtype (the model's), so the buffer has it too.
    """
    pieces, layout, offset = [], [], 0
    for module, name in model.parameters():
        if name not in module.grads:
            raise RuntimeError(f"no gradient for {type(module).__name__}.{name}: call backward() first")
        g = to_numpy(module.grads[name])
        pieces.append(g.reshape(-1))
        layout.append((module, name, g.shape, offset))
        offset += g.size
    dtypes = {p.dtype for p in pieces}
    if len(dtypes) > 1:
        raise ValueError(f"the model's gradients must share one dtype to travel as one buffer; got {dtypes}")
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), layout


def unflatten_gradients(buffer: np.ndarray, layout) -> None:
    """Write ``buffer`` (n,) back into the modules' gradients, on each module's own backend."""
    total = sum(int(np.prod(shape)) for _, _, shape, _ in layout)
    if buffer.size != total:
        raise ValueError(f"buffer must hold {total} elements, one per gradient entry; got {buffer.size}")
    for module, name, shape, offset in layout:
        size = int(np.prod(shape))
        module.grads[name] = module._here(buffer[offset:offset + size].reshape(shape).copy())


def average_gradients(model, comm, allreduce: str = "ring") -> None:
    """Replace every rank's gradients by their mean over the ranks (one bucketed allreduce)."""
    if allreduce not in ALLREDUCES:
        raise ValueError(f"allreduce must be one of {sorted(ALLREDUCES)}; got {allreduce!r}")
    buffer, layout = flatten_gradients(model)
    total = ALLREDUCES[allreduce](comm, buffer)
    total /= comm.Get_size()
    unflatten_gradients(total, layout)


def broadcast_parameters(model, comm, root: int = 0) -> None:
    """Copy rank ``root``'s parameters to every rank, so the replicas start identical even if
    their initialisation differed (a seed forgotten, a different library version)."""
    state = comm.bcast(model.state_dict() if comm.Get_rank() == root else None, root=root)
    model.load_state_dict(state)


def data_parallel_train(model, loss_fn, x, y, comm, *, epochs: int = 1, batch_size: int = 64,
                        lr: float = 0.1, seed: int = 0, allreduce: str = "ring") -> list[float]:
    """SGD on ``comm``'s ranks, each taking its shard of every batch; returns the mean loss per step.

    x: (N, ...), y: (N,), the whole training set on every rank. The batches are those of
    :func:`accel_edu.backprop.train` with the same ``seed`` (every rank draws the same
    order), so after the same epochs the parameters equal single-process ``train``'s.
    Every batch (the last included) must split evenly over the ranks.
    """
    from ..data import batches

    size, rank = comm.Get_size(), comm.Get_rank()
    if batch_size % size:
        raise ValueError(f"batch_size ({batch_size}) must be a multiple of the number of ranks ({size}) "
                         f"so every rank's shard is the same size")
    if len(x) % batch_size % size:
        raise ValueError(f"the last batch ({len(x) % batch_size} samples) must be a multiple of the "
                         f"number of ranks ({size}); choose batch_size and N so every batch splits")
    broadcast_parameters(model, comm)
    optimizer = SGD(model.parameters(), lr)
    model.train(True)
    losses = []
    for epoch in range(1, epochs + 1):
        for xb, yb in batches(x, y, batch_size, shuffle=True, seed=seed, epoch=epoch):
            x_shard, y_shard = shard(xb, yb, rank, size)
            loss = loss_fn(model.forward(x_shard), y_shard)
            model.backward(loss_fn.backward())
            average_gradients(model, comm, allreduce)
            optimizer.step()
            # The batch's loss is the mean of the shard losses (equal shards); one scalar allreduce.
            losses.append(comm.allreduce(float(to_numpy(loss))) / size)
    model.eval()
    return losses
