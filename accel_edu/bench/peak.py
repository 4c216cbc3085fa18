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
FLOPS_PER_ITERATION = 12 * 8 * 2  # 12 accumulators x 8 lanes x (multiply + add)


def peak_gflops(dtype=np.float32, iterations: int = 20_000, repeat: int = 5) -> float:
    """Median GFLOP/s of the FMA-bound kernel on the selected OpenCL device."""
    from ..runtime import opencl as ocl
    real = ocl.ctype(dtype)
    kernel = ocl.build(SOURCE, real=real, real8=real + "8").fma_peak
    device = ocl.default_device()
    items = device.max_compute_units * 32  # enough work-items to fill every core
    out = ocl.empty((items,), dtype)
    scalar = np.dtype(dtype).type

    def run():
        kernel(ocl.queue(), (items,), None, out.buffer, np.int32(iterations), scalar(0.999999), scalar(1e-6))

    seconds = median_time(run, repeat=repeat, sync=ocl.finish, min_seconds=0.05)
    return FLOPS_PER_ITERATION * iterations * items / seconds / 1e9
