"""Awkward inputs for the cross-backend check of each regularization kernel.

Batch 1, prime sizes, counter offsets that start inside a Philox block or cross a 32-bit word
of the counter, the largest seed, non-contiguous views, (N, F) and (N, C, H, W) for batch
norm, a constant channel (zero variance) and activations of size 1e6.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case

# Random123's known-answer inputs for Philox4x32-10 (kat_vectors): zeros, all ones, and digits of pi.
PHILOX_KAT_INPUTS = [
    ([0, 0, 0, 0], [0, 0]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]),
]
# (n, seed, offset): one word, a prime count starting mid-block, a block boundary of the
# counter's low word, the largest seed, an offset past 2^40.
STREAMS = [(1, 0, 0), (7, 1, 3), (13, 42, 2 ** 32 * 4 - 5), (31, 2 ** 64 - 1, 1), (1031, 7, 2 ** 40 + 3)]
# Batch-norm shapes: (N, F) and (N, C, H, W), batch 1 included.
BN_SHAPES = [(2, 1), (3, 7), (13, 31), (64, 5), (1, 3, 5, 7), (2, 3, 4, 5), (5, 2, 1, 1)]


def _rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _strided(rng, shape, dtype):
    """A non-contiguous view with the given shape: every other element of the last axis."""
    wide = _rand(rng, shape[:-1] + (2 * shape[-1],), dtype)
    return wide[..., ::2]


def philox4x32(rng, dtype):
    for counter, key in PHILOX_KAT_INPUTS:
        yield Case(f"known-answer input {counter[0]:#x}", (np.array([counter], np.uint32),
                                                          np.array(key, np.uint32)))
    for b in (1, 5, 67):
        yield Case(f"{b} random counters", (rng.integers(0, 2 ** 32, (b, 4), dtype=np.uint32),
                                            rng.integers(0, 2 ** 32, 2, dtype=np.uint32)))


def philox_uniform(rng, dtype):
    for n, seed, offset in STREAMS:
        yield Case(f"n={n} seed={seed} offset={offset}", (n, seed, offset), dict(dtype=dtype))


def dropout_forward(rng, dtype):
    shapes = [(1, 1), (3, 7), (13, 31), (2, 3, 5, 7)]
    for i, shape in enumerate(shapes):
        for p in (0.0, 0.5, 0.9):
            yield Case(f"x {shape} p={p}", (_rand(rng, shape, dtype), p, 3 + i, 4 * i + 1))
    yield Case("p = 0.1, not exact in float32", (_rand(rng, (17, 19), dtype), 0.1, 5, 0))
    yield Case("non-contiguous x", (_strided(rng, (5, 7), dtype), 0.3, 11, 2 ** 32 - 2))


def dropout_backward(rng, dtype):
    for shape in [(1, 1), (3, 7), (2, 3, 5, 7)]:
        mask = rng.integers(0, 2, shape).astype(np.uint8)
        yield Case(f"dy {shape}", (_rand(rng, shape, dtype), mask, 0.25))
    yield Case("non-contiguous dy", (_strided(rng, (4, 6), dtype),
                                     rng.integers(0, 2, (4, 6)).astype(np.uint8), 0.5))


def _bn_inputs(rng, dtype):
    """(label, x, gamma, beta) for the batch-norm kernels."""
    for shape in BN_SHAPES:
        c = shape[1]
        yield (f"x {shape}", _rand(rng, shape, dtype, 2.0) + 1, _rand(rng, (c,), dtype),
               _rand(rng, (c,), dtype))
    x = _rand(rng, (6, 3), dtype)
    x[:, 1] = 0.7  # one constant channel: zero variance
    yield "a constant channel", x, np.ones(3, dtype), np.zeros(3, dtype)
    yield ("activations of size 1e6", _rand(rng, (9, 4), dtype, 1e6) + 3e6, np.ones(4, dtype),
           np.zeros(4, dtype))
    yield ("non-contiguous x", _strided(rng, (4, 3, 2, 5), dtype), _rand(rng, (3,), dtype),
           _rand(rng, (3,), dtype))


def batchnorm_forward(rng, dtype):
    for label, x, gamma, beta in _bn_inputs(rng, dtype):
        yield Case(label, (x, gamma, beta, 1e-5))


def batchnorm_normalize(rng, dtype):
    for label, x, gamma, beta in _bn_inputs(rng, dtype):
        c = x.shape[1]
        mean, var = _rand(rng, (c,), dtype), np.abs(_rand(rng, (c,), dtype)) + 0.1
        yield Case(label, (x, mean, var, gamma, beta, 1e-3))


def batchnorm_backward(rng, dtype):
    for label, x, gamma, _ in _bn_inputs(rng, dtype):
        axes = (0,) + tuple(range(2, x.ndim))
        mean = np.asarray(x, np.float64).mean(axis=axes).astype(dtype)
        var = np.asarray(x, np.float64).var(axis=axes).astype(dtype)
        yield Case(label, (_rand(rng, x.shape, dtype), x, mean, var, gamma, 1e-5))


def batchnorm_running_update(rng, dtype):
    for c, count in [(1, 2), (7, 3), (31, 640)]:
        rm, rv = _rand(rng, (c,), dtype), np.abs(_rand(rng, (c,), dtype))
        mean, var = _rand(rng, (c,), dtype), np.abs(_rand(rng, (c,), dtype))
        for momentum in (0.1, 1.0):
            yield Case(f"C={c} count={count} momentum={momentum}",
                       (rm.copy(), rv.copy(), mean, var, momentum, count))


def penalty(rng, dtype):
    for shape in [(1,), (7, 13), (31, 67), (2, 3, 5, 5)]:
        yield Case(f"w {shape}", (_rand(rng, shape, dtype), 1e-3))
    yield Case("lam = 0", (_rand(rng, (5, 3), dtype), 0.0))
    yield Case("non-contiguous w", (_strided(rng, (6, 9), dtype), 0.5))


def penalty_grad(rng, dtype):
    for shape in [(1,), (7, 13), (2, 3, 5, 5)]:
        w = _rand(rng, shape, dtype)
        w.reshape(-1)[0] = 0  # sign(0) = 0
        yield Case(f"w {shape}", (_rand(rng, shape, dtype), w, 1e-2))
    yield Case("non-contiguous w", (_rand(rng, (6, 9), dtype), _strided(rng, (6, 9), dtype), 0.5))
