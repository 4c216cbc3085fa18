"""SGD, Adagrad, RMSprop, Adam and AdamW with torch.optim's constructors and defaults.

Each ``step()`` is one fused kernel call per parameter (``kernels.py``), in place on the
parameter and its state, on the module's backend. Differences from torch.optim: one parameter
group; no ``maximize``, ``amsgrad``, ``foreach`` or ``capturable`` options; RMSprop has no
``momentum`` or ``centered``; Adagrad has no ``initial_accumulator_value``.
"""
from __future__ import annotations

from . import checks
from . import kernels as K
from .optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr, momentum=0, dampening=0, nesterov=False, weight_decay=0)``.

    With momentum the first step sets the buffer to the gradient itself (torch's convention,
    see ``numpy_kernels.sgd_momentum_update``); weight decay is L2, added to the gradient.
    """
    STATE = ("momentum_buffer",)

    def __init__(self, parameters, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(parameters, lr)
        checks.nonnegative("momentum", momentum)
        checks.nonnegative("weight_decay", weight_decay)
        if not 0 <= dampening <= 1:
            raise ValueError(f"dampening must lie in [0, 1]; got {dampening!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0; got momentum={momentum!r}, "
                             f"dampening={dampening!r}")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.nesterov, self.weight_decay = bool(nesterov), float(weight_decay)
        if self.momentum == 0:
            self.STATE = ()   # no buffer to keep: the kernel gets the parameter's own gradient slot

    def _update(self, param, grad, state, backend):
        # momentum == 0 never touches the buffer; grad stands in so no memory is spent on it.
        buf = state.get("momentum_buffer", grad)
        K.sgd_momentum_update(param, grad, buf, self.lr, momentum=self.momentum,
                              dampening=self.dampening, nesterov=self.nesterov,
                              weight_decay=self.weight_decay, first_step=self.steps == 1,
                              backend=backend)


class Adagrad(Optimizer):
    """``Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, eps=1e-10)``; the step's lr is
    lr / (1 + (t - 1) * lr_decay), as in torch."""
    STATE = ("sum_sq",)

    def __init__(self, parameters, lr: float = 0.01, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 eps: float = 1e-10):
        super().__init__(parameters, lr)
        checks.nonnegative("lr_decay", lr_decay)
        checks.nonnegative("weight_decay", weight_decay)
        checks.positive("eps", eps)
        self.lr_decay, self.weight_decay, self.eps = float(lr_decay), float(weight_decay), float(eps)

    def _update(self, param, grad, state, backend):
        lr = self.lr / (1 + (self.steps - 1) * self.lr_decay)
        K.adagrad_update(param, grad, state["sum_sq"], lr, eps=self.eps, weight_decay=self.weight_decay,
                         backend=backend)


class RMSprop(Optimizer):
    """``RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0)`` (torch's defaults)."""
    STATE = ("square_avg",)

    def __init__(self, parameters, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(parameters, lr)
        checks.beta("alpha", alpha)
        checks.positive("eps", eps)
        checks.nonnegative("weight_decay", weight_decay)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)

    def _update(self, param, grad, state, backend):
        K.rmsprop_update(param, grad, state["square_avg"], self.lr, alpha=self.alpha, eps=self.eps,
                         weight_decay=self.weight_decay, backend=backend)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)``: weight decay
    is L2 added to the gradient (torch's Adam); for decoupled decay use :class:`AdamW`."""
    STATE = ("exp_avg", "exp_avg_sq")
    KERNEL = K.adam_update
    DEFAULT_WEIGHT_DECAY = 0.0

    def __init__(self, parameters, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float | None = None):
        super().__init__(parameters, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
        checks.beta("betas[0]", betas[0])
        checks.beta("betas[1]", betas[1])
        checks.positive("eps", eps)
        weight_decay = self.DEFAULT_WEIGHT_DECAY if weight_decay is None else weight_decay
        checks.nonnegative("weight_decay", weight_decay)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def _update(self, param, grad, state, backend):
        type(self).KERNEL(param, grad, state["exp_avg"], state["exp_avg_sq"], self.lr,
                          beta1=self.betas[0], beta2=self.betas[1], eps=self.eps,
                          weight_decay=self.weight_decay, step=self.steps, backend=backend)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)``: the weight
    shrinks by lr * weight_decay each step, outside Adam's rescaling (decoupled decay)."""
    KERNEL = K.adamw_update
    DEFAULT_WEIGHT_DECAY = 0.01
