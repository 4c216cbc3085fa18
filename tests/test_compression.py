"""Compression kernels: exact int8 arithmetic, every backend bit for bit, named errors.

The registry walk (tests/test_registry.py -k "int8 or csr or quant") already compares every
backend with NumPy on the kernels' cases; here: the arithmetic itself (half to even, the
clamp, the zero point), int32 against int16 accumulation, and the checks' messages.
"""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.compression import CSRMatrix, kernels as K
from accel_edu.compression.checks import MAX_K
from accel_edu.compression.numpy_kernels import int8_accumulate
from accel_edu.runtime import available_backends, to_numpy

BACKENDS = [b for b in ("numpy", "numba", "opencl") if available_backends()[b]]


def _per_tensor(scale, zp=0, dtype=np.float32):
    return np.array([scale], dtype), np.array([zp], np.int32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_quantize_rounds_half_to_even_and_clamps(backend):
    scale, zp = _per_tensor(0.5, 3)
    x = np.array([0.25, 0.75, -0.25, -0.75, 1.25, 100.0, -100.0, 0.0], np.float32)
    # x / 0.5 = 0.5, 1.5, -0.5, -1.5, 2.5 -> 0, 2, -0, -2, 2 (even), then + 3; +-200 clamp
    q = to_numpy(K.quantize_int8(x, scale, zp, backend=backend))
    np.testing.assert_array_equal(q, [3, 5, 3, 1, 5, 127, -128, 3])
    back = to_numpy(K.dequantize_int8(q, scale, zp, backend=backend))
    np.testing.assert_array_equal(back, [0.0, 1.0, 0.0, -1.0, 1.0, 62.0, -65.5, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_fake_quantize_is_dequantize_of_quantize_and_ste_cuts_outside(backend):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 50)) * 3).astype(np.float32)
    scale = rng.uniform(0.01, 0.03, 4).astype(np.float32)
    zp = np.array([0, 5, -5, 127], np.int32)
    q = K.quantize_int8(x, scale, zp, backend="numpy")
    want = K.dequantize_int8(q, scale, zp, backend="numpy")
    np.testing.assert_array_equal(to_numpy(K.fake_quantize_forward(x, scale, zp, backend=backend)), want)
    dy = np.ones_like(x)
    dx = to_numpy(K.fake_quantize_backward(dy, x, scale, zp, backend=backend))
    unclamped = np.rint(x / scale[:, None]) + zp[:, None]
    inside = (unclamped >= -128) & (unclamped <= 127)
    assert 0 < inside.mean() < 1                     # the case has values on both sides
    np.testing.assert_array_equal(dx, inside.astype(np.float32))


def test_int16_accumulation_overflows_where_int32_does_not():
    """Three products of 127 * 127 = 48,387 already pass int16's 32,767: the sum wraps."""
    a = np.full((1, 3), 127, np.int8)
    b = np.full((3, 1), 127, np.int8)
    assert int(int8_accumulate(a, b, acc_dtype=np.int32)[0, 0]) == 3 * 127 * 127
    assert int(int8_accumulate(a, b, acc_dtype=np.int16)[0, 0]) == 3 * 127 * 127 - 65536


@pytest.mark.parametrize("backend", BACKENDS)
def test_int8_gemm_matches_exact_integer_product(backend):
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (13, 600)).astype(np.int8)
    b = rng.integers(-128, 128, (600, 70)).astype(np.int8)
    exact = (a.astype(np.int64) + 7) @ b.astype(np.int64)   # int64: no overflow possible
    got = to_numpy(K.int8_gemm(a, b, -7, backend=backend))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, exact)
    assert np.abs(exact).max() > 32767                       # int16 could not hold these sums


@pytest.mark.parametrize("backend", BACKENDS)
def test_requantization_is_float32_multiply_rint_clamp(backend):
    a = np.array([[1], [3], [5], [-3], [127]], np.int8)
    b = np.array([[1, 2]], np.int8)
    mult = np.array([0.5, 1.0], np.float32)
    got = to_numpy(K.int8_gemm(a, b, 0, None, mult, 1, backend=backend))
    # column 0: 0.5, 1.5, 2.5, -1.5, 63.5 -> 0, 2, 2, -2, 64 (half to even) + 1
    # column 1: 2, 6, 10, -6, 254 + 1 -> clamped at 127
    np.testing.assert_array_equal(got, [[1, 3], [3, 7], [3, 11], [-1, -5], [65, 127]])


def test_checks_name_the_argument():
    x = np.ones((3, 4), np.float32)
    s, z = _per_tensor(0.1)
    with pytest.raises(ValueError, match="scale must be positive"):
        K.quantize_int8(x, np.array([0.0], np.float32), z)
    with pytest.raises(ValueError, match=r"zero_point must lie in \[-128, 127\]"):
        K.quantize_int8(x, s, np.array([200], np.int32))
    with pytest.raises(ValueError, match=r"scale must have shape \(1,\) .* or \(3,\)"):
        K.quantize_int8(x, np.ones(4, np.float32), np.zeros(4, np.int32))
    with pytest.raises(ValueError, match="q must have dtype int8"):
        K.dequantize_int8(np.ones(3, np.int32), s, z)
    a8 = np.ones((2, 3), np.int8)
    with pytest.raises(ValueError, match="a must have dtype int8"):
        K.int8_gemm(a8.astype(np.float32), a8.T.copy())
    with pytest.raises(ValueError, match="b must have 3 rows"):
        K.int8_gemm(a8, a8)
    with pytest.raises(ValueError, match="a_zero_point must be an int in"):
        K.int8_gemm(a8, a8.T.copy(), 128)
    with pytest.raises(ValueError, match="out_zero_point needs a multiplier"):
        K.int8_gemm(a8, a8.T.copy(), 0, None, None, 5)
    with pytest.raises(ValueError, match="multiplier must be positive"):
        K.int8_gemm(a8, a8.T.copy(), 0, None, np.array([-1.0], np.float32))
    long = np.zeros((1, MAX_K + 1), np.int8)
    with pytest.raises(ValueError, match="int32 sum .* can overflow"):
        K.int8_gemm(long, long.T.copy())


def test_csr_checks_reject_what_is_not_csr():
    data, x = np.ones(2, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match="indptr must start at 0 and end at nnz"):
        K.csr_spmv(np.array([0, 1, 3], np.int32), np.array([0, 1], np.int32), data, x)
    with pytest.raises(ValueError, match="indptr must be non-decreasing"):
        K.csr_spmv(np.array([0, 2, 1, 2], np.int32), np.array([0, 1], np.int32), data, x)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\)"):
        K.csr_spmv(np.array([0, 2], np.int32), np.array([0, 3], np.int32), data, x)
    with pytest.raises(ValueError, match="indptr must have dtype int32"):
        K.csr_spmv(np.array([0, 2], np.int64), np.array([0, 1], np.int32), data, x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_csr_round_trip_and_products(backend):
    rng = np.random.default_rng(2)
    dense = rng.standard_normal((20, 31)).astype(np.float32)
    dense[np.abs(dense) < 1.0] = 0                      # about 68% zeros
    dense[3] = 0                                        # an empty row
    a = CSRMatrix.from_dense(dense)
    np.testing.assert_array_equal(a.to_dense(), dense)
    assert a.nnz == np.count_nonzero(dense)
    x = rng.standard_normal(31).astype(np.float32)
    b = rng.standard_normal((31, 9)).astype(np.float32)
    np.testing.assert_allclose(to_numpy(a.matvec(x, backend=backend)), dense @ x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_numpy(a.matmul(b, backend=backend)), dense @ b, rtol=1e-5, atol=1e-5)
    pruned = CSRMatrix.from_dense(dense, threshold=2.0)
    assert np.all(np.abs(pruned.data) > 2.0) and pruned.nnz < a.nnz
    with pytest.raises(ValueError, match="b must have 31 rows"):
        a.matmul(b.T.copy())
