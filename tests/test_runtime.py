"""The runtime: choosing a backend, device arrays, counted transfers, the registry's own rules."""
from __future__ import annotations

import numpy as np
import pytest

import accel_edu
from accel_edu.runtime import Kernel, REGISTRY, available_backends, current_backend, use
from accel_edu.runtime import opencl as ocl
from accel_edu.runtime.registry import Case

OPENCL = available_backends()["opencl"]
needs_opencl = pytest.mark.skipif(not OPENCL, reason=f"OpenCL unavailable: {OPENCL.detail}")


def test_default_backend_is_numpy(monkeypatch):
    monkeypatch.delenv("ACCEL_EDU_BACKEND", raising=False)
    assert current_backend() == "numpy"


def test_environment_variable_then_context_then_argument(monkeypatch):
    monkeypatch.setenv("ACCEL_EDU_BACKEND", "numba")
    assert current_backend() == "numba"
    with use("opencl"):
        assert current_backend() == "opencl"
        with use("numpy"):
            assert current_backend() == "numpy"
        assert current_backend() == "opencl"
    assert current_backend() == "numba"


def test_bad_backend_names_are_explained(monkeypatch):
    with pytest.raises(ValueError, match="backend must be one of numpy, numba, opencl; got 'cuda'"):
        with use("cuda"):
            pass
    monkeypatch.setenv("ACCEL_EDU_BACKEND", "tpu")
    with pytest.raises(ValueError, match="ACCEL_EDU_BACKEND must be one of"):
        current_backend()


def test_available_backends_reports_each_with_a_reason():
    info = available_backends()
    assert list(info) == ["numpy", "numba", "opencl"]
    for name, a in info.items():
        assert a.name == name and isinstance(a.detail, str) and a.detail
    assert info["numpy"].available


def test_kernel_dispatch_runs_the_shared_check_for_every_backend():
    calls = []

    def check(x):
        if x.ndim != 1:
            raise ValueError(f"x must be 1-D; got shape {x.shape}")

    k = Kernel("_test_double", check, lambda rng, dtype: [Case("one", (np.ones(3, dtype),))])
    try:
        k.implement("numpy", lambda x: calls.append("numpy") or 2 * x)
        k.implement("numba", lambda x: calls.append("numba") or 2 * x)
        np.testing.assert_array_equal(k(np.ones(2)), [2, 2])
        np.testing.assert_array_equal(k(np.ones(2), backend="numba"), [2, 2])
        assert calls == ["numpy", "numba"]
        for backend in ("numpy", "numba"):
            with pytest.raises(ValueError, match="x must be 1-D"):
                k(np.ones((2, 2)), backend=backend)
        with pytest.raises(NotImplementedError, match="no opencl implementation"):
            k(np.ones(2), backend="opencl")
        with pytest.raises(ValueError, match="variant must be one of default"):
            k(np.ones(2), backend="numpy", variant="fast")
    finally:
        del REGISTRY["_test_double"]


def test_registering_a_name_twice_is_an_error():
    import accel_edu.chapters  # noqa: F401  registers gemm
    with pytest.raises(ValueError, match="registered twice"):
        Kernel("gemm", lambda *a: None)


@needs_opencl
def test_device_arrays_round_trip_and_transfers_are_counted():
    accel_edu.reset_transfer_stats()
    x = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # non-contiguous
    d = accel_edu.to_device(x)
    assert d.shape == (3, 2) and d.dtype == np.float32
    np.testing.assert_array_equal(accel_edu.to_numpy(d), x)
    stats = accel_edu.transfer_stats()
    assert stats == {"h2d_count": 1, "h2d_bytes": x.nbytes, "d2h_count": 1, "d2h_bytes": x.nbytes}
    assert accel_edu.to_device(d) is d  # already there: no copy
    assert accel_edu.transfer_stats()["h2d_count"] == 1


@needs_opencl
def test_programs_are_built_once_per_source_and_defines():
    src = "__kernel void k(__global real* x) { x[get_global_id(0)] *= 2; }"
    p1 = ocl.build(src, real="float")
    assert ocl.build(src, real="float") is p1
    assert ocl.build(src, real="double") is not p1


@needs_opencl
def test_device_array_copy_and_reshape():
    d = accel_edu.to_device(np.arange(6, dtype=np.float32))
    e = d.copy()
    assert e.buffer is not d.buffer
    np.testing.assert_array_equal(e.reshape(2, 3).numpy(), np.arange(6).reshape(2, 3))
    with pytest.raises(ValueError):
        d.reshape(4, 2)


@needs_opencl
def test_pyopencl_ctx_that_names_nothing_is_explained(monkeypatch):
    monkeypatch.setenv("PYOPENCL_CTX", "99:0")
    with pytest.raises(ValueError, match="PYOPENCL_CTX='99:0' does not name"):
        ocl._choose_device()


class _FakeDevice:
    def __init__(self, name):
        self.name = name


class _FakePlatform:
    def __init__(self, version, devices):
        self.version, self.devices = version, devices

    def get_devices(self):
        return self.devices


def test_a_device_whose_compiler_fails_is_skipped_and_named(monkeypatch):
    """pyopencl's bundled PoCL 3.0 lists a CPU device it cannot compile for on CPUs newer than
    its LLVM (Zen 5): the chooser takes the next device, and says why when none is left."""
    pytest.importorskip("pyopencl")
    broken, working = _FakeDevice("pthread-old-llvm"), _FakeDevice("pthread-new-llvm")
    problems = {broken: "error: unknown target CPU 'generic'", working: ""}
    monkeypatch.delenv("PYOPENCL_CTX", raising=False)
    monkeypatch.setattr(ocl, "compiler_problem", problems.__getitem__)
    platforms = [_FakePlatform("PoCL 3.0", [broken]), _FakePlatform("PoCL 3.1", [working])]
    monkeypatch.setattr(ocl._cl(), "get_platforms", lambda: platforms)
    assert ocl._choose_device() is working
    platforms.pop()
    with pytest.raises(RuntimeError, match=r"pthread-old-llvm \(PoCL 3.0\): error: unknown target CPU "
                                           r"'generic'.*apt-get install pocl-opencl-icd"):
        ocl._choose_device()


def test_the_chosen_device_compiles():
    if not available_backends()["opencl"]:
        pytest.skip("no usable OpenCL device here")
    assert ocl.compiler_problem(ocl.default_device()) == ""
