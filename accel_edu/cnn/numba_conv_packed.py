"""Numba convolution, last step of the ladder: im2col packed straight into GEMM panels, per image.

The whole-batch version in ``numba_kernels.py`` unfolds all N images into one (C*kh*kw, N*OH*OW)
matrix, multiplies it with the blocked GEMM (which packs it again into panels), then rewrites
the (C_out, N*OH*OW) product as NCHW. That is four passes over arrays of N*K*P numbers
(K = C*kh*kw, P = OH*OW), most of them far bigger than the caches.

Here each thread takes a few images at a time, and for one image:

1. unfolds it *directly* in the layout the backprop chapter's micro-kernel reads
   (``_micro_kernel``: MR x NR register tile, panels of (K, NR) with NR pixels side by side),
   so im2col and GEMM packing are one pass, and the panels (K*P numbers, tens of KiB for LeNet)
   stay in L2;
2. runs the micro-kernel over them, writing y[n] = W2 @ cols straight into the NCHW output,
   whose (C_out, OH*OW) plane *is* the GEMM's C: no layout change, and the bias is where C starts.

The backward does the same per image: dW += dy[n] @ cols.T (each thread keeps its own dW, summed
at the end, so no two threads add into one number), and dcols = W2.T @ dy[n] is folded back into
dx[n] (col2im) while it is still in cache. One parallel region per call: LeNet's layers are
small enough that launching the threads several times was a visible share of their time. With
one thread the forward launches none at all, and runs its images' loop directly.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401, I001  (threading layer, before any prange runs)
from ..backprop.numba_kernels import MR, NR, _micro_kernel
from .numpy_kernels import output_size, pair


def _geometry(x_shape, w_shape, stride, padding, dilation):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    kh, kw = w_shape[2], w_shape[3]
    return (sh, sw, ph, pw, dh, dw,
            output_size(x_shape[2], kh, sh, ph, dh), output_size(x_shape[3], kw, sw, pw, dw))


def _chunks(n):
    """Images per parallel task: a few tasks per thread, so a thread slowed down by another
    process on its core holds up less of the work."""
    tasks = min(n, 4 * numba.get_num_threads())
    return (n + tasks - 1) // tasks


# -- packing: im2col written in the micro-kernel's order --------------------------------------
@njit(cache=True, fastmath=False)
def _pack_cols_by_pixel(xb, panels, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """panels[t, k, q] = cols[k, t*NR + q] of image xb (C, H, W), where cols[k = (c, i, j),
    p = (oy, ox)] = xb[c, oy*sh + i*dh - ph, ox*sw + j*dw - pw].

    Only the entries that read a real pixel are written: which ones are padding depends on
    the geometry alone, so the caller zeroes ``panels`` once and reuses it for every image.
    Each run of pixels along an output row is copied in pieces that end at panel boundaries,
    so the inner loop is a plain copy of up to NR numbers (and SIMD for stride 1).
    """
    c_in, h, w = xb.shape
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                k = (c * kh + i) * kw + j
                off = j * dw - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for oy in range(oh):
                    r = oy * sh + i * dh - ph
                    if r < 0 or r >= h:
                        continue
                    xr = xb[c, r]
                    pos, src, left = oy * ow + lo, lo * sw + off, hi - lo
                    while left > 0:
                        t = pos // NR
                        q = pos - t * NR
                        n = min(NR - q, left)
                        dst = panels[t, k, q:q + n]
                        if sw == 1:
                            seg = xr[src:src + n]
                            for e in range(n):
                                dst[e] = seg[e]
                        else:
                            for e in range(n):
                                dst[e] = xr[src + e * sw]
                        pos, src, left = pos + n, src + n * sw, left - n


@njit(cache=True, fastmath=False)
def _pack_cols_by_row(xb, panels, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """panels[u, p, q] = cols[u*NR + q, p]: the transpose of the above, for dW = dy @ cols.T.
    Like it, writes only the entries that read a real pixel (the caller zeroes panels once)."""
    c_in, h, w = xb.shape
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                k = (c * kh + i) * kw + j
                lanes = panels[k // NR, :, k % NR]   # column q of the panel: stride NR
                off = j * dw - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for oy in range(oh):
                    r = oy * sh + i * dh - ph
                    if r < 0 or r >= h:
                        continue
                    xr = xb[c, r]
                    base = oy * ow
                    for ox in range(lo, hi):
                        lanes[base + ox] = xr[ox * sw + off]


@njit(cache=True, fastmath=False)
def _valid_range(off, s, n_out, size):
    """[lo, hi): the outputs o with 0 <= o*s + off < size (the others read padding)."""
    lo = 0 if off >= 0 else (-off + s - 1) // s
    last = size - 1 - off
    hi = 0 if last < 0 else min(n_out, last // s + 1)
    return lo, max(lo, hi)


@njit(cache=True, fastmath=False)
def _pack(a, panels):
    """panels[s, p, r] = a[p, s*width + r], zero past a's last column (width = panels.shape[2]).

    The micro-kernel's panels, from a (kc, n) matrix: with width NR, B panels; with width MR,
    A panels of a matrix passed transposed (``_pack(w2.T, ...)`` packs w2's rows).
    """
    zero = a.dtype.type(0)
    width = panels.shape[2]
    for s in range(panels.shape[0]):
        for p in range(panels.shape[1]):
            for r in range(width):
                col = s * width + r
                panels[s, p, r] = a[p, col] if col < a.shape[1] else zero


@njit(cache=True, fastmath=False)
def _col2im_image(dcols, dxb, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """dxb (C, H, W) += the fold of dcols (K, P) of one image: each row of dcols, a run of
    output pixels at a time, is added back onto the input row it was read from (serial: the
    image is the task, so no other thread touches dxb)."""
    c_in, h, w = dxb.shape
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                row = dcols[(c * kh + i) * kw + j]
                off = j * dw - pw
                lo, hi = _valid_range(off, sw, ow, w)
                for oy in range(oh):
                    r = oy * sh + i * dh - ph
                    if r < 0 or r >= h:
                        continue
                    xr, seg = dxb[c, r], row[oy * ow + lo:oy * ow + hi]
                    if sw == 1:
                        dst = xr[lo + off:hi + off]
                        for t in range(dst.shape[0]):
                            dst[t] += seg[t]
                    else:
                        for t in range(seg.shape[0]):
                            xr[(lo + t) * sw + off] += seg[t]


def _tiles(n, size):
    return (n + size - 1) // size


# -- forward ---------------------------------------------------------------------------------
@njit(cache=True, fastmath=False)
def _forward_images(x, w_panels, bias, y, first, last, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """y[first:last]: one task's images, one after another."""
    c_out = y.shape[1]
    k, p = w_panels.shape[1], oh * ow
    panels = np.zeros(((p + NR - 1) // NR, k, NR), x.dtype)   # this task's own; padding stays 0
    for b in range(first, last):
        _pack_cols_by_pixel(x[b], panels, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
        yb = y[b].reshape(c_out, p)
        for o in range(c_out):  # C starts as the bias; the micro-kernel adds W2 @ cols
            yb[o] = bias[o]
        for t in range(panels.shape[0]):      # a panel of NR pixels, met by every row tile
            for s in range(w_panels.shape[0]):
                _micro_kernel(w_panels[s], panels[t], yb, s * MR, t * NR)


@njit(cache=True, fastmath=False, parallel=True)
def _forward(x, w_panels, bias, y, per_task, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n = x.shape[0]
    for task in prange((n + per_task - 1) // per_task):
        _forward_images(x, w_panels, bias, y, task * per_task, min(n, (task + 1) * per_task),
                        kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def conv2d_forward_packed(x, w, b=None, stride=1, padding=0, dilation=1):
    """Step 2 of the Numba convolution: per image, im2col into the GEMM's panels, then the GEMM.

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)
    """
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    c_out, c_in, kh, kw = w.shape
    sh, sw, ph, pw, dh, dw, oh, ow = _geometry(x.shape, w.shape, stride, padding, dilation)
    w_panels = np.empty((_tiles(c_out, MR), c_in * kh * kw, MR), x.dtype)
    _pack(w.reshape(c_out, -1).T, w_panels)                          # W2 (C_out, K), packed once
    bias = np.zeros(c_out, x.dtype) if b is None else np.ascontiguousarray(b)
    y = np.empty((x.shape[0], c_out, oh, ow), x.dtype)
    if numba.get_num_threads() == 1:   # no parallel region to launch (33-110 us here)
        _forward_images(x, w_panels, bias, y, 0, x.shape[0], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    else:
        _forward(x, w_panels, bias, y, _chunks(x.shape[0]), kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return y


# -- backward --------------------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _backward(dy, x, wt_panels, dx, dw_parts, db_parts, per_task, with_dx, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    n, c_out = x.shape[0], dy.shape[1]
    k, p = dw_parts.shape[2], oh * ow
    for task in prange((n + per_task - 1) // per_task):
        cols_t = np.zeros(((k + NR - 1) // NR, p, NR), x.dtype)      # cols.T as B panels
        dy_rows = np.empty(((c_out + MR - 1) // MR, p, MR), x.dtype)  # dy[n] as A panels
        # only the col2im route needs these two (dcols alone is 2.4 MB per task on the large layer)
        dy_lanes = np.empty(((p + NR - 1) // NR if with_dx else 0, c_out, NR), x.dtype)  # dy[n] as B panels
        dcols = np.empty((k if with_dx else 0, p), x.dtype)
        dwt, dbt = dw_parts[task], db_parts[task]
        for b in range(task * per_task, min(n, (task + 1) * per_task)):
            dyb = dy[b].reshape(c_out, p)
            for o in range(c_out):  # db: a float64 sum per channel, per task
                s = 0.0
                for q in range(p):
                    s += dyb[o, q]
                dbt[o] += s
            # dW (C_out, K) += dy[n] (C_out, P) @ cols.T (P, K)
            _pack_cols_by_row(x[b], cols_t, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
            _pack(dyb.T, dy_rows)
            for t in range(cols_t.shape[0]):
                for s in range(dy_rows.shape[0]):
                    _micro_kernel(dy_rows[s], cols_t[t], dwt, s * MR, t * NR)
            if not with_dx:
                continue
            # dcols (K, P) = W2.T (K, C_out) @ dy[n] (C_out, P), folded into dx[n] at once
            _pack(dyb, dy_lanes)
            dcols[:] = 0
            for t in range(dy_lanes.shape[0]):
                for s in range(wt_panels.shape[0]):
                    _micro_kernel(wt_panels[s], dy_lanes[t], dcols, s * MR, t * NR)
            _col2im_image(dcols, dx[b], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def conv2d_backward_packed(dy, x, w, stride=1, padding=0, dilation=1):
    """Gradients of the convolution, per image, with packed panels (see the module docstring).

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_out, C_in, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_out, C_in, kh, kw), db: (C_out,)
    """
    dy, x, w = (np.ascontiguousarray(a) for a in (dy, x, w))
    c_out, c_in, kh, kw = w.shape
    sh, sw, ph, pw, dh, dw, oh, ow = _geometry(x.shape, w.shape, stride, padding, dilation)
    k = c_in * kh * kw
    wt_panels = np.empty((_tiles(k, MR), c_out, MR), x.dtype)
    _pack(w.reshape(c_out, k), wt_panels)                             # W2.T (K, C_out), packed once
    # At stride 1, dx is itself a convolution: of dy, padded by d(k-1) - p, with the kernel
    # flipped and its channel axes swapped. That runs on the forward's fast path and skips the
    # column gradient and col2im's scattered adds: the large layer's backward went from 111 to
    # 88 ms. But it unfolds dy, C_out*kh*kw rows, to produce only C_in output rows: with LeNet's
    # 1 or 6 input channels most of that unfolding is wasted, and it ran 1.3-1.8x slower than
    # col2im there. So it is taken only for wide inputs.
    as_convolution = sh == sw == 1 and dh * (kh - 1) >= ph and dw * (kw - 1) >= pw and c_in >= 16
    per_task = _chunks(x.shape[0])
    tasks = _tiles(x.shape[0], per_task)
    dx = np.zeros(x.shape, x.dtype) if not as_convolution else np.empty((1, 1, 1, 1), x.dtype)
    dw_parts = np.zeros((tasks, c_out, k), x.dtype)   # one dW per task: no two threads share one
    db_parts = np.zeros((tasks, c_out), np.float64)
    _backward(dy, x, wt_panels, dx, dw_parts, db_parts, per_task, not as_convolution,
              kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if as_convolution:
        w_flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))   # (C_in, C_out, kh, kw)
        dx = conv2d_forward_packed(dy, w_flipped, None, 1, (dh * (kh - 1) - ph, dw * (kw - 1) - pw), (dh, dw))
    return dx, dw_parts.sum(axis=0).reshape(w.shape), db_parts.sum(axis=0).astype(x.dtype)
