"""The CNN chapter's kernels: each one name, one check, three backends.

This file is the table of contents of the chapter's kernels. The implementations live beside
it: ``numpy_kernels.py`` (the reference), ``numba_kernels.py`` and ``opencl_kernels.py`` (with
its OpenCL C in ``*.cl``). Every kernel takes NCHW arrays.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs

# Convolutions sum C_in*kh*kw products per output, in a different order on each backend.
CONV_RTOL = {np.float32: 2e-4, np.float64: 1e-10}


im2col = Kernel("im2col", checks.im2col, cases.im2col,
                summary="unfold every receptive field into a column: (N,C,H,W) -> (N, C*kh*kw, OH*OW)",
                flops=costs.im2col_flops, bytes=costs.im2col_bytes)
col2im = Kernel("col2im", checks.col2im, cases.col2im, rtol=CONV_RTOL,
                summary="the adjoint of im2col: add each column back into its receptive field",
                flops=costs.col2im_flops, bytes=costs.col2im_bytes)
conv2d_forward = Kernel("conv2d_forward", checks.conv2d_forward, cases.conv2d_forward,
                        rtol=CONV_RTOL,
                        summary="y = w * x + b (cross-correlation) as im2col + one GEMM",
                        flops=costs.conv2d_flops, bytes=costs.conv2d_bytes)
conv2d_direct_forward = Kernel("conv2d_direct_forward", checks.conv2d_forward,
                               cases.conv2d_direct_forward, rtol=CONV_RTOL,
                               summary="the same convolution as loops over the window, no im2col copy",
                               flops=costs.conv2d_flops, bytes=costs.conv2d_bytes)
conv2d_backward = Kernel("conv2d_backward", checks.conv2d_backward, cases.conv2d_backward,
                         rtol=CONV_RTOL,
                         summary="(dx, dw, db) of conv2d: dw = dy @ cols.T, dx = col2im(w.T @ dy)",
                         flops=costs.conv2d_backward_flops, bytes=costs.conv2d_backward_bytes)
conv_transpose2d_forward = Kernel("conv_transpose2d_forward", checks.conv_transpose2d_forward,
                                  cases.conv_transpose2d_forward, rtol=CONV_RTOL,
                                  summary="transposed convolution (learned upsampling): conv2d's dx as a layer",
                                  flops=costs.conv_transpose2d_forward_flops,
                                  bytes=costs.conv_transpose2d_forward_bytes)
conv_transpose2d_backward = Kernel("conv_transpose2d_backward", checks.conv_transpose2d_backward,
                                   cases.conv_transpose2d_backward, rtol=CONV_RTOL,
                                   summary="(dx, dw, db) of the transposed convolution",
                                   flops=costs.conv_transpose2d_backward_flops,
                                   bytes=costs.conv_transpose2d_backward_bytes)
maxpool2d_forward = Kernel("maxpool2d_forward", checks.maxpool2d_forward, cases.maxpool2d_forward,
                           summary="max over each window, and where it was (argmax) for the backward",
                           flops=costs.maxpool2d_forward_flops, bytes=costs.maxpool2d_forward_bytes)
maxpool2d_backward = Kernel("maxpool2d_backward", checks.maxpool2d_backward, cases.maxpool2d_backward,
                            summary="route each gradient to the pixel that won its window",
                            flops=costs.maxpool2d_backward_flops, bytes=costs.maxpool2d_backward_bytes)
avgpool2d_forward = Kernel("avgpool2d_forward", checks.avgpool2d_forward, cases.avgpool2d_forward,
                           summary="mean over each window (padding counts as zeros)",
                           flops=costs.avgpool2d_forward_flops, bytes=costs.avgpool2d_forward_bytes)
avgpool2d_backward = Kernel("avgpool2d_backward", checks.avgpool2d_backward, cases.avgpool2d_backward,
                            summary="spread each gradient evenly over its window",
                            flops=costs.avgpool2d_backward_flops, bytes=costs.avgpool2d_backward_bytes)
flatten_forward = Kernel("flatten_forward", checks.flatten_forward, cases.flatten_forward,
                         summary="(N, C, H, W) -> (N, C*H*W), moving no numbers",
                         flops=costs.flatten_forward_flops, bytes=costs.flatten_forward_bytes)
flatten_backward = Kernel("flatten_backward", checks.flatten_backward, cases.flatten_backward,
                          summary="(N, C*H*W) -> (N, C, H, W)",
                          flops=costs.flatten_backward_flops, bytes=costs.flatten_backward_bytes)

ALL = [im2col, col2im, conv2d_forward, conv2d_direct_forward, conv2d_backward,
       conv_transpose2d_forward, conv_transpose2d_backward, maxpool2d_forward, maxpool2d_backward,
       avgpool2d_forward, avgpool2d_backward, flatten_forward, flatten_backward]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
