"""Bad input gets a clear ValueError naming the argument, the same on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import accel_edu
from accel_edu.backprop import SGD, Linear, Sequential, train
from accel_edu.runtime import available_backends

AVAILABLE = available_backends()
BACKENDS = [pytest.param(b, marks=pytest.mark.skipif(not AVAILABLE[b], reason=AVAILABLE[b].detail))
            for b in ("numpy", "numba", "opencl")]
f32 = np.float32


def K(name):
    return accel_edu.get_kernel(name)


BAD_CALLS = [
    ("gemm", (np.ones((3, 4), f32), np.ones((5, 2), f32)), {}, r"b must have 4 rows to match op\(a\) of shape \(3, 4\)"),
    ("gemm", (np.ones((3, 4), f32), np.ones((5, 4), f32)), {"trans_b": False}, "b must have 4 rows"),
    ("gemm", (np.ones((3, 4), f32), np.ones((4, 2), np.float64)), {}, "b must have the same dtype as a"),
    ("gemm", (np.ones((3, 4), np.int32), np.ones((4, 2), np.int32)), {}, "a must have dtype float32 or float64; got int32"),
    ("gemm", (np.ones(4, f32), np.ones((4, 2), f32)), {}, r"a must be 2-D; got shape \(4,\)"),
    ("gemm", (np.ones((0, 4), f32), np.ones((4, 2), f32)), {}, "a must not be empty"),
    ("gemm", ([[1.0]], np.ones((1, 1), f32)), {}, "a must be a NumPy array or DeviceArray; got list"),
    ("linear_forward", (np.ones((2, 3), f32), np.ones((4, 5), f32), np.ones(4, f32)), {}, r"w must have shape \(D_out, 3\)"),
    ("linear_forward", (np.ones((2, 3), f32), np.ones((4, 3), f32), np.ones(5, f32)), {}, r"b must have shape \(4,\)"),
    ("linear_backward", (np.ones((2, 5), f32), np.ones((2, 3), f32), np.ones((4, 3), f32)), {}, r"dy must have shape \(2, 4\)"),
    ("relu_backward", (np.ones((2, 3), f32), np.ones((3, 2), f32)), {}, r"x must have the same shape as dy \(2, 3\)"),
    ("sigmoid_backward", (np.ones(3, f32), np.ones(3, np.float64)), {}, "y must have the same dtype as dy"),
    ("softmax_cross_entropy", (np.ones((2, 3), f32), np.array([0, 3])), {}, r"labels must lie in \[0, 3\); found 3"),
    ("softmax_cross_entropy", (np.ones((2, 3), f32), np.array([0.0, 1.0])), {}, "labels must be an integer array"),
    ("softmax_cross_entropy", (np.ones((2, 3), f32), np.array([0, 1, 2])), {}, r"labels must have shape \(2,\)"),
    ("mse", (np.ones((2, 3), f32), np.ones((3, 2), f32)), {}, "target must have the same shape as pred"),
    ("sgd_update", (np.ones(3, f32), np.ones(3, f32), -0.1), {}, "lr must be a positive finite number; got -0.1"),
    ("sgd_update", (np.ones(3, f32), np.ones(3, f32), float("nan")), {}, "lr must be a positive finite number"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, args, kwargs, message", BAD_CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_bad_arguments_are_named(name, args, kwargs, message, backend):
    with pytest.raises(ValueError, match=message):
        K(name)(*args, backend=backend, **kwargs)


def test_read_only_parameter_is_refused():
    p = np.ones(3, f32)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="param is updated in place, so it must be writeable"):
        K("sgd_update")(p, np.ones(3, f32), 0.1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_contiguous_and_odd_sizes_give_the_right_answer(backend):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((37, 2 * 29)).astype(f32)[:, ::2]
    b = rng.standard_normal((29, 41)).astype(f32).T.copy().T  # Fortran order
    got = accel_edu.to_numpy(K("gemm")(a, b, backend=backend))
    np.testing.assert_allclose(got, a @ b, rtol=1e-4, atol=1e-4)


def test_in_place_update_on_a_non_contiguous_view_updates_the_view():
    for backend in [b for b in ("numpy", "numba", "opencl") if AVAILABLE[b]]:
        base = np.ones((4, 6), f32)
        view = base[:, ::2]
        K("sgd_update")(view, np.ones_like(view), 0.5, backend=backend)
        np.testing.assert_array_equal(base[:, ::2], 0.5)
        np.testing.assert_array_equal(base[:, 1::2], 1.0)


def test_layer_and_training_arguments_are_named():
    with pytest.raises(ValueError, match="d_in must be a positive integer; got 0"):
        Linear(0, 3)
    with pytest.raises(ValueError, match=r"layers\[1\] must be a Module"):
        Sequential(Linear(2, 2), "relu")
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        SGD(Linear(2, 2).parameters(), lr=0)
    with pytest.raises(ValueError, match="backend must be one of"):
        Linear(2, 2, backend="gpu")
    model = Sequential(Linear(2, 2))
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train(model, None, np.ones((4, 2), f32), np.zeros(4, int), epochs=0)
    with pytest.raises(RuntimeError, match="call backward"):
        SGD(model.parameters(), lr=0.1).step()
    with pytest.raises(ValueError, match=r"parameter 'w' must have shape \(2, 2\)"):
        model.layers[0].load_state_dict({"w": np.ones((3, 3))})
