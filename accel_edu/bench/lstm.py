"""``accel-edu bench lstm``: one recurrent layer's forward + backward through time on every
backend, side by side with PyTorch's ``torch.nn.LSTM`` (or GRU, RNN) on the CPU.

One call is a whole training step of the layer: ``forward(x)`` over T steps, then
``backward(dy)`` (input, weight and bias gradients; with ``input_grad=False`` the input
gradient is skipped on both sides, as for a first layer). Rows:

    numpy   reference            the NumPy kernels and NumPy (OpenBLAS) GEMMs
    numba   numba                Numba cells and the backprop chapter's Numba GEMM
    numba   cells+OpenBLAS GEMM  Numba cells, NumPy/OpenBLAS GEMMs (``gemm_backend="numpy"``):
                                 a configuration of its own, not the pure Numba backend
    numba   fused sequence       LSTM only (``fused=True``): one Numba call per direction runs
                                 every step (input projection, per-step GEMM and cell fused;
                                 the batch split over the threads); the weight-gradient and dx
                                 GEMMs over all steps by OpenBLAS
    opencl  opencl               the cells and GEMMs as OpenCL kernels, state on the device
    torch   cpu                  torch.nn.LSTM/GRU/RNN (oneDNN's fused RNN where PyTorch has one)
    torch   cpu, no oneDNN       the same with ``torch.backends.mkldnn.flags(enabled=False)``

``ratio_to_torch`` is PyTorch's default (``cpu``) time over this row's, from the same
round-robin rounds: above 1 is faster than PyTorch. PyTorch runs with Numba's thread count;
``threads`` sets Numba's, PyTorch's and OpenBLAS's (through threadpoolctl) to one number.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

try:
    # PyTorch before the kernels' libraries: imported after them (Numba's, PoCL's), its CPU RNN
    # ran 10-300x slower in the same process here (LSTM without oneDNN 2 s instead of 15-28 ms,
    # GRU 160 ms instead of 24 ms), while importing it first changed nothing else.
    import torch  # noqa: F401
except ImportError:
    pass

from ..runtime import available_backends, to_device
from .timing import interleaved_medians, torch_on_numbas_threads

CELLS = ("lstm", "gru", "rnn")
DEFAULT_SHAPE = (40, 64, 40, 128)       # T, N, D, H: sequence 40, batch 64, input 40, hidden 128

# backend, variant, layer options
CONFIGS = [("numpy", "reference", {}), ("numba", "numba", {}),
           ("numba", "cells+OpenBLAS GEMM", {"gemm_backend": "numpy"}),
           ("numba", "fused sequence", {"fused": True}), ("opencl", "opencl", {})]


def configs_for(cell):
    """The CONFIGS a ``cell`` layer has: the fused sequence kernels are the LSTM's only."""
    return [c for c in CONFIGS if cell == "lstm" or "fused" not in c[2]]


def _layer_class(cell):
    from ..rnn import GRU, LSTM, RNN
    return {"lstm": LSTM, "gru": GRU, "rnn": RNN}[cell]


def _accel_step(layer, x, dy, input_grad, sync):
    def run():
        layer.forward(x)
        layer.backward(dy, need_dx=input_grad)
        if sync is not None:
            sync()
    return run


def torch_twin(cell, layer):
    """``layer`` (an accel_edu LSTM, GRU or RNN) as the torch.nn module with the same weights."""
    import torch
    twin = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](layer.d_in, layer.hidden)
    with torch.no_grad():
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            torch_name = name.replace("w_", "weight_").replace("b_", "bias_") + "_l0"
            getattr(twin, torch_name).copy_(torch.from_numpy(np.asarray(layer.params[name])))
    return twin


def _torch_steps(cell, layer, x, dy, input_grad):
    """{variant: fn}: the PyTorch twin of ``layer`` (same weights), with and without oneDNN."""
    import torch
    torch_on_numbas_threads(torch)
    twin = torch_twin(cell, layer)
    tx, tdy = torch.from_numpy(x).requires_grad_(input_grad), torch.from_numpy(dy)

    def step():
        tx.grad = None
        twin.zero_grad(set_to_none=True)
        y, _ = twin(tx)
        y.backward(tdy)

    def step_without_onednn():
        with warnings.catch_warnings():   # flags() also sets TF32, which warns on a CPU-only build
            warnings.simplefilter("ignore")
            with torch.backends.mkldnn.flags(enabled=False):
                step()
    return {"cpu": step, "cpu, no oneDNN": step_without_onednn}


def lstm_candidates(cell, shape, backends, input_grad=True, include_torch=True, seed=0):
    """{(backend, variant): (fn, None)}: one forward + backward of a ``cell`` layer each."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    t_len, n, d, hidden = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t_len, n, d)).astype(np.float32)
    dy = rng.standard_normal((t_len, n, hidden)).astype(np.float32)
    make = _layer_class(cell)
    have = available_backends()
    candidates = {}
    for backend, variant, options in configs_for(cell):
        if backend not in backends or not have[backend]:
            continue
        layer = make(d, hidden, seed=seed, backend=backend, **options)
        sync, args = None, (x, dy)
        if backend == "opencl":
            from ..runtime.opencl import finish
            sync, args = finish, (to_device(x), to_device(dy))   # data already on the device
        candidates[(backend, variant)] = (_accel_step(layer, *args, input_grad, sync), None)
    if include_torch and "torch" in backends:
        try:
            import torch  # noqa: F401
        except ImportError:
            return candidates
        reference = make(d, hidden, seed=seed, backend="numpy")
        for variant, fn in _torch_steps(cell, reference, x, dy, input_grad).items():
            candidates[("torch", variant)] = (fn, None)
    return candidates


def _thread_count(threads):
    """Set Numba's, PyTorch's and OpenBLAS's thread counts to ``threads`` for the timing (a
    context: OpenBLAS's is restored after); None leaves them as they are."""
    if threads is None:
        return contextlib.nullcontext()
    import numba
    numba.set_num_threads(threads)
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        pass
    from threadpoolctl import threadpool_limits
    return threadpool_limits(threads, user_api="blas")


def openblas_kernels() -> str | None:
    """The kernel family NumPy's OpenBLAS runs ("Haswell" is AVX2, "SkylakeX" AVX-512): its own
    pick for the CPU, or ``OPENBLAS_CORETYPE`` if that was set before NumPy loaded; or None."""
    from threadpoolctl import threadpool_info
    found = [i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"]
    return found[0] if found else None


def lstm_records(cell="lstm", shape=DEFAULT_SHAPE, backends=("numpy", "numba", "opencl", "torch"), *,
                 repeat=5, input_grad=True, threads=None, progress=None) -> list[dict]:
    """One record per (backend, variant): kernel (the cell), backend, variant, shape [T, N, D, H],
    input_grad, threads, openblas_kernels, median_s (one forward + backward), ratio_to_torch (None
    without PyTorch)."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
    if len(shape) != 4 or any(not isinstance(s, int) or s < 1 for s in shape):
        raise ValueError(f"shape must be four positive integers (T, N, D, H); got {shape!r}")
    with _thread_count(threads):
        import numba
        threads = numba.get_num_threads()
        candidates = lstm_candidates(cell, tuple(shape), backends, input_grad)
        times = interleaved_medians(candidates, repeat=repeat, min_seconds=0.05)
    if progress is not None:
        progress.update()
    torch_s = times.get(("torch", "cpu"))
    return [{"kernel": cell, "backend": backend, "variant": variant, "shape": list(shape),
             "input_grad": input_grad, "threads": threads, "openblas_kernels": openblas_kernels(),
             "median_s": seconds,
             "ratio_to_torch": torch_s / seconds if torch_s else None}
            for (backend, variant), seconds in times.items()]


# -- where the time goes ------------------------------------------------------------------------

def _category(layer, name, args, kwargs):
    """The breakdown's category of one call the layer makes."""
    if name == "_gemm":
        a, trans_a = args[0], kwargs.get("trans_a", args[2] if len(args) > 2 else False)
        if trans_a:
            return "weight-gradient GEMMs"
        return "GEMM per step" if a.shape[0] == layer.shape[1] else "dx GEMM"
    return {"_input_projection": "input projection GEMM", "_bias_grad": "bias gradient",
            "gradient_sum": "gradient sums", **FUSED_CATEGORIES}.get(name, "cells" if "cell" in name else "step copies")


# The fused LSTM's calls (fused_lstm.py): its per-step GEMMs and cells run inside one call each way
FUSED_CATEGORIES = {"lstm_sequence_forward": "forward sequence (input projection, GEMMs, cells)",
                    "lstm_sequence_backward": "backward sequence (cells, GEMMs)",
                    "_weight_gradients": "weight-gradient GEMMs", "_input_gradient": "dx GEMM"}


@contextlib.contextmanager
def _timed_calls(layer, totals, sync):
    """Time every GEMM, cell, copy and sum ``layer`` calls, adding seconds into ``totals`` by
    category; ``sync`` (OpenCL's finish) runs after each call, so each is timed to completion."""
    import time

    from ..rnn import fused_lstm as F
    from ..rnn import kernels as K
    from ..rnn import layers as L
    from ..rnn import numba_kernels as NK
    from ..rnn import numba_sequence as S

    def wrap(name, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            sync()
            key = _category(layer, name, args, kwargs)
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - start
            return out
        return timed
    patched = [(layer, name) for name in ("_gemm", "_input_projection", "_bias_grad")]
    patched += [(L, name) for name in ("take_step", "put_step", "take_rows")]
    patched += [(NK, name) for name in dir(NK) if name.endswith("_into")]
    patched += [(K, name) for name in dir(K) if "cell" in name or name == "gradient_sum"]
    patched += [(S, "lstm_sequence_forward"), (S, "lstm_sequence_backward"),
                (F, "_weight_gradients"), (F, "_input_gradient")]
    saved = [(owner, name, getattr(owner, name)) for owner, name in patched]
    for owner, name, fn in saved:
        setattr(owner, name, wrap(name, fn))
    try:
        yield
    finally:
        for owner, name, fn in saved:
            if owner is layer:
                delattr(layer, name)          # back to the class's method
            else:
                setattr(owner, name, fn)


def time_breakdown(cell="lstm", shape=DEFAULT_SHAPE, backend="numpy", *, repeat=5, input_grad=True,
                   **options) -> dict:
    """{category: seconds per forward + backward}, plus "total" (the steps timed without the
    per-call timers) and "Python and the rest" (total minus the categories). Categories: GEMM
    per step, input projection GEMM, weight-gradient GEMMs, dx GEMM, cells, gradient sums,
    bias gradient, step copies (on the host these are views, so nearly free); for the fused
    LSTM (``fused=True``) instead: forward sequence, backward sequence (each one call: its
    GEMMs and cells are not apart), weight-gradient GEMMs (with the bias sums), dx GEMM.
    ``options`` go to the layer (``gemm_backend="numpy"``, ``fused=True``). On OpenCL every call waits for the queue, which
    adds its own cost: the categories then overstate the total a little."""
    import time
    import accel_edu.chapters  # noqa: F401
    t_len, n, d, hidden = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t_len, n, d)).astype(np.float32)
    dy = rng.standard_normal((t_len, n, hidden)).astype(np.float32)
    layer = _layer_class(cell)(d, hidden, backend=backend, **options)
    sync = lambda: None  # noqa: E731
    if backend == "opencl":
        from ..runtime.opencl import finish as sync
        x, dy = to_device(x), to_device(dy)
    step = _accel_step(layer, x, dy, input_grad, sync)
    step()
    step()                                           # warm-up: compile, build, first touch
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    total = (time.perf_counter() - start) / repeat
    totals = {}
    with _timed_calls(layer, totals, sync):
        for _ in range(repeat):
            step()
    out = {k: v / repeat for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}
    out["Python and the rest"] = max(total - sum(out.values()), 0.0)
    out["total"] = total
    return out
