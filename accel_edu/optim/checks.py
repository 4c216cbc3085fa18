"""Argument checks of the optimizers chapter, shared by every backend and by the optimizer
classes. Each raises ``ValueError`` naming the argument, what was expected, and what was given."""
from __future__ import annotations

import math
import numbers

from ..runtime.checks import check_array, check_same_dtype, check_same_shape


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def learning_rate(lr) -> None:
    """lr >= 0 (a schedule may reach 0 at its end; the optimizer classes ask for lr > 0)."""
    if _number("lr", lr) < 0:
        raise ValueError(f"lr (the learning rate) must be >= 0; got {lr!r}")


def nonnegative(name: str, value) -> None:
    if _number(name, value) < 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")


def positive(name: str, value) -> None:
    if _number(name, value) <= 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")


def beta(name: str, value) -> None:
    """A decay rate of a running average: in [0, 1), since beta = 1 would never forget the start."""
    if not 0 <= _number(name, value) < 1:
        raise ValueError(f"{name} must lie in [0, 1); got {value!r}")


def step_count(step) -> None:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 1:
        raise ValueError(f"step (the update count t for the bias correction) must be an integer >= 1; "
                         f"got {step!r}")


def _tensors(param, grad, **state) -> None:
    check_array("param", param, writeable=True)
    check_array("grad", grad)
    for name, s in state.items():
        check_array(name, s, writeable=True)
    check_same_dtype(param=param, grad=grad, **state)
    check_same_shape(param=param, grad=grad, **state)


def sgd_momentum_update(param, grad, momentum_buffer, lr, momentum=0.0, dampening=0.0,
                        nesterov=False, weight_decay=0.0, first_step=False):
    _tensors(param, grad, momentum_buffer=momentum_buffer)
    learning_rate(lr)
    nonnegative("momentum", momentum)
    if not 0 <= _number("dampening", dampening) <= 1:
        raise ValueError(f"dampening must lie in [0, 1]; got {dampening!r}")
    nonnegative("weight_decay", weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0; got momentum={momentum!r}, "
                         f"dampening={dampening!r}")


def adagrad_update(param, grad, sum_sq, lr, eps=1e-10, weight_decay=0.0):
    _tensors(param, grad, sum_sq=sum_sq)
    learning_rate(lr)
    positive("eps", eps)
    nonnegative("weight_decay", weight_decay)


def rmsprop_update(param, grad, square_avg, lr, alpha=0.99, eps=1e-8, weight_decay=0.0):
    _tensors(param, grad, square_avg=square_avg)
    learning_rate(lr)
    beta("alpha", alpha)
    positive("eps", eps)
    nonnegative("weight_decay", weight_decay)


def adam_update(param, grad, exp_avg, exp_avg_sq, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, step=1):
    _tensors(param, grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    learning_rate(lr)
    beta("beta1", beta1)
    beta("beta2", beta2)
    positive("eps", eps)
    nonnegative("weight_decay", weight_decay)
    step_count(step)


adamw_update = adam_update


def sum_of_squares(*tensors):
    if not tensors:
        raise ValueError("sum_of_squares needs at least one tensor; got none")
    for i, t in enumerate(tensors):
        check_array(f"tensors[{i}]", t)
    check_same_dtype(**{f"tensors[{i}]": t for i, t in enumerate(tensors)})


def scale_inplace(x, factor):
    check_array("x", x, writeable=True)
    _number("factor", factor)
