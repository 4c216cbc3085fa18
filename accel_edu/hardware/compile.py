"""What compiling costs beside running: Numba's JIT and PoCL's program build, cold and cached.

Both backends compile at run time, and the first call pays for it. Measured in fresh
processes, since a compiled function stays compiled for the rest of the process:

- Numba, for a few of the library's own kernels: ``cold`` is a process whose cache folder
  (``NUMBA_CACHE_DIR``) starts empty, so the first call compiles everything the kernel uses
  (as ``cache=False`` would, plus writing the cache files); ``cached`` is a second process on
  the filled folder, whose first call loads the machine code from disk. Beside both: one call's
  run time once compiled. ``compile_s`` is the first call minus that run time.
- OpenCL: building a program (``cl.Program(...).build()``) in a process whose caches start
  empty (pyopencl's binary cache under ``XDG_CACHE_HOME`` and PoCL's kernel cache under
  ``POCL_CACHE_DIR``), then in a second process on the filled caches.

A child, ``python -m accel_edu.hardware.compile numba,opencl [kernel names]``, prints its JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 5


def _numba_cases():
    """name -> (import the kernel, make its arguments). Imports happen in the child, timed apart."""
    import numpy as np
    rng = np.random.default_rng(0)

    def gemm():
        from ..backprop.numba_kernels import gemm_blocked
        a, b = rng.standard_normal((128, 128), np.float32), rng.standard_normal((128, 128), np.float32)
        return lambda: gemm_blocked(a, b)

    def lstm_cell():
        from ..rnn.numba_kernels import lstm_cell_forward
        n, hidden = 32, 64
        xg, hg = rng.standard_normal((n, 4 * hidden), np.float32), rng.standard_normal((n, 4 * hidden), np.float32)
        c = rng.standard_normal((n, hidden), np.float32)
        return lambda: lstm_cell_forward(xg, hg, c)

    def triad():
        from .stream import stream_triad
        a, b, c = (np.ones(100_000) for _ in range(3))
        return lambda: stream_triad(a, b, c, 3.0)

    return {"backprop gemm_blocked (128x128 float32)": gemm,
            "rnn lstm_cell_forward (32x64 float32)": lstm_cell,
            "stream_triad (100k float64)": triad}


def numba_kernel_names() -> list[str]:
    return list(_numba_cases())


def _child_numba(names: list[str]) -> list[dict]:
    # The first @njit call in a process also pays Numba's start-up (its runtime, the typing
    # context); an empty function takes that first, so the kernels after it show their own cost.
    from .launch import empty_function
    start = time.perf_counter()
    empty_function()
    out = [{"kernel": "empty @njit function (Numba's start-up in this process)", "import_s": 0.0,
            "first_call_s": time.perf_counter() - start, "run_s": 0.0,
            "compile_s": time.perf_counter() - start}]
    cases = _numba_cases()
    for name in names or cases:
        make = cases[name]
        try:
            start = time.perf_counter()
            call = make()
            imported = time.perf_counter() - start
            start = time.perf_counter()
            call()
            first = time.perf_counter() - start
            runs = []
            for _ in range(RUNS):
                start = time.perf_counter()
                call()
                runs.append(time.perf_counter() - start)
        except Exception as exc:   # a kernel that fails here is reported, not fatal
            out.append({"kernel": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        run = sorted(runs)[RUNS // 2]
        out.append({"kernel": name, "import_s": imported, "first_call_s": first, "run_s": run,
                    "compile_s": max(first - run, 0.0)})
    return out


def _child_opencl() -> list[dict]:
    import pyopencl as cl
    from . import opencl_devices as ocl
    source = (Path(__file__).parents[1] / "backprop" / "gemm.cl").read_text()
    out = []
    for device in ocl.usable_devices():
        ctx = ocl.context(device)
        start = time.perf_counter()
        cl.Program(ctx, source).build(options=["-Dreal=float", "-DVW=8"])  # as the library builds it
        out.append({"kernel": "backprop gemm.cl", "device": ocl.device_label(device),
                    "build_s": time.perf_counter() - start})
    return out


def _run_child(kinds: tuple, cache: str, timeout: float, names: list[str]) -> dict[str, list[dict]]:
    """One fresh process measuring ``kinds`` with its caches under ``cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(cache) / "numba"), XDG_CACHE_HOME=cache,
               POCL_CACHE_DIR=str(Path(cache) / "pocl"))
    env.pop("PYOPENCL_NO_CACHE", None)
    proc = subprocess.run([sys.executable, "-m", "accel_edu.hardware.compile", ",".join(kinds), *names],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode:
        raise RuntimeError(f"the compile-time child ({','.join(kinds)}) failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compile_times(kinds=("numba", "opencl"), numba_kernels=None, timeout: float = 300) -> list[dict]:
    """One record per kernel (and device) and phase ("cold", "cached"), from fresh processes.
    ``numba_kernels``: a subset of :func:`numba_kernel_names` (default: all of them)."""
    kinds = tuple(kinds)
    for kind in kinds:
        if kind not in ("numba", "opencl"):
            raise ValueError(f"kinds must name numba and/or opencl; got {kind!r}")
    names = list(numba_kernels or [])
    for name in names:
        if name not in numba_kernel_names():
            raise ValueError(f"numba_kernels must be among {numba_kernel_names()}; got {name!r}")
    if "opencl" in kinds:
        from ..runtime.availability import available_backends
        if not available_backends()["opencl"]:
            kinds = tuple(k for k in kinds if k != "opencl")
    records = []
    with tempfile.TemporaryDirectory(prefix="accel-edu-compile-") as cache:
        for phase in ("cold", "cached"):    # the second process finds the first one's caches
            for kind, results in _run_child(kinds, cache, timeout, names).items():
                for r in results:
                    records.append({"quantity": "compile_time", "backend": kind, "phase": phase, "unit": "s",
                                    "value": r.get("compile_s", r.get("build_s")), **r})
    return records


if __name__ == "__main__":
    child_kinds, child_names = sys.argv[1].split(","), sys.argv[2:]
    print(json.dumps({k: _child_numba(child_names) if k == "numba" else _child_opencl() for k in child_kinds}))
