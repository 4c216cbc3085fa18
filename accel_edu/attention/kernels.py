"""The attention kernels: each one name, one check, three backends.

This file is the table of contents. The implementations live beside it: ``numpy_kernels.py``
(the reference, whose docstring has the equations), ``numba_kernels.py`` and
``opencl_kernels.py`` (with its OpenCL C in ``attention.cl``). Numba and OpenCL each climb the
ladder ``plain`` (materialise the (Tq, Tk) scores) -> ``tiled`` (online softmax over key
blocks and a blocked backward, FlashAttention-2's structure; extra memory O(T d), never
(Tq, Tk): ``memory.py`` measures both).
"""
from __future__ import annotations

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs


attention_forward = Kernel("attention_forward", checks.attention_forward, cases.attention_forward,
                           summary="softmax(scale * q k^T, causal or not) v, and each row's logsumexp",
                           flops=costs.attention_forward_flops, bytes=costs.attention_forward_bytes)
attention_backward = Kernel("attention_backward", checks.attention_backward, cases.attention_backward,
                            summary="dq, dk, dv of attention, recomputing P from the saved logsumexp",
                            flops=costs.attention_backward_flops, bytes=costs.attention_backward_bytes)

ALL = [attention_forward, attention_backward]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
