"""Numba augmentation kernels: the NumPy reference rewritten as explicit loops.

Each public function has the name, signature, output shape and dtype of its twin in
``numpy_kernels.py``. The loops run ``prange`` over the samples of the batch: each thread
writes whole images of the output, so no two threads ever write the same pixel. Inputs arrive
C-contiguous (the registry sees to that).

Arithmetic stays in x's dtype, in the reference's order: ``real = x.dtype.type`` makes the
constants, because Numba, like C, would compute ``float32 - int`` in float64. With
``fastmath=False`` no multiply-add is fused, so the coordinates, and usually the pixels, come
out bit for bit as NumPy computes them.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401, I001  (threading layer, before any prange runs)


@njit(cache=True, fastmath=False, parallel=True)
def _affine_warp(x, theta, fill, out):
    n, c, h, w = x.shape
    real = x.dtype.type
    one, half = real(1), real(0.5)
    cy, cx = real(h - 1) * half, real(w - 1) * half
    for s in prange(n):
        t = theta[s]
        for i in range(h):
            v = real(i) - cy
            for j in range(w):
                u = real(j) - cx
                # The source point of output pixel (i, j), clamped so the int conversion is defined.
                sx = min(max(t[0, 0] * u + t[0, 1] * v + t[0, 2] + cx, real(-2)), real(w + 1))
                sy = min(max(t[1, 0] * u + t[1, 1] * v + t[1, 2] + cy, real(-2)), real(h + 1))
                x0f, y0f = np.floor(sx), np.floor(sy)
                fx, fy = sx - x0f, sy - y0f
                x0, y0 = int(x0f), int(y0f)
                # Which of the 4 neighbours lie inside: decided once, used for every channel.
                left, right = 0 <= x0 < w, 0 <= x0 + 1 < w
                upper, lower = 0 <= y0 < h, 0 <= y0 + 1 < h
                for ch in range(c):
                    img = x[s, ch]
                    a = img[y0, x0] if upper and left else fill
                    b = img[y0, x0 + 1] if upper and right else fill
                    d = img[y0 + 1, x0] if lower and left else fill
                    e = img[y0 + 1, x0 + 1] if lower and right else fill
                    top = (one - fx) * a + fx * b
                    bottom = (one - fx) * d + fx * e
                    out[s, ch, i, j] = (one - fy) * top + fy * bottom


def affine_warp(x, theta, fill=0.0):
    """Resample each image through its own affine map, bilinearly.

    x: (N, C, H, W), theta: (N, 2, 3) output -> source, in x's dtype  ->  (N, C, H, W)

    One pass over the output: for each pixel, its source point and 4 bilinear weights are
    computed once and reused for every channel.
    """
    out = np.empty(x.shape, x.dtype)
    _affine_warp(x, theta, x.dtype.type(fill), out)
    return out


@njit(cache=True, fastmath=False, parallel=True)
def _flip_horizontal(x, mask, out):
    n, c, h, w = x.shape
    for s in prange(n):
        for ch in range(c):
            for i in range(h):
                for j in range(w):
                    out[s, ch, i, j] = x[s, ch, i, w - 1 - j] if mask[s] else x[s, ch, i, j]


def flip_horizontal(x, mask):
    """Mirror the chosen images left to right.

    x: (N, C, H, W), mask: (N,) bool or uint8  ->  (N, C, H, W):
    out[n] = x[n, :, :, ::-1] where mask[n], else x[n].
    """
    out = np.empty(x.shape, x.dtype)
    _flip_horizontal(x, mask.view(np.uint8), out)  # one compiled version for both mask dtypes
    return out


@njit(cache=True, fastmath=False, parallel=True)
def _gaussian_noise(x, z, sigma, low, high, out):
    for s in prange(x.shape[0]):  # x, z, out: (N, C*H*W), one row per sample
        for k in range(x.shape[1]):
            y = x[s, k] + sigma * z[s, k]
            # Comparisons, not min/max: a NaN fails both and passes through, as in np.clip.
            out[s, k] = low if y < low else (high if y > high else y)


def gaussian_noise(x, z, sigma, clip=None):
    """Add Gaussian noise drawn on the host: y = x + sigma * z, optionally clipped.

    x, z: (N, C, H, W) (z standard normal), sigma >= 0, clip: None or (low, high)
    ->  (N, C, H, W). No clip is the range (-inf, inf), which changes nothing.
    """
    real = x.dtype.type
    low, high = (-np.inf, np.inf) if clip is None else clip
    out = np.empty(x.shape, x.dtype)
    n = x.shape[0]
    _gaussian_noise(x.reshape(n, -1), z.reshape(n, -1), real(sigma), real(low), real(high),
                    out.reshape(n, -1))
    return out
