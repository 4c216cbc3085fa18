"""What speed parts are measured against: the first loop nest anyone writes.

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
