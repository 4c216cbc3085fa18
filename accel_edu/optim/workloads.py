"""Benchmark inputs for the optimizer kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`): parameter vectors of 64 Ki, 1 Mi and 16 Mi numbers (a
model's worth at large), each with its gradient and state.
"""
from __future__ import annotations

from ..runtime import Case
from ..runtime.workloads import ELEMENTS, check_size, positive, rand


def _n(size):
    return ELEMENTS[check_size(size)]


def sgd_momentum_update(rng, dtype, size):
    n = _n(size)
    return Case(f"n={n:,} momentum 0.9", (rand(rng, n, dtype), rand(rng, n, dtype), rand(rng, n, dtype), 0.05),
                dict(momentum=0.9))


def adagrad_update(rng, dtype, size):
    n = _n(size)
    return Case(f"n={n:,}", (rand(rng, n, dtype), rand(rng, n, dtype), positive(rng, n, dtype), 0.01))


def rmsprop_update(rng, dtype, size):
    n = _n(size)
    return Case(f"n={n:,}", (rand(rng, n, dtype), rand(rng, n, dtype), positive(rng, n, dtype), 0.01))


def adam_update(rng, dtype, size):
    n = _n(size)
    return Case(f"n={n:,} step 7", (rand(rng, n, dtype), rand(rng, n, dtype), rand(rng, n, dtype, 0.1),
                                    positive(rng, n, dtype) * 0.01, 1e-3), dict(step=7))


def sum_of_squares(rng, dtype, size):
    n = _n(size)
    return Case(f"two tensors of {n // 2:,}", (rand(rng, n // 2, dtype), rand(rng, n // 2, dtype)))


def scale_inplace(rng, dtype, size):
    n = _n(size)
    # Close to 1: a benchmark calls it thousands of times in place, and 0.5 would reach
    # denormals (slow on a CPU) after about 130 calls.
    return Case(f"n={n:,}", (rand(rng, n, dtype), 0.999))


WORKLOADS = {
    "sgd_momentum_update": sgd_momentum_update, "adagrad_update": adagrad_update,
    "rmsprop_update": rmsprop_update, "adam_update": adam_update, "adamw_update": adam_update,
    "sum_of_squares": sum_of_squares, "scale_inplace": scale_inplace,
}
