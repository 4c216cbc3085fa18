"""Choosing int8 quantization parameters, and post-training quantization of a trained model.

A quantizer maps a float x to q = clamp(rint(x / scale) + zero_point, -128, 127), and back to
(q - zero_point) * scale. The parameters are chosen the standard way (PyTorch's observers):

* symmetric:  scale = max|x| / 127, zero_point = 0. Weights, whose values centre on 0; the
  int8 GEMM needs b's zero point to be 0 (see numpy_kernels.py).
* asymmetric: the range [min(x, 0), max(x, 0)] (it must hold 0, so that zero padding and ReLU's
  zeros are exact) spread over all 256 levels: scale = (hi - lo) / 255, and
  zero_point = clamp(rint(-128 - lo / scale), -128, 127). Activations, such as a ReLU's
  outputs, which are never negative and would waste half of a symmetric range.

Per tensor, one (scale, zero_point) for all of x; per channel, one per row of axis 0 (an
output channel of a weight), which keeps a channel of small weights from being rounded to 0
by a neighbour's large ones. A scale is never below float32's eps, as in PyTorch, so an
all-zero tensor still gets a valid quantizer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..runtime import to_numpy
from ..runtime.checks import check_array
from . import kernels as K

EPS = float(np.finfo(np.float32).eps)


@dataclass
class QParams:
    """scale: float (1,) or (C,); zero_point: int32, the same shape (the kernels' arguments)."""
    scale: np.ndarray
    zero_point: np.ndarray

    @property
    def per_channel(self) -> bool:
        return self.scale.shape[0] > 1


def _range(x, per_channel: bool):
    """(lo, hi) per channel (axis 0) or for the whole tensor, as (C,) or (1,) arrays."""
    x = to_numpy(x)
    check_array("x", x)
    flat = x.reshape(x.shape[0], -1) if per_channel else x.reshape(1, -1)
    return flat.min(axis=1), flat.max(axis=1), x.dtype


def symmetric_qparams(x, per_channel: bool = False, dtype=None) -> QParams:
    """scale = max|x| / 127, zero_point = 0.   x: float (C, ...) -> QParams of (C,) or (1,)"""
    lo, hi, x_dtype = _range(x, per_channel)
    dtype = np.dtype(dtype or x_dtype)
    scale = np.maximum(np.maximum(-lo, hi) / 127.0, EPS).astype(dtype)
    return QParams(scale, np.zeros(scale.shape, np.int32))


def asymmetric_qparams(x=None, per_channel: bool = False, dtype=None, *, lo=None, hi=None) -> QParams:
    """The range [min(x, 0), max(x, 0)] over 256 levels (or the observed ``lo``, ``hi`` given).

    scale = (hi - lo) / 255;  zero_point = clamp(rint(-128 - lo / scale), -128, 127)
    """
    if x is not None:
        lo, hi, x_dtype = _range(x, per_channel)
    else:
        lo, hi, x_dtype = np.atleast_1d(np.asarray(lo, float)), np.atleast_1d(np.asarray(hi, float)), np.float32
    dtype = np.dtype(dtype or x_dtype)
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    scale = np.maximum((hi - lo) / 255.0, EPS).astype(dtype)
    zero_point = np.clip(np.rint(-128 - lo / scale.astype(np.float64)), -128, 127).astype(np.int32)
    return QParams(scale, zero_point)


def quantize(x, qparams: QParams, backend=None):
    """int8 of x's shape (the registered kernel, on ``backend``)."""
    return K.quantize_int8(x, qparams.scale, qparams.zero_point, backend=backend)


def dequantize(q, qparams: QParams, backend=None):
    """float of q's shape: (q - zero_point) * scale."""
    return K.dequantize_int8(q, qparams.scale, qparams.zero_point, backend=backend)


def quantization_error(x, qparams: QParams) -> float:
    """max |x - dequantize(quantize(x))|: at most scale / 2 inside the range (rounding)."""
    x = to_numpy(x)
    return float(np.max(np.abs(x - to_numpy(K.fake_quantize_forward(x, qparams.scale, qparams.zero_point,
                                                                       backend="numpy")))))
