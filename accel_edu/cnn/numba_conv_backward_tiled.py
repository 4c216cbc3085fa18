"""Numba convolution backward, step 3: register tiles that read x and dy in place, nothing unfolded.

The packed backward (``numba_conv_packed.py``) spends most of its time moving numbers, not
multiplying them. Per image of LeNet's second layer (x (6, 12, 12), w (16, 6, 5, 5), dy
(16, 8, 8)), on one thread of this machine: unfolding x into the transposed panels 8.5 us,
dcols = W2.T @ dy 6.2 us, folding dcols back into dx (col2im) 6.1 us, and the dW GEMM itself
only 3.8 us. Here both gradients are computed the way the register-tiled direct forward
(``numba_direct_tiled.py``) computes y, straight from the arrays, each image first copied
into a zero-bordered scratch so that no tap tests for padding:

* dW, any geometry: dW[o, k] = sum over pixels p of dy[o, p] * x[c, oy*sh + i*dh, ox*sw + j*dw],
  k = (c, i, j). A tile holds 8 taps k x 16 output channels o in registers; at each pixel it
  loads 16 channels of dy (one row of dy transposed: one AVX-512 vector, or two AVX ones) and
  8 numbers of x, one for each tap (scalar loads, at a tap's offset plus the pixel's, from two
  small tables): 128 multiply-adds per 24 numbers loaded. It is the packed backward's dW GEMM
  with the unfolded matrix never written.
* dx, stride 1: dx is the "full" convolution of dy with the kernel flipped:
  dx[c, r, s] = sum over (o, i, j) of w[o, c, kh-1-i, kw-1-j] * dy_pad[o, r + i*dh, s + j*dw],
  dy_pad being dy with a border of d*(k-1) - p zeros. Input channels are few in LeNet (1 and
  6), so the tile runs along the image instead: 2 input channels x 4 rows x 16 pixels of a
  row, 8 vectors of accumulators; each tap loads 4 row segments of dy_pad and 2 weights.
  There is no dcols and no col2im. It multiplies many zeros of the border (about twice the
  column route's multiply-adds for LeNet), but at full SIMD speed. At stride > 1 most taps
  would land between pixels, so there dx takes the packed backward's column route, image by
  image in the same tasks (one parallel region either way).

Per image of LeNet's second layer on one thread (CPU time, on a machine loaded by other work):
dW 2.1 us and dx 5.6 us, against 25 us for the packed backward; the whole batch of 64, 0.55 ms
against 1.6. The indices into x and dy_pad are made unsigned (``np.uint64``): for a signed one
Numba tests for a negative (from-the-end) index at every load, which kept the dx tile from
vectorising (78 us an image instead of 6).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401, I001  (threading layer, before any prange runs)
from ..backprop.numba_kernels import MR, NR, _micro_kernel, _stack_array
from .numba_conv_packed import _col2im_image, _geometry, _pack, _tiles


TAPS = 8        # dW tile: taps (c, i, j) ...
LANES = 16      # ... x output channels; dx tile: pixels along a row per vector
DX_CHANNELS = 2  # dx tile: input channels ...
DX_ROWS = 4      # ... x rows of the image
_DW_TILE, _DX_TILE = TAPS * LANES, DX_CHANNELS * DX_ROWS * LANES  # literal sizes for the stack


@njit(cache=True, fastmath=False)
def _round_up(n, size):
    """n rounded up to a multiple of size."""
    return (n + size - 1) // size * size


# -- dW: 8 taps x 16 output channels ---------------------------------------------------------
@njit(cache=True, fastmath=False)
def _dw_tile(xflat, tap_at, pix_at, dyt, dwt, g, k0):
    """dwt[k0 + r, g*16 + q] += sum over p of xflat[tap_at[k0 + r] + pix_at[p]] * dyt[p, q].

    xflat: one zero-bordered image, flat; tap_at: (K rounded up to 8,) offsets of the taps
    (the padding taps point at 0, read but dropped); pix_at: (P,) offsets of the output
    pixels' windows; dyt: (P, 16) this group's 16 channels of dy, transposed; dwt: (K, C_out),
    dW transposed, so that the tile adds each tap's 16 channels as one vector.
    """
    acc = numba.carray(_stack_array(_DW_TILE, dwt.dtype), (TAPS, LANES))
    acc[:] = 0
    t0, t1, t2, t3 = tap_at[k0], tap_at[k0 + 1], tap_at[k0 + 2], tap_at[k0 + 3]
    t4, t5, t6, t7 = tap_at[k0 + 4], tap_at[k0 + 5], tap_at[k0 + 6], tap_at[k0 + 7]
    for p in range(pix_at.shape[0]):
        at = pix_at[p]
        a0, a1 = xflat[np.uint64(t0 + at)], xflat[np.uint64(t1 + at)]
        a2, a3 = xflat[np.uint64(t2 + at)], xflat[np.uint64(t3 + at)]
        a4, a5 = xflat[np.uint64(t4 + at)], xflat[np.uint64(t5 + at)]
        a6, a7 = xflat[np.uint64(t6 + at)], xflat[np.uint64(t7 + at)]
        for q in range(LANES):  # a constant trip count: unrolled, the tile stays in registers
            b = dyt[p, q]
            acc[0, q] += a0 * b
            acc[1, q] += a1 * b
            acc[2, q] += a2 * b
            acc[3, q] += a3 * b
            acc[4, q] += a4 * b
            acc[5, q] += a5 * b
            acc[6, q] += a6 * b
            acc[7, q] += a7 * b
    for r in range(min(TAPS, dwt.shape[0] - k0)):   # dW.T: each tap's 16 channels contiguous
        dst = dwt[k0 + r, g * LANES:min(dwt.shape[1], (g + 1) * LANES)]
        for q in range(dst.shape[0]):
            dst[q] += acc[r, q]


# -- dx, stride 1: 2 input channels x 4 rows x 16 pixels --------------------------------------
@njit(cache=True, fastmath=False)
def _dx_tile(dyflat, tap_at, wt, wrow, dxb, c0, r0, s0):
    """dxb[c0 + cc, r0 + rr, s0 + e] = sum over taps t of wt[t, c0 + cc] * dyflat[tap_at[t] +
    (r0 + rr)*wrow + s0 + e], for cc < 2, rr < 4, e < 16 (only those inside dxb are stored).

    dyflat: one zero-bordered dy, flat, rows of ``wrow`` numbers; tap_at: (C_out*kh*kw,)
    offsets of the taps (o, i, j); wt: (taps, C_in rounded up to 2) the flipped weights.
    """
    acc = numba.carray(_stack_array(_DX_TILE, dxb.dtype),
                       (DX_CHANNELS, DX_ROWS, LANES))
    acc[:] = 0
    base = r0 * wrow + s0
    for t in range(tap_at.shape[0]):
        at = base + tap_at[t]
        w0, w1 = wt[t, c0], wt[t, c0 + 1]
        for e in range(LANES):  # unrolled: 8 vectors of accumulators
            v0, v1 = dyflat[np.uint64(at + e)], dyflat[np.uint64(at + wrow + e)]
            v2, v3 = dyflat[np.uint64(at + 2 * wrow + e)], dyflat[np.uint64(at + 3 * wrow + e)]
            acc[0, 0, e] += w0 * v0
            acc[0, 1, e] += w0 * v1
            acc[0, 2, e] += w0 * v2
            acc[0, 3, e] += w0 * v3
            acc[1, 0, e] += w1 * v0
            acc[1, 1, e] += w1 * v1
            acc[1, 2, e] += w1 * v2
            acc[1, 3, e] += w1 * v3
    c_in, h, w = dxb.shape
    for cc in range(min(DX_CHANNELS, c_in - c0)):
        for rr in range(min(DX_ROWS, h - r0)):
            dst = dxb[c0 + cc, r0 + rr, s0:min(w, s0 + LANES)]
            for e in range(dst.shape[0]):
                dst[e] = acc[cc, rr, e]


@njit(cache=True, fastmath=False)
def _channel_sums(dyt, dbt):
    """dbt[g*16 + q] += sum over p of dyt[g, p, q], in float64. Summed along the rows of the
    transposed dy, the 16 channels are 16 independent sums side by side (two SIMD vectors);
    one channel's pixels one after another made a chain of dependent adds, about 1 us an image."""
    acc = numba.carray(_stack_array(LANES, dbt.dtype), (LANES,))
    for g in range(dyt.shape[0]):
        acc[:] = 0
        for p in range(dyt.shape[1]):
            for q in range(LANES):
                acc[q] += dyt[g, p, q]
        for q in range(min(LANES, dbt.shape[0] - g * LANES)):
            dbt[g * LANES + q] += acc[q]


@njit(cache=True, fastmath=False)
def _row_tile_taps(wt, c_out, h, oh, kh, kw, dh, dw, bh, hq, wq):
    """The dx tile's taps, row tile by row tile: (offsets (tiles, T), weights (tiles, T, C_in
    rounded up), counts (tiles,)), T = C_out*kh*kw. A tap whose rows of dy_pad lie wholly in the
    zero border for all of a tile's rows adds only zeros there, and is left out of that tile's
    list: a tap row in five, on two row tiles out of three, for LeNet's second layer."""
    tiles = (h + DX_ROWS - 1) // DX_ROWS
    offsets = np.empty((tiles, c_out * kh * kw), np.int64)
    weights = np.empty((tiles, c_out * kh * kw, wt.shape[1]), wt.dtype)
    counts = np.zeros(tiles, np.int64)
    for rt in range(tiles):
        first, last = rt * DX_ROWS, min(h, (rt + 1) * DX_ROWS) - 1   # the tile's rows of dx
        for o in range(c_out):
            for i in range(kh):
                if last + i * dh < bh or first + i * dh >= bh + oh:   # dy's rows are [bh, bh + OH)
                    continue
                for j in range(kw):
                    t, m = (o * kh + i) * kw + j, counts[rt]
                    offsets[rt, m] = (o * hq + i * dh) * wq + j * dw
                    weights[rt, m] = wt[t]
                    counts[rt] = m + 1
    return offsets, weights, counts


@njit(cache=True, fastmath=False)
def _dx_by_columns(dyb, wt_panels, dy_lanes, dcols, dxb, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """dxb (C_in, H, W) += col2im(W2.T @ dyb): the packed backward's column route, for one image.

    dyb: (C_out, P); wt_panels: W2.T packed for the micro-kernel; dy_lanes, dcols: scratch."""
    _pack(dyb, dy_lanes)
    dcols[:] = 0
    for t in range(dy_lanes.shape[0]):
        for s in range(wt_panels.shape[0]):
            _micro_kernel(wt_panels[s], dy_lanes[t], dcols, s * MR, t * NR)
    _col2im_image(dcols, dxb, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


# -- one task's images, and the parallel loop over tasks ----------------------------------------
@njit(cache=True, fastmath=False)
def _backward_images(dy, x, wt, wt_panels, dx, dwt, dbt, first, last, direct_dx,
                     kh, kw, sh, sw, ph, pw, dh, dw):
    """dx[first:last], and their share of dW.T into dwt (K, C_out) and of db into dbt (C_out,).
    dx by the tile (``direct_dx``) or else by the column route (dx must then start at zero)."""
    c_in, h, wd = x.shape[1:]
    c_out, oh, ow = dy.shape[1], dy.shape[2], dy.shape[3]
    k, p = c_in * kh * kw, oh * ow
    # x's scratch: the image inside a zero border of the padding
    hp, wp = h + 2 * ph, wd + 2 * pw
    tap_at = np.zeros(_round_up(k, TAPS), np.int64)
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                tap_at[(c * kh + i) * kw + j] = (c * hp + i * dh) * wp + j * dw
    pix_at = np.empty(p, np.int64)
    for oy in range(oh):
        for ox in range(ow):
            pix_at[oy * ow + ox] = oy * sh * wp + ox * sw
    # dy's scratch for the dx tile: a border of d*(k-1) - p, rows of whole 16-pixel vectors
    # plus the kernel's reach, and DX_ROWS - 1 spare rows for the last row tile
    bh, bw = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    hq, wq = h + dh * (kh - 1), _round_up(wd, LANES) + dw * (kw - 1)
    if not direct_dx:
        hq = wq = 0
    dy_at, dy_w, dy_taps = _row_tile_taps(wt, c_out if direct_dx else 0, h, oh, kh, kw, dh, dw, bh, hq, wq)
    groups = (c_out + LANES - 1) // LANES
    xp = np.zeros((c_in, hp, wp), x.dtype)
    xflat = xp.reshape(-1)
    dyt = np.zeros((groups, p, LANES), x.dtype)
    dq = np.zeros(c_out * hq * wq + (DX_ROWS - 1) * wq if direct_dx else 0, x.dtype)
    dq3 = dq[:c_out * hq * wq].reshape(c_out, hq, wq)
    # the column route's scratch
    dy_lanes = np.empty((0 if direct_dx else _round_up(p, NR) // NR, c_out, NR), x.dtype)
    dcols = np.empty((0 if direct_dx else k, p), x.dtype)
    for b in range(first, last):
        for c in range(c_in):
            for r in range(h):
                src, dst = x[b, c, r], xp[c, ph + r, pw:pw + wd]
                for t in range(wd):
                    dst[t] = src[t]
        dyb = dy[b].reshape(c_out, p)
        _pack(dyb.T, dyt)      # dyt[g, p, q] = dy[b, g*16 + q, p], zero past C_out
        _channel_sums(dyt, dbt)
        for g in range(groups):
            for k0 in range(0, k, TAPS):
                _dw_tile(xflat, tap_at, pix_at, dyt[g], dwt, g, k0)
        if not direct_dx:
            _dx_by_columns(dyb, wt_panels, dy_lanes, dcols, dx[b], kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
            continue
        for o in range(c_out):
            for r in range(oh):
                src, dst = dy[b, o, r], dq3[o, bh + r, bw:bw + ow]
                for t in range(ow):
                    dst[t] = src[t]
        for r0 in range(0, h, DX_ROWS):
            rt = r0 // DX_ROWS
            at, wts = dy_at[rt, :dy_taps[rt]], dy_w[rt, :dy_taps[rt]]
            for c0 in range(0, c_in, DX_CHANNELS):
                for s0 in range(0, wd, LANES):
                    _dx_tile(dq, at, wts, wq, dx[b], c0, r0, s0)


@njit(cache=True, fastmath=False, parallel=True)
def _backward(dy, x, wt, wt_panels, dx, dw_parts, db_parts, per_task, direct_dx,
              kh, kw, sh, sw, ph, pw, dh, dw):
    """Tasks of ``per_task`` images, each with its own dW and db (summed by the caller), so
    that no two threads add into one number."""
    n = x.shape[0]
    for task in prange((n + per_task - 1) // per_task):
        _backward_images(dy, x, wt, wt_panels, dx, dw_parts[task], db_parts[task], task * per_task,
                         min(n, (task + 1) * per_task), direct_dx, kh, kw, sh, sw, ph, pw, dh, dw)


def _flipped_taps(w):
    """wt[(o, i, j), c] = w[o, c, kh-1-i, kw-1-j], C_in padded with zeros to a multiple of 2:
    (C_out*kh*kw, C_in rounded up) -> the two weights of a dx tile's tap are side by side."""
    c_out, c_in, kh, kw = w.shape
    wt = np.zeros((c_out * kh * kw, _tiles(c_in, DX_CHANNELS) * DX_CHANNELS), w.dtype)
    wt[:, :c_in] = w[:, :, ::-1, ::-1].transpose(0, 2, 3, 1).reshape(-1, c_in)
    return wt


def conv2d_backward_register_tiled(dy, x, w, stride=1, padding=0, dilation=1):
    """Gradients of the convolution from register tiles over x and dy in place (module docstring).

    dy: (N, C_out, OH, OW), x: (N, C_in, H, W), w: (C_out, C_in, kh, kw)
    ->  dx: (N, C_in, H, W), dw: (C_out, C_in, kh, kw), db: (C_out,)
    """
    dy, x, w = (np.ascontiguousarray(a) for a in (dy, x, w))
    c_out, c_in, kh, kw = w.shape
    sh, sw, ph, pw, dh, dw, _, _ = _geometry(x.shape, w.shape, stride, padding, dilation)
    # dx as a full convolution needs stride 1 and a padding no wider than the dilated kernel
    direct_dx = sh == sw == 1 and dh * (kh - 1) >= ph and dw * (kw - 1) >= pw
    k = c_in * kh * kw
    wt_panels = np.empty((0 if direct_dx else _tiles(k, MR), c_out, MR), x.dtype)
    _pack(w.reshape(c_out, k), wt_panels)      # W2.T (K, C_out) for the column route
    # One task per thread. Numba's workqueue layer splits a prange into equal, static pieces,
    # one per thread, so more tasks than threads balance nothing; they only repeat each task's
    # setup: with 2 threads, 8 tasks took 660 us for LeNet's second layer, 2 tasks 600 (best of
    # 60, loaded machine). With one thread, that one task runs without a parallel region (an
    # empty one cost 33-110 us on this 2-core VM, up to a fifth of this whole backward).
    serial = numba.get_num_threads() == 1
    per_task = _tiles(x.shape[0], numba.get_num_threads())
    tasks = _tiles(x.shape[0], per_task)
    dx = (np.empty if direct_dx else np.zeros)(x.shape, x.dtype)   # the column route adds into dx
    dw_parts = np.zeros((tasks, k, c_out), x.dtype)   # one dW.T per task
    db_parts = np.zeros((tasks, c_out), np.float64)
    args = (dy, x, _flipped_taps(w), wt_panels, dx)
    if serial:
        _backward_images(*args, dw_parts[0], db_parts[0], 0, x.shape[0], direct_dx, kh, kw, sh, sw, ph, pw, dh, dw)
    else:
        _backward(*args, dw_parts, db_parts, per_task, direct_dx, kh, kw, sh, sw, ph, pw, dh, dw)
    return dx, np.ascontiguousarray(dw_parts.sum(axis=0).T).reshape(w.shape), db_parts.sum(axis=0).astype(x.dtype)
