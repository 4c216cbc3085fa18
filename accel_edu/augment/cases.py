"""Awkward inputs for the cross-backend check of each augmentation kernel.

Batch 1, one channel, odd and prime sizes, a single pixel, one-row signals (MNIST-1D is
(N, 1, 1, 40)), one-column images, and non-contiguous views (every other column of a wider
array, a channel slice). Maps include the identity, shifts that leave the image entirely
(every pixel reads ``fill``) and random rotation + zoom + shift + shear.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from .geometry import affine_theta

# (N, C, H, W): batch 1, one channel, odd sizes, a pixel, signals, a column, digits-sized.
SHAPES = [(1, 1, 8, 8), (3, 2, 7, 5), (2, 3, 13, 1), (1, 1, 1, 1), (4, 1, 1, 40), (5, 1, 8, 8),
          (2, 1, 17, 33)]


def _images(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _strided(rng, shape, dtype):
    """A non-contiguous view with the given shape: every other column of a wider array."""
    return _images(rng, shape[:-1] + (2 * shape[-1],), dtype)[..., ::2]


def _random_theta(rng, n, h, dtype):
    """Rotation, zoom, shift and shear; a one-row signal only zooms and shifts along its length."""
    one_row = h == 1
    return affine_theta(rotation=0 if one_row else rng.uniform(-40, 40, n),
                        scale=rng.uniform(0.7, 1.4, n), tx=rng.uniform(-3, 3, n),
                        ty=0 if one_row else rng.uniform(-3, 3, n),
                        shear=0 if one_row else rng.uniform(-15, 15, n), dtype=dtype)


def affine_warp(rng, dtype):
    for shape in SHAPES:
        n, _, h, _ = shape
        yield Case(f"x {shape}, random maps",
                   (_images(rng, shape, dtype), _random_theta(rng, n, h, dtype)))
    yield Case("identity", (_images(rng, (3, 2, 7, 5), dtype), affine_theta(np.zeros(3), dtype=dtype)))
    yield Case("shifted right out of the image, fill 0.5",
               (_images(rng, (2, 1, 5, 6), dtype), affine_theta(tx=[7.0, 100.0], dtype=dtype)),
               dict(fill=0.5))
    yield Case("huge shift (coordinates clamped)",
               (_images(rng, (1, 1, 4, 4), dtype), affine_theta(tx=-1e12, ty=3e9, dtype=dtype)),
               dict(fill=-1.0))
    yield Case("non-contiguous x", (_strided(rng, (3, 2, 7, 9), dtype), _random_theta(rng, 3, 7, dtype)))
    wide_theta = np.concatenate([_random_theta(rng, 2, 6, dtype), np.zeros((2, 2, 1), dtype)], axis=2)
    yield Case("a channel slice of x and a non-contiguous theta",
               (_images(rng, (2, 3, 6, 6), dtype)[:, 1:2], wide_theta[..., :3]))


def flip_horizontal(rng, dtype):
    for shape in SHAPES:
        yield Case(f"x {shape}", (_images(rng, shape, dtype), rng.random(shape[0]) < 0.5))
    yield Case("uint8 mask", (_images(rng, (4, 2, 3, 5), dtype), np.array([1, 0, 0, 1], np.uint8)))
    yield Case("all flipped", (_images(rng, (3, 1, 4, 7), dtype), np.ones(3, bool)))
    yield Case("none flipped", (_images(rng, (3, 1, 4, 7), dtype), np.zeros(3, bool)))
    yield Case("non-contiguous x and mask",
               (_strided(rng, (4, 2, 5, 3), dtype), np.array([1, 0] * 4, bool)[::2]))


def gaussian_noise(rng, dtype):
    for shape in SHAPES:
        yield Case(f"x {shape}", (_images(rng, shape, dtype), _images(rng, shape, dtype), 0.3))
    yield Case("sigma 0", (_images(rng, (2, 1, 5, 5), dtype), _images(rng, (2, 1, 5, 5), dtype), 0.0))
    yield Case("clipped to [0, 1]",
               (_images(rng, (3, 2, 7, 5), dtype), _images(rng, (3, 2, 7, 5), dtype), 0.5),
               dict(clip=(0.0, 1.0)))
    yield Case("non-contiguous x",
               (_strided(rng, (2, 1, 5, 6), dtype), _images(rng, (2, 1, 5, 6), dtype), 0.1))
