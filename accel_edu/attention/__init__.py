"""Scaled dot-product attention, forward and backward, plain and tiled (FlashAttention's
online softmax), on NumPy, Numba and OpenCL.

>>> from accel_edu.attention import attention_forward, attention_backward
>>> out, lse = attention_forward(q, k, v, causal=True, backend="numba")       # doctest: +SKIP
>>> dq, dk, dv = attention_backward(dout, q, k, v, out, lse, True)             # doctest: +SKIP

q (B, Tq, d), k (B, Tk, d), v (B, Tk, e), B = batch * heads; equations in numpy_kernels.py.
"""
from . import kernels
from .kernels import attention_backward, attention_forward
from .layers import ScaledDotProductAttention, attention

__all__ = ["kernels", "attention_forward", "attention_backward", "ScaledDotProductAttention",
           "attention"]
