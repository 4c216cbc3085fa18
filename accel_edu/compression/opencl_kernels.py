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

# The optimisation ladders, slowest first (the last is the default): one work-item per output
# column ("columns"), a register tile of 16 columns per work-item ("tiled"), and for int8 the
# same tile summed exactly in float32 lanes ("float_lanes"). Measured on the loaded machine:
# int8 at 512^3, 4-15 -> 5-20 -> 44-46 GOP/s; CSR 1024 x 1024 at 50% times (1024, 64),
# 0.9 -> 26 GFLOP/s.
LADDERS = {"int8_gemm": ["columns", "tiled", "float_lanes"], "csr_spmm": ["columns", "tiled"]}

GROUP = 256      # elementwise kernels: work-items per group
COLUMNS = 32     # int8_gemm, csr_spmm: neighbouring columns per group (PoCL's SIMD lanes)
TM = 8           # int8_gemm: rows of the output per work-item. At 512^3 (loaded machine):
                 # 0.7 GOP/s with 1 row, 3-5 with 4, 10-15 with 8; 12 and 16 no better
ROWS = 64        # csr_spmv: rows per group
TN = 16          # the tiled steps: output columns per work-item (int8_gemm.cl's and csr.cl's TN)
TILE_ROWS = 16   # csr_spmm_tiled: rows per work-group
LANE_GROUP = 4   # int8_gemm_float_lanes: tiles per work-group (1 ran at half the speed)


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


def _column_launches(n: int, col0: int = 0):
    """(first column, global columns, BOUNDS) for the whole groups of columns from col0 on,
    then the tail."""
    bulk = col0 + (n - col0) - (n - col0) % COLUMNS
    if bulk > col0:
        yield col0, bulk - col0, 0
    if n > bulk:
        yield bulk, COLUMNS, 1


def _int8_setup(a, b, bias, multiplier):
    (m, k), n = a.shape, b.shape[1]
    requantize = multiplier is not None
    out = empty((m, n), np.int8 if requantize else np.int32)
    options = dict(REQUANTIZE=int(requantize), HAS_BIAS=int(bias is not None),
                   PER_CHANNEL=int(requantize and multiplier.shape[0] > 1))
    return m, n, k, out, options


def _row_launches(m: int):
    """(first row, rows, rows per work-item): the whole blocks of TM rows, then the rest one by one."""
    bulk = m - m % TM
    return [(r0, rows, tm) for r0, rows, tm in ((0, bulk, TM), (bulk, m - bulk, 1)) if rows]


def _int8_columns(a, b, a_zero_point, bias, multiplier, out_zero_point, out, options, col0):
    """Step 1 over the columns from col0 on."""
    (m, k), n = a.shape, b.shape[1]
    for row0, rows, tm in _row_launches(m):
        for c0, cols, bounds in _column_launches(n, col0):
            launch(HERE / "int8_gemm.cl", "int8_gemm", (cols, rows // tm), (COLUMNS, 1),
                   [m, n, k, row0, c0, int(a_zero_point), a, b, bias, multiplier, int(out_zero_point), out],
                   np.float32, TM=tm, BOUNDS=bounds, **options)


def int8_gemm_columns(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """Step 1. See numpy_kernels.int8_gemm.   a: int8 (M, K), b: int8 (K, N)  ->  int32 or int8 (M, N)

    The rows go in two launches per group of columns: the first M - M % 8 with eight rows per
    work-item (each b[k, j] loaded once for eight multiply-adds), the rest with one.
    """
    m, n, k, out, options = _int8_setup(a, b, bias, multiplier)
    _int8_columns(a, b, a_zero_point, bias, multiplier, out_zero_point, out, options, 0)
    return out


def int8_gemm_tiled(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """Step 2: a TM x 16 register tile per work-item over the whole tiles of 16 columns, step 1
    for the last N % 16 columns.   a: int8 (M, K), b: int8 (K, N)  ->  int32 or int8 (M, N)"""
    m, n, k, out, options = _int8_setup(a, b, bias, multiplier)
    tiles = n // TN
    if tiles:
        for row0, rows, tm in _row_launches(m):
            launch(HERE / "int8_gemm.cl", "int8_gemm_tiled", (tiles, rows // tm), (1, 1),
                   [m, n, k, row0, int(a_zero_point), a, b, bias, multiplier, int(out_zero_point), out],
                   np.float32, TM=tm, **options)
    if n > tiles * TN:
        _int8_columns(a, b, a_zero_point, bias, multiplier, out_zero_point, out, options, tiles * TN)
    return out


def int8_gemm_float_lanes(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    """Step 3: step 2's tile summed in float32, exactly (see int8_gemm.cl), step 1 for the last
    N % 16 columns.   a: int8 (M, K), b: int8 (K, N)  ->  int32 or int8 (M, N)"""
    m, n, k, out, options = _int8_setup(a, b, bias, multiplier)
    tiles = n // TN
    if tiles:
        for row0, rows, tm in _row_launches(m):
            launch(HERE / "int8_gemm.cl", "int8_gemm_float_lanes",
                   (-(-tiles // LANE_GROUP) * LANE_GROUP, rows // tm), (LANE_GROUP, 1),
                   [m, n, k, row0, tiles, int(a_zero_point), a, b, bias, multiplier, int(out_zero_point), out],
                   np.float32, TM=tm, **options)
    if n > tiles * TN:
        _int8_columns(a, b, a_zero_point, bias, multiplier, out_zero_point, out, options, tiles * TN)
    return out


def csr_spmv(indptr, indices, data, x):
    """See numpy_kernels.csr_spmv.   indptr: (M+1,), x: (K,)  ->  y: (M,)"""
    m = indptr.shape[0] - 1
    y = empty((m,), x.dtype)
    launch(HERE / "csr.cl", "csr_spmv", (-(-m // ROWS) * ROWS,), (ROWS,), [m, indptr, indices, data, x, y],
           x.dtype, BOUNDS=1)
    return y


def _csr_columns(indptr, indices, data, b, c, col0):
    m, n = indptr.shape[0] - 1, b.shape[1]
    for c0, cols, bounds in _column_launches(n, col0):
        launch(HERE / "csr.cl", "csr_spmm", (cols, m), (COLUMNS, 1), [n, c0, indptr, indices, data, b, c],
               b.dtype, BOUNDS=bounds)


def csr_spmm_columns(indptr, indices, data, b):
    """Step 1, one work-item per (row, column). See numpy_kernels.csr_spmm.
    indptr: (M+1,), b: (K, N)  ->  c: (M, N)"""
    c = empty((indptr.shape[0] - 1, b.shape[1]), b.dtype)
    _csr_columns(indptr, indices, data, b, c, 0)
    return c


def csr_spmm_tiled(indptr, indices, data, b):
    """Step 2, 16 columns of a row per work-item over the whole tiles, step 1 for the last
    N % 16 columns.   indptr: (M+1,), b: (K, N)  ->  c: (M, N)"""
    m, n = indptr.shape[0] - 1, b.shape[1]
    c = empty((m, n), b.dtype)
    tiles = n // TN
    if tiles:
        launch(HERE / "csr.cl", "csr_spmm_tiled", (tiles, -(-m // TILE_ROWS) * TILE_ROWS), (1, TILE_ROWS),
               [m, n, indptr, indices, data, b, c], b.dtype)
    if n > tiles * TN:
        _csr_columns(indptr, indices, data, b, c, tiles * TN)
    return c
