"""FLOPs and compulsory bytes of one call of each regularization kernel, from its arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``). Philox is integer
arithmetic (ten rounds of two 32 x 32 -> 64-bit products per block of four words), which a
FLOP count does not see: it counts 0 FLOPs, and only its uniform's conversion to a float
counts. Batch-norm counts are per element of x plus a few per channel, from the closed forms
in ``numpy_kernels.py``.
"""
from __future__ import annotations

import numpy as np

from ..runtime.costs import elements, nbytes, read_write, shape_bytes


def philox4x32_flops(counters, key, rounds=10):
    """Integer arithmetic only: 0 FLOPs."""
    return 0.0


def philox4x32_bytes(counters, key, rounds=10):
    """Read counters (B, 4) and key (2,); write (B, 4) uint32."""
    return nbytes(counters, key) + nbytes(counters)


def philox_uniform_flops(n, seed, offset=0, dtype=np.float32):
    """(word >> 8) * 2^-24: one multiply per number (the shift is integer)."""
    return float(n)


def philox_uniform_bytes(n, seed, offset=0, dtype=np.float32):
    """No array is read; n numbers are written."""
    return shape_bytes((n,), dtype)


def dropout_forward_flops(x, p, seed, offset=0):
    """Per element: the uniform (1), u >= p (1), select and scale (2)."""
    return 4.0 * elements(x)


def dropout_forward_bytes(x, p, seed, offset=0):
    """Read x; write y (like x) and the mask (uint8, like x)."""
    return 2 * nbytes(x) + shape_bytes(x.shape, np.uint8)


def dropout_backward_flops(dy, mask, p):
    """Per element: select by the mask and scale (2)."""
    return 2.0 * elements(dy)


def dropout_backward_bytes(dy, mask, p):
    """Read dy and mask; write dx (like dy)."""
    return 2 * nbytes(dy) + nbytes(mask)


def batchnorm_forward_flops(x, gamma, beta, eps=1e-5):
    """Per element: the mean's add (1), the variance's subtract, square and add (3),
    normalise gamma (x - mean) / std + beta (4); per channel: two divides by m, var + eps,
    sqrt, reciprocal (5)."""
    return 8.0 * elements(x) + 5.0 * gamma.shape[0]


def batchnorm_forward_bytes(x, gamma, beta, eps=1e-5):
    """Read x, gamma, beta once (the two-pass statistics reread x: not compulsory); write y,
    mean and var."""
    return 2 * nbytes(x) + nbytes(gamma, beta) + 2 * nbytes(gamma)


def batchnorm_normalize_flops(x, mean, var, gamma, beta, eps=1e-5):
    """Per element: gamma (x - mean) inv_std + beta (4); per channel: var + eps, sqrt,
    reciprocal (3)."""
    return 4.0 * elements(x) + 3.0 * gamma.shape[0]


def batchnorm_normalize_bytes(x, mean, var, gamma, beta, eps=1e-5):
    """Read x and the four (C,) vectors; write y (like x)."""
    return 2 * nbytes(x) + nbytes(mean, var, gamma, beta)


def batchnorm_backward_flops(dy, x, mean, var, gamma, eps=1e-5):
    """Per element: x_hat (2), dbeta's add (1), dgamma's multiply-add (2),
    dx = k (m dy - dbeta - x_hat dgamma) (5); per channel: inv_std and k (5)."""
    return 10.0 * elements(x) + 5.0 * gamma.shape[0]


def batchnorm_backward_bytes(dy, x, mean, var, gamma, eps=1e-5):
    """Read dy, x, mean, var, gamma; write dx (like x), dgamma and dbeta (C,)."""
    return nbytes(dy, x, mean, var, gamma) + nbytes(x) + 2 * nbytes(gamma)


def batchnorm_running_update_flops(running_mean, running_var, mean, var, momentum=0.1, count=2):
    """Per channel: the mean's blend (3), the variance's unbias and blend (4)."""
    return 7.0 * running_mean.shape[0]


def batchnorm_running_update_bytes(running_mean, running_var, mean, var, momentum=0.1, count=2):
    """running_mean and running_var read and written in place; mean and var read."""
    return read_write(running_mean, running_var) + nbytes(mean, var)


def l2_penalty_flops(w, lam):
    """w * w added to the sum (2 per element), and (lam / 2) times it (2)."""
    return 2.0 * elements(w) + 2.0


def l1_penalty_flops(w, lam):
    """|w| (free) added to the sum (1 per element), times lam (1)."""
    return float(elements(w)) + 1.0


def penalty_bytes(w, lam):
    """Read w; write one scalar."""
    return nbytes(w) + np.dtype(w.dtype).itemsize


def l2_penalty_grad_flops(grad, w, lam):
    """grad += lam w: a multiply-add per element."""
    return 2.0 * elements(w)


def l1_penalty_grad_flops(grad, w, lam):
    """grad += lam sign(w): sign (a selecting comparison) and a multiply-add per element."""
    return 3.0 * elements(w)


def penalty_grad_bytes(grad, w, lam):
    """grad read and written in place, w read."""
    return read_write(grad) + nbytes(w)
