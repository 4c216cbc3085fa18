"""Augment: random rotation, zoom, shift, flip and noise for a batch, on any backend.

The randomness lives here, on the host, and only here. Each call draws a few numbers per
sample with the pipeline's own seeded ``np.random.Generator`` (an angle, a zoom, a shift, a
flip flag, and the noise z if any), turns them into kernel arguments, and runs at most three
batch kernels: ``affine_warp``, ``flip_horizontal``, ``gaussian_noise``. The draws do not
depend on the backend, so a seed gives the same augmented batches on NumPy, Numba and OpenCL.

>>> aug = Augment(rotation=15, scale=(0.9, 1.1), translate=0.1, seed=0)
>>> xb_aug = aug(xb)              # (N, C, H, W) in, the same shape out     # doctest: +SKIP
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..runtime.backends import check_backend_name, resolve_backend
from ..runtime.opencl import DeviceArray
from . import checks, kernels
from .checks import is_finite_number
from .geometry import affine_theta


class AugmentParams(NamedTuple):
    """What one call drew: each entry is None when its augmentation is off.

    theta: (N, 2, 3) maps for affine_warp;  flip: (N,) bool;  z: (N, C, H, W) standard normal
    """
    theta: np.ndarray | None
    flip: np.ndarray | None
    z: np.ndarray | None


def _pair(name, value, low, high, what):
    """A number or an (a, b) pair, each in [low, high], as a tuple of two floats."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(is_finite_number(p) and low <= p <= high for p in pair):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return float(pair[0]), float(pair[1])


class Augment:
    """A random augmentation of image batches (N, C, H, W), or of signals (N, C, 1, L).

    rotation:  the largest turn, in degrees; each image turns by U(-rotation, rotation)
    scale:     (low, high); each image is zoomed by U(low, high) (> 1 enlarges the content)
    translate: the largest shift as a fraction of the size: a number, or (of width, of height)
    flip:      the probability of mirroring an image left to right
    noise:     sigma of the Gaussian noise added to every value (0: none)
    clip:      None, or the (low, high) range the noisy values are clipped to
    fill:      what the warp reads outside the image (the background: 0 for digits)
    seed:      seeds this pipeline's generator; each call draws new parameters from it
    backend:   where the kernels run; None follows ``accel_edu.use`` / ``ACCEL_EDU_BACKEND``,
               except that a DeviceArray batch stays on the OpenCL device

    A one-row input (H = 1) is a 1-D signal: it is zoomed and shifted along its length only,
    since a turn or a vertical shift would read the rows that a signal does not have.
    """

    def __init__(self, rotation=15.0, scale=(0.9, 1.1), translate=0.1, flip=0.0, noise=0.0,
                 clip=None, fill=0.0, seed=0, backend=None):
        if not is_finite_number(rotation) or rotation < 0:
            raise ValueError(f"rotation must be a finite number of degrees >= 0; got {rotation!r}")
        if not (isinstance(scale, (tuple, list)) and len(scale) == 2
                and all(map(is_finite_number, scale)) and 0 < scale[0] <= scale[1]):
            raise ValueError(f"scale must be a (low, high) pair with 0 < low <= high; got {scale!r}")
        self.translate = _pair("translate", translate, 0.0, 1.0,
                               "a fraction in [0, 1], or a (width, height) pair of them")
        if not is_finite_number(flip) or not 0 <= flip <= 1:
            raise ValueError(f"flip must be a probability in [0, 1]; got {flip!r}")
        if not is_finite_number(noise) or noise < 0:
            raise ValueError(f"noise must be a finite sigma >= 0; got {noise!r}")
        if clip is not None:
            clip = _pair("clip", clip, -np.inf, np.inf, "None or a (low, high) pair of finite numbers")
            if clip[0] > clip[1]:
                raise ValueError(f"clip must have low <= high; got {clip!r}")
        if not is_finite_number(fill):
            raise ValueError(f"fill must be a finite number; got {fill!r}")
        self.rotation, self.scale = float(rotation), (float(scale[0]), float(scale[1]))
        self.flip, self.noise, self.clip, self.fill = float(flip), float(noise), clip, float(fill)
        self.backend = None if backend is None else check_backend_name(backend)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return (f"Augment(rotation={self.rotation}, scale={self.scale}, translate={self.translate}, "
                f"flip={self.flip}, noise={self.noise}, clip={self.clip}, fill={self.fill}, "
                f"seed={self.seed!r}, backend={self.backend!r})")

    @property
    def warps(self) -> bool:
        """Whether any geometric augmentation is on (else affine_warp is skipped)."""
        return self.rotation > 0 or self.scale != (1.0, 1.0) or self.translate != (0.0, 0.0)

    def draw(self, shape, dtype=np.float32) -> AugmentParams:
        """Draw the parameters for one batch of ``shape`` (N, C, H, W), advancing the generator.

        Draws come in a fixed order (angle, zoom, shift, flip, noise), each only if it is on,
        so the same pipeline and seed give the same numbers wherever the kernels then run.
        """
        n, _, h, w = shape
        rng, theta, flip, z = self.rng, None, None, None
        if self.warps:
            signal = h == 1  # a 1-D signal: no turn, no vertical shift
            angle = 0.0 if signal else rng.uniform(-self.rotation, self.rotation, n)
            zoom = rng.uniform(*self.scale, n)  # an (N,) array, so theta has N maps
            fx, fy = self.translate
            tx = rng.uniform(-fx * w, fx * w, n)
            ty = 0.0 if signal else rng.uniform(-fy * h, fy * h, n)
            theta = affine_theta(rotation=angle, scale=zoom, tx=tx, ty=ty, dtype=dtype)
        if self.flip > 0:
            flip = rng.random(n) < self.flip
        if self.noise > 0:
            z = rng.standard_normal(tuple(shape), dtype=np.dtype(dtype).type)
        return AugmentParams(theta, flip, z)

    def __call__(self, x):
        """Augment one batch.    x: (N, C, H, W) NumPy or DeviceArray  ->  (N, C, H, W)

        The result is on the backend's side: a DeviceArray on OpenCL, NumPy otherwise. With
        every augmentation off, x itself is returned.
        """
        checks.images(x)
        backend = self.backend or ("opencl" if isinstance(x, DeviceArray) else resolve_backend(None))
        params = self.draw(x.shape, x.dtype)
        if params.theta is not None:
            x = kernels.affine_warp(x, params.theta, self.fill, backend=backend)
        if params.flip is not None:
            x = kernels.flip_horizontal(x, params.flip, backend=backend)
        if params.z is not None:
            x = kernels.gaussian_noise(x, params.z, self.noise, self.clip, backend=backend)
        return x
