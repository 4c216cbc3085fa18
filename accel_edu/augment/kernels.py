"""The augmentation kernels: each one name, one check, three backends.

This file is the table of contents. The implementations live beside it: ``numpy_kernels.py``
(the reference, whose docstring fixes the coordinate convention), ``numba_kernels.py`` and
``opencl_kernels.py`` (with its OpenCL C in ``augment.cl``). None of them draws a random
number: ``pipeline.Augment`` draws the parameters on the host and passes them in.
"""
from __future__ import annotations

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs

affine_warp = Kernel("affine_warp", checks.affine_warp, cases.affine_warp,
                     summary="bilinear resampling through one affine map per image "
                             "(rotate, zoom, shift, shear)",
                     flops=costs.affine_warp_flops, bytes=costs.affine_warp_bytes)
flip_horizontal = Kernel("flip_horizontal", checks.flip_horizontal, cases.flip_horizontal,
                         summary="mirror the chosen images left to right",
                         flops=costs.flip_horizontal_flops, bytes=costs.flip_horizontal_bytes)
gaussian_noise = Kernel("gaussian_noise", checks.gaussian_noise, cases.gaussian_noise,
                        summary="x + sigma * z with z drawn on the host, optionally clipped",
                        flops=costs.gaussian_noise_flops, bytes=costs.gaussian_noise_bytes)

ALL = [affine_warp, flip_horizontal, gaussian_noise]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
