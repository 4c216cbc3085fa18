"""What chapter 7's later sections add to accel_edu.compression: structured pruning made real
(remove_pruned_neurons), the backend column of the size/accuracy/speed table, the Numba dense
baseline of the sparse benchmark, and benchmarks/compression.py's record (its shape and
options, never its timings: speed lives in the recorded benchmarks)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from accel_edu.backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy, train
from accel_edu.compression.compare import remove_pruned_neurons, size_accuracy_speed
from accel_edu.compression.prune import apply_masks, channel_masks, magnitude_masks
from accel_edu.compression.ptq import model_nbytes
from accel_edu.data import load_digits
from accel_edu.runtime import available_backends, to_numpy

ROOT = Path(__file__).resolve().parents[1]
HAVE = available_backends()


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def mlp(digits):
    """A 64-32-16-10 MLP trained 3 epochs: two hidden layers, so a pruned layer's next Linear
    is a hidden one as well as the classifier."""
    model = Sequential(Linear(64, 32, seed=1), ReLU(), Linear(32, 16, seed=2), ReLU(), Linear(16, 10, seed=3),
                       backend="numpy")
    train(model, SoftmaxCrossEntropy(), digits.x_train, digits.y_train, epochs=3, lr=0.1, progress=False)
    return model.eval()


def test_remove_pruned_neurons_gives_a_smaller_model_with_the_same_outputs(mlp, digits):
    pruned = copy.deepcopy(mlp)
    apply_masks(pruned, channel_masks(pruned, 0.5, "l1"))          # 16 of 32, 8 of 16 neurons go
    smaller = remove_pruned_neurons(pruned)
    shapes = [tuple(layer.params["w"].shape) for layer in smaller.layers if layer.params]
    assert shapes == [(16, 64), (8, 16), (10, 8)]
    np.testing.assert_allclose(smaller.forward(digits.x_test), pruned.forward(digits.x_test), atol=1e-5)
    assert model_nbytes(smaller) < 0.5 * model_nbytes(pruned)
    assert len(mlp.layers[0].params["w"]) == 32                      # the argument is left whole


def test_remove_pruned_neurons_keeps_a_neuron_whose_bias_alone_is_alive(mlp):
    """A neuron with a zero row but a nonzero bias outputs relu(b), not 0: it must stay."""
    model = copy.deepcopy(mlp)
    w = to_numpy(model.layers[0].params["w"]).copy()
    w[:5] = 0                                                        # rows 0-4 zero, biases kept
    model.layers[0].params["w"] = w
    b = to_numpy(model.layers[0].params["b"])
    smaller = remove_pruned_neurons(model)
    assert smaller.layers[0].params["w"].shape[0] == 32 - int(np.sum(b[:5] == 0))
    x = np.random.default_rng(0).standard_normal((7, 64)).astype(np.float32)
    np.testing.assert_allclose(smaller.forward(x), model.forward(x), atol=1e-5)


def test_unstructured_zeros_remove_no_neuron_and_bad_input_names_the_model(mlp):
    pruned = copy.deepcopy(mlp)
    apply_masks(pruned, magnitude_masks(pruned, 0.5, "global"))
    smaller = remove_pruned_neurons(pruned)
    assert [layer.params["w"].shape for layer in smaller.layers if layer.params] == \
        [layer.params["w"].shape for layer in pruned.layers if layer.params]
    with pytest.raises(ValueError, match="model must hold Linear layers"):
        remove_pruned_neurons(Sequential(ReLU(), backend="numpy"))


def test_size_accuracy_speed_names_each_models_backend(mlp, digits):
    models = {"float32": mlp}
    if HAVE["numba"]:
        models["numba copy"] = copy.deepcopy(mlp).to("numba")
    table = size_accuracy_speed(models, digits.x_test, digits.y_test, batch=32, repeat=1)
    assert [row["backend"] for row in table] == [m.backend for m in models.values()]
    assert len({row["accuracy"] for row in table}) == 1              # the same weights everywhere
    assert all(row["batch_ms"] > 0 and row["bytes"] == model_nbytes(mlp) for row in table)


@pytest.mark.skipif(not HAVE["numba"], reason="the dense Numba baseline needs Numba")
def test_spmm_vs_dense_times_the_numba_dense_baseline_too():
    from accel_edu.compression.sparsity_bench import spmm_vs_dense
    rows = spmm_vs_dense(48, 40, 8, sparsities=(0.5, 0.95), repeat=1, min_seconds=0.0, settle=0.0)
    assert [r["sparsity"] for r in rows] == [0.5, 0.95]
    assert [r["nnz"] for r in rows] == [round(0.5 * 48 * 40), round(0.05 * 48 * 40)]
    assert all(r["dense_numba_s"] > 0 and r["numba_s"] > 0 for r in rows)


def test_benchmark_script_records_both_questions(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compression.py"), "--sizes", "32",
                           "--m", "64", "--k", "48", "--n", "8", "--repeat", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    [path] = tmp_path.glob("compression-????-??-??.json")
    record = json.loads(path.read_text())
    assert set(record) == {"machine", "int8_vs_float32", "spmm_vs_dense"}
    assert record["int8_vs_float32"]["32"][0]["name"] == "numpy float32 (OpenBLAS)"
    sp = record["spmm_vs_dense"]
    assert (sp["m"], sp["k"], sp["n"]) == (64, 48, 8) and len(sp["rows"]) == 7
    assert "written to" in proc.stdout


def test_distilled_vs_labels_can_return_the_two_students(mlp, digits):
    from accel_edu.backprop import accuracy
    from accel_edu.compression.compare import distilled_vs_labels

    def student():
        return Sequential(Linear(64, 8, seed=3), ReLU(), Linear(8, 10, seed=4), backend="numpy")
    runs = distilled_vs_labels(mlp, student, digits.x_train[:200], digits.y_train[:200], digits.x_test,
                               digits.y_test, epochs=2, return_models=True)
    assert set(runs) == {"labels", "distilled", "models"}
    for name, model in runs["models"].items():        # each History's last record is its model's
        assert not model.training
        assert accuracy(model, digits.x_test, digits.y_test) == runs[name].test_accuracy[-1]
    w = [to_numpy(m.layers[0].params["w"]) for m in runs["models"].values()]
    assert not np.array_equal(*w)                      # two objectives, two different students
