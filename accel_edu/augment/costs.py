"""FLOPs and compulsory bytes of one call of each augmentation kernel, from its arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``); the affine warp's count
follows the formula in ``numpy_kernels.py``: its source coordinates and bilinear weights are
computed once per output pixel and shared by the channels.
"""
from __future__ import annotations

import numpy as np

from ..runtime.costs import elements, nbytes


def affine_warp_flops(x, theta, fill=0.0):
    """Per output pixel (n, i, j): source x and y (5 each), the fractions (2), the four
    bilinear weights (6): 18; per output element (n, c, i, j): four weighted neighbours (7)."""
    n, c, h, w = x.shape
    return 18.0 * n * h * w + 7.0 * n * c * h * w


def affine_warp_bytes(x, theta, fill=0.0):
    """Read x and theta (N, 2, 3); write the warped images (like x)."""
    return 2 * nbytes(x) + nbytes(theta)


def flip_horizontal_flops(x, mask):
    """A copy: 0 FLOPs."""
    return 0.0


def flip_horizontal_bytes(x, mask):
    """Read x and the mask (N,); write the result (like x)."""
    return 2 * nbytes(x) + nbytes(np.asarray(mask) if not hasattr(mask, "dtype") else mask)


def gaussian_noise_flops(x, z, sigma, clip=None):
    """x + sigma z: a multiply-add per element; a clip adds two selecting comparisons."""
    return (2.0 + (2.0 if clip is not None else 0.0)) * elements(x)


def gaussian_noise_bytes(x, z, sigma, clip=None):
    """Read x and z; write y (like x)."""
    return 2 * nbytes(x) + nbytes(z)
