"""Post-training quantization: a trained float MLP becomes one that runs on the int8 GEMM.

Static quantization, as PyTorch's ``torch.ao.quantization`` does it for a Linear layer:

1. calibrate: run the float model on a few batches, and record each Linear's input and output
   range;
2. the weight w (D_out, D_in) gets symmetric per-output-channel parameters (s_w[j]), the
   input and output asymmetric per-tensor ones (s_x, z_x), (s_y, z_y), and the bias becomes
   int32 in the accumulator's scale s_x s_w[j]: b_q = rint(b / (s_x s_w[j]));
3. at inference each QuantizedLinear quantizes its input, calls the int8 GEMM, which adds
   b_q and requantizes with multiplier[j] = s_x s_w[j] / s_y, and dequantizes its int8
   output for the float layers that follow (ReLU is exact on the dequantized values).

Layers other than Linear (ReLU, Tanh, ...) are kept, in float.
"""
from __future__ import annotations

import copy

import numpy as np

from ..backprop.layers import Linear
from ..backprop.module import Module
from ..backprop.sequential import Sequential
from ..runtime import to_numpy
from . import kernels as K
from .quantize import QParams, asymmetric_qparams, dequantize, quantize, symmetric_qparams


class QuantizedLinear(Module):
    """Inference-only y ≈ x @ w.T + b through int8.    x: float (N, D_in) -> y: float (N, D_out)

    Holds w_q^T: int8 (D_in, D_out) (the GEMM's b, stored once), bias_q: int32 (D_out,), the
    multiplier: float32 (D_out,), and the input and output quantizers.
    """

    def __init__(self, linear: Linear, x_lo: float, x_hi: float, y_lo: float, y_hi: float, backend=None):
        super().__init__(backend or linear.backend)
        w = to_numpy(linear.params["w"]).astype(np.float32)
        b = to_numpy(linear.params["b"]).astype(np.float64)
        self.w_qparams = symmetric_qparams(w, per_channel=True)
        self.x_qparams = asymmetric_qparams(lo=x_lo, hi=x_hi)
        self.y_qparams = asymmetric_qparams(lo=y_lo, hi=y_hi)
        w_q = to_numpy(quantize(w, self.w_qparams, backend="numpy"))
        acc_scale = self.x_qparams.scale.astype(np.float64) * self.w_qparams.scale.astype(np.float64)
        self.params = {}
        self.w_q_t = self._here(np.ascontiguousarray(w_q.T))
        self.bias_q = self._here(np.rint(b / acc_scale).astype(np.int32))
        self.multiplier = self._here((acc_scale / self.y_qparams.scale[0]).astype(np.float32))
        self.d_in, self.d_out = w.shape[1], w.shape[0]

    def to(self, backend):
        super().to(backend)
        self.w_q_t, self.bias_q, self.multiplier = (self._here(a) for a in (self.w_q_t, self.bias_q, self.multiplier))
        return self

    def forward(self, x):
        x_q = quantize(x, self.x_qparams, backend=self.backend)
        y_q = K.int8_gemm(x_q, self.w_q_t, int(self.x_qparams.zero_point[0]), self.bias_q, self.multiplier,
                          int(self.y_qparams.zero_point[0]), backend=self.backend)
        return dequantize(y_q, self.y_qparams, backend=self.backend)

    def backward(self, dy):
        raise RuntimeError("QuantizedLinear is for inference; train the float model (or QATLinear)")

    @property
    def nbytes(self) -> int:
        """Bytes of the stored layer: int8 weights, int32 bias, float32 multipliers."""
        return self.d_in * self.d_out + 4 * self.d_out + 4 * self.d_out

    def __repr__(self):
        return f"QuantizedLinear({self.d_in}, {self.d_out}, int8, backend={self.backend!r})"


def calibrate_ranges(model: Sequential, x_calibration, batch_size: int = 256) -> dict[int, tuple]:
    """{layer index: (x_lo, x_hi, y_lo, y_hi)} for every Linear, over the calibration data."""
    ranges: dict[int, list] = {}
    model.eval()
    for start in range(0, len(x_calibration), batch_size):
        x = model._here(np.asarray(x_calibration[start:start + batch_size]))
        for i, layer in enumerate(model.layers):
            y = layer.forward(x)
            if isinstance(layer, Linear):
                xh, yh = to_numpy(x), to_numpy(y)
                seen = (xh.min(), xh.max(), yh.min(), yh.max())
                old = ranges.get(i, seen)
                ranges[i] = [min(old[0], seen[0]), max(old[1], seen[1]), min(old[2], seen[2]), max(old[3], seen[3])]
            x = y
    return {i: tuple(float(v) for v in r) for i, r in ranges.items()}


def quantize_model(model: Sequential, x_calibration, backend=None) -> Sequential:
    """A copy of ``model`` with every Linear replaced by a calibrated QuantizedLinear.

    model: a trained Sequential (left unchanged); x_calibration: (N, D_in) float, a few
    hundred training rows. Returns a Sequential for inference on ``backend`` (default: the model's).
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"model must be a Sequential; got {type(model).__name__}")
    ranges = calibrate_ranges(model, x_calibration)
    if not ranges:
        raise ValueError("model has no Linear layer to quantize")
    layers = []
    for i, layer in enumerate(model.layers):
        layers.append(QuantizedLinear(layer, *ranges[i], backend=model.backend) if i in ranges
                      else copy.deepcopy(layer))
    return Sequential(*layers, backend=backend or model.backend).eval()


def model_nbytes(model: Sequential) -> int:
    """Bytes of a model's stored parameters (float ones at their dtype, quantized ones as stored)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, QuantizedLinear):
            total += layer.nbytes
        else:
            total += sum(to_numpy(p).nbytes for p in layer.params.values())
    return total


__all__ = ["QParams", "QuantizedLinear", "calibrate_ranges", "quantize_model", "model_nbytes"]
