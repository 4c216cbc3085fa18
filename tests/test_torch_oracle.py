"""An independent oracle: PyTorch's autograd, on every backend. Skips cleanly without torch
(a comparison only, never a dependency: `pip install torch==2.13.0` to run it)."""
from __future__ import annotations

import numpy as np
import pytest

import accel_edu
from accel_edu.runtime import available_backends

torch = pytest.importorskip("torch")
AVAILABLE = available_backends()
BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not AVAILABLE[b], reason=AVAILABLE[b].detail))
            for b in ("numpy", "numba", "opencl")]
K = accel_edu.get_kernel


@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_and_activations_match_torch_autograd(backend):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((7, 13)), rng.standard_normal((5, 13)), rng.standard_normal(5)
    dy = rng.standard_normal((7, 5))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    ty = torch.nn.functional.linear(tx, tw, tb)
    ty.backward(torch.tensor(dy))
    y = accel_edu.to_numpy(K("linear_forward")(x, w, b, backend=backend))
    dx, dw, db = (accel_edu.to_numpy(g) for g in K("linear_backward")(dy, x, w, backend=backend))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10)
    for got, want in ((dx, tx.grad), (dw, tw.grad), (db, tb.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)
    for name, fn in (("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("relu", torch.relu)):
        tx = torch.tensor(x, requires_grad=True)
        ty = fn(tx)
        ty.backward(torch.tensor(x[:, ::-1].copy()))
        out = accel_edu.to_numpy(K(f"{name}_forward")(x, backend=backend))
        saved = x if name == "relu" else out
        grad = accel_edu.to_numpy(K(f"{name}_backward")(x[:, ::-1].copy(), saved, backend=backend))
        np.testing.assert_allclose(out, ty.detach().numpy(), rtol=1e-10, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-10, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_cross_entropy_and_mse_match_torch(backend):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((9, 6)).astype(np.float32) * 50
    labels = rng.integers(0, 6, 9)
    t = torch.tensor(logits, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
    tl.backward()
    loss, grad = K("softmax_cross_entropy")(logits, labels, backend=backend)
    assert float(accel_edu.to_numpy(loss)) == pytest.approx(tl.item(), rel=1e-5)
    np.testing.assert_allclose(accel_edu.to_numpy(grad), t.grad.numpy(), rtol=1e-4, atol=1e-6)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    tp = torch.tensor(pred, requires_grad=True)
    tm = torch.nn.functional.mse_loss(tp, torch.tensor(target))
    tm.backward()
    loss, grad = K("mse")(pred, target, backend=backend)
    assert float(accel_edu.to_numpy(loss)) == pytest.approx(tm.item(), rel=1e-12)
    np.testing.assert_allclose(accel_edu.to_numpy(grad), tp.grad.numpy(), rtol=1e-12)


def test_a_few_hundred_sgd_steps_match_torch():
    """Same MLP, same batches, plain SGD: the parameters track PyTorch's step for step."""
    from accel_edu.backprop import SGD, Linear, ReLU, Sequential, SoftmaxCrossEntropy
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 10))
    y = rng.integers(0, 3, 64)
    model = Sequential(Linear(10, 16, seed=1, dtype=np.float64), ReLU(), Linear(16, 3, seed=2, dtype=np.float64))
    state = model.state_dict()
    tmodel = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()
    with torch.no_grad():
        for i, layer in ((0, tmodel[0]), (2, tmodel[2])):
            layer.weight.copy_(torch.tensor(state[f"{i}.w"]))
            layer.bias.copy_(torch.tensor(state[f"{i}.b"]))
    opt, topt = SGD(model.parameters(), lr=0.1), torch.optim.SGD(tmodel.parameters(), lr=0.1)
    loss_fn = SoftmaxCrossEntropy()
    for step in range(200):
        rows = slice((step * 16) % 64, (step * 16) % 64 + 16)
        loss_fn(model.forward(x[rows]), y[rows])
        model.backward(loss_fn.backward())
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(torch.tensor(x[rows])), torch.tensor(y[rows])).backward()
        topt.step()
    final = model.state_dict()
    np.testing.assert_allclose(final["0.w"], tmodel[0].weight.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(final["2.b"], tmodel[2].bias.detach().numpy(), rtol=1e-9, atol=1e-12)
