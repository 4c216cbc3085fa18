"""The argument check of each CNN kernel, shared by all three backends.

Each check takes the kernel's own arguments and raises ValueError naming the bad one, with
what was expected and what was given.
"""
from __future__ import annotations

import numpy as np

from ..runtime.checks import check_array, check_same_dtype
from .numpy_kernels import output_size

_AXES = ("height", "width")


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def check_pair(name, value, minimum):
    """An int >= minimum, or an (h, w) pair of them, as an (h, w) tuple."""
    v = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(v) != 2 or not all(_is_int(a) and a >= minimum for a in v):
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind} or an (h, w) pair of them; got {value!r}")
    return int(v[0]), int(v[1])


def check_shape(name, shape, ndim=4):
    """A shape tuple of ``ndim`` positive ints, such as x_shape."""
    if not (isinstance(shape, (tuple, list)) and len(shape) == ndim and all(_is_int(a) and a > 0 for a in shape)):
        raise ValueError(f"{name} must be a tuple of {ndim} positive ints (N, C, H, W); got {shape!r}")
    return tuple(int(a) for a in shape)


def _window(x_shape, kernel, stride, padding, dilation, *, pooling=False):
    """Check the sliding-window geometry; return (OH, OW)."""
    k = check_pair("kernel", kernel, 1)
    s = check_pair("stride", stride, 1)
    p = check_pair("padding", padding, 0)
    d = check_pair("dilation", dilation, 1)
    out = []
    for ax in range(2):
        size = x_shape[2 + ax]
        if pooling and p[ax] > k[ax] // 2:
            raise ValueError(f"padding must be at most half the kernel for pooling, so that every window "
                             f"holds a real pixel; got padding {padding!r} with kernel {kernel!r}")
        if d[ax] * (k[ax] - 1) + 1 > size + 2 * p[ax]:
            raise ValueError(f"kernel {k[ax]} with padding {p[ax]} and dilation {d[ax]} does not fit an "
                             f"input of {_AXES[ax]} {size} (it spans {d[ax] * (k[ax] - 1) + 1}, the padded "
                             f"input {size + 2 * p[ax]})")
        out.append(output_size(size, k[ax], s[ax], p[ax], d[ax]))
    return tuple(out)


def _expect(name, a, shape, what):
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, {what}; got {tuple(a.shape)}")


def _conv_weight(x, w, b, in_axis, arg):
    check_array("x", x, ndim=4)
    check_array("w", w, ndim=4)
    check_same_dtype(x=x, w=w)
    if w.shape[in_axis] != x.shape[1]:
        raise ValueError(f"x and w disagree on the input channels: x of shape {tuple(x.shape)} has "
                         f"{x.shape[1]}, w of shape {tuple(w.shape)} expects {w.shape[in_axis]} ({arg})")
    if b is not None:
        check_array("b", b, ndim=1)
        check_same_dtype(x=x, b=b)
        _expect("b", b, (w.shape[1 - in_axis],), "one bias per output channel")


# -- im2col / col2im ---------------------------------------------------------------------------

def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    check_array("x", x, ndim=4)
    for name, k in (("kh", kh), ("kw", kw)):
        if not (_is_int(k) and k >= 1):
            raise ValueError(f"{name} must be a positive int; got {k!r}")
    _window(x.shape, (kh, kw), stride, padding, dilation)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    check_array("cols", cols, ndim=3)
    n, c, h, w = check_shape("x_shape", x_shape)
    for name, k in (("kh", kh), ("kw", kw)):
        if not (_is_int(k) and k >= 1):
            raise ValueError(f"{name} must be a positive int; got {k!r}")
    oh, ow = _window(x_shape, (kh, kw), stride, padding, dilation)
    _expect("cols", cols, (n, c * kh * kw, oh * ow), f"im2col's output for x_shape {tuple(x_shape)}")


# -- convolution -------------------------------------------------------------------------------

def conv2d_output_hw(x_shape, w_shape, stride=1, padding=0, dilation=1):
    """(OH, OW) of a convolution of an x of ``x_shape`` with a w of ``w_shape``, checked."""
    return _window(x_shape, w_shape[2:], stride, padding, dilation)


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    _conv_weight(x, w, b, 1, "w is (C_out, C_in, kh, kw)")
    _window(x.shape, w.shape[2:], stride, padding, dilation)


conv2d_direct_forward = conv2d_forward


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1):
    _conv_weight(x, w, None, 1, "w is (C_out, C_in, kh, kw)")
    check_array("dy", dy, ndim=4)
    check_same_dtype(x=x, dy=dy)
    oh, ow = _window(x.shape, w.shape[2:], stride, padding, dilation)
    _expect("dy", dy, (x.shape[0], w.shape[0], oh, ow), "the shape of the convolution's output")


def _transpose_out(x, w, stride, padding, dilation, output_padding):
    s = check_pair("stride", stride, 1)
    p = check_pair("padding", padding, 0)
    d = check_pair("dilation", dilation, 1)
    op = check_pair("output_padding", output_padding, 0)
    out = []
    for ax in range(2):
        if op[ax] >= max(s[ax], d[ax]):
            raise ValueError(f"output_padding must be smaller than the stride or the dilation; got "
                             f"output_padding {output_padding!r} with stride {stride!r} and dilation {dilation!r}")
        size = (x.shape[2 + ax] - 1) * s[ax] - 2 * p[ax] + d[ax] * (w.shape[2 + ax] - 1) + 1 + op[ax]
        if size < 1:
            raise ValueError(f"padding {p[ax]} is too large: the output {_AXES[ax]} would be {size} for an "
                             f"input of {_AXES[ax]} {x.shape[2 + ax]} and kernel {w.shape[2 + ax]}")
        out.append(size)
    return tuple(out)


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, output_padding=0):
    _conv_weight(x, w, b, 0, "w is (C_in, C_out, kh, kw) for a transposed convolution")
    _transpose_out(x, w, stride, padding, dilation, output_padding)


def conv_transpose2d_backward(dy, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    _conv_weight(x, w, None, 0, "w is (C_in, C_out, kh, kw) for a transposed convolution")
    check_array("dy", dy, ndim=4)
    check_same_dtype(x=x, dy=dy)
    oh, ow = _transpose_out(x, w, stride, padding, dilation, output_padding)
    _expect("dy", dy, (x.shape[0], w.shape[1], oh, ow), "the shape of the transposed convolution's output")


# -- pooling and flatten -----------------------------------------------------------------------

def _pool(x_shape, kernel, stride, padding):
    return _window(x_shape, kernel, kernel if stride is None else stride, padding, 1, pooling=True)


def maxpool2d_forward(x, kernel, stride=None, padding=0):
    check_array("x", x, ndim=4)
    _pool(x.shape, kernel, stride, padding)


def maxpool2d_backward(dy, argmax, x_shape):
    check_array("dy", dy, ndim=4)
    n, c, h, w = check_shape("x_shape", x_shape)
    if not (hasattr(argmax, "dtype") and argmax.dtype == np.int64):
        raise ValueError(f"argmax must be an int64 array, as maxpool2d_forward returns; got "
                         f"{type(argmax).__name__} of dtype {getattr(argmax, 'dtype', None)}")
    _expect("argmax", argmax, dy.shape, "the same as dy")
    if dy.shape[:2] != (n, c):
        raise ValueError(f"dy must have N={n} and C={c} to match x_shape {tuple(x_shape)}; got {tuple(dy.shape)}")
    if isinstance(argmax, np.ndarray) and (argmax.min() < 0 or argmax.max() >= h * w):
        raise ValueError(f"argmax must hold flat indices into an {h}x{w} plane, in [0, {h * w}); "
                         f"found {argmax.min()}..{argmax.max()}")


def avgpool2d_forward(x, kernel, stride=None, padding=0):
    check_array("x", x, ndim=4)
    _pool(x.shape, kernel, stride, padding)


def avgpool2d_backward(dy, x_shape, kernel, stride=None, padding=0):
    check_array("dy", dy, ndim=4)
    n, c, _, _ = check_shape("x_shape", x_shape)
    oh, ow = _pool(x_shape, kernel, stride, padding)
    _expect("dy", dy, (n, c, oh, ow), "the shape of the pooling's output")


def flatten_forward(x):
    check_array("x", x, ndim=(2, 3, 4, 5))


def flatten_backward(dy, x_shape):
    check_array("dy", dy, ndim=2)
    if not (isinstance(x_shape, (tuple, list)) and len(x_shape) >= 2 and all(_is_int(a) and a > 0 for a in x_shape)):
        raise ValueError(f"x_shape must be a tuple of at least 2 positive ints (N, ...); got {x_shape!r}")
    _expect("dy", dy, (x_shape[0], int(np.prod(x_shape[1:]))), f"x_shape {tuple(x_shape)} flattened")
