"""The reference kernels of the regularization chapter: short, vectorised, obviously right.

Every other backend is checked against these, and the graded exercises are built from them,
so each docstring states the exact rule. Shapes: N the batch, F features, C channels, H x W
an image; batch norm reads (N, F) as (N, C=F, S=1) and (N, C, H, W) as (N, C, S=H*W).

Randomness: dropout draws no numbers from a stateful generator. Its mask is a pure function
of (seed, counter offset, element index) through Philox4x32-10 (Salmon et al., "Parallel
random numbers: as easy as 1, 2, 3", SC 2011), so NumPy, Numba and OpenCL, each evaluating
that function element by element, drop the same units for the same seed.
"""
from __future__ import annotations

import numpy as np

# Philox4x32's constants (Random123, philox.h): two multipliers for the S-box of each round,
# and two Weyl increments (golden ratio and sqrt(3) - 1, times 2^32) for the key schedule.
PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
PHILOX_ROUNDS = 10
MASK32 = 0xFFFFFFFF
UNIFORM_BITS = 24   # a uniform is (word >> 8) / 2^24: exact in float32 and float64 alike


def philox4x32(counters, key, rounds=PHILOX_ROUNDS):
    """Philox4x32-R: a bijection of 128-bit counters under a 64-bit key.

    counters: (B, 4) uint32, key: (2,) uint32  ->  (B, 4) uint32

    One round, with (hi, lo) the high and low 32 bits of a 64-bit product:
        (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2
        c = (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0)
    then the key is bumped, k0 += W0 and k1 += W1 (mod 2^32), before the next round.
    """
    c = [counters[:, i].astype(np.uint64) for i in range(4)]
    k0, k1 = int(key[0]), int(key[1])
    for _ in range(rounds):
        p0 = np.uint64(PHILOX_M0) * c[0]
        p1 = np.uint64(PHILOX_M1) * c[2]
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK32)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK32)
        c = [hi1 ^ c[1] ^ np.uint64(k0), lo1, hi0 ^ c[3] ^ np.uint64(k1), lo0]
        k0, k1 = (k0 + PHILOX_W0) & MASK32, (k1 + PHILOX_W1) & MASK32
    return np.stack(c, axis=1).astype(np.uint32)


def philox_words(n, seed, offset=0):
    """Words offset, ..., offset + n - 1 of the Philox stream of ``seed``:  -> (n,) uint32

    Word e is lane e % 4 of philox4x32(counter=(b mod 2^32, b >> 32, 0, 0),
    key=(seed mod 2^32, seed >> 32)) with block b = e // 4. Any word can be computed on its
    own, which is what lets every work-item of a kernel draw its own number.
    """
    e = np.arange(offset, offset + n, dtype=np.uint64)
    blocks, first = np.unique(e >> np.uint64(2), return_inverse=True)
    counters = np.zeros((len(blocks), 4), np.uint32)
    counters[:, 0] = blocks & np.uint64(MASK32)
    counters[:, 1] = blocks >> np.uint64(32)
    key = np.array([seed & MASK32, seed >> 32], np.uint32)
    words = philox4x32(counters, key)
    return words[first, (e & np.uint64(3)).astype(np.intp)]


def philox_uniform(n, seed, offset=0, dtype=np.float32):
    """n uniform numbers in [0, 1) from the Philox stream of ``seed``:  -> (n,) dtype

    u_i = (word_{offset + i} >> 8) / 2^24, a multiple of 2^-24, so it is exact in float32
    and float64 and every backend returns the same bits.
    """
    words = philox_words(n, seed, offset)
    return ((words >> 8).astype(np.float64) * 2.0 ** -UNIFORM_BITS).astype(dtype)


def dropout_forward(x, p, seed, offset=0):
    """Inverted dropout: keep each unit with probability 1 - p and scale it by 1 / (1 - p).

    x: any shape, float;  p in [0, 1);  seed, offset: ints  ->  y: like x,  mask: like x, uint8

    Element i of x in C order (flattened) uses u_i = philox_uniform(x.size, seed, offset)[i]:
        mask_i = 1 if u_i >= p else 0,      y_i = mask_i * x_i * (1 / (1 - p))
    where 1 / (1 - p) is rounded to x's dtype first. E[y_i] = x_i, so at inference the layer
    is the identity and nothing needs rescaling.
    """
    u = philox_uniform(x.size, seed, offset, np.float64).reshape(x.shape)
    mask = (u >= p).astype(np.uint8)
    return dropout_backward(x, mask, p), mask


def dropout_backward(dy, mask, p):
    """dx_i = mask_i * dy_i * (1 / (1 - p)), the same mask and scale as the forward pass.

    dy: any shape, float;  mask: like dy, uint8 (1 = kept);  p in [0, 1)  ->  dx: like dy
    """
    scale = np.asarray(1.0 / (1.0 - p), dtype=dy.dtype)
    return np.where(mask != 0, dy * scale, 0).astype(dy.dtype)


# -- Batch normalization --------------------------------------------------------------------

def as_channels(x):
    """x: (N, F) or (N, C, H, W)  ->  a (N, C, S) view or copy, S = 1 or H * W."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch normalization in training mode: normalise each channel by its batch statistics.

    x: (N, F) or (N, C, H, W);  gamma, beta: (C,) with C = F or C  ->
    y: like x,  mean: (C,),  var: (C,) the biased variance (divided by the count m = N * S)

        mean_c = sum x / m,   var_c = sum (x - mean_c)^2 / m      (two passes: no cancellation)
        y = gamma_c * (x - mean_c) / sqrt(var_c + eps) + beta_c
    """
    x3 = as_channels(x)
    mean = x3.mean(axis=(0, 2))
    var = ((x3 - mean[:, None]) ** 2).mean(axis=(0, 2))
    return batchnorm_normalize(x, mean, var, gamma, beta, eps), mean, var


def batchnorm_normalize(x, mean, var, gamma, beta, eps=1e-5):
    """y = gamma_c * (x - mean_c) / sqrt(var_c + eps) + beta_c with the given statistics.

    x: (N, F) or (N, C, H, W);  mean, var, gamma, beta: (C,)  ->  y: like x
    With the running statistics this is batch norm in inference mode.
    """
    x3 = as_channels(x)
    inv_std = 1 / np.sqrt(var + np.asarray(eps, x.dtype))
    x_hat = (x3 - mean[:, None]) * inv_std[:, None]
    return (gamma[:, None] * x_hat + beta[:, None]).reshape(x.shape).astype(x.dtype)


def batchnorm_backward(dy, x, mean, var, gamma, eps=1e-5):
    """Gradients of training-mode batch norm, in the compact closed form.

    dy, x: (N, F) or (N, C, H, W);  mean, var (from the forward), gamma: (C,)
    ->  dx: like x,  dgamma: (C,),  dbeta: (C,)

    With x_hat = (x - mean) / sqrt(var + eps) and m = N * S values per channel:
        dbeta_c  = sum dy,    dgamma_c = sum dy * x_hat
        dx = gamma_c / (m sqrt(var_c + eps)) * (m dy - dbeta_c - x_hat dgamma_c)
    The mean and variance depend on every x, which is where the two subtracted terms come from.
    """
    x3, dy3 = as_channels(x), as_channels(dy)
    m = x3.shape[0] * x3.shape[2]
    inv_std = 1 / np.sqrt(var + np.asarray(eps, x.dtype))
    x_hat = (x3 - mean[:, None]) * inv_std[:, None]
    dbeta = dy3.sum(axis=(0, 2))
    dgamma = (dy3 * x_hat).sum(axis=(0, 2))
    dx = (gamma * inv_std / m)[:, None] * (m * dy3 - dbeta[:, None] - x_hat * dgamma[:, None])
    return dx.reshape(x.shape).astype(x.dtype), dgamma, dbeta


def batchnorm_running_update(running_mean, running_var, mean, var, momentum=0.1, count=2):
    """PyTorch's update of the running statistics, in place:

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * count / (count - 1)

    running_mean, running_var, mean, var: (C,);  count = N * S >= 2, the values per channel.
    The running variance is the unbiased estimate; var (biased) is what the forward used.
    Returns (running_mean, running_var).
    """
    real = running_mean.dtype.type
    keep, take = real(1 - momentum), real(momentum)
    unbias = real(count / (count - 1))
    running_mean[...] = keep * running_mean + take * mean
    running_var[...] = keep * running_var + take * (var * unbias)
    return running_mean, running_var


# -- Weight penalties -----------------------------------------------------------------------

def l2_penalty(w, lam):
    """(lam / 2) * sum w^2.    w: any shape;  lam >= 0  ->  0-d array of w's dtype"""
    return np.asarray(0.5 * lam * float(np.sum(w.astype(np.float64) ** 2)), dtype=w.dtype)


def l1_penalty(w, lam):
    """lam * sum |w|.    w: any shape;  lam >= 0  ->  0-d array of w's dtype"""
    return np.asarray(lam * float(np.sum(np.abs(w.astype(np.float64)))), dtype=w.dtype)


def l2_penalty_grad(grad, w, lam):
    """grad += lam * w, in place: the gradient of (lam / 2) sum w^2 added to the loss's.

    grad, w: same shape and dtype;  lam >= 0  ->  returns grad
    """
    grad += np.asarray(lam, dtype=grad.dtype) * w
    return grad


def l1_penalty_grad(grad, w, lam):
    """grad += lam * sign(w), in place (sign(0) = 0, the subgradient that keeps zeros at zero).

    grad, w: same shape and dtype;  lam >= 0  ->  returns grad
    """
    grad += np.asarray(lam, dtype=grad.dtype) * np.sign(w)
    return grad
