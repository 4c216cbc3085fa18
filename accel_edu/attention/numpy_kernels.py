"""The NumPy reference of scaled dot-product attention: short, vectorised, obviously right.

Shapes: q (B, Tq, d), k (B, Tk, d), v (B, Tk, e); B is batch * heads. For each batch entry,
query row i and key row j (s = scale, 1/sqrt(d) by default):

    S_ij = s * q_i . k_j                                     scores,        (Tq, Tk)
    S_ij = -inf  where causal and j > i                      query i sees keys 0..i
    L_i  = log sum_j exp(S_ij)                               the logsumexp, (Tq,)
    P_ij = exp(S_ij - L_i)                                   softmax rows,  (Tq, Tk)
    O_i  = sum_j P_ij v_j                                    the output,    (Tq, e)

The backward pass recomputes P from the saved L, as FlashAttention does, so the forward keeps
only O and L (O(T) numbers per row, not the (Tq, Tk) matrix P). With dO the upstream gradient:

    dV_j  = sum_i P_ij dO_i                                  (Tk, e)
    dP_ij = dO_i . v_j                                       (Tq, Tk)
    D_i   = sum_j P_ij dP_ij = dO_i . O_i                    (Tq,)
    dS_ij = P_ij (dP_ij - D_i)                               the softmax's backward
    dQ_i  = s * sum_j dS_ij k_j,    dK_j = s * sum_i dS_ij q_i
"""
from __future__ import annotations

import numpy as np


def default_scale(d: int, scale=None) -> float:
    """1/sqrt(d) unless a scale is given: it keeps the scores' variance ~1 for unit q, k."""
    return 1.0 / np.sqrt(d) if scale is None else float(scale)


def _scores(q, k, causal, scale):
    """S = scale * q @ k^T with the future masked to -inf.   (B, Tq, Tk)"""
    s = np.matmul(q, np.swapaxes(k, 1, 2)) * q.dtype.type(scale)
    if causal:
        tq, tk = s.shape[1:]
        s = np.where(np.arange(tk)[None, :] > np.arange(tq)[:, None], -np.inf, s).astype(q.dtype)
    return s


def attention_forward(q, k, v, causal=False, scale=None):
    """Scaled dot-product attention.

    q: (B, Tq, d), k: (B, Tk, d), v: (B, Tk, e)  ->  out (B, Tq, e), logsumexp (B, Tq)
    out = softmax(scale * q k^T [masked]) v, logsumexp_i = log sum_j exp(S_ij). The softmax
    subtracts each row's max m_i first, L_i = m_i + log sum_j exp(S_ij - m_i), so exp never
    overflows (every exponent is <= 0) and at least one term is exp(0) = 1.
    """
    scale = default_scale(q.shape[2], scale)
    s = _scores(q, k, causal, scale)
    m = np.max(s, axis=2, keepdims=True)      # finite: key 0 is never masked
    p = np.exp(s - m)
    total = np.sum(p, axis=2, keepdims=True)
    out = np.matmul(p / total, v)
    lse = (m + np.log(total))[..., 0]
    return out.astype(q.dtype), lse.astype(q.dtype)


def attention_backward(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """Gradients of scaled dot-product attention, from the forward's out and logsumexp.

    dout, out: (B, Tq, e), q: (B, Tq, d), k: (B, Tk, d), v: (B, Tk, e), logsumexp: (B, Tq)
    ->  dq (B, Tq, d), dk (B, Tk, d), dv (B, Tk, e). Equations in the module docstring.
    """
    scale = default_scale(q.shape[2], scale)
    p = np.exp(_scores(q, k, causal, scale) - logsumexp[..., None])   # masked: exp(-inf) = 0
    dv = np.matmul(np.swapaxes(p, 1, 2), dout)
    dp = np.matmul(dout, np.swapaxes(v, 1, 2))
    delta = np.sum(dout * out, axis=2, keepdims=True)
    ds = p * (dp - delta)
    dq = np.matmul(ds, k) * q.dtype.type(scale)
    dk = np.matmul(np.swapaxes(ds, 1, 2), q) * q.dtype.type(scale)
    return dq.astype(q.dtype), dk.astype(q.dtype), dv.astype(q.dtype)
