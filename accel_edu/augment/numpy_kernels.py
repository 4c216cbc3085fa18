"""The reference augmentation kernels: short, vectorised, obviously right.

Every other backend is checked against these. Images are NCHW: x is (N, C, H, W). A 1-D
signal such as MNIST-1D is an image one row high, (N, 1, 1, L).

The kernels draw no random numbers. The caller (``pipeline.Augment``) draws the per-sample
parameters on the host with a seeded ``np.random.Generator`` and passes them in, so every
backend does the same arithmetic on the same numbers, and a seed gives the same batch on all.

The coordinate convention of :func:`affine_warp`, which every backend follows
------------------------------------------------------------------------------
* Pixel (i, j) (row i, column j) is a point at the pixel's centre. Coordinates are measured
  from the centre of the image, (cy, cx) = ((H - 1) / 2, (W - 1) / 2), in pixels:
  u = j - cx to the right and v = i - cy downwards (as an image is displayed, row 0 on top).
* theta (2, 3) maps each OUTPUT pixel to the SOURCE point it reads (the inverse map, as in
  PyTorch's ``affine_grid``, but in pixels rather than in [-1, 1]):
      su = theta[0,0] u + theta[0,1] v + theta[0,2]          (source column - cx)
      sv = theta[1,0] u + theta[1,1] v + theta[1,2]          (source row    - cy)
  The identity [[1, 0, 0], [0, 1, 0]] copies the image; theta[:, 2] = (-3, 0) reads 3 pixels
  to the left, so the content moves 3 pixels right; [[0, -1, 0], [1, 0, 0]] is ``np.rot90``
  (a quarter turn counterclockwise as displayed) on a square image.
* The source point is sampled bilinearly from its 4 neighbouring pixel centres. A neighbour
  outside the image reads ``fill``, so the border blends into ``fill`` over one pixel.
* With H = 1 the centre row is row 0 (cy = 0). As long as theta[1] = (0, *, 0) the source
  row is exactly 0, its vertical weight is exactly 0, and the missing row below never counts:
  a one-row signal is warped along its length only.
"""
from __future__ import annotations

import numpy as np


def affine_warp(x, theta, fill=0.0):
    """Resample each image through its own affine map, bilinearly.

    x: (N, C, H, W), theta: (N, 2, 3) output -> source, in x's dtype  ->  (N, C, H, W)

    out[n, c, i, j] = bilinear(x[n, c], source point of (i, j) under theta[n]); neighbours
    outside the image read ``fill``. See the module docstring for the coordinates.
    """
    n, c, h, w = x.shape
    real = x.dtype.type
    cy, cx = real((h - 1) / 2), real((w - 1) / 2)
    u = np.arange(w, dtype=x.dtype) - cx                 # (W,)
    v = (np.arange(h, dtype=x.dtype) - cy)[:, None]      # (H, 1)
    t = theta[:, :, :, None, None]                       # (N, 2, 3, 1, 1): broadcasts over (H, W)
    # Source position in pixels, (N, H, W). The sums run in the same order in every backend.
    sx = t[:, 0, 0] * u + t[:, 0, 1] * v + t[:, 0, 2] + cx
    sy = t[:, 1, 0] * u + t[:, 1, 1] * v + t[:, 1, 2] + cy
    # Beyond [-2, size + 1] every neighbour is outside anyway; clamping first keeps the int
    # conversion defined (a float past the range of int is undefined behaviour in C).
    sx = np.clip(sx, real(-2), real(w + 1))
    sy = np.clip(sy, real(-2), real(h + 1))
    x0f, y0f = np.floor(sx), np.floor(sy)
    fx, fy = sx - x0f, sy - y0f                          # weights of the right and lower neighbours
    x0, y0 = x0f.astype(np.int64), y0f.astype(np.int64)

    pixels = x.transpose(0, 2, 3, 1)                     # (N, H, W, C): a pixel's channels together
    batch = np.arange(n)[:, None, None]

    def tap(yy, xx):
        """x at rows yy, columns xx, (N, H, W) each -> (N, H, W, C); fill where outside."""
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        values = pixels[batch, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        return np.where(inside[..., None], values, real(fill))

    one = real(1)
    fx, fy = fx[..., None], fy[..., None]                # (N, H, W, 1): broadcast over channels
    top = (one - fx) * tap(y0, x0) + fx * tap(y0, x0 + 1)
    bottom = (one - fx) * tap(y0 + 1, x0) + fx * tap(y0 + 1, x0 + 1)
    out = (one - fy) * top + fy * bottom
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def flip_horizontal(x, mask):
    """Mirror the chosen images left to right.

    x: (N, C, H, W), mask: (N,) bool or uint8  ->  (N, C, H, W), a new array:
    out[n] = x[n, :, :, ::-1] where mask[n], else x[n].
    """
    chosen = np.asarray(mask).astype(bool)
    out = np.array(x, copy=True, order="C")
    out[chosen] = x[chosen][..., ::-1]
    return out


def gaussian_noise(x, z, sigma, clip=None):
    """Add Gaussian noise drawn on the host: y = x + sigma * z, optionally clipped.

    x, z: (N, C, H, W) (z standard normal), sigma >= 0, clip: None or (low, high)
    ->  (N, C, H, W). A clip range keeps the result in the data's range (pixels in [0, 1]).
    """
    real = x.dtype.type
    y = x + real(sigma) * z
    if clip is not None:
        y = np.clip(y, real(clip[0]), real(clip[1]))
    return np.ascontiguousarray(y)
