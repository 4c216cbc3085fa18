"""Parts 5 and 6 of ``07_compression``: the cases and expected masks of magnitude pruning.

The expected masks come from the chapter's ``accel_edu.compression.prune`` (which works on a
model's layers; here a layer is only its weight). Masks are 1 (kept) and 0 (pruned) in the
weight's dtype and are compared exactly.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ...compression import prune as ref_prune
from ..compare import check_array, describe
from ..parts import Case

DTYPES = (np.float32, np.float64)
# The tolerance of an exact comparison of floats (masks, dequantized values): check_array scales
# it by the values (~1), so no rounding error meets it, and it is not 0 (which it divides by).
EXACT = 1e-300


def _name(dtype) -> str:
    return np.dtype(dtype).name


# -- Parts 5 and 6: magnitude pruning -----------------------------------------------------------
def _as_model(weights):
    """The library's pruning works on a model's layers; a layer here is just its weight."""
    return SimpleNamespace(layers=[SimpleNamespace(params={"w": w}) for w in weights])


def global_masks_reference(weights, sparsity):
    masks = ref_prune.magnitude_masks(_as_model(weights), sparsity, scope="global")
    return tuple(masks[i] for i in range(len(weights)))


def _global_inputs(rng, dtype):
    """(label, weights, sparsity) for one dtype."""
    normal = rng.standard_normal
    yield "one layer (20,), sparsity 0.5", [normal(20)], 0.5
    yield "two layers (8, 16) and (4, 8), the second 10x smaller, sparsity 0.3", \
        [normal((8, 16)), 0.1 * normal((4, 8))], 0.3
    yield "three layers (4, 2, 3, 3), (10, 36), (3, 10) of scales 2, 0.5, 1, sparsity 0.75", \
        [2 * normal((4, 2, 3, 3)), 0.5 * normal((10, 36)), normal((3, 10))], 0.75
    yield "two layers (5, 5) and (7,), sparsity 0 (nothing pruned)", [normal((5, 5)), normal(7)], 0.0
    yield "two layers (30, 20) and (20, 10), sparsity 0.9", [normal((30, 20)), 3 * normal((20, 10))], 0.9
    # Ties: weights on a grid of 0.1, so many share one |w|; the earlier ones go first.
    yield "ties: two layers (6, 6) and (12,) of multiples of 0.1 (many equal |w|), sparsity 0.4", \
        [np.round(normal((6, 6)), 1), np.round(0.3 * normal(12), 1)], 0.4


def _global_cases(rng):
    cases = []
    for dtype in DTYPES:
        for label, weights, sparsity in _global_inputs(rng, dtype):
            weights = [w.astype(dtype) for w in weights]
            cases.append(Case(f"{label}, {_name(dtype)}", [weights, sparsity],
                              global_masks_reference(weights, sparsity), EXACT))
    return cases


def _check_masks(got, want: tuple) -> str | None:
    if not isinstance(got, (list, tuple)):
        return f"should return a list of {len(want)} masks, one per weight; got {describe(got)}"
    if len(got) != len(want):
        return f"should return {len(want)} masks, one per weight; got {len(got)}"
    for i, (g, w) in enumerate(zip(got, want)):
        problem = check_array(f"masks[{i}]", g, w, EXACT)
        if problem:
            if isinstance(g, np.ndarray) and g.shape == w.shape and g.dtype == w.dtype:
                problem += (f" (you pruned {int(np.sum(g == 0))} of its weights, the reference "
                            f"{int(np.sum(w == 0))}; {int(np.sum((g == 0) != (w == 0)))} differ)")
            return problem
    return None


def neuron_masks_reference(w, sparsity):
    return (ref_prune.channel_masks(_as_model([w]), sparsity, norm="l2", skip_last=False)[0],)


def _neuron_inputs(rng, dtype):
    """(label, w, sparsity): rows (output neurons) of distinct scales, and one where L1 misleads."""
    def rows(shape):
        # Row scales 1.27x or more apart, entries within 10% of the scale: L1 and L2 rank alike.
        scales = rng.permutation(np.geomspace(0.1, 10, 20))[:shape[0]].reshape((-1,) + (1,) * (len(shape) - 1))
        return scales * rng.choice([-1.0, 1.0], shape) * rng.uniform(0.9, 1.1, shape)
    yield "w (10, 5), sparsity 0.5", rows((10, 5)), 0.5
    yield "w (8, 3, 3, 3) (a convolution's filters), sparsity 0.25", rows((8, 3, 3, 3)), 0.25
    yield "w (1, 4), sparsity 0.4 (round(0.4) = 0 rows)", rows((1, 4)), 0.4
    yield "w (12, 7), sparsity 0 (nothing pruned)", rows((12, 7)), 0.0
    yield "w (20, 3), sparsity 0.9", rows((20, 3)), 0.9
    # Rows whose L1 and L2 norms rank them in opposite orders: [3, 0, 0, 0] has L1 = L2 = 3,
    # [1, 1, 1, 1] has L1 = 4 but L2 = 2.
    w = np.array([[3, 0, 0, 0], [1, 1, 1, 1], [2.5, 2.5, 0, 0], [0, 0, 0, 4], [1.1, 1.2, 1, 1.3]])
    yield "w (5, 4) whose rows rank differently by L1 and L2 norm, sparsity 0.4", w, 0.4


def _neuron_cases(rng):
    cases = []
    for dtype in DTYPES:
        for label, w, sparsity in _neuron_inputs(rng, dtype):
            w = w.astype(dtype)
            cases.append(Case(f"{label}, {_name(dtype)}", [w, sparsity], neuron_masks_reference(w, sparsity), EXACT))
    return cases
