"""Numba kernels of the regularization chapter: the NumPy reference as explicit loops.

Each public function has the name, signature, output shapes and dtypes of its twin in
``numpy_kernels.py``. Inputs arrive C-contiguous (the registry sees to that).

Philox works on 32-bit words held in uint64 scalars, so a 32 x 32-bit product fits. Every
constant is an ``np.uint64``: Numba, like NumPy, turns ``uint64 op int64`` into float64, which
would silently destroy the bits. Each element computes its own Philox block (4 words, of which
it keeps one): 4x the arithmetic of sharing a block, but no element depends on another, so
``prange`` splits them freely and any offset works.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401, I001  (threading layer, before any prange runs)
from . import numpy_kernels as ref

M0, M1 = np.uint64(ref.PHILOX_M0), np.uint64(ref.PHILOX_M1)
W0, W1 = np.uint64(ref.PHILOX_W0), np.uint64(ref.PHILOX_W1)
LOW32, S32, S8 = np.uint64(ref.MASK32), np.uint64(32), np.uint64(8)
TWO, THREE, ZERO = np.uint64(2), np.uint64(3), np.uint64(0)


@njit(cache=True, fastmath=False)
def _philox_block(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of one counter (c0..c3) under key (k0, k1); all uint64 holding 32 bits."""
    for _ in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = (p1 >> S32) ^ c1 ^ k0, p1 & LOW32, (p0 >> S32) ^ c3 ^ k1, p0 & LOW32
        k0 = (k0 + W0) & LOW32
        k1 = (k1 + W1) & LOW32
    return c0, c1, c2, c3


@njit(cache=True, fastmath=False)
def _philox_word(e, k0, k1):
    """Word e of the stream: lane e % 4 of the block e // 4 (see numpy_kernels.philox_words)."""
    b = e >> TWO
    w = _philox_block(b & LOW32, b >> S32, ZERO, ZERO, k0, k1)
    lane = e & THREE
    if lane == ZERO:
        return w[0]
    if lane == np.uint64(1):
        return w[1]
    if lane == TWO:
        return w[2]
    return w[3]


@njit(cache=True, fastmath=False, parallel=True)
def _philox4x32(counters, key, out):
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for i in prange(counters.shape[0]):
        w = _philox_block(np.uint64(counters[i, 0]), np.uint64(counters[i, 1]),
                          np.uint64(counters[i, 2]), np.uint64(counters[i, 3]), k0, k1)
        for j in range(4):
            out[i, j] = np.uint32(w[j])


def philox4x32(counters, key):
    """counters: (B, 4) uint32, key: (2,) uint32  ->  (B, 4) uint32"""
    out = np.empty(counters.shape, np.uint32)
    _philox4x32(counters, key, out)
    return out


@njit(cache=True, fastmath=False, parallel=True)
def _uniform_bits(n, k0, k1, offset, out):
    """out[i] = word(offset + i) >> 8, an integer in [0, 2^24)."""
    for i in prange(n):
        out[i] = np.uint32(_philox_word(offset + np.uint64(i), k0, k1) >> S8)


def _bits(n, seed, offset):
    bits = np.empty(n, np.uint32)
    _uniform_bits(n, np.uint64(seed & ref.MASK32), np.uint64(seed >> 32), np.uint64(offset), bits)
    return bits


def philox_uniform(n, seed, offset=0, dtype=np.float32):
    """(n,) uniforms in [0, 1): (word >> 8) / 2^24 (an exact conversion, then an exact scaling)."""
    real = np.dtype(dtype).type
    return _bits(n, seed, offset).astype(real) * real(2.0 ** -ref.UNIFORM_BITS)


@njit(cache=True, fastmath=False, parallel=True)
def _dropout(x, bits, threshold, scale, y, mask):
    for i in prange(x.shape[0]):
        keep = bits[i] >= threshold
        mask[i] = np.uint8(1 if keep else 0)
        y[i] = x[i] * scale if keep else 0


def dropout_forward(x, p, seed, offset=0):
    """Inverted dropout.    x: any shape  ->  y: like x,  mask: like x, uint8

    u >= p is decided in integers: u = bits / 2^24 >= p  <=>  bits >= ceil(p * 2^24), which is
    exact, so no backend's rounding of p can move a unit across the line.
    """
    flat = x.reshape(-1)
    bits = _bits(flat.size, seed, offset)
    threshold = np.uint32(np.ceil(p * 2.0 ** ref.UNIFORM_BITS))
    y, mask = np.empty_like(flat), np.empty(flat.size, np.uint8)
    _dropout(flat, bits, threshold, x.dtype.type(1.0 / (1.0 - p)), y, mask)
    return y.reshape(x.shape), mask.reshape(x.shape)


@njit(cache=True, fastmath=False, parallel=True)
def _dropout_backward(dy, mask, scale, dx):
    for i in prange(dy.shape[0]):
        dx[i] = dy[i] * scale if mask[i] != 0 else 0


def dropout_backward(dy, mask, p):
    """dx = mask * dy * (1 / (1 - p)).    dy: any shape, mask: like dy, uint8  ->  like dy"""
    dx = np.empty(dy.size, dy.dtype)
    _dropout_backward(dy.reshape(-1), mask.reshape(-1), dy.dtype.type(1.0 / (1.0 - p)), dx)
    return dx.reshape(dy.shape)


# -- Batch normalization: per-channel reductions, then per-element maps -----------------------

@njit(cache=True, fastmath=False, parallel=True)
def _channel_stats(x3, mean, var):
    n, c, s = x3.shape
    count = n * s
    for ch in prange(c):  # each thread owns whole channels: no two write the same statistic
        total = mean[ch]  # a zero of x's dtype, so a float32 sum stays float32
        for i in range(n):
            row = x3[i, ch]
            for j in range(s):
                total += row[j]
        mu = total / count
        squares = var[ch]
        for i in range(n):
            row = x3[i, ch]
            for j in range(s):
                d = row[j] - mu
                squares += d * d
        mean[ch] = mu
        var[ch] = squares / count


@njit(cache=True, fastmath=False, parallel=True)
def _normalize(x3, mean, var, gamma, beta, eps, y3):
    n, c, s = x3.shape
    for i in prange(n):
        for ch in range(c):
            inv_std = 1 / np.sqrt(var[ch] + eps)
            mu, g, b = mean[ch], gamma[ch], beta[ch]
            row, out = x3[i, ch], y3[i, ch]
            for j in range(s):
                out[j] = g * ((row[j] - mu) * inv_std) + b


def batchnorm_normalize(x, mean, var, gamma, beta, eps=1e-5):
    """y = gamma (x - mean) / sqrt(var + eps) + beta.    x: (N, F) or (N, C, H, W) -> like x"""
    x3 = ref.as_channels(x)
    y3 = np.empty_like(x3)
    _normalize(x3, mean, var, gamma, beta, x.dtype.type(eps), y3)
    return y3.reshape(x.shape)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training mode.    x: (N, F) or (N, C, H, W)  ->  y: like x, mean: (C,), var: (C,) biased"""
    x3 = ref.as_channels(x)
    mean, var = np.zeros(x.shape[1], x.dtype), np.zeros(x.shape[1], x.dtype)
    _channel_stats(x3, mean, var)
    return batchnorm_normalize(x, mean, var, gamma, beta, eps), mean, var


@njit(cache=True, fastmath=False, parallel=True)
def _backward_sums(dy3, x3, mean, var, eps, dgamma, dbeta):
    n, c, s = x3.shape
    for ch in prange(c):
        inv_std = 1 / np.sqrt(var[ch] + eps)
        sum_dy, sum_dy_xhat = dbeta[ch], dgamma[ch]
        for i in range(n):
            row, grad = x3[i, ch], dy3[i, ch]
            for j in range(s):
                sum_dy += grad[j]
                sum_dy_xhat += grad[j] * ((row[j] - mean[ch]) * inv_std)
        dbeta[ch] = sum_dy
        dgamma[ch] = sum_dy_xhat


@njit(cache=True, fastmath=False, parallel=True)
def _backward_dx(dy3, x3, mean, var, gamma, eps, dgamma, dbeta, dx3):
    n, c, s = x3.shape
    m = n * s
    for i in prange(n):
        for ch in range(c):
            inv_std = 1 / np.sqrt(var[ch] + eps)
            k = gamma[ch] * inv_std / m
            for j in range(s):
                x_hat = (x3[i, ch, j] - mean[ch]) * inv_std
                dx3[i, ch, j] = k * (m * dy3[i, ch, j] - dbeta[ch] - x_hat * dgamma[ch])


def batchnorm_backward(dy, x, mean, var, gamma, eps=1e-5):
    """dx: like x, dgamma: (C,), dbeta: (C,) (closed form, see numpy_kernels)."""
    x3, dy3 = ref.as_channels(x), ref.as_channels(dy)
    dgamma, dbeta = np.zeros(x.shape[1], x.dtype), np.zeros(x.shape[1], x.dtype)
    real_eps = x.dtype.type(eps)
    _backward_sums(dy3, x3, mean, var, real_eps, dgamma, dbeta)
    dx3 = np.empty_like(x3)
    _backward_dx(dy3, x3, mean, var, gamma, real_eps, dgamma, dbeta, dx3)
    return dx3.reshape(x.shape), dgamma, dbeta


@njit(cache=True, fastmath=False)
def _running_update(running_mean, running_var, mean, var, keep, take, unbias):
    for ch in range(mean.shape[0]):
        running_mean[ch] = keep * running_mean[ch] + take * mean[ch]
        running_var[ch] = keep * running_var[ch] + take * (var[ch] * unbias)


def batchnorm_running_update(running_mean, running_var, mean, var, momentum=0.1, count=2):
    """In place, PyTorch's convention (see numpy_kernels).  -> (running_mean, running_var)"""
    real = running_mean.dtype.type
    _running_update(running_mean, running_var, mean, var, real(1 - momentum), real(momentum),
                    real(count / (count - 1)))
    return running_mean, running_var


# -- Weight penalties -------------------------------------------------------------------------

@njit(cache=True, fastmath=False)
def _sum_of_squares(w):
    total = 0.0  # float64, as the reference accumulates
    for i in range(w.shape[0]):
        total += np.float64(w[i]) * np.float64(w[i])
    return total


@njit(cache=True, fastmath=False)
def _sum_of_abs(w):
    total = 0.0
    for i in range(w.shape[0]):
        total += abs(np.float64(w[i]))
    return total


def l2_penalty(w, lam):
    """(lam / 2) sum w^2  ->  0-d array of w's dtype"""
    return np.asarray(0.5 * lam * _sum_of_squares(w.reshape(-1)), dtype=w.dtype)


def l1_penalty(w, lam):
    """lam sum |w|  ->  0-d array of w's dtype"""
    return np.asarray(lam * _sum_of_abs(w.reshape(-1)), dtype=w.dtype)


@njit(cache=True, fastmath=False, parallel=True)
def _add_scaled(grad, w, lam):
    for i in prange(grad.shape[0]):
        grad[i] += lam * w[i]


@njit(cache=True, fastmath=False, parallel=True)
def _add_scaled_sign(grad, w, lam):
    for i in prange(grad.shape[0]):
        grad[i] += lam * np.sign(w[i])


def l2_penalty_grad(grad, w, lam):
    """grad += lam * w, in place  ->  grad"""
    flat = grad.reshape(-1)  # a view: grad arrives contiguous ...
    _add_scaled(flat, w.reshape(-1), grad.dtype.type(lam))
    return _written_back(grad, flat)


def l1_penalty_grad(grad, w, lam):
    """grad += lam * sign(w), in place  ->  grad"""
    flat = grad.reshape(-1)
    _add_scaled_sign(flat, w.reshape(-1), grad.dtype.type(lam))
    return _written_back(grad, flat)


def _written_back(grad, flat):
    """... unless the caller passed a strided view, where reshape had to copy."""
    if not np.shares_memory(grad, flat):
        grad[...] = flat.reshape(grad.shape)
    return grad
