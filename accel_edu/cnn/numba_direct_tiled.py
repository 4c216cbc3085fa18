"""Numba direct convolution, step 2: a register tile of 4 output pixels x 16 output channels.

Step 1 (``numba_kernels._conv2d_direct``) adds w[o, c, i, j] * (a row of x) into a row of y
for every tap, so each multiply-add loads and stores y. Here each task holds a 4 x 16 tile of
y in registers (the backprop GEMM's micro-kernel tile) for all C_in*kh*kw taps, and at each
tap multiplies 4 input pixels (scalar loads, broadcast) by 16 output channels' weights (one
row of the packed weights, two SIMD loads): 64 multiply-adds per 4 + 16 numbers loaded. It is
the im2col GEMM with the unfolded matrix never written: the 4 pixels are read from x where
they are. Each image is first copied into a zero-bordered scratch, so no tap tests for padding.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401, I001  (threading layer, before any prange runs)
from ..backprop.numba_kernels import MR, NR, _TILE, _stack_array
from .numba_conv_packed import _tiles
from .numpy_kernels import output_size, pair

PIXELS = MR   # output pixels along a row per tile
CHANNELS = NR  # output channels per tile


@njit(cache=True, fastmath=False)
def _pack_weights(w, panels):
    """panels[g, (c, i, j), q] = w[g*16 + q, c, i, j], zero past C_out: one tap's 16 channels
    side by side, so the tile loads them as two SIMD vectors."""
    c_out = w.shape[0]
    for g in range(panels.shape[0]):
        p = 0
        for c in range(w.shape[1]):
            for i in range(w.shape[2]):
                for j in range(w.shape[3]):
                    for q in range(CHANNELS):
                        o = g * CHANNELS + q
                        panels[g, p, q] = w[o, c, i, j] if o < c_out else 0
                    p += 1


@njit(cache=True, fastmath=False)
def _tile(xflat, origin, taps, sw, panel, yb, bias, g, oy, ox0, ow):
    """yb[g*16 + q, oy, ox0 + r] = bias + sum over taps t of x[origin + taps[t] + r*sw] * panel[t, q].

    One flat loop over the taps, with each tap's offset into the flattened scratch image read
    from ``taps``: written as three nested loops over (c, i, j) instead, LLVM kept the tile in
    memory rather than in registers and the kernel ran about 1.3 times slower (large layer).
    """
    acc = numba.carray(_stack_array(_TILE, yb.dtype), (PIXELS, CHANNELS))
    acc[:] = 0
    for t in range(taps.shape[0]):
        at = origin + taps[t]
        # unsigned indices: Numba then skips its test for a negative (from-the-end) index
        a0, a1 = xflat[np.uint64(at)], xflat[np.uint64(at + sw)]
        a2, a3 = xflat[np.uint64(at + 2 * sw)], xflat[np.uint64(at + 3 * sw)]
        for q in range(CHANNELS):  # a constant trip count: unrolled, acc in registers
            b = panel[t, q]
            acc[0, q] += a0 * b
            acc[1, q] += a1 * b
            acc[2, q] += a2 * b
            acc[3, q] += a3 * b
    c_out = yb.shape[0]
    for r in range(min(PIXELS, ow - ox0)):
        for q in range(min(CHANNELS, c_out - g * CHANNELS)):
            o = g * CHANNELS + q
            yb[o, oy, ox0 + r] = acc[r, q] + bias[o]


@njit(cache=True, fastmath=False)
def _direct_images(x, panels, bias, y, first, last, kh, kw, sh, sw, ph, pw, dh, dw):
    """y[first:last] from x[first:last]: one task's images, one after another."""
    c_in, h, wd = x.shape[1:]
    oh, ow = y.shape[2], y.shape[3]
    # scratch: the image with its zero border, and room on the right for the last tile's
    # pixels past OW (computed, never stored)
    hp, wp = h + 2 * ph, max(wd + 2 * pw, (ow + PIXELS) * sw + (kw - 1) * dw + 1)
    taps = np.empty(c_in * kh * kw, np.int64)     # tap (c, i, j) -> offset in the flat scratch
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                taps[(c * kh + i) * kw + j] = (c * hp + i * dh) * wp + j * dw
    xp = np.zeros((c_in, hp, wp), x.dtype)
    xflat = xp.reshape(-1)
    for b in range(first, last):
        for c in range(c_in):
            for r in range(h):
                src, dst = x[b, c, r], xp[c, ph + r, pw:pw + wd]
                for t in range(wd):
                    dst[t] = src[t]
        yb = y[b]
        for g in range(panels.shape[0]):
            for oy in range(oh):
                for ox0 in range(0, ow, PIXELS):
                    _tile(xflat, oy * sh * wp + ox0 * sw, taps, sw, panels[g], yb, bias, g, oy, ox0, ow)


@njit(cache=True, fastmath=False, parallel=True)
def _direct(x, panels, bias, y, per_task, kh, kw, sh, sw, ph, pw, dh, dw):
    n = x.shape[0]
    for task in prange((n + per_task - 1) // per_task):
        _direct_images(x, panels, bias, y, task * per_task, min(n, (task + 1) * per_task),
                       kh, kw, sh, sw, ph, pw, dh, dw)


def conv2d_direct_forward_register_tiled(x, w, b=None, stride=1, padding=0, dilation=1):
    """Direct convolution with a 4-pixel x 16-channel register tile (see the module docstring).

    x: (N, C_in, H, W), w: (C_out, C_in, kh, kw), b: (C_out,) or None  ->  y: (N, C_out, OH, OW)
    """
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    c_out, c_in, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oh, ow = output_size(x.shape[2], kh, sh, ph, dh), output_size(x.shape[3], kw, sw, pw, dw)
    panels = np.empty(((c_out + CHANNELS - 1) // CHANNELS, c_in * kh * kw, CHANNELS), x.dtype)
    _pack_weights(w, panels)
    bias = np.zeros(c_out, x.dtype) if b is None else np.ascontiguousarray(b)
    y = np.empty((x.shape[0], c_out, oh, ow), x.dtype)
    if numba.get_num_threads() == 1:   # no parallel region to launch (33-110 us here)
        _direct_images(x, panels, bias, y, 0, x.shape[0], kh, kw, sh, sw, ph, pw, dh, dw)
    else:
        # one task per thread (see numba_conv_backward_tiled.conv2d_backward_register_tiled)
        _direct(x, panels, bias, y, _tiles(x.shape[0], numba.get_num_threads()), kh, kw, sh, sw, ph, pw, dh, dw)
    return y
