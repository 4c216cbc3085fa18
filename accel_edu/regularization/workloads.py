"""Benchmark inputs for the regularization kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`).

    elementwise, penalties, Philox   64 Ki, 1 Mi, 16 Mi numbers
    batch norm                       x (N, C, H, W) = (16, 16, 16, 16), (32, 32, 32, 32), (64, 64, 64, 64)
    running statistics               C = 256, 4,096, 65,536 channels
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from ..runtime.workloads import ELEMENTS, check_size, pick, positive, rand, rows


def philox4x32(rng, dtype, size):
    blocks = ELEMENTS[check_size(size)] // 4
    return Case(f"{blocks:,} counters", (rng.integers(0, 2 ** 32, (blocks, 4), dtype=np.uint32),
                                         np.array([7, 11], np.uint32)))


def philox_uniform(rng, dtype, size):
    n = ELEMENTS[check_size(size)]
    return Case(f"n={n:,}", (n, 1234, 0), dict(dtype=dtype))


def dropout_forward(rng, dtype, size):
    shape = rows(size)
    return Case(f"x {shape} p=0.5", (rand(rng, shape, dtype), 0.5, 7, 0))


def dropout_backward(rng, dtype, size):
    shape = rows(size)
    return Case(f"dy {shape} p=0.5", (rand(rng, shape, dtype), rng.integers(0, 2, shape).astype(np.uint8), 0.5))


def _images(rng, dtype, size):
    n, c, h, w = pick(size, (16, 16, 16, 16), (32, 32, 32, 32), (64, 64, 64, 64))
    return rand(rng, (n, c, h, w), dtype), c


def batchnorm_forward(rng, dtype, size):
    x, c = _images(rng, dtype, size)
    return Case(f"x {x.shape}", (x, positive(rng, c, dtype), rand(rng, c, dtype), 1e-5))


def batchnorm_normalize(rng, dtype, size):
    x, c = _images(rng, dtype, size)
    return Case(f"x {x.shape}", (x, rand(rng, c, dtype), positive(rng, c, dtype), positive(rng, c, dtype),
                                 rand(rng, c, dtype), 1e-5))


def batchnorm_backward(rng, dtype, size):
    x, c = _images(rng, dtype, size)
    return Case(f"x {x.shape}", (rand(rng, x.shape, dtype), x, rand(rng, c, dtype), positive(rng, c, dtype),
                                 positive(rng, c, dtype), 1e-5))


def batchnorm_running_update(rng, dtype, size):
    c = pick(size, 256, 4096, 65536)
    return Case(f"C={c:,}", (rand(rng, c, dtype), positive(rng, c, dtype), rand(rng, c, dtype),
                             positive(rng, c, dtype), 0.1, 1024))


def penalty(rng, dtype, size):
    shape = rows(size)
    return Case(f"w {shape}", (rand(rng, shape, dtype), 1e-3))


def penalty_grad(rng, dtype, size):
    shape = rows(size)
    return Case(f"w {shape}", (rand(rng, shape, dtype), rand(rng, shape, dtype), 1e-3))


WORKLOADS = {
    "philox4x32": philox4x32, "philox_uniform": philox_uniform, "dropout_forward": dropout_forward,
    "dropout_backward": dropout_backward, "batchnorm_forward": batchnorm_forward,
    "batchnorm_normalize": batchnorm_normalize, "batchnorm_backward": batchnorm_backward,
    "batchnorm_running_update": batchnorm_running_update, "l2_penalty": penalty, "l1_penalty": penalty,
    "l2_penalty_grad": penalty_grad, "l1_penalty_grad": penalty_grad,
}
