"""The backprop chapter's kernels: each one name, one check, three backends.

This file is the table of contents of the chapter's kernels. The implementations live beside
it: ``numpy_kernels.py`` (the reference), ``numba_kernels.py`` and ``opencl_kernels.py``
(with its OpenCL C in ``*.cl``).
"""
from __future__ import annotations

import numpy as np

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs


gemm = Kernel("gemm", checks.gemm, cases.gemm,
              rtol={np.float32: 2e-4, np.float64: 1e-10},
              summary="C = op(A) @ op(B), with the transposes forward and backward need",
              flops=costs.gemm_flops, bytes=costs.gemm_bytes)
linear_forward = Kernel("linear_forward", checks.linear_forward, cases.linear_forward,
                        summary="y = x @ w.T + b",
                        flops=costs.linear_forward_flops, bytes=costs.linear_forward_bytes)
linear_backward = Kernel("linear_backward", checks.linear_backward, cases.linear_backward,
                         summary="(dx, dw, db) of a Linear layer",
                         flops=costs.linear_backward_flops, bytes=costs.linear_backward_bytes)
bias_grad = Kernel("bias_grad", checks.bias_grad, cases.bias_grad,
                   summary="db = sum over the batch of dy (a column reduction)",
                   flops=costs.bias_grad_flops, bytes=costs.bias_grad_bytes)
relu_forward = Kernel("relu_forward", checks.unary, cases.unary, summary="max(x, 0)",
                      flops=costs.relu_forward_flops, bytes=costs.unary_bytes)
relu_backward = Kernel("relu_backward", checks.unary_backward_from_input, cases.unary_backward,
                       summary="dy where x > 0",
                       flops=costs.relu_backward_flops, bytes=costs.unary_backward_bytes)
sigmoid_forward = Kernel("sigmoid_forward", checks.unary, cases.unary, summary="1 / (1 + exp(-x))",
                         flops=costs.sigmoid_forward_flops, bytes=costs.unary_bytes)
sigmoid_backward = Kernel("sigmoid_backward", checks.unary_backward_from_output, cases.unary_backward,
                          summary="dy * y * (1 - y)",
                          flops=costs.sigmoid_backward_flops, bytes=costs.unary_backward_bytes)
tanh_forward = Kernel("tanh_forward", checks.unary, cases.unary, summary="tanh(x)",
                      flops=costs.tanh_forward_flops, bytes=costs.unary_bytes)
tanh_backward = Kernel("tanh_backward", checks.unary_backward_from_output, cases.unary_backward,
                       summary="dy * (1 - y^2)",
                       flops=costs.tanh_backward_flops, bytes=costs.unary_backward_bytes)
softmax_cross_entropy = Kernel("softmax_cross_entropy", checks.softmax_cross_entropy,
                               cases.softmax_cross_entropy,
                               summary="mean softmax cross-entropy and its gradient, fused and stable",
                               flops=costs.softmax_cross_entropy_flops,
                               bytes=costs.softmax_cross_entropy_bytes)
mse = Kernel("mse", checks.mse, cases.mse, summary="mean squared error and its gradient",
             flops=costs.mse_flops, bytes=costs.mse_bytes)
sgd_update = Kernel("sgd_update", checks.sgd_update, cases.sgd_update, inplace=(0,),
                    summary="param -= lr * grad, in place",
                    flops=costs.sgd_update_flops, bytes=costs.sgd_update_bytes)

ALL = [gemm, linear_forward, linear_backward, bias_grad, relu_forward, relu_backward,
       sigmoid_forward, sigmoid_backward, tanh_forward, tanh_backward, softmax_cross_entropy,
       mse, sgd_update]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
