"""OpenCL host code of the optimizers chapter: combine the hyper-parameters, size the grid, launch.

Each public function has the name and signature of its twin in ``numpy_kernels.py`` but takes
DeviceArrays, and updates them where they are: parameters and optimizer state never leave the
device. The kernels are OpenCL C in ``update.cl`` (the fused updates) and ``norm.cl`` (the
sum of squares for clipping). Scalars that depend only on the step (``1 - beta``,
``lr / (1 - beta1^t)``) are computed here once, in double precision, not once per element.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..runtime.opencl import empty, launch, round_up

HERE = Path(__file__).parent

GROUP = 256        # 1-D kernels: the global size is rounded up to this, and it is the work-group
PARTIALS = 1024    # norm.cl: work-items (and partial sums) per tensor
PARTIAL_GROUP = 64


def _update(name: str, param, scalars: list, arrays: list) -> None:
    launch(HERE / "update.cl", name, (round_up(param.size, GROUP),), (GROUP,),
           [param.size, *scalars, *arrays], param.dtype)


def sgd_momentum_update(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
                        nesterov=False, weight_decay=0.0, first_step=False):
    """See numpy_kernels.sgd_momentum_update.   param, grad, momentum_buffer: same shape."""
    _update("sgd_momentum_update", param,
            [float(lr), float(momentum), float(1 - dampening), int(bool(nesterov)), float(weight_decay),
             int(bool(first_step))], [param, grad, momentum_buffer])
    return param


def adagrad_update(param, grad, sum_sq, lr, eps=1e-10, weight_decay=0.0):
    """See numpy_kernels.adagrad_update.   param, grad, sum_sq: same shape."""
    _update("adagrad_update", param, [float(lr), float(eps), float(weight_decay)], [param, grad, sum_sq])
    return param


def rmsprop_update(param, grad, square_avg, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """See numpy_kernels.rmsprop_update.   param, grad, square_avg: same shape."""
    _update("rmsprop_update", param, [float(lr), float(alpha), float(1 - alpha), float(eps), float(weight_decay)],
            [param, grad, square_avg])
    return param


def _adam(param, grad, m, v, lr, beta1, beta2, eps, step, l2, decay):
    _update("adam_update", param,
            [float(beta1), float(1 - beta1), float(beta2), float(1 - beta2), lr / (1 - beta1 ** step),
             math.sqrt(1 - beta2 ** step), float(eps), float(l2), float(decay)], [param, grad, m, v])
    return param


def adam_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, step=1):
    """See numpy_kernels.adam_update (L2 weight decay in the gradient)."""
    return _adam(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step, weight_decay, 1.0)


def adamw_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.01, step=1):
    """See numpy_kernels.adamw_update (decoupled weight decay)."""
    return _adam(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, step, 0.0, 1 - lr * weight_decay)


def sum_of_squares(*tensors):
    """See numpy_kernels.sum_of_squares.   Returns a 0-D DeviceArray: the total stays on the
    device until someone asks for it (clip_grad_norm downloads that one number)."""
    dtype = tensors[0].dtype
    partials = empty((PARTIALS * len(tensors),), dtype)
    for k, t in enumerate(tensors):
        launch(HERE / "norm.cl", "sum_squares_partial", (PARTIALS,), (PARTIAL_GROUP,),
               [t.size, t, partials, k * PARTIALS], dtype, PARTIALS=PARTIALS)
    out = empty((), dtype)
    launch(HERE / "norm.cl", "sum_partials", (1,), (1,), [partials.size, partials, out], dtype,
           PARTIALS=PARTIALS)
    return out


def scale_inplace(x, factor):
    """x *= factor, in place on the device.    x: any shape;  returns x."""
    launch(HERE / "update.cl", "scale_inplace", (round_up(x.size, GROUP),), (GROUP,),
           [x.size, float(factor), x], x.dtype)
    return x
