"""Numba settings the whole library shares; imported before any Numba kernel module.

The threading layer: Numba picks OpenMP when it finds it, and on our 2-core machines each
``prange`` launch then cost 8-16 ms whenever another process was busy (OpenMP's workers
spin, then sleep, and wake slowly), against 0.1-0.3 ms for Numba's own ``workqueue`` layer.
A training step launches a dozen small parallel kernels, so that was a 50x slowdown, measured
on a 32 x 256 x 256 GEMM. A user's own NUMBA_THREADING_LAYER still wins.

The price is paid on an idle machine: there an empty parallel region cost 40-110 us with
workqueue against 3 us with OpenMP (2-core Zen 5 VM, December 2026), and the digits LeNet
trained at 9,200 images/s against 26,700 with OpenMP. Benchmarks on an idle machine record
both (``NUMBA_THREADING_LAYER=omp python benchmarks/conv2d.py``).
"""
import os

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
