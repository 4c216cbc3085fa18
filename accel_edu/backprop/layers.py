"""Layers with forward and backward side by side, after CS231n's affine_forward/backward.

Each forward keeps exactly what its backward needs (the input for Linear and ReLU, the output
for Sigmoid and Tanh, whose derivatives are cheapest written in terms of it).
"""
from __future__ import annotations

import numpy as np

from . import kernels as K
from .module import Module


class Linear(Module):
    """y = x @ w.T + b.    x: (N, D_in) -> y: (N, D_out); w: (D_out, D_in), b: (D_out,)

    Initialised as PyTorch does: w and b uniform in [-1/sqrt(D_in), 1/sqrt(D_in)], from
    ``seed``, so every backend starts from the same weights.
    """

    def __init__(self, d_in: int, d_out: int, *, seed: int = 0, dtype=np.float32, backend=None):
        super().__init__(backend)
        for name, value in (("d_in", d_in), ("d_out", d_out)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(d_in)
        self.params = {
            "w": self._here(rng.uniform(-bound, bound, (d_out, d_in)).astype(dtype)),
            "b": self._here(rng.uniform(-bound, bound, d_out).astype(dtype)),
        }
        self.d_in, self.d_out = d_in, d_out

    def forward(self, x):
        self.x = x
        return K.linear_forward(x, self.params["w"], self.params["b"], backend=self.backend)

    def backward(self, dy):
        # dx = dy @ w,  dw = dy.T @ x,  db = sum_n dy
        dx, dw, db = K.linear_backward(dy, self.x, self.params["w"], backend=self.backend)
        self.grads = {"w": dw, "b": db}
        return dx

    def __repr__(self):
        return f"Linear({self.d_in}, {self.d_out}, backend={self.backend!r})"


class ReLU(Module):
    """y = max(x, 0);  dx = dy * [x > 0]."""

    def forward(self, x):
        self.x = x
        return K.relu_forward(x, backend=self.backend)

    def backward(self, dy):
        return K.relu_backward(dy, self.x, backend=self.backend)

    def __repr__(self):
        return "ReLU()"


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x));  dx = dy * y * (1 - y)."""

    def forward(self, x):
        self.y = K.sigmoid_forward(x, backend=self.backend)
        return self.y

    def backward(self, dy):
        return K.sigmoid_backward(dy, self.y, backend=self.backend)

    def __repr__(self):
        return "Sigmoid()"


class Tanh(Module):
    """y = tanh(x);  dx = dy * (1 - y^2)."""

    def forward(self, x):
        self.y = K.tanh_forward(x, backend=self.backend)
        return self.y

    def backward(self, dy):
        return K.tanh_backward(dy, self.y, backend=self.backend)

    def __repr__(self):
        return "Tanh()"
