"""FLOPs and compulsory bytes of attention's forward and backward, from their arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``). With B batch-heads,
Tq queries, Tk keys, head dims d (q, k) and e (v), and V visible (query, key) pairs per batch
entry (Tq Tk, or T (T + 1) / 2 when causal), the matrix products cost 2 d or 2 e per visible
pair; masked pairs are not counted, and neither is the backward's recomputation of the scores
beyond what the equations in ``numpy_kernels.py`` need.
"""
from __future__ import annotations

from ..runtime.costs import nbytes, shape_bytes


def visible_pairs(tq: int, tk: int, causal: bool) -> int:
    """(query, key) pairs that take part: all of them, or query i with keys 0..i when causal."""
    return tq * (tq + 1) // 2 if causal else tq * tk


def attention_forward_flops(q, k, v, causal=False, scale=None):
    """Per visible pair: q.k (2 d), scale (1), the row max (1), subtract (1), exp (1), sum (1),
    p v (2 e); per query row: the division of out by the sum (e) and the logsumexp (2)."""
    b, tq, d = q.shape
    e = v.shape[2]
    pairs = b * visible_pairs(tq, k.shape[1], causal)
    return pairs * (2.0 * d + 2.0 * e + 5.0) + b * tq * (e + 2.0)


def attention_forward_bytes(q, k, v, causal=False, scale=None):
    """Read q, k, v; write out (B, Tq, e) and logsumexp (B, Tq). The (Tq, Tk) scores are not
    compulsory (the tiled version never stores them)."""
    b, tq, _ = q.shape
    return nbytes(q, k, v) + shape_bytes((b, tq, v.shape[2]), q.dtype) + shape_bytes((b, tq), q.dtype)


def attention_backward_flops(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """Per visible pair: scores again (2 d), P = exp(scale s - lse) (3), dv += p dout (2 e),
    dp = dout.v (2 e), ds = p (dp - delta) (2), dq += ds k (2 d), dk += ds q (2 d);
    per query row delta = dout.out (2 e) and dq's scale (d); per key row dk's scale (d)."""
    b, tq, d = q.shape
    tk, e = v.shape[1:]
    pairs = b * visible_pairs(tq, tk, causal)
    return pairs * (6.0 * d + 4.0 * e + 5.0) + b * tq * (2.0 * e + d) + b * tk * d


def attention_backward_bytes(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """Read dout, q, k, v, out, logsumexp; write dq (like q), dk (like k), dv (like v)."""
    return nbytes(dout, q, k, v, out, logsumexp) + nbytes(q, k, v)
