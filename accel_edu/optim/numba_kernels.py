"""Numba kernels of the optimizers chapter: each update fused into one loop over memory.

Each public function has the name and signature of its twin in ``numpy_kernels.py``. The
NumPy reference makes several passes (``m *= beta1``, ``m += ...``, ``np.sqrt(v)``, ...), each
reading and writing whole arrays; here every element of param, grad and state is read once and
written once, which is all an update needs, so the loop runs at memory speed. The loop body is
plain arithmetic on 1-D contiguous arrays, so LLVM vectorises it, and ``prange`` splits it over
the cores.

Scalars are converted to param's dtype first, so float32 arithmetic stays float32, as in the
reference. A non-contiguous parameter or state (a slice of a bigger buffer) is updated through
a contiguous copy that is written back.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)


def _flat(a):
    """A 1-D contiguous view of ``a`` (or a copy, if ``a`` is strided)."""
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def _write_back(a, flat):
    if not a.flags.c_contiguous:
        a[...] = flat.reshape(a.shape)


# -- SGD with momentum ---------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _sgd_momentum(p, g, buf, lr, momentum, one_minus_dampening, nesterov, wd, first_step):
    for i in prange(p.shape[0]):
        d = g[i] + wd * p[i]
        if momentum != 0:
            b = d if first_step else momentum * buf[i] + one_minus_dampening * d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        p[i] -= lr * d


def sgd_momentum_update(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
                        nesterov=False, weight_decay=0.0, first_step=False):
    """See numpy_kernels.sgd_momentum_update.   param, grad, momentum_buffer: same shape."""
    real = param.dtype.type
    p, buf = _flat(param), _flat(momentum_buffer)
    _sgd_momentum(p, _flat(grad), buf, real(lr), real(momentum), real(1 - dampening), bool(nesterov),
                  real(weight_decay), bool(first_step))
    _write_back(param, p)
    _write_back(momentum_buffer, buf)
    return param


# -- AdaGrad and RMSprop -------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _adagrad(p, g, s, lr, eps, wd):
    for i in prange(p.shape[0]):
        gi = g[i] + wd * p[i]
        si = s[i] + gi * gi
        s[i] = si
        p[i] -= lr * gi / (math.sqrt(si) + eps)


def adagrad_update(param, grad, sum_sq, lr, eps=1e-10, weight_decay=0.0):
    """See numpy_kernels.adagrad_update.   param, grad, sum_sq: same shape."""
    real = param.dtype.type
    p, s = _flat(param), _flat(sum_sq)
    _adagrad(p, _flat(grad), s, real(lr), real(eps), real(weight_decay))
    _write_back(param, p)
    _write_back(sum_sq, s)
    return param


@njit(cache=True, fastmath=False, parallel=True)
def _rmsprop(p, g, sq, lr, alpha, one_minus_alpha, eps, wd):
    for i in prange(p.shape[0]):
        gi = g[i] + wd * p[i]
        si = alpha * sq[i] + one_minus_alpha * gi * gi
        sq[i] = si
        p[i] -= lr * gi / (math.sqrt(si) + eps)


def rmsprop_update(param, grad, square_avg, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """See numpy_kernels.rmsprop_update.   param, grad, square_avg: same shape."""
    real = param.dtype.type
    p, sq = _flat(param), _flat(square_avg)
    _rmsprop(p, _flat(grad), sq, real(lr), real(alpha), real(1 - alpha), real(eps), real(weight_decay))
    _write_back(param, p)
    _write_back(square_avg, sq)
    return param


# -- Adam and AdamW ------------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _adam(p, g, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps,
          l2, decay):
    """One pass: read p, g, m, v; write p, m, v (7 numbers of memory traffic per parameter).
    ``l2`` adds weight decay to the gradient (Adam); ``decay`` = 1 - lr * wd scales the weight
    first (AdamW). Each call sets one of them to its neutral value (0 or 1)."""
    for i in prange(p.shape[0]):
        pi = p[i] * decay
        gi = g[i] + l2 * pi
        mi = beta1 * m[i] + one_minus_beta1 * gi
        vi = beta2 * v[i] + one_minus_beta2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] = pi - step_size * mi / (math.sqrt(vi) / bc2_sqrt + eps)


def _adam_step(param, grad, m, v, lr, beta1, beta2, eps, step, l2, decay):
    real = param.dtype.type
    p, mf, vf = _flat(param), _flat(m), _flat(v)
    _adam(p, _flat(grad), mf, vf, real(beta1), real(1 - beta1), real(beta2), real(1 - beta2),
          real(lr / (1 - beta1 ** step)), real(math.sqrt(1 - beta2 ** step)), real(eps),
          real(l2), real(decay))
    for a, f in ((param, p), (m, mf), (v, vf)):
        _write_back(a, f)
    return param


def adam_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, step=1):
    """See numpy_kernels.adam_update.   param, grad, exp_avg, exp_avg_sq: same shape."""
    return _adam_step(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step, weight_decay, 1.0)


def adamw_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.01, step=1):
    """See numpy_kernels.adamw_update.   param, grad, exp_avg, exp_avg_sq: same shape."""
    return _adam_step(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step, 0.0,
                      1 - lr * weight_decay)


# -- Gradient clipping ---------------------------------------------------------------------
LANES = 16          # independent partial sums: a SIMD register's worth of float32
BLOCK = 1 << 14     # numbers per parallel task


@njit(cache=True, fastmath=False, parallel=True)
def _sum_of_squares(x):
    """Without fastmath, LLVM may not reorder a sum, so ``total += x[i] * x[i]`` runs one add
    at a time. Sixteen separate accumulators are sixteen independent sums, which it can keep in
    one vector register: the order is ours, fixed, and 2.7x faster on 16M floats. Each block's
    lanes are added in float64, then the blocks."""
    n = x.shape[0]
    blocks = (n + BLOCK - 1) // BLOCK
    partial = np.zeros(blocks)
    for b in prange(blocks):
        lo, hi = b * BLOCK, min((b + 1) * BLOCK, n)
        acc = np.zeros(LANES, x.dtype)
        i = lo
        while i + LANES <= hi:
            for j in range(LANES):
                acc[j] += x[i + j] * x[i + j]
            i += LANES
        s = 0.0
        for j in range(LANES):
            s += acc[j]
        for k in range(i, hi):
            s += np.float64(x[k]) * x[k]
        partial[b] = s
    return partial.sum()


def sum_of_squares(*tensors):
    """See numpy_kernels.sum_of_squares.   tensors: any shapes, one dtype;  returns a 0-D array."""
    return np.asarray(sum(_sum_of_squares(_flat(t)) for t in tensors), dtype=tensors[0].dtype)


@njit(cache=True, fastmath=False, parallel=True)
def _scale(x, factor):
    for i in prange(x.shape[0]):
        x[i] *= factor


def scale_inplace(x, factor):
    """x *= factor, in place.    x: any shape;  returns x."""
    f = _flat(x)
    _scale(f, x.dtype.type(factor))
    _write_back(x, f)
    return x
