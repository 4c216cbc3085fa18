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

from ..runtime.opencl import empty, launch

HERE = Path(__file__).parent

GROUP = 256        # 1-D kernels: the global size is rounded up to this, and it is the work-group


def _update(name: str, param, scalars: list, arrays: list) -> None:
    """Launch update.cl's ``name`` over every element of param: the whole work-groups with no
    bounds test (BOUNDS=0, which PoCL vectorises), then the last partial one (BOUNDS=1)."""
    n = param.size
    bulk = n - n % GROUP
    if bulk:
        launch(HERE / "update.cl", name, (bulk,), (GROUP,), [n, 0, *scalars, *arrays], param.dtype, BOUNDS=0)
    if n > bulk:
        launch(HERE / "update.cl", name, (GROUP,), (GROUP,), [n, bulk, *scalars, *arrays], param.dtype, BOUNDS=1)


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
    device until someone asks for it (clip_grad_norm downloads that one number).

    norm.cl's passes: the bulk of each tensor (a multiple of 8 * GROUP numbers) is squared and
    summed 8 to 1 straight into a shared scratch buffer, its last partial block squared one to
    one beside it; then 8-to-1 passes over the scratch (padded with zeros to whole blocks)
    until at most 8 * GROUP partial sums remain, which one work-item adds up."""
    dtype = tensors[0].dtype
    block = 8 * GROUP
    layout, slots = [], 0                    # per tensor: (bulk, tail, first slot)
    for t in tensors:
        bulk = t.size - t.size % block
        tail = -(-(t.size - bulk) // GROUP) * GROUP
        layout.append((bulk, tail, slots))
        slots += bulk // 8 + tail
    scratch = _zeros(-(-slots // block) * block, dtype)
    for t, (bulk, tail, slot) in zip(tensors, layout):
        if bulk:
            launch(HERE / "norm.cl", "squares_pass", (bulk // 8,), (GROUP,), [bulk // 8, t, scratch, slot],
                   dtype, SQUARE=1)
        if tail:
            launch(HERE / "norm.cl", "squares_tail", (tail,), (GROUP,), [t.size, bulk, t, scratch, slot + bulk // 8],
                   dtype, SQUARE=1)
    while scratch.size > block:              # each pass: 8 to 1, on whole blocks of zeros-padded data
        m = scratch.size // 8
        smaller = _zeros(-(-m // block) * block, dtype)
        launch(HERE / "norm.cl", "squares_pass", (m,), (GROUP,), [m, scratch, smaller, 0], dtype, SQUARE=0)
        scratch = smaller
    out = empty((), dtype)
    launch(HERE / "norm.cl", "sum_partials", (1,), (1,), [scratch.size, scratch, out], dtype, SQUARE=0)
    return out


def _zeros(n: int, dtype):
    """A zero-filled device buffer of n numbers, filled on the device (nothing uploaded)."""
    from .optimizer import device_zeros
    return device_zeros((n,), dtype)


def scale_inplace(x, factor):
    """x *= factor, in place on the device.    x: any shape;  returns x."""
    _update("scale_inplace", x, [float(factor)], [x])
    return x
