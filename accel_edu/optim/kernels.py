"""The optimizers chapter's kernels: each one name, one check, three backends.

This file is the table of contents of the chapter's kernels. The implementations live beside
it: ``numpy_kernels.py`` (the reference, with each rule written out in its docstring),
``numba_kernels.py`` and ``opencl_kernels.py`` (with its OpenCL C in ``update.cl`` and
``norm.cl``). Each update is one fused pass, in place on the parameter and its state: the
``inplace`` positions tell the registry walk to compare the state too.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs

# A reduction adds its terms in a different order on each backend.
SUM_RTOL = {np.float32: 2e-4, np.float64: 1e-10}

sgd_momentum_update = Kernel(
    "sgd_momentum_update", checks.sgd_momentum_update, cases.sgd_momentum_update, inplace=(0, 2),
    summary="SGD with heavy-ball or Nesterov momentum and L2 weight decay, in place",
    flops=costs.sgd_momentum_update_flops, bytes=costs.sgd_momentum_update_bytes)
adagrad_update = Kernel(
    "adagrad_update", checks.adagrad_update, cases.adagrad_update, inplace=(0, 2),
    summary="AdaGrad: divide by the root of the running sum of squared gradients",
    flops=costs.adagrad_update_flops, bytes=costs.one_state_bytes)
rmsprop_update = Kernel(
    "rmsprop_update", checks.rmsprop_update, cases.rmsprop_update, inplace=(0, 2),
    summary="RMSprop: divide by the root of a running mean of squared gradients",
    flops=costs.rmsprop_update_flops, bytes=costs.one_state_bytes)
adam_update = Kernel(
    "adam_update", checks.adam_update, cases.adam_update, inplace=(0, 2, 3),
    summary="Adam with bias correction; weight decay as L2 added to the gradient",
    flops=costs.adam_update_flops, bytes=costs.adam_bytes)
adamw_update = Kernel(
    "adamw_update", checks.adamw_update, cases.adamw_update, inplace=(0, 2, 3),
    summary="AdamW: Adam with decoupled weight decay", flops=costs.adamw_update_flops, bytes=costs.adam_bytes)
sum_of_squares = Kernel(
    "sum_of_squares", checks.sum_of_squares, cases.sum_of_squares, rtol=SUM_RTOL,
    summary="sum of x*x over many tensors: the squared global norm for gradient clipping",
    flops=costs.sum_of_squares_flops, bytes=costs.sum_of_squares_bytes)
scale_inplace = Kernel(
    "scale_inplace", checks.scale_inplace, cases.scale_inplace, inplace=(0,),
    summary="x *= factor, in place (clipping's rescale)",
    flops=costs.scale_inplace_flops, bytes=costs.scale_inplace_bytes)

ALL = [sgd_momentum_update, adagrad_update, rmsprop_update, adam_update, adamw_update,
       sum_of_squares, scale_inplace]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
