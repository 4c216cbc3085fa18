"""Walk the kernel registry: every kernel on every backend agrees with the NumPy reference.

Nobody writes this test again for a new kernel: registering it with ``cases`` is enough.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import accel_edu.chapters  # noqa: F401  (imports every chapter, which registers its kernels)
from accel_edu.runtime import BACKENDS, REGISTRY, available_backends, to_numpy
from accel_edu.runtime.opencl import supports_fp64

AVAILABLE = available_backends()


def _impls():
    for name, kernel in sorted(REGISTRY.items()):
        for backend in BACKENDS:
            for variant in kernel.variants(backend):
                yield pytest.param(name, backend, variant, id=f"{name}-{backend}-{variant}")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_kernel_has_every_backend(name):
    kernel = REGISTRY[name]
    assert kernel.backends() == list(BACKENDS), f"{name} is missing a backend: has {kernel.backends()}"
    assert kernel.cases is not None, f"{name} has no cases for the cross-backend check"


def _as_list(out):
    return list(out) if isinstance(out, tuple) else [out]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, backend, variant", list(_impls()))
def test_agrees_with_numpy(name, backend, variant, dtype):
    if not AVAILABLE[backend]:
        pytest.skip(f"{backend} unavailable: {AVAILABLE[backend].detail}")
    if backend == "opencl" and dtype == np.float64 and not supports_fp64():
        pytest.skip("this OpenCL device has no float64")
    kernel = REGISTRY[name]
    rtol = kernel.rtol[dtype]
    rng = np.random.default_rng(1234)
    ran = 0
    for case in kernel.cases(rng, dtype):
        want_args = copy.deepcopy(case.args)
        got_args = copy.deepcopy(case.args)
        want = _as_list(kernel(*want_args, backend="numpy", **case.kwargs))
        got = _as_list(kernel(*got_args, backend=backend, variant=variant, **case.kwargs))
        # In-place arguments are outputs too.
        want += [want_args[i] for i in kernel.inplace]
        got += [got_args[i] for i in kernel.inplace]
        assert len(got) == len(want), f"{case.label}: {len(got)} outputs, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            g = to_numpy(g)
            assert g.shape == np.shape(w), f"{case.label}: output {i} has shape {g.shape}, expected {np.shape(w)}"
            assert g.dtype == np.asarray(w).dtype, f"{case.label}: output {i} has dtype {g.dtype}"
            if g.dtype.kind in "iu":  # indices (maxpool's argmax): the same element, exactly
                np.testing.assert_array_equal(g, w, err_msg=f"{name}[{backend}/{variant}] {case.label}, output {i}")
                continue
            scale = max(float(np.max(np.abs(w))) if np.size(w) else 0.0, 1.0)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale,
                                       err_msg=f"{name}[{backend}/{variant}] {case.label}, output {i}")
        ran += 1
    assert ran > 0
