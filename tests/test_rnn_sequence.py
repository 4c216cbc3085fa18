"""The fused whole-sequence LSTM (``LSTM(..., backend="numba", fused=True)``, kernels in
``accel_edu/rnn/numba_sequence.py``) against the NumPy layer: every output and gradient, on
awkward sizes (H not a multiple of the 16-unit tile, a batch that is not a multiple of the
4-row tile, batch 1, T = 1), with truncation, a gradient check, and the batch split over
threads changing no bit of the result."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import gradient_check
from accel_edu.rnn import LSTM
from accel_edu.rnn import numba_sequence as S
from accel_edu.runtime import available_backends

pytestmark = pytest.mark.skipif(not available_backends()["numba"], reason="Numba is not available")

# (T, N, D, H): H = 6 and 33 leave a partial 16-unit tile, N = 9 splits 4 + 5 over two threads
SHAPES = [(7, 3, 5, 6), (1, 1, 3, 17), (5, 9, 4, 33), (3, 1, 2, 1)]


def _inputs(shape, dtype, seed=0):
    t_len, n, d, hidden = shape
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal((t_len, n, d)), rng.standard_normal((t_len, n, hidden))
    h0, c0 = rng.standard_normal((n, hidden)), rng.standard_normal((n, hidden))
    return [a.astype(dtype) for a in (x, dy, h0, c0)]


def _everything(layer, x, dy, h0, c0, need_dx=True):
    out = {"y": np.array(layer.forward(x, h0, c0))}
    dx = layer.backward(dy, need_dx=need_dx)
    out.update(dx=dx, h_n=layer.h_n, c_n=layer.c_n, dh0=layer.dh0, dc0=layer.dc0)
    out.update({f"grad {k}": v for k, v in layer.grads.items()})
    return {k: None if v is None else np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}-N{}-D{}-H{}".format(*s))
@pytest.mark.parametrize("bptt", [None, 2], ids=["full", "bptt2"])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)], ids=["float64", "float32"])
def test_fused_equals_the_numpy_layer(shape, bptt, dtype, rtol):
    """Outputs, final states, and the input, initial-state, weight and bias gradients."""
    d, hidden = shape[2], shape[3]
    args = _inputs(shape, dtype)
    want = _everything(LSTM(d, hidden, bptt=bptt, seed=3, dtype=dtype, backend="numpy"), *args)
    got = _everything(LSTM(d, hidden, bptt=bptt, seed=3, dtype=dtype, backend="numba", fused=True), *args)
    assert set(got) == set(want)
    for name in want:
        assert got[name].dtype == dtype, name
        scale = np.abs(want[name]).max()
        np.testing.assert_allclose(got[name], want[name], rtol=rtol, atol=rtol * scale, err_msg=name)


def test_fused_truncation_is_not_full_backpropagation():
    """bptt=2 must change the input gradient of the early steps (the cut is really made)."""
    args = _inputs((6, 3, 4, 5), np.float64)
    full = _everything(LSTM(4, 5, seed=1, dtype=np.float64, backend="numba", fused=True), *args)
    cut = _everything(LSTM(4, 5, bptt=2, seed=1, dtype=np.float64, backend="numba", fused=True), *args)
    np.testing.assert_array_equal(cut["y"], full["y"])
    assert not np.allclose(cut["dx"][:4], full["dx"][:4])
    np.testing.assert_allclose(cut["dx"][4:], full["dx"][4:], rtol=1e-12)   # the last chunk: whole


def test_fused_passes_the_gradient_check():
    x = np.random.default_rng(2).standard_normal((4, 5, 3))
    result = gradient_check(LSTM(3, 18, seed=1, dtype=np.float64, backend="numba", fused=True), x)
    assert result.passed, result.errors


def test_fused_without_dx_changes_no_other_gradient():
    args = _inputs((5, 6, 4, 7), np.float32)
    full = _everything(LSTM(4, 7, bptt=2, seed=2, backend="numba", fused=True), *args)
    part = _everything(LSTM(4, 7, bptt=2, seed=2, backend="numba", fused=True), *args, need_dx=False)
    assert part.pop("dx") is None and full.pop("dx") is not None
    for name in full:
        np.testing.assert_array_equal(part[name], full[name], err_msg=name)


@pytest.mark.parametrize("n", [8, 13])
def test_splitting_the_batch_over_threads_changes_no_bit(n):
    """Batch rows are independent sequences: one thread or two slices, the same bits."""
    t_len, d, hidden = 4, 3, 20
    rng = np.random.default_rng(4)
    x = rng.standard_normal((t_len, n, d)).astype(np.float32)
    dy = rng.standard_normal((t_len, n, hidden)).astype(np.float32)
    w_ih, w_hh = rng.standard_normal((4 * hidden, d)).astype(np.float32), rng.standard_normal((4 * hidden, hidden)).astype(np.float32)
    bias = rng.standard_normal(4 * hidden).astype(np.float32)
    results = []
    for threads in (1, 2):
        states, cells = np.zeros((t_len + 1, n, hidden), np.float32), np.zeros((t_len + 1, n, hidden), np.float32)
        gates, dgates = np.empty((t_len, n, 4 * hidden), np.float32), np.empty((t_len, n, 4 * hidden), np.float32)
        dh0, dc0 = np.empty((n, hidden), np.float32), np.empty((n, hidden), np.float32)
        S.lstm_sequence_forward(x, w_ih, w_hh, bias, states, cells, gates, threads=threads)
        S.lstm_sequence_backward(dy, gates, cells, w_hh, dgates, dh0, dc0, bptt=3, threads=threads)
        results.append((states, cells, gates, dgates, dh0, dc0))
    assert S._parts(n, 2) == 2
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_gate_panels_hold_the_four_gates_of_sixteen_units_side_by_side():
    hidden, k = 20, 3
    w = np.arange(4 * hidden * k, dtype=np.float32).reshape(4 * hidden, k)
    panels = S.pack_gate_panels(w, hidden)
    assert panels.shape == (2, k, 64)
    for gate in range(4):
        np.testing.assert_array_equal(panels[0, :, 16 * gate:16 * gate + 16], w[gate * hidden:gate * hidden + 16].T)
        np.testing.assert_array_equal(panels[1, :, 16 * gate:16 * gate + 4], w[gate * hidden + 16:(gate + 1) * hidden].T)
        assert not panels[1, :, 16 * gate + 4:16 * gate + 16].any()     # past H: zeros


@pytest.mark.parametrize("make, match", [
    (lambda: LSTM(3, 4, fused=True, gemm_backend="numpy"), "fused=True runs its own GEMMs"),
    (lambda: LSTM(3, 4, fused="yes"), "fused must be True or False"),
    (lambda: LSTM(3, 4, backend="numpy", fused=True).forward(np.zeros((2, 1, 3), np.float32)),
     "the layer's backend must be numba; got 'numpy'"),
    (lambda: LSTM(3, 4, backend="numba", fused=True).forward(np.zeros((2, 1, 5), np.float32)),
     r"x must have shape \(T, N, 3\)"),
    (lambda: LSTM(3, 4, backend="numba", fused=True).forward(np.zeros((2, 1, 3), np.float32), np.zeros((2, 4))),
     r"h0 must have shape \(N, H\) = \(1, 4\); got \(2, 4\)"),
])
def test_bad_options_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()
