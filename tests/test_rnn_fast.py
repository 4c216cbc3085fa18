"""The sequence layers' speed options compute what the reference does: ``gemm_backend="numpy"``
(OpenBLAS GEMMs under the Numba cells), ``backward(dy, need_dx=False)``, and the Numba cells'
vectorisable float32 tanh."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import gradient_check
from accel_edu.rnn import GRU, LSTM, RNN
from accel_edu.rnn import kernels as K
from accel_edu.runtime import available_backends, to_numpy

AVAILABLE = available_backends()
needs_numba = pytest.mark.skipif(not AVAILABLE["numba"], reason="Numba is not available")
LAYERS = [RNN, LSTM, GRU]
T, N, D, H = 7, 3, 5, 6


def _everything(layer, x, dy, h0, c0, need_dx=True):
    """Every number a forward + backward produces, on the host, by name."""
    state = dict(h0=h0) if c0 is None else dict(h0=h0, c0=c0)
    out = {"y": layer.forward(x, **state)}
    out["dx"] = layer.backward(dy, need_dx=need_dx)
    out.update(h_n=layer.h_n, dh0=layer.dh0, **{f"grad {k}": v for k, v in layer.grads.items()})
    if isinstance(layer, LSTM):
        out.update(c_n=layer.c_n, dc0=layer.dc0)
    return {k: None if v is None else to_numpy(v).copy() for k, v in out.items()}


def _inputs(layer, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, D)).astype(dtype)
    dy = rng.standard_normal((T, N, H)).astype(dtype)
    h0 = rng.standard_normal((N, H)).astype(dtype)
    c0 = rng.standard_normal((N, H)).astype(dtype) if layer is LSTM else None
    return x, dy, h0, c0


@needs_numba
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bptt", [None, 3], ids=["full", "bptt3"])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)], ids=["float64", "float32"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_openblas_gemms_agree_with_the_reference(layer, bptt, dtype, rtol, backend):
    """gemm_backend="numpy" changes where the GEMMs run, not what is computed: outputs, final
    states, and the input, initial-state and every weight gradient equal the NumPy layer's."""
    args = _inputs(layer, dtype)
    want = _everything(layer(D, H, bptt=bptt, seed=4, dtype=dtype, backend="numpy"), *args)
    fast = layer(D, H, bptt=bptt, seed=4, dtype=dtype, backend=backend, gemm_backend="numpy")
    got = _everything(fast, *args)
    assert set(got) == set(want)
    for name in want:
        scale = np.abs(want[name]).max()
        np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=rtol * scale, err_msg=name)


@needs_numba
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
def test_openblas_configuration_passes_the_gradient_check(layer):
    x = np.random.default_rng(2).standard_normal((4, 2, 3))
    result = gradient_check(layer(3, 4, seed=1, dtype=np.float64, backend="numba", gemm_backend="numpy"), x)
    assert result.passed, result.errors


@pytest.mark.parametrize("backend", [b for b in ("numpy", "numba", "opencl") if AVAILABLE[b]])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
def test_backward_without_dx_changes_no_other_gradient(layer, backend):
    """need_dx=False returns None and skips only the input gradient's GEMM."""
    args = _inputs(layer, np.float32)
    full = _everything(layer(D, H, bptt=2, seed=3, backend=backend), *args)
    part = _everything(layer(D, H, bptt=2, seed=3, backend=backend), *args, need_dx=False)
    assert part.pop("dx") is None and full.pop("dx") is not None
    for name in full:
        np.testing.assert_array_equal(part[name], full[name], err_msg=name)


@needs_numba
def test_float32_tanh_of_the_numba_cells_is_accurate():
    """The Numba cells' float32 tanh is a rational approximation (it vectorises; libm's does
    not): within 5e-7 of the exact tanh everywhere, saturating to exactly +-1 far out."""
    u = np.concatenate([np.linspace(-12, 12, 48001), [-1e4, -40, -8, 8, 40, 1e4, 0.0]])
    u = u.astype(np.float32).reshape(1, -1)
    got = K.rnn_cell_forward(u, np.zeros_like(u), backend="numba")
    exact = np.tanh(u.astype(np.float64))
    assert np.abs(got - exact).max() < 5e-7
    assert np.array_equal(got[0, -7:], [-1, -1, -1, 1, 1, 1, 0])
    assert np.all(np.abs(got) <= 1)


@pytest.mark.parametrize("make, match", [
    (lambda: LSTM(3, 4, gemm_backend="openblas"), "gemm_backend must be None"),
    (lambda: RNN(3, 4, gemm_backend="numba"), "gemm_backend must be None"),
])
def test_bad_gemm_backend_is_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.skipif(not AVAILABLE["opencl"], reason="OpenCL is not available")
def test_openblas_gemms_need_a_host_backend():
    layer = GRU(3, 4, backend="opencl", gemm_backend="numpy")
    with pytest.raises(ValueError, match="gemm_backend='numpy' needs a host backend"):
        layer.forward(np.zeros((2, 1, 3), np.float32))


@needs_numba
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
def test_openblas_configuration_runs_no_registered_gemm(layer, monkeypatch):
    """With gemm_backend="numpy" every GEMM is NumPy's: the registered (Numba) GEMM kernels
    are never called, so the benchmark's row measures what its name says."""
    from accel_edu.backprop import kernels as B

    def refuse(*args, **kwargs):
        raise AssertionError("a registered GEMM kernel ran")
    fast = layer(D, H, seed=1, backend="numba", gemm_backend="numpy")
    monkeypatch.setattr(B, "gemm", refuse)
    monkeypatch.setattr(B, "linear_forward", refuse)
    x, dy, h0, c0 = _inputs(layer, np.float32)
    fast.forward(x)
    assert fast.backward(dy).shape == x.shape
    slow = layer(D, H, seed=1, backend="numba")
    with pytest.raises(AssertionError, match="registered GEMM"):
        slow.forward(x)
