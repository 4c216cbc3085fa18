"""OpenCL host code of the CNN chapter: pick the kernel, size the grid, launch.

Each public function has the name, signature and output shapes of its twin in
``numpy_kernels.py``, but takes and returns DeviceArrays: nothing here copies to the host.
The kernels are OpenCL C in the ``*.cl`` files beside this one: ``im2col.cl`` (im2col and
col2im), ``layout.cl`` (NCHW <-> the GEMM's matrices, bias), ``conv_direct.cl`` and
``pool.cl``. Each is compiled once per dtype; every size is passed as an int argument, so no
geometry ever triggers a new build.

The im2col + GEMM convolution unfolds the whole batch into one matrix, cols_t of shape
(C*kh*kw, N*OH*OW), batch inside the columns, so that each product is one call of the
backprop chapter's GEMM rather than N small ones. That matrix is kh*kw times the size of x,
and on PoCL's CPU device moving it costs more than the arithmetic: for x (32, 64, 32, 32),
w (64, 64, 3, 3), padding 1 (a 75 MB cols_t), the forward measured about 300 ms, of which
im2col 60, the GEMM's packing of cols_t 170, the GEMM itself 45; the direct convolution,
which never builds cols_t, 60-75 ms. (Device times on a shared 2-core machine; rough.)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backprop.opencl_kernels import gemm
from ..runtime.opencl import empty, launch, round_up
from .numpy_kernels import output_size, pair, transpose_output_shape

HERE = Path(__file__).parent

LADDERS = {"conv2d_direct_forward": ["naive", "register_tiled"]}

GROUP = 64        # work-items per work-group, all along dimension 0 (see _grid)
TILE_P = 4        # conv_direct.cl's TILE_P: output pixels per work-item in the register tile
TILES_PER_GROUP = 8   # register tile: work-items side by side along the pixels share a weight panel

def _run(source: str, name: str, global_size, local_size, args, dtype, **defines) -> None:
    """runtime.opencl.launch of kernel ``name`` in the ``.cl`` file ``source`` beside this one."""
    launch(HERE / source, name, global_size, local_size, args, dtype, **defines)


def _grid(*sizes):
    """(global size, local size) for at least ``sizes`` work-items: dimension 0 rounded up to a
    work-group of GROUP, the others exact. Every kernel checks that its item exists.

    The work-group is always given, never left to the driver: PoCL compiles a kernel anew for
    each work-group size it runs with (about a second each, cold), and left to choose it picks
    a different size for almost every grid, so the CNN tests alone took minutes to compile.
    """
    return (round_up(sizes[0], GROUP), *sizes[1:]), (GROUP,) + (1,) * (len(sizes) - 1)


def _geometry(x_shape, kh, kw, stride, padding, dilation):
    """[sh, sw, ph, pw, dh, dw], OH, OW: the window's ints, in the order the kernels take them."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    return ([sh, sw, ph, pw, dh, dw],
            output_size(x_shape[2], kh, sh, ph, dh), output_size(x_shape[3], kw, sw, pw, dw))


# -- im2col and its adjoint ---------------------------------------------------------------------

def _unfold(x, kh, kw, window, oh, ow, batch_inside):
    """im2col.cl's im2col: (N, C*kh*kw, OH*OW), or with batch_inside (C*kh*kw, N*OH*OW).
    One work-item per row of OW outputs."""
    n, c, h, w = x.shape
    rows, p = c * kh * kw, oh * ow
    cols = empty((rows, n * p) if batch_inside else (n, rows, p), x.dtype)
    strides = [n * p, p] if batch_inside else [p, rows * p]          # row_stride, batch_stride
    _run("im2col.cl", "im2col", *_grid(n * oh, rows),
         [n, c, h, w, kh, kw, *window, oh, ow, *strides, x, cols], x.dtype)
    return cols


def _fold(cols, x_shape, kh, kw, window, oh, ow, batch_inside):
    """im2col.cl's col2im, the adjoint of _unfold: x_shape, from either layout of cols.
    One work-item per input row, which it alone writes."""
    n, c, h, w = x_shape
    p = oh * ow
    x = empty(tuple(x_shape), cols.dtype)
    strides = [n * p, p] if batch_inside else [p, c * kh * kw * p]
    _run("im2col.cl", "col2im", *_grid(n * c * h),
         [n, c, h, w, kh, kw, *window, oh, ow, *strides, cols, x], cols.dtype)
    return x


def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold every receptive field of x into a column, one work-item per row of OW outputs.

    x: (N, C, H, W)  ->  cols: (N, C*kh*kw, OH*OW), rows ordered (c, i, j) as in the reference.
    """
    window, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    return _unfold(x, kh, kw, window, oh, ow, batch_inside=False)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """The adjoint of im2col, as a gather: one work-item per row of x sums what it is owed.

    cols: (N, C*kh*kw, OH*OW), x_shape: (N, C, H, W)  ->  x: (N, C, H, W)
    """
    x_shape = tuple(int(a) for a in x_shape)
    window, oh, ow = _geometry(x_shape, kh, kw, stride, padding, dilation)
    return _fold(cols, x_shape, kh, kw, window, oh, ow, batch_inside=False)


# -- layout changes between NCHW and the GEMM's matrices ------------------------------------

def _batch_to_channels(a):
    """(N, C, ...) -> (C, N*prod(...)): the batch moved inside each channel's row."""
    n, c = a.shape[:2]
    p = a.size // (n * c)
    out = empty((c, n * p), a.dtype)
    _run("layout.cl", "batch_to_channels", *_grid(n * c), [n, c, p, a, out], a.dtype)
    return out


def _channels_to_batch(a, n, bias):
    """(C, N*P) -> (N, C, P), plus bias[c] (bias may be None)."""
    c, p = a.shape[0], a.shape[1] // n
    out = empty((n, c, p), a.dtype)
    _run("layout.cl", "channels_to_batch", *_grid(n * c), [n, c, p, a, bias, out], a.dtype)
    return out


def _channel_sum(dy):
    """db: dy (N, C, ...) summed over everything but the channel  ->  (C,)"""
    n, c = dy.shape[:2]
    db = empty((c,), dy.dtype)
    _run("layout.cl", "channel_sum", *_grid(c), [n, c, dy.size // (n * c), dy, db], dy.dtype)
    return db


# -- convolution via im2col + GEMM --------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D convolution via im2col + one GEMM for the whole batch.

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)

    y_t (C_out, N*OH*OW) = W2 @ cols_t, then one pass rewrites it as NCHW and adds the bias.
    """
    n = x.shape[0]
    c_out, _, kh, kw = w.shape
    window, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    cols_t = _unfold(x, kh, kw, window, oh, ow, batch_inside=True)       # (C_in*kh*kw, N*OH*OW)
    y_t = gemm(w.reshape(c_out, -1), cols_t)                              # (C_out, N*OH*OW)
    return _channels_to_batch(y_t, n, b).reshape(n, c_out, oh, ow)


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1):
    """Gradients of conv2d_forward.

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_out, C_in, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_out, C_in, kh, kw), db: (C_out,)

    With dy_t = dy as (C_out, N*OH*OW): dW2 = dy_t @ cols_t.T (already w's shape),
    dcols_t = W2.T @ dy_t, dx = col2im(dcols_t), db = dy summed over all but the channel.
    """
    c_out, _, kh, kw = w.shape
    window, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    cols_t = _unfold(x, kh, kw, window, oh, ow, batch_inside=True)       # (K, N*P)
    dy_t = _batch_to_channels(dy)                                         # (C_out, N*P)
    dw = gemm(dy_t, cols_t, trans_b=True).reshape(w.shape)               # (C_out, K)
    dcols_t = gemm(w.reshape(c_out, -1), dy_t, trans_a=True)             # (K, N*P)
    dx = _fold(dcols_t, x.shape, kh, kw, window, oh, ow, batch_inside=True)
    return dx, dw, _channel_sum(dy)


# -- direct convolution: the ladder -------------------------------------------------------------

def _direct_args(x, w, stride, padding, dilation):
    """y's DeviceArray and the int arguments both direct kernels start with."""
    n, c, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    window, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    return empty((n, c_out, oh, ow), x.dtype), [c, h, wd, c_out, kh, kw, *window, oh, ow]


def _vector_width(dtype):
    return 32 // np.dtype(dtype).itemsize      # one 256-bit register: 8 floats or 4 doubles


def conv2d_direct_forward_naive(x, w, b=None, stride=1, padding=0, dilation=1):
    """Direct convolution, one work-item per output element.

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)
    """
    y, ints = _direct_args(x, w, stride, padding, dilation)
    n, c_out, oh, ow = y.shape
    _run("conv_direct.cl", "conv2d_direct_naive", *_grid(oh * ow, c_out, n),
         [*ints, x, w, b, y], x.dtype, VW=_vector_width(x.dtype))
    return y


def conv2d_direct_forward_register_tiled(x, w, b=None, stride=1, padding=0, dilation=1):
    """Direct convolution, a tile of 4 output pixels x 16 output channels (8 for float64) per
    work-item, in registers. Shapes as :func:`conv2d_direct_forward_naive`.

    The weights are packed first into panels of 16 output channels, each (kh, kw, C_in, 16),
    in the order the kernel reads them.
    """
    y, ints = _direct_args(x, w, stride, padding, dilation)
    n, c_out, oh, ow = y.shape
    vw = _vector_width(x.dtype)
    tile_o = 2 * vw
    k = w.size // c_out
    w_packed = empty((round_up(c_out, tile_o) * k,), w.dtype)
    _run("conv_direct.cl", "pack_weights", *_grid(k, round_up(c_out, tile_o)),
         [c_out, *w.shape[1:], w, w_packed], w.dtype, VW=vw)
    tiles = -(-oh * ow // TILE_P)
    _run("conv_direct.cl", "conv2d_direct_register_tiled",
         (round_up(tiles, TILES_PER_GROUP), n, round_up(c_out, tile_o) // tile_o), (TILES_PER_GROUP, 1, 1),
         [*ints, x, w_packed, b, y], x.dtype, VW=vw)
    return y


conv2d_direct_forward = conv2d_direct_forward_register_tiled   # the fastest step


# -- transposed convolution ---------------------------------------------------------------------


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, output_padding=0):
    """Transposed convolution: y = col2im(W2.T @ x_t) + b, the whole batch in one GEMM.

    x: (N, C_in, H, W), w: (C_in, C_out, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)
    """
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    y_shape = transpose_output_shape(x.shape, w.shape, stride, padding, dilation, output_padding)
    window, _, _ = _geometry(y_shape, kh, kw, stride, padding, dilation)
    x_t = _batch_to_channels(x)                                           # (C_in, N*H*W)
    cols_t = gemm(w.reshape(c_in, -1), x_t, trans_a=True)                 # (C_out*kh*kw, N*H*W)
    y = _fold(cols_t, y_shape, kh, kw, window, h, wd, batch_inside=True)  # x's pixels are y's windows
    if b is not None:
        p = y_shape[2] * y_shape[3]
        _run("layout.cl", "add_channel_bias", *_grid(n * c_out), [n, c_out, p, y, b], y.dtype)
    return y


def conv_transpose2d_backward(dy, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    """Gradients of conv_transpose2d_forward.

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_in, C_out, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_in, C_out, kh, kw), db: (C_out,)

    dx = conv2d(dy, w); dW2 = x_t @ im2col(dy)_t.T, both single GEMMs over the batch.
    """
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    window, _, _ = _geometry(dy.shape, kh, kw, stride, padding, dilation)
    dx = conv2d_forward(dy, w, None, stride, padding, dilation)
    dcols_t = _unfold(dy, kh, kw, window, h, wd, batch_inside=True)       # (C_out*kh*kw, N*H*W)
    dw = gemm(_batch_to_channels(x), dcols_t, trans_b=True).reshape(w.shape)
    return dx, dw, _channel_sum(dy)


# -- pooling and flatten ------------------------------------------------------------------------

def _pool_geometry(x_shape, kernel, stride, padding):
    """[H, W, kh, kw, sh, sw, ph, pw, OH, OW, N*C]: pool.cl's leading int arguments."""
    kh, kw = pair(kernel)
    window, oh, ow = _geometry(x_shape, kh, kw, kernel if stride is None else stride, padding, 1)
    n, c, h, w = x_shape
    return [h, w, kh, kw, *window[:4], oh, ow, n * c]


def maxpool2d_forward(x, kernel, stride=None, padding=0):
    """Max over each kernel window; stride defaults to the kernel.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW), argmax: (N, C, OH, OW) int64, the flat index
    h*W + w into plane x[n, c] of the first maximum in row-major window order.
    """
    ints = _pool_geometry(x.shape, kernel, stride, padding)
    oh, ow, planes = ints[-3:]
    y = empty(x.shape[:2] + (oh, ow), x.dtype)
    argmax = empty(x.shape[:2] + (oh, ow), np.int64)
    _run("pool.cl", "maxpool2d_forward", *_grid(oh * ow, planes), [*ints, x, y, argmax], x.dtype)
    return y, argmax


def maxpool2d_backward(dy, argmax, x_shape):
    """Route each output gradient to the input pixel that won its window, adding repeats.

    dy: (N, C, OH, OW), argmax: (N, C, OH, OW) int64, x_shape: (N, C, H, W)  ->  dx: (N, C, H, W)
    """
    n, c, h, w = (int(a) for a in x_shape)
    dx = empty((n, c, h, w), dy.dtype)
    _run("pool.cl", "maxpool2d_backward", *_grid(n * c),
         [h * w, dy.shape[2] * dy.shape[3], n * c, dy, argmax, dx], dy.dtype)
    return dx


def avgpool2d_forward(x, kernel, stride=None, padding=0):
    """Mean over each kernel window, padding counted as zeros; stride defaults to the kernel.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW)
    """
    ints = _pool_geometry(x.shape, kernel, stride, padding)
    oh, ow, planes = ints[-3:]
    y = empty(x.shape[:2] + (oh, ow), x.dtype)
    _run("pool.cl", "avgpool2d_forward", *_grid(oh * ow, planes), [*ints, x, y], x.dtype)
    return y


def avgpool2d_backward(dy, x_shape, kernel, stride=None, padding=0):
    """Spread each output gradient evenly over its window, as a gather per input pixel.

    dy: (N, C, OH, OW), x_shape: (N, C, H, W)  ->  dx: (N, C, H, W)
    """
    x_shape = tuple(int(a) for a in x_shape)
    ints = _pool_geometry(x_shape, kernel, stride, padding)
    dx = empty(x_shape, dy.dtype)
    _run("pool.cl", "avgpool2d_backward", *_grid(x_shape[2] * x_shape[3], ints[-1]),
         [*ints, dy, dx], dy.dtype)
    return dx


def flatten_forward(x):
    """x: (N, ...)  ->  (N, prod(...)). A DeviceArray is C-contiguous: a new shape, no copy."""
    return x.reshape(x.shape[0], -1)


def flatten_backward(dy, x_shape):
    """dy: (N, prod(x_shape[1:]))  ->  dx: x_shape, again only a new shape."""
    return dy.reshape(tuple(int(a) for a in x_shape))
