"""Quantization-aware training: layers that train through int8's rounding.

Each forward fake-quantizes (quantize then dequantize, still float) its weight and its
input, so the loss sees the error int8 will make; each backward uses the straight-through
estimator (STE): rint's derivative, 0 almost everywhere, is taken as 1, so a gradient passes
unchanged where a value was inside the int8 range and is 0 where the clamp cut it.

    forward:  w_fq = fq(w; s_w, 0)  x_fq = fq(x; s_x, z_x)   y = layer(x_fq; w_fq, b)
    backward: dx_fq, dw_fq, db = layer's backward at (x_fq, w_fq)
              dx = dx_fq * [x in range]   dw = dw_fq * [w in range]   (the STE)

Weights: symmetric per output channel, from the current weight at every step (max|w| is in
range by construction, so the STE passes all of dw). Inputs: asymmetric per tensor, from a
running minimum and maximum (an exponential moving average, PyTorch's
MovingAverageMinMaxObserver) updated in training mode and frozen in evaluation mode; an input
beyond the running range is clamped and its gradient cut. The observers read min and max on
the host: on OpenCL that is one counted download per layer per step.
"""
from __future__ import annotations

import numpy as np

from ..backprop import kernels as BK
from ..backprop.layers import Linear
from ..cnn import kernels as CK
from ..cnn.layers import Conv2d
from ..runtime import to_numpy
from . import kernels as K
from .quantize import asymmetric_qparams, symmetric_qparams


class RangeObserver:
    """Running (lo, hi) of what passes through: the first batch's, then an average with
    ``momentum`` of each new batch's (0.1 here, as in PyTorch's averaging observer)."""

    def __init__(self, momentum: float = 0.1):
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1]; got {momentum!r}")
        self.momentum, self.lo, self.hi = momentum, None, None

    def update(self, x) -> None:
        h = to_numpy(x)
        lo, hi = float(h.min()), float(h.max())
        if self.lo is None:
            self.lo, self.hi = lo, hi
        else:
            self.lo += self.momentum * (lo - self.lo)
            self.hi += self.momentum * (hi - self.hi)

    def qparams(self, dtype):
        if self.lo is None:
            raise RuntimeError("the observer has seen no data: run a forward pass in training mode first")
        return asymmetric_qparams(lo=self.lo, hi=self.hi, dtype=dtype)


class _FakeQuantized:
    """What QATLinear and QATConv2d share: fake quantization of the weight and input."""

    def _init_qat(self, momentum: float):
        self.observer = RangeObserver(momentum)

    def _fake_quantize_inputs(self, x):
        w = self.params["w"]
        if self.training:
            self.observer.update(x)
        self.x_q = self.observer.qparams(w.dtype)
        self.w_q = symmetric_qparams(w, per_channel=True)
        be = self.backend
        self._here_q = [self._here(a) for a in (self.x_q.scale, self.x_q.zero_point,
                                                 self.w_q.scale, self.w_q.zero_point)]
        xs, xz, ws, wz = self._here_q
        self.x_raw, self.w_raw = x, w
        return (K.fake_quantize_forward(x, xs, xz, backend=be),
                K.fake_quantize_forward(w, ws, wz, backend=be))

    def _straight_through(self, dx_fq, dw_fq):
        xs, xz, ws, wz = self._here_q
        dx = K.fake_quantize_backward(dx_fq, self.x_raw, xs, xz, backend=self.backend)
        dw = K.fake_quantize_backward(dw_fq, self.w_raw, ws, wz, backend=self.backend)
        return dx, dw


class QATLinear(Linear, _FakeQuantized):
    """Linear with fake-quantized weight (per channel) and input (per tensor).

    x: (N, D_in) -> y: (N, D_out);  w: (D_out, D_in), b: (D_out,) stay float (the master copy).
    """

    def __init__(self, d_in: int, d_out: int, *, momentum: float = 0.1, **kwargs):
        super().__init__(d_in, d_out, **kwargs)
        self._init_qat(momentum)

    @classmethod
    def from_float(cls, linear: Linear, momentum: float = 0.1) -> "QATLinear":
        layer = cls(linear.d_in, linear.d_out, momentum=momentum, backend=linear.backend)
        layer.params = {k: layer._here(to_numpy(v).copy()) for k, v in linear.params.items()}
        return layer

    def forward(self, x):
        self.x_fq, self.w_fq = self._fake_quantize_inputs(x)
        return BK.linear_forward(self.x_fq, self.w_fq, self.params["b"], backend=self.backend)

    def backward(self, dy):
        dx_fq, dw_fq, db = BK.linear_backward(dy, self.x_fq, self.w_fq, backend=self.backend)
        dx, dw = self._straight_through(dx_fq, dw_fq)
        self.grads = {"w": dw, "b": db}
        return dx

    def __repr__(self):
        return f"QATLinear({self.d_in}, {self.d_out}, backend={self.backend!r})"


class QATConv2d(Conv2d, _FakeQuantized):
    """Conv2d with fake-quantized weight (per output channel) and input (per tensor).

    x: (N, C_in, H, W) -> y: (N, C_out, OH, OW); w: (C_out, C_in, kh, kw) float.
    """

    def __init__(self, *args, momentum: float = 0.1, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_qat(momentum)

    @classmethod
    def from_float(cls, conv: Conv2d, momentum: float = 0.1) -> "QATConv2d":
        layer = cls(conv.c_in, conv.c_out, conv.kernel, conv.stride, conv.padding, conv.dilation,
                    bias="b" in conv.params, algorithm=conv.algorithm, momentum=momentum, backend=conv.backend)
        layer.params = {k: layer._here(to_numpy(v).copy()) for k, v in conv.params.items()}
        return layer

    def forward(self, x):
        self.x_fq, self.w_fq = self._fake_quantize_inputs(x)
        return CK.conv2d_forward(self.x_fq, self.w_fq, self.params.get("b"), backend=self.backend,
                                 **self._geometry())

    def backward(self, dy):
        dx_fq, dw_fq, db = CK.conv2d_backward(dy, self.x_fq, self.w_fq, backend=self.backend, **self._geometry())
        dx, dw = self._straight_through(dx_fq, dw_fq)
        self.grads = {"w": dw, "b": db} if "b" in self.params else {"w": dw}
        return dx

    def __repr__(self):
        return f"QATConv2d({self.c_in}, {self.c_out}, kernel={self.kernel}, backend={self.backend!r})"


def prepare_qat(model, momentum: float = 0.1):
    """A copy of a Sequential with every Linear and Conv2d replaced by its QAT twin (same weights)."""
    import copy

    from ..backprop.sequential import Sequential
    if not isinstance(model, Sequential):
        raise ValueError(f"model must be a Sequential; got {type(model).__name__}")
    layers = []
    for layer in model.layers:
        if isinstance(layer, Conv2d) and not isinstance(layer, QATConv2d):
            layers.append(QATConv2d.from_float(layer, momentum))
        elif isinstance(layer, Linear) and not isinstance(layer, QATLinear):
            layers.append(QATLinear.from_float(layer, momentum))
        else:
            layers.append(copy.deepcopy(layer))
    return Sequential(*layers, backend=model.backend)
