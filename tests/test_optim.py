"""The optimizers chapter: each rule against values worked out by hand, on every backend;
schedules at known points; clipping; the errors a student sees; state kept on the device."""
from __future__ import annotations

import math

import numpy as np
import pytest

from accel_edu.backprop import Linear, Module, ReLU, Sequential, SoftmaxCrossEntropy, train
from accel_edu.optim import (SGD, Adagrad, Adam, AdamW, RMSprop, clip_grad_norm, cosine, exponential,
                             linear_warmup, step_decay, warmup_then)
from accel_edu.optim import kernels as K
from accel_edu.optim.surfaces import ill_conditioned, rosenbrock, trajectory
from accel_edu.runtime import available_backends, reset_transfer_stats, to_numpy, transfer_stats

AVAILABLE = available_backends()
BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not AVAILABLE[b], reason=AVAILABLE[b].detail))
            for b in ("numpy", "numba", "opencl")]


class Weights(Module):
    """A module that is only parameters, whose gradients a test sets by hand."""

    def __init__(self, backend="numpy", **params):
        super().__init__(backend)
        self.params = {k: self._here(np.asarray(v, dtype=np.float64 if backend != "opencl" else np.float32))
                       for k, v in params.items()}

    def set_grads(self, **grads):
        self.grads = {k: self._here(np.asarray(v, dtype=self.params[k].dtype)) for k, v in grads.items()}


def _steps(opt, module, grads):
    """Apply one step per gradient in ``grads`` to parameter "w"; return w after each."""
    out = []
    for g in grads:
        module.set_grads(w=g)
        opt.step()
        out.append(to_numpy(module.params["w"]).copy())
    return out


# -- the rules, worked out by hand ----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_momentum_two_steps(backend):
    m = Weights(backend, w=[1.0, -2.0])
    # buf = g = 0.5 on the first step (torch's start); then buf = 0.9 * 0.5 + 0.5 = 0.95
    w1, w2 = _steps(SGD(m.parameters(), lr=0.1, momentum=0.9), m, [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(w1, [0.95, -2.05], rtol=1e-6)
    np.testing.assert_allclose(w2, [0.855, -2.145], rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_nesterov_and_dampening(backend):
    m = Weights(backend, w=[1.0])
    # Nesterov looks ahead: d = g + momentum * buf = 0.5 + 0.9 * 0.5
    (w1,) = _steps(SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True), m, [[0.5]])
    np.testing.assert_allclose(w1, [1 - 0.1 * 0.95], rtol=1e-6)
    # Dampening does not shrink the first step (buf = g), only later ones: buf = 0.9*0.5 + 0.5*0.5
    m = Weights(backend, w=[1.0])
    w1, w2 = _steps(SGD(m.parameters(), lr=0.1, momentum=0.9, dampening=0.5), m, [[0.5], [0.5]])
    np.testing.assert_allclose(w1, [0.95], rtol=1e-6)
    np.testing.assert_allclose(w2, [0.95 - 0.1 * 0.7], rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_weight_decay_without_momentum(backend):
    m = Weights(backend, w=[2.0])
    (w1,) = _steps(SGD(m.parameters(), lr=0.1, weight_decay=0.5), m, [[1.0]])
    np.testing.assert_allclose(w1, [2.0 - 0.1 * (1.0 + 0.5 * 2.0)], rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adam_first_step_moves_every_weight_by_lr(backend):
    # After bias correction m_hat = g and v_hat = g^2, so the first step is lr * g / |g|,
    # whatever the size of g: the scale-free step that is Adam's point.
    m = Weights(backend, w=[1.0, 1.0, 1.0])
    (w1,) = _steps(Adam(m.parameters(), lr=0.01), m, [[1e-3, -5.0, 200.0]])
    np.testing.assert_allclose(w1, [0.99, 1.01, 0.99], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adam_second_step(backend):
    m = Weights(backend, w=[0.0])
    w1, w2 = _steps(Adam(m.parameters(), lr=0.1, betas=(0.5, 0.75)), m, [[1.0], [3.0]])
    # t=2: m = 0.5*0.5 + 0.5*3 = 1.75, v = 0.75*0.25 + 0.25*9 = 2.4375
    want = w1[0] - (0.1 / (1 - 0.25)) * 1.75 / (math.sqrt(2.4375) / math.sqrt(1 - 0.5625) + 1e-8)
    np.testing.assert_allclose(w2, [want], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adamw_decay_is_decoupled_and_adam_l2_is_not(backend):
    # A zero gradient: AdamW shrinks the weight by lr*wd of itself; Adam's L2 term becomes a
    # gradient wd*w, which Adam then normalises into a full step of size lr.
    m = Weights(backend, w=[2.0])
    (w_adamw,) = _steps(AdamW(m.parameters(), lr=0.1, weight_decay=0.5), m, [[0.0]])
    np.testing.assert_allclose(w_adamw, [2.0 * (1 - 0.1 * 0.5)], rtol=1e-6)
    m = Weights(backend, w=[2.0])
    (w_adam,) = _steps(Adam(m.parameters(), lr=0.1, weight_decay=0.5), m, [[0.0]])
    np.testing.assert_allclose(w_adam, [2.0 - 0.1], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adagrad_steps_shrink_as_squares_accumulate(backend):
    m = Weights(backend, w=[0.0])
    w1, w2 = _steps(Adagrad(m.parameters(), lr=0.1), m, [[2.0], [2.0]])
    np.testing.assert_allclose(w1, [-0.1], rtol=1e-6)                       # g / sqrt(g^2)
    np.testing.assert_allclose(w2, [-0.1 - 0.1 / math.sqrt(2)], rtol=1e-6)  # g / sqrt(2 g^2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adagrad_lr_decay(backend):
    m = Weights(backend, w=[0.0])
    w1, w2 = _steps(Adagrad(m.parameters(), lr=0.1, lr_decay=1.0), m, [[2.0], [2.0]])
    np.testing.assert_allclose(w2 - w1, [-0.05 / math.sqrt(2)], rtol=1e-6)  # lr / (1 + 1 * 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rmsprop_first_step(backend):
    m = Weights(backend, w=[0.0])
    (w1,) = _steps(RMSprop(m.parameters(), lr=0.01, alpha=0.99), m, [[3.0]])
    # square_avg = 0.01 * 9, so the step is lr * 3 / 0.3 = 10 lr: RMSprop's large first steps
    np.testing.assert_allclose(w1, [-0.1], rtol=1e-5)


def test_kernel_updates_a_three_dimensional_parameter_in_place():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((2, 3, 4)).astype(np.float32)
    g = rng.standard_normal((2, 3, 4)).astype(np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    before = p.copy()
    out = K.adam_update(p, g, m, v, 1e-2, step=1, backend="numpy")
    assert out is p
    np.testing.assert_allclose(p, before - 1e-2 * np.sign(g), rtol=1e-5)
    np.testing.assert_allclose(m, 0.1 * g, rtol=1e-6)


# -- schedules -----------------------------------------------------------------------------
def test_schedules_at_known_points():
    s = step_decay(0.1, step_size=10, gamma=0.5)
    assert [s(0), s(9), s(10), s(25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    e = exponential(1.0, gamma=0.9)
    assert [e(0), e(1), e(3)] == pytest.approx([1.0, 0.9, 0.729])
    c = cosine(1.0, total=100, min_lr=0.1)
    assert [c(0), c(50), c(100), c(150)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    w = linear_warmup(0.2, warmup=4)
    assert [w(0), w(1), w(4), w(9)] == pytest.approx([0.0, 0.05, 0.2, 0.2])
    wc = warmup_then(linear_warmup(1.0, warmup=10, start=0.1), cosine(1.0, total=90))
    assert [wc(0), wc(5), wc(10), wc(55), wc(100)] == pytest.approx([0.1, 0.55, 1.0, 0.5, 0.0])


def test_a_schedule_drives_train_per_epoch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = Sequential(Linear(4, 2, seed=0), backend="numpy")
    opt = SGD(model.parameters(), lr=1.0)
    train(model, SoftmaxCrossEntropy(backend="numpy"), x, y, epochs=3, batch_size=16,
          lr=step_decay(0.4, step_size=2), optimizer=opt, progress=False)
    assert opt.lr == pytest.approx(0.04)   # epoch 3: 0.4 * 0.1 ** (3 // 2)


# -- clipping ------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_clip_grad_norm_scales_all_gradients_together(backend):
    a = Weights(backend, w=[0.0, 0.0])
    b = Weights(backend, w=[0.0])
    a.set_grads(w=[3.0, 0.0])
    b.set_grads(w=[4.0])
    params = a.parameters() + b.parameters()
    assert clip_grad_norm(params, max_norm=1.0) == pytest.approx(5.0, rel=1e-6)
    np.testing.assert_allclose(to_numpy(a.grads["w"]), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(to_numpy(b.grads["w"]), [0.8], rtol=1e-5)
    # under the limit nothing changes
    assert clip_grad_norm(params, max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(to_numpy(b.grads["w"]), [0.8], rtol=1e-5)


# -- the errors a student sees -------------------------------------------------------------
def _params():
    return Weights("numpy", w=[1.0]).parameters()


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(_params(), lr=-0.1), "lr"),
    (lambda: SGD(_params(), lr=0.0), "lr"),
    (lambda: SGD(_params(), lr=float("nan")), "lr"),
    (lambda: SGD(_params(), lr=0.1, momentum=-0.5), "momentum"),
    (lambda: SGD(_params(), lr=0.1, nesterov=True), "nesterov"),
    (lambda: SGD(_params(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda: SGD(_params(), lr=0.1, weight_decay=-1), "weight_decay"),
    (lambda: SGD([], lr=0.1), "parameters"),
    (lambda: SGD([("not a module", "w")], lr=0.1), "parameters"),
    (lambda: Adam(_params(), betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda: Adam(_params(), betas=(0.9, -0.1)), r"betas\[1\]"),
    (lambda: Adam(_params(), betas=0.9), "betas"),
    (lambda: Adam(_params(), eps=0.0), "eps"),
    (lambda: AdamW(_params(), lr=-1e-3), "lr"),
    (lambda: RMSprop(_params(), alpha=1.0), "alpha"),
    (lambda: Adagrad(_params(), lr_decay=-1), "lr_decay"),
    (lambda: cosine(0.1, total=0), "total"),
    (lambda: linear_warmup(0.1, warmup=5, start=2), "start"),
    (lambda: step_decay(-0.1, 10), "lr"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_kernel_checks_name_the_argument():
    p, g = np.zeros(3), np.zeros(3)
    with pytest.raises(ValueError, match="exp_avg_sq must have the same shape"):
        K.adam_update(p, g, np.zeros(3), np.zeros(4), 1e-3, backend="numpy")
    with pytest.raises(ValueError, match="step"):
        K.adam_update(p, g, np.zeros(3), np.zeros(3), 1e-3, step=0, backend="numpy")
    with pytest.raises(ValueError, match="beta2"):
        K.adamw_update(p, g, np.zeros(3), np.zeros(3), 1e-3, beta2=1.5, backend="numpy")
    with pytest.raises(ValueError, match="lr"):
        K.sgd_momentum_update(p, g, np.zeros(3), -1.0, backend="numpy")
    with pytest.raises(ValueError, match="grad must have the same dtype"):
        K.rmsprop_update(p, g.astype(np.float32), np.zeros(3), 0.1, backend="numpy")
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(_params(), max_norm=0)
    with pytest.raises(ValueError, match="t "):
        cosine(0.1, total=10)(-1)


def test_step_before_backward_says_so():
    with pytest.raises(RuntimeError, match="backward"):
        Adam(_params()).step()


# -- where the state lives -----------------------------------------------------------------
@pytest.mark.skipif(not AVAILABLE["opencl"], reason=AVAILABLE["opencl"].detail)
@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adagrad(p),
                                  lambda p: RMSprop(p), lambda p: Adam(p), lambda p: AdamW(p)],
                         ids=["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_opencl_state_stays_on_the_device(make):
    from accel_edu.runtime import DeviceArray, to_device
    model = Sequential(Linear(6, 5, seed=0), ReLU(), Linear(5, 3, seed=1), backend="opencl")
    loss = SoftmaxCrossEntropy(backend="opencl")
    x = to_device(np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32))
    y = to_device(np.arange(8) % 3)
    opt = make(model.parameters())
    reset_transfer_stats()
    for _ in range(3):
        loss(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
    assert transfer_stats() == {"h2d_count": 0, "h2d_bytes": 0, "d2h_count": 0, "d2h_bytes": 0}
    assert all(isinstance(buf, DeviceArray) for s in opt.state.values() for buf in s.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_with_adam_learns(backend):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 5)).astype(np.float32)
    y = ((x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)).astype(np.int64)
    model = Sequential(Linear(5, 16, seed=0), ReLU(), Linear(16, 3, seed=1), backend=backend)
    history = train(model, SoftmaxCrossEntropy(backend=backend), x, y, epochs=15, batch_size=32,
                    optimizer=AdamW(model.parameters(), lr=1e-2), progress=False)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.train_accuracy[-1] > 0.9


# -- the 2-D surfaces the chapter draws ------------------------------------------------------
@pytest.mark.parametrize("surface", [rosenbrock, ill_conditioned])
def test_surface_gradients_match_central_differences(surface):
    w, h = np.array([-0.7, 1.3]), 1e-6
    _, grad = surface(w)
    numeric = [(surface(w + h * e)[0] - surface(w - h * e)[0]) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_trajectory_records_each_step_and_stops_when_it_diverges():
    path, losses = trajectory(lambda p: Adam(p, lr=0.03), rosenbrock, (-1.5, 2.0), 2000)
    assert path.shape == (2001, 2) and losses[0] == pytest.approx(rosenbrock(np.array([-1.5, 2.0]))[0])
    np.testing.assert_allclose(path[-1], [1.0, 1.0], atol=1e-2)
    # SGD too fast for the valley's walls explodes within a few steps; clipping tames it.
    _, wild = trajectory(lambda p: SGD(p, lr=3e-3), rosenbrock, (-1.5, 2.0), 200)
    assert np.isnan(wild[-1])
    _, tame = trajectory(lambda p: SGD(p, lr=3e-3), rosenbrock, (-1.5, 2.0), 200, clip=10.0)
    assert np.isfinite(tame).all() and tame[-1] < tame[0]
