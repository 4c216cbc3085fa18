"""``accel-edu bench attention``: scaled dot-product attention's forward + backward on every
backend and variant, side by side with PyTorch's ``scaled_dot_product_attention`` on the CPU.

One call is a forward (out and the logsumexp) and a backward (dq, dk, dv) of float32 q, k, v
(B, T, d), B = batch * heads, causal or not. Rows:

    numpy   reference   numpy_kernels: batched matmuls through the (T, T) scores (OpenBLAS)
    numba   plain       the (T, T) scores, P and dS materialised
    numba   tiled       online-softmax forward, FlashAttention-2-style blocked backward
    opencl  plain / tiled   the same two steps in attention.cl (PoCL's CPU device here)
    torch   sdpa        torch.nn.functional.scaled_dot_product_attention + .backward(), as many
                        threads as Numba, if PyTorch is installed

Each record: kernel, backend, variant, shape [B, T, T, d, d], T, causal, median_s, gflops,
ratio_to_torch (PyTorch's time over this one, from the same rounds: above 1 is faster than
PyTorch; None without PyTorch). GFLOP/s counts the six matrix products attention needs, with
no recomputation: 2 (S = q k^T, O = P v) forward and 4 (dV, dP, dQ, dK) backward, each 2 d
flops per (query, key) pair it sees, so 12 d per pair, T (T + 1) / 2 pairs per batch entry
when causal. The tiled backward does more (it recomputes S), so its figure is the rate of
useful work, as FlashAttention's papers count it.
"""
from __future__ import annotations

import numpy as np

from ..runtime import available_backends, to_device
from .timing import interleaved_medians, torch_on_numbas_threads

DEFAULT_LENGTHS = (256, 1024)
SLOW_VARIANTS = {("opencl", "plain"): 1024, ("numba", "plain"): 2048}
"""Versions that take seconds per call from this T on: timed there only with include_slow."""


def attention_flops(batch: int, t: int, d: int, causal: bool) -> float:
    """Forward + backward: six products of 2 d flops per visible (query, key) pair."""
    pairs = batch * (t * (t + 1) / 2 if causal else t * t)
    return 6 * 2.0 * d * pairs


def _step(forward, backward, q, k, v, dout, causal):
    def run():
        out, lse = forward(q, k, v, causal)
        backward(dout, q, k, v, out, lse, causal)
    return run


def _torch_step(q, k, v, dout, causal):
    import torch
    torch_on_numbas_threads(torch)
    tq, tk, tv = (torch.from_numpy(a).requires_grad_() for a in (q, k, v))
    tdout = torch.from_numpy(dout)

    def run():
        tq.grad = tk.grad = tv.grad = None
        torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal).backward(tdout)
    return run


def attention_candidates(t: int, backends, *, batch=4, d=64, causal=False, include_slow=False,
                         seed=0) -> dict:
    """{(backend, variant): (fn, sync)}: one forward + backward of (batch, t, d) each."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    from ..attention import kernels as K
    rng = np.random.default_rng(seed)
    q, k, v, dout = (rng.standard_normal((batch, t, d)).astype(np.float32) for _ in range(4))
    have = available_backends()
    candidates = {}
    for backend in backends:
        if backend == "torch" or not have[backend]:
            continue
        sync, args = None, (q, k, v, dout)
        if backend == "opencl":
            from ..runtime.opencl import finish
            sync, args = finish, tuple(to_device(a) for a in args)   # data already on the device
        for variant in K.attention_forward.variants(backend):
            slow_from = SLOW_VARIANTS.get((backend, variant))
            if slow_from is not None and t >= slow_from and not include_slow:
                continue
            label = "reference" if backend == "numpy" else variant
            candidates[(backend, label)] = (_step(K.attention_forward.implementation(backend, variant),
                                                  K.attention_backward.implementation(backend, variant),
                                                  *args, causal), sync)
    if "torch" in backends:
        try:
            candidates[("torch", "sdpa")] = (_torch_step(q, k, v, dout, causal), None)
        except ImportError:
            pass
    return candidates


def attention_records(lengths=DEFAULT_LENGTHS, backends=("numpy", "numba", "opencl", "torch"), *,
                      batch=4, d=64, causal=False, repeat=5, include_slow=False, progress=None):
    """Yield one record per (T, backend, variant): forward + backward, float32."""
    for t in lengths:
        if not isinstance(t, int) or t < 1:
            raise ValueError(f"lengths must be positive integers; got {t!r}")
    for t in lengths:
        candidates = attention_candidates(t, backends, batch=batch, d=d, causal=causal,
                                          include_slow=include_slow)
        times = interleaved_medians(candidates, repeat=repeat, min_seconds=0.05)
        flops = attention_flops(batch, t, d, causal)
        torch_s = times.get(("torch", "sdpa"))
        for (backend, variant), seconds in times.items():
            yield {"kernel": "attention", "backend": backend, "variant": variant,
                   "shape": [batch, t, t, d, d], "T": t, "causal": bool(causal), "median_s": seconds,
                   "gflops": flops / seconds / 1e9,
                   "ratio_to_torch": torch_s / seconds if torch_s else None}
        del candidates
        if progress is not None:
            progress.update()
