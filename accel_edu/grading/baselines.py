"""What speed parts are measured against: the first loop nest anyone writes (one per speed part).

``gemm_naive`` is C = A @ B with the loops in textbook order i, j, p. Its innermost loop
walks down a column of B, a stride of N floats per step, so nearly every load misses the cache
line the previous one brought in. Reordering the loops so the innermost one runs along rows
is the first speed-up the backprop exercises ask for.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, fastmath=False)
def gemm_naive(a, b):
    """a: (M, K) float32, b: (K, N) float32  ->  (M, N) float32, by three plain loops."""
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=np.float32)
    for i in range(m):
        for j in range(n):
            acc = np.float32(0.0)
            for p in range(k):
                acc += a[i, p] * b[p, j]
            c[i, j] = acc
    return c


@njit(cache=True, fastmath=False)
def conv2d_naive(x, w, b):
    """x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) float32  ->  y: (N, C_out, OH, OW),
    stride 1, no padding, by seven plain loops.

    One output pixel at a time: its innermost loop is only kw long, so the compiler has
    nothing to vectorise, and each pixel walks C_in*kh*kw scattered inputs. The fast version
    keeps a weight in a register and sweeps a whole output row with it.
    """
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    y = np.empty((n, c_out, oh, ow), dtype=np.float32)
    for i in range(n):
        for o in range(c_out):
            for r in range(oh):
                for s in range(ow):
                    acc = b[o]
                    for c in range(c_in):
                        for p in range(kh):
                            for q in range(kw):
                                acc += w[o, c, p, q] * x[i, c, r + p, s + q]
                    y[i, o, r, s] = acc
    return y


@njit(cache=True, fastmath=False)
def attention_naive(q, k, v, causal):
    """q: (B, Tq, d), k: (B, Tk, d), v: (B, Tk, e) float32, causal: bool  ->  out (B, Tq, e):
    softmax(q k^T / sqrt(d), future masked) v, in three passes as the formula reads.

    It materialises the whole (B, Tq, Tk) score matrix, scores the masked keys too before
    overwriting them, and its last loop nest walks down columns of v (a stride of e floats).
    The fused version keeps one query's scores in a short row and sweeps rows of v instead.
    """
    b, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    scale = np.float32(1.0 / math.sqrt(d))
    s = np.empty((b, tq, tk), dtype=np.float32)
    for n in range(b):                       # pass 1: every score
        for i in range(tq):
            for j in range(tk):
                acc = np.float32(0.0)
                for p in range(d):
                    acc += q[n, i, p] * k[n, j, p]
                s[n, i, j] = -np.inf if causal and j > i else acc * scale
    for n in range(b):                       # pass 2: softmax of each row, in place
        for i in range(tq):
            m = s[n, i, 0]
            for j in range(tk):
                m = max(m, s[n, i, j])
            total = np.float32(0.0)
            for j in range(tk):
                s[n, i, j] = np.exp(s[n, i, j] - m)
                total += s[n, i, j]
            for j in range(tk):
                s[n, i, j] /= total
    out = np.zeros((b, tq, e), dtype=np.float32)
    for n in range(b):                       # pass 3: out = P v, one output element at a time
        for i in range(tq):
            for c in range(e):
                acc = np.float32(0.0)
                for j in range(tk):
                    acc += s[n, i, j] * v[n, j, c]
                out[n, i, c] = acc
    return out


# The hardware exercises' triads and OpenCL host code (trusted_runner.py dispatches by name here).
from .baselines_hardware import opencl_triad_check, opencl_triad_timing, triad_sweeps  # noqa: E402,F401
from .baselines_compression import int8_gemm_naive  # noqa: E402,F401  (07_compression, Part 8)
