"""Awkward inputs for the cross-backend check of each optimizer kernel.

Parameter shapes: a single number, primes (no work-group or vector width divides them), sizes
just past a power of two, and 2-D / 3-D weights. One gradient in each kernel's list is a
non-contiguous view (every other column of a wider array), as a gradient sliced out of a
larger buffer would be. State arrays that hold squares start non-negative, as they always are.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case

SHAPES = [(1,), (7,), (257,), (1031,), (13, 31), (2, 3, 5), (3, 64, 17)]


def _rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _squares(rng, shape, dtype):
    """A plausible running average of squared gradients: >= 0, some entries exactly 0."""
    s = _rand(rng, shape, dtype) ** 2
    s.reshape(-1)[::5] = 0
    return s


def _strided(rng, shape, dtype):
    """A non-contiguous view with the given shape: every other column of a wider array."""
    return _rand(rng, shape[:-1] + (2 * shape[-1],), dtype)[..., ::2]


def _grads(rng, dtype):
    """(label, shape, grad) for every shape, then one non-contiguous gradient."""
    for shape in SHAPES:
        yield f"{shape}", shape, _rand(rng, shape, dtype)
    yield "non-contiguous grad (5, 9)", (5, 9), _strided(rng, (5, 9), dtype)


def sgd_momentum_update(rng, dtype):
    options = [dict(momentum=0.0), dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
               dict(momentum=0.8, dampening=0.3, weight_decay=0.01),
               dict(momentum=0.8, dampening=0.3, first_step=True),
               dict(momentum=0.0, weight_decay=0.1)]
    for k, (label, shape, g) in enumerate(_grads(rng, dtype)):
        for opts in options if k < 2 else options[k % len(options):][:1]:
            yield Case(f"{label} {opts}", (_rand(rng, shape, dtype), g, _rand(rng, shape, dtype), 0.05),
                       dict(opts))


def adagrad_update(rng, dtype):
    for k, (label, shape, g) in enumerate(_grads(rng, dtype)):
        yield Case(f"{label}", (_rand(rng, shape, dtype), g, _squares(rng, shape, dtype), 0.1),
                   dict(eps=1e-10, weight_decay=0.05 * (k % 2)))


def rmsprop_update(rng, dtype):
    for k, (label, shape, g) in enumerate(_grads(rng, dtype)):
        yield Case(f"{label}", (_rand(rng, shape, dtype), g, _squares(rng, shape, dtype), 0.01),
                   dict(alpha=0.9 if k % 2 else 0.99, eps=1e-8, weight_decay=0.05 * (k % 2)))


def adam_update(rng, dtype):
    for k, (label, shape, g) in enumerate(_grads(rng, dtype)):
        yield Case(f"{label} step {1 + 6 * (k % 2)}",
                   (_rand(rng, shape, dtype), g, _rand(rng, shape, dtype, 0.1), _squares(rng, shape, dtype) * 0.01,
                    1e-3), dict(beta1=0.9, beta2=0.999 if k % 3 else 0.95, eps=1e-8,
                                weight_decay=0.1 * (k % 2), step=1 + 6 * (k % 2)))


adamw_update = adam_update


def sum_of_squares(rng, dtype):
    for shape in SHAPES:
        yield Case(f"one tensor {shape}", (_rand(rng, shape, dtype),))
    yield Case("a model's worth: five tensors of mixed shapes",
               tuple(_rand(rng, s, dtype) for s in [(64, 129), (64,), (10, 64), (10,), (1,)]))
    yield Case("non-contiguous tensor", (_strided(rng, (7, 11), dtype), _rand(rng, (3,), dtype)))
    yield Case("a large one (past the reduction's grid)", (_rand(rng, (70001,), dtype),))


def scale_inplace(rng, dtype):
    for shape in SHAPES:
        yield Case(f"{shape}", (_rand(rng, shape, dtype), 0.37))
    yield Case("factor 0", (_rand(rng, (5, 3), dtype), 0.0))
