"""The chapter's networks, their He initialisation, the training-throughput benchmark, and the
PyTorch twin that benchmarks compare against (skipped without PyTorch)."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import SoftmaxCrossEntropy
from accel_edu.bench.training import training_throughput
from accel_edu.cnn import Conv2d, models
from accel_edu.runtime import to_numpy


@pytest.mark.parametrize("make, shape, out", [(models.lenet_digits, (3, 1, 8, 8), (3, 10)),
                                              (models.cnn1d_mnist1d, (2, 1, 1, 40), (2, 10)),
                                              (models.denoising_autoencoder, (2, 1, 8, 8), (2, 1, 8, 8))])
def test_models_map_their_inputs_to_the_documented_shapes(make, shape, out):
    model = make(backend="numpy")
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    assert model.forward(x).shape == out


def test_he_uniform_draws_within_its_bound_and_zeroes_biases():
    model = models.lenet_digits(backend="numpy", seed=3)
    state = model.state_dict()
    w = state["0.w"]                                  # conv 1 -> 16, 3x3: fan_in 9
    assert np.abs(w).max() <= np.sqrt(6 / 9) and np.abs(w).max() > 0.8 * np.sqrt(6 / 9)
    assert not state["0.b"].any() and not state["7.b"].any()
    again = models.lenet_digits(backend="numpy", seed=3).state_dict()
    assert all(np.array_equal(state[k], again[k]) for k in state)      # a seed gives the same net


def test_step_schedule_drops_for_the_last_ten_epochs():
    schedule = models.step_schedule(dict(epochs=30, lr=0.1, lr_last_10=0.02))
    assert [schedule(e) for e in (1, 20, 21, 30)] == [0.1, 0.1, 0.02, 0.02]
    assert models.step_schedule(dict(epochs=5, lr=0.3))(5) == 0.3


def test_training_throughput_reports_images_per_second():
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 64)
    ips = training_throughput(lambda b: models.lenet_digits(backend=b), x, y, backends=("numpy",),
                              batch_size=16, steps=2, warmup=1, repeat=1, include_torch=False, settle=0)
    assert set(ips) == {"numpy"} and ips["numpy"] > 0


def test_torch_twin_computes_the_same_forward_and_gradients():
    torch = pytest.importorskip("torch")
    from accel_edu.bench.torch_twin import torch_twin
    for make, shape in ((models.lenet_digits, (4, 1, 8, 8)), (models.denoising_autoencoder, (3, 1, 8, 8)),
                        (models.cnn1d_mnist1d, (3, 1, 1, 40))):
        ours = make(backend="numpy", seed=1)
        twin = torch_twin(ours)        # float32, like ours: agreement to float32 rounding
        x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
        y = ours.forward(x)
        tx = torch.from_numpy(x).requires_grad_()
        ty = twin(tx)
        np.testing.assert_allclose(ty.detach().numpy(), y, rtol=1e-4, atol=1e-5)
        dy = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
        dx = ours.backward(dy)
        ty.backward(torch.from_numpy(dy))
        np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=1e-4, atol=1e-5)
        grads = ours.grads
        assert len(grads) == len(list(twin.parameters()))
        for (name, g), p in zip(grads.items(), twin.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), to_numpy(g), rtol=1e-4, atol=1e-5, err_msg=name)


def test_conv_layer_works_in_a_training_step_with_the_loss():
    model = models.lenet_digits(backend="numba")
    x = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    loss_fn = SoftmaxCrossEntropy(backend="numba")
    loss = loss_fn(model.forward(x), np.arange(5))
    model.backward(loss_fn.backward())
    assert np.isfinite(float(to_numpy(loss)))
    assert isinstance(model.layers[0], Conv2d) and model.layers[0].grads["w"].shape == (16, 1, 3, 3)
