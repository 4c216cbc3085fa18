"""The machine's measured peak floating-point rate (the roof of a roofline).

Measured, not taken from a data sheet: ``peak.cl`` runs FMA chains with no memory traffic
on the OpenCL device (PoCL spreads work-items over every CPU core and maps float8 onto SIMD
registers). We tried the same in Numba first: its loop over a small accumulator array kept
the array in memory and reached a fraction of this, so the roof is measured where the
compiler gets it right.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .timing import median_time

SOURCE = Path(__file__).with_name("peak.cl")
ACCUMULATORS = 12


def peak_gflops(dtype=np.float32, iterations: int = 20_000, repeat: int = 5) -> float:
    """Best GFLOP/s of the FMA-bound kernel on the selected OpenCL device, of ``repeat`` samples."""
    from ..runtime import opencl as ocl
    real = ocl.ctype(dtype)
    lanes = 32 // np.dtype(dtype).itemsize  # one 256-bit register: 8 floats or 4 doubles
    kernel = ocl.build(SOURCE, real=real, realv=f"{real}{lanes}").fma_peak
    device = ocl.default_device()
    # Work-groups of one work-item each, so PoCL can spread them over every core (left to
    # choose, it may put all of them in one group, which runs on one core).
    items = device.max_compute_units * 32
    out = ocl.empty((items, lanes), dtype)
    scalar = np.dtype(dtype).type

    def run():
        kernel(ocl.queue(), (items,), (1,), out.buffer, np.int32(iterations), scalar(0.999999), scalar(1e-6))

    # A peak is the best the machine sustains, so the fastest sample is the estimate here
    # (medians are for comparing kernels): other processes can only slow this one down.
    seconds = min(median_time(run, repeat=1, sync=ocl.finish, min_seconds=0.05) for _ in range(repeat))
    return ACCUMULATORS * lanes * 2 * iterations * items / seconds / 1e9  # 2 FLOPs per FMA
