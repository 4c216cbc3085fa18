"""Benchmark inputs for the CNN kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`). 3x3 kernels, padding 1, NCHW:

    convolutions   x (N, C_in, H, W) -> C_out:  (8, 16, 16, 16) -> 32 (38 MFLOP forward),
                   (32, 32, 32, 32) -> 64 (1.2 GFLOP), (64, 64, 32, 32) -> 64 (4.8 GFLOP)
    transposed     x (8, 32, 8, 8), (32, 64, 16, 16), (64, 64, 32, 32), stride 2 (doubles H, W)
    im2col/col2im  the convolutions' x
    pooling        2x2 windows, stride 2, on (8, 32, 16, 16), (32, 64, 32, 32), (64, 64, 64, 64)
    flatten        the pooling sizes
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from ..runtime.workloads import by_size, pick, rand
from . import numpy_kernels as ref

CONV = {"small": ((8, 16, 16, 16), 32), "medium": ((32, 32, 32, 32), 64), "large": ((64, 64, 32, 32), 64)}
TRANSPOSED = {"small": ((8, 32, 8, 8), 16), "medium": ((32, 64, 16, 16), 32), "large": ((64, 64, 32, 32), 32)}
K, PAD = 3, 1


def _pool_shape(size):
    return pick(size, (8, 32, 16, 16), (32, 64, 32, 32), (64, 64, 64, 64))


def _conv_x_w(rng, dtype, size):
    x_shape, c_out = by_size(CONV, size)
    return rand(rng, x_shape, dtype), rand(rng, (c_out, x_shape[1], K, K), dtype, 0.1)


def im2col(rng, dtype, size):
    x, _ = _conv_x_w(rng, dtype, size)
    return Case(f"x {x.shape}, 3x3", (x, K, K), dict(padding=PAD))


def col2im(rng, dtype, size):
    x, _ = _conv_x_w(rng, dtype, size)
    cols = ref.im2col(x, K, K, padding=PAD)
    return Case(f"x {x.shape}, 3x3", (cols, x.shape, K, K), dict(padding=PAD))


def conv2d_forward(rng, dtype, size):
    x, w = _conv_x_w(rng, dtype, size)
    return Case(f"x {x.shape}, w {w.shape}", (x, w, rand(rng, (w.shape[0],), dtype)), dict(padding=PAD))


def conv2d_backward(rng, dtype, size):
    x, w = _conv_x_w(rng, dtype, size)
    dy = rand(rng, (x.shape[0], w.shape[0]) + x.shape[2:], dtype)
    return Case(f"x {x.shape}, w {w.shape}", (dy, x, w), dict(padding=PAD))


def _transposed(rng, dtype, size):
    x_shape, c_out = by_size(TRANSPOSED, size)
    kw = dict(stride=2, padding=PAD, output_padding=1)
    return rand(rng, x_shape, dtype), rand(rng, (x_shape[1], c_out, K, K), dtype, 0.1), kw


def conv_transpose2d_forward(rng, dtype, size):
    x, w, kw = _transposed(rng, dtype, size)
    return Case(f"x {x.shape}, w {w.shape}, stride 2", (x, w, rand(rng, (w.shape[1],), dtype)), kw)


def conv_transpose2d_backward(rng, dtype, size):
    x, w, kw = _transposed(rng, dtype, size)
    y_shape = ref.transpose_output_shape(x.shape, w.shape, **kw)
    return Case(f"x {x.shape}, w {w.shape}, stride 2", (rand(rng, y_shape, dtype), x, w), kw)


def maxpool2d_forward(rng, dtype, size):
    shape = _pool_shape(size)
    return Case(f"x {shape}, 2x2", (rand(rng, shape, dtype),), dict(kernel=2))


def maxpool2d_backward(rng, dtype, size):
    shape = _pool_shape(size)
    y, argmax = ref.maxpool2d_forward(rand(rng, shape, dtype), 2)
    return Case(f"x {shape}, 2x2", (rand(rng, y.shape, dtype), argmax, shape))


def avgpool2d_forward(rng, dtype, size):
    shape = _pool_shape(size)
    return Case(f"x {shape}, 2x2", (rand(rng, shape, dtype),), dict(kernel=2))


def avgpool2d_backward(rng, dtype, size):
    shape = _pool_shape(size)
    dy_shape = shape[:2] + (shape[2] // 2, shape[3] // 2)
    return Case(f"x {shape}, 2x2", (rand(rng, dy_shape, dtype), shape), dict(kernel=2))


def flatten_forward(rng, dtype, size):
    shape = _pool_shape(size)
    return Case(f"x {shape}", (rand(rng, shape, dtype),))


def flatten_backward(rng, dtype, size):
    shape = _pool_shape(size)
    return Case(f"x {shape}", (rand(rng, (shape[0], int(np.prod(shape[1:]))), dtype), shape))


WORKLOADS = {
    "im2col": im2col, "col2im": col2im, "conv2d_forward": conv2d_forward,
    "conv2d_direct_forward": conv2d_forward, "conv2d_backward": conv2d_backward,
    "conv_transpose2d_forward": conv_transpose2d_forward,
    "conv_transpose2d_backward": conv_transpose2d_backward,
    "maxpool2d_forward": maxpool2d_forward, "maxpool2d_backward": maxpool2d_backward,
    "avgpool2d_forward": avgpool2d_forward, "avgpool2d_backward": avgpool2d_backward,
    "flatten_forward": flatten_forward, "flatten_backward": flatten_backward,
}
