"""Awkward inputs for the cross-backend check of each CNN kernel.

Batch 1, a single channel, odd and prime sizes, stride 2 with padding 1, dilation 2,
non-square kernels and strides, a kernel as large as the input, a 1x1 kernel, and
non-contiguous views of x (every other column of a wider image).
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from . import numpy_kernels as ref

# (label, N, C_in, C_out, H, W, kh, kw, stride, padding, dilation)
CONV = [("batch 1, one channel", 1, 1, 1, 5, 5, 3, 3, 1, 0, 1),
        ("odd sizes, padding 1", 2, 3, 4, 7, 9, 3, 3, 1, 1, 1),
        ("stride 2, padding 1", 3, 2, 5, 11, 13, 3, 3, 2, 1, 1),
        ("dilation 2", 2, 3, 2, 9, 10, 3, 3, 1, 2, 2),
        ("non-square kernel, stride and padding", 2, 2, 3, 8, 11, 2, 5, (2, 1), (0, 2), 1),
        ("kernel as large as the input", 2, 3, 4, 5, 5, 5, 5, 1, 0, 1),
        ("1x1 kernel", 2, 5, 3, 6, 7, 1, 1, 1, 0, 1),
        ("LeNet's second layer", 4, 6, 16, 12, 12, 5, 5, 1, 0, 1)]

# (label, N, C_in, C_out, H, W, kh, kw, stride, padding, dilation, output_padding)
TRANSPOSE = [("batch 1, one channel", 1, 1, 1, 4, 4, 3, 3, 1, 0, 1, 0),
             ("stride 2, kernel 2 (exact 2x upsampling)", 2, 3, 2, 5, 6, 2, 2, 2, 0, 1, 0),
             ("stride 2, padding 1, output_padding 1", 2, 2, 3, 7, 5, 3, 3, 2, 1, 1, 1),
             ("non-square, dilation 2", 1, 3, 2, 4, 6, 2, 3, (1, 2), (0, 1), 2, 0)]

# (label, N, C, H, W, kernel, stride, padding)
POOL = [("batch 1, one channel, 2x2", 1, 1, 4, 4, 2, 2, 0),
        ("odd sizes, overlapping, padding 1", 2, 3, 7, 9, 3, 2, 1),
        ("non-square kernel and stride", 2, 2, 5, 6, (2, 3), (1, 2), (1, 1)),
        ("stride defaults to the kernel, ragged edge", 3, 4, 9, 8, 2, None, 0),
        ("stride 1, padding 1", 1, 2, 6, 7, 3, 1, 1)]


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _image(rng, shape, dtype, strided=False):
    """An NCHW image; with ``strided``, a non-contiguous view (every other column of a wider one)."""
    if not strided:
        return _rand(rng, shape, dtype)
    return _rand(rng, shape[:-1] + (2 * shape[-1],), dtype)[..., ::2]


def _conv_args(rng, dtype):
    """(label, x, w, b, kwargs) for every conv geometry, the last one again with a strided x."""
    for k, (label, n, ci, co, h, w, kh, kw, s, p, d) in enumerate(CONV + CONV[1:2]):
        strided = k == len(CONV)
        x = _image(rng, (n, ci, h, w), dtype, strided)
        yield (label + (", non-contiguous x" if strided else ""), x, _rand(rng, (co, ci, kh, kw), dtype),
               _rand(rng, (co,), dtype), dict(stride=s, padding=p, dilation=d))


def im2col(rng, dtype):
    for label, x, w, _, kw in _conv_args(rng, dtype):
        yield Case(label, (x,) + w.shape[2:], kw)


def col2im(rng, dtype):
    for label, x, w, _, kw in _conv_args(rng, dtype):
        cols = ref.im2col(x, *w.shape[2:], **kw)
        yield Case(label, (_rand(rng, cols.shape, dtype), x.shape) + w.shape[2:], kw)


def conv2d_forward(rng, dtype):
    for label, x, w, b, kw in _conv_args(rng, dtype):
        yield Case(label, (x, w, b), kw)
    label, x, w, _, kw = next(_conv_args(rng, dtype))
    yield Case("no bias", (x, w, None), kw)


conv2d_direct_forward = conv2d_forward


def conv2d_backward(rng, dtype):
    for label, x, w, b, kw in _conv_args(rng, dtype):
        dy = _image(rng, ref.conv2d_forward(x, w, b, **kw).shape, dtype, strided="non-contiguous" in label)
        yield Case(label, (dy, x, w), kw)


def _transpose_args(rng, dtype):
    for label, n, ci, co, h, w, kh, kw, s, p, d, op in TRANSPOSE:
        yield (label, _rand(rng, (n, ci, h, w), dtype), _rand(rng, (ci, co, kh, kw), dtype),
               _rand(rng, (co,), dtype), dict(stride=s, padding=p, dilation=d, output_padding=op))


def conv_transpose2d_forward(rng, dtype):
    for label, x, w, b, kw in _transpose_args(rng, dtype):
        yield Case(label, (x, w, b), kw)
    yield Case("non-contiguous x, no bias", (_image(rng, (2, 3, 5, 4), dtype, True), _rand(rng, (3, 2, 3, 3), dtype),
                                             None), dict(stride=2, padding=1))


def conv_transpose2d_backward(rng, dtype):
    for label, x, w, b, kw in _transpose_args(rng, dtype):
        yield Case(label, (_rand(rng, ref.conv_transpose2d_forward(x, w, b, **kw).shape, dtype), x, w), kw)


def _pool_args(rng, dtype):
    for k, (label, n, c, h, w, kernel, s, p) in enumerate(POOL + POOL[1:2]):
        strided = k == len(POOL)
        yield (label + (", non-contiguous x" if strided else ""), _image(rng, (n, c, h, w), dtype, strided),
               dict(kernel=kernel, stride=s, padding=p))


def maxpool2d_forward(rng, dtype):
    for label, x, kw in _pool_args(rng, dtype):
        yield Case(label, (x,), kw)


def maxpool2d_backward(rng, dtype):
    for label, x, kw in _pool_args(rng, dtype):
        y, argmax = ref.maxpool2d_forward(x, **kw)
        yield Case(label, (_rand(rng, y.shape, dtype), argmax, x.shape))


def avgpool2d_forward(rng, dtype):
    for label, x, kw in _pool_args(rng, dtype):
        yield Case(label, (x,), kw)


def avgpool2d_backward(rng, dtype):
    for label, x, kw in _pool_args(rng, dtype):
        dy = _rand(rng, ref.avgpool2d_forward(x, **kw).shape, dtype)
        yield Case(label, (dy, x.shape), kw)


def flatten_forward(rng, dtype):
    yield Case("batch 1, one channel", (_rand(rng, (1, 1, 3, 5), dtype),))
    yield Case("odd sizes", (_rand(rng, (3, 4, 5, 7), dtype),))
    yield Case("non-contiguous x", (_image(rng, (2, 3, 4, 5), dtype, True),))


def flatten_backward(rng, dtype):
    for shape in [(1, 1, 3, 5), (3, 4, 5, 7)]:
        yield Case(f"x_shape {shape}", (_rand(rng, (shape[0], int(np.prod(shape[1:]))), dtype), shape))
