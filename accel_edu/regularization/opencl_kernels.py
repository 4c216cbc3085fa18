"""OpenCL host code of the regularization chapter: split 64-bit numbers, size the grid, launch.

The kernels are OpenCL C beside this file: ``philox.cl`` (the generator and dropout),
``batchnorm.cl`` and ``penalties.cl``, each compiled once per dtype (``-D real=float|double``).
Arguments arrive as DeviceArrays (the registry uploads NumPy ones) and results stay on the
device: a dropout mask is made where it is used, so training moves no mask across the bus.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.opencl import empty, launch, round_up
from . import numpy_kernels as ref

HERE = Path(__file__).parent
GROUP = 256     # per-element kernels: the work-group, and what the global size is rounded up to
CHANNELS = 64   # per-channel kernels (statistics, sums): one work-item per channel
# Every launch names its work-group size: PoCL compiles a kernel once per size it runs with.


def _int32_words(value: int) -> tuple[int, int]:
    """A 64-bit unsigned number as (low, high) 32-bit words in int range: the kernel reads them
    back as uint. launch() passes ints as OpenCL int."""
    def signed(word):
        return word - 2 ** 32 if word >= 2 ** 31 else word
    return signed(value & ref.MASK32), signed(value >> 32)


def philox4x32(counters, key):
    """counters: (B, 4) uint32, key: (2,) uint32  ->  (B, 4) uint32. One work-item per counter."""
    out = empty(counters.shape, np.uint32)
    blocks = counters.shape[0]
    launch(HERE / "philox.cl", "philox4x32", (round_up(blocks, GROUP),), (GROUP,),
           [blocks, counters, key, out], np.float32)
    return out


def philox_uniform(n, seed, offset=0, dtype=np.float32):
    """(n,) uniforms in [0, 1): (word(offset + i) >> 8) / 2^24, the same bits as NumPy."""
    out = empty((n,), dtype)
    launch(HERE / "philox.cl", "philox_uniform", (round_up(n, GROUP),), (GROUP,),
           [n, *_int32_words(seed), *_int32_words(offset), out], dtype)
    return out


def dropout_forward(x, p, seed, offset=0):
    """Inverted dropout.    x: any shape  ->  y: like x,  mask: like x, uint8

    The host turns p into the integer threshold ceil(p * 2^24) and the scale 1 / (1 - p);
    each work-item draws its own Philox word, decides, and writes y and the mask.
    """
    y, mask = empty(x.shape, x.dtype), empty(x.shape, np.uint8)
    threshold = int(np.ceil(p * 2.0 ** ref.UNIFORM_BITS))
    launch(HERE / "philox.cl", "dropout_forward", (round_up(x.size, GROUP),), (GROUP,),
           [x.size, *_int32_words(seed), *_int32_words(offset), threshold, 1.0 / (1.0 - p),
            x, y, mask], x.dtype)
    return y, mask


def dropout_backward(dy, mask, p):
    """dx = mask * dy * (1 / (1 - p)).    dy: any shape, mask: like dy, uint8  ->  like dy"""
    dx = empty(dy.shape, dy.dtype)
    launch(HERE / "philox.cl", "dropout_backward", (round_up(dy.size, GROUP),), (GROUP,),
           [dy.size, 1.0 / (1.0 - p), dy, mask, dx], dy.dtype)
    return dx


# -- Batch normalization ---------------------------------------------------------------------

def _ncs(x):
    """(N, C, S) of x: (N, F) or (N, C, H, W)."""
    return x.shape[0], x.shape[1], int(np.prod(x.shape[2:], dtype=np.int64))


def _per_channel(kernel, c, args, dtype):
    launch(HERE / "batchnorm.cl", kernel, (round_up(c, CHANNELS),), (CHANNELS,), args, dtype)


def _per_element(kernel, size, args, dtype):
    launch(HERE / "batchnorm.cl", kernel, (round_up(size, GROUP),), (GROUP,), args, dtype)


def batchnorm_normalize(x, mean, var, gamma, beta, eps=1e-5):
    """y = gamma (x - mean) / sqrt(var + eps) + beta.    x: (N, F) or (N, C, H, W) -> like x"""
    _, c, s = _ncs(x)
    y = empty(x.shape, x.dtype)
    _per_element("batchnorm_normalize", x.size, [x.size, c, s, float(eps), x, mean, var, gamma, beta, y], x.dtype)
    return y


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training mode.    x: (N, F) or (N, C, H, W)  ->  y: like x, mean: (C,), var: (C,) biased"""
    n, c, s = _ncs(x)
    mean, var = empty((c,), x.dtype), empty((c,), x.dtype)
    _per_channel("channel_stats", c, [n, c, s, x, mean, var], x.dtype)
    return batchnorm_normalize(x, mean, var, gamma, beta, eps), mean, var


def batchnorm_backward(dy, x, mean, var, gamma, eps=1e-5):
    """dx: like x, dgamma: (C,), dbeta: (C,): two per-channel sums, then dx per element."""
    n, c, s = _ncs(x)
    dgamma, dbeta, dx = empty((c,), x.dtype), empty((c,), x.dtype), empty(x.shape, x.dtype)
    _per_channel("backward_sums", c, [n, c, s, float(eps), dy, x, mean, var, dgamma, dbeta], x.dtype)
    _per_element("backward_dx", x.size, [x.size, c, s, n * s, float(eps), dy, x, mean, var, gamma,
                                         dgamma, dbeta, dx], x.dtype)
    return dx, dgamma, dbeta


def batchnorm_running_update(running_mean, running_var, mean, var, momentum=0.1, count=2):
    """In place on the device, PyTorch's convention (see numpy_kernels)  -> (running_mean, running_var)

    keep, take and unbias are rounded to the dtype on the host, as the reference rounds them.
    """
    real = running_mean.dtype.type
    c = running_mean.shape[0]
    _per_channel("running_update", c, [c, real(1 - momentum), real(momentum), real(count / (count - 1)),
                                       running_mean, running_var, mean, var], running_mean.dtype)
    return running_mean, running_var


# -- Weight penalties ------------------------------------------------------------------------

def _penalty(w, l1, scale):
    out = empty((), w.dtype)
    launch(HERE / "penalties.cl", "weight_penalty", (1,), (1,), [w.size, l1, float(scale), w, out], w.dtype)
    return out


def l2_penalty(w, lam):
    """(lam / 2) sum w^2  ->  0-d DeviceArray"""
    return _penalty(w, 0, 0.5 * lam)


def l1_penalty(w, lam):
    """lam sum |w|  ->  0-d DeviceArray"""
    return _penalty(w, 1, lam)


def _penalty_grad(kernel, grad, w, lam):
    launch(HERE / "penalties.cl", kernel, (round_up(grad.size, GROUP),), (GROUP,),
           [grad.size, float(lam), grad, w], grad.dtype)
    return grad


def l2_penalty_grad(grad, w, lam):
    """grad += lam * w, in place on the device  ->  grad"""
    return _penalty_grad("l2_penalty_grad", grad, w, lam)


def l1_penalty_grad(grad, w, lam):
    """grad += lam * sign(w), in place on the device  ->  grad"""
    return _penalty_grad("l1_penalty_grad", grad, w, lam)
