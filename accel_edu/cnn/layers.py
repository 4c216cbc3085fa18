"""CNN layers with forward and backward side by side; they compose with backprop's Sequential.

Every layer takes and returns NCHW arrays where its backend computes (NumPy arrays, or
DeviceArrays on OpenCL), so a LeNet trained on OpenCL keeps its activations on the device
from the first convolution to the loss.
"""
from __future__ import annotations

import numpy as np

from ..backprop.module import Module
from . import kernels as K
from .checks import check_pair

ALGORITHMS = ("im2col", "direct")


def _positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _uniform_init(rng, shape, fan_in, dtype):
    """PyTorch's default for convolutions (and Linear): U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


class Conv2d(Module):
    """y = w * x + b, a cross-correlation as in every DL library.

    x: (N, C_in, H, W) -> y: (N, C_out, OH, OW), OH = (H + 2p - d(kh-1) - 1) // s + 1;
    w: (C_out, C_in, kh, kw), b: (C_out,).

    ``algorithm`` picks the forward kernel: ``"im2col"`` (unfold, then one GEMM) or ``"direct"``
    (loop over the window, no unfolded copy). The backward is the im2col one for both.
    A 1-D convolution over signals of length L is a Conv2d on (N, C, 1, L) with kernel (1, k).
    """

    def __init__(self, c_in: int, c_out: int, kernel, stride=1, padding=0, dilation=1, *,
                 bias: bool = True, algorithm: str = "im2col", seed: int = 0, dtype=np.float32,
                 backend=None):
        super().__init__(backend)
        self.c_in, self.c_out = _positive_int("c_in", c_in), _positive_int("c_out", c_out)
        self.kernel = check_pair("kernel", kernel, 1)
        self.stride = check_pair("stride", stride, 1)
        self.padding = check_pair("padding", padding, 0)
        self.dilation = check_pair("dilation", dilation, 1)
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}; got {algorithm!r}")
        self.algorithm = algorithm
        rng = np.random.default_rng(seed)
        fan_in = self.c_in * self.kernel[0] * self.kernel[1]
        self.params = {"w": self._here(_uniform_init(rng, (self.c_out, self.c_in) + self.kernel, fan_in, dtype))}
        if bias:
            self.params["b"] = self._here(_uniform_init(rng, (self.c_out,), fan_in, dtype))

    def _geometry(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation)

    def forward(self, x):
        self.x = x
        forward = K.conv2d_forward if self.algorithm == "im2col" else K.conv2d_direct_forward
        return forward(x, self.params["w"], self.params.get("b"), backend=self.backend, **self._geometry())

    def backward(self, dy):
        # dx = col2im(w^T dy), dw = dy cols^T, db = sum of dy over N, OH, OW
        dx, dw, db = K.conv2d_backward(dy, self.x, self.params["w"], backend=self.backend, **self._geometry())
        self.grads = {"w": dw, "b": db} if "b" in self.params else {"w": dw}
        return dx

    def __repr__(self):
        defaults = dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1))
        extra = "".join(f", {k}={v}" for k, v in self._geometry().items() if v != defaults[k])
        return (f"Conv2d({self.c_in}, {self.c_out}, kernel={self.kernel}{extra}, "
                f"algorithm={self.algorithm!r}, backend={self.backend!r})")


class ConvTranspose2d(Module):
    """The transposed convolution: conv2d's input gradient used as a layer (learned upsampling).

    x: (N, C_in, H, W) -> y: (N, C_out, OH, OW), OH = (H-1)s - 2p + d(kh-1) + output_padding + 1;
    w: (C_in, C_out, kh, kw) (input channels first, as PyTorch stores it), b: (C_out,).
    With kernel 2 and stride 2 it doubles the height and width exactly.
    """

    def __init__(self, c_in: int, c_out: int, kernel, stride=1, padding=0, dilation=1,
                 output_padding=0, *, bias: bool = True, seed: int = 0, dtype=np.float32, backend=None):
        super().__init__(backend)
        self.c_in, self.c_out = _positive_int("c_in", c_in), _positive_int("c_out", c_out)
        self.kernel = check_pair("kernel", kernel, 1)
        self.geometry = dict(stride=check_pair("stride", stride, 1), padding=check_pair("padding", padding, 0),
                             dilation=check_pair("dilation", dilation, 1),
                             output_padding=check_pair("output_padding", output_padding, 0))
        rng = np.random.default_rng(seed)
        fan_in = self.c_out * self.kernel[0] * self.kernel[1]   # PyTorch's choice for the transpose
        self.params = {"w": self._here(_uniform_init(rng, (self.c_in, self.c_out) + self.kernel, fan_in, dtype))}
        if bias:
            self.params["b"] = self._here(_uniform_init(rng, (self.c_out,), fan_in, dtype))

    def forward(self, x):
        self.x = x
        return K.conv_transpose2d_forward(x, self.params["w"], self.params.get("b"), backend=self.backend,
                                          **self.geometry)

    def backward(self, dy):
        dx, dw, db = K.conv_transpose2d_backward(dy, self.x, self.params["w"], backend=self.backend,
                                                 **self.geometry)
        self.grads = {"w": dw, "b": db} if "b" in self.params else {"w": dw}
        return dx

    def __repr__(self):
        defaults = dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1), output_padding=(0, 0))
        extra = "".join(f", {k}={v}" for k, v in self.geometry.items() if v != defaults[k])
        return f"ConvTranspose2d({self.c_in}, {self.c_out}, kernel={self.kernel}{extra}, backend={self.backend!r})"


class _Pool2d(Module):
    """What both poolings share: a window (kernel, stride defaulting to the kernel, padding)."""

    def __init__(self, kernel, stride=None, padding=0, *, backend=None):
        super().__init__(backend)
        self.kernel = check_pair("kernel", kernel, 1)
        self.stride = self.kernel if stride is None else check_pair("stride", stride, 1)
        self.padding = check_pair("padding", padding, 0)

    def __repr__(self):
        return f"{type(self).__name__}(kernel={self.kernel}, stride={self.stride}, padding={self.padding})"


class MaxPool2d(_Pool2d):
    """y = max over each kernel window; stride defaults to the kernel.

    x: (N, C, H, W) -> y: (N, C, OH, OW). The forward keeps the argmax (where each max came from,
    a flat index into its (H, W) plane) so the backward can route each gradient to that pixel.
    """

    def forward(self, x):
        self.x_shape = tuple(x.shape)
        y, self.argmax = K.maxpool2d_forward(x, self.kernel, self.stride, self.padding, backend=self.backend)
        return y

    def backward(self, dy):
        return K.maxpool2d_backward(dy, self.argmax, self.x_shape, backend=self.backend)


class AvgPool2d(_Pool2d):
    """y = mean over each kernel window (padding counts as zeros); stride defaults to the kernel.

    x: (N, C, H, W) -> y: (N, C, OH, OW); the backward spreads dy / (kh*kw) over each window.
    """

    def forward(self, x):
        self.x_shape = tuple(x.shape)
        return K.avgpool2d_forward(x, self.kernel, self.stride, self.padding, backend=self.backend)

    def backward(self, dy):
        return K.avgpool2d_backward(dy, self.x_shape, self.kernel, self.stride, self.padding, backend=self.backend)


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W), the bridge from convolutions to Linear layers. Moves no numbers."""

    def forward(self, x):
        self.x_shape = tuple(x.shape)
        return K.flatten_forward(x, backend=self.backend)

    def backward(self, dy):
        return K.flatten_backward(dy, self.x_shape, backend=self.backend)

    def __repr__(self):
        return "Flatten()"
