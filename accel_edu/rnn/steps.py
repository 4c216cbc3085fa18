"""One time step of a sequence: read it, write it, on the host or on the device.

A sequence layer keeps each sequence as one 2-D array of T * N rows, step t being rows
t * N .. (t + 1) * N, so that the input projection and the weight gradients are each one GEMM
over all steps. On the host a step is a NumPy view; on the OpenCL device it is a
device-to-device copy of those rows (no host transfer: the state never leaves the device).
"""
from __future__ import annotations

import numpy as np

from ..runtime.opencl import DeviceArray


def zeros(shape, dtype, backend: str):
    """Zeros where ``backend`` computes (on OpenCL filled by the device: nothing is uploaded)."""
    if backend == "opencl":
        from ..optim.optimizer import device_zeros
        return device_zeros(shape, dtype)
    return np.zeros(shape, dtype)


def empty(shape, dtype, backend: str):
    if backend == "opencl":
        from ..runtime.opencl import empty as device_empty
        return device_empty(shape, dtype)
    return np.empty(shape, dtype)


def take_step(seq, t: int, n: int):
    """Rows t * n .. (t + 1) * n of ``seq`` (T * n, F)  ->  (n, F)."""
    return take_rows(seq, t * n, (t + 1) * n)


def take_rows(seq, start: int, stop: int):
    """Rows start .. stop of ``seq`` (R, F)  ->  (stop - start, F): a view on the host, a
    device-to-device copy on OpenCL."""
    if not isinstance(seq, DeviceArray):
        return seq[start:stop]
    from ..runtime.opencl import _cl, empty as device_empty, queue
    out = device_empty((stop - start,) + seq.shape[1:], seq.dtype)
    row_bytes = out.nbytes // max(stop - start, 1)
    _cl().enqueue_copy(queue(), out.buffer, seq.buffer, byte_count=out.nbytes,
                       src_offset=start * row_bytes, dst_offset=0)
    return out


def put_step(seq, t: int, value) -> None:
    """Write ``value`` (n, F) into rows t * n .. (t + 1) * n of ``seq`` (T * n, F)."""
    n = value.shape[0]
    if not isinstance(seq, DeviceArray):
        seq[t * n:(t + 1) * n] = value
        return
    from ..runtime.opencl import _cl, queue
    _cl().enqueue_copy(queue(), seq.buffer, value.buffer, byte_count=value.nbytes,
                       src_offset=0, dst_offset=t * value.nbytes)
