"""The RNN chapter's kernels: each cell's backward against central differences of its forward
(float64, every backend), the embedding's scatter-add on repeated indices, and the errors a
student sees. (tests/test_registry.py already checks every backend against NumPy.)"""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop.gradcheck import relative_error
from accel_edu.rnn import kernels as K
from accel_edu.runtime import to_numpy
from float64_backends import FLOAT64_BACKENDS



BACKENDS = FLOAT64_BACKENDS
N, H, EPS = 3, 4, 1e-6


def _numeric_gradient(objective, inputs, name):
    """dL/d inputs[name] by central differences, (L(t + eps) - L(t - eps)) / 2 eps per entry."""
    x = inputs[name]
    grad = np.empty(x.shape)
    for flat in range(x.size):
        values = []
        for step in (EPS, -EPS):
            bumped = dict(inputs)
            bumped[name] = x.copy()
            bumped[name].reshape(-1)[flat] += step
            values.append(objective(**bumped))
        grad.reshape(-1)[flat] = (values[0] - values[1]) / (2 * EPS)
    return grad


def _check(objective, inputs, analytic):
    # (The kernels are called with positional arrays: the registry moves those to the device.)
    """Every analytic gradient (by input name) within 1e-7 of its central difference."""
    errors = {name: relative_error(np.asarray(g), _numeric_gradient(objective, inputs, name))
              for name, g in analytic.items()}
    assert all(e < 1e-7 for e in errors.values()), errors


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_cell_gradient(backend, rng):
    inputs = dict(x_gates=rng.standard_normal((N, H)), h_gates=rng.standard_normal((N, H)))
    g = rng.standard_normal((N, H))       # a random upstream gradient: L = sum(h * g)

    def objective(x_gates, h_gates):
        return float(np.sum(to_numpy(K.rnn_cell_forward(x_gates, h_gates, backend=backend)) * g))

    h = K.rnn_cell_forward(*inputs.values(), backend=backend)
    dgates = to_numpy(K.rnn_cell_backward(g, h, backend=backend))
    _check(objective, inputs, dict(x_gates=dgates, h_gates=dgates))


@pytest.mark.parametrize("backend", BACKENDS)
def test_lstm_cell_gradient(backend, rng):
    inputs = dict(x_gates=rng.standard_normal((N, 4 * H)), h_gates=rng.standard_normal((N, 4 * H)),
                  c_prev=rng.standard_normal((N, H)))
    gh, gc = rng.standard_normal((N, H)), rng.standard_normal((N, H))   # L = sum(h gh + c gc)

    def objective(x_gates, h_gates, c_prev):
        h, c, _ = K.lstm_cell_forward(x_gates, h_gates, c_prev, backend=backend)
        return float(np.sum(to_numpy(h) * gh) + np.sum(to_numpy(c) * gc))

    h, c, gates = K.lstm_cell_forward(*inputs.values(), backend=backend)
    dgates, dc_prev = K.lstm_cell_backward(gh, gc, gates, inputs["c_prev"], c, backend=backend)
    dgates = to_numpy(dgates)
    _check(objective, inputs, dict(x_gates=dgates, h_gates=dgates, c_prev=to_numpy(dc_prev)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gru_cell_gradient(backend, rng):
    """h_prev reaches h directly (z * h_prev) and, in a layer, through h_gates = h_prev @ W_hh.T;
    this checks the direct part, with h_gates an independent input."""
    inputs = dict(x_gates=rng.standard_normal((N, 3 * H)), h_gates=rng.standard_normal((N, 3 * H)),
                  b_hh=rng.standard_normal(3 * H), h_prev=rng.standard_normal((N, H)))
    g = rng.standard_normal((N, H))

    def objective(x_gates, h_gates, b_hh, h_prev):
        h, _ = K.gru_cell_forward(x_gates, h_gates, b_hh, h_prev, backend=backend)
        return float(np.sum(to_numpy(h) * g))

    _, saved = K.gru_cell_forward(*inputs.values(), backend=backend)
    dx_gates, dh_gates, dh_direct = (to_numpy(a) for a in
                                     K.gru_cell_backward(g, saved, inputs["h_prev"], backend=backend))
    _check(objective, inputs, dict(x_gates=dx_gates, h_gates=dh_gates, b_hh=dh_gates.sum(axis=0),
                                   h_prev=dh_direct))


@pytest.mark.parametrize("backend", BACKENDS)
def test_embedding_gradient_accumulates_repeated_indices(backend, rng):
    """Token 2 appears three times and token 0 never: its row of dweight is zero."""
    weight = rng.standard_normal((4, 5))
    indices = np.array([[2, 1], [2, 3], [2, 1]])
    dy = rng.standard_normal((3, 2, 5))
    y = to_numpy(K.embedding_forward(weight, indices, backend=backend))
    np.testing.assert_array_equal(y[1, 0], weight[2])
    dweight = to_numpy(K.embedding_backward(dy, indices, 4, backend=backend))
    np.testing.assert_allclose(dweight[2], dy[0, 0] + dy[1, 0] + dy[2, 0], rtol=1e-12)
    np.testing.assert_allclose(dweight[1], dy[0, 1] + dy[2, 1], rtol=1e-12)
    np.testing.assert_array_equal(dweight[0], 0)

    def objective(weight):
        return float(np.sum(to_numpy(K.embedding_forward(weight, indices, backend=backend)) * dy))

    _check(objective, dict(weight=weight), dict(weight=dweight))


# -- the errors a student sees --------------------------------------------------------------

def _f(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize("call, match", [
    (lambda: K.lstm_cell_forward(_f(2, 10), _f(2, 10), _f(2, 2)), r"x_gates must have shape \(N, 4 \* H\)"),
    (lambda: K.lstm_cell_forward(_f(2, 8), _f(3, 8), _f(2, 2)), r"h_gates must have shape \(2, 8\)"),
    (lambda: K.lstm_cell_forward(_f(2, 8), _f(2, 8), _f(2, 3)), r"c_prev must have shape \(2, 2\)"),
    (lambda: K.lstm_cell_forward(_f(2, 8), _f(2, 8).astype(np.float64), _f(2, 2)), "h_gates must have the same dtype"),
    (lambda: K.lstm_cell_backward(_f(2, 2), _f(2, 2), _f(2, 6), _f(2, 2), _f(2, 2)), r"gates must have shape \(2, 8\)"),
    (lambda: K.gru_cell_forward(_f(2, 6), _f(2, 6), _f(3), _f(2, 2)), r"b_hh must have shape \(6,\)"),
    (lambda: K.gru_cell_backward(_f(2, 2), _f(2, 6), _f(2, 2)), r"saved must have shape \(2, 8\)"),
    (lambda: K.rnn_cell_backward(_f(2, 3), _f(3, 2)), r"h must have shape \(2, 3\)"),
    (lambda: K.rnn_cell_forward(np.zeros((2, 3), np.int64), _f(2, 3)), "x_gates must have dtype"),
    (lambda: K.embedding_forward(_f(4, 3), np.array([0, 4])), r"indices must lie in \[0, 4\).*found 4"),
    (lambda: K.embedding_forward(_f(4, 3), np.array([0.0, 1.0])), "indices must be an integer array"),
    (lambda: K.embedding_backward(_f(3, 2), np.array([0, 1]), 4), r"dy must have shape \(2,\) \+ \(D,\)"),
    (lambda: K.embedding_backward(_f(2, 2), np.array([0, 1]), 0), "num_embeddings must be a positive int"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
