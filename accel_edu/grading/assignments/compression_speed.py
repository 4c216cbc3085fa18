"""``07_compression``: Part 8, a fast int8
GEMM in Numba timed against the naive loops (``baselines_compression.int8_gemm_naive``).

The timed product is (256, 512) x (512, 256): the naive loops took 21 ms and a single-threaded
row-sweeping Numba kernel 1.8 ms on the loaded two-core machine this was written on (11x, one
run), and the arrays cost the pipe about a millisecond each way, so the target of 4x leaves the
solution more than twice the margin it needs when the other core is busy. The expected output is
computed exactly in float64 (BLAS): every sum is an integer below 2^53. NumPy's own integer
matmul, the reference's, takes 35 ms there, too slow to repeat for every timed call.
"""
from __future__ import annotations


import numpy as np

from ...compression import numpy_kernels as ref

TIMED_SHAPE = (256, 512, 256)   # (M, K, N)


def timed_input(rng):
    """Fresh (args, expected int8 output) for one timed call, zero points and bias included."""
    m, k, n = TIMED_SHAPE
    a = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    a_zero_point, out_zero_point = int(rng.integers(-20, 20)), int(rng.integers(-10, 10))
    bias = rng.integers(-5000, 5000, n).astype(np.int32)
    multiplier = (rng.uniform(0.8, 1.2, n) * 40 / (np.sqrt(k) * 75.0 * 75.0)).astype(np.float32)
    acc = ((a.astype(np.float64) - a_zero_point) @ b.astype(np.float64)).astype(np.int32) + bias
    want = ref.requantize(acc, multiplier, out_zero_point)
    return [a, b, a_zero_point, bias, multiplier, out_zero_point], want
