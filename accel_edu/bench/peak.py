"""The machine's measured peak floating-point rate (the roof of a roofline).

Measured, not taken from a data sheet: FMA chains with no memory traffic, in Numba (a stack
buffer of accumulators that stays in registers, ``accel_edu/hardware/peak.py``) and in
``peak.cl`` on the OpenCL device (PoCL spreads work-items over every CPU core and maps the
vector type onto SIMD registers). Numba's first attempt, a loop over a small accumulator
array, kept the array in memory and reached a fraction of this; the hardware chapter shows
the version that works.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("peak.cl")
ACCUMULATORS = 12


def peak_gflops(dtype=np.float32, repeat: int = 5) -> float:
    """This machine's measured peak GFLOP/s: the best of the FMA-bound kernels with no memory
    traffic, on Numba (every thread, full-width registers: :func:`accel_edu.hardware.peak.numba_peak`)
    and on the OpenCL device the library uses, at its preferred vector width (``peak.cl``,
    :func:`accel_edu.hardware.peak.opencl_peak`).

    This roof used to be peak.cl alone at 256-bit vectors (float8), which on an AVX-512 CPU is
    half of it: the GEMM ladder's best rungs then ran "above the peak"."""
    from ..hardware.peak import numba_peak, opencl_peak
    from ..runtime import available_backends
    best = numba_peak(dtype, repeat=repeat)["best"]
    if available_backends()["opencl"]:
        from ..runtime import opencl as ocl
        best = max(best, opencl_peak(ocl.default_device(), dtype, repeat=repeat, min_seconds=0.05)["best"])
    return best
