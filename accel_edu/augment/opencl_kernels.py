"""OpenCL host code of the augmentation kernels: size the grid, launch.

The kernels are OpenCL C in ``augment.cl`` beside this file, compiled once per dtype
(``-D real=float|double``); every size is an int argument, so no image size triggers a new
build. Arguments arrive as DeviceArrays (the registry uploads NumPy ones) and results stay
on the device.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.opencl import empty, launch, round_up

SOURCE = Path(__file__).with_name("augment.cl")
GROUP = 256  # the 1-D noise kernel: the global size is rounded up to this, its work-group
ROW = 16     # the pixel kernels' work-group: 16 pixels along a row (PoCL compiles a kernel once
             # per work-group size, so every launch names the same one)


def affine_warp(x, theta, fill=0.0):
    """Resample each image through its own affine map, bilinearly.

    x: (N, C, H, W), theta: (N, 2, 3) output -> source, in x's dtype  ->  (N, C, H, W)
    One work-item per output pixel (j, i, n); it loops over the channels.
    """
    n, c, h, w = x.shape
    out = empty(x.shape, x.dtype)
    launch(SOURCE, "affine_warp", (round_up(w, ROW), h, n), (ROW, 1, 1),
           [n, c, h, w, x, theta, float(fill), out], x.dtype)
    return out


def flip_horizontal(x, mask):
    """Mirror the chosen images left to right.

    x: (N, C, H, W), mask: (N,) bool or uint8  ->  (N, C, H, W). One work-item per pixel.
    """
    n, c, h, w = x.shape
    out = empty(x.shape, x.dtype)
    launch(SOURCE, "flip_horizontal", (round_up(w, ROW), h, n * c), (ROW, 1, 1),
           [n, c, h, w, x, mask, out], x.dtype)
    return out


def gaussian_noise(x, z, sigma, clip=None):
    """y = x + sigma * z, optionally clipped.    x, z: (N, C, H, W)  ->  (N, C, H, W)"""
    low, high = (-np.inf, np.inf) if clip is None else clip
    out = empty(x.shape, x.dtype)
    launch(SOURCE, "gaussian_noise", (round_up(x.size, GROUP),), (GROUP,),
         [x.size, x, z, float(sigma), float(low), float(high), out], x.dtype)
    return out
