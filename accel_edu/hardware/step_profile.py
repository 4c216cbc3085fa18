"""Where the time of one training step goes, on each backend.

One step of the book's networks (forward, loss, backward, SGD update, as in
:func:`accel_edu.backprop.train`) is run with every registered kernel of the backend wrapped
in a timer. Each step's wall-clock time is split into

    compute        GEMM and convolution kernels (the FLOP-heavy ones)
    memory-bound   every other kernel: elementwise, pooling, loss, update (a few FLOPs a byte)
    launches       OpenCL only: the host's side of each kernel call (setting arguments,
                   enqueueing, waiting for the queue): the kernel call's wall time minus the
                   device's own time for it, from the queue's profiling events
    transfers      host<->device copies (OpenCL), counted by the runtime and timed by
                   replaying the same number of copies of the same mean size
    Python         the remainder: the layers' and the loop's own code

On NumPy and Numba there are no launches or transfers to separate: a kernel's time is its
wall time (for Numba this includes starting a parallel region, 100-130 us here). Each timed
kernel waits for the OpenCL queue before and after, so kernels do not overlap each other or
the host; the step's time without the timers is reported beside it (``uninstrumented_s``).
"""
from __future__ import annotations

import statistics
import time
from contextlib import contextmanager

import numpy as np

from .records import check_positive_int

COMPUTE_PREFIXES = ("gemm", "linear_", "conv")
PARTS = ("compute", "memory-bound", "launches", "transfers", "Python")
MODELS = ("lenet", "mlp")


def is_compute_kernel(name: str) -> bool:
    """GEMMs, Linear layers and convolutions: the kernels whose FLOPs grow faster than their bytes."""
    return name.startswith(COMPUTE_PREFIXES)


def build_model(model: str, backend: str, batch_size: int, seed: int = 0):
    """(network, x, y): ``model`` on ``backend`` with a seeded batch of ``batch_size``.

    "lenet": the CNN chapter's LeNet for 8x8 digits, x: (N, 1, 8, 8); "mlp": the backprop
    chapter's shape, Linear 64 -> 128 -> ReLU -> 10 on flattened digits, x: (N, 64).
    Timing does not depend on the values, so x is Gaussian noise and y random labels.
    """
    from ..backprop import Linear, ReLU, Sequential
    from ..cnn.models import lenet_digits
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
    check_positive_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    if model == "lenet":
        net, shape = lenet_digits(backend=backend, seed=seed), (batch_size, 1, 8, 8)
    else:
        net = Sequential(Linear(64, 128, seed=seed), ReLU(), Linear(128, 10, seed=seed + 1), backend=backend)
        shape = (batch_size, 64)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 10, batch_size)
    return net, x, y


class _EventLog(dict):
    """Stands in for runtime.opencl's kernel cache: hands out the cached kernels wrapped so
    that each launch's profiling event is kept (``launch`` calls ``_kernels.get(key)``)."""

    def __init__(self, cache: dict):
        super().__init__(cache)
        self.events = []

    def get(self, key, default=None):
        kernel = super().get(key, default)
        if kernel is None:
            return None
        events = self.events

        def launch_and_keep(*args, **kwargs):
            event = kernel(*args, **kwargs)
            events.append(event)
            return event
        return launch_and_keep


@contextmanager
def _timed_kernels(backend: str):
    """Wrap every registered kernel's ``backend`` implementations; yields the tallies:
    {"kernel_s": {name: wall s}, "device_s": {name: device s}, "calls": {name: n}, "launches": n}."""
    import accel_edu.chapters  # noqa: F401  registers every kernel
    from ..runtime import REGISTRY
    tallies = {"kernel_s": {}, "device_s": {}, "calls": {}, "launches": 0}
    sync, log, opencl = (lambda: None), None, None
    if backend == "opencl":
        from ..runtime import opencl
        sync, log = opencl.finish, _EventLog(opencl._kernels)
        saved_cache, opencl._kernels = opencl._kernels, log
    depth = [0]

    def wrap(name, impl):
        def timed(*args, **kwargs):
            if depth[0]:                     # a kernel called by a kernel: counted in the outer one
                return impl(*args, **kwargs)
            sync()
            first_event = len(log.events) if log is not None else 0
            depth[0] += 1
            start = time.perf_counter()
            try:
                out = impl(*args, **kwargs)
                sync()
            finally:
                depth[0] -= 1
            tallies["kernel_s"][name] = tallies["kernel_s"].get(name, 0.0) + time.perf_counter() - start
            tallies["calls"][name] = tallies["calls"].get(name, 0) + 1
            if log is not None:
                events = log.events[first_event:]
                tallies["launches"] += len(events)
                device = sum(e.profile.end - e.profile.start for e in events) * 1e-9
                tallies["device_s"][name] = tallies["device_s"].get(name, 0.0) + device
            return out
        return timed

    saved = []
    for kernel in REGISTRY.values():
        for key, impl in list(kernel.impls.items()):
            if key[0] == backend:
                saved.append((kernel, key, impl))
                kernel.impls[key] = wrap(kernel.name, impl)
    try:
        yield tallies
    finally:
        for kernel, key, impl in saved:
            kernel.impls[key] = impl
        if opencl is not None:
            saved_cache.update({k: v for k, v in dict.items(log)})   # kernels first built while wrapped
            opencl._kernels = saved_cache


def _train_step(net, loss_fn, optimizer, x, y):
    loss = loss_fn(net.forward(x), y)
    net.backward(loss_fn.backward())
    optimizer.step()
    return loss


def _replay_transfers(stats: dict, steps: int, repeat: int = 3) -> float:
    """Seconds per step that the counted copies take: ``h2d_count`` uploads and ``d2h_count``
    downloads of their mean sizes, replayed and timed (median of ``repeat``)."""
    from ..runtime.opencl import finish, to_device, to_host
    uploads, downloads = stats["h2d_count"] // steps, stats["d2h_count"] // steps
    if not uploads and not downloads:
        return 0.0
    up = np.zeros(max(1, stats["h2d_bytes"] // max(1, stats["h2d_count"]) // 4), np.float32)
    down = to_device(np.zeros(max(1, stats["d2h_bytes"] // max(1, stats["d2h_count"]) // 4), np.float32))
    samples = []
    for _ in range(repeat):
        finish()
        start = time.perf_counter()
        for _ in range(uploads):
            to_device(up)
        for _ in range(downloads):
            to_host(down)
        finish()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def profile_step(model: str = "lenet", backend: str = "numpy", batch_size: int = 64,
                 steps: int = 20, warmup: int = 3, seed: int = 0) -> dict:
    """One training step of ``model`` on ``backend``, split into :data:`PARTS` (seconds per step).

    Returns {"model", "backend", "batch_size", "steps", "step_s" (instrumented), "uninstrumented_s",
    "parts": {part: s}, "kernels": {name: s}, "calls_per_step", "launches_per_step",
    "transfers_per_step": {h2d_count, h2d_bytes, d2h_count, d2h_bytes}}.
    """
    from ..backprop import SGD, SoftmaxCrossEntropy
    from ..runtime import available_backends
    if backend not in ("numpy", "numba", "opencl") or not available_backends().get(backend):
        raise ValueError(f"backend must be an available backend (numpy, numba, opencl); got {backend!r}")
    check_positive_int("steps", steps)
    net, x, y = build_model(model, backend, batch_size, seed)
    loss_fn = SoftmaxCrossEntropy(backend=backend)
    optimizer = SGD(net.parameters(), 0.01)
    sync = (lambda: None)
    if backend == "opencl":
        from ..runtime import opencl
        sync = opencl.finish
    for _ in range(warmup):                  # compiles, builds, and first allocations
        _train_step(net, loss_fn, optimizer, x, y)
    sync()
    start = time.perf_counter()              # the step as training runs it, no timers
    for _ in range(steps):
        _train_step(net, loss_fn, optimizer, x, y)
    sync()
    uninstrumented = (time.perf_counter() - start) / steps

    transfers = {"h2d_count": 0, "h2d_bytes": 0, "d2h_count": 0, "d2h_bytes": 0}
    with _timed_kernels(backend) as tallies:
        if backend == "opencl":
            opencl.reset_transfer_stats()
        start = time.perf_counter()
        for _ in range(steps):
            _train_step(net, loss_fn, optimizer, x, y)
        sync()
        total = time.perf_counter() - start
        if backend == "opencl":
            transfers = opencl.transfer_stats()
    kernel_s, device_s = tallies["kernel_s"], tallies["device_s"]
    busy = device_s if backend == "opencl" else kernel_s
    compute = sum(s for name, s in busy.items() if is_compute_kernel(name))
    memory = sum(s for name, s in busy.items() if not is_compute_kernel(name))
    launches = sum(kernel_s.values()) - compute - memory
    copies = _replay_transfers(transfers, steps) * steps if backend == "opencl" else 0.0
    parts = {"compute": compute, "memory-bound": memory, "launches": launches, "transfers": copies,
             "Python": total - compute - memory - launches - copies}
    return {"model": model, "backend": backend, "batch_size": batch_size, "steps": steps,
            "step_s": total / steps, "uninstrumented_s": uninstrumented,
            "parts": {k: v / steps for k, v in parts.items()},
            "kernels": {k: v / steps for k, v in sorted(busy.items(), key=lambda kv: -kv[1])},
            "calls_per_step": sum(tallies["calls"].values()) / steps,
            "launches_per_step": tallies["launches"] / steps,
            "transfers_per_step": {k: v / steps for k, v in transfers.items()}}
