"""Operations and compulsory bytes of one call of each compression kernel, from its arguments.

The registry's convention (``Kernel.flops`` / ``Kernel.bytes``) with one addition for this
chapter: an int8 GEMM's multiply-add counts 2, although it is integer arithmetic, because its
products are the work (int8 throughput is quoted in such operations, "TOPS"). Rounding with
rint counts 1; a clamp is two selecting comparisons. Bytes: every array read once, every
output written once; a CSR kernel's gather from the dense operand counts the part it reads.
"""
from __future__ import annotations

import math

import numpy as np


def _nbytes(*arrays) -> int:
    return sum(math.prod(a.shape) * np.dtype(a.dtype).itemsize for a in arrays if a is not None)


def _size(x) -> int:
    return math.prod(x.shape)


def quantize_flops(x, scale, zero_point):
    """Per element: a multiply by 1/scale, rint, the zero point's add, a clamp (2): 5."""
    return 5.0 * _size(x)


def quantize_bytes(x, scale, zero_point):
    """Read x and the parameters, write one int8 per element."""
    return _nbytes(x, scale, zero_point) + _size(x)


def dequantize_flops(q, scale, zero_point):
    """Per element: (q - zero_point) * scale, one subtract and one multiply: 2."""
    return 2.0 * _size(q)


def dequantize_bytes(q, scale, zero_point):
    return _nbytes(q, scale, zero_point) + _size(q) * np.dtype(scale.dtype).itemsize


def fake_quantize_flops(x, scale, zero_point):
    """quantize (5) then dequantize (2) per element."""
    return 7.0 * _size(x)


def fake_quantize_bytes(x, scale, zero_point):
    return 2 * _nbytes(x) + _nbytes(scale, zero_point)


def fake_quantize_backward_flops(dy, x, scale, zero_point):
    """Per element: multiply, rint, add, two range comparisons, the select: 6."""
    return 6.0 * _size(x)


def fake_quantize_backward_bytes(dy, x, scale, zero_point):
    return _nbytes(dy, x, scale, zero_point) + _nbytes(x)


def int8_gemm_flops(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """2 M N K for the multiply-adds (the zero point's subtract is hoisted out of them in any
    fast implementation), plus with a multiplier 5 per output (convert, multiply, rint, add,
    clamp)."""
    (m, k), n = a.shape, b.shape[1]
    return 2.0 * m * n * k + (5.0 * m * n if multiplier is not None else 0.0)


def int8_gemm_bytes(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """Read a, b, bias, multiplier; write int8 or int32 (M, N)."""
    m, n = a.shape[0], b.shape[1]
    return _nbytes(a, b, bias, multiplier) + m * n * (1 if multiplier is not None else 4)


def csr_spmv_flops(indptr, indices, data, x):
    """One multiply-add per stored value: 2 nnz."""
    return 2.0 * data.shape[0]


def csr_spmv_bytes(indptr, indices, data, x):
    """Read the CSR arrays, one element of x per stored value (the gather), write y (M,)."""
    item = np.dtype(data.dtype).itemsize
    return _nbytes(indptr, indices, data) + data.shape[0] * item + (indptr.shape[0] - 1) * item


def csr_spmm_flops(indptr, indices, data, b):
    """A row of B's N columns per stored value: 2 nnz N."""
    return 2.0 * data.shape[0] * b.shape[1]


def csr_spmm_bytes(indptr, indices, data, b):
    """Read the CSR arrays, the rows of B the stored values select (nnz rows of N, counted per
    value: a row met twice is read twice), write C (M, N)."""
    item = np.dtype(b.dtype).itemsize
    n = b.shape[1]
    return _nbytes(indptr, indices, data) + data.shape[0] * n * item + (indptr.shape[0] - 1) * n * item
