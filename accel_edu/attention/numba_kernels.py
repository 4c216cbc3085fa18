"""Numba kernels of attention: the NumPy reference as explicit loops, in two steps.

Each function has the name, signature and output shapes of its twin in ``numpy_kernels.py``
(equations there). The ladder, for both passes:

* ``plain``: materialise the (B, Tq, Tk) score matrix (and, backward, P and dS), then reduce
  over it, as the reference does. Extra memory grows as Tq * Tk.
* ``tiled``: FlashAttention's structure. The forward streams over key blocks of ``BLOCK``
  keys, keeping per query row a running max m, a running sum l and an unnormalised output
  acc; when a block raises the max to m', the old terms are rescaled by exp(m - m'):

      l' = exp(m - m') l + sum_j exp(S_ij - m'),   acc' = exp(m - m') acc + sum_j exp(S_ij - m') v_j

  and at the end out = acc / l, logsumexp = m + log l. The backward is blocked as
  FlashAttention-2's: first D_i = dO_i . O_i per query, then per (batch, key block) task P and
  dS are recomputed for the block from q, k and the saved logsumexp, one query row at a time,
  and summed into the block's dK and dV; a second pass per (batch, query block) recomputes
  them once more for dQ. Each task owns the rows it writes, so no atomics. Extra memory:
  k transposed (O(T d)) and O(BLOCK + e) per thread forward; backward the (B, Tq) D, k and v
  transposed (O(T d)) and a (d + e, BLOCK) accumulator per task; nothing grows as Tq * Tk (attention/memory.py measures
  it). A version that recomputed P per (query, key) pair without blocks, its dot products
  scalar, ran slower than ``plain`` (1.05-1.3x) and was dropped; the blocked one ran 2-5x
  faster than ``plain`` (B*heads 1-4, T 256-2048, d 16-64, on the loaded 2-core machine).

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
@njit(cache=True, fastmath=False)
def _dot_strip(qi, kt, j0, n, s):
    """s[:n] = q_i . k_j for the n keys j0..j0+n-1, from kt = k transposed (d, Tk):
    a sum of contiguous rows, q_ic * kt[c, j0:j0+n], which vectorises over the keys (a dot
    product per key would be a reduction, which fastmath=False keeps scalar)."""
    for jj in range(n):
        s[jj] = 0
    for c in range(qi.shape[0]):
        row, qc = kt[c, j0:j0 + n], qi[c]
        for jj in range(n):
            s[jj] += qc * row[jj]


@njit(parallel=True, cache=True, fastmath=False)
def _forward_tiled(q, k, v, causal, scale, block):
    bsz, tq, _ = q.shape
    tk, e = k.shape[1], v.shape[2]
    out = np.empty((bsz, tq, e), q.dtype)
    lse = np.empty((bsz, tq), q.dtype)
    kt = np.ascontiguousarray(k.transpose(0, 2, 1))   # (B, d, Tk): O(T d), like k itself
    for r in prange(bsz * tq):
        b, i = r // tq, r % tq
        n = _visible(i, tk, causal)
        s = np.empty(block, q.dtype)           # one block's scores: the only score storage
        acc = np.zeros(e, q.dtype)
        m = scale * _dot(q[b, i], k[b, 0])     # any score is a safe first max
        total = m - m
        for start in range(0, n, block):
            width = min(block, n - start)
            _dot_strip(q[b, i], kt[b], start, width, s)
            block_max = m
            for jj in range(width):
                s[jj] *= scale
                block_max = max(block_max, s[jj])
            rescale = np.exp(m - block_max)    # 1 when the max did not move
            total *= rescale
            acc *= rescale
            m = block_max
            for jj in range(width):
                w = np.exp(s[jj] - m)
                total += w
                acc += w * v[b, start + jj, :]
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
    """As ``attention_forward_plain``, never holding more than BLOCK scores per row (and k
    transposed, (B, d, Tk))."""
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


# -- backward, step 2: blocked, FlashAttention-2's structure ---------------------------------
@njit(cache=True, fastmath=False)
def _block_probabilities(qi, doi, kt, vt, j0, n, lse_i, delta_i, scale, p, ds):
    """One query row against keys j0..j0+n-1:  p = P_i,j0:j0+n,  ds = dS_i,j0:j0+n.   (n,)
    kt (d, Tk), vt (e, Tk): k and v transposed, so both strips vectorise."""
    _dot_strip(qi, kt, j0, n, p)
    _dot_strip(doi, vt, j0, n, ds)             # dP_ij = dO_i . v_j
    for jj in range(n):
        p[jj] = np.exp(scale * p[jj] - lse_i)  # P recomputed from the saved logsumexp
        ds[jj] = p[jj] * (ds[jj] - delta_i)    # dS = P (dP - D)


@njit(cache=True, fastmath=False)
def _keys_seen(i, j0, w, causal):
    """How many of the block's w keys j0..j0+w-1 query row i sees (<= 0: none)."""
    return min(w, i + 1 - j0) if causal else w


@njit(parallel=True, cache=True, fastmath=False)
def _backward_blocked(dout, q, k, v, out, lse, causal, scale, block):
    bsz, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    delta = np.empty((bsz, tq), q.dtype)       # D_i = dO_i . O_i: O(T), not O(T^2)
    for r in prange(bsz * tq):
        delta[r // tq, r % tq] = _dot(dout[r // tq, r % tq], out[r // tq, r % tq])
    kt = np.ascontiguousarray(k.transpose(0, 2, 1))   # (B, d, Tk): O(T d) extra, like k itself
    vt = np.ascontiguousarray(v.transpose(0, 2, 1))   # (B, e, Tk)
    dq = np.zeros((bsz, tq, d), q.dtype)
    dk = np.empty((bsz, tk, d), q.dtype)
    dv = np.empty((bsz, tk, e), q.dtype)
    n_blocks = (tk + block - 1) // block

    # dK, dV: one task per (batch, key block). The task owns its block's dK and dV rows, so no
    # two threads write the same number and nothing needs atomics; it walks every query row
    # that sees the block, its keys staying in cache, and sums into a (d, block) accumulator.
    for task in prange(bsz * n_blocks):
        b, j0 = task // n_blocks, (task % n_blocks) * block
        w = min(block, tk - j0)
        p, ds = np.empty(block, q.dtype), np.empty(block, q.dtype)
        dkt, dvt = np.zeros((d, block), q.dtype), np.zeros((e, block), q.dtype)
        for i in range(j0 if causal else 0, tq):
            n = _keys_seen(i, j0, w, causal)
            _block_probabilities(q[b, i], dout[b, i], kt[b], vt[b], j0, n, lse[b, i], delta[b, i],
                                 scale, p, ds)
            for c in range(e):                 # dV_j += P_ij dO_i
                row, dc = dvt[c], dout[b, i, c]
                for jj in range(n):
                    row[jj] += dc * p[jj]
            for c in range(d):                 # dK_j += dS_ij q_i  (times scale below)
                row, qc = dkt[c], q[b, i, c]
                for jj in range(n):
                    row[jj] += qc * ds[jj]
        for jj in range(w):
            for c in range(d):
                dk[b, j0 + jj, c] = scale * dkt[c, jj]
            for c in range(e):
                dv[b, j0 + jj, c] = dvt[c, jj]

    # dQ: one task per (batch, query block), which owns those rows of dQ. Key blocks outside,
    # query rows inside, so each key block stays in cache while the block's rows use it. It
    # recomputes P and dS a second time: the price of needing no atomics (FlashAttention-2
    # instead adds dQ atomically from the key-block tasks, which a CPU would serialise).
    n_query_blocks = (tq + block - 1) // block
    for task in prange(bsz * n_query_blocks):
        b, i0 = task // n_query_blocks, (task % n_query_blocks) * block
        i1 = min(i0 + block, tq)
        p, ds = np.empty(block, q.dtype), np.empty(block, q.dtype)
        for j0 in range(0, i1 if causal else tk, block):
            w = min(block, tk - j0)
            for i in range(i0, i1):
                n = _keys_seen(i, j0, w, causal)
                if n <= 0:
                    continue
                _block_probabilities(q[b, i], dout[b, i], kt[b], vt[b], j0, n, lse[b, i],
                                     delta[b, i], scale, p, ds)
                dqi = dq[b, i]
                for jj in range(n):            # dQ_i += dS_ij k_j, a contiguous row of k
                    kj, dsj = k[b, j0 + jj], ds[jj]
                    for c in range(d):
                        dqi[c] += dsj * kj[c]
        for i in range(i0, i1):
            for c in range(d):
                dq[b, i, c] *= scale
    return dq, dk, dv


def attention_backward_plain(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """dout, out (B, Tq, e), q (B, Tq, d), k (B, Tk, d), v (B, Tk, e), logsumexp (B, Tq)
    -> dq (B, Tq, d), dk (B, Tk, d), dv (B, Tk, e), through the stored (Tq, Tk) P and dS."""
    return _backward_plain(dout, q, k, v, out, logsumexp, bool(causal), _scalar(q, scale))


def attention_backward_tiled(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """As ``attention_backward_plain``, blocked over BLOCK keys and BLOCK queries, recomputing
    P from the logsumexp: O(T d) extra memory (k, v transposed, D), never (Tq, Tk)."""
    return _backward_blocked(dout, q, k, v, out, logsumexp, bool(causal), _scalar(q, scale), BLOCK)
