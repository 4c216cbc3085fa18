"""The same model in PyTorch: a comparison for benchmarks and oracle tests, never a dependency.

``torch_twin(model)`` rebuilds an accel_edu ``Sequential`` layer by layer as a
``torch.nn.Sequential`` holding copies of the same weights, so the two can be trained side by
side on the same batches and their speed compared on equal terms.
"""
from __future__ import annotations

import numpy as np

from ..runtime import to_numpy


def _copy(param, value) -> None:
    import torch
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(to_numpy(value))))


def torch_layer(layer):
    """One accel_edu layer as the equivalent torch.nn module (weights copied)."""
    import torch.nn as nn

    from ..backprop.layers import Linear, ReLU, Sigmoid, Tanh
    from ..cnn.layers import AvgPool2d, Conv2d, ConvTranspose2d, Flatten, MaxPool2d
    if isinstance(layer, Linear):
        m = nn.Linear(layer.d_in, layer.d_out)
    elif isinstance(layer, Conv2d):
        m = nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, layer.stride, layer.padding, layer.dilation,
                      bias="b" in layer.params)
    elif isinstance(layer, ConvTranspose2d):
        g = layer.geometry
        m = nn.ConvTranspose2d(layer.c_in, layer.c_out, layer.kernel, g["stride"], g["padding"],
                               g["output_padding"], bias="b" in layer.params, dilation=g["dilation"])
    elif isinstance(layer, MaxPool2d):
        return nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
    elif isinstance(layer, AvgPool2d):
        return nn.AvgPool2d(layer.kernel, layer.stride, layer.padding)
    else:
        simple = {ReLU: nn.ReLU, Sigmoid: nn.Sigmoid, Tanh: nn.Tanh, Flatten: nn.Flatten}
        for kind, make in simple.items():
            if isinstance(layer, kind):
                return make()
        raise ValueError(f"layer must be one accel_edu's layers with a PyTorch twin; got {type(layer).__name__}")
    _copy(m.weight, layer.params["w"])
    if "b" in layer.params:
        _copy(m.bias, layer.params["b"])
    return m


def torch_twin(model):
    """``model`` (an accel_edu Sequential) as a torch.nn.Sequential with the same weights."""
    import torch.nn as nn
    return nn.Sequential(*[torch_layer(layer) for layer in model.layers])
