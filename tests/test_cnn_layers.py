"""The CNN chapter's layers: gradients checked numerically on every backend on awkward shapes,
a LeNet step giving the same answer on all three backends and staying on the OpenCL device,
and helpful errors for bad arguments."""
from __future__ import annotations

import numpy as np
import pytest

import accel_edu
from accel_edu.backprop import SGD, Linear, ReLU, Sequential, SoftmaxCrossEntropy, gradient_check
from accel_edu.cnn import AvgPool2d, Conv2d, ConvTranspose2d, Flatten, MaxPool2d
from accel_edu.runtime import available_backends

AVAILABLE = available_backends()
BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not AVAILABLE[b], reason=AVAILABLE[b].detail))
            for b in ("numpy", "numba", "opencl")]
F64 = dict(dtype=np.float64)

# (id, layer factory, input shape): odd sizes, stride 2 with padding, one channel, batch 1.
LAYERS = [
    ("conv stride 2 pad 1, batch 1", lambda: Conv2d(3, 4, 3, stride=2, padding=1, seed=1, **F64), (1, 3, 7, 9)),
    ("conv one channel, 5x5", lambda: Conv2d(1, 2, 5, seed=2, **F64), (2, 1, 9, 8)),
    ("conv direct, dilation 2, no bias", lambda: Conv2d(2, 3, 3, dilation=2, bias=False, algorithm="direct",
                                                        seed=3, **F64), (2, 2, 7, 8)),
    ("conv 1-D (1 x 5) on signals", lambda: Conv2d(2, 3, (1, 5), stride=(1, 2), padding=(0, 1), seed=4, **F64),
     (3, 2, 1, 13)),
    ("transposed conv stride 2", lambda: ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1,
                                                         seed=5, **F64), (1, 3, 5, 4)),
    ("maxpool 3 stride 2 pad 1", lambda: MaxPool2d(3, 2, 1), (2, 3, 7, 9)),
    ("avgpool 2, odd size", lambda: AvgPool2d(2), (1, 1, 5, 7)),
    ("flatten", lambda: Flatten(), (2, 3, 5, 7)),
]


def _x(shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    # Max pooling is not differentiable at ties; random normals have none (central differences
    # move one entry by 1e-6, far less than the gap between any two).
    return x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("make, shape", [pytest.param(m, s, id=i) for i, m, s in LAYERS])
def test_layer_backward_matches_central_differences(make, shape, backend):
    layer = make().to(backend)
    result = gradient_check(layer, _x(shape))
    assert result.passed, repr(result)


@pytest.mark.parametrize("backend", BACKENDS)
def test_small_cnn_backward_matches_central_differences(backend):
    model = Sequential(Conv2d(1, 3, 3, padding=1, seed=1, **F64), ReLU(), MaxPool2d(2),
                       Conv2d(3, 2, 2, stride=2, seed=2, **F64), Flatten(), Linear(2 * 2 * 2, 3, seed=3, **F64),
                       backend=backend)
    result = gradient_check(model, _x((2, 1, 9, 8)))
    assert result.passed, repr(result)


def _lenet(backend):
    return Sequential(Conv2d(1, 6, 3, padding=1, seed=1), ReLU(), MaxPool2d(2),
                      Conv2d(6, 16, 3, padding=1, seed=2), ReLU(), MaxPool2d(2),
                      Flatten(), Linear(16 * 2 * 2, 10, seed=3), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_lenet_step_agrees_with_numpy(backend):
    x = _x((5, 1, 8, 8)).astype(np.float32)
    y = np.array([3, 1, 4, 1, 5])
    results = {}
    for b in ("numpy", backend):
        model, loss_fn = _lenet(b), SoftmaxCrossEntropy(backend=b)
        loss = loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        SGD(model.parameters(), lr=0.5).step()
        results[b] = (float(accel_edu.to_numpy(loss)), model.state_dict())
    assert results[backend][0] == pytest.approx(results["numpy"][0], rel=1e-5)
    for name, value in results["numpy"][1].items():
        np.testing.assert_allclose(results[backend][1][name], value, rtol=1e-4, atol=1e-5, err_msg=name)


def test_opencl_lenet_keeps_its_data_on_the_device():
    if not AVAILABLE["opencl"]:
        pytest.skip(AVAILABLE["opencl"].detail)
    model, loss_fn = _lenet("opencl"), SoftmaxCrossEntropy(backend="opencl")
    x = accel_edu.to_device(_x((4, 1, 8, 8)).astype(np.float32))
    y = accel_edu.to_device(np.arange(4))
    accel_edu.reset_transfer_stats()
    for _ in range(2):
        loss_fn(model.forward(x), y)
        model.backward(loss_fn.backward())
        SGD(model.parameters(), lr=0.1).step()
    assert accel_edu.transfer_stats() == {"h2d_count": 0, "h2d_bytes": 0, "d2h_count": 0, "d2h_bytes": 0}


def test_direct_and_im2col_layers_agree():
    x = _x((3, 2, 9, 7)).astype(np.float32)
    a = Conv2d(2, 5, 3, stride=2, padding=1, seed=7)
    b = Conv2d(2, 5, 3, stride=2, padding=1, seed=7, algorithm="direct")
    np.testing.assert_allclose(b.forward(x), a.forward(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2d(0, 4, 3), "c_in must be a positive integer"),
    (lambda: Conv2d(3, 4, 0), "kernel must be a positive int"),
    (lambda: Conv2d(3, 4, 3, stride=(1, 0)), "stride must be a positive int"),
    (lambda: Conv2d(3, 4, 3, padding=-1), "padding must be an int >= 0"),
    (lambda: Conv2d(3, 4, 3, algorithm="winograd"), "algorithm must be one of im2col, direct"),
    (lambda: MaxPool2d((2, 2, 2)), "kernel must be a positive int or an (h, w) pair"),
])
def test_bad_layer_arguments_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_names_the_argument(backend):
    conv = Conv2d(3, 4, 3, backend=backend)
    with pytest.raises(ValueError, match="x and w disagree on the input channels: x of shape \\(2, 2, 5, 5\\) has 2"):
        conv.forward(np.zeros((2, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="x must"):
        conv.forward(np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="does not fit an input of height 2"):
        conv.forward(np.zeros((1, 3, 2, 5), np.float32))
    with pytest.raises(ValueError, match="padding must be at most half the kernel"):
        MaxPool2d(2, padding=2, backend=backend).forward(np.zeros((1, 1, 6, 6), np.float32))
