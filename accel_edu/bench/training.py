"""End-to-end training throughput: images per second of whole SGD steps, next to PyTorch.

A step is forward, loss, backward and the SGD update, on batches drawn the same way for every
contender. Each contender trains a fresh copy of the same model (same initial weights) for
``steps`` steps after ``warmup`` steps; the median of ``repeat`` timed runs, round-robin, is
reported as images per second.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from .timing import torch_on_numbas_threads


def _ours(make_model, backend, x, y, batch_size):
    from ..backprop import SGD, SoftmaxCrossEntropy
    from ..runtime import to_device, to_numpy
    from ..runtime.opencl import finish
    model, loss_fn = make_model(backend), SoftmaxCrossEntropy(backend=backend)
    opt = SGD(model.parameters(), lr=0.01)
    batches = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x) - batch_size + 1, batch_size)]
    if backend == "opencl":   # the data lives on the device, as it would in a training run
        batches = [(to_device(xb), to_device(yb)) for xb, yb in batches]

    def run(steps):
        for s in range(steps):
            xb, yb = batches[s % len(batches)]
            loss = loss_fn(model.forward(xb), yb)
            model.backward(loss_fn.backward())
            opt.step()
        if backend == "opencl":
            finish()
        return float(to_numpy(loss))
    return run


def _torch(make_model, x, y, batch_size):
    import torch

    from .torch_twin import torch_twin
    model = torch_twin(make_model("numpy"))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    batches = [(tx[i:i + batch_size], ty[i:i + batch_size]) for i in range(0, len(x) - batch_size + 1, batch_size)]

    def run(steps):
        for s in range(steps):
            xb, yb = batches[s % len(batches)]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()
    return run


def training_throughput(make_model, x, y, *, backends=("numpy", "numba", "opencl"), batch_size=64,
                        steps=20, warmup=3, repeat=3, include_torch=True, settle=0.3) -> dict:
    """{name: images per second} for ``make_model(backend)`` (an accel_edu Sequential factory)
    trained on x (N, ...) float32, y (N,) int labels, on each backend and in PyTorch."""
    from ..runtime import available_backends
    have = available_backends()
    runs = {b: _ours(make_model, b, x, y, batch_size) for b in backends if have[b]}
    if include_torch:
        try:
            import torch
            torch_on_numbas_threads(torch)
            runs["torch"] = _torch(make_model, x, y, batch_size)
        except ImportError:
            pass
    samples = {name: [] for name in runs}
    for run in runs.values():
        run(warmup)
    for _ in range(repeat):
        for name, run in runs.items():
            # PoCL's, OpenBLAS's and PyTorch's worker threads spin for a while after their last
            # call; let them settle so that they do not steal the next contender's cores.
            time.sleep(settle)
            start = time.perf_counter()
            run(steps)
            samples[name].append(steps * batch_size / (time.perf_counter() - start))
    return {name: statistics.median(s) for name, s in samples.items()}
