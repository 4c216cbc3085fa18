"""The speed baseline of the compression exercises (``07_compression``, Part 8): the int8 GEMM as
the formula reads, three plain loops in the textbook order i, j, p.

Its innermost loop walks down a column of b, a stride of N bytes per step, and converts each
int8 to int32 on the way: nothing for the compiler to vectorise. The fast version keeps an
int32 row of sums and sweeps whole rows of b into it. The arithmetic is numpy_kernels.int8_gemm's
to the bit (int32 sums, float32 requantization, rint half to even, clamp).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=False)
def int8_gemm_naive(a, b, a_zero_point, bias, multiplier, out_zero_point):
    """a: int8 (M, K), b: int8 (K, N), bias: int32 (N,), multiplier: float32 (1,) or (N,)
    ->  int8 (M, N): clamp(rint(float32(bias + sum_p (a - a_zero_point) b) * multiplier) + out_zero_point)."""
    m, k = a.shape
    n = b.shape[1]
    out = np.empty((m, n), dtype=np.int8)
    zp = np.int32(a_zero_point)
    per_column = multiplier.size > 1
    for i in range(m):
        for j in range(n):
            acc = np.int32(bias[j])
            for p in range(k):
                acc += (np.int32(a[i, p]) - zp) * np.int32(b[p, j])
            scaled = np.rint(np.float32(acc) * multiplier[j if per_column else 0]) + np.float32(out_zero_point)
            out[i, j] = np.int8(min(max(scaled, np.float32(-128.0)), np.float32(127.0)))
    return out
