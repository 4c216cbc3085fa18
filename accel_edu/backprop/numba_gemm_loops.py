"""GEMM rungs 2 and 4 of the Numba ladder: the loops reordered, then blocked for the cache.

Rungs 1 (``gemm_naive``), 3 (``gemm_parallel``) and 5 (``gemm_blocked``) live in
``numba_kernels.py``, rung 6 (``gemm_vector``) in ``numba_gemm_vector.py``. Both rungs here
take C-contiguous op(A), op(B) from ``_materialise`` (a transposed copy costs O(n^2)), and
sum each element of C in the order p = 0, 1, ..., as rung 1 does.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .numba_kernels import _materialise

BM, BK = 32, 64   # cache blocks: BK whole rows of B (64 x 1024 float32 = 256 KiB at n = 1024,
                  # inside one core's 1 MiB L2) are met by BM rows of C in turn


@njit(cache=True, fastmath=False)
def _gemm_loop_order(a, b):
    m, k = a.shape
    c = np.zeros((m, b.shape[1]), a.dtype)
    for i in range(m):
        c_row = c[i]
        for p in range(k):
            a_ip = a[i, p]
            b_row = b[p]
            for j in range(c_row.shape[0]):  # unit stride in b and c: one SIMD stream
                c_row[j] += a_ip * b_row[j]
    return c


def gemm_loop_order(a, b, trans_a=False, trans_b=False):
    """Step 2, step 1's loops in the order i, p, j:  c[i, :] += a[i, p] * b[p, :].  One thread.

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)

    Changed from step 1: only the loop order. The inner loop walks a row of B and a row of C
    with unit stride, and its iterations are independent (each j its own sum), so LLVM
    vectorises it without reordering any sum: 16 float32 per AVX-512 instruction.
    What is left: every multiply-add loads and stores C, and all of B (4 MiB at n = 1024,
    more than L2) streams in from L3 once per row of C.
    Measured (n = 1024, 2-core Zen 5 shared with other jobs): 10-42 GFLOP/s, 50-100x step 1.
    """
    return _gemm_loop_order(*_materialise(a, b, trans_a, trans_b))


@njit(cache=True, fastmath=False, parallel=True)
def _gemm_cache_blocked(a, b):
    m, k = a.shape
    c = np.zeros((m, b.shape[1]), a.dtype)
    for block in prange((m + BM - 1) // BM):  # a thread owns BM whole rows of C
        for p0 in range(0, k, BK):  # blocks in order of p, so each sum keeps step 1's order
            for i in range(block * BM, min(block * BM + BM, m)):
                c_row = c[i]
                for p in range(p0, min(p0 + BK, k)):  # BK rows of B, met by all BM rows of C
                    a_ip = a[i, p]
                    b_row = b[p]
                    for j in range(c_row.shape[0]):
                        c_row[j] += a_ip * b_row[j]
    return c


def gemm_cache_blocked(a, b, trans_a=False, trans_b=False):
    """Step 4, step 3 with the loop over p cut into blocks of BK rows of B.

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)

    Changed from step 3: a thread takes BM rows of C at a time, and all of them meet one
    block of BK rows of B (256 KiB, in L2) before the next block is read, so B comes from L3
    once per BM rows of C instead of once per row.
    Measured at n = 1024 (2-core Zen 5, shared with other jobs): 0.75-1.25x step 3 side by
    side, 44 GFLOP/s at best (blocks of 16 to 1024 rows, 16 to 256 of p and 128 to 1024
    columns tried, none clearly better). The textbook says cache blocking, and the machine
    says the inner loop was hardly waiting for B: L3 delivers B fast enough, and what bounds
    the loop is loading and storing C, one vector of C per vector multiply-add. Blocking for
    the cache pays once C stops travelling through memory: step 5 keeps it in registers.
    """
    return _gemm_cache_blocked(*_materialise(a, b, trans_a, trans_b))
