"""The reference kernels of the CNN chapter: short, vectorised, obviously right.

Every other backend is checked against these. Images are NCHW: N the batch, C the channels,
H and W the height and width. A Conv2d stores its weight as (C_out, C_in, kh, kw) and a
ConvTranspose2d as (C_in, C_out, kh, kw), as PyTorch does. ``stride``, ``padding`` and
``dilation`` take an int or an (h, w) pair. Everything works in float32 or float64.

The one formula to remember: with kernel size k, stride s, padding p and dilation d, a kernel
offset i reads input row ``oh*s + i*d - p``, and the output has

    OH = (H + 2p - d*(k - 1) - 1) // s + 1      rows.
"""
from __future__ import annotations

import numpy as np


def pair(v):
    """An int or an (h, w) pair, as an (h, w) tuple."""
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def output_size(size, k, s, p, d):
    """Output length of a sliding window along one axis (the formula in the module docstring)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def transpose_output_shape(x_shape, w_shape, stride=1, padding=0, dilation=1, output_padding=0):
    """(N, C_out, OH, OW) of a transposed convolution of x_shape (N, C_in, H, W) with a w of
    w_shape (C_in, C_out, kh, kw): OH = (H - 1) s - 2p + d (kh - 1) + 1 + output_padding."""
    (sh, sw), (ph, pw), (dh, dw), (oph, opw) = map(pair, (stride, padding, dilation, output_padding))
    n, _, h, wd = x_shape
    _, c_out, kh, kw = w_shape
    return (n, c_out, (h - 1) * sh - 2 * ph + dh * (kh - 1) + 1 + oph,
            (wd - 1) * sw - 2 * pw + dw * (kw - 1) + 1 + opw)


def _geometry(x_shape, kh, kw, stride, padding, dilation):
    """((sh, sw), (ph, pw), (dh, dw), OH, OW) for an input of shape x_shape."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oh = output_size(x_shape[2], kh, sh, ph, dh)
    ow = output_size(x_shape[3], kw, sw, pw, dw)
    return (sh, sw), (ph, pw), (dh, dw), oh, ow


def _window(i, j, s, d, oh, ow):
    """The slices of the padded input that kernel offset (i, j) reads for every output pixel:
    rows i*dh, i*dh + sh, ..., (OH of them), and likewise columns."""
    return (slice(i * d[0], i * d[0] + s[0] * (oh - 1) + 1, s[0]),
            slice(j * d[1], j * d[1] + s[1] * (ow - 1) + 1, s[1]))


def _pad(x, p, value=0.0):
    return np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=value)


# -- im2col and its adjoint ---------------------------------------------------------------------

def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold every receptive field of x into a column.

    x: (N, C, H, W)  ->  cols: (N, C*kh*kw, OH*OW)

    cols[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw], rows ordered
    (c, i, j) so that w.reshape(C_out, C*kh*kw) @ cols is the convolution. One strided copy
    per kernel offset: kh*kw copies, and cols is kh*kw/(sh*sw) times the size of x.
    """
    s, p, d, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    xp = _pad(x, p)
    n, c = x.shape[:2]
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[(slice(None), slice(None)) + _window(i, j, s, d, oh, ow)]
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """The adjoint of im2col: scatter every column back to its receptive field, adding overlaps.

    cols: (N, C*kh*kw, OH*OW), x_shape: (N, C, H, W)  ->  x: (N, C, H, W)

    <im2col(x), cols> = <x, col2im(cols)> for every x and cols. It is not im2col's inverse:
    a pixel covered by r receptive fields receives the sum of r entries.
    """
    s, p, d, oh, ow = _geometry(x_shape, kh, kw, stride, padding, dilation)
    n, c, h, w = x_shape
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):  # within one offset the strided slice has no repeats, so += is safe
            xp[(slice(None), slice(None)) + _window(i, j, s, d, oh, ow)] += cols[:, :, i, j]
    return xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


# -- convolution --------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation, as in every DL library) via im2col + GEMM.

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)

    y[n, o, oh, ow] = b[o] + sum_{c,i,j} w[o, c, i, j] * x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]
    """
    c_out, _, kh, kw = w.shape
    _, _, _, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    cols = im2col(x, kh, kw, stride, padding, dilation)      # (N, C_in*kh*kw, OH*OW)
    y = w.reshape(c_out, -1) @ cols                           # (N, C_out, OH*OW), one GEMM per image
    if b is not None:
        y += b[:, None]
    return y.reshape(x.shape[0], c_out, oh, ow)


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1):
    """Gradients of conv2d_forward.

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_out, C_in, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_out, C_in, kh, kw), db: (C_out,)

    With y = W2 @ cols (W2 = w as (C_out, C_in*kh*kw)): dW2 = sum_n dy_n @ cols_n.T,
    dcols = W2.T @ dy, and dx = col2im(dcols), the adjoint of the unfolding; db = sum dy.
    """
    c_out, _, kh, kw = w.shape
    n = x.shape[0]
    dy2 = dy.reshape(n, c_out, -1)                            # (N, C_out, OH*OW)
    cols = im2col(x, kh, kw, stride, padding, dilation)      # (N, C_in*kh*kw, OH*OW)
    dw = np.tensordot(dy2, cols, axes=([0, 2], [0, 2])).reshape(w.shape)
    dcols = w.reshape(c_out, -1).T @ dy2                      # (N, C_in*kh*kw, OH*OW)
    dx = col2im(dcols, x.shape, kh, kw, stride, padding, dilation)
    return dx, dw, dy.sum(axis=(0, 2, 3))


def conv2d_direct_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    """conv2d_forward without im2col: one small contraction per kernel offset (i, j).

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)

    y = b + sum_{i,j} einsum('nchw,oc->nohw', x_padded[window(i, j)], w[:, :, i, j]); the
    unfolded copy is never built, which is why a direct convolution can beat im2col.
    """
    c_out, _, kh, kw = w.shape
    s, p, d, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    xp = _pad(x, p)
    y = np.zeros((x.shape[0], c_out, oh, ow), dtype=np.result_type(x, w))
    for i in range(kh):
        for j in range(kw):
            patch = xp[(slice(None), slice(None)) + _window(i, j, s, d, oh, ow)]  # (N, C_in, OH, OW)
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        y += b[:, None, None]
    return y


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, output_padding=0):
    """Transposed convolution: the adjoint of conv2d's input gradient, an upsampling layer.

    x: (N, C_in, H, W), w: (C_in, C_out, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)
    OH = (H - 1)*sh - 2*ph + dh*(kh - 1) + 1 + output_padding_h (likewise OW).

    Each input pixel scatters w[c] times its value into the output: y = col2im(W2.T @ x), with
    W2 = w as (C_in, C_out*kh*kw). conv2d with the same w maps a y-shaped image back to x's shape.
    """
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    (sh, sw), (ph, pw), (dh, dw), (oph, opw) = map(pair, (stride, padding, dilation, output_padding))
    y_shape = (n, c_out, (h - 1) * sh - 2 * ph + dh * (kh - 1) + 1 + oph,
               (wd - 1) * sw - 2 * pw + dw * (kw - 1) + 1 + opw)
    cols = w.reshape(c_in, -1).T @ x.reshape(n, c_in, -1)    # (N, C_out*kh*kw, H*W)
    y = col2im(cols, y_shape, kh, kw, stride, padding, dilation)
    if b is not None:
        y += b[:, None, None]
    return y


def conv_transpose2d_backward(dy, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    """Gradients of conv_transpose2d_forward.

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_in, C_out, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_in, C_out, kh, kw), db: (C_out,)

    The adjoint of the adjoint is conv2d itself: dx = conv2d(dy, w); dW2 = sum_n x_n @ im2col(dy)_n.T.
    output_padding only sets dy's shape; it is accepted so that the call mirrors the forward.
    """
    c_in, c_out, kh, kw = w.shape
    n = x.shape[0]
    dx = conv2d_forward(dy, w, None, stride, padding, dilation)
    dcols = im2col(dy, kh, kw, stride, padding, dilation)     # (N, C_out*kh*kw, H*W)
    dw = np.tensordot(x.reshape(n, c_in, -1), dcols, axes=([0, 2], [0, 2])).reshape(w.shape)
    return dx, dw, dy.sum(axis=(0, 2, 3))


# -- pooling and flatten ------------------------------------------------------------------------

def maxpool2d_forward(x, kernel, stride=None, padding=0):
    """Max over each kernel window; stride defaults to the kernel, as in PyTorch.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW), argmax: (N, C, OH, OW) int64

    argmax[n, c, oh, ow] = h*W + w, the flat index into plane x[n, c] of the window's maximum
    (the first one in row-major window order on ties), the same convention as PyTorch's indices.
    Padding is -inf, so it never wins: padding is at most half the kernel, so every window holds
    a real pixel.
    """
    kh, kw = pair(kernel)
    s, p, d, oh, ow = _geometry(x.shape, kh, kw, kernel if stride is None else stride, padding, 1)
    xp = _pad(x, p, -np.inf)
    windows = np.stack([xp[(slice(None), slice(None)) + _window(i, j, s, d, oh, ow)]
                        for i in range(kh) for j in range(kw)])        # (kh*kw, N, C, OH, OW)
    k = windows.argmax(axis=0)
    i, j = np.divmod(k, kw)
    rows = np.arange(oh)[:, None] * s[0] + i - p[0]                     # input row of the max
    cols = np.arange(ow)[None, :] * s[1] + j - p[1]
    y = np.take_along_axis(windows, k[None], axis=0)[0]
    return y.astype(x.dtype), (rows * x.shape[3] + cols).astype(np.int64)


def maxpool2d_backward(dy, argmax, x_shape):
    """Route each output gradient to the input pixel that won its window.

    dy: (N, C, OH, OW), argmax: (N, C, OH, OW) int64 (from the forward), x_shape: (N, C, H, W)
    ->  dx: (N, C, H, W)

    dx[n, c].flat[argmax[n, c, oh, ow]] += dy[n, c, oh, ow]; overlapping windows (stride < kernel)
    can pick the same pixel, so this is an accumulation (a bincount), not an assignment.
    """
    n, c, h, w = x_shape
    plane = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)             # start of each plane
    dx = np.bincount((argmax + plane).ravel(), weights=dy.ravel(), minlength=n * c * h * w)
    return dx.astype(dy.dtype).reshape(x_shape)


def avgpool2d_forward(x, kernel, stride=None, padding=0):
    """Mean over each kernel window; stride defaults to the kernel.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW)

    Padding counts as zeros in the mean (PyTorch's default, count_include_pad=True), so every
    window divides by kh*kw: y = sum_{i,j} x_padded[window(i, j)] / (kh*kw).
    """
    kh, kw = pair(kernel)
    s, p, d, oh, ow = _geometry(x.shape, kh, kw, kernel if stride is None else stride, padding, 1)
    xp = _pad(x, p)
    y = np.zeros(x.shape[:2] + (oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += xp[(slice(None), slice(None)) + _window(i, j, s, d, oh, ow)]
    return y / np.asarray(kh * kw, dtype=x.dtype)


def avgpool2d_backward(dy, x_shape, kernel, stride=None, padding=0):
    """Spread each output gradient evenly over its window: dx_padded[window(i, j)] += dy / (kh*kw).

    dy: (N, C, OH, OW), x_shape: (N, C, H, W)  ->  dx: (N, C, H, W)
    """
    kh, kw = pair(kernel)
    s, p, d, oh, ow = _geometry(x_shape, kh, kw, kernel if stride is None else stride, padding, 1)
    n, c, h, w = x_shape
    dxp = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), dtype=dy.dtype)
    share = dy / np.asarray(kh * kw, dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[(slice(None), slice(None)) + _window(i, j, s, d, oh, ow)] += share
    return dxp[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def flatten_forward(x):
    """x: (N, ...)  ->  (N, prod(...)), row-major, so (N, C, H, W) flattens c-major then h, w."""
    return x.reshape(x.shape[0], -1)


def flatten_backward(dy, x_shape):
    """dy: (N, prod(x_shape[1:]))  ->  dx: x_shape. Flattening moves no numbers, so neither does this."""
    return dy.reshape(x_shape)
