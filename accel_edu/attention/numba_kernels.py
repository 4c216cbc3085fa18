"""Numba kernels of attention: the NumPy reference as explicit loops, in two steps.

Each function has the name, signature and output shapes of its twin in ``numpy_kernels.py``
(equations there). The ladder, for both passes:

* ``plain``: materialise the (B, Tq, Tk) score matrix (and, backward, P and dS), then reduce
  over it, as the reference does. Extra memory grows as Tq * Tk.
* ``tiled``: FlashAttention's structure. The forward streams over key blocks of ``BLOCK``
  keys, keeping per query row a running max m, a running sum l and an unnormalised output
  acc; when a block raises the max to m', the old terms are rescaled by exp(m - m'):

      l' = exp(m - m') l + sum_j exp(S_ij - m'),   acc' = exp(m - m') acc + sum_j exp(S_ij - m') v_j

  and at the end out = acc / l, logsumexp = m + log l. The backward recomputes each P_ij from
  the saved logsumexp instead of storing P: one pass over query rows for dQ, one over key rows
  for dK and dV (each key row sums over the queries, so no two threads write the same row).
  Extra memory: O(BLOCK + e) per thread forward, and the (B, Tq) D_i = dO_i . O_i backward;
  nothing grows as Tq * Tk (tests/test_attention_memory.py measures it).

Rows run in parallel (``prange``); loops over a row's contiguous slice vectorise. Inputs
arrive C-contiguous (the registry copies strided views).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .numpy_kernels import default_scale

LADDERS = {"attention_forward": ["plain", "tiled"], "attention_backward": ["plain", "tiled"]}
BLOCK = 32  # keys per tile: the block's scores fit in a few cache lines


@njit(cache=True, fastmath=False)
def _dot(a, b):
    """a . b for two 1-D contiguous rows, accumulated in their dtype."""
    acc = a[0] * b[0]
    for c in range(1, a.shape[0]):
        acc += a[c] * b[c]
    return acc


@njit(cache=True, fastmath=False)
def _visible(i, tk, causal):
    """How many keys query row i sees: 0..i when causal, all of them otherwise."""
    return i + 1 if causal else tk


# -- forward, step 1: the full score matrix ---------------------------------------------------
@njit(parallel=True, cache=True, fastmath=False)
def _forward_plain(q, k, v, causal, scale):
    bsz, tq, _ = q.shape
    tk, e = k.shape[1], v.shape[2]
    p = np.zeros((bsz, tq, tk), q.dtype)       # the (Tq, Tk) matrix the tiled version avoids
    out = np.zeros((bsz, tq, e), q.dtype)
    lse = np.empty((bsz, tq), q.dtype)
    for r in prange(bsz * tq):
        b, i = r // tq, r % tq
        n = _visible(i, tk, causal)
        m = scale * _dot(q[b, i], k[b, 0])
        for j in range(n):
            p[b, i, j] = scale * _dot(q[b, i], k[b, j])
            m = max(m, p[b, i, j])
        total = p[b, i, 0] - p[b, i, 0]
        for j in range(n):
            p[b, i, j] = np.exp(p[b, i, j] - m)
            total += p[b, i, j]
            out[b, i, :] += p[b, i, j] * v[b, j, :]
        out[b, i, :] /= total
        lse[b, i] = m + np.log(total)
    return out, lse


# -- forward, step 2: online softmax over key blocks ------------------------------------------
@njit(parallel=True, cache=True, fastmath=False)
def _forward_tiled(q, k, v, causal, scale, block):
    bsz, tq, _ = q.shape
    tk, e = k.shape[1], v.shape[2]
    out = np.empty((bsz, tq, e), q.dtype)
    lse = np.empty((bsz, tq), q.dtype)
    for r in prange(bsz * tq):
        b, i = r // tq, r % tq
        n = _visible(i, tk, causal)
        s = np.empty(block, q.dtype)           # one block's scores: the only score storage
        acc = np.zeros(e, q.dtype)
        m = scale * _dot(q[b, i], k[b, 0])     # any score is a safe first max
        total = m - m
        for start in range(0, n, block):
            stop = min(start + block, n)
            block_max = m
            for j in range(start, stop):
                s[j - start] = scale * _dot(q[b, i], k[b, j])
                block_max = max(block_max, s[j - start])
            rescale = np.exp(m - block_max)    # 1 when the max did not move
            total *= rescale
            acc *= rescale
            m = block_max
            for j in range(start, stop):
                w = np.exp(s[j - start] - m)
                total += w
                acc += w * v[b, j, :]
        out[b, i, :] = acc / total
        lse[b, i] = m + np.log(total)
    return out, lse


def _scalar(q, scale):
    """The scale in q's dtype, so float32 loops stay float32."""
    return q.dtype.type(default_scale(q.shape[2], scale))


def attention_forward_plain(q, k, v, causal=False, scale=None):
    """q (B, Tq, d), k (B, Tk, d), v (B, Tk, e) -> out (B, Tq, e), logsumexp (B, Tq)"""
    return _forward_plain(q, k, v, bool(causal), _scalar(q, scale))


def attention_forward_tiled(q, k, v, causal=False, scale=None):
    """As ``attention_forward_plain``, never holding more than BLOCK scores per row."""
    return _forward_tiled(q, k, v, bool(causal), _scalar(q, scale), BLOCK)


# -- backward, step 1: P and dS materialised --------------------------------------------------
@njit(parallel=True, cache=True, fastmath=False)
def _backward_plain(dout, q, k, v, out, lse, causal, scale):
    bsz, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    p = np.zeros((bsz, tq, tk), q.dtype)
    ds = np.zeros((bsz, tq, tk), q.dtype)
    dq = np.zeros((bsz, tq, d), q.dtype)
    dk = np.zeros((bsz, tk, d), q.dtype)
    dv = np.zeros((bsz, tk, e), q.dtype)
    for r in prange(bsz * tq):                 # rows of P and dS, then dQ_i
        b, i = r // tq, r % tq
        delta = _dot(dout[b, i], out[b, i])
        for j in range(_visible(i, tk, causal)):
            p[b, i, j] = np.exp(scale * _dot(q[b, i], k[b, j]) - lse[b, i])
            ds[b, i, j] = p[b, i, j] * (_dot(dout[b, i], v[b, j]) - delta)
            dq[b, i, :] += ds[b, i, j] * k[b, j, :]
        dq[b, i, :] *= scale
    for r in prange(bsz * tk):                 # columns of P and dS: dK_j, dV_j
        b, j = r // tk, r % tk
        for i in range(j if causal else 0, tq):
            dv[b, j, :] += p[b, i, j] * dout[b, i, :]
            dk[b, j, :] += ds[b, i, j] * q[b, i, :]
        dk[b, j, :] *= scale
    return dq, dk, dv


# -- backward, step 2: recompute each P_ij from the logsumexp where it is needed ---------------
@njit(parallel=True, cache=True, fastmath=False)
def _backward_tiled(dout, q, k, v, out, lse, causal, scale):
    bsz, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    dq = np.zeros((bsz, tq, d), q.dtype)
    dk = np.zeros((bsz, tk, d), q.dtype)
    dv = np.zeros((bsz, tk, e), q.dtype)
    delta = np.empty((bsz, tq), q.dtype)       # D_i = dO_i . O_i: O(T), not O(T^2)
    for r in prange(bsz * tq):
        b, i = r // tq, r % tq
        delta[b, i] = _dot(dout[b, i], out[b, i])
        for j in range(_visible(i, tk, causal)):
            p = np.exp(scale * _dot(q[b, i], k[b, j]) - lse[b, i])
            dq[b, i, :] += (p * (_dot(dout[b, i], v[b, j]) - delta[b, i])) * k[b, j, :]
        dq[b, i, :] *= scale
    for r in prange(bsz * tk):
        b, j = r // tk, r % tk
        for i in range(j if causal else 0, tq):
            p = np.exp(scale * _dot(q[b, i], k[b, j]) - lse[b, i])
            dv[b, j, :] += p * dout[b, i, :]
            dk[b, j, :] += (p * (_dot(dout[b, i], v[b, j]) - delta[b, i])) * q[b, i, :]
        dk[b, j, :] *= scale
    return dq, dk, dv


def attention_backward_plain(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """dout, out (B, Tq, e), q (B, Tq, d), k (B, Tk, d), v (B, Tk, e), logsumexp (B, Tq)
    -> dq (B, Tq, d), dk (B, Tk, d), dv (B, Tk, e), through the stored (Tq, Tk) P and dS."""
    return _backward_plain(dout, q, k, v, out, logsumexp, bool(causal), _scalar(q, scale))


def attention_backward_tiled(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """As ``attention_backward_plain``, recomputing P_ij where it is needed (O(T) extra memory)."""
    return _backward_tiled(dout, q, k, v, out, logsumexp, bool(causal), _scalar(q, scale))
