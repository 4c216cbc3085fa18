"""The augmentation kernels: each one name, one check, three backends.

This file is the table of contents. The implementations live beside it: ``numpy_kernels.py``
(the reference, whose docstring fixes the coordinate convention), ``numba_kernels.py`` and
``opencl_kernels.py`` (with its OpenCL C in ``augment.cl``). None of them draws a random
number: ``pipeline.Augment`` draws the parameters on the host and passes them in.
"""
from __future__ import annotations

from ..runtime import Kernel
from ..runtime.registry import wire
from . import cases, checks
from . import numpy_kernels as ref

affine_warp = Kernel("affine_warp", checks.affine_warp, cases.affine_warp,
                     summary="bilinear resampling through one affine map per image "
                             "(rotate, zoom, shift, shear)")
flip_horizontal = Kernel("flip_horizontal", checks.flip_horizontal, cases.flip_horizontal,
                         summary="mirror the chosen images left to right")
gaussian_noise = Kernel("gaussian_noise", checks.gaussian_noise, cases.gaussian_noise,
                        summary="x + sigma * z with z drawn on the host, optionally clipped")

ALL = [affine_warp, flip_horizontal, gaussian_noise]

for _k in ALL:
    _k.implement("numpy", getattr(ref, _k.name))


try:
    from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)
    from . import numba_kernels
except ImportError:  # numba missing: available_backends() says why
    numba_kernels = None
else:
    wire(ALL, "numba", numba_kernels)

from . import opencl_kernels  # noqa: E402  (imports pyopencl only when a kernel first runs)

wire(ALL, "opencl", opencl_kernels)
