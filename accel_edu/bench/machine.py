"""What a benchmark ran on: recorded beside every result, since a figure without its machine
is not a measurement anyone can compare with."""
from __future__ import annotations

import datetime
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def simd_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return sorted(f for f in flags if f.startswith(("avx", "sse4", "fma", "neon", "sve")))
    except OSError:
        pass
    return []


def machine_info() -> dict:
    import numba
    import numpy as np
    info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "simd": simd_flags(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        # workqueue (the library's default) or omp: on 2 cores it moves small kernels' times by 2x
        "numba_threading_layer": numba.config.THREADING_LAYER,
    }
    try:
        import pyopencl as cl
        from ..runtime.opencl import default_device
        info["pyopencl"] = cl.VERSION_TEXT
        d = default_device()
        info["opencl_device"] = f"{d.name.strip()} ({d.platform.name.strip()}, {d.version.strip()})"
    except Exception as exc:  # recorded, not fatal: the other backends still ran
        info["opencl_device"] = f"unavailable: {exc}"
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info
