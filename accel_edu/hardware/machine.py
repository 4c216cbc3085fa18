"""The machine a measurement ran on: CPU, caches, OpenCL devices, library versions.

Everything :func:`accel_edu.bench.machine.machine_info` records beside a benchmark (CPU model,
cores, SIMD flags, NumPy/Numba/PyOpenCL/PyTorch versions, Numba's threads), plus what the
hardware chapter reads its measurements against: the SIMD register width and the clock behind
the theoretical peak, the cache sizes behind the bandwidth steps, and every OpenCL platform
and device with its compute units, work-group and local-memory limits and driver version.
"""
from __future__ import annotations

import platform

from ..bench.machine import machine_info
from .cache_sizes import cache_levels, lscpu_caches, read_sysfs_caches
from .simd import clock_mhz, cores, register_bytes


def memory_bytes() -> int | None:
    """MemTotal from /proc/meminfo; None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def library_versions() -> dict[str, str | None]:
    """numpy, numba, llvmlite, pyopencl, torch: the version, or None where it is not installed."""
    import importlib.metadata as md
    versions = {}
    for name in ("numpy", "numba", "llvmlite", "pyopencl", "torch", "tqdm"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return versions


def threading_layer() -> str:
    """The Numba threading layer in use: the one that ran if a parallel region has, else the
    one configured (accel_edu's default is workqueue, see runtime/numba_setup.py)."""
    import numba
    from ..runtime import numba_setup  # noqa: F401
    try:
        return numba.threading_layer()
    except ValueError:                  # no parallel region has run in this process yet
        return f"{numba.config.THREADING_LAYER} (configured)"


def describe_machine() -> dict:
    """One JSON-able dict describing this machine and its software."""
    from ..runtime.devices import opencl_devices
    info = machine_info()
    sysfs = read_sysfs_caches()
    info.update({
        "platform": platform.platform(),
        "usable_cores": cores(),
        "memory_bytes": memory_bytes(),
        "clock_mhz": clock_mhz(),
        "clock_source": "/proc/cpuinfo 'cpu MHz' (on a VM, the nominal clock it reports)",
        "simd_register_bytes": register_bytes(),
        "caches": {"sysfs_cpu0": sysfs, "lscpu": lscpu_caches(), "levels": cache_levels(sysfs)},
        "libraries": library_versions(),
        "numba_threading_layer": threading_layer(),
        "opencl_devices": opencl_devices(),
    })
    return info
