"""The argument check of each regularization kernel, shared by all three backends.

Hyper-parameters get their own messages, because a wrong one is the usual mistake: a dropout
p of 1 (nothing kept), a negative penalty strength, a momentum of 10, an eps of 0.
"""
from __future__ import annotations

import numpy as np

from ..runtime.checks import check_array, check_same_dtype, check_same_shape, describe

UINT64_LIMIT = 2 ** 64


def _is_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value)))


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def dropout_p(p) -> None:
    if not _is_number(p) or not 0 <= p < 1:
        raise ValueError(f"p must be a dropout probability in [0, 1) (the chance of dropping a "
                         f"unit; p = 1 would drop everything and scale by 1/0); got {p!r}")


def penalty_strength(lam) -> None:
    if not _is_number(lam) or lam < 0:
        raise ValueError(f"lam must be a finite penalty strength >= 0; got {lam!r}")


def check_momentum(value) -> None:
    if not _is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"momentum must be in [0, 1] (the weight of the newest batch in the "
                         f"running statistics; PyTorch's default is 0.1); got {value!r}")


def check_eps(value) -> None:
    if not _is_number(value) or value <= 0:
        raise ValueError(f"eps must be a finite number > 0 (it keeps 1/sqrt(var + eps) finite "
                         f"when a channel is constant); got {value!r}")


def seed_and_offset(seed, offset, n) -> None:
    if not _is_int(seed) or not 0 <= seed < UINT64_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2^64); got {describe(seed)}")
    if not _is_int(offset) or offset < 0 or offset + n > UINT64_LIMIT:
        raise ValueError(f"offset must be an integer >= 0 with offset + n <= 2^64 (n = {n}); "
                         f"got {describe(offset)}")


def philox4x32(counters, key):
    check_array("counters", counters, ndim=2, dtype=np.uint32)
    check_array("key", key, ndim=1, dtype=np.uint32)
    if counters.shape[1] != 4:
        raise ValueError(f"counters must have shape (B, 4), four 32-bit words per counter; "
                         f"got {tuple(counters.shape)}")
    if tuple(key.shape) != (2,):
        raise ValueError(f"key must have shape (2,), two 32-bit words; got {tuple(key.shape)}")


def philox_uniform(n, seed, offset=0, dtype=np.float32):
    if not _is_int(n) or not 1 <= n <= 2 ** 31 - 1:
        raise ValueError(f"n must be an integer in [1, 2^31); got {describe(n)}")
    seed_and_offset(seed, offset, n)
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64; got {dtype!r}")


def dropout_forward(x, p, seed, offset=0):
    check_array("x", x)
    dropout_p(p)
    seed_and_offset(seed, offset, x.size)


def dropout_backward(dy, mask, p):
    check_array("dy", dy)
    check_array("mask", mask, dtype=np.uint8)
    check_same_shape(dy=dy, mask=mask)
    dropout_p(p)


def _channels(name, x):
    check_array(name, x, ndim=(2, 4))


def _per_channel(x, **arrays):
    c = x.shape[1]
    for name, a in arrays.items():
        check_array(name, a, ndim=1)
        if tuple(a.shape) != (c,):
            raise ValueError(f"{name} must have shape ({c},), one value per channel of x "
                             f"{tuple(x.shape)}; got {tuple(a.shape)}")
    check_same_dtype(x=x, **arrays)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    _channels("x", x)
    _per_channel(x, gamma=gamma, beta=beta)
    check_eps(eps)


def batchnorm_normalize(x, mean, var, gamma, beta, eps=1e-5):
    _channels("x", x)
    _per_channel(x, mean=mean, var=var, gamma=gamma, beta=beta)
    check_eps(eps)


def batchnorm_backward(dy, x, mean, var, gamma, eps=1e-5):
    _channels("x", x)
    check_array("dy", dy)
    check_same_shape(x=x, dy=dy)
    check_same_dtype(x=x, dy=dy)
    _per_channel(x, mean=mean, var=var, gamma=gamma)
    check_eps(eps)


def batchnorm_running_update(running_mean, running_var, mean, var, momentum=0.1, count=2):
    for name, a in (("running_mean", running_mean), ("running_var", running_var)):
        check_array(name, a, ndim=1, writeable=True)
    check_array("mean", mean, ndim=1)
    check_array("var", var, ndim=1)
    check_same_shape(running_mean=running_mean, running_var=running_var, mean=mean, var=var)
    check_same_dtype(running_mean=running_mean, running_var=running_var, mean=mean, var=var)
    check_momentum(momentum)
    if not _is_int(count) or count < 2:
        raise ValueError(f"count must be an integer >= 2, the values per channel in the batch "
                         f"(N * H * W): the unbiased variance divides by count - 1; got {count!r}")


def penalty(w, lam):
    check_array("w", w)
    penalty_strength(lam)


def penalty_grad(grad, w, lam):
    check_array("grad", grad, writeable=True)
    check_array("w", w)
    check_same_dtype(grad=grad, w=w)
    check_same_shape(grad=grad, w=w)
    penalty_strength(lam)
