"""The three backends as pytest parameters for float64 tests (gradient checks, oracles): each
skips, saying why, where its backend is missing or the OpenCL device has no float64."""
from __future__ import annotations

import pytest

from accel_edu.runtime import available_backends
from accel_edu.runtime.opencl import supports_fp64

AVAILABLE = available_backends()


def _skip(backend: str):
    if not AVAILABLE[backend]:
        return pytest.mark.skip(reason=AVAILABLE[backend].detail)
    if backend == "opencl" and not supports_fp64():
        return pytest.mark.skip(reason="this OpenCL device has no float64")
    return []


FLOAT64_BACKENDS = [pytest.param(b, marks=_skip(b)) for b in ("numpy", "numba", "opencl")]
