"""The machine's measured peak floating-point rate (the roof of a roofline).

Measured, not taken from a data sheet: ``peak.cl`` runs FMA chains with no memory traffic
on the OpenCL device (PoCL spreads work-items over every CPU core and maps float8 onto SIMD
registers). We tried the same in Numba first: its loop over a small accumulator array kept
the array in memory and reached a fraction of this, so the roof is measured where the
compiler gets it right. (``accel_edu/hardware/peak.py`` has since found a Numba form that
stays in registers: a stack buffer of accumulators and ``fastmath={"contract"}``.)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("peak.cl")
ACCUMULATORS = 12


def peak_gflops(dtype=np.float32, iterations: int = 20_000, repeat: int = 5) -> float:
    """Best GFLOP/s of the FMA-bound kernel on the selected OpenCL device, of ``repeat`` samples.

    The measurement is :func:`accel_edu.hardware.peak.opencl_peak` (which runs it on any
    device, at the device's preferred vector width); here on the device the library uses, with
    the 256-bit vectors this roof has always been measured with (float8 or double4)."""
    from ..hardware.peak import opencl_peak
    from ..runtime import opencl as ocl
    lanes = 32 // np.dtype(dtype).itemsize  # one 256-bit register: 8 floats or 4 doubles
    return opencl_peak(ocl.default_device(), dtype, iterations, repeat, lanes=lanes, min_seconds=0.05)["best"]
