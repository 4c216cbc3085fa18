"""Benchmark inputs for the backprop kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`).

    gemm                 square n x n: n = 128, 512, 1024
    linear_*             x (N, D_in), w (D_out, D_in): (64, 256, 256), (256, 1024, 1024), (1024, 1024, 1024)
    elementwise, losses  (N, 1024) arrays of 64 Ki, 1 Mi, 16 Mi elements
    softmax_cross_entropy (N, C) logits: (256, 100), (1024, 1000), (4096, 1000)
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from ..runtime.workloads import pick, rand, rows


def gemm(rng, dtype, size):
    n = pick(size, 128, 512, 1024)
    return Case(f"n={n}", (rand(rng, (n, n), dtype), rand(rng, (n, n), dtype)))


def _linear_shape(size):
    return pick(size, (64, 256, 256), (256, 1024, 1024), (1024, 1024, 1024))


def linear_forward(rng, dtype, size):
    n, d_in, d_out = _linear_shape(size)
    return Case(f"N={n} D_in={d_in} D_out={d_out}",
                (rand(rng, (n, d_in), dtype), rand(rng, (d_out, d_in), dtype), rand(rng, (d_out,), dtype)))


def linear_backward(rng, dtype, size):
    n, d_in, d_out = _linear_shape(size)
    return Case(f"N={n} D_in={d_in} D_out={d_out}",
                (rand(rng, (n, d_out), dtype), rand(rng, (n, d_in), dtype), rand(rng, (d_out, d_in), dtype)))


def bias_grad(rng, dtype, size):
    shape = rows(size)
    return Case(f"dy {shape}", (rand(rng, shape, dtype),))


def unary(rng, dtype, size):
    shape = rows(size)
    return Case(f"x {shape}", (rand(rng, shape, dtype),))


def backward_from_input(rng, dtype, size):
    shape = rows(size)
    return Case(f"dy, x {shape}", (rand(rng, shape, dtype), rand(rng, shape, dtype)))


def backward_from_sigmoid(rng, dtype, size):
    shape = rows(size)
    return Case(f"dy, y {shape}", (rand(rng, shape, dtype), rng.random(shape).astype(dtype)))


def backward_from_tanh(rng, dtype, size):
    shape = rows(size)
    return Case(f"dy, y {shape}", (rand(rng, shape, dtype), np.tanh(rand(rng, shape, dtype))))


def softmax_cross_entropy(rng, dtype, size):
    n, c = pick(size, (256, 100), (1024, 1000), (4096, 1000))
    return Case(f"N={n} C={c}", (rand(rng, (n, c), dtype, 3.0), rng.integers(0, c, n)))


def mse(rng, dtype, size):
    shape = rows(size)
    return Case(f"{shape}", (rand(rng, shape, dtype), rand(rng, shape, dtype)))


def sgd_update(rng, dtype, size):
    shape = rows(size)
    return Case(f"{shape}", (rand(rng, shape, dtype), rand(rng, shape, dtype), 0.01))


WORKLOADS = {
    "gemm": gemm, "linear_forward": linear_forward, "linear_backward": linear_backward,
    "bias_grad": bias_grad, "relu_forward": unary, "sigmoid_forward": unary, "tanh_forward": unary,
    "relu_backward": backward_from_input, "sigmoid_backward": backward_from_sigmoid,
    "tanh_backward": backward_from_tanh, "softmax_cross_entropy": softmax_cross_entropy,
    "mse": mse, "sgd_update": sgd_update,
}
