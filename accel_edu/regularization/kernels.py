"""The regularization chapter's kernels: each one name, one check, three backends.

This file is the table of contents. The implementations live beside it: ``numpy_kernels.py``
(the reference, whose docstrings give the exact rules), ``numba_kernels.py`` and
``opencl_kernels.py`` (with its OpenCL C in ``philox.cl``, ``batchnorm.cl`` and
``penalties.cl``).
"""
from __future__ import annotations

import numpy as np

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs

philox4x32 = Kernel("philox4x32", checks.philox4x32, cases.philox4x32,
                    summary="Philox4x32-10: 128-bit counters -> 128 random bits, under a 64-bit key",
                    flops=costs.philox4x32_flops, bytes=costs.philox4x32_bytes)
philox_uniform = Kernel("philox_uniform", checks.philox_uniform, cases.philox_uniform,
                        rtol={np.float32: 0.0, np.float64: 0.0},
                        summary="n uniforms in [0, 1) from (seed, counter offset): the same bits everywhere",
                        flops=costs.philox_uniform_flops, bytes=costs.philox_uniform_bytes)
dropout_forward = Kernel("dropout_forward", checks.dropout_forward, cases.dropout_forward,
                         summary="inverted dropout: keep with probability 1 - p, scale by 1/(1 - p)",
                         flops=costs.dropout_forward_flops, bytes=costs.dropout_forward_bytes)
dropout_backward = Kernel("dropout_backward", checks.dropout_backward, cases.dropout_backward,
                          summary="dx = mask * dy / (1 - p)",
                          flops=costs.dropout_backward_flops, bytes=costs.dropout_backward_bytes)
batchnorm_forward = Kernel("batchnorm_forward", checks.batchnorm_forward, cases.batchnorm_forward,
                           rtol={np.float32: 2e-4, np.float64: 1e-10},
                           summary="training-mode batch norm: batch mean and biased variance per channel",
                           flops=costs.batchnorm_forward_flops, bytes=costs.batchnorm_forward_bytes)
batchnorm_normalize = Kernel("batchnorm_normalize", checks.batchnorm_normalize,
                             cases.batchnorm_normalize,
                             summary="gamma (x - mean) / sqrt(var + eps) + beta with given statistics "
                                     "(inference mode)",
                                     flops=costs.batchnorm_normalize_flops,
                                     bytes=costs.batchnorm_normalize_bytes)
batchnorm_backward = Kernel("batchnorm_backward", checks.batchnorm_backward, cases.batchnorm_backward,
                            rtol={np.float32: 5e-4, np.float64: 1e-9},
                            summary="(dx, dgamma, dbeta) of training-mode batch norm, closed form",
                            flops=costs.batchnorm_backward_flops, bytes=costs.batchnorm_backward_bytes)
batchnorm_running_update = Kernel("batchnorm_running_update", checks.batchnorm_running_update,
                                  cases.batchnorm_running_update, inplace=(0, 1),
                                  summary="running mean and unbiased variance, momentum-weighted, in place",
                                  flops=costs.batchnorm_running_update_flops,
                                  bytes=costs.batchnorm_running_update_bytes)
l2_penalty = Kernel("l2_penalty", checks.penalty, cases.penalty, summary="(lam / 2) sum w^2",
flops=costs.l2_penalty_flops, bytes=costs.penalty_bytes)
l1_penalty = Kernel("l1_penalty", checks.penalty, cases.penalty, summary="lam sum |w|",
flops=costs.l1_penalty_flops, bytes=costs.penalty_bytes)
l2_penalty_grad = Kernel("l2_penalty_grad", checks.penalty_grad, cases.penalty_grad, inplace=(0,),
                         summary="grad += lam * w, in place",
                         flops=costs.l2_penalty_grad_flops, bytes=costs.penalty_grad_bytes)
l1_penalty_grad = Kernel("l1_penalty_grad", checks.penalty_grad, cases.penalty_grad, inplace=(0,),
                         summary="grad += lam * sign(w), in place",
                         flops=costs.l1_penalty_grad_flops, bytes=costs.penalty_grad_bytes)

ALL = [philox4x32, philox_uniform, dropout_forward, dropout_backward, batchnorm_forward,
       batchnorm_normalize, batchnorm_backward, batchnorm_running_update, l2_penalty, l1_penalty,
       l2_penalty_grad, l1_penalty_grad]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
