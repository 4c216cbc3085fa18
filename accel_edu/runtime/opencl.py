"""OpenCL plumbing, written once: device, queue, program cache, device arrays, transfers.

One context and one in-order queue per device. The device is the one pyopencl's own
convention picks: ``PYOPENCL_CTX`` (for example ``PYOPENCL_CTX=0:0``) when it is set, else the
first device found whose compiler builds a trivial kernel. Programs are compiled once per (device, source, options) and cached.
Every host<->device copy goes through :func:`to_device` / :func:`to_host`, which count bytes,
so a chapter can show what transfers cost.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# pyopencl is imported lazily, so that `import accel_edu` works where it is absent.


@dataclass
class TransferStats:
    h2d_count: int = 0
    h2d_bytes: int = 0
    d2h_count: int = 0
    d2h_bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


_stats = TransferStats()


def transfer_stats() -> dict[str, int]:
    """Host-to-device and device-to-host copies made so far (count and bytes)."""
    return _stats.as_dict()


def reset_transfer_stats() -> None:
    global _stats
    _stats = TransferStats()


def _cl():
    import pyopencl as cl
    return cl


# The smallest program a device's compiler must build before we send it real work.
_PROBE = "__kernel void probe(__global float *x) { x[get_global_id(0)] = 1.0f; }"


@functools.lru_cache(maxsize=None)
def compiler_problem(device) -> str:
    """'' if ``device`` compiles a trivial kernel, else the first line of why not.

    A driver can list a device whose compiler cannot build for it: the PoCL 3.0 that pyopencl's
    wheel bundles uses LLVM 14, which does not know CPUs newer than itself (AMD Zen 5 among
    them), names them 'generic', and then rejects that name ("unknown target CPU 'generic'").
    Debian's PoCL maps such a CPU to one LLVM knows (`apt-get install pocl-opencl-icd`).
    """
    cl = _cl()
    try:
        cl.Program(cl.Context([device]), _PROBE).build()
    except Exception as exc:  # a build failure, or a context the driver cannot create
        lines = [line.strip() for line in str(exc).splitlines() if "error" in line.lower()]
        return (lines[-1] if lines else str(exc).strip().splitlines()[0])[:200]
    return ""


def _choose_device():
    """The device pyopencl's PYOPENCL_CTX convention picks, without ever prompting; unset, the
    first device whose compiler works (see :func:`compiler_problem`)."""
    cl = _cl()
    platforms = cl.get_platforms()
    spec = os.environ.get("PYOPENCL_CTX", "").strip()
    if spec:
        parts = spec.split(":")
        try:
            platform = platforms[int(parts[0] or 0)]
            devices = platform.get_devices()
            return devices[int(parts[1]) if len(parts) > 1 and parts[1] else 0]
        except (ValueError, IndexError) as exc:
            raise ValueError(f"PYOPENCL_CTX={spec!r} does not name a platform:device here "
                             f"(run `accel-edu devices` to list them)") from exc
    skipped = []
    for platform in platforms:
        for device in platform.get_devices():
            problem = compiler_problem(device)
            if not problem:
                return device
            skipped.append(f"{device.name.strip()} ({platform.version.strip()}): {problem}")
    if skipped:
        raise RuntimeError("no OpenCL device here can compile a kernel: " + "; ".join(skipped) +
                           ". On Debian or Ubuntu, `apt-get install pocl-opencl-icd` adds a PoCL "
                           "that knows newer CPUs")
    raise RuntimeError("no OpenCL device found")


@functools.lru_cache(maxsize=None)
def default_device():
    return _choose_device()


@functools.lru_cache(maxsize=None)
def _context_and_queue(device_key: int):
    cl = _cl()
    device = default_device()
    ctx = cl.Context([device])
    queue = cl.CommandQueue(ctx, properties=cl.command_queue_properties.PROFILING_ENABLE)
    return ctx, queue


def context():
    return _context_and_queue(default_device().int_ptr)[0]


def queue():
    return _context_and_queue(default_device().int_ptr)[1]


def finish() -> None:
    """Wait for every kernel queued so far (timings must include this)."""
    queue().finish()


def supports_fp64(device=None) -> bool:
    device = device or default_device()
    return bool(device.double_fp_config) or "cl_khr_fp64" in device.extensions


_programs: dict[tuple, object] = {}


def build(source: str | Path, **defines) -> "object":
    """Compile OpenCL C ``source`` (a string or a ``.cl`` path) once per device and defines.

    ``defines`` become ``-D NAME=value`` options, so one file serves float and double:
    ``build(path, real="float")``. The cache is looked up before the file is read, so a
    cached call costs a dictionary lookup, not a file read and a hash.
    """
    options = tuple(f"-D{k}={v}" for k, v in sorted(defines.items()))
    key = (default_device().int_ptr, str(source) if isinstance(source, Path) else source, options)
    program = _programs.get(key)
    if program is None:
        text = Path(source).read_text() if isinstance(source, Path) else source
        program = _cl().Program(context(), text).build(options=list(options))
        _programs[key] = program
    return program


_kernels: dict = {}


def launch(source: Path, name: str, global_size, local_size, args, dtype, **defines) -> None:
    """Enqueue kernel ``name`` of the ``.cl`` file ``source``, compiled for ``dtype``
    (``-D real=float|double``) and ``defines``, over ``global_size`` in work-groups of ``local_size``.

    DeviceArrays are passed as their buffers, ints as OpenCL ``int``, floats as ``real`` and
    None as a NULL pointer. Name the work-group size: PoCL compiles a kernel once per size it
    runs with, and left to choose it picks a new one for nearly every grid.
    """
    key = (default_device().int_ptr, str(source), name, np.dtype(dtype).name, tuple(sorted(defines.items())))
    kernel = _kernels.get(key)
    if kernel is None:  # build() caches the program; the kernel object is cached here
        kernel = _kernels[key] = _cl().Kernel(build(Path(source), real=ctype(dtype), **defines), name)
    real = np.dtype(dtype).type
    values = [a.buffer if isinstance(a, DeviceArray) else
              np.int32(a) if isinstance(a, (int, np.integer)) else
              real(a) if isinstance(a, (float, np.floating)) else a for a in args]
    kernel(queue(), tuple(global_size), local_size, *values)


def ctype(dtype) -> str:
    """The OpenCL C scalar type for a NumPy float dtype."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return "float"
    if dtype == np.float64:
        if not supports_fp64():
            raise ValueError(f"dtype float64 is not supported by OpenCL device "
                             f"{default_device().name.strip()!r}; use float32")
        return "double"
    raise ValueError(f"OpenCL kernels take float32 or float64; got {dtype}")


class DeviceArray:
    """A C-contiguous array that lives in an OpenCL buffer.

    It has ``shape``, ``dtype``, ``ndim``, ``size`` and ``nbytes`` like a NumPy array, so the
    shared argument checks read it the same way; its data moves only through
    :meth:`numpy` (counted) or kernels.
    """

    __array_priority__ = 1000  # keep NumPy from swallowing it in mixed expressions

    def __init__(self, buffer, shape: tuple[int, ...], dtype):
        self.buffer = buffer
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))
    nbytes = property(lambda self: self.size * self.dtype.itemsize)
    flags = property(lambda self: {"C_CONTIGUOUS": True, "WRITEABLE": True})
    T = property(lambda self: _no_views("T"))

    def numpy(self) -> np.ndarray:
        return to_host(self)

    def reshape(self, *shape) -> "DeviceArray":
        """A new shape over the same buffer (no copy; C order, like NumPy)."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(int(s) for s in np.empty(self.size, dtype=np.int8).reshape(shape).shape)
        return DeviceArray(self.buffer, shape, self.dtype)

    def copy(self) -> "DeviceArray":
        """A new buffer with the same contents (a device-to-device copy, no host trip)."""
        out = empty(self.shape, self.dtype)
        if self.nbytes:
            _cl().enqueue_copy(queue(), out.buffer, self.buffer, byte_count=self.nbytes)
        return out

    def __deepcopy__(self, memo) -> "DeviceArray":
        return self.copy()

    def __repr__(self) -> str:
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype}, device={default_device().name.strip()!r})"

    def __array__(self, dtype=None, copy=None):
        # Lets np.asarray(device_array) work, as a counted download.
        out = to_host(self)
        return out if dtype is None else out.astype(dtype)


def _no_views(what: str):
    raise TypeError(f"DeviceArray has no strided views ({what}); kernels take transpose flags instead")


def empty(shape, dtype=np.float32) -> DeviceArray:
    cl = _cl()
    dtype = np.dtype(dtype)
    nbytes = max(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, 1)  # OpenCL forbids 0-byte buffers
    return DeviceArray(cl.Buffer(context(), cl.mem_flags.READ_WRITE, nbytes), shape, dtype)


def to_device(array) -> DeviceArray:
    """Copy a host array to the device (counted). A DeviceArray is returned as it is."""
    if isinstance(array, DeviceArray):
        return array
    cl = _cl()
    host = np.ascontiguousarray(array)
    out = empty(host.shape, host.dtype)
    if host.nbytes:
        cl.enqueue_copy(queue(), out.buffer, host)
        _stats.h2d_count += 1
        _stats.h2d_bytes += host.nbytes
    return out


def copy_into_device(dst: DeviceArray, host: np.ndarray) -> None:
    """Overwrite an existing DeviceArray with host data of the same shape (counted)."""
    host = np.ascontiguousarray(host, dtype=dst.dtype)
    if host.shape != dst.shape:
        raise ValueError(f"host array must have shape {dst.shape}; got {host.shape}")
    if host.nbytes:
        _cl().enqueue_copy(queue(), dst.buffer, host)
        _stats.h2d_count += 1
        _stats.h2d_bytes += host.nbytes


def to_host(array, out: np.ndarray | None = None) -> np.ndarray:
    """Copy a DeviceArray back to a (new, or given contiguous) NumPy array (counted)."""
    if not isinstance(array, DeviceArray):
        return np.asarray(array)
    cl = _cl()
    host = np.empty(array.shape, array.dtype) if out is None else out
    if array.nbytes:
        cl.enqueue_copy(queue(), host, array.buffer)  # blocking by default
        _stats.d2h_count += 1
        _stats.d2h_bytes += array.nbytes
    return host


def round_up(n: int, multiple: int) -> int:
    return ((n + multiple - 1) // multiple) * multiple
