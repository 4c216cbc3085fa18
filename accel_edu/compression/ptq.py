"""Post-training quantization: a trained float model becomes one that runs on the int8 GEMM.

Static quantization, as PyTorch's ``torch.ao.quantization`` does it for a Linear layer:

1. calibrate: run the float model on a few batches, and record each Linear's input and output
   range;
2. the weight w (D_out, D_in) gets symmetric per-output-channel parameters (s_w[j]), the
   input and output asymmetric per-tensor ones (s_x, z_x), (s_y, z_y), and the bias becomes
   int32 in the accumulator's scale s_x s_w[j]: b_q = rint(b / (s_x s_w[j]));
3. at inference each QuantizedLinear quantizes its input, calls the int8 GEMM, which adds
   b_q and requantizes with multiplier[j] = s_x s_w[j] / s_y, and dequantizes its int8
   output for the float layers that follow (ReLU is exact on the dequantized values).

A Conv2d becomes a QuantizedConv2d the same way, its GEMM over im2col's columns. Layers other
than Linear and Conv2d (ReLU, pooling, ...) are kept, in float.
"""
from __future__ import annotations

import copy

import numpy as np

from ..backprop.layers import Linear
from ..backprop.module import Module
from ..backprop.sequential import Sequential
from ..cnn import kernels as CK
from ..cnn.checks import conv2d_output_hw
from ..cnn.layers import Conv2d
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
        self._quantize_weights(to_numpy(linear.params["w"]), linear.params.get("b"), x_lo, x_hi, y_lo, y_hi)

    def _quantize_weights(self, w, b, x_lo, x_hi, y_lo, y_hi):
        """w: (C_out, ...) float; b: (C_out,) or None. Sets the int8 weight, bias and multipliers."""
        w = w.reshape(w.shape[0], -1).astype(np.float32)
        b = np.zeros(w.shape[0]) if b is None else to_numpy(b).astype(np.float64)
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

    def _int8_linear(self, x):
        """dequantize(int8_gemm(quantize(x), w_q^T) requantized).   x: (rows, D_in) -> (rows, D_out)"""
        x_q = quantize(x, self.x_qparams, backend=self.backend)
        y_q = K.int8_gemm(x_q, self.w_q_t, int(self.x_qparams.zero_point[0]), self.bias_q, self.multiplier,
                          int(self.y_qparams.zero_point[0]), backend=self.backend)
        return dequantize(y_q, self.y_qparams, backend=self.backend)

    def forward(self, x):
        return self._int8_linear(x)

    def backward(self, dy):
        raise RuntimeError("QuantizedLinear is for inference; train the float model (or QATLinear)")

    @property
    def nbytes(self) -> int:
        """Bytes of the stored layer: int8 weights, int32 bias, float32 multipliers."""
        return self.d_in * self.d_out + 4 * self.d_out + 4 * self.d_out

    def __repr__(self):
        return f"QuantizedLinear({self.d_in}, {self.d_out}, int8, backend={self.backend!r})"


class QuantizedConv2d(QuantizedLinear):
    """Inference-only Conv2d through int8: im2col, then QuantizedLinear's GEMM on the columns.

    x: float (N, C_in, H, W) -> y: float (N, C_out, OH, OW). im2col's zero padding is exact,
    since the asymmetric input range holds 0. The GEMM wants one row per output pixel,
    (N OH OW, C_in kh kw), and returns (N OH OW, C_out); the two transposes around it are host
    copies here (counted transfers on OpenCL, where a layout kernel would keep them on the device).
    """

    def __init__(self, conv: Conv2d, x_lo: float, x_hi: float, y_lo: float, y_hi: float, backend=None):
        Module.__init__(self, backend or conv.backend)
        self.geometry = dict(stride=conv.stride, padding=conv.padding, dilation=conv.dilation)
        self.kernel, self.c_out = conv.kernel, conv.c_out
        self._quantize_weights(to_numpy(conv.params["w"]), conv.params.get("b"), x_lo, x_hi, y_lo, y_hi)

    def forward(self, x):
        n = x.shape[0]
        oh, ow = conv2d_output_hw(x.shape, (self.c_out, x.shape[1]) + self.kernel, **self.geometry)
        cols = to_numpy(CK.im2col(x, *self.kernel, backend=self.backend, **self.geometry))  # (N, CK, P)
        rows = self._here(np.ascontiguousarray(cols.transpose(0, 2, 1).reshape(n * oh * ow, -1)))
        y = to_numpy(self._int8_linear(rows)).reshape(n, oh * ow, self.c_out)
        return self._here(np.ascontiguousarray(y.transpose(0, 2, 1).reshape(n, self.c_out, oh, ow)))

    def __repr__(self):
        return f"QuantizedConv2d({self.d_in // (self.kernel[0] * self.kernel[1])}, {self.c_out}, " \
               f"kernel={self.kernel}, int8, backend={self.backend!r})"


def calibrate_ranges(model: Sequential, x_calibration, batch_size: int = 256) -> dict[int, tuple]:
    """{layer index: (x_lo, x_hi, y_lo, y_hi)} for every Linear and Conv2d, over the calibration data."""
    ranges: dict[int, list] = {}
    model.eval()
    for start in range(0, len(x_calibration), batch_size):
        x = model._here(np.asarray(x_calibration[start:start + batch_size]))
        for i, layer in enumerate(model.layers):
            y = layer.forward(x)
            if isinstance(layer, (Linear, Conv2d)):
                xh, yh = to_numpy(x), to_numpy(y)
                seen = (xh.min(), xh.max(), yh.min(), yh.max())
                old = ranges.get(i, seen)
                ranges[i] = [min(old[0], seen[0]), max(old[1], seen[1]), min(old[2], seen[2]), max(old[3], seen[3])]
            x = y
    return {i: tuple(float(v) for v in r) for i, r in ranges.items()}


def quantize_model(model: Sequential, x_calibration, backend=None) -> Sequential:
    """A copy of ``model`` with every Linear (Conv2d) replaced by a calibrated QuantizedLinear
    (QuantizedConv2d).

    model: a trained Sequential (its weights are left unchanged; it is put in evaluation mode);
    x_calibration: (N, ...) float, a few hundred training inputs. Returns a Sequential for inference on ``backend`` (default: the model's).
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"model must be a Sequential; got {type(model).__name__}")
    ranges = calibrate_ranges(model, x_calibration)
    if not ranges:
        raise ValueError("model has no Linear or Conv2d layer to quantize")
    layers = []
    for i, layer in enumerate(model.layers):
        if i not in ranges:
            layers.append(copy.deepcopy(layer))
        elif isinstance(layer, Conv2d):
            layers.append(QuantizedConv2d(layer, *ranges[i], backend=model.backend))
        else:
            layers.append(QuantizedLinear(layer, *ranges[i], backend=model.backend))
    return Sequential(*layers, backend=backend or model.backend).eval()


def model_nbytes(model: Sequential) -> int:
    """Bytes of a model's stored parameters: float ones at their dtype, a compressed layer
    (QuantizedLinear, SparseLinear) as it stores them (its ``nbytes``)."""
    total = 0
    for layer in model.layers:
        if hasattr(layer, "nbytes"):
            total += layer.nbytes
        else:
            total += sum(to_numpy(p).nbytes for p in layer.params.values())
    return total


__all__ = ["QParams", "QuantizedLinear", "QuantizedConv2d", "calibrate_ranges", "quantize_model", "model_nbytes"]
