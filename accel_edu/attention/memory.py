"""The cost of attention in memory: what the plain and the tiled versions hold, as T grows.

``measure_memory`` runs one forward and one backward of each variant at each sequence length
and returns the peak extra memory it saw; ``bytes_expected`` is the same quantity counted on
paper, so a chapter can draw the two side by side::

    records = measure_memory([256, 512, 1024, 2048, 4096])            # ~10-30 s on 2 cores
    predicted = bytes_expected("plain", 4096, backend="numba")         # 135,282,688 bytes

*Extra memory* is the peak of what is held beyond the inputs q, k, v and dout, from the start
of the forward to the end of the backward: the outputs (out, the logsumexp, dq, dk, dv)
included, since they are held too. Plain holds the (B, Tq, Tk) P and dS in its backward, so
it grows as T^2; tiled holds only O(T d) arrays, so it grows as T.

How each backend is measured:

* Numba allocates through its own runtime, which ``tracemalloc`` does not see, so a fresh
  process reads its peak resident memory: Linux resets the peak (VmHWM) to the current
  resident size when "5" is written to /proc/self/clear_refs; the growth is the new peak
  minus the resident size before the call. glibc is told to map every block over 128 KiB
  afresh (``MALLOC_MMAP_THRESHOLD_``), so a freed array's pages are returned, not silently
  reused by the next measurement. Smaller arrays come from memory the process already
  holds, and pages are 4 KiB, so below ~1 MiB (the tiled variant at T < ~2048 for B = 1,
  d = 16) the measurement reads under the prediction; measured here, plain was within 12%
  of it from T = 256 and within 1% from T = 2048.
* OpenCL: every buffer the host code allocates goes through ``opencl_kernels.empty``; a spy
  adds each one's bytes when it is made and subtracts them when Python frees it, and keeps
  the peak. That is the device memory the host code asks for (the device's own scratch is
  not seen).
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import weakref

import numpy as np

from . import opencl_kernels

VARIANTS = ("plain", "tiled")


def bytes_expected(variant: str, t: int, *, batch: int = 1, d: int = 16, e: int | None = None,
                   itemsize: int = 4, backend: str = "numba") -> int:
    """Peak extra bytes of one forward + backward with Tq = Tk = t, counted from the code.

    Both variants hold out (B, T, e), the logsumexp (B, T), and at the end dq (B, T, d),
    dk (B, T, d), dv (B, T, e). The plain backward adds P and dS, (B, T, T) each; the tiled
    one D (B, T) and, on Numba, k and v transposed (B, d + e, T). Causal or not, the same.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
    if backend not in ("numba", "opencl"):
        raise ValueError(f"backend must be 'numba' or 'opencl'; got {backend!r}")
    e = d if e is None else e
    held = batch * t * (e + 1 + d + d + e)                 # out, logsumexp, dq, dk, dv
    if variant == "plain":
        extra = 2 * batch * t * t                          # P and dS
    else:
        extra = batch * t * (1 + (d + e if backend == "numba" else 0))   # D (+ k, v transposed)
    return (held + extra) * itemsize


def _inputs(t, batch, d, e, dtype, seed=0):
    rng = np.random.default_rng(seed)
    q, k = (rng.standard_normal((batch, t, d)).astype(dtype) for _ in range(2))
    v, dout = (rng.standard_normal((batch, t, e)).astype(dtype) for _ in range(2))
    return q, k, v, dout


# -- Numba: peak resident memory in a fresh process ---------------------------------------------
PEAK_SCRIPT = r"""
import json, sys
import numpy as np
from accel_edu.attention import attention_backward, attention_forward
from accel_edu.attention.memory import _inputs

def resident_bytes(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024                  # kB
    raise RuntimeError(field + " missing from /proc/self/status")

def forward_backward(variant, q, k, v, dout, causal):
    out, lse = attention_forward(q, k, v, causal=causal, backend="numba", variant=variant)
    return out, lse, attention_backward(dout, q, k, v, out, lse, causal, backend="numba", variant=variant)

lengths, variants, batch, d, e, causal = json.loads(sys.argv[1])
for variant in variants:                 # compile (or load from the cache) before measuring
    forward_backward(variant, *_inputs(40, batch, d, e, np.float32), causal)
for t in lengths:
    for variant in variants:
        q, k, v, dout = _inputs(t, batch, d, e, np.float32)
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")                                     # peak := current resident size
        except OSError as error:
            print(json.dumps({"skip": f"cannot reset the peak resident memory: {error}"}))
            sys.exit(0)
        before = resident_bytes("VmRSS")
        held = forward_backward(variant, q, k, v, dout, causal)
        print(json.dumps({"T": t, "variant": variant, "bytes": resident_bytes("VmHWM") - before}))
        del held
"""


def _measure_numba(lengths, variants, batch, d, e, causal, timeout):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, json.dumps([list(lengths), list(variants),
                                                                          batch, d, e, causal])],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the Numba memory measurement failed:\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if rows and "skip" in rows[0]:
        return rows[0]["skip"], []
    return "peak resident memory growth (VmHWM - VmRSS) in a fresh process", rows


# -- OpenCL: an allocation spy on the host code -------------------------------------------------
@contextlib.contextmanager
def _allocation_spy():
    """Counts the bytes of every buffer opencl_kernels allocates while they live; yields a
    dict whose "peak" is the most held at once."""
    real_empty = opencl_kernels.empty
    count = {"live": 0, "peak": 0}

    def freed(nbytes):
        count["live"] -= nbytes

    def spy(shape, dtype=np.float32):
        array = real_empty(shape, dtype)
        count["live"] += array.nbytes
        count["peak"] = max(count["peak"], count["live"])
        weakref.finalize(array, freed, array.nbytes)
        return array

    opencl_kernels.empty = spy
    try:
        yield count
    finally:
        opencl_kernels.empty = real_empty


def _measure_opencl(lengths, variants, batch, d, e, causal):
    from . import kernels as K
    from ..runtime import to_device
    from ..runtime.opencl import finish
    rows = []
    for t in lengths:
        for variant in variants:
            q, k, v, dout = (to_device(a) for a in _inputs(t, batch, d, e, np.float32))
            with _allocation_spy() as count:
                out, lse = K.attention_forward(q, k, v, causal=causal, backend="opencl", variant=variant)
                grads = K.attention_backward(dout, q, k, v, out, lse, causal, backend="opencl",
                                             variant=variant)
                finish()
            rows.append({"T": t, "variant": variant, "bytes": count["peak"]})
            del out, lse, grads
    return "peak bytes of live buffers allocated by the host code (an allocation spy)", rows


def measure_memory(lengths=(256, 512, 1024, 2048, 4096), *, backends=("numba", "opencl"),
                   variants=VARIANTS, batch: int = 1, d: int = 16, e: int | None = None,
                   causal: bool = False, timeout: float = 300) -> list[dict]:
    """Measure the peak extra memory of one forward + backward per (backend, variant, T).

    float32 q, k (batch, T, d), v (batch, T, e) with e = d by default. Returns one record per
    measurement: backend, variant, T, batch, d, e, causal, measured_bytes, expected_bytes
    (``bytes_expected``), method (how it was measured). A backend that is unavailable or
    cannot be measured here gives one record with ``skipped`` (the reason) instead.
    """
    from ..runtime import available_backends
    lengths = [int(t) for t in lengths]
    if not lengths or any(t < 1 for t in lengths):
        raise ValueError(f"lengths must be positive integers; got {lengths!r}")
    for variant in variants:
        if variant not in VARIANTS:
            raise ValueError(f"variants must be a subset of {', '.join(VARIANTS)}; got {variant!r}")
    e = d if e is None else e
    have = available_backends()
    records = []
    for backend in backends:
        if backend not in ("numba", "opencl"):
            raise ValueError(f"backends must be a subset of numba, opencl; got {backend!r}")
        if not have[backend]:
            records.append({"backend": backend, "skipped": f"{backend} unavailable: {have[backend].detail}"})
            continue
        if backend == "numba":
            method, rows = _measure_numba(lengths, variants, batch, d, e, bool(causal), timeout)
        else:
            method, rows = _measure_opencl(lengths, variants, batch, d, e, bool(causal))
        if not rows:
            records.append({"backend": backend, "skipped": method})
        for row in rows:
            records.append({"backend": backend, "variant": row["variant"], "T": row["T"], "batch": batch,
                            "d": d, "e": e, "causal": bool(causal), "measured_bytes": int(row["bytes"]),
                            "expected_bytes": bytes_expected(row["variant"], row["T"], batch=batch, d=d,
                                                             e=e, backend=backend),
                            "method": method})
    return records
