"""Which backends work on this machine, and why the others do not."""
from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Availability:
    name: str
    available: bool
    detail: str  # a version or device list when available, the reason when not

    def __bool__(self) -> bool:
        return self.available


@functools.lru_cache(maxsize=None)
def _numba() -> Availability:
    try:
        import numba
    except Exception as exc:  # ImportError, or a broken llvmlite
        return Availability("numba", False, f"numba cannot be imported: {exc}")
    return Availability("numba", True, f"numba {numba.__version__}")


@functools.lru_cache(maxsize=None)
def _opencl() -> Availability:
    try:
        import pyopencl as cl
    except Exception as exc:
        return Availability("opencl", False, f"pyopencl cannot be imported: {exc}")
    try:
        platforms = cl.get_platforms()
    except Exception as exc:  # no ICD loader finds any platform
        return Availability("opencl", False, f"no OpenCL platform found ({exc}); "
                            "pip install pocl-binary-distribution gives a CPU device")
    devices = [d.name.strip() for p in platforms for d in p.get_devices()]
    if not devices:
        return Availability("opencl", False, "OpenCL platforms exist but none has a device")
    try:
        from .opencl import default_device
        chosen = default_device().name.strip()
    except Exception as exc:
        return Availability("opencl", False, f"cannot create an OpenCL context: {exc}")
    return Availability("opencl", True, f"{chosen} (of {len(devices)} device(s))")


def available_backends() -> dict[str, Availability]:
    """Map each backend name to an :class:`Availability` (truthy when it works).

    >>> {name: bool(a) for name, a in available_backends().items()}   # doctest: +SKIP
    {'numpy': True, 'numba': True, 'opencl': True}
    """
    import numpy as np
    return {
        "numpy": Availability("numpy", True, f"numpy {np.__version__}"),
        "numba": _numba(),
        "opencl": _opencl(),
    }
