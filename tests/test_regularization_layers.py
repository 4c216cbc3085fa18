"""Regularization chapter, layers: batch norm, penalties, early stopping, and train() with them.

Gradient checks on every backend for batch norm on awkward shapes, training vs evaluation
mode, PyTorch's running-statistics convention (and PyTorch itself, when installed), batch
norm's hard inputs, zero transfers per step on OpenCL, and the hyper-parameter errors.
"""
from __future__ import annotations

import numpy as np
import pytest

import accel_edu
from accel_edu.backprop import Linear, ReLU, Sequential, SGD, SoftmaxCrossEntropy, gradient_check, train
from accel_edu.regularization import (BatchNorm1d, BatchNorm2d, Dropout, EarlyStopping, L1Penalty,
                                      L2Penalty, kernels as K)
from accel_edu.runtime import BACKENDS, available_backends, to_numpy

AVAILABLE = available_backends()
backends = pytest.mark.parametrize("backend", BACKENDS)


def _need(backend):
    if not AVAILABLE[backend]:
        pytest.skip(f"{backend} unavailable: {AVAILABLE[backend].detail}")


def _x(shape, seed=0, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale + shift


@backends
@pytest.mark.parametrize("layer, shape", [(BatchNorm1d(7), (5, 7)), (BatchNorm1d(11), (3, 11)),
                                          (BatchNorm2d(3), (2, 3, 4, 5)), (BatchNorm2d(2), (1, 2, 3, 3))],
                         ids=["1d-5x7", "1d-3x11", "2d-2x3x4x5", "2d-batch1"])
def test_batchnorm_gradient_check(backend, layer, shape):
    _need(backend)
    layer = layer.to(backend).train()
    layer.params["gamma"] = layer._here(_x(shape[1], seed=1).astype(np.float32) + 1)
    layer.params["beta"] = layer._here(_x(shape[1], seed=2).astype(np.float32))
    # x from another seed than gradient_check's upstream gradient g (seed 0): with g = x, the
    # loss sum(y * g) is at a stationary point and every true gradient is ~0.
    result = gradient_check(layer, _x(shape, seed=5, scale=2.0, shift=0.5))
    assert result.passed, result


@backends
def test_batchnorm_training_normalises_and_eval_uses_running_statistics(backend):
    _need(backend)
    x = _x((16, 4), scale=3.0, shift=5.0).astype(np.float32)
    bn = BatchNorm1d(4, momentum=0.1, backend=backend)
    y = to_numpy(bn.forward(x))
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=0), 1, rtol=1e-3)
    # PyTorch's convention: the running variance is the unbiased batch variance.
    state = bn.state_dict()
    np.testing.assert_allclose(state["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(state["running_var"], 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-5)
    bn.eval()
    y_eval = to_numpy(bn.forward(x))
    want = (x - state["running_mean"]) / np.sqrt(state["running_var"] + 1e-5)
    np.testing.assert_allclose(y_eval, want, rtol=1e-4, atol=1e-5)
    assert bn.cache is None
    with pytest.raises(RuntimeError, match="training-mode forward"):
        bn.backward(y_eval)


def test_sequential_train_and_eval_reach_every_layer():
    model = Sequential(Linear(4, 4), BatchNorm1d(4), ReLU(), Dropout(0.5))
    model.eval()
    assert not any(layer.training for layer in model.layers) and not model.training
    model.train()
    assert all(layer.training for layer in model.layers)


@backends
def test_batchnorm_hard_inputs_stay_finite_or_fail_clearly(backend):
    _need(backend)
    bn = BatchNorm1d(3, backend=backend)
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn.forward(np.ones((1, 3), np.float32))
    bn.eval()
    assert np.isfinite(to_numpy(bn.forward(np.ones((1, 3), np.float32)))).all()  # inference: fine
    bn.train()
    constant = np.full((8, 3), 4.25, np.float32)   # zero variance: y = beta, dx = 0
    y = to_numpy(bn.forward(constant))
    dx = to_numpy(bn.backward(np.ones_like(constant)))
    np.testing.assert_allclose(y, 0, atol=1e-6)
    assert np.isfinite(dx).all() and np.abs(dx).max() < 1e-3
    huge = _x((32, 3), scale=1e6, shift=3e6).astype(np.float32)
    y = to_numpy(bn.forward(huge))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-3)
    pair = np.array([[0, 1, 2], [3, -1, 5]], np.float32)  # two values: x_hat = -1, +1 whatever x is,
    np.testing.assert_allclose(np.abs(to_numpy(bn.forward(pair))), 1, rtol=1e-3)  # so dx ~ 0
    assert np.abs(to_numpy(bn.backward(np.ones_like(pair)))).max() < 1e-3
    bn2 = BatchNorm2d(2, backend=backend)       # batch 1 of an image still has H * W values
    assert np.isfinite(to_numpy(bn2.forward(_x((1, 2, 3, 3)).astype(np.float32)))).all()


def test_batchnorm_state_dict_round_trips_running_statistics():
    bn = BatchNorm2d(3)
    bn.forward(_x((4, 3, 2, 2)).astype(np.float32))
    state = bn.state_dict()
    assert set(state) == {"gamma", "beta", "running_mean", "running_var"}
    fresh = BatchNorm2d(3)
    fresh.load_state_dict(state)
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, state[name])


def test_bad_batchnorm_hyper_parameters_are_rejected():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        BatchNorm1d(3, eps=0)
    with pytest.raises(ValueError, match="eps must be"):
        K.batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), -1e-5)
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        K.batchnorm_forward(np.ones((2, 3)), np.ones(4), np.zeros(3))
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\)"):
        BatchNorm2d(3).forward(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="count must be an integer >= 2"):
        K.batchnorm_running_update(np.zeros(2), np.ones(2), np.zeros(2), np.ones(2), 0.1, 1)


def test_batchnorm_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = _x((6, 3, 4, 5), scale=2.0, shift=1.0)
    gamma, beta, dy = _x(3, seed=1), _x(3, seed=2), _x(x.shape, seed=3)
    bn = BatchNorm2d(3, dtype=np.float64)
    bn.params = {"gamma": gamma.copy(), "beta": beta.copy()}
    y = bn.forward(x)
    dx = bn.backward(dy)
    tbn = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(gamma))
        tbn.bias.copy_(torch.from_numpy(beta))
    tx = torch.from_numpy(x).requires_grad_()
    ty = tbn(tx)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], tbn.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.grads["beta"], tbn.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.buffers["running_mean"], tbn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], tbn.running_var.numpy(), rtol=1e-12)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn.forward(x), tbn(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


# -- penalties -------------------------------------------------------------------------------

@backends
def test_penalties_add_their_gradient_to_weights_only(backend):
    _need(backend)
    model = Sequential(Linear(5, 4, seed=1), BatchNorm1d(4), ReLU(), Linear(4, 3, seed=2), backend=backend)
    x, y = _x((6, 5)).astype(np.float32), np.arange(6) % 3
    loss_fn = SoftmaxCrossEntropy(backend=backend)
    loss_fn(model.forward(x), y)
    model.backward(loss_fn.backward())
    before = {k: to_numpy(v).copy() for k, v in model.grads.items()}
    weights = model.state_dict()
    L2Penalty(0.1)(model)
    L1Penalty(0.01)(model)
    after = {k: to_numpy(v) for k, v in model.grads.items()}
    for name, grad in after.items():
        if name.endswith(".w"):
            want = before[name] + 0.1 * weights[name] + 0.01 * np.sign(weights[name])
            np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-7, err_msg=name)
        else:  # biases, gamma and beta are not penalised
            np.testing.assert_array_equal(grad, before[name], err_msg=name)
    w_all = [weights["0.w"], weights["3.w"]]
    assert L2Penalty(0.1).value(model) == pytest.approx(0.05 * sum((w.astype(np.float64) ** 2).sum() for w in w_all), rel=1e-5)
    assert L1Penalty(0.1).value(model) == pytest.approx(0.1 * sum(np.abs(w).sum() for w in w_all), rel=1e-5)


@pytest.mark.parametrize("lam", [-1e-3, float("inf"), None])
def test_negative_penalty_strength_is_rejected(lam):
    with pytest.raises(ValueError, match="lam must be a finite penalty strength >= 0"):
        L2Penalty(lam)
    with pytest.raises(ValueError, match="lam must be"):
        K.l1_penalty_grad(np.zeros(3), np.ones(3), lam)


def test_l2_penalty_shrinks_the_weights_train_learns():
    x = _x((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    norms = {}
    for lam in (0.0, 0.05):
        model = Sequential(Linear(8, 16, seed=3), ReLU(), Linear(16, 2, seed=4))
        train(model, SoftmaxCrossEntropy(), x, y, epochs=15, batch_size=16, lr=0.2,
              penalty=L2Penalty(lam), progress=False)
        norms[lam] = sum(float((w ** 2).sum()) for k, w in model.state_dict().items() if k.endswith(".w"))
    assert norms[0.05] < 0.8 * norms[0.0]


# -- early stopping --------------------------------------------------------------------------

def test_early_stopping_rule():
    stopper = EarlyStopping(patience=2, min_delta=0.01, mode="min")
    decisions = [stopper.step(v, epoch) for epoch, v in enumerate([1.0, 0.8, 0.795, 0.79, 0.5], 1)]
    # 0.795 and 0.79 are within min_delta of 0.8: two bad epochs, stop at epoch 4.
    assert decisions == [False, False, False, True, False]
    assert stopper.best == 0.5 and stopper.best_epoch == 5
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode must be 'min'"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="min_delta must be a finite number >= 0"):
        EarlyStopping(min_delta=-1)


def test_early_stopping_in_train_stops_and_restores_the_best_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 10)).astype(np.float32)
    y = rng.integers(0, 2, 40)                    # pure noise: validation never improves for long
    x_val, y_val = rng.standard_normal((40, 10)).astype(np.float32), rng.integers(0, 2, 40)
    model = Sequential(Linear(10, 32, seed=0), ReLU(), Linear(32, 2, seed=1))
    seen = []

    class Recording(EarlyStopping):
        def step(self, value, epoch=None, model=None):
            if self.improved(value):
                seen.append(model.state_dict())
            return super().step(value, epoch, model)

    stopper = Recording(patience=3, mode="max")
    history = train(model, SoftmaxCrossEntropy(), x, y, epochs=60, lr=0.5, batch_size=8,
                    x_test=x_val, y_test=y_val, on_epoch_end=stopper, progress=False)
    assert stopper.should_stop and len(history.epoch) < 60
    assert len(history.epoch) == stopper.best_epoch + 3
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, seen[-1][name])


# -- on the OpenCL device --------------------------------------------------------------------

def test_opencl_regularized_model_keeps_its_data_on_the_device():
    _need("opencl")
    model = Sequential(Linear(12, 16, seed=0), BatchNorm1d(16), ReLU(), Dropout(0.5, seed=2),
                       Linear(16, 3, seed=1), backend="opencl")
    loss_fn, penalty = SoftmaxCrossEntropy(backend="opencl"), L2Penalty(1e-3)
    x = accel_edu.to_device(_x((8, 12)).astype(np.float32))
    y = accel_edu.to_device(np.arange(8) % 3)
    optimizer = SGD(model.parameters(), lr=0.1)
    accel_edu.reset_transfer_stats()
    for _ in range(3):
        loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        penalty(model)
        optimizer.step()
    assert accel_edu.transfer_stats() == {"h2d_count": 0, "h2d_bytes": 0, "d2h_count": 0, "d2h_bytes": 0}
    assert isinstance(model.layers[1].buffers["running_var"], accel_edu.DeviceArray)
    assert model.layers[3].step == 3
