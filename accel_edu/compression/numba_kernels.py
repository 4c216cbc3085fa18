"""Numba kernels of the compression chapter: the NumPy reference as explicit loops.

Each public function has the name, signature, output shapes and dtypes of its twin in
``numpy_kernels.py``, and the same arithmetic step for step (see that module's docstring), so
every int8 and int32 output is bit-identical. ``fastmath=False``: a fused multiply-add or a
reordered float operation could move a value across a rounding tie.

Inputs arrive C-contiguous (the registry copies views), so ``x.reshape(rows, -1)`` is free.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .numpy_kernels import inverse_scale

QMIN, QMAX = -128, 127

# int8_gemm climbs two steps: int32 loops ("int32"), then the float32 GEMM on exact integers
# ("float_lanes", the default).
LADDERS = {"int8_gemm": ["int32", "float_lanes"]}
FLOAT_EXACT_K = 512
"""Terms of an int8 GEMM's sum that float32 adds exactly: 512 * 255 * 128 < 2^24."""


# -- quantize, dequantize, fake quantization --------------------------------------------------
@njit(cache=True, fastmath=False)
def _round_clamp(v, inv, zp):
    """clamp(rint(v * inv) + zp, -128, 127), and whether it was in range before the clamp.

    v * inv is rounded in v's dtype, as in NumPy; the clamp against the int bounds comes out
    as float64 in Numba's typing, which changes nothing: every value is an exact integer."""
    r = np.rint(v * inv) + zp
    inside = r >= QMIN and r <= QMAX
    return min(max(r, QMIN), QMAX), inside


@njit(cache=True, fastmath=False, parallel=True)
def _quantize(x2, inv, zpf, q2):
    per_channel = inv.shape[0] > 1
    for c in prange(x2.shape[0]):            # channels (rows of axis 0) are independent
        s = inv[c] if per_channel else inv[0]
        z = zpf[c] if per_channel else zpf[0]
        row, out = x2[c], q2[c]
        for i in range(row.shape[0]):
            out[i] = _round_clamp(row[i], s, z)[0]


def _zero_points_as(zero_point, dtype):
    """The zero points as floats of x's dtype: the kernels add them to rint's float result."""
    return zero_point.astype(dtype)


def quantize_int8(x, scale, zero_point):
    """See numpy_kernels.quantize_int8.   x: float (C, ...)  ->  int8, x's shape"""
    q = np.empty(x.shape, np.int8)
    _quantize(x.reshape(x.shape[0], -1), inverse_scale(scale), _zero_points_as(zero_point, x.dtype),
              q.reshape(x.shape[0], -1))
    return q


@njit(cache=True, fastmath=False, parallel=True)
def _dequantize(q2, scale, zero_point, x2):
    per_channel = scale.shape[0] > 1
    for c in prange(q2.shape[0]):
        s = scale[c] if per_channel else scale[0]
        z = zero_point[c] if per_channel else zero_point[0]
        row, out = q2[c], x2[c]
        for i in range(row.shape[0]):
            out[i] = (np.int32(row[i]) - z) * s   # an exact small integer, times the scale


def dequantize_int8(q, scale, zero_point):
    """See numpy_kernels.dequantize_int8.   q: int8 (C, ...)  ->  scale's dtype, q's shape"""
    x = np.empty(q.shape, scale.dtype)
    _dequantize(q.reshape(q.shape[0], -1), scale, zero_point, x.reshape(q.shape[0], -1))
    return x


@njit(cache=True, fastmath=False, parallel=True)
def _fake_quantize(x2, inv, scale, zpf, y2):
    per_channel = inv.shape[0] > 1
    for c in prange(x2.shape[0]):
        s = inv[c] if per_channel else inv[0]
        z = zpf[c] if per_channel else zpf[0]
        sc = scale[c] if per_channel else scale[0]
        row, out = x2[c], y2[c]
        for i in range(row.shape[0]):
            out[i] = (_round_clamp(row[i], s, z)[0] - z) * sc


def fake_quantize_forward(x, scale, zero_point):
    """See numpy_kernels.fake_quantize_forward.   x: float (C, ...)  ->  like x"""
    y = np.empty_like(x)
    _fake_quantize(x.reshape(x.shape[0], -1), inverse_scale(scale), scale,
                   _zero_points_as(zero_point, x.dtype), y.reshape(x.shape[0], -1))
    return y


@njit(cache=True, fastmath=False, parallel=True)
def _fake_quantize_backward(dy2, x2, inv, zpf, dx2):
    per_channel = inv.shape[0] > 1
    for c in prange(x2.shape[0]):
        s = inv[c] if per_channel else inv[0]
        z = zpf[c] if per_channel else zpf[0]
        row, g, out = x2[c], dy2[c], dx2[c]
        for i in range(row.shape[0]):
            out[i] = g[i] if _round_clamp(row[i], s, z)[1] else 0   # straight through, or cut


def fake_quantize_backward(dy, x, scale, zero_point):
    """See numpy_kernels.fake_quantize_backward.   dy, x: float (C, ...)  ->  dx: like x"""
    dx = np.empty_like(x)
    rows = x.shape[0]
    _fake_quantize_backward(dy.reshape(rows, -1), x.reshape(rows, -1), inverse_scale(scale),
                            _zero_points_as(zero_point, x.dtype), dx.reshape(rows, -1))
    return dx


# -- int8 GEMM ----------------------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _int8_accumulate(a, b, a_zero_point, bias, acc):
    """acc[i, :] = bias + sum_p (a[i, p] - zp) * b[p, :], all in int32 (the loop order of the
    float chapter's gemm_parallel: the inner loop streams a row of B into a row of acc)."""
    m, k = a.shape
    n = b.shape[1]
    for i in prange(m):                       # threads own whole rows of acc: no races
        row = acc[i]
        for j in range(n):
            row[j] = bias[j]
        for p in range(k):
            a_ip = np.int32(a[i, p]) - a_zero_point
            b_row = b[p]
            for j in range(n):                # widen 8 -> 32 bits, multiply, add: SIMD-able
                row[j] += a_ip * np.int32(b_row[j])


@njit(cache=True, fastmath=False, parallel=True)
def _requantize(acc, multiplier, out_zero_point, out):
    per_channel = multiplier.shape[0] > 1
    for i in prange(acc.shape[0]):
        row, q = acc[i], out[i]
        for j in range(row.shape[0]):
            mu = multiplier[j] if per_channel else multiplier[0]
            v = np.rint(np.float32(row[j]) * mu) + out_zero_point
            q[j] = min(max(v, np.float32(QMIN)), np.float32(QMAX))


def _requantized(acc, multiplier, out_zero_point):
    if multiplier is None:
        return acc
    out = np.empty(acc.shape, np.int8)
    _requantize(acc, multiplier, np.float32(out_zero_point), out)
    return out


def int8_gemm_int32(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """Step 1, int32 loops. See numpy_kernels.int8_gemm.
    a: int8 (M, K), b: int8 (K, N)  ->  int32 or int8 (M, N)

    Measured 35-55 GOP/s at 512^3 on the loaded machine, 0.6-0.75x our float32 GEMM: each
    int8 is widened to 32 bits, and a 32-bit integer multiply is no cheaper than a float one.
    """
    m, n = a.shape[0], b.shape[1]
    acc = np.empty((m, n), np.int32)
    bias = np.zeros(n, np.int32) if bias is None else bias
    _int8_accumulate(a, b, np.int32(a_zero_point), bias, acc)
    return _requantized(acc, multiplier, out_zero_point)


def int8_gemm_float_lanes(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """Step 2: the chapter 1 float32 GEMM (Numba's default rung) on the int8 values, exactly.
    a: int8 (M, K), b: int8 (K, N)  ->  int32 or int8 (M, N)

    (a - a_zero_point) and b become float32 (exact: integers of at most 255 and 128), and K is
    cut into blocks of 512: each block's sums are integers below 2^24, which float32 holds and
    adds exactly in any order, so each block converts to int32 without a rounding, and the
    int32 result is step 1's, bit for bit. The price: 4 bytes per operand instead of 1.
    """
    from ..backprop import kernels as BK
    m, k = a.shape
    a_f = a.astype(np.float32) - np.float32(a_zero_point)
    b_f = b.astype(np.float32)
    acc = np.zeros((m, b.shape[1]), np.int32)
    if bias is not None:
        acc += bias
    for k0 in range(0, k, FLOAT_EXACT_K):
        block = BK.gemm(a_f[:, k0:k0 + FLOAT_EXACT_K], b_f[k0:k0 + FLOAT_EXACT_K], backend="numba")
        acc += block.astype(np.int32)
    return _requantized(acc, multiplier, out_zero_point)


# -- CSR sparse times dense -------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _csr_spmv(indptr, indices, data, x, y):
    for i in prange(y.shape[0]):              # one row of A per iteration: no races
        s = y[i]                              # a zero of y's dtype
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]      # a gather: x is read where the row has values
        y[i] = s


def csr_spmv(indptr, indices, data, x):
    """See numpy_kernels.csr_spmv.   indptr: (M+1,), x: (K,)  ->  y: (M,)"""
    y = np.zeros(indptr.shape[0] - 1, x.dtype)
    _csr_spmv(indptr, indices, data, x, y)
    return y


@njit(cache=True, fastmath=False, parallel=True)
def _csr_spmm(indptr, indices, data, b, c):
    for i in prange(c.shape[0]):
        c_row = c[i]
        for p in range(indptr[i], indptr[i + 1]):
            v = data[p]
            b_row = b[indices[p]]
            for j in range(c_row.shape[0]):   # a whole row of B per stored value: SIMD-able
                c_row[j] += v * b_row[j]


def csr_spmm(indptr, indices, data, b):
    """See numpy_kernels.csr_spmm.   indptr: (M+1,), b: (K, N)  ->  c: (M, N)"""
    c = np.zeros((indptr.shape[0] - 1, b.shape[1]), b.dtype)
    _csr_spmm(indptr, indices, data, b, c)
    return c
