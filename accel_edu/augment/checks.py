"""The argument check of each augmentation kernel, shared by all three backends."""
from __future__ import annotations

import numpy as np

from ..runtime.checks import check_array, check_same_dtype, check_same_shape, describe

MASK_DTYPES = (np.dtype(bool), np.dtype(np.uint8))


def is_finite_number(value) -> bool:
    """A real number (not a bool, not an array) that is neither inf nor NaN."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value)))


def images(x):
    """x must be a float NCHW batch: 4-D, (N, C, H, W)."""
    check_array("x", x)
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D, a batch of images (N, C, H, W) (a 1-D signal is "
                         f"(N, C, 1, L)); got shape {tuple(x.shape)}")


def affine_warp(x, theta, fill=0.0):
    images(x)
    check_array("theta", theta, ndim=3)
    check_same_dtype(x=x, theta=theta)
    if tuple(theta.shape) != (x.shape[0], 2, 3):
        raise ValueError(f"theta must have shape ({x.shape[0]}, 2, 3), one 2 x 3 affine map per "
                         f"image of x; got {tuple(theta.shape)}")
    if isinstance(theta, np.ndarray) and not np.all(np.isfinite(theta)):
        raise ValueError("theta must be finite; found inf or NaN")
    if not is_finite_number(fill):
        raise ValueError(f"fill must be a finite number; got {fill!r}")


def flip_horizontal(x, mask):
    images(x)
    if not hasattr(mask, "dtype") or mask.dtype not in MASK_DTYPES:
        raise ValueError(f"mask must be a bool or uint8 array, one flag per image; got {describe(mask)}")
    if tuple(mask.shape) != (x.shape[0],):
        raise ValueError(f"mask must have shape ({x.shape[0]},), one flag per image of x; "
                         f"got {tuple(mask.shape)}")


def gaussian_noise(x, z, sigma, clip=None):
    images(x)
    check_array("z", z)
    check_same_dtype(x=x, z=z)
    check_same_shape(x=x, z=z)
    if not is_finite_number(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0; got {sigma!r}")
    if clip is not None and not (isinstance(clip, (tuple, list)) and len(clip) == 2
                                 and all(map(is_finite_number, clip)) and clip[0] <= clip[1]):
        raise ValueError(f"clip must be None or a (low, high) pair of finite numbers with "
                         f"low <= high; got {clip!r}")
