"""Stochastic gradient descent: param <- param - lr * grad, one fused in-place kernel per tensor."""
from __future__ import annotations

from ..runtime.checks import check_positive
from . import kernels as K


class SGD:
    """``SGD(model.parameters(), lr=0.1)``; call :meth:`step` after ``model.backward``."""

    def __init__(self, parameters, lr: float):
        check_positive("lr", lr)
        self.parameters = list(parameters)
        self.lr = float(lr)

    def step(self) -> None:
        for module, name in self.parameters:
            if name not in module.grads:
                raise RuntimeError(f"no gradient for {type(module).__name__}.{name}: "
                                   "call backward() before step()")
            # In place: the parameter keeps its buffer, so on OpenCL it never leaves the device.
            K.sgd_update(module.params[name], module.grads[name], self.lr, backend=module.backend)
