"""Attention as a layer: forward and backward side by side, on the module's backend.

``ScaledDotProductAttention`` takes three inputs, so it returns three gradients, in the style
of CS231n's ``affine_backward(dout, cache) -> (dx, dw, db)``; it holds no parameters (the
q, k, v projections are Linear layers around it). It keeps only q, k, v, the output and the
(B, Tq) logsumexp for its backward, never the (Tq, Tk) probabilities.
"""
from __future__ import annotations

from ..backprop.module import Module
from . import checks
from . import kernels as K


class ScaledDotProductAttention(Module):
    """out = softmax(scale * q k^T, causal or not) v.

    q: (B, Tq, d), k: (B, Tk, d), v: (B, Tk, e)  ->  out: (B, Tq, e);  B = batch * heads.
    backward(dout (B, Tq, e)) -> (dq, dk, dv) with the shapes of q, k, v.
    ``variant`` picks a step of the Numba/OpenCL ladder ("plain" or "tiled"; None: the
    backend's default, tiled). NumPy has one variant, its reference.
    """

    def __init__(self, causal: bool = False, scale: float | None = None, *, variant: str | None = None,
                 backend: str | None = None):
        super().__init__(backend)
        checks.check_causal(causal, 1, 1)
        checks.check_scale(scale)
        self.causal, self.scale, self.variant = bool(causal), scale, variant

    def __call__(self, q, k, v):
        return self.forward(q, k, v)

    def forward(self, q, k, v):
        out, lse = K.attention_forward(q, k, v, causal=self.causal, scale=self.scale,
                                       backend=self.backend, variant=self.variant)
        self.saved = (q, k, v, out, lse)
        return out

    def backward(self, dout):
        if not hasattr(self, "saved"):
            raise ValueError("backward needs a forward first: call forward(q, k, v), then backward(dout)")
        q, k, v, out, lse = self.saved
        return K.attention_backward(dout, q, k, v, out, lse, self.causal, self.scale,
                                    backend=self.backend, variant=self.variant)

    def __repr__(self):
        return (f"ScaledDotProductAttention(causal={self.causal}, scale={self.scale}, "
                f"variant={self.variant!r}, backend={self.backend!r})")


def attention(q, k, v, causal: bool = False, scale: float | None = None, *, backend=None, variant=None):
    """The forward output alone: softmax(scale * q k^T [causal]) v.   (B, Tq, e)"""
    out, _ = K.attention_forward(q, k, v, causal=causal, scale=scale, backend=backend, variant=variant)
    return out


__all__ = ["ScaledDotProductAttention", "attention"]
