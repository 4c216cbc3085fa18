"""Argument checks shared by every backend.

Each raises ``ValueError`` with the argument's name, what was expected, and what was given,
because a student reading the message should know what to change without opening the source.
"""
from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def describe(x) -> str:
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{type(x).__name__} of shape {tuple(x.shape)} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_array(name: str, x, *, ndim: int | tuple[int, ...] | None = None,
                dtype=None, allow_empty: bool = False, writeable: bool = False):
    """Check that ``x`` is an array (NumPy or DeviceArray) of float dtype and the given ndim."""
    from .opencl import DeviceArray
    if not isinstance(x, (np.ndarray, DeviceArray)):
        raise ValueError(f"{name} must be a NumPy array or DeviceArray; got {describe(x)}")
    allowed = FLOAT_DTYPES if dtype is None else (np.dtype(dtype),)
    if x.dtype not in allowed:
        raise ValueError(f"{name} must have dtype {' or '.join(map(str, allowed))}; got {x.dtype}")
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in ndims:
            want = " or ".join(f"{n}-D" for n in ndims)
            raise ValueError(f"{name} must be {want}; got shape {tuple(x.shape)}")
    if not allow_empty and x.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {tuple(x.shape)}")
    if writeable and isinstance(x, np.ndarray) and not x.flags.writeable:
        raise ValueError(f"{name} is updated in place, so it must be writeable; got a read-only array")
    return x


def check_same_dtype(**arrays) -> None:
    names = list(arrays)
    first = arrays[names[0]].dtype
    for n in names[1:]:
        if arrays[n].dtype != first:
            raise ValueError(f"{n} must have the same dtype as {names[0]} ({first}); got {arrays[n].dtype}")


def check_same_shape(**arrays) -> None:
    names = list(arrays)
    first = tuple(arrays[names[0]].shape)
    for n in names[1:]:
        if tuple(arrays[n].shape) != first:
            raise ValueError(f"{n} must have the same shape as {names[0]} {first}; "
                             f"got {tuple(arrays[n].shape)}")


def check_labels(name: str, labels, n: int, classes: int) -> None:
    """Integer class labels, shape (n,), each in [0, classes)."""
    from .opencl import DeviceArray
    if not isinstance(labels, (np.ndarray, DeviceArray)) or labels.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array of class indices; got {describe(labels)}")
    if tuple(labels.shape) != (n,):
        raise ValueError(f"{name} must have shape ({n},), one label per row of logits; "
                         f"got {tuple(labels.shape)}")
    if isinstance(labels, np.ndarray) and labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"{name} must lie in [0, {classes}); found {bad}")


def check_positive(name: str, value) -> None:
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
