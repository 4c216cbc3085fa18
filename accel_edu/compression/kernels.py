"""The compression chapter's kernels: each one name, one check, three backends.

This file is the table of contents of the chapter's kernels. The implementations live beside
it: ``numpy_kernels.py`` (the reference, where the arithmetic is defined to the bit),
``numba_kernels.py`` and ``opencl_kernels.py`` (with its OpenCL C in ``quantize.cl``,
``int8_gemm.cl`` and ``csr.cl``). Every int8 and int32 output agrees across backends exactly.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs

# A CSR row's products are added in the order stored, NumPy's add.at in another: float sums.
SPARSE_RTOL = {np.float32: 2e-5, np.float64: 1e-12}

quantize_int8 = Kernel("quantize_int8", checks.quantize_int8, cases.quantize_int8,
                       flops=costs.quantize_flops, bytes=costs.quantize_bytes,
                       summary="q = clamp(rint(x / scale) + zero_point, -128, 127), per tensor or per channel")
dequantize_int8 = Kernel("dequantize_int8", checks.dequantize_int8, cases.dequantize_int8,
                         flops=costs.dequantize_flops, bytes=costs.dequantize_bytes,
                         summary="x = (q - zero_point) * scale")
fake_quantize_forward = Kernel("fake_quantize_forward", checks.fake_quantize_forward,
                               cases.fake_quantize_forward, flops=costs.fake_quantize_flops,
                               bytes=costs.fake_quantize_bytes,
                               summary="dequantize(quantize(x)) in one pass: int8's rounding, still float")
fake_quantize_backward = Kernel("fake_quantize_backward", checks.fake_quantize_backward,
                                cases.fake_quantize_backward, flops=costs.fake_quantize_backward_flops,
                                bytes=costs.fake_quantize_backward_bytes,
                                summary="straight-through estimator: dy where x was in range, else 0")
int8_gemm = Kernel("int8_gemm", checks.int8_gemm, cases.int8_gemm,
                   flops=costs.int8_gemm_flops, bytes=costs.int8_gemm_bytes,
                   summary="int8 (M,K) x int8 (K,N) summed in int32, optionally requantized to int8")
csr_spmv = Kernel("csr_spmv", checks.csr_spmv, cases.csr_spmv, rtol=SPARSE_RTOL,
                  flops=costs.csr_spmv_flops, bytes=costs.csr_spmv_bytes,
                  summary="y = A x for a sparse A in CSR form")
csr_spmm = Kernel("csr_spmm", checks.csr_spmm, cases.csr_spmm, rtol=SPARSE_RTOL,
                  flops=costs.csr_spmm_flops, bytes=costs.csr_spmm_bytes,
                  summary="C = A B for a sparse A in CSR form and a dense B")

ALL = [quantize_int8, dequantize_int8, fake_quantize_forward, fake_quantize_backward, int8_gemm,
       csr_spmv, csr_spmm]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
