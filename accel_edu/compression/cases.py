"""Awkward inputs for the cross-backend check of each compression kernel.

Quantization: one element, odd and prime sizes, a tail past a whole work-group, exact ties
(x = (k + 1/2) scale with a power-of-two scale, where rounding half to even decides), values
far outside the range (the clamp), per tensor and per channel, a non-contiguous view.
int8 GEMM: 1 x 1 x 1, odd sizes, every input at -128 or 127 with the zero point that makes
each product as large as it can be, K = 4099 (sums far past int16's 32,767), transposed and
strided views, bias, multipliers per tensor and per channel, ties in the requantization.
CSR: empty rows, an all-zero matrix, one nonzero, 1 x 1, unsorted and repeated columns.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case


def _qparams(rng, channels, dtype, symmetric):
    scale = rng.uniform(0.01, 0.1, channels).astype(dtype)
    zp = np.zeros(channels, np.int32) if symmetric else rng.integers(-20, 20, channels).astype(np.int32)
    return scale, zp


def _float_tensors(rng, dtype):
    """(label, x, scale, zero_point) for the quantize family."""
    one = lambda s, z: (np.array([s], dtype), np.array([z], np.int32))  # noqa: E731
    yield ("one element", rng.standard_normal(1).astype(dtype), *one(0.05, 3))
    yield ("odd size, per tensor, symmetric", rng.standard_normal(37).astype(dtype), *one(0.02, 0))
    yield ("256 exactly (no tail)", rng.standard_normal(256).astype(dtype), *one(0.03, -7))
    yield ("per channel (5, 7)", rng.standard_normal((5, 7)).astype(dtype), *_qparams(rng, 5, dtype, False))
    yield ("conv weight (3, 2, 3, 3), per channel symmetric", rng.standard_normal((3, 2, 3, 3)).astype(dtype),
           *_qparams(rng, 3, dtype, True))
    yield ("tail past a work-group (3, 300)", rng.standard_normal((3, 300)).astype(dtype),
           *_qparams(rng, 3, dtype, False))
    ties = (rng.integers(-300, 300, 64) + 0.5).astype(dtype) * dtype(0.25)
    yield ("exact ties, scale 1/4 (half to even)", ties, *one(0.25, 1))
    yield ("far outside the range (clamped)", (rng.standard_normal(41) * 100).astype(dtype), *one(0.1, 5))
    wide = rng.standard_normal((4, 18)).astype(dtype)
    yield ("non-contiguous view (4, 9)", wide[:, ::2], *_qparams(rng, 4, dtype, False))


def quantize_int8(rng, dtype):
    for label, x, scale, zp in _float_tensors(rng, dtype):
        yield Case(label, (x, scale, zp))


fake_quantize_forward = quantize_int8


def dequantize_int8(rng, dtype):
    for label, x, scale, zp in _float_tensors(rng, dtype):
        q = rng.integers(-128, 128, x.shape).astype(np.int8)
        q.reshape(-1)[:2] = (-128, 127)[:q.size]
        yield Case(label, (q, scale, zp))


def fake_quantize_backward(rng, dtype):
    for label, x, scale, zp in _float_tensors(rng, dtype):
        dy = rng.standard_normal(x.shape).astype(dtype)
        yield Case(label, (dy, x, scale, zp))


def _int8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def int8_gemm(rng, dtype):
    """(a, b) geometries, each with int32 output and with requantization."""
    cases = [("1 x 1 x 1", _int8(rng, (1, 1)), _int8(rng, (1, 1)), 0),
             ("odd sizes 7 x 13 x 5", _int8(rng, (7, 13)), _int8(rng, (13, 5)), 3),
             ("M = 9 (rows tail), N = 129 (columns tail)", _int8(rng, (9, 11)), _int8(rng, (11, 129)), -5)]
    extreme_a = np.full((5, 4099), 127, np.int8)
    extreme_a[1] = -128
    extreme_b = np.where(rng.random((4099, 3)) < 0.5, -128, 127).astype(np.int8)
    cases.append(("K = 4099 at -128/127, a_zero_point -128 (sums past int16)", extreme_a, extreme_b, -128))
    wide_a, b_t = _int8(rng, (6, 34)), _int8(rng, (70, 17))
    cases.append(("strided a, transposed b", wide_a[:, ::2], b_t.T, 7))
    for label, a, b, zp in cases:
        n = b.shape[1]
        yield Case(label + ", int32", (a, b, zp))
        bias = rng.integers(-5000, 5000, n).astype(np.int32)
        yield Case(label + ", bias, int32", (a, b, zp, bias))
        per_tensor = np.array([rng.uniform(1e-4, 1e-2)], np.float32)
        yield Case(label + ", per-tensor multiplier", (a, b, zp, bias, per_tensor, 4))
        per_channel = rng.uniform(1e-4, 1e-2, n).astype(np.float32)
        yield Case(label + ", per-channel multiplier", (a, b, zp, None, per_channel, -3))
    # acc * 0.5 with odd acc is exactly k + 1/2: rint must pick the even neighbour.
    a, b = _int8(rng, (4, 3)), _int8(rng, (3, 64))
    yield Case("ties: multiplier 1/2", (a, b, 0, None, np.array([0.5], np.float32), 0))
    yield Case("saturation: multiplier 1", (a, b, 0, None, np.array([1.0], np.float32), 100))


def _csr(dense):
    rows, cols = np.nonzero(dense)
    indptr = np.zeros(dense.shape[0] + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
    return indptr, cols.astype(np.int32), dense[rows, cols]


def _sparse_matrices(rng, dtype):
    """(label, indptr, indices, data, K)."""
    def sparse(m, k, density):
        return np.where(rng.random((m, k)) < density, rng.standard_normal((m, k)), 0).astype(dtype)

    yield ("1 x 1", *_csr(np.array([[2.5]], dtype)), 1)
    yield ("one nonzero in 6 x 5", *_csr(np.eye(6, 5, k=2, dtype=dtype) * (np.arange(6, dtype=dtype)[:, None] == 1)), 5)
    yield ("all zero 4 x 7 (nnz = 0)", *_csr(np.zeros((4, 7), dtype)), 7)
    with_empty = sparse(9, 13, 0.3)
    with_empty[[0, 4, 8]] = 0
    yield ("empty rows (first, middle, last)", *_csr(with_empty), 13)
    yield ("90% sparse 33 x 65", *_csr(sparse(33, 65, 0.1)), 65)
    yield ("dense 5 x 6 stored as CSR", *_csr(sparse(5, 6, 1.0)), 6)
    # Row 0 holds columns 3, 0, 3 (unsorted, repeated); row 1 is empty; row 2 holds 2, 1.
    yield ("unsorted and repeated columns", np.array([0, 3, 3, 5], np.int32),
           np.array([3, 0, 3, 2, 1], np.int32), rng.standard_normal(5).astype(dtype), 4)


def csr_spmv(rng, dtype):
    for label, indptr, indices, data, k in _sparse_matrices(rng, dtype):
        yield Case(label, (indptr, indices, data, rng.standard_normal(k).astype(dtype)))
    label, indptr, indices, data, k = list(_sparse_matrices(rng, dtype))[4]
    yield Case(label + ", strided x", (indptr, indices, data, rng.standard_normal(2 * k).astype(dtype)[::2]))


def csr_spmm(rng, dtype):
    for (label, indptr, indices, data, k), n in zip(_sparse_matrices(rng, dtype), [1, 3, 5, 64, 130, 7, 2]):
        yield Case(f"{label}, N = {n}", (indptr, indices, data, rng.standard_normal((k, n)).astype(dtype)))
    label, indptr, indices, data, k = list(_sparse_matrices(rng, dtype))[4]
    b = rng.standard_normal((k, 2 * 67)).astype(dtype)[:, ::2]
    yield Case(label + ", strided b (N = 67)", (indptr, indices, data, b))
