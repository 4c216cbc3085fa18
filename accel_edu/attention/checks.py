"""The argument check of each attention kernel, shared by all three backends.

Shapes: q (B, Tq, d), k (B, Tk, d), v (B, Tk, e), where B is batch * heads (a multi-head
layer folds its heads into the batch), Tq and Tk the query and key sequence lengths.
"""
from __future__ import annotations

import numpy as np

from ..runtime.checks import check_array, check_same_dtype, describe


def check_scale(scale):
    if scale is None:
        return
    if (isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, float, np.integer, np.floating))
            or not np.isfinite(scale) or scale <= 0):
        raise ValueError(f"scale must be None (meaning 1/sqrt(d)) or a positive finite number; "
                         f"got {describe(scale)}")


def check_causal(causal, tq, tk):
    if not isinstance(causal, (bool, np.bool_)):
        raise ValueError(f"causal must be True or False; got {describe(causal)}")
    if causal and tq != tk:
        raise ValueError(f"causal attention needs as many queries as keys (query i sees keys "
                         f"0..i); got Tq={tq} and Tk={tk}")


def qkv(q, k, v):
    """q (B, Tq, d), k (B, Tk, d), v (B, Tk, e): one batch, one head dim, one key length."""
    check_array("q", q, ndim=3)
    check_array("k", k, ndim=3)
    check_array("v", v, ndim=3)
    check_same_dtype(q=q, k=k, v=v)
    b, _, d = q.shape
    if k.shape[0] != b or k.shape[2] != d:
        raise ValueError(f"k must have shape ({b}, Tk, {d}), the batch and head dim of q "
                         f"{tuple(q.shape)}; got {tuple(k.shape)}")
    if v.shape[0] != b or v.shape[1] != k.shape[1]:
        raise ValueError(f"v must have shape ({b}, {k.shape[1]}, e), one value per key of k "
                         f"{tuple(k.shape)}; got {tuple(v.shape)}")


def attention_forward(q, k, v, causal=False, scale=None):
    qkv(q, k, v)
    check_causal(causal, q.shape[1], k.shape[1])
    check_scale(scale)


def attention_backward(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    qkv(q, k, v)
    check_causal(causal, q.shape[1], k.shape[1])
    check_scale(scale)
    b, tq, _ = q.shape
    want = (b, tq, v.shape[2])
    for name, x in (("dout", dout), ("out", out)):
        check_array(name, x, ndim=3)
        if tuple(x.shape) != want:
            raise ValueError(f"{name} must have shape {want}, like the forward output; got {tuple(x.shape)}")
    check_array("logsumexp", logsumexp, ndim=2)
    if tuple(logsumexp.shape) != (b, tq):
        raise ValueError(f"logsumexp must have shape ({b}, {tq}), one per query row, as the "
                         f"forward returned it; got {tuple(logsumexp.shape)}")
    check_same_dtype(q=q, dout=dout, out=out, logsumexp=logsumexp)
