"""The argument check of each compression kernel, shared by all three backends.

Each raises ValueError naming the bad argument, with what was expected and what was given.
Checks that need the numbers themselves (a scale <= 0, a zero point out of range, a CSR
index out of bounds) run on NumPy arguments; a DeviceArray's values stay on the device
unchecked, as elsewhere in the library (reading them would be a counted download per call).
"""
from __future__ import annotations

import numpy as np

from ..runtime.checks import check_array, check_same_dtype

QMIN, QMAX = -128, 127
"""The int8 range every kernel here quantizes into."""

INT32_MAX = 2**31 - 1
MAX_PRODUCT = 255 * 128
"""The largest |(a - a_zero_point) * b| an int8 GEMM can meet: a - zp spans [-255, 255]
(a = 127, zp = -128), b spans [-128, 127]."""

MAX_K = INT32_MAX // MAX_PRODUCT
"""The longest K whose int32 sum cannot overflow, whatever the int8 inputs: 65,793."""


def _host(x):
    return x if isinstance(x, np.ndarray) else None


def check_qparams(scale, zero_point, rows: int, scale_name="scale", zp_name="zero_point"):
    """scale: (1,) per tensor or (rows,) per channel (channel = axis 0), float, every value > 0;
    zero_point: int32 of the same shape, every value in [-128, 127]."""
    check_array(scale_name, scale, ndim=1)
    check_array(zp_name, zero_point, ndim=1, dtype=np.int32)
    if scale.shape[0] not in (1, rows):
        raise ValueError(f"{scale_name} must have shape (1,) (per tensor) or ({rows},) (per channel, "
                         f"one per row of axis 0); got {tuple(scale.shape)}")
    if tuple(zero_point.shape) != tuple(scale.shape):
        raise ValueError(f"{zp_name} must have the same shape as {scale_name} {tuple(scale.shape)}; "
                         f"got {tuple(zero_point.shape)}")
    s = _host(scale)
    if s is not None and not (np.all(np.isfinite(s)) and np.all(s > 0)):
        bad = s[~(np.isfinite(s) & (s > 0))][0]
        raise ValueError(f"{scale_name} must be positive and finite everywhere; found {bad!r}")
    z = _host(zero_point)
    if z is not None and (z.min() < QMIN or z.max() > QMAX):
        bad = z[(z < QMIN) | (z > QMAX)][0]
        raise ValueError(f"{zp_name} must lie in [{QMIN}, {QMAX}], the int8 range; found {bad}")


def _check_float_tensor(name, x):
    check_array(name, x)
    if x.ndim < 1:
        raise ValueError(f"{name} must have at least one axis (axis 0 holds the channels); got a 0-D array")


def quantize_int8(x, scale, zero_point):
    _check_float_tensor("x", x)
    check_qparams(scale, zero_point, x.shape[0])
    check_same_dtype(x=x, scale=scale)


def dequantize_int8(q, scale, zero_point):
    check_array("q", q, dtype=np.int8)
    if q.ndim < 1:
        raise ValueError("q must have at least one axis (axis 0 holds the channels); got a 0-D array")
    check_qparams(scale, zero_point, q.shape[0])


def fake_quantize_forward(x, scale, zero_point):
    quantize_int8(x, scale, zero_point)


def fake_quantize_backward(dy, x, scale, zero_point):
    quantize_int8(x, scale, zero_point)
    check_array("dy", dy)
    check_same_dtype(x=x, dy=dy)
    if tuple(dy.shape) != tuple(x.shape):
        raise ValueError(f"dy must have the shape of x {tuple(x.shape)}; got {tuple(dy.shape)}")


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def int8_gemm(a, b, a_zero_point=0, bias=None, multiplier=None, out_zero_point=0):
    check_array("a", a, ndim=2, dtype=np.int8)
    check_array("b", b, ndim=2, dtype=np.int8)
    m, k = a.shape
    if b.shape[0] != k:
        raise ValueError(f"b must have {k} rows, one per column of a (a is {tuple(a.shape)}); "
                         f"got shape {tuple(b.shape)}")
    n = b.shape[1]
    if k > MAX_K:
        raise ValueError(f"a has K = {k} columns; an int32 sum of more than {MAX_K} int8 products "
                         f"of up to {MAX_PRODUCT} can overflow: split K")
    for name, v in (("a_zero_point", a_zero_point), ("out_zero_point", out_zero_point)):
        if not _is_int(v) or not QMIN <= v <= QMAX:
            raise ValueError(f"{name} must be an int in [{QMIN}, {QMAX}]; got {v!r}")
    if bias is not None:
        check_array("bias", bias, ndim=1, dtype=np.int32)
        if bias.shape[0] != n:
            raise ValueError(f"bias must have shape ({n},), one per column of b; got {tuple(bias.shape)}")
    if multiplier is None:
        if out_zero_point != 0:
            raise ValueError(f"out_zero_point needs a multiplier (it applies to the int8 output); "
                             f"got out_zero_point={out_zero_point} with multiplier=None")
        return
    check_array("multiplier", multiplier, ndim=1, dtype=np.float32)
    if multiplier.shape[0] not in (1, n):
        raise ValueError(f"multiplier must have shape (1,) (per tensor) or ({n},) (per output "
                         f"channel, one per column of b); got {tuple(multiplier.shape)}")
    mu = _host(multiplier)
    if mu is not None and not (np.all(np.isfinite(mu)) and np.all(mu > 0)):
        raise ValueError(f"multiplier must be positive and finite everywhere; found "
                         f"{mu[~(np.isfinite(mu) & (mu > 0))][0]!r}")


def csr_matrix(indptr, indices, data, n_cols: int, operand: str):
    """indptr: int32 (M+1,) from 0, non-decreasing, ending at nnz; indices: int32 (nnz,) in
    [0, n_cols); data: float (nnz,). Column indices need not be sorted within a row (the
    kernels add every stored entry, duplicates included); ``operand`` names the dense argument."""
    check_array("indptr", indptr, ndim=1, dtype=np.int32)
    check_array("indices", indices, ndim=1, dtype=np.int32, allow_empty=True)
    check_array("data", data, ndim=1, allow_empty=True)
    if indptr.shape[0] < 2:
        raise ValueError(f"indptr must have M + 1 >= 2 entries (a CSR matrix has at least one row); "
                         f"got shape {tuple(indptr.shape)}")
    if indices.shape != data.shape:
        raise ValueError(f"indices and data must have one entry per stored value (the same shape); "
                         f"got {tuple(indices.shape)} and {tuple(data.shape)}")
    p, j = _host(indptr), _host(indices)
    if p is not None:
        if p[0] != 0 or p[-1] != data.shape[0]:
            raise ValueError(f"indptr must start at 0 and end at nnz = {data.shape[0]} (this is not a "
                             f"CSR matrix); got indptr[0] = {p[0]}, indptr[-1] = {p[-1]}")
        if np.any(np.diff(p) < 0):
            row = int(np.argmax(np.diff(p) < 0))
            raise ValueError(f"indptr must be non-decreasing (row i holds indptr[i+1] - indptr[i] values); "
                             f"row {row} has {p[row + 1] - p[row]}")
    if j is not None and j.size and (j.min() < 0 or j.max() >= n_cols):
        bad = j[(j < 0) | (j >= n_cols)][0]
        raise ValueError(f"indices must lie in [0, {n_cols}), the rows of {operand}; found {bad}")


def csr_spmv(indptr, indices, data, x):
    check_array("x", x, ndim=1)
    csr_matrix(indptr, indices, data, x.shape[0], "x")
    check_same_dtype(x=x, data=data)


def csr_spmm(indptr, indices, data, b):
    check_array("b", b, ndim=2)
    csr_matrix(indptr, indices, data, b.shape[0], "b")
    check_same_dtype(b=b, data=data)
