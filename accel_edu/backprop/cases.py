"""Awkward inputs for the cross-backend check of each backprop kernel.

Sizes are 1, primes and numbers just past a power of two, so that no tile size divides them;
batch 1 appears; some inputs are non-contiguous views (every other column of a larger array,
or a transpose).
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case

# (M, K, N): 1s, primes, just past powers of two, and one shape larger than any tile.
GEMM_SHAPES = [(1, 1, 1), (1, 7, 3), (5, 1, 9), (7, 13, 5), (17, 31, 3), (33, 65, 17), (67, 129, 71),
               (5, 1031, 7)]  # K past the Numba cache block (KC = 1024)
# (N, D): batch 1, primes, just past a power of two.
ROW_SHAPES = [(1, 1), (1, 10), (3, 7), (13, 31), (64, 129)]


def _rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _strided(rng, shape, dtype):
    """A non-contiguous view with the given shape: every other column of a wider array."""
    wide = _rand(rng, shape[:-1] + (2 * shape[-1],), dtype)
    return wide[..., ::2]


def gemm(rng, dtype):
    for m, k, n in GEMM_SHAPES:
        for ta in (False, True):
            for tb in (False, True):
                a = _rand(rng, (k, m) if ta else (m, k), dtype)
                b = _rand(rng, (n, k) if tb else (k, n), dtype)
                yield Case(f"M={m} K={k} N={n} trans_a={ta} trans_b={tb}", (a, b),
                           dict(trans_a=ta, trans_b=tb))
    a = _strided(rng, (13, 9), dtype)
    b = _rand(rng, (5, 9), dtype).T  # a transposed view: Fortran-ordered
    yield Case("non-contiguous a and b", (a, b))


def linear_forward(rng, dtype):
    for n, d_in in ROW_SHAPES:
        d_out = 5
        yield Case(f"N={n} D_in={d_in} D_out={d_out}",
                   (_rand(rng, (n, d_in), dtype), _rand(rng, (d_out, d_in), dtype), _rand(rng, (d_out,), dtype)))
    yield Case("non-contiguous x", (_strided(rng, (6, 11), dtype), _rand(rng, (3, 11), dtype), _rand(rng, (3,), dtype)))


def linear_backward(rng, dtype):
    for n, d_in in ROW_SHAPES:
        d_out = 7
        yield Case(f"N={n} D_in={d_in} D_out={d_out}",
                   (_rand(rng, (n, d_out), dtype), _rand(rng, (n, d_in), dtype), _rand(rng, (d_out, d_in), dtype)))
    yield Case("non-contiguous dy", (_strided(rng, (4, 3), dtype), _rand(rng, (4, 5), dtype), _rand(rng, (3, 5), dtype)))


def bias_grad(rng, dtype):
    for shape in ROW_SHAPES:
        yield Case(f"dy {shape}", (_rand(rng, shape, dtype),))
    yield Case("non-contiguous dy", (_strided(rng, (9, 4), dtype),))


def unary(rng, dtype):
    for shape in ROW_SHAPES + [(2, 3, 5)]:
        yield Case(f"x {shape}", (_rand(rng, shape, dtype, scale=3.0),))
    yield Case("large magnitudes", (np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype),))
    yield Case("non-contiguous x", (_strided(rng, (5, 7), dtype),))


def unary_backward(rng, dtype):
    for shape in ROW_SHAPES + [(2, 3, 5)]:
        yield Case(f"dy, x {shape}", (_rand(rng, shape, dtype), _rand(rng, shape, dtype)))
    yield Case("non-contiguous dy", (_strided(rng, (5, 7), dtype), _rand(rng, (5, 7), dtype)))


def softmax_cross_entropy(rng, dtype):
    for n, c in [(1, 1), (1, 10), (7, 3), (13, 31), (64, 129)]:
        yield Case(f"N={n} C={c}", (_rand(rng, (n, c), dtype, 3.0), rng.integers(0, c, n)))
    yield Case("logits of magnitude 1e4",
               (_rand(rng, (5, 4), dtype, 1e4), rng.integers(0, 4, 5)))
    yield Case("non-contiguous logits", (_strided(rng, (6, 5), dtype), rng.integers(0, 5, 6)))


def mse(rng, dtype):
    for shape in ROW_SHAPES + [(2, 3, 5)]:
        yield Case(f"{shape}", (_rand(rng, shape, dtype), _rand(rng, shape, dtype)))
    yield Case("non-contiguous pred", (_strided(rng, (5, 3), dtype), _rand(rng, (5, 3), dtype)))


def sgd_update(rng, dtype):
    for shape in ROW_SHAPES + [(2, 3, 5)]:
        yield Case(f"{shape}", (_rand(rng, shape, dtype), _rand(rng, shape, dtype), 0.1))
