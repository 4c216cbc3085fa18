"""OpenCL host code of the compression chapter: size the grid, pick the compile options, launch.

Each public function has the name and signature of its twin in ``numpy_kernels.py`` but takes
DeviceArrays and returns DeviceArrays: nothing here copies to the host. The OpenCL C lives in
``quantize.cl``, ``int8_gemm.cl`` and ``csr.cl``. Every launch names its work-group size
(PoCL compiles a kernel once per size), and the elementwise and column-parallel kernels are
launched as whole work-groups without a bounds test plus one checked launch for the tail,
which keeps PoCL vectorising the bulk.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.opencl import empty, launch

HERE = Path(__file__).parent

GROUP = 256      # elementwise kernels: work-items per group
COLUMNS = 32     # int8_gemm, csr_spmm: neighbouring columns per group (PoCL's SIMD lanes)
TM = 8           # int8_gemm: rows of the output per work-item. At 512^3 (loaded machine):
                 # 0.7 GOP/s with 1 row, 3-5 with 4, 10-15 with 8; 12 and 16 no better
ROWS = 64        # csr_spmv: rows per group


def _elementwise(name: str, x, scale, zero_point, arrays: list, out) -> None:
    """Launch quantize.cl's ``name`` over every element of x: whole groups, then the tail."""
    n = x.size
    inner = n // x.shape[0]
    per_channel = int(scale.shape[0] > 1)
    bulk = n - n % GROUP
    common = [x, scale, zero_point, *arrays, out]
    if bulk:
        launch(HERE / "quantize.cl", name, (bulk,), (GROUP,), [n, 0, inner, *common], scale.dtype,
               PER_CHANNEL=per_channel, BOUNDS=0)
    if n > bulk:
        launch(HERE / "quantize.cl", name, (GROUP,), (GROUP,), [n, bulk, inner, *common], scale.dtype,
               PER_CHANNEL=per_channel, BOUNDS=1)


def quantize_int8(x, scale, zero_point):
    """See numpy_kernels.quantize_int8.   x: float (C, ...)  ->  int8, x's shape"""
    q = empty(x.shape, np.int8)
    _elementwise("quantize_int8", x, scale, zero_point, [], q)
    return q


def dequantize_int8(q, scale, zero_point):
    """See numpy_kernels.dequantize_int8.   q: int8 (C, ...)  ->  scale's dtype, q's shape"""
    x = empty(q.shape, scale.dtype)
    _elementwise("dequantize_int8", q, scale, zero_point, [], x)
    return x


def fake_quantize_forward(x, scale, zero_point):
    """See numpy_kernels.fake_quantize_forward.   x: float (C, ...)  ->  like x"""
    y = empty(x.shape, x.dtype)
    _elementwise("fake_quantize_forward", x, scale, zero_point, [], y)
    return y


def fake_quantize_backward(dy, x, scale, zero_point):
    """See numpy_kernels.fake_quantize_backward.   dy, x: float (C, ...)  ->  dx: like x"""
    dx = empty(x.shape, x.dtype)
    _elementwise("fake_quantize_backward", x, scale, zero_point, [dy], dx)
    return dx


def _column_launches(n: int):
    """(first column, global columns, BOUNDS) for the whole groups of columns, then the tail."""
    bulk = n - n % COLUMNS
    if bulk:
        yield 0, bulk, 0
    if n > bulk:
        yield bulk, COLUMNS, 1


def int8_gemm(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """See numpy_kernels.int8_gemm.   a: int8 (M, K), b: int8 (K, N)  ->  int32 or int8 (M, N)

    The rows go in two launches per group of columns: the first M - M % 8 with eight rows per
    work-item (each b[k, j] loaded once for eight multiply-adds), the rest with one.
    """
    (m, k), n = a.shape, b.shape[1]
    requantize = multiplier is not None
    out = empty((m, n), np.int8 if requantize else np.int32)
    options = dict(REQUANTIZE=int(requantize), HAS_BIAS=int(bias is not None),
                   PER_CHANNEL=int(requantize and multiplier.shape[0] > 1))
    bulk_rows = m - m % TM
    for row0, rows, tm in ((0, bulk_rows, TM), (bulk_rows, m - bulk_rows, 1)):
        if rows == 0:
            continue
        for col0, cols, bounds in _column_launches(n):
            launch(HERE / "int8_gemm.cl", "int8_gemm", (cols, rows // tm), (COLUMNS, 1),
                   [m, n, k, row0, col0, int(a_zero_point), a, b, bias, multiplier, int(out_zero_point), out],
                   np.float32, TM=tm, BOUNDS=bounds, **options)
    return out


def csr_spmv(indptr, indices, data, x):
    """See numpy_kernels.csr_spmv.   indptr: (M+1,), x: (K,)  ->  y: (M,)"""
    m = indptr.shape[0] - 1
    y = empty((m,), x.dtype)
    launch(HERE / "csr.cl", "csr_spmv", (-(-m // ROWS) * ROWS,), (ROWS,), [m, indptr, indices, data, x, y],
           x.dtype, BOUNDS=1)
    return y


def csr_spmm(indptr, indices, data, b):
    """See numpy_kernels.csr_spmm.   indptr: (M+1,), b: (K, N)  ->  c: (M, N)"""
    m, n = indptr.shape[0] - 1, b.shape[1]
    c = empty((m, n), b.dtype)
    for col0, cols, bounds in _column_launches(n):
        launch(HERE / "csr.cl", "csr_spmm", (cols, m), (COLUMNS, 1), [n, col0, indptr, indices, data, b, c],
               b.dtype, BOUNDS=bounds)
    return c
