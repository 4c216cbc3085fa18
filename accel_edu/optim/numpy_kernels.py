"""The optimizers chapter's reference kernels: each update rule in a few lines of NumPy.

Every update is *in place*: the parameter and its optimizer state (momentum buffer, running
averages) are overwritten, and the parameter is returned. The other backends fuse the same
arithmetic into one pass over memory; these versions read and write each array several times,
which is what the chapter's "fused versus unfused" measurement is about.

Shapes: ``param``, ``grad`` and every state array have one and the same shape (any number of
dimensions, including 0-D); state arrays have param's dtype. Scalars are Python numbers.
The rules follow ``torch.optim`` (PyTorch 2.x, default options); where a rule differs, its
docstring says how. ``g`` below is the gradient after L2 weight decay, ``g = grad + wd * param``.
"""
from __future__ import annotations

import math

import numpy as np


def sgd_momentum_update(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
                        nesterov=False, weight_decay=0.0, first_step=False):
    """SGD with (heavy-ball or Nesterov) momentum, in place on param and momentum_buffer.

        g = grad + weight_decay * param
        if momentum == 0:   d = g                                  (buffer untouched)
        else:
            buf = g                                  on the first step (torch's convention)
            buf = momentum * buf + (1 - dampening) * g              afterwards
            d = g + momentum * buf      if nesterov      else      d = buf
        param -= lr * d

    param, grad, momentum_buffer: same shape.  Returns param.
    torch starts the buffer as a copy of the first gradient, not as zeros; with dampening 0
    both give the same buffer, but with dampening > 0 the zero start would shrink the first
    step by (1 - dampening). ``first_step=True`` selects torch's start.
    """
    g = grad + weight_decay * param if weight_decay else grad
    if momentum == 0:
        d = g
    else:
        if first_step:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * g
        d = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * d
    return param


def adagrad_update(param, grad, sum_sq, lr, eps=1e-10, weight_decay=0.0):
    """AdaGrad, in place on param and sum_sq (the running sum of squared gradients).

        g = grad + weight_decay * param
        sum_sq += g * g
        param -= lr * g / (sqrt(sum_sq) + eps)

    param, grad, sum_sq: same shape.  Returns param.
    torch's ``lr_decay`` (lr / (1 + (t - 1) * lr_decay)) is applied by the Adagrad class,
    which passes the decayed lr here.
    """
    g = grad + weight_decay * param if weight_decay else grad
    sum_sq += g * g
    param -= lr * g / (np.sqrt(sum_sq) + eps)
    return param


def rmsprop_update(param, grad, square_avg, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """RMSprop, in place on param and square_avg (a running mean of squared gradients).

        g = grad + weight_decay * param
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        param -= lr * g / (sqrt(square_avg) + eps)

    param, grad, square_avg: same shape.  Returns param.
    As torch's RMSprop with momentum=0 and centered=False (those two options are not here).
    """
    g = grad + weight_decay * param if weight_decay else grad
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    param -= lr * g / (np.sqrt(square_avg) + eps)
    return param


def adam_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, step=1):
    """Adam, in place on param, exp_avg (m) and exp_avg_sq (v). ``step`` is t = 1, 2, ...

        g = grad + weight_decay * param          (L2 in the gradient: torch's Adam)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        param -= (lr / (1 - beta1**t)) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    param, grad, exp_avg, exp_avg_sq: same shape.  Returns param.
    The bias corrections 1 - beta**t undo the zero start of m and v. eps is added after the
    correction of v, exactly as torch does (the paper's m_hat / (sqrt(v_hat) + eps)).
    """
    g = grad + weight_decay * param if weight_decay else grad
    _adam_moments(param, g, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step)
    return param


def adamw_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.01, step=1):
    """AdamW (decoupled weight decay), in place on param, exp_avg (m) and exp_avg_sq (v).

        param *= 1 - lr * weight_decay           (decay the weight itself, not the gradient)
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad * grad
        param -= (lr / (1 - beta1**t)) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    param, grad, exp_avg, exp_avg_sq: same shape.  Returns param.
    The decay never enters m and v, so it is not rescaled by 1/sqrt(v): every weight shrinks
    by the same fraction (Loshchilov & Hutter), as in torch's AdamW.
    """
    if weight_decay:
        param *= 1 - lr * weight_decay
    _adam_moments(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step)
    return param


def _adam_moments(param, g, m, v, lr, beta1, beta2, eps, step):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    step_size = lr / (1 - beta1 ** step)
    # Python floats (math.sqrt, not np.sqrt) keep the arithmetic in param's dtype.
    denom = np.sqrt(v) / math.sqrt(1 - beta2 ** step) + eps
    param -= step_size * m / denom


def sum_of_squares(*tensors):
    """sum over every tensor of sum(x * x): the squared global norm that clipping needs.

    tensors: one or more arrays of any shapes, one dtype.  Returns a 0-D array of that dtype.
    """
    return np.asarray(sum(np.sum(t * t) for t in tensors), dtype=tensors[0].dtype)


def scale_inplace(x, factor):
    """x *= factor, in place.    x: any shape;  returns x."""
    x *= np.asarray(factor, dtype=x.dtype)
    return x
