"""Two-dimensional loss surfaces for watching optimizers move, and a runner that records the path.

    rosenbrock(w)  = (1 - x)^2 + 100 (y - x^2)^2     a curved valley, minimum at (1, 1)
    ill_conditioned(w) = (x^2 + kappa y^2) / 2         curvature 1 along x, kappa along y

Each function takes w of shape (2,) and returns (loss, gradient). ``trajectory`` runs any
optimizer of this chapter on one of them, through the same (module, name) interface a network
uses, so what is drawn is exactly what the kernels do.
"""
from __future__ import annotations

import numpy as np

from ..backprop.module import Module


def rosenbrock(w):
    """(loss, grad) of (1 - x)^2 + 100 (y - x^2)^2 at w = (x, y)."""
    x, y = w
    loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    grad = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
    return float(loss), grad


def ill_conditioned(w, kappa: float = 50.0):
    """(loss, grad) of (x^2 + kappa y^2) / 2: condition number kappa, minimum at (0, 0)."""
    x, y = w
    return float(0.5 * (x * x + kappa * y * y)), np.array([x, kappa * y])


class Point(Module):
    """One parameter, ``w`` of shape (2,): a position on a 2-D surface."""

    def __init__(self, start, backend: str = "numpy"):
        super().__init__(backend)
        self.params = {"w": self._here(np.array(start, dtype=np.float64))}


def trajectory(make_optimizer, surface, start, steps: int, clip=None):
    """Run ``make_optimizer(point.parameters())`` for ``steps`` steps on ``surface`` from
    ``start``. Returns (path, losses): path (steps + 1, 2), losses (steps + 1,). With ``clip``,
    gradients are clipped to that global norm before each step. A path that leaves the finite
    numbers stops there (its last rows are nan)."""
    from .clipping import clip_grad_norm
    point = Point(start)
    opt = make_optimizer(point.parameters())
    path = np.full((steps + 1, 2), np.nan)
    losses = np.full(steps + 1, np.nan)
    for t in range(steps + 1):
        w = point.params["w"]
        loss, grad = surface(w)
        path[t], losses[t] = w, loss
        if t == steps or not np.isfinite(loss) or abs(loss) > 1e12:
            break
        point.grads = {"w": grad}
        if clip is not None:
            clip_grad_norm(point.parameters(), clip)
        opt.step()
    return path, losses
