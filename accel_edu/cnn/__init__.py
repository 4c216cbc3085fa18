"""Chapter 2, convolutional networks: convolution, pooling, flatten and transposed convolution.

>>> from accel_edu.backprop import Sequential, Linear, ReLU
>>> from accel_edu.cnn import Conv2d, MaxPool2d, Flatten
>>> lenet = Sequential(Conv2d(1, 6, 3, padding=1), ReLU(), MaxPool2d(2),
...                    Conv2d(6, 16, 3, padding=1), ReLU(), MaxPool2d(2),
...                    Flatten(), Linear(16 * 2 * 2, 10), backend="numba")   # doctest: +SKIP

The kernels (``accel_edu.cnn.kernels``) each have a NumPy reference, a Numba and an OpenCL
version, registered under one name.
"""
from . import kernels
from .layers import AvgPool2d, Conv2d, ConvTranspose2d, Flatten, MaxPool2d

__all__ = ["kernels", "AvgPool2d", "Conv2d", "ConvTranspose2d", "Flatten", "MaxPool2d"]
