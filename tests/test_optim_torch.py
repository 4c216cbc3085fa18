"""Oracle: a few hundred steps of each optimizer agree with torch.optim (skipped without torch).

Both follow the same trajectory on a noisy ill-conditioned quadratic: the gradient at each step
is A w - b plus seeded noise, computed from each side's own current weights, so a rule that
differs anywhere (a bias correction, where eps goes, the first momentum step) drifts apart.
"""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import Module
from accel_edu.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from accel_edu.runtime import available_backends, to_numpy

torch = pytest.importorskip("torch")

AVAILABLE = available_backends()
STEPS = 300
SHAPES = {"w": (7, 3), "b": (5,)}

# (our class, torch's class, keyword arguments both take)
CONFIGS = {
    "SGD": (SGD, "SGD", dict(lr=0.02)),
    "SGD-momentum-dampening-wd": (SGD, "SGD", dict(lr=0.02, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    "SGD-nesterov": (SGD, "SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
    "Adagrad": (Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
    "RMSprop": (RMSprop, "RMSprop", dict(lr=0.003, alpha=0.9, weight_decay=0.01)),
    "Adam": (Adam, "Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05)),
    "AdamW": (AdamW, "AdamW", dict(lr=0.01, weight_decay=0.1)),
}


class Params(Module):
    def __init__(self, arrays, backend):
        super().__init__(backend)
        self.params = {k: self._here(v.copy()) for k, v in arrays.items()}


def _problem(dtype):
    rng = np.random.default_rng(7)
    start = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    # A diagonal curvature from 0.1 to 10 per weight: an ill-conditioned quadratic.
    curvature = {k: np.geomspace(0.1, 10, int(np.prod(s))).reshape(s).astype(dtype) for k, s in SHAPES.items()}
    noise = [{k: (0.1 * rng.standard_normal(s)).astype(dtype) for k, s in SHAPES.items()} for _ in range(STEPS)]
    return start, curvature, noise


@pytest.mark.parametrize("backend, dtype, rtol", [
    pytest.param("numpy", np.float64, 1e-9, id="numpy-float64"),
    pytest.param("numba", np.float64, 1e-9, id="numba-float64",
                 marks=pytest.mark.skipif(not AVAILABLE["numba"], reason=AVAILABLE["numba"].detail)),
    pytest.param("opencl", np.float32, 2e-3, id="opencl-float32",
                 marks=pytest.mark.skipif(not AVAILABLE["opencl"], reason=AVAILABLE["opencl"].detail)),
])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_agrees_with_torch_optim(config, backend, dtype, rtol):
    ours_cls, torch_name, kwargs = CONFIGS[config]
    start, curvature, noise = _problem(dtype)
    module = Params(start, backend)
    ours = ours_cls(module.parameters(), **kwargs)
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in start.items()}
    theirs = getattr(torch.optim, torch_name)(list(tensors.values()), **kwargs)
    for t in range(STEPS):
        host = {k: to_numpy(module.params[k]) for k in SHAPES}
        module.grads = {k: module._here(curvature[k] * host[k] - 1.0 + noise[t][k]) for k in SHAPES}
        ours.step()
        for k, p in tensors.items():
            p.grad = torch.from_numpy(curvature[k]) * p.detach() - 1.0 + torch.from_numpy(noise[t][k])
        theirs.step()
    for k in SHAPES:
        want = tensors[k].detach().numpy()
        got = to_numpy(module.params[k])
        assert not np.allclose(want, start[k], atol=1e-2), "the weights should have moved"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=f"{config} {k} after {STEPS} steps")
