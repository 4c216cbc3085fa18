"""Numba kernels of the CNN chapter: the NumPy reference rewritten as explicit loops.

Each public function has the name, signature, output shapes and dtypes of its twin in
``numpy_kernels.py``. Python wrappers turn int-or-pair stride/padding/dilation into plain
ints; the ``@njit(cache=True, fastmath=False)`` loops below see only ints and C-contiguous
arrays. Parallel loops run over whole (n, c) planes, so no two threads ever write the same
pixel: that is what keeps col2im's and the poolings' accumulations free of races.

Padding is never materialised. For a kernel offset with column shift ``off = j*dw - pw``,
``_valid_range`` gives the output columns [lo, hi) whose input column ``ow*sw + off`` lies
inside the image; rows are tested one by one. Nothing outside the input is ever read.

The im2col + GEMM convolution unfolds the whole batch at once into ``cols_t`` of shape
(C*kh*kw, N*OH*OW), batch inside the columns, so that each product is one call of the backprop
chapter's GEMM (``gemm_blocked``, or ``gemm_parallel`` for skinny shapes) rather than N small ones.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401, I001  (threading layer, before any prange runs)
from ..backprop.numba_kernels import gemm_blocked, gemm_parallel
from .numba_conv_packed import _valid_range, conv2d_backward_packed, conv2d_forward_packed  # noqa: F401
from .numba_conv_backward_tiled import conv2d_backward_register_tiled  # noqa: F401
from .numba_direct_tiled import conv2d_direct_forward_register_tiled  # noqa: F401
from .numpy_kernels import output_size, pair, transpose_output_shape

# The convolution climbs a ladder: "batched" (the whole batch unfolded into one matrix, one
# big GEMM) -> "packed" (numba_conv_packed.py: one image at a time, unfolded straight into the
# GEMM micro-kernel's panels, in cache). The backward has a third step, "register_tiled"
# (numba_conv_backward_tiled.py: register tiles that read x and dy in place, nothing
# unfolded). The last step is the default.
LADDERS = {"conv2d_forward": ["batched", "packed"],
           "conv2d_backward": ["batched", "packed", "register_tiled"],
           # the direct convolution: "rows" (below), then a register tile (numba_direct_tiled.py)
           "conv2d_direct_forward": ["rows", "register_tiled"]}


def _geometry(x_shape, kh, kw, stride, padding, dilation):
    """((sh, sw), (ph, pw), (dh, dw), OH, OW), as in the reference."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    return ((sh, sw), (ph, pw), (dh, dw),
            output_size(x_shape[2], kh, sh, ph, dh), output_size(x_shape[3], kw, sw, pw, dw))


# -- im2col and its adjoint ---------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _im2col(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, batch_last):
    """cols: (rows, OH, OW); row (n, c, i, j) in that order, or (c, i, j, n) with batch_last."""
    n, c, h, w = x.shape
    oh, ow = cols.shape[1], cols.shape[2]
    for plane in prange(n * c):  # one (n, c) plane per task: it owns its kh*kw rows of cols
        b, ch = plane // c, plane % c
        for i in range(kh):
            for j in range(kw):
                k = (ch * kh + i) * kw + j
                out = cols[k * n + b] if batch_last else cols[plane * kh * kw + i * kw + j]
                off = j * dw - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for y in range(oh):
                    o = out[y]
                    r = y * sh + i * dh - ph
                    if r < 0 or r >= h:  # the whole row falls in the padding
                        o[:] = 0
                        continue
                    o[:lo] = 0
                    o[hi:] = 0
                    xr = x[b, ch, r]
                    if sw == 1:  # unit stride: two 1-D slices from 0, a plain SIMD copy
                        src, dst = xr[lo + off:hi + off], o[lo:hi]
                        for t in range(dst.shape[0]):
                            dst[t] = src[t]
                    else:
                        for t in range(lo, hi):
                            o[t] = xr[t * sw + off]


@njit(cache=True, fastmath=False, parallel=True)
def _col2im(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, batch_last):
    """dx += the scatter of cols (layout as in _im2col). dx must start at zero."""
    n, c, h, w = dx.shape
    oh, ow = cols.shape[1], cols.shape[2]
    for plane in prange(n * c):  # overlapping windows add into the same pixels: keep them in one task
        b, ch = plane // c, plane % c
        for i in range(kh):
            for j in range(kw):
                k = (ch * kh + i) * kw + j
                src = cols[k * n + b] if batch_last else cols[plane * kh * kw + i * kw + j]
                off = j * dw - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for y in range(oh):
                    r = y * sh + i * dh - ph
                    if r < 0 or r >= h:
                        continue
                    xr, s = dx[b, ch, r], src[y]
                    if sw == 1:
                        dst, seg = xr[lo + off:hi + off], s[lo:hi]
                        for t in range(dst.shape[0]):
                            dst[t] += seg[t]
                    else:
                        for t in range(lo, hi):
                            xr[t * sw + off] += s[t]


def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold every receptive field of x into a column.

    x: (N, C, H, W)  ->  cols: (N, C*kh*kw, OH*OW), rows ordered (c, i, j) as in the reference.
    One task per (n, c) plane writes its kh*kw rows; padding is written as zeros, never read.
    """
    x = np.ascontiguousarray(x)
    (sh, sw), (ph, pw), (dh, dw), oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    n, c = x.shape[:2]
    cols = np.empty((n * c * kh * kw, oh, ow), x.dtype)
    _im2col(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, False)
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """The adjoint of im2col: scatter every column back to its receptive field, adding overlaps.

    cols: (N, C*kh*kw, OH*OW), x_shape: (N, C, H, W)  ->  x: (N, C, H, W)
    """
    cols = np.ascontiguousarray(cols)
    n, c, h, w = (int(a) for a in x_shape)
    (sh, sw), (ph, pw), (dh, dw), oh, ow = _geometry(x_shape, kh, kw, stride, padding, dilation)
    dx = np.zeros((n, c, h, w), cols.dtype)
    _col2im(cols.reshape(n * c * kh * kw, oh, ow), dx, kh, kw, sh, sw, ph, pw, dh, dw, False)
    return dx


def _unfold_batch(x, kh, kw, s, p, d, oh, ow):
    """im2col of the whole batch as one matrix: cols_t (C*kh*kw, N*OH*OW), batch in the columns."""
    n, c = x.shape[:2]
    cols = np.empty((c * kh * kw * n, oh, ow), x.dtype)
    _im2col(x, cols, kh, kw, s[0], s[1], p[0], p[1], d[0], d[1], True)
    return cols.reshape(c * kh * kw, n * oh * ow)


def _fold_batch(cols_t, x_shape, kh, kw, s, p, d, oh, ow):
    """col2im of a (C*kh*kw, N*OH*OW) matrix, the adjoint of _unfold_batch."""
    dx = np.zeros(tuple(int(a) for a in x_shape), cols_t.dtype)
    _col2im(cols_t.reshape(-1, oh, ow), dx, kh, kw, s[0], s[1], p[0], p[1], d[0], d[1], True)
    return dx


# -- layout changes between the GEMM's matrices and NCHW --------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _batch_to_channels(a):
    """(N, C, P) -> (C, N, P): whole rows moved, so each copy is a 1-D stream."""
    n, c, p = a.shape
    out = np.empty((c, n, p), a.dtype)
    for ch in prange(c):
        for b in range(n):
            src, dst = a[b, ch], out[ch, b]
            for t in range(p):
                dst[t] = src[t]
    return out


@njit(cache=True, fastmath=False, parallel=True)
def _channel_sum(dy):
    """db: the sum of dy (N, C, P) over N and P, accumulated in float64 (a long float32 sum
    would lose digits), returned in dy's dtype."""
    n, c, p = dy.shape
    db = np.empty(c, dy.dtype)
    for ch in prange(c):
        s = 0.0
        for b in range(n):
            row = dy[b, ch]
            for t in range(p):
                s += row[t]
        db[ch] = s
    return db


@njit(cache=True, fastmath=False, parallel=True)
def _add_bias(y, bias):
    """y: (N, C, P) += bias[c], in place."""
    n, c, p = y.shape
    for plane in prange(n * c):
        row, bc = y[plane // c, plane % c], bias[plane % c]
        for t in range(p):
            row[t] += bc


@njit(cache=True, fastmath=False, parallel=True)
def _channels_to_batch(a, bias):
    """(C, N, P) -> (N, C, P), plus bias[c]: the inverse of _batch_to_channels."""
    c, n, p = a.shape
    out = np.empty((n, c, p), a.dtype)
    for b in prange(n):
        for ch in range(c):
            src, dst, bc = a[ch, b], out[b, ch], bias[ch]
            for t in range(p):
                dst[t] = src[t] + bc
    return out


def _gemm(a, b, trans_a=False, trans_b=False):
    """op(A) @ op(B), with the GEMM variant that suits the shape.

    The convolution's GEMMs are skinny: C_out = 6 rows, or an inner dimension of 6 (C_out in
    the input gradient), against N*OH*OW = 36864 columns. There gemm_blocked's register tile
    is mostly padding and its serial packing of B is a full extra pass over B, while
    gemm_parallel streams the rows of B straight into rows of C: measured 0.9 ms against 2.7
    for the forward GEMM of N=64, 1->6, 28x28, k=5. At 16 rows (LeNet's second layer) the
    blocked kernel already wins again (0.7 ms against 0.9), so only thinner products switch.
    """
    m = a.shape[1] if trans_a else a.shape[0]
    k = a.shape[0] if trans_a else a.shape[1]
    n = b.shape[0] if trans_b else b.shape[1]
    skinny = min(m, k) <= 8 and n >= 16 * max(m, k)  # a thin C or a thin sum, with long rows
    return (gemm_parallel if skinny else gemm_blocked)(a, b, trans_a, trans_b)


def _no_bias(c, dtype):
    return np.zeros(c, dtype)


# -- convolution via im2col + GEMM --------------------------------------------------------------
def conv2d_forward_batched(x, w, b=None, stride=1, padding=0, dilation=1):
    """Step 1 of the Numba convolution: im2col of the whole batch + one GEMM.

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)

    y_t (C_out, N*OH*OW) = W2 @ cols_t, then one pass rewrites it as NCHW and adds the bias.
    """
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    c_out, _, kh, kw = w.shape
    s, p, d, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    cols_t = _unfold_batch(x, kh, kw, s, p, d, oh, ow)                      # (C_in*kh*kw, N*OH*OW)
    y_t = _gemm(w.reshape(c_out, -1), cols_t)                               # (C_out, N*OH*OW)
    bias = _no_bias(c_out, x.dtype) if b is None else np.ascontiguousarray(b)
    y = _channels_to_batch(y_t.reshape(c_out, x.shape[0], oh * ow), bias)
    return y.reshape(x.shape[0], c_out, oh, ow)


def conv2d_backward_batched(dy, x, w, stride=1, padding=0, dilation=1):
    """Gradients of conv2d_forward_batched, again as whole-batch GEMMs.

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_out, C_in, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_out, C_in, kh, kw), db: (C_out,)

    With dy_t = dy as (C_out, N*OH*OW): dW2.T = cols_t @ dy_t.T, dcols_t = W2.T @ dy_t,
    dx = col2im(dcols_t) and db = sum of dy over everything but the channel.
    """
    dy, x, w = (np.ascontiguousarray(a) for a in (dy, x, w))
    c_out, _, kh, kw = w.shape
    n = x.shape[0]
    s, p, d, oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    cols_t = _unfold_batch(x, kh, kw, s, p, d, oh, ow)                     # (K, N*P)
    dy3 = dy.reshape(n, c_out, oh * ow)
    dy_t = _batch_to_channels(dy3).reshape(c_out, -1)                       # (C_out, N*P)
    dw = np.ascontiguousarray(_gemm(cols_t, dy_t, trans_b=True).T).reshape(w.shape)
    dcols_t = _gemm(w.reshape(c_out, -1), dy_t, trans_a=True)              # (K, N*P)
    dx = _fold_batch(dcols_t, x.shape, kh, kw, s, p, d, oh, ow)
    return dx, dw, _channel_sum(dy3)


# -- direct convolution -------------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _conv2d_direct(x, w, bias, y, sh, sw, ph, pw, dh, dw):
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    oh, ow = y.shape[2], y.shape[3]
    for task in prange(n * c_out):  # each task owns one output plane y[b, o]
        b, o = task // c_out, task % c_out
        out = y[b, o]
        out[:] = bias[o]
        for c in range(c_in):
            for i in range(kh):
                for j in range(kw):
                    wv = w[o, c, i, j]
                    off = j * dw - pw
                    lo, hi = _valid_range(off, sw, ow, wd)
                    for r_out in range(oh):
                        r = r_out * sh + i * dh - ph
                        if r < 0 or r >= h:
                            continue
                        xr, yr = x[b, c, r], out[r_out]
                        if sw == 1:  # y_row[lo:hi] += w * x_row[lo+off:hi+off], vectorised
                            src, dst = xr[lo + off:hi + off], yr[lo:hi]
                            for t in range(dst.shape[0]):
                                dst[t] += wv * src[t]
                        else:
                            for t in range(lo, hi):
                                yr[t] += wv * xr[t * sw + off]


def conv2d_direct_forward_rows(x, w, b=None, stride=1, padding=0, dilation=1):
    """Step 1 of the direct convolution: a loop nest over (n, c_out) planes, parallel with prange.

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)

    For each input channel and kernel offset, each output row gets w[o, c, i, j] times a row
    segment of x: y[b, o, oh, lo:hi] += w * x[b, c, oh*sh + i*dh - ph, lo*sw + off : ...].
    The output plane stays in cache across all C_in*kh*kw updates; nothing is unfolded.
    """
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    c_out, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw), oh, ow = _geometry(x.shape, kh, kw, stride, padding, dilation)
    y = np.empty((x.shape[0], c_out, oh, ow), x.dtype)
    bias = _no_bias(c_out, x.dtype) if b is None else np.ascontiguousarray(b)
    _conv2d_direct(x, w, bias, y, sh, sw, ph, pw, dh, dw)
    return y


# -- transposed convolution ---------------------------------------------------------------------

def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, output_padding=0):
    """Transposed convolution: y = col2im(W2.T @ x) + b, the whole batch in one GEMM.

    x: (N, C_in, H, W), w: (C_in, C_out, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)
    """
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    y_shape = transpose_output_shape(x.shape, w.shape, stride, padding, dilation, output_padding)
    s, p, d = pair(stride), pair(padding), pair(dilation)
    x_t = _batch_to_channels(x.reshape(n, c_in, h * wd)).reshape(c_in, -1)  # (C_in, N*H*W)
    cols_t = _gemm(w.reshape(c_in, -1), x_t, trans_a=True)          # (C_out*kh*kw, N*H*W)
    y = _fold_batch(cols_t, y_shape, kh, kw, s, p, d, h, wd)
    if b is not None:
        _add_bias(y.reshape(n, c_out, -1), np.ascontiguousarray(b))
    return y


def conv_transpose2d_backward(dy, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    """Gradients of conv_transpose2d_forward.

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_in, C_out, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_in, C_out, kh, kw), db: (C_out,)

    dx = conv2d(dy, w); dW2 = x_t @ im2col(dy)_t.T, both as single GEMMs over the batch.
    """
    dy, x, w = (np.ascontiguousarray(a) for a in (dy, x, w))
    c_in, c_out, kh, kw = w.shape
    n, _, h, wd = x.shape
    s, p, d = pair(stride), pair(padding), pair(dilation)
    dx = conv2d_forward_packed(dy, w, None, stride, padding, dilation)
    dcols_t = _unfold_batch(dy, kh, kw, s, p, d, h, wd)                    # (C_out*kh*kw, N*H*W)
    x_t = _batch_to_channels(x.reshape(n, c_in, h * wd)).reshape(c_in, -1)  # (C_in, N*H*W)
    dw = _gemm(x_t, dcols_t, trans_b=True).reshape(w.shape)
    return dx, dw, _channel_sum(dy.reshape(n, c_out, -1))


# -- pooling and flatten ------------------------------------------------------------------------
def _pool_geometry(x_shape, kernel, stride, padding):
    kh, kw = pair(kernel)
    (sh, sw), (ph, pw), _, oh, ow = _geometry(x_shape, kh, kw, kernel if stride is None else stride,
                                              padding, 1)
    return kh, kw, sh, sw, ph, pw, oh, ow


@njit(cache=True, fastmath=False)
def _maxpool2d_planes(x, y, argmax, first, last, kh, kw, sh, sw, ph, pw):
    """Planes first..last-1 of the (n, c) planes, one after another."""
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    neg_inf = x.dtype.type(-np.inf)
    for plane in range(first, last):
        b, ch = plane // c, plane % c
        xp = x[b, ch]
        for r_out in range(oh):
            for q_out in range(ow):
                best, at = neg_inf, -1
                for i in range(kh):
                    r = r_out * sh + i - ph
                    for j in range(kw):
                        q = q_out * sw + j - pw
                        # padding reads as -inf, as in the reference, and is never loaded
                        v = xp[r, q] if 0 <= r < h and 0 <= q < w else neg_inf
                        # first maximum in window order wins; a NaN wins like np.argmax's
                        if at < 0 or v > best or (v != v and best == best):
                            best, at = v, r * w + q
                y[b, ch, r_out, q_out] = best
                argmax[b, ch, r_out, q_out] = at


@njit(cache=True, fastmath=False, parallel=True)
def _maxpool2d(x, y, argmax, kh, kw, sh, sw, ph, pw):
    for plane in prange(x.shape[0] * x.shape[1]):
        _maxpool2d_planes(x, y, argmax, plane, plane + 1, kh, kw, sh, sw, ph, pw)


def _one_thread():
    """True when Numba has one thread: then a kernel runs its loop directly, since launching a
    parallel region cost 40-110 us on these machines (an idle 2-core VM, workqueue layer), more
    than the whole pooling of a LeNet training batch."""
    return numba.get_num_threads() == 1


def maxpool2d_forward(x, kernel, stride=None, padding=0):
    """Max over each kernel window; stride defaults to the kernel.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW), argmax: (N, C, OH, OW) int64, the flat index
    h*W + w into plane x[n, c] of the first maximum in row-major window order.
    """
    x = np.ascontiguousarray(x)
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry(x.shape, kernel, stride, padding)
    y = np.empty(x.shape[:2] + (oh, ow), x.dtype)
    argmax = np.empty(x.shape[:2] + (oh, ow), np.int64)
    if _one_thread():
        _maxpool2d_planes(x, y, argmax, 0, x.shape[0] * x.shape[1], kh, kw, sh, sw, ph, pw)
    else:
        _maxpool2d(x, y, argmax, kh, kw, sh, sw, ph, pw)
    return y, argmax


@njit(cache=True, fastmath=False)
def _maxpool2d_backward_planes(dy, argmax, dx, first, last):
    n, c, oh, ow = dy.shape
    hw = dx.shape[2] * dx.shape[3]
    for plane in range(first, last):
        b, ch = plane // c, plane % c
        flat = dx[b, ch].reshape(hw)
        for r in range(oh):
            for q in range(ow):
                k = argmax[b, ch, r, q]
                if 0 <= k < hw:  # the checks reject bad indices; never write outside anyway
                    flat[k] += dy[b, ch, r, q]


@njit(cache=True, fastmath=False, parallel=True)
def _maxpool2d_backward(dy, argmax, dx):
    for plane in prange(dy.shape[0] * dy.shape[1]):  # windows may share a winner: one plane per task
        _maxpool2d_backward_planes(dy, argmax, dx, plane, plane + 1)


def maxpool2d_backward(dy, argmax, x_shape):
    """Route each output gradient to the input pixel that won its window, adding repeats.

    dy: (N, C, OH, OW), argmax: (N, C, OH, OW) int64, x_shape: (N, C, H, W)  ->  dx: (N, C, H, W)
    """
    dy, argmax = np.ascontiguousarray(dy), np.ascontiguousarray(argmax)
    dx = np.zeros(tuple(int(a) for a in x_shape), dy.dtype)
    if _one_thread():
        _maxpool2d_backward_planes(dy, argmax, dx, 0, dy.shape[0] * dy.shape[1])
    else:
        _maxpool2d_backward(dy, argmax, dx)
    return dx


@njit(cache=True, fastmath=False, parallel=True)
def _avgpool2d(x, y, kh, kw, sh, sw, ph, pw):
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    count = x.dtype.type(kh * kw)  # padding counts as zeros (count_include_pad=True)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        out = y[b, ch]
        out[:] = 0
        for i in range(kh):
            for j in range(kw):
                off = j - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for r_out in range(oh):
                    r = r_out * sh + i - ph
                    if 0 <= r < h:
                        xr, yr = x[b, ch, r], out[r_out]
                        for t in range(lo, hi):
                            yr[t] += xr[t * sw + off]
        for r_out in range(oh):
            yr = out[r_out]
            for t in range(ow):
                yr[t] = yr[t] / count


def avgpool2d_forward(x, kernel, stride=None, padding=0):
    """Mean over each kernel window, padding counted as zeros; stride defaults to the kernel.

    x: (N, C, H, W)  ->  y: (N, C, OH, OW)
    """
    x = np.ascontiguousarray(x)
    kh, kw, sh, sw, ph, pw, oh, ow = _pool_geometry(x.shape, kernel, stride, padding)
    y = np.empty(x.shape[:2] + (oh, ow), x.dtype)
    _avgpool2d(x, y, kh, kw, sh, sw, ph, pw)
    return y


@njit(cache=True, fastmath=False, parallel=True)
def _avgpool2d_backward(dy, dx, kh, kw, sh, sw, ph, pw):
    n, c, h, w = dx.shape
    oh, ow = dy.shape[2], dy.shape[3]
    count = dy.dtype.type(kh * kw)
    for plane in prange(n * c):
        b, ch = plane // c, plane % c
        for i in range(kh):
            for j in range(kw):
                off = j - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for r_out in range(oh):
                    r = r_out * sh + i - ph
                    if 0 <= r < h:
                        dxr, dyr = dx[b, ch, r], dy[b, ch, r_out]
                        for t in range(lo, hi):
                            dxr[t * sw + off] += dyr[t] / count


def avgpool2d_backward(dy, x_shape, kernel, stride=None, padding=0):
    """Spread each output gradient evenly over its window: dx[window] += dy / (kh*kw).

    dy: (N, C, OH, OW), x_shape: (N, C, H, W)  ->  dx: (N, C, H, W)
    """
    dy = np.ascontiguousarray(dy)
    kh, kw, sh, sw, ph, pw, _, _ = _pool_geometry(x_shape, kernel, stride, padding)
    dx = np.zeros(tuple(int(a) for a in x_shape), dy.dtype)
    _avgpool2d_backward(dy, dx, kh, kw, sh, sw, ph, pw)
    return dx


def flatten_forward(x):
    """x: (N, ...)  ->  (N, prod(...)). A contiguous array flattens as a view: no loop needed."""
    x = np.ascontiguousarray(x)
    return x.reshape(x.shape[0], -1)


def flatten_backward(dy, x_shape):
    """dy: (N, prod(x_shape[1:]))  ->  dx: x_shape, again a view."""
    return np.ascontiguousarray(dy).reshape(tuple(int(a) for a in x_shape))


# The default step of each ladder, under the kernel's own name (as the reference has it).
conv2d_forward = conv2d_forward_packed
conv2d_backward = conv2d_backward_register_tiled
conv2d_direct_forward = conv2d_direct_forward_register_tiled
