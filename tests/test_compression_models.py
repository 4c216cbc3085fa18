"""Compression at the model level: quantization parameters, post-training quantization,
quantization-aware training (the straight-through estimator), pruning, distillation, and the
two benchmark functions the chapter plots (run tiny, for their shape, not their speed)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from accel_edu.backprop import SGD, Linear, ReLU, Sequential, SoftmaxCrossEntropy, accuracy, train
from accel_edu.backprop.gradcheck import gradient_check, relative_error
from accel_edu.compression import kernels as K
from accel_edu.compression.distill import DistillationLoss, train_student
from accel_edu.compression.layers import QATLinear, prepare_qat
from accel_edu.compression.prune import (MaskedOptimizer, apply_masks, channel_masks, magnitude_masks,
                                         prunable, sparsity_report)
from accel_edu.compression.ptq import model_nbytes, quantize_model
from accel_edu.compression.quantize import (EPS, asymmetric_qparams, quantization_error,
                                            symmetric_qparams)
from accel_edu.data import load_digits
from accel_edu.runtime import available_backends, to_numpy

BACKENDS = [b for b in ("numpy", "numba", "opencl") if available_backends()[b]]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def mlp(digits):
    """A 64-64-10 MLP trained for 10 epochs on the digits (about 0.5 s)."""
    model = Sequential(Linear(64, 64, seed=1), ReLU(), Linear(64, 10, seed=2), backend="numpy")
    train(model, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=10, lr=0.1, progress=False)
    return model.eval()


# -- quantization parameters ---------------------------------------------------------------------
def test_symmetric_scale_is_max_abs_over_127_per_channel():
    w = np.array([[0.5, -2.54, 1.0], [0.01, 0.0, -0.005]], np.float32)
    qp = symmetric_qparams(w, per_channel=True)
    np.testing.assert_array_equal(qp.scale, np.float32([2.54 / 127, 0.01 / 127]))
    np.testing.assert_array_equal(qp.zero_point, [0, 0])
    q = to_numpy(K.quantize_int8(w, qp.scale, qp.zero_point))
    assert q[0, 1] == -127 and q[1, 0] == 127                 # each channel uses its whole range
    per_tensor = symmetric_qparams(w)
    assert per_tensor.scale.shape == (1,)
    # per tensor, the small channel's values all round to 0 or +-1: why weights go per channel
    assert np.abs(to_numpy(K.quantize_int8(w, per_tensor.scale, per_tensor.zero_point))[1]).max() <= 1


def test_asymmetric_range_holds_zero_exactly_and_errors_stay_under_half_a_step():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 6.0, (3, 40)).astype(np.float32)      # a ReLU's outputs: never negative
    qp = asymmetric_qparams(x)
    assert qp.zero_point[0] == -128                             # lo = min(x, 0) = 0 maps to -128
    np.testing.assert_allclose(qp.scale, np.float32(x.max() / 255), rtol=1e-6)
    zero = np.zeros((1,), np.float32)
    assert to_numpy(K.fake_quantize_forward(zero, qp.scale, qp.zero_point))[0] == 0.0
    assert quantization_error(x, qp) <= qp.scale[0] / 2 * (1 + 1e-6)
    mixed = asymmetric_qparams(lo=-1.0, hi=3.0)
    assert mixed.zero_point[0] == np.clip(np.rint(-128 + 1.0 / mixed.scale[0]), -128, 127)


def test_an_all_zero_tensor_still_gets_a_valid_quantizer():
    qp = symmetric_qparams(np.zeros((2, 3), np.float32), per_channel=True)
    np.testing.assert_array_equal(qp.scale, np.float32([EPS, EPS]))
    assert to_numpy(K.quantize_int8(np.zeros((2, 3), np.float32), qp.scale, qp.zero_point)).max() == 0


# -- post-training quantization -------------------------------------------------------------------
def test_ptq_keeps_accuracy_shrinks_the_model_and_agrees_across_backends(mlp, digits):
    float_accuracy = accuracy(mlp, digits.x_test, digits.y_test)
    outputs = {}
    for backend in BACKENDS:
        quantized = quantize_model(mlp, digits.x_train[:300], backend=backend)
        assert abs(accuracy(quantized, digits.x_test, digits.y_test) - float_accuracy) < 0.02
        outputs[backend] = to_numpy(quantized.forward(digits.x_test[:64]))
    for backend in BACKENDS[1:]:                 # int8 all the way: the same numbers exactly
        np.testing.assert_array_equal(outputs[backend], outputs["numpy"])
    float_out = to_numpy(mlp.forward(digits.x_test[:64]))
    assert np.abs(outputs["numpy"] - float_out).max() < 0.1 * np.abs(float_out).max()
    assert model_nbytes(quantized) < 0.3 * model_nbytes(mlp)    # 4-byte floats -> 1-byte ints


# -- quantization-aware training -------------------------------------------------------------------
def test_qat_linear_backward_is_the_straight_through_estimator():
    layer = QATLinear(6, 4, seed=3)
    rng = np.random.default_rng(4)
    layer.forward(rng.uniform(-1, 1, (5, 6)).astype(np.float32))   # the observer's range: about [-1, 1]
    layer.eval()                                                   # freeze it
    x = rng.uniform(-1, 1, (5, 6)).astype(np.float32)
    x[0, :3] = [5.0, -5.0, 0.5]                                     # far outside, and inside
    y = layer.forward(x)
    dy = rng.standard_normal(np.shape(y)).astype(np.float32)
    dx = layer.backward(dy)
    xq, wq = layer.x_q, layer.w_q
    x_fq = K.fake_quantize_forward(x, xq.scale, xq.zero_point)
    w_fq = K.fake_quantize_forward(layer.params["w"], wq.scale, wq.zero_point)
    r = np.rint(x * (1 / xq.scale[0])) + xq.zero_point[0]
    inside = (r >= -128) & (r <= 127)
    assert not inside[0, 0] and not inside[0, 1] and inside[0, 2]
    np.testing.assert_allclose(dx, (dy @ w_fq) * inside, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.grads["w"], dy.T @ x_fq, rtol=1e-5, atol=1e-6)  # max|w| is in range


def test_gradient_check_passes_for_the_bias_and_fails_for_the_rounded_input():
    """Where the derivative is defined (b enters after the rounding) the check passes; for x the
    true derivative of the rounded forward is 0 almost everywhere, and the STE's 1 is not it."""
    layer = QATLinear(5, 3, seed=5)
    x = np.random.default_rng(6).uniform(-1, 1, (4, 5))
    layer.forward(x.astype(np.float32))
    layer.eval()
    result = gradient_check(layer, x, eps=1e-7)
    assert result.errors["b"] < 1e-6
    assert result.errors["x"] > 0.1


def test_prepare_qat_trains_a_quantization_aware_mlp(mlp, digits):
    qat = prepare_qat(mlp)
    assert [type(layer).__name__ for layer in qat.layers] == ["QATLinear", "ReLU", "QATLinear"]
    np.testing.assert_array_equal(qat.layers[0].params["w"], mlp.layers[0].params["w"])
    history = train(qat, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=2, lr=0.05,
                    progress=False, x_test=digits.x_test, y_test=digits.y_test)
    assert history.test_accuracy[-1] > accuracy(mlp, digits.x_test, digits.y_test) - 0.03


# -- pruning ----------------------------------------------------------------------------------------
def test_global_magnitude_pruning_drops_the_smallest_weights_of_the_whole_model(mlp):
    masks = magnitude_masks(mlp, 0.7, "global")
    weights = [np.abs(to_numpy(layer.params["w"])) for layer in prunable(mlp)]
    pruned = np.concatenate([w[m == 0] for w, m in zip(weights, masks.values())])
    kept = np.concatenate([w[m == 1] for w, m in zip(weights, masks.values())])
    assert pruned.size == round(0.7 * (pruned.size + kept.size))
    assert pruned.max() <= kept.min()


def test_layer_pruning_takes_the_same_fraction_from_every_layer(mlp):
    masks = magnitude_masks(mlp, 0.5, "layer")
    for layer, mask in zip(prunable(mlp), masks.values()):
        assert (mask == 0).sum() == round(0.5 * mask.size)


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_channel_pruning_removes_whole_neurons_and_their_bias(mlp, digits, norm):
    model = copy.deepcopy(mlp)
    masks = channel_masks(model, 0.25, norm)
    w = to_numpy(model.layers[0].params["w"])
    ord_ = 1 if norm == "l1" else 2
    norms = np.linalg.norm(w, ord=ord_, axis=1)
    dropped = masks[0].sum(axis=1) == 0
    assert dropped.sum() == 16 and norms[dropped].max() <= norms[~dropped].min()
    assert np.all(masks[1] == 1)                                    # the output layer is kept whole
    apply_masks(model, masks)
    hidden = to_numpy(model.layers[1].forward(model.layers[0].forward(digits.x_test[:8])))
    assert np.all(hidden[:, dropped] == 0)                         # those neurons are gone


@pytest.mark.parametrize("backend", BACKENDS)
def test_masks_stay_applied_while_fine_tuning(mlp, digits, backend):
    model = copy.deepcopy(mlp).to(backend)
    masks = magnitude_masks(model, 0.8)
    apply_masks(model, masks)
    optimizer = MaskedOptimizer(SGD(model.parameters(), 0.05), model, masks)
    train(model, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=1, optimizer=optimizer,
          progress=False)
    for layer, mask in zip(prunable(model), masks.values()):
        w = to_numpy(layer.params["w"])
        assert np.all(w[mask == 0] == 0) and np.count_nonzero(w[mask == 1]) == mask.sum()
    assert sparsity_report(model)["overall"] == pytest.approx(0.8, abs=1e-3)
    assert accuracy(model, digits.x_test, digits.y_test) > 0.8


def test_pruning_arguments_are_checked(mlp):
    with pytest.raises(ValueError, match=r"sparsity must be a fraction in \[0, 1\)"):
        magnitude_masks(mlp, 1.0)
    with pytest.raises(ValueError, match="scope must be one of global, layer"):
        magnitude_masks(mlp, 0.5, "row")
    with pytest.raises(ValueError, match="norm must be one of l1, l2"):
        channel_masks(mlp, 0.5, "linf")
    with pytest.raises(ValueError, match=r"masks\[0\] must have the shape"):
        apply_masks(copy.deepcopy(mlp), {0: np.ones((2, 2), np.float32)})


# -- distillation -------------------------------------------------------------------------------------
def _numeric_gradient(loss, s, t, y, eps=1e-6):
    g = np.zeros_like(s)
    for i in range(s.size):
        up, down = s.copy(), s.copy()
        up.reshape(-1)[i] += eps
        down.reshape(-1)[i] -= eps
        g.reshape(-1)[i] = (float(loss(up, t, y)) - float(loss(down, t, y))) / (2 * eps)
    return g


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 1.0)])
def test_distillation_gradient_matches_central_differences(temperature, alpha):
    rng = np.random.default_rng(7)
    s, t = rng.standard_normal((6, 5)), 3 * rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    loss = DistillationLoss(temperature, alpha)
    loss(s, t, y)
    analytic = to_numpy(loss.backward())
    assert relative_error(analytic, _numeric_gradient(loss, s, t, y)) < 1e-7


def test_distillation_limits():
    rng = np.random.default_rng(8)
    s, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    y = rng.integers(0, 3, 4)
    ce = SoftmaxCrossEntropy()
    want = float(ce(s, y))
    assert float(DistillationLoss(3.0, 0.0)(s, t, y)) == pytest.approx(want, rel=1e-12)   # alpha 0: labels only
    kd = DistillationLoss(3.0, 1.0)
    assert float(kd(s, s, y)) == pytest.approx(0.0, abs=1e-12)      # a student equal to its teacher
    # T^2 keeps the soft gradient's size: at T = 10 it is not 100x smaller than at T = 1
    grads = {}
    for temperature in (1.0, 10.0):
        soft = DistillationLoss(temperature, 1.0)
        soft(s, t, y)
        grads[temperature] = np.abs(to_numpy(soft.backward())).max()
    assert grads[10.0] > 0.01 * grads[1.0]
    with pytest.raises(ValueError, match="temperature must be a positive"):
        DistillationLoss(0.0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        DistillationLoss(2.0, 1.5)
    with pytest.raises(ValueError, match="teacher_logits must have the shape"):
        kd(s, t[:, :2], y)


def test_train_student_learns_from_the_teacher(mlp, digits):
    student = Sequential(Linear(64, 16, seed=3), ReLU(), Linear(16, 10, seed=4), backend="numpy")
    before = accuracy(student, digits.x_test, digits.y_test)
    history = train_student(student, mlp, digits.x_train, digits.y_train, epochs=4, lr=0.3,
                            loss=DistillationLoss(2.0, 0.5), x_test=digits.x_test, y_test=digits.y_test)
    assert history.train_loss[-1] < history.train_loss[0]
    assert before < 0.2 and history.test_accuracy[-1] > 0.8


def test_train_student_with_alpha_0_is_training_on_labels(mlp, digits):
    """alpha = 0 leaves only the cross-entropy: the same batches, the same steps as train()."""
    def student():
        return Sequential(Linear(64, 16, seed=3), ReLU(), Linear(16, 10, seed=4), backend="numpy")
    distilled = train_student(s1 := student(), mlp, digits.x_train, digits.y_train, epochs=2,
                              loss=DistillationLoss(3.0, 0.0))
    plain = train(s2 := student(), SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=2,
                  lr=0.1, progress=False)
    np.testing.assert_allclose(distilled.train_loss, plain.train_loss, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(s1.layers[0].params["w"]), to_numpy(s2.layers[0].params["w"]),
                               rtol=1e-5, atol=1e-6)


# -- the benchmark functions (tiny sizes: their shape, not their speed) -----------------------------------
def test_benchmark_functions_return_rows_to_plot():
    from accel_edu.compression.int8_bench import int8_vs_float32
    from accel_edu.compression.sparsity_bench import random_sparse, spmm_vs_dense
    assert np.count_nonzero(random_sparse(10, 10, 0.9)) == 10
    rows = spmm_vs_dense(32, 32, 8, sparsities=(0.9,), repeat=1)
    assert rows[0]["nnz"] == round(0.1 * 32 * 32) and rows[0]["dense_s"] > 0
    assert all(rows[0][f"{b}_speedup"] > 0 for b in ("numba", "opencl") if b in BACKENDS)
    names = [r["name"] for r in int8_vs_float32(size=24, repeat=1)]
    assert names[0] == "numpy float32 (OpenBLAS)" and len(names) == 1 + 3 * ("numba" in BACKENDS) + ("opencl" in BACKENDS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_qat_lenet_trains_and_its_conv_backward_is_the_ste(digits, backend):
    """prepare_qat on chapter 2's LeNet: every Conv2d and Linear gets its fake-quantized twin, and
    QATConv2d's dw is conv2d_backward's at the fake-quantized (x, w), masked by the STE."""
    from accel_edu.cnn import kernels as CK
    from accel_edu.cnn.models import lenet_digits, prepare_digits
    x = prepare_digits(digits.x_train[:256].reshape(-1, 1, 8, 8))
    y = digits.y_train[:256]
    qat = prepare_qat(lenet_digits(backend=backend, seed=0))
    assert [type(layer).__name__ for layer in qat.layers if layer.params] == ["QATConv2d", "QATConv2d", "QATLinear"]
    recipe = dict(epochs=3, batch_size=32, lr=0.1, progress=False)
    history = train(qat, SoftmaxCrossEntropy(), x, y, **recipe)
    float_history = train(lenet_digits(backend=backend, seed=0), SoftmaxCrossEntropy(), x, y, **recipe)
    assert history.train_loss[-1] < 0.8 * history.train_loss[0]
    # int8's rounding barely changes how the model learns (the STE passes nearly every gradient)
    assert history.train_loss[-1] == pytest.approx(float_history.train_loss[-1], rel=0.1)
    conv = qat.layers[0]
    conv.train()
    out = conv.forward(x[:4])
    dy = np.random.default_rng(9).standard_normal(np.shape(out)).astype(np.float32)
    conv.backward(dy)
    _, dw_fq, _ = CK.conv2d_backward(dy, to_numpy(conv.x_fq), to_numpy(conv.w_fq), padding=1, backend="numpy")
    np.testing.assert_allclose(to_numpy(conv.grads["w"]), dw_fq, rtol=1e-4, atol=1e-5)


def test_ptq_of_a_trained_lenet_runs_its_convolutions_on_the_int8_gemm(digits):
    """Chapter 2's LeNet: both Conv2d layers become QuantizedConv2d (im2col + the int8 GEMM)."""
    from accel_edu.cnn.models import lenet_digits, prepare_digits
    x = prepare_digits(digits.x_train.reshape(-1, 1, 8, 8))
    x_test = prepare_digits(digits.x_test.reshape(-1, 1, 8, 8))
    lenet = lenet_digits(backend="numba" if "numba" in BACKENDS else "numpy", seed=0)
    train(lenet, SoftmaxCrossEntropy(), x, digits.y_train, epochs=3, batch_size=32, lr=0.05, progress=False)
    float_accuracy = accuracy(lenet, x_test, digits.y_test)
    outputs = {}
    for backend in BACKENDS:
        int8_lenet = quantize_model(lenet, x[:256], backend=backend)
        assert [type(layer).__name__ for layer in int8_lenet.layers if "Quantized" in type(layer).__name__] == \
            ["QuantizedConv2d", "QuantizedConv2d", "QuantizedLinear"]
        assert abs(accuracy(int8_lenet, x_test, digits.y_test) - float_accuracy) < 0.03
        outputs[backend] = to_numpy(int8_lenet.forward(x_test[:32]))
    for backend in BACKENDS[1:]:
        np.testing.assert_array_equal(outputs[backend], outputs["numpy"])
    assert model_nbytes(int8_lenet) < 0.3 * model_nbytes(lenet)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pruned_mlp_runs_on_the_csr_kernel_with_the_same_predictions(mlp, digits, backend):
    from accel_edu.compression import SparseLinear, sparsify
    pruned = copy.deepcopy(mlp)
    apply_masks(pruned, magnitude_masks(pruned, 0.9))
    sparse = sparsify(pruned).to(backend)
    assert [type(layer) for layer in sparse.layers].count(SparseLinear) == 2
    assert sparse.layers[0].weight.density == pytest.approx(1 - sparsity_report(pruned)["layers"][0])
    np.testing.assert_allclose(to_numpy(sparse.forward(digits.x_test[:50])),
                               to_numpy(pruned.forward(digits.x_test[:50])), rtol=1e-4, atol=1e-5)
    assert model_nbytes(sparse) < 0.3 * model_nbytes(pruned)   # 10% of the values, each with a 4-byte index


def test_the_chapter_measurements_return_rows_to_tabulate(mlp, digits):
    from accel_edu.compression.compare import accuracy_vs_sparsity, size_accuracy_speed
    rows = accuracy_vs_sparsity(mlp, digits.x_train, digits.y_train, digits.x_test, digits.y_test,
                                sparsities=(0.5, 0.99), fine_tune_epochs=1)
    assert [r["sparsity"] for r in rows] == [0.5, 0.99]
    assert rows[0]["accuracy"] > rows[1]["accuracy"]           # 99% of the weights gone costs accuracy
    assert rows[1]["fine_tuned"] > rows[1]["accuracy"]         # and fine-tuning wins some back
    table = size_accuracy_speed({"float32": mlp, "int8": quantize_model(mlp, digits.x_train[:256])},
                                digits.x_test, digits.y_test, batch=64, repeat=1)
    assert [r["name"] for r in table] == ["float32", "int8"]
    assert table[1]["bytes"] < table[0]["bytes"] and all(r["batch_ms"] > 0 for r in table)
    assert table[0]["accuracy"] == accuracy(mlp, digits.x_test, digits.y_test)


def test_distilled_vs_labels_trains_the_same_student_both_ways(mlp, digits):
    from accel_edu.compression.compare import distilled_vs_labels

    def student():
        return Sequential(Linear(64, 8, seed=3), ReLU(), Linear(8, 10, seed=4), backend="numpy")
    runs = distilled_vs_labels(mlp, student, digits.x_train, digits.y_train, digits.x_test, digits.y_test,
                               epochs=2)
    assert set(runs) == {"labels", "distilled"}
    assert all(len(h.test_accuracy) == 2 and h.test_accuracy[-1] > 0.5 for h in runs.values())
    assert runs["labels"].train_loss != runs["distilled"].train_loss      # two different objectives
