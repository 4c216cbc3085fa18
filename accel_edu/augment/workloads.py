"""Benchmark inputs for the augmentation kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`): batches of RGB images (N, 3, H, W) = (16, 3, 32, 32),
(64, 3, 64, 64) and (128, 3, 128, 128), random maps and masks drawn as the pipeline draws them.
"""
from __future__ import annotations

from ..runtime import Case
from ..runtime.workloads import pick
from .cases import _random_theta


def _images(rng, dtype, size):
    shape = pick(size, (16, 3, 32, 32), (64, 3, 64, 64), (128, 3, 128, 128))
    return rng.random(shape).astype(dtype)


def affine_warp(rng, dtype, size):
    x = _images(rng, dtype, size)
    return Case(f"x {x.shape}", (x, _random_theta(rng, x.shape[0], x.shape[2], dtype)))


def flip_horizontal(rng, dtype, size):
    x = _images(rng, dtype, size)
    return Case(f"x {x.shape}", (x, rng.random(x.shape[0]) < 0.5))


def gaussian_noise(rng, dtype, size):
    x = _images(rng, dtype, size)
    return Case(f"x {x.shape}", (x, rng.standard_normal(x.shape).astype(dtype), 0.1))


WORKLOADS = {"affine_warp": affine_warp, "flip_horizontal": flip_horizontal, "gaussian_noise": gaussian_noise}
