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
from . import cases, checks


def _forward_flops(q, k, v, causal=False, scale=None):
    """2 d multiply-adds per score and 2 e per weighted value; half the pairs when causal."""
    b, tq, d = q.shape
    pairs = b * tq * k.shape[1] * (0.5 if causal else 1.0)
    return 2.0 * pairs * (d + v.shape[2])


attention_forward = Kernel("attention_forward", checks.attention_forward, cases.attention_forward,
                           flops=_forward_flops,
                           summary="softmax(scale * q k^T, causal or not) v, and each row's logsumexp")
attention_backward = Kernel("attention_backward", checks.attention_backward, cases.attention_backward,
                            summary="dq, dk, dv of attention, recomputing P from the saved logsumexp")

ALL = [attention_forward, attention_backward]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
