"""Numerical gradient checking: is a backward pass the derivative of its forward pass?

For a layer f and a random upstream gradient g, the scalar L(x, θ) = sum(f(x; θ) * g) has
dL/dx = backward(g) and dL/dθ = the parameter gradients. Central differences,

    dL/dθ_i ≈ (L(θ + ε e_i) - L(θ - ε e_i)) / 2ε,       error O(ε²),

estimate the same numbers independently. Projecting onto a random g (rather than summing the
output) catches bugs that a plain ``.sum()`` hides, such as a transposed or permuted gradient.
Everything runs in float64: in float32, rounding error (~1e-7 / ε) would swamp the O(ε²) term.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..runtime import to_numpy


@dataclass
class GradCheckResult:
    """Relative error per checked quantity (``"x"`` for the input, then each parameter)."""
    errors: dict[str, float]
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        rows = [f"  {name:<8} relative error {err:.2e}  {'ok' if err <= self.tolerance else 'WRONG'}"
                for name, err in self.errors.items()]
        verdict = "passed" if self.passed else "FAILED"
        return f"gradient check {verdict} (tolerance {self.tolerance:.0e})\n" + "\n".join(rows)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a - n| / max(|a| + |n|), a scale-free error that is ~1e-9 or less when right."""
    denominator = max(float(np.max(np.abs(analytic) + np.abs(numeric))), 1e-12)
    return float(np.max(np.abs(analytic - numeric))) / denominator


def _as64(module):
    """A float64 copy of ``module``, on the same backend (the original is left untouched)."""
    twin = copy.deepcopy(module)
    for layer in getattr(twin, "layers", [twin]):
        layer.params = {k: layer._here(to_numpy(v).astype(np.float64)) for k, v in layer.params.items()}
    return twin


def gradient_check(module, x, *, eps: float = 1e-6, seed: int = 0, tolerance: float = 1e-6,
                   max_entries: int = 64) -> GradCheckResult:
    """Check ``module.backward`` against central differences of ``module.forward``.

    x: the input (any shape the module takes). At most ``max_entries`` randomly chosen
    entries of each tensor are perturbed, which keeps big layers quick and still catches a
    wrong formula. Returns a :class:`GradCheckResult` (truthy when every error <= tolerance).
    """
    module = _as64(module)
    x = np.array(to_numpy(x), dtype=np.float64)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(to_numpy(module.forward(x)).shape)

    def objective() -> float:
        return float(np.sum(to_numpy(module.forward(x)) * g))

    module.forward(x)
    analytic = {"x": to_numpy(module.backward(g))}
    analytic.update({k: to_numpy(v) for k, v in module.grads.items()})

    tensors = {"x": x}
    tensors.update({k: v for k, v in module.params.items()})
    errors = {}
    for name, tensor in tensors.items():
        host = np.array(to_numpy(tensor))
        picks = rng.choice(host.size, size=min(max_entries, host.size), replace=False)
        numeric = np.empty(len(picks))
        for j, flat in enumerate(picks):
            numeric[j] = _central_difference(module, name, host, flat, eps, objective, x)
        errors[name] = relative_error(analytic[name].reshape(-1)[picks], numeric)
    return GradCheckResult(errors, tolerance)


def _central_difference(module, name, host, flat, eps, objective, x) -> float:
    """(L(t + ε) - L(t - ε)) / 2ε for entry ``flat`` of tensor ``name``, restoring it after."""
    values = []
    for step in (+eps, -eps):
        bumped = host.copy()
        bumped.reshape(-1)[flat] += step
        if name == "x":
            x[...] = bumped
        else:
            _set_param(module, name, bumped)
        values.append(objective())
    if name == "x":
        x[...] = host
    else:
        _set_param(module, name, host)
    return (values[0] - values[1]) / (2 * eps)


def _set_param(module, name, value):
    if hasattr(module, "layers"):  # Sequential: "2.w" is layer 2's "w"
        index, _, inner = name.partition(".")
        module = module.layers[int(index)]
        name = inner
    module.params[name] = module._here(value)


def loss_gradient_check(loss_fn, pred, target, *, eps: float = 1e-6, tolerance: float = 1e-6,
                        seed: int = 0, max_entries: int = 64) -> GradCheckResult:
    """Check a loss's gradient with respect to its prediction argument, in float64."""
    pred = np.array(to_numpy(pred), dtype=np.float64)
    if np.issubdtype(np.asarray(target).dtype, np.floating):
        target = np.asarray(target, dtype=np.float64)
    loss_fn.forward(pred, target)
    analytic = to_numpy(loss_fn.backward()).reshape(-1)
    rng = np.random.default_rng(seed)
    picks = rng.choice(pred.size, size=min(max_entries, pred.size), replace=False)
    numeric = np.empty(len(picks))
    for j, flat in enumerate(picks):
        vals = []
        for step in (+eps, -eps):
            bumped = pred.copy()
            bumped.reshape(-1)[flat] += step
            vals.append(float(to_numpy(loss_fn.forward(bumped, target))))
        numeric[j] = (vals[0] - vals[1]) / (2 * eps)
    return GradCheckResult({"pred": relative_error(analytic[picks], numeric)}, tolerance)
