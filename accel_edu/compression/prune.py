"""Magnitude pruning: set the smallest weights to zero and keep them there while fine-tuning.

A pruning is a set of masks, one per weight (1 = kept, 0 = pruned), the shape of the weight:

* unstructured: the individual weights of smallest |w|, by one threshold for the whole model
  (``scope="global"``: layers with many small weights lose more) or one per layer
  (``scope="layer"``: every layer loses the same fraction);
* structured: whole output channels (rows of a Linear's w, filters of a Conv2d's) of smallest
  L1 or L2 norm, with their bias. The layer is then a smaller dense layer, which is faster on
  any hardware; unstructured sparsity pays only through a sparse kernel (CSR), and only when
  very sparse (see sparsity_bench.py).

Only weights named "w" are pruned (biases are few and cheap). Masks are NumPy arrays; applying
one on OpenCL uploads it and multiplies on the device.
"""
from __future__ import annotations

import numpy as np

from ..backprop import kernels as BK
from ..runtime import to_numpy

SCOPES = ("global", "layer")
NORMS = {"l1": 1, "l2": 2}


def _check_fraction(sparsity) -> float:
    if not isinstance(sparsity, (int, float, np.floating)) or not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be a fraction in [0, 1) of weights to prune; got {sparsity!r}")
    return float(sparsity)


def prunable(model) -> list:
    """The layers with a weight "w", in order: Linear, Conv2d and their QAT twins."""
    layers = getattr(model, "layers", [model])
    return [layer for layer in layers if "w" in layer.params]


def _smallest(values: np.ndarray, count: int) -> np.ndarray:
    """A boolean mask of the ``count`` entries of smallest value (ties broken by position)."""
    out = np.zeros(values.shape, bool)
    if count:
        out.reshape(-1)[np.argsort(values.reshape(-1), kind="stable")[:count]] = True
    return out


def magnitude_masks(model, sparsity: float, scope: str = "global") -> dict[int, np.ndarray]:
    """{index in prunable(model): mask} pruning ``sparsity`` of the weights by |w|.

    Exactly round(sparsity * count) weights are pruned, globally or in each layer.
    """
    sparsity = _check_fraction(sparsity)
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}; got {scope!r}")
    weights = [np.abs(to_numpy(layer.params["w"])) for layer in prunable(model)]
    if not weights:
        raise ValueError("model has no layer with a weight 'w' to prune")
    if scope == "layer":
        return {i: (~_smallest(w, round(sparsity * w.size))).astype(w.dtype) for i, w in enumerate(weights)}
    flat = np.concatenate([w.reshape(-1) for w in weights])
    pruned = _smallest(flat, round(sparsity * flat.size))
    masks, start = {}, 0
    for i, w in enumerate(weights):
        masks[i] = (~pruned[start:start + w.size]).reshape(w.shape).astype(w.dtype)
        start += w.size
    return masks


def channel_masks(model, sparsity: float, norm: str = "l1", skip_last: bool = True) -> dict[int, np.ndarray]:
    """{index: mask} pruning round(sparsity * C_out) whole output channels of each layer by norm.

    The last layer is left whole by default (``skip_last``): its outputs are the classes.
    """
    sparsity = _check_fraction(sparsity)
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}; got {norm!r}")
    layers = prunable(model)
    masks = {}
    for i, layer in enumerate(layers):
        w = to_numpy(layer.params["w"])
        if skip_last and i == len(layers) - 1:
            masks[i] = np.ones_like(w)
            continue
        norms = np.linalg.norm(w.reshape(w.shape[0], -1), ord=NORMS[norm], axis=1)
        dropped = _smallest(norms, round(sparsity * w.shape[0]))
        masks[i] = np.broadcast_to(~dropped.reshape((-1,) + (1,) * (w.ndim - 1)), w.shape).astype(w.dtype)
    return masks


def apply_masks(model, masks: dict[int, np.ndarray]) -> None:
    """w *= mask for each pruned layer, where the layer lives; a fully pruned output channel
    also loses its bias (its output is then exactly 0, as if the channel were removed)."""
    layers = prunable(model)
    for i, mask in masks.items():
        layer = layers[i]
        w = layer.params["w"]
        if tuple(mask.shape) != tuple(w.shape):
            raise ValueError(f"masks[{i}] must have the shape of layer {i}'s weight {tuple(w.shape)}; "
                             f"got {tuple(mask.shape)}")
        # relu_backward(dy, x) is dy * [x > 0]: with x = the mask, a mask multiply on any backend.
        layer.params["w"] = BK.relu_backward(w, layer._here(mask.astype(w.dtype)), backend=layer.backend)
        if "b" in layer.params:
            alive = mask.reshape(mask.shape[0], -1).any(axis=1)
            if not alive.all():
                b = layer.params["b"]
                layer.params["b"] = BK.relu_backward(b, layer._here(alive.astype(b.dtype)), backend=layer.backend)


class MaskedOptimizer:
    """Wraps an optimizer so pruned weights stay 0 while fine-tuning: after each step the masks
    are applied again (the step moved them by -lr * grad). ``train(..., optimizer=MaskedOptimizer(...))``."""

    def __init__(self, optimizer, model, masks: dict[int, np.ndarray]):
        self.optimizer, self.model, self.masks = optimizer, model, masks

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def step(self) -> None:
        self.optimizer.step()
        apply_masks(self.model, self.masks)


def sparsity_report(model) -> dict:
    """{"layers": [fraction of zero weights per prunable layer], "overall": fraction of all}."""
    counts = [(int(np.count_nonzero(to_numpy(layer.params["w"]) == 0)), int(np.prod(layer.params["w"].shape)))
              for layer in prunable(model)]
    zeros, total = sum(z for z, _ in counts), sum(n for _, n in counts)
    return {"layers": [z / n for z, n in counts], "overall": zeros / total}
