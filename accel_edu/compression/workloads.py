"""Benchmark inputs for the compression kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`).

    quantize family   (N, 1024) float tensors of 64 Ki, 1 Mi, 16 Mi numbers, per-channel (N) scales
    int8_gemm         square n x n int8, n = 128, 512, 1024, int32 output with a bias
    CSR               a 90% sparse (M, K) matrix, M = K = 1024, 4096, 8192, times x (K,) or B (K, 64)
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from ..runtime.workloads import pick, rand, rows

DENSITY = 0.1      # 90% of the weights pruned
SPMM_COLUMNS = 64


def _qparams(rng, channels, dtype):
    return rng.uniform(0.01, 0.1, channels).astype(dtype), rng.integers(-20, 20, channels).astype(np.int32)


def quantize_int8(rng, dtype, size):
    shape = rows(size)
    return Case(f"x {shape}, per channel", (rand(rng, shape, dtype), *_qparams(rng, shape[0], dtype)))


def dequantize_int8(rng, dtype, size):
    shape = rows(size)
    q = rng.integers(-128, 128, shape).astype(np.int8)
    return Case(f"q {shape}, per channel", (q, *_qparams(rng, shape[0], dtype)))


def fake_quantize_backward(rng, dtype, size):
    shape = rows(size)
    return Case(f"x {shape}, per channel", (rand(rng, shape, dtype), rand(rng, shape, dtype),
                                            *_qparams(rng, shape[0], dtype)))


def int8_gemm(rng, dtype, size):
    n = pick(size, 128, 512, 1024)
    a, b = (rng.integers(-128, 128, (n, n)).astype(np.int8) for _ in range(2))
    return Case(f"n={n}, int32 with bias", (a, b, 3, rng.integers(-5000, 5000, n).astype(np.int32)))


def _csr(rng, dtype, size):
    """A random (M, M) CSR matrix at DENSITY, sampled 1024 rows at a time (never all of it dense)."""
    m = pick(size, 1024, 4096, 8192)
    counts, indices = [], []
    for start in range(0, m, 1024):
        keep = rng.random((min(1024, m - start), m)) < DENSITY
        rows_, cols = np.nonzero(keep)                      # row-major: sorted within each row
        counts.append(np.bincount(rows_, minlength=keep.shape[0]))
        indices.append(cols.astype(np.int32))
    indptr = np.zeros(m + 1, np.int32)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return m, indptr, np.concatenate(indices), rand(rng, int(indptr[-1]), dtype)


def csr_spmv(rng, dtype, size):
    m, indptr, indices, data = _csr(rng, dtype, size)
    return Case(f"{m} x {m}, {DENSITY:.0%} dense", (indptr, indices, data, rand(rng, m, dtype)))


def csr_spmm(rng, dtype, size):
    m, indptr, indices, data = _csr(rng, dtype, size)
    return Case(f"{m} x {m}, {DENSITY:.0%} dense, N = {SPMM_COLUMNS}",
                (indptr, indices, data, rand(rng, (m, SPMM_COLUMNS), dtype)))


WORKLOADS = {
    "quantize_int8": quantize_int8, "dequantize_int8": dequantize_int8, "fake_quantize_forward": quantize_int8,
    "fake_quantize_backward": fake_quantize_backward, "int8_gemm": int8_gemm, "csr_spmv": csr_spmv,
    "csr_spmm": csr_spmm,
}
