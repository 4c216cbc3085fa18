"""L1 and L2 weight penalties as something ``backprop.train`` applies: ``train(..., penalty=L2Penalty(1e-3))``.

A penalty R(w) added to the loss adds dR/dw to every weight's gradient, so it needs no change
to the forward or backward pass: after ``model.backward`` it adds, in place and on the
weights' own backend,
    L2:  R = (lam / 2) sum w^2    ->  grad += lam * w        ("weight decay" for plain SGD)
    L1:  R = lam sum |w|          ->  grad += lam * sign(w)  (pushes weights to exactly 0)
Only weight tensors are penalised (parameters named ``w``: Linear and convolution kernels),
not biases or batch norm's gamma and beta, as is usual. With Adam, an L2 penalty's gradient
is divided by Adam's per-weight scale like any other gradient, so it is *not* AdamW's decoupled
weight decay: see the optimizers chapter.
"""
from __future__ import annotations

from ..runtime import to_numpy
from . import checks
from . import kernels as K


class _Penalty:
    value_kernel = None
    grad_kernel = None

    def __init__(self, lam: float, *, names=("w",)):
        checks.penalty_strength(lam)
        self.lam, self.names = float(lam), tuple(names)

    def _weights(self, model):
        return [(m, n) for m, n in model.parameters() if n in self.names]

    def __call__(self, model) -> None:
        """Add the penalty's gradient to each weight's gradient, in place (after backward)."""
        if self.lam == 0:
            return
        for module, name in self._weights(model):
            if name not in module.grads:
                raise RuntimeError(f"no gradient for {type(module).__name__}.{name}: call "
                                   "backward() before applying a penalty")
            self.grad_kernel(module.grads[name], module.params[name], self.lam, backend=module.backend)

    def value(self, model) -> float:
        """R(w) summed over the model's weights (one download per weight tensor)."""
        return sum(float(to_numpy(self.value_kernel(module.params[name], self.lam, backend=module.backend)))
                   for module, name in self._weights(model))

    def __repr__(self):
        return f"{type(self).__name__}({self.lam})"


class L2Penalty(_Penalty):
    """(lam / 2) sum w^2 over the weights;  grad += lam * w."""
    value_kernel = staticmethod(K.l2_penalty)
    grad_kernel = staticmethod(K.l2_penalty_grad)


class L1Penalty(_Penalty):
    """lam sum |w| over the weights;  grad += lam * sign(w)."""
    value_kernel = staticmethod(K.l1_penalty)
    grad_kernel = staticmethod(K.l1_penalty_grad)
