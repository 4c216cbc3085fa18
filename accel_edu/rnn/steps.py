"""One time step of a sequence: read it, write it, on the host or on the device.

A sequence layer keeps each sequence as one 2-D array of T * N rows, step t being rows
t * N .. (t + 1) * N, so that the input projection and the weight gradients are each one GEMM
over all steps. On the host a step is a NumPy view; on the OpenCL device a sub-buffer (a
view too) where its offset is aligned, else a device-to-device copy of those rows (no host
transfer either way: the state never leaves the device).
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
    """Rows start .. stop of ``seq`` (R, F)  ->  (stop - start, F): a view on the host; on
    OpenCL a view too (a sub-buffer: no copy) where the rows start on the device's base
    address alignment (128 bytes on PoCL), else a device-to-device copy. Read it, do not
    write into it: on the host, as here, that would write into ``seq``."""
    if not isinstance(seq, DeviceArray):
        return seq[start:stop]
    from ..runtime.opencl import _cl, empty as device_empty, queue
    shape = (stop - start,) + seq.shape[1:]
    row_bytes = int(np.prod(seq.shape[1:], dtype=np.int64)) * seq.dtype.itemsize
    view = _sub_buffer(seq.buffer, start * row_bytes, (stop - start) * row_bytes)
    if view is not None:
        return DeviceArray(view, shape, seq.dtype)
    out = device_empty(shape, seq.dtype)
    _cl().enqueue_copy(queue(), out.buffer, seq.buffer, byte_count=out.nbytes,
                       src_offset=start * row_bytes, dst_offset=0)
    return out


def _sub_buffer(buffer, offset: int, nbytes: int):
    """bytes offset .. offset + nbytes of ``buffer`` as an OpenCL sub-buffer, or None where
    OpenCL allows none (empty, or an offset off the alignment). A sub-buffer of a sub-buffer
    is not allowed either: a view of a view is cut from the first one's parent instead."""
    from ..runtime.opencl import _cl, queue
    cl = _cl()
    parent = buffer.get_info(cl.mem_info.ASSOCIATED_MEMOBJECT)
    if parent is not None:
        offset += buffer.get_info(cl.mem_info.OFFSET)
        buffer = parent
    align = queue().device.mem_base_addr_align // 8          # given in bits
    if nbytes == 0 or offset % align:
        return None
    return buffer.get_sub_region(offset, nbytes)


def put_step(seq, t: int, value) -> None:
    """Write ``value`` (n, F) into rows t * n .. (t + 1) * n of ``seq`` (T * n, F)."""
    n = value.shape[0]
    if not isinstance(seq, DeviceArray):
        seq[t * n:(t + 1) * n] = value
        return
    from ..runtime.opencl import _cl, queue
    _cl().enqueue_copy(queue(), seq.buffer, value.buffer, byte_count=value.nbytes,
                       src_offset=0, dst_offset=t * value.nbytes)
