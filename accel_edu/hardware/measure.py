"""Every measurement of the machine in one run: :func:`measure_all` -> one JSON-able dict.

Runs each module's measurement on every backend this machine has (NumPy, Numba and every
usable OpenCL device), in a fixed order, with a progress bar on standard error. A measurement
that fails is recorded under "errors" with its message and the others still run, so a long run
is not lost to one broken device. ``quick=True`` uses tiny sizes (seconds, for tests: its
figures are not the machine's limits) and skips the fresh-process compile measurement.
"""
from __future__ import annotations

import sys
import time

import numba
import numpy as np
from tqdm import tqdm

from . import cache, compile as compile_, launch, peak, stream, transfer
from .cache_sizes import cache_levels
from .machine import describe_machine
from .opencl_devices import device_label, skipped_devices, usable_devices

# Peak kernels run 3-10 ms a call, so a parallel region's start (40-110 us here) or a kernel
# launch costs them at most a few per cent.
FULL = {"numba_iterations": 2_000_000, "opencl_iterations": 100_000, "matmul_n": 2048, "stream_n": stream.DEFAULT_N,
        "cache_sizes": None, "bytes_per_sample": cache.BYTES_PER_SAMPLE, "transfer_sizes": None,
        "repeat": 5, "launch_seconds": 0.02, "compile": True}
QUICK = {"numba_iterations": 2_000, "opencl_iterations": 200, "matmul_n": 128, "stream_n": 100_000,
         "cache_sizes": [4096, 65536, 1 << 20], "bytes_per_sample": 1 << 20,
         "transfer_sizes": [64, 4096, 1 << 18], "repeat": 2, "launch_seconds": 0.002, "compile": False}


def _steps(s: dict, devices: list) -> list[tuple[str, object]]:
    """(section, thunk returning a list of records) in the order they run."""
    steps = []
    for dtype in (np.float32, np.float64):
        for threads in sorted({1, numba.get_num_threads()}):   # one core's peak, then all
            steps.append(("peak", lambda d=dtype, t=threads: [peak.numba_peak(d, s["numba_iterations"],
                                                                              s["repeat"], t)]))
        steps.append(("peak", lambda d=dtype: [peak.numpy_peak(d, s["matmul_n"], s["repeat"])]))
        for dev in devices:
            if dtype == np.float32 or dev.double_fp_config:
                steps.append(("peak", lambda d=dtype, dev=dev: [peak.opencl_peak(dev, d, s["opencl_iterations"],
                                                                                s["repeat"])]))
    steps.append(("stream", lambda: stream.numpy_stream(s["stream_n"], s["repeat"])))
    steps.append(("stream", lambda: stream.numba_stream(s["stream_n"], s["repeat"])))
    for dev in devices:
        dtype = np.float64 if dev.double_fp_config else np.float32
        steps.append(("stream", lambda dev=dev, d=dtype: stream.opencl_stream(dev, s["stream_n"], s["repeat"], d)))
    for threads in sorted({1, numba.get_num_threads()}):
        steps.append(("cache", lambda t=threads: cache.numba_cache_curve(s["cache_sizes"], s["repeat"], t,
                                                                         s["bytes_per_sample"])))
    for dev in devices:
        steps.append(("cache", lambda dev=dev: cache.opencl_cache_curve(dev, s["cache_sizes"], s["repeat"],
                                                                        s["bytes_per_sample"])))
    for dev in devices:
        steps.append(("transfer", lambda dev=dev: [transfer.opencl_transfers(dev, s["transfer_sizes"], s["repeat"])]))
    steps.append(("launch", lambda: launch.host_overheads(s["repeat"], s["launch_seconds"])))
    for dev in devices:
        steps.append(("launch", lambda dev=dev: [launch.opencl_overhead(dev, s["repeat"], s["launch_seconds"])]))
    if s["compile"]:
        steps.append(("compile", lambda: compile_.compile_times()))
    return steps


def measure_all(quick: bool = False, progress: bool = True) -> dict:
    """{"machine", "settings", "peak", "theoretical_peak", "stream", "cache", "cache_levels",
    "transfer", "launch", "compile", "opencl_skipped", "errors"}: lists of records (see
    :mod:`accel_edu.hardware.records`); transfer holds one {"points", "fits"} per device."""
    if not isinstance(quick, bool):
        raise ValueError(f"quick must be True or False; got {quick!r}")
    settings = QUICK if quick else FULL
    devices = usable_devices()
    result = {"machine": describe_machine(), "settings": {"quick": quick, **settings},
              "peak": [], "stream": [], "cache": [], "transfer": [], "launch": [], "compile": [],
              "cache_levels": cache_levels(),
              "opencl_devices_measured": [device_label(d) for d in devices],
              "opencl_skipped": skipped_devices(), "errors": []}
    steps = _steps(settings, devices)
    for section, thunk in tqdm(steps, desc="measure machine", unit="step", file=sys.stderr, disable=not progress):
        # OpenBLAS's and PoCL's worker threads spin for a moment after their last call; the
        # next measurement would share the cores with them (accel_edu/bench/timing.py).
        time.sleep(0.0 if quick else 0.2)
        try:
            result[section].extend(thunk())
        except Exception as exc:   # recorded, and the other measurements still run
            result["errors"].append({"section": section, "error": f"{type(exc).__name__}: {exc}"[:500]})
    result["theoretical_peak"] = [peak.theoretical_peak(d) for d in (np.float32, np.float64)]
    roof = {t["dtype"]: t["value"] for t in result["theoretical_peak"]}
    for r in result["peak"]:
        r["fraction_of_theoretical"] = r["best"] / roof[r["dtype"]] if roof.get(r["dtype"]) else None
    result["machine"]["numba_threading_layer"] = numba.threading_layer()   # the layer that ran
    return result
