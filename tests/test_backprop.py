"""The backprop chapter's layers: gradients checked numerically on every backend, one MLP
giving the same answer on all three, and training that learns."""
from __future__ import annotations

import numpy as np
import pytest

import accel_edu
from accel_edu.backprop import (SGD, Linear, MSELoss, ReLU, Sequential, Sigmoid, SoftmaxCrossEntropy,
                                Tanh, gradient_check, loss_gradient_check, train)
from accel_edu.runtime import available_backends

AVAILABLE = available_backends()
BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not AVAILABLE[b], reason=AVAILABLE[b].detail))
            for b in ("numpy", "numba", "opencl")]


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# Awkward shapes: batch 1, a prime, a size past a power of two.
SHAPES = [(1, 3), (7, 5), (5, 17)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"N{s[0]}xD{s[1]}")
@pytest.mark.parametrize("make", [lambda d, b: Linear(d, 4, seed=1, backend=b),
                                  lambda d, b: Sigmoid(backend=b),
                                  lambda d, b: Tanh(backend=b),
                                  lambda d, b: ReLU(backend=b)],
                         ids=["Linear", "Sigmoid", "Tanh", "ReLU"])
def test_layer_backward_matches_central_differences(make, shape, backend):
    x = _x(shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep ReLU's kink away from the finite-difference step
    result = gradient_check(make(shape[1], backend), x)
    assert result.passed, repr(result)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mlp_backward_matches_central_differences(backend):
    model = Sequential(Linear(6, 9, seed=1), Tanh(), Linear(9, 5, seed=2), Sigmoid(),
                       Linear(5, 3, seed=3), backend=backend)
    result = gradient_check(model, _x((4, 6)))
    assert result.passed, repr(result)
    assert set(result.errors) == {"x", "0.w", "0.b", "2.w", "2.b", "4.w", "4.b"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_loss_gradients_match_central_differences(backend):
    logits = _x((5, 7))
    labels = np.array([0, 6, 3, 3, 1])
    assert loss_gradient_check(SoftmaxCrossEntropy(backend=backend), logits, labels).passed
    assert loss_gradient_check(MSELoss(backend=backend), _x((3, 4)), _x((3, 4), seed=1)).passed


def test_gradient_check_catches_a_wrong_backward():
    class BrokenSigmoid(Sigmoid):
        def backward(self, dy):
            return dy * self.y  # forgot the (1 - y) factor
    result = gradient_check(BrokenSigmoid(), _x((3, 4)))
    assert not result.passed and result.errors["x"] > 1e-2


def test_gradient_check_catches_a_transposed_gradient_that_a_sum_would_miss():
    class TransposedLinear(Linear):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["w"] = self.grads["w"][::-1].copy()  # rows in the wrong order
            return dx
    assert not gradient_check(TransposedLinear(3, 3, seed=0), _x((4, 3))).passed


def _mlp(backend):
    return Sequential(Linear(64, 32, seed=1), ReLU(), Linear(32, 10, seed=2), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_training_step_agrees_with_numpy(backend):
    x = _x((16, 64)).astype(np.float32)
    y = np.arange(16) % 10
    results = {}
    for b in ("numpy", backend):
        model, loss_fn = _mlp(b), SoftmaxCrossEntropy(backend=b)
        loss = loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        SGD(model.parameters(), lr=0.5).step()
        results[b] = (float(accel_edu.to_numpy(loss)), model.state_dict())
    assert results[backend][0] == pytest.approx(results["numpy"][0], rel=1e-5)
    for name, value in results["numpy"][1].items():
        np.testing.assert_allclose(results[backend][1][name], value, rtol=1e-4, atol=1e-5)


def test_opencl_model_keeps_its_data_on_the_device():
    if not AVAILABLE["opencl"]:
        pytest.skip(AVAILABLE["opencl"].detail)
    model, loss_fn = _mlp("opencl"), SoftmaxCrossEntropy(backend="opencl")
    x = accel_edu.to_device(_x((8, 64)).astype(np.float32))
    y = accel_edu.to_device(np.arange(8) % 10)
    accel_edu.reset_transfer_stats()
    for _ in range(3):
        loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        SGD(model.parameters(), lr=0.1).step()
    assert accel_edu.transfer_stats() == {"h2d_count": 0, "h2d_bytes": 0, "d2h_count": 0, "d2h_bytes": 0}
    assert isinstance(model.layers[0].params["w"], accel_edu.DeviceArray)


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_learns_a_separable_problem(backend):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = Sequential(Linear(2, 16, seed=1), Tanh(), Linear(16, 2, seed=2), backend=backend)
    history = train(model, SoftmaxCrossEntropy(backend=backend), x, y, epochs=15, batch_size=32,
                    lr=0.5, x_test=x, y_test=y, progress=False)
    assert len(history.train_loss) == 15
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.test_accuracy[-1] > 0.95


def test_mse_regression_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)).astype(np.float32)
    model = Sequential(Linear(3, 1, seed=0))
    loss_fn = MSELoss()
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        loss = loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        opt.step()
    assert float(loss) < 1e-4


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_cross_entropy_is_finite_for_huge_logits(backend):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=np.float32)
    loss, grad = accel_edu.get_kernel("softmax_cross_entropy")(logits, np.array([1, 2]), backend=backend)
    loss, grad = float(accel_edu.to_numpy(loss)), accel_edu.to_numpy(grad)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(1e4, rel=1e-6)  # row 0 puts all mass on the wrong class
    np.testing.assert_allclose(grad, [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-6)
