"""Model parallelism: a Sequential split by layers over the ranks, run as a micro-batch pipeline.

Rank r holds stage r, a contiguous run of layers. A forward sends stage r's output
activation (micro, features) to rank r + 1; a backward sends the gradient of stage r's input
back to rank r - 1. With one micro-batch (m = 1) this is plain model parallelism, and all
but one rank is idle at any moment; with m micro-batches the stages overlap as the
schedule (:mod:`accel_edu.distributed.schedule`) says.

Each micro-batch in flight needs its own activations until its backward: here each gets a
shallow copy of the stage's layers, sharing the weights but keeping its own ``x`` (what a
layer's backward needs). The gradients of the m micro-batches add up, each scaled by 1/m, so
they equal the gradient of the mean loss over the whole batch: what the unsplit model gives.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np

from ..runtime import to_numpy
from .allreduce import chunk_bounds
from .schedule import pipeline_schedule


def split_sequential(model, stages: int, boundaries=None) -> list[list]:
    """Cut ``model.layers`` into ``stages`` contiguous lists of layers, one per rank.

    boundaries: indices where stages 1 .. p-1 begin (p - 1 increasing ints); by default the
    cut falls before layers with parameters (a Linear and the activation after it stay
    together) with the parameterised layers shared as evenly as they go.
    Raises ValueError when the model has fewer parameterised layers than stages.
    """
    layers = list(model.layers)
    if not isinstance(stages, int) or stages < 1:
        raise ValueError(f"stages must be a positive integer; got {stages!r}")
    if boundaries is None:
        starts = [i for i, layer in enumerate(layers) if layer.params] or [0]
        starts[0] = 0  # anything before the first Linear belongs to stage 0
        if len(starts) < stages:
            raise ValueError(f"the model has {len(starts)} layers with parameters, so it cannot be split "
                             f"over {stages} ranks (stages); use at most {len(starts)} ranks")
        boundaries = [starts[lo] for lo, _ in chunk_bounds(len(starts), stages)[1:]]
    boundaries = list(boundaries)
    cuts = [0] + boundaries + [len(layers)]
    if len(boundaries) != stages - 1 or any(a >= b for a, b in zip(cuts, cuts[1:])):
        raise ValueError(f"boundaries must be {stages - 1} increasing layer indices in (0, {len(layers)}); "
                         f"got {boundaries}")
    return [layers[a:b] for a, b in zip(cuts, cuts[1:])]


@dataclass
class PipelineRun:
    """What one rank saw: its events (phase, micro, start s, end s) and the run's loss."""
    rank: int
    events: list = field(default_factory=list)
    loss: float | None = None


def run_pipeline(comm, layers, loss_fn, x, y, *, micro_batches: int, kind: str = "gpipe") -> PipelineRun:
    """Run one forward and backward of the batch (x, y) through the stage ``layers`` of this rank.

    layers: this rank's stage (``split_sequential(model, comm.Get_size())[rank]``).
    x: (B, D_in) the batch, read by rank 0; y: (B,) labels, read by the last rank; B must be a
    multiple of ``micro_batches`` (m). Each forward sends a (B/m, D) activation, each backward
    a (B/m, D) gradient. Afterwards every layer's ``grads`` hold the whole batch's gradient.
    Blocking sends could deadlock (rank 0 sending a forward while rank 1 sends it a backward),
    so sends are non-blocking (``Isend``) and completed at the end; receives block until the
    data arrive. ``layers`` on rank r must end with the same width rank r + 1's begin with.
    """
    p, rank = comm.Get_size(), comm.Get_rank()
    m = micro_batches
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"micro_batches must be a positive integer; got {m!r}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}")
    if len(x) % m:
        raise ValueError(f"the batch ({len(x)} samples) must be a multiple of micro_batches ({m}); "
                         f"got {len(x)} = {len(x) // m} * {m} + {len(x) % m}")
    mine = [s for s in pipeline_schedule(p, m, kind) if s.rank == rank]
    size = len(x) // m
    # Activations and gradients travel in the parameters' dtype (the input's, for a stage without any).
    dtype = next((to_numpy(v).dtype for layer in layers for v in layer.params.values()), np.asarray(x).dtype)
    stash, grads, sends = {}, [{} for _ in layers], []
    run = PipelineRun(rank)
    losses = []
    comm.Barrier()
    # One time origin for all ranks: rank 0's clock. perf_counter is the machine's monotonic
    # clock, shared by every process on one machine (ranks on other nodes would need a clock sync).
    t0 = comm.bcast(time.perf_counter(), root=0)
    for step in mine:
        j = step.micro
        if step.phase == "F":
            a = x[j * size:(j + 1) * size] if rank == 0 else _receive(comm, rank - 1, 2 * j, size, dtype)
            start = time.perf_counter()
            replica = [copy.copy(layer) for layer in layers]  # own activations, shared weights
            a = replica[0]._here(a) if replica else a
            for layer in replica:
                a = layer.forward(a)
            if rank == p - 1:
                loss_j = copy.copy(loss_fn)
                losses.append(float(to_numpy(loss_j(a, y[j * size:(j + 1) * size]))))
                stash[j] = (replica, to_numpy(loss_j.backward()) / m)  # d(mean over B)/d(logits)
            else:
                stash[j] = (replica, None)
                sends.append(_send(comm, a, rank + 1, 2 * j))
        else:
            replica, dy = stash.pop(j)
            if dy is None:
                dy = _receive(comm, rank + 1, 2 * j + 1, size, dtype)
            start = time.perf_counter()
            dy = replica[-1]._here(dy) if replica else dy
            for i in reversed(range(len(replica))):
                dy = replica[i].backward(dy)
                for name, g in replica[i].grads.items():
                    g = to_numpy(g)
                    grads[i][name] = grads[i][name] + g if name in grads[i] else g.copy()
            if rank > 0:
                sends.append(_send(comm, dy, rank - 1, 2 * j + 1))
        run.events.append((step.phase, j, start - t0, time.perf_counter() - t0))
    for request, _ in sends:
        request.Wait()
    for layer, g in zip(layers, grads):
        layer.grads = {name: layer._here(value) for name, value in g.items()}
    run.loss = float(np.mean(losses)) if losses else None
    return run


def _send(comm, array, dest: int, tag: int):
    """Start sending a (rows, features) array; returns (request, buffer): the buffer must live
    until the request completes. A buffer send (capital I) hands MPI the array's memory as it
    is; the pickled ``isend`` would first copy it into a pickle. (Measured here, either arrives
    in 0.1-0.3 ms while the sender computes on, once the pair has exchanged a first message:
    that first one took about 4 ms, which is why the bubble benchmark warms up.)"""
    buffer = np.ascontiguousarray(to_numpy(array))
    return comm.Isend(buffer, dest=dest, tag=tag), buffer


def _receive(comm, source: int, tag: int, rows: int, dtype) -> np.ndarray:
    """Receive a (rows, features) array of ``dtype``, sized from the waiting message itself."""
    from mpi4py import MPI
    from mpi4py.util.dtlib import from_numpy_dtype

    status = MPI.Status()
    comm.Probe(source=source, tag=tag, status=status)
    count = status.Get_count(from_numpy_dtype(dtype))
    if count % rows:
        raise ValueError(f"the message from rank {source} holds {count} {dtype} values, not a multiple of the "
                         f"micro-batch's {rows} rows: do both ranks split the same batch, in the same dtype?")
    buffer = np.empty((rows, count // rows), dtype=dtype)
    comm.Recv(buffer, source=source, tag=tag)
    return buffer


def measured_bubble(events_per_rank) -> dict:
    """Idle fraction of a run from every rank's events: 1 - busy / (p * makespan).

    events_per_rank: p lists of (phase, micro, start s, end s), one per rank, on one clock.
    Busy time is compute only; waiting for a message counts as idle, as in the formula.
    """
    p = len(events_per_rank)
    starts = [e[2] for events in events_per_rank for e in events]
    ends = [e[3] for events in events_per_rank for e in events]
    if not starts:
        raise ValueError("events_per_rank must hold at least one event")
    span = max(ends) - min(starts)
    busy = sum(e[3] - e[2] for events in events_per_rank for e in events)
    return {"makespan_s": span, "busy_s": busy, "bubble_fraction": 1.0 - busy / (p * span)}
