"""The tiled attention kernels' extra memory does not grow as Tq * Tk; the plain ones' does.

Reported, not timed. OpenCL: every buffer the host code allocates goes through
``opencl_kernels.empty``, so a spy sees each allocation's shape. Numba allocates through its
own runtime, which tracemalloc does not see, so a fresh process measures its peak resident
memory around one large call of each variant: Linux resets the peak (VmHWM) when "5" is
written to /proc/self/clear_refs, and the growth is the new peak minus the resident memory
before the call. The plain variant is the control: the measurement sees its (T, T) arrays.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from accel_edu.attention import attention_backward, attention_forward
from accel_edu.attention import opencl_kernels
from accel_edu.runtime import available_backends

AVAILABLE = available_backends()


def _largest_allocations(monkeypatch, variant, q, k, v):
    """The largest element count of any buffer allocated by the forward and backward."""
    sizes = []
    real_empty = opencl_kernels.empty

    def spy(shape, dtype=np.float32):
        sizes.append(int(np.prod(shape)))
        return real_empty(shape, dtype)

    monkeypatch.setattr(opencl_kernels, "empty", spy)
    out, lse = attention_forward(q, k, v, causal=True, backend="opencl", variant=variant)
    attention_backward(np.ones(out.shape, q.dtype), q, k, v, out, lse, True,
                       backend="opencl", variant=variant)
    return max(sizes)


def test_opencl_tiled_allocates_nothing_of_size_t_squared(monkeypatch):
    if not AVAILABLE["opencl"]:
        pytest.skip(f"opencl unavailable: {AVAILABLE['opencl'].detail}")
    t, d = 96, 4
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, t, d)).astype(np.float32) for _ in range(3))
    plain = _largest_allocations(monkeypatch, "plain", q, k, v)
    tiled = _largest_allocations(monkeypatch, "tiled", q, k, v)
    print(f"largest OpenCL buffer at T={t}, d={d}: plain {plain} numbers, tiled {tiled}")
    assert plain >= t * t                    # the control: the spy sees the score matrix
    assert tiled <= t * d                    # no more than one (T, d) array: outputs only


PEAK_SCRIPT = r"""
import json, sys
import numpy as np
from accel_edu.attention import attention_backward, attention_forward

def status_mib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024          # kB
    raise RuntimeError(field + " missing from /proc/self/status")

def growth_mib(variant, t):
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                                 # peak := current resident memory
    except OSError as error:
        print(json.dumps({"skip": f"cannot reset the peak RSS: {error}"}))
        sys.exit(0)
    before = status_mib("VmRSS")
    run(variant, t)
    return status_mib("VmHWM") - before

def run(variant, t, d=4):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, t, d)).astype(np.float32) for _ in range(3))
    out, lse = attention_forward(q, k, v, backend="numba", variant=variant)
    attention_backward(np.ones_like(out), q, k, v, out, lse, False, backend="numba", variant=variant)

for variant in ("tiled", "plain"):
    run(variant, 64)                   # compile (or load from the cache) before measuring
t = int(sys.argv[1])
print(json.dumps({variant: growth_mib(variant, t) for variant in ("tiled", "plain")}))
"""


def test_numba_tiled_peak_memory_does_not_grow_as_t_squared():
    if not AVAILABLE["numba"]:
        pytest.skip(f"numba unavailable: {AVAILABLE['numba'].detail}")
    t = 3072                                  # one (T, T) float32 array: 36 MiB
    square_mib = t * t * 4 / 2**20
    done = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(t)], capture_output=True,
                          text=True, timeout=300, check=True)
    peak = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in peak:
        pytest.skip(peak["skip"])
    tiled_growth, plain_growth = peak["tiled"], peak["plain"]
    print(f"Numba peak RSS growth at T={t}: tiled {tiled_growth:.1f} MiB, "
          f"plain {plain_growth:.1f} MiB (one T x T float32 array is {square_mib:.0f} MiB)")
    assert plain_growth >= square_mib         # the control: the measurement sees P and dS
    assert tiled_growth < square_mib / 4
