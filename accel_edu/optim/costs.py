"""FLOPs and compulsory bytes of one call of each optimizer kernel, from its arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``); counts are per
parameter, from the rules in ``numpy_kernels.py``, and the per-call scalars (bias
corrections, 1 - beta) are free. Every update is in place: param and its state are read and
written (twice their size), grad is read once.
"""
from __future__ import annotations

import numpy as np

from ..runtime.costs import elements, nbytes, read_write


def _decay(weight_decay) -> float:
    """g = grad + weight_decay * param: a multiply-add per parameter, when there is decay."""
    return 2.0 if weight_decay else 0.0


def sgd_momentum_update_flops(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
                              nesterov=False, weight_decay=0.0, first_step=False):
    """Per parameter: decay (2), buf = momentum buf + (1 - dampening) g (3, or a copy on the
    first step), Nesterov's g + momentum buf (2), param -= lr d (2)."""
    per = _decay(weight_decay) + 2.0
    if momentum:
        per += (0.0 if first_step else 3.0) + (2.0 if nesterov else 0.0)
    return per * elements(param)


def sgd_momentum_update_bytes(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
                              nesterov=False, weight_decay=0.0, first_step=False):
    """param read and written, grad read; the buffer read and written only with momentum
    (without, it is untouched; on the first step it is only written)."""
    buffer = 0 if not momentum else nbytes(momentum_buffer) if first_step else read_write(momentum_buffer)
    return read_write(param) + nbytes(grad) + buffer


def adagrad_update_flops(param, grad, sum_sq, lr, eps=1e-10, weight_decay=0.0):
    """Per parameter: decay (2), sum_sq += g g (2), param -= lr g / (sqrt(sum_sq) + eps) (5)."""
    return (_decay(weight_decay) + 7.0) * elements(param)


def rmsprop_update_flops(param, grad, square_avg, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """Per parameter: decay (2), square_avg = alpha square_avg + (1 - alpha) g g (4),
    param -= lr g / (sqrt(square_avg) + eps) (5)."""
    return (_decay(weight_decay) + 9.0) * elements(param)


def one_state_bytes(param, grad, state, *scalars, **options):
    """AdaGrad and RMSprop: param and its one state read and written, grad read."""
    return read_write(param, state) + nbytes(grad)


def _adam_per_parameter() -> float:
    """m = beta1 m + (1 - beta1) g (3), v = beta2 v + (1 - beta2) g g (4),
    param -= step m / (sqrt(v) / c2 + eps) (6): 13."""
    return 13.0


def adam_update_flops(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                      weight_decay=0.0, step=1):
    """Per parameter: L2 decay in the gradient (2) and the 13 of the moments and the step."""
    return (_decay(weight_decay) + _adam_per_parameter()) * elements(param)


def adamw_update_flops(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                       weight_decay=0.01, step=1):
    """Per parameter: param *= 1 - lr wd (1, when decaying) and the 13 of the moments and the step."""
    return ((1.0 if weight_decay else 0.0) + _adam_per_parameter()) * elements(param)


def adam_bytes(param, grad, exp_avg, exp_avg_sq, *scalars, **options):
    """Adam and AdamW: param, m and v read and written, grad read: 7 numbers per parameter."""
    return read_write(param, exp_avg, exp_avg_sq) + nbytes(grad)


def sum_of_squares_flops(*tensors):
    """A multiply and an add per element of every tensor."""
    return 2.0 * sum(elements(t) for t in tensors)


def sum_of_squares_bytes(*tensors):
    """Read every tensor; write one scalar."""
    return nbytes(*tensors) + np.dtype(tensors[0].dtype).itemsize


def scale_inplace_flops(x, factor):
    """One multiply per element."""
    return float(elements(x))


def scale_inplace_bytes(x, factor):
    """x read and written in place."""
    return read_write(x)
