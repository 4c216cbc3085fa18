"""The NumPy reference of the compression chapter's kernels: short, vectorised, obviously right.

The arithmetic is defined here, to the bit, and the Numba and OpenCL kernels repeat it step
for step, so all three agree exactly on every int8 and int32 output:

* quantize:   q = clamp(rint(x * (1 / scale)) + zero_point, -128, 127)
  in x's dtype; ``1 / scale`` is computed once per channel and then multiplied, as PyTorch
  does (a multiply is correctly rounded on every backend; OpenCL allows a division 2.5 ulp).
  ``rint`` rounds half to even, as ``np.rint`` and OpenCL's ``rint`` both do.
* dequantize: x = (q - zero_point) * scale, exact integers times the scale, in scale's dtype.
* int8 GEMM:  acc[i, j] = bias[j] + sum_k (a[i, k] - a_zero_point) * b[k, j] in int32, then
  out = clamp(rint(float32(acc) * multiplier[j]) + out_zero_point, -128, 127).
  A float32 multiplier rounded with rint is what FBGEMM (PyTorch's CPU int8 path) does; the
  integer multiplier-and-shift of gemmlowp/TFLite exists for chips without a float unit,
  which none of our three backends is, and would cost a chapter of its own to explain.
  b's zero point is 0 (symmetric weights, as in FBGEMM and TFLite), which removes the
  correction term sum_k a[i, k] * b_zero_point from every output.

A channel is a row of axis 0: ``scale`` and ``zero_point`` have shape (1,) for one
quantizer per tensor, or (x.shape[0],) for one per output channel of a weight.
"""
from __future__ import annotations

import numpy as np

QMIN, QMAX = -128, 127


def _per_row(values, x):
    """(1,) or (C,) parameters shaped to broadcast over x, whose axis 0 holds the C channels."""
    return values.reshape((-1,) + (1,) * (x.ndim - 1))


def inverse_scale(scale):
    """1 / scale in scale's dtype, the one number per channel every backend multiplies by."""
    return (np.asarray(1, scale.dtype) / scale).astype(scale.dtype)


def _rounded(x, scale, zero_point):
    """rint(x / scale) + zero_point, before the clamp, in x's dtype (integer-valued)."""
    inv = _per_row(inverse_scale(scale), x)
    return np.rint(x * inv) + _per_row(zero_point, x).astype(x.dtype)


def quantize_int8(x, scale, zero_point):
    """q = clamp(rint(x / scale) + zero_point, -128, 127).

    x: float (C, ...) ; scale: (1,) or (C,) same dtype ; zero_point: int32 like scale  ->  q: int8, x's shape
    """
    return np.clip(_rounded(x, scale, zero_point), QMIN, QMAX).astype(np.int8)


def dequantize_int8(q, scale, zero_point):
    """x = (q - zero_point) * scale.    q: int8 (C, ...)  ->  x: scale's dtype, q's shape"""
    centred = q.astype(np.int32) - _per_row(zero_point, q)
    return centred.astype(scale.dtype) * _per_row(scale, q)


def fake_quantize_forward(x, scale, zero_point):
    """dequantize(quantize(x)): x rounded to the nearest value int8 can hold, still float.

    x: float (C, ...)  ->  float, x's shape and dtype (what quantization-aware training trains through)
    """
    q = np.clip(_rounded(x, scale, zero_point), QMIN, QMAX)
    return (q - _per_row(zero_point, x).astype(x.dtype)) * _per_row(scale, x)


def fake_quantize_backward(dy, x, scale, zero_point):
    """The straight-through estimator: rint's derivative (zero almost everywhere) is taken as 1,
    so the gradient passes where x was inside the int8 range and is 0 where the clamp cut it.

    dy, x: float (C, ...)  ->  dx: like x;   dx = dy * [-128 <= rint(x / scale) + zero_point <= 127]
    """
    r = _rounded(x, scale, zero_point)
    return np.where((r >= QMIN) & (r <= QMAX), dy, np.zeros((), dy.dtype))


def int8_accumulate(a, b, a_zero_point=0, acc_dtype=np.int32):
    """sum_k (a[i, k] - a_zero_point) * b[k, j] with every step in ``acc_dtype``.

    a: int8 (M, K), b: int8 (K, N)  ->  (M, N) of acc_dtype. With np.int16 the sum wraps
    around once it passes 32,767 (three products of 127 * 127 do): why accumulators are int32.
    """
    return (a.astype(acc_dtype) - acc_dtype(a_zero_point)) @ b.astype(acc_dtype)


def requantize(acc, multiplier, out_zero_point=0):
    """out = clamp(rint(float32(acc) * multiplier[j]) + out_zero_point, -128, 127).

    acc: int32 (M, N); multiplier: float32 (1,) or (N,)  ->  int8 (M, N)
    """
    scaled = np.rint(acc.astype(np.float32) * multiplier) + np.float32(out_zero_point)
    return np.clip(scaled, QMIN, QMAX).astype(np.int8)


def int8_gemm(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """int32 accumulation of int8 products, then (with a multiplier) requantization to int8.

    a: int8 (M, K) ; b: int8 (K, N) ; bias: int32 (N,) or None ;
    multiplier: float32 (1,) or (N,) or None  ->  int32 (M, N) without multiplier, else int8 (M, N)
    """
    acc = int8_accumulate(a, b, a_zero_point)
    if bias is not None:
        acc += bias
    return acc if multiplier is None else requantize(acc, multiplier, out_zero_point)


def csr_spmv(indptr, indices, data, x):
    """y = A @ x for A in CSR form.

    indptr: int32 (M+1,) ; indices: int32 (nnz,) ; data: (nnz,) ; x: (K,)  ->  y: (M,)
    Row i's stored values are data[indptr[i]:indptr[i+1]], in columns indices[same].
    """
    rows = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    y = np.zeros(indptr.shape[0] - 1, x.dtype)
    np.add.at(y, rows, data * x[indices])  # add.at: a row's products are summed, duplicates too
    return y


def csr_spmm(indptr, indices, data, b):
    """C = A @ B for A in CSR form, B dense.

    indptr: int32 (M+1,) ; indices: int32 (nnz,) ; data: (nnz,) ; b: (K, N)  ->  c: (M, N)
    """
    rows = np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))
    c = np.zeros((indptr.shape[0] - 1, b.shape[1]), b.dtype)
    np.add.at(c, rows, data[:, None] * b[indices])
    return c
