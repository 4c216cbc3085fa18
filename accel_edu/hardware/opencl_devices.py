"""Every OpenCL device on this machine, each with its own context, queue and program cache.

``accel_edu.runtime.opencl`` serves the one device a chapter runs on (``PYOPENCL_CTX``, else
the first that works). The hardware chapter measures all of them, side by side, so it opens
each usable device here. A device whose compiler cannot build a trivial kernel (the PoCL 3.0
bundled in pyopencl's wheel on a CPU newer than its LLVM) is listed with the reason, not
measured.
"""
from __future__ import annotations

import functools
from pathlib import Path

from ..runtime.availability import available_backends


def _cl():
    import pyopencl as cl
    return cl


def device_label(device) -> str:
    """'[0:0] pthread-skylake-avx512-AMD EPYC': the id PYOPENCL_CTX takes, and the device's name."""
    cl = _cl()
    for p_index, platform in enumerate(cl.get_platforms()):
        for d_index, other in enumerate(platform.get_devices()):
            if other.int_ptr == device.int_ptr:
                return f"[{p_index}:{d_index}] {device.name.strip()}"
    return device.name.strip()


@functools.lru_cache(maxsize=None)
def survey() -> tuple[list, dict[str, str]]:
    """(usable devices, {label: why not} for the others). Both empty without OpenCL."""
    if not available_backends()["opencl"]:
        return [], {}
    from ..runtime.opencl import compiler_problem
    usable, skipped = [], {}
    for platform in _cl().get_platforms():
        for device in platform.get_devices():
            problem = compiler_problem(device)
            if problem:
                skipped[device_label(device)] = problem
            else:
                usable.append(device)
    return usable, skipped


def usable_devices() -> list:
    return survey()[0]


def skipped_devices() -> dict[str, str]:
    return survey()[1]


@functools.lru_cache(maxsize=None)
def _context_and_queue(device):
    cl = _cl()
    ctx = cl.Context([device])
    return ctx, cl.CommandQueue(ctx)


def context(device):
    return _context_and_queue(device)[0]


def queue(device):
    return _context_and_queue(device)[1]


def is_cpu(device) -> bool:
    return bool(device.type & _cl().device_type.CPU)


_programs: dict = {}


def build(device, source: str | Path, **defines):
    """Compile ``source`` (OpenCL C text or a ``.cl`` path) for ``device`` once per defines."""
    options = tuple(f"-D{k}={v}" for k, v in sorted(defines.items()))
    key = (device.int_ptr, str(source), options)
    if key not in _programs:
        text = Path(source).read_text() if isinstance(source, Path) else source
        _programs[key] = _cl().Program(context(device), text).build(options=list(options))
    return _programs[key]


_kernels: dict = {}


def kernel(device, source: str | Path, name: str, **defines):
    """Kernel ``name`` of ``source`` built for ``device`` and ``defines``, created once (a
    kernel object costs a driver call; pyopencl warns when one is fetched repeatedly)."""
    key = (device.int_ptr, str(source), name, tuple(sorted(defines.items())))
    if key not in _kernels:
        _kernels[key] = _cl().Kernel(build(device, source, **defines), name)
    return _kernels[key]


def buffer(device, nbytes: int):
    cl = _cl()
    return cl.Buffer(context(device), cl.mem_flags.READ_WRITE, max(int(nbytes), 1))
