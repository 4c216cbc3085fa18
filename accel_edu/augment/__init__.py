"""Data augmentation as batch kernels: rotate, zoom, shift, shear, flip and add noise.

>>> from accel_edu.augment import Augment
>>> aug = Augment(rotation=15, scale=(0.9, 1.1), translate=0.1, seed=0, backend="numba")
>>> xb_aug = aug(xb)                                                   # doctest: +SKIP

The kernels are deterministic functions of the images and of parameters drawn on the host
(``Augment.draw``), so every backend computes the same batch from the same seed:

>>> from accel_edu.augment import affine_theta, affine_warp
>>> y = affine_warp(x, affine_theta(rotation=[90] * len(x)))          # doctest: +SKIP
"""
from . import kernels
from .geometry import affine_theta
from .kernels import affine_warp, flip_horizontal, gaussian_noise
from .pipeline import Augment, AugmentParams

__all__ = ["kernels", "affine_theta", "affine_warp", "flip_horizontal", "gaussian_noise",
           "Augment", "AugmentParams"]
