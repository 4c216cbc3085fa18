"""What speed parts are measured against: the first loop nest anyone writes (one per speed part).

``gemm_naive`` is C = A @ B with the loops in textbook order i, j, p. Its innermost loop
walks down a column of B, a stride of N floats per step, so nearly every load misses the cache
line the previous one brought in. Reordering the loops so the innermost one runs along rows
is the first speed-up the backprop exercises ask for.
"""
from __future__ import annotations

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
