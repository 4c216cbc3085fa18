"""FLOPs and compulsory bytes of one call of each CNN kernel, from its arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``). A convolution with
N images, C_in input and K output channels, an R x S kernel and a P x Q output costs
2 N K C R S P Q FLOPs (a multiply-add per weight per output), plus N K P Q for the bias.
Shapes follow ``numpy_kernels.py``; every kernel takes NCHW arrays.
"""
from __future__ import annotations

import numpy as np

from ..runtime.costs import elements, nbytes, shape_bytes
from .numpy_kernels import _geometry, pair, transpose_output_shape


def _conv_out(x_shape, w_shape, stride, padding, dilation):
    _, _, _, oh, ow = _geometry(x_shape, w_shape[2], w_shape[3], stride, padding, dilation)
    return oh, ow


def im2col_flops(x, kh, kw, stride=1, padding=0, dilation=1):
    """A copy: 0 FLOPs."""
    return 0.0


def im2col_bytes(x, kh, kw, stride=1, padding=0, dilation=1):
    """Read x; write cols (N, C kh kw, OH OW), kh kw / (sh sw) times the size of x."""
    _, _, _, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    n, c = x.shape[:2]
    return nbytes(x) + shape_bytes((n, c * kh * kw, oh * ow), x.dtype)


def col2im_flops(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """One add per element of cols (each lands on a pixel of x)."""
    return float(elements(cols))


def col2im_bytes(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """Read cols; write x (x_shape)."""
    return nbytes(cols) + shape_bytes(x_shape, cols.dtype)


def conv2d_flops(x, w, b=None, stride=1, padding=0, dilation=1):
    """2 N K C R S P Q, plus N K P Q bias adds when b is given."""
    oh, ow = _conv_out(x.shape, w.shape, stride, padding, dilation)
    n, c_in = x.shape[:2]
    c_out, _, kh, kw = w.shape
    return 2.0 * n * c_out * oh * ow * c_in * kh * kw + (n * c_out * oh * ow if b is not None else 0)


def conv2d_bytes(x, w, b=None, stride=1, padding=0, dilation=1):
    """Read x, w, b; write y (N, K, P, Q). The im2col version also writes and reads its
    unfolded copy, which is not compulsory: that is the direct convolution's case."""
    oh, ow = _conv_out(x.shape, w.shape, stride, padding, dilation)
    return nbytes(x, w, b) + shape_bytes((x.shape[0], w.shape[0], oh, ow), x.dtype)


def conv2d_backward_flops(dy, x, w, stride=1, padding=0, dilation=1):
    """dx and dw each 2 N K C R S P Q (the forward's products, transposed); db: N K P Q adds."""
    return 2.0 * conv2d_flops(x, w, None, stride, padding, dilation) + elements(dy)


def conv2d_backward_bytes(dy, x, w, stride=1, padding=0, dilation=1):
    """Read dy, x, w; write dx (like x), dw (like w), db (K,)."""
    return nbytes(dy) + 2 * nbytes(x, w) + shape_bytes((w.shape[0],), dy.dtype)


def conv_transpose2d_forward_flops(x, w, b=None, stride=1, padding=0, dilation=1, output_padding=0):
    """Each input pixel scatters w[c] (C_out kh kw weights) times its value: 2 N C_in H W
    C_out kh kw, plus a bias add per output element when b is given."""
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    y = transpose_output_shape(x.shape, w.shape, stride, padding, dilation, output_padding)
    return 2.0 * n * c_in * h * wd * c_out * kh * kw + (np.prod(y) if b is not None else 0)


def conv_transpose2d_forward_bytes(x, w, b=None, stride=1, padding=0, dilation=1, output_padding=0):
    """Read x, w, b; write y (N, C_out, OH, OW)."""
    y = transpose_output_shape(x.shape, w.shape, stride, padding, dilation, output_padding)
    return nbytes(x, w, b) + shape_bytes(y, x.dtype)


def conv_transpose2d_backward_flops(dy, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    """dx (a conv2d of dy) and dw each 2 N C_in H W C_out kh kw; db: one add per element of dy."""
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    return 4.0 * n * c_in * h * wd * c_out * kh * kw + elements(dy)


def conv_transpose2d_backward_bytes(dy, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    """Read dy, x, w; write dx (like x), dw (like w), db (C_out,)."""
    return nbytes(dy) + 2 * nbytes(x, w) + shape_bytes((w.shape[1],), dy.dtype)


def _pool_out(x_shape, kernel, stride, padding):
    kh, kw = pair(kernel)
    _, _, _, oh, ow = _geometry(x_shape, kh, kw, kernel if stride is None else stride, padding, 1)
    return kh, kw, oh, ow


def maxpool2d_forward_flops(x, kernel, stride=None, padding=0):
    """One selecting comparison per window element: N C OH OW kh kw."""
    kh, kw, oh, ow = _pool_out(x.shape, kernel, stride, padding)
    return float(x.shape[0] * x.shape[1] * oh * ow * kh * kw)


def maxpool2d_forward_bytes(x, kernel, stride=None, padding=0):
    """Read x; write y (N, C, OH, OW) and argmax (the same shape, int64)."""
    _, _, oh, ow = _pool_out(x.shape, kernel, stride, padding)
    out = x.shape[:2] + (oh, ow)
    return nbytes(x) + shape_bytes(out, x.dtype) + shape_bytes(out, np.int64)


def maxpool2d_backward_flops(dy, argmax, x_shape):
    """One add per element of dy (into the pixel that won its window)."""
    return float(elements(dy))


def maxpool2d_backward_bytes(dy, argmax, x_shape):
    """Read dy and argmax; write dx (x_shape)."""
    return nbytes(dy, argmax) + shape_bytes(x_shape, dy.dtype)


def avgpool2d_forward_flops(x, kernel, stride=None, padding=0):
    """kh kw adds and one divide per output: N C OH OW (kh kw + 1)."""
    kh, kw, oh, ow = _pool_out(x.shape, kernel, stride, padding)
    return float(x.shape[0] * x.shape[1] * oh * ow * (kh * kw + 1))


def avgpool2d_forward_bytes(x, kernel, stride=None, padding=0):
    """Read x; write y (N, C, OH, OW)."""
    _, _, oh, ow = _pool_out(x.shape, kernel, stride, padding)
    return nbytes(x) + shape_bytes(x.shape[:2] + (oh, ow), x.dtype)


def avgpool2d_backward_flops(dy, x_shape, kernel, stride=None, padding=0):
    """One divide per element of dy, and kh kw adds of its share: N C OH OW (kh kw + 1)."""
    kh, kw = pair(kernel)
    return float(elements(dy) * (kh * kw + 1))


def avgpool2d_backward_bytes(dy, x_shape, kernel, stride=None, padding=0):
    """Read dy; write dx (x_shape)."""
    return nbytes(dy) + shape_bytes(x_shape, dy.dtype)


def flatten_forward_flops(x):
    """A reshape: 0 FLOPs."""
    return 0.0


def flatten_forward_bytes(x):
    """Read x, write y, by the convention; a contiguous reshape is a view and moves nothing,
    which is why its measured GB/s can pass any bandwidth."""
    return 2 * nbytes(x)


def flatten_backward_flops(dy, x_shape):
    """A reshape: 0 FLOPs."""
    return 0.0


def flatten_backward_bytes(dy, x_shape):
    """Read dy, write dx, by the convention (as flatten_forward_bytes)."""
    return 2 * nbytes(dy)
