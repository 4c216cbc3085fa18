"""What every chapter's ``costs.py`` counts with: array sizes in bytes and elements.

The counting convention (FLOPs and compulsory bytes) is written once, in the docstrings of
:attr:`accel_edu.runtime.registry.Kernel.flops` and ``Kernel.bytes``. These helpers take NumPy
arrays or OpenCL ``DeviceArray``s alike: both have ``shape`` and ``dtype``.
"""
from __future__ import annotations

import math

import numpy as np


def elements(x) -> int:
    """Number of elements of an array (anything with a ``shape``)."""
    return math.prod(x.shape)


def nbytes(*arrays) -> int:
    """Total bytes of the given arrays, each counted once (None is skipped: an absent bias)."""
    return sum(elements(a) * np.dtype(a.dtype).itemsize for a in arrays if a is not None)


def shape_bytes(shape, dtype) -> int:
    """Bytes of an array of ``shape`` and ``dtype`` that a kernel writes (an output)."""
    return math.prod(shape) * np.dtype(dtype).itemsize


def read_write(*arrays) -> int:
    """Bytes of arrays updated in place: each is read and written, so twice its size."""
    return 2 * nbytes(*arrays)
