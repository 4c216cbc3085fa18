"""The chapter's side-by-side measurements: accuracy against sparsity, and one table of size,
accuracy and speed for every compressed version of a model.

Speeds are interleaved medians (``bench.timing.interleaved_medians``): every model's inference
on the same batch, timed in turn, so load from other processes lands on all of them alike.
"""
from __future__ import annotations

import copy

import numpy as np

from ..backprop import SGD, SoftmaxCrossEntropy, accuracy, train
from ..runtime import to_numpy
from .prune import MaskedOptimizer, apply_masks, channel_masks, magnitude_masks


def accuracy_vs_sparsity(model, x_train, y_train, x_test, y_test, sparsities=(0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
                         *, kind: str = "global", fine_tune_epochs: int = 0, lr: float = 0.05,
                         seed: int = 0) -> list[dict]:
    """[{"sparsity", "accuracy", "fine_tuned"}]: ``model`` (left unchanged) pruned to each sparsity.

    kind: "global" or "layer" (unstructured magnitude pruning) or "l1" / "l2" (whole output
    channels by norm); with fine_tune_epochs > 0, the pruned copy is then trained that many
    epochs with its masks kept (MaskedOptimizer), and "fine_tuned" is its accuracy after.
    """
    rows = []
    for sparsity in sparsities:
        pruned = copy.deepcopy(model)
        masks = channel_masks(pruned, sparsity, kind) if kind in ("l1", "l2") else magnitude_masks(pruned, sparsity, kind)
        apply_masks(pruned, masks)
        row = {"sparsity": float(sparsity), "accuracy": accuracy(pruned.eval(), x_test, y_test),
               "fine_tuned": float("nan")}
        if fine_tune_epochs:
            optimizer = MaskedOptimizer(SGD(pruned.parameters(), lr), pruned, masks)
            train(pruned, SoftmaxCrossEntropy(), x_train, y_train, epochs=fine_tune_epochs, optimizer=optimizer,
                  seed=seed, progress=False)
            row["fine_tuned"] = accuracy(pruned, x_test, y_test)
        rows.append(row)
    return rows


def size_accuracy_speed(models: dict, x_test, y_test, *, batch: int = 256, repeat: int = 5) -> list[dict]:
    """[{"name", "bytes", "accuracy", "batch_ms"}] for each {name: model}, side by side.

    bytes: model_nbytes (a compressed layer as it stores itself); batch_ms: the median time
    of one forward pass over the first ``batch`` test inputs (results waited for).
    """
    from ..bench.timing import interleaved_medians
    from ..runtime.opencl import finish
    from .ptq import model_nbytes

    x = np.asarray(x_test[:batch])

    def forward(model):
        return lambda: to_numpy(model.forward(x))     # the download waits for OpenCL, too

    times = interleaved_medians({name: (forward(m), finish if m.backend == "opencl" else None)
                                 for name, m in models.items()}, repeat=repeat)
    return [{"name": name, "backend": m.backend, "bytes": model_nbytes(m),
             "accuracy": accuracy(m.eval(), x_test, y_test), "batch_ms": times[name] * 1e3}
            for name, m in models.items()]


def remove_pruned_neurons(model):
    """A smaller dense copy of a Sequential of Linear layers (and ReLUs) after channel pruning.

    A hidden neuron whose row of w is all zero (and whose bias is 0, as apply_masks leaves it)
    outputs relu(0) = 0, so the next Linear's column for it multiplies zero: both are dropped.
    The copy computes the same outputs with (D_out - dropped) rows: what structured pruning
    buys on any hardware, with no sparse kernel. model: layers of Linear and element-wise
    activations with f(0) = 0 (ReLU); the last Linear keeps all its outputs.
    """
    from ..backprop.layers import Linear
    from ..backprop.sequential import Sequential
    layers = [copy.deepcopy(layer) for layer in model.layers]
    linear = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
    if not linear:
        raise ValueError("model must hold Linear layers to shrink; got none")
    for i, j in zip(linear, linear[1:]):
        w, b = to_numpy(layers[i].params["w"]), to_numpy(layers[i].params["b"])
        alive = np.flatnonzero(np.any(w != 0, axis=1) | (b != 0))
        if alive.size == 0:
            alive = np.arange(1)                # keep one (zero) neuron: a layer needs an output
        w_next = to_numpy(layers[j].params["w"])
        layers[i] = _linear_from(w[alive], b[alive], model.backend)
        layers[j] = _linear_from(w_next[:, alive], to_numpy(layers[j].params["b"]), model.backend)
    return Sequential(*layers, backend=model.backend).eval()


def _linear_from(w, b, backend):
    """A Linear (w.shape[1] -> w.shape[0]) holding copies of w (D_out, D_in) and b (D_out,)."""
    from ..backprop.layers import Linear
    layer = Linear(w.shape[1], w.shape[0], dtype=w.dtype, backend=backend)
    layer.params = {"w": layer._here(np.ascontiguousarray(w)), "b": layer._here(b.copy())}
    return layer


def distilled_vs_labels(teacher, make_student, x_train, y_train, x_test, y_test, *, epochs: int = 10,
                        lr: float = 0.3, temperature: float = 2.0, alpha: float = 0.5,
                        seed: int = 0, return_models: bool = False) -> dict:
    """The same student (``make_student()``, a fresh model each call) trained twice on the same
    batches: on the labels alone, and from the teacher by distillation.
    Returns {"labels": History, "distilled": History}; with return_models, also
    "models": {"labels": student, "distilled": student}, the two trained students (eval mode)."""
    from .distill import DistillationLoss, train_student
    students = {"labels": make_student(), "distilled": make_student()}
    plain = train(students["labels"], SoftmaxCrossEntropy(), x_train, y_train, epochs=epochs, lr=lr,
                  x_test=x_test, y_test=y_test, seed=seed, progress=False)
    distilled = train_student(students["distilled"], teacher, x_train, y_train, epochs=epochs, lr=lr, seed=seed,
                              loss=DistillationLoss(temperature, alpha), x_test=x_test, y_test=y_test)
    runs = {"labels": plain, "distilled": distilled}
    if return_models:
        runs["models"] = {name: model.eval() for name, model in students.items()}
    return runs
