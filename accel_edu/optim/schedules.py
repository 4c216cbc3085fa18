"""Learning-rate schedules as small callables: ``schedule(t) -> lr`` for step t = 0, 1, 2, ...

Each matches the torch.optim.lr_scheduler of the same idea, evaluated in closed form (torch's
schedulers mutate the optimizer; these are pure functions, easy to plot and to test):

    step_decay(lr, step_size, gamma)(t)     = lr * gamma ** (t // step_size)          StepLR
    exponential(lr, gamma)(t)               = lr * gamma ** t                         ExponentialLR
    cosine(lr, total, min_lr)(t)            = min_lr + (lr - min_lr) (1 + cos(pi t / total)) / 2,
                                              min_lr for t >= total                   CosineAnnealingLR
    linear_warmup(lr, warmup, start)(t)     = lr * (start + (1 - start) t / warmup),
                                              lr for t >= warmup                      LinearLR
    warmup_then(warmup, after)(t)           = the warm-up, then after(t - warmup)     SequentialLR

Use one per step (``opt.lr = schedule(t)`` before ``opt.step()``), or per epoch by passing it
as ``lr=`` to ``train()``, which calls it with the epoch number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import checks


def _count(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")


def _t(t) -> int:
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        raise ValueError(f"t (the step or epoch number) must be an integer >= 0; got {t!r}")
    return t


@dataclass(frozen=True)
class step_decay:
    """lr * gamma ** (t // step_size): multiply by gamma every step_size steps."""
    lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        checks.positive("lr", self.lr)
        _count("step_size", self.step_size)
        checks.positive("gamma", self.gamma)

    def __call__(self, t: int) -> float:
        return self.lr * self.gamma ** (_t(t) // self.step_size)


@dataclass(frozen=True)
class exponential:
    """lr * gamma ** t."""
    lr: float
    gamma: float

    def __post_init__(self):
        checks.positive("lr", self.lr)
        checks.positive("gamma", self.gamma)

    def __call__(self, t: int) -> float:
        return self.lr * self.gamma ** _t(t)


@dataclass(frozen=True)
class cosine:
    """Half a cosine from lr at t = 0 down to min_lr at t = total, then min_lr."""
    lr: float
    total: int
    min_lr: float = 0.0

    def __post_init__(self):
        checks.positive("lr", self.lr)
        _count("total", self.total)
        checks.nonnegative("min_lr", self.min_lr)
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr must be <= lr ({self.lr}); got {self.min_lr!r}")

    def __call__(self, t: int) -> float:
        t = min(_t(t), self.total)
        return self.min_lr + (self.lr - self.min_lr) * (1 + math.cos(math.pi * t / self.total)) / 2


@dataclass(frozen=True)
class linear_warmup:
    """From start * lr at t = 0 up a straight line to lr at t = warmup, then lr."""
    lr: float
    warmup: int
    start: float = 0.0

    def __post_init__(self):
        checks.positive("lr", self.lr)
        _count("warmup", self.warmup)
        if not 0 <= self.start <= 1:
            raise ValueError(f"start (a fraction of lr) must lie in [0, 1]; got {self.start!r}")

    def __call__(self, t: int) -> float:
        t = min(_t(t), self.warmup)
        return self.lr * (self.start + (1 - self.start) * t / self.warmup)


@dataclass(frozen=True)
class warmup_then:
    """``warmup`` for its first ``warmup.warmup`` steps, then ``after`` started from 0:
    ``warmup_then(linear_warmup(1e-3, 100), cosine(1e-3, 900))`` is the transformer recipe."""
    warmup: linear_warmup
    after: object

    def __post_init__(self):
        if not isinstance(self.warmup, linear_warmup):
            raise ValueError(f"warmup must be a linear_warmup; got {self.warmup!r}")
        if not callable(self.after):
            raise ValueError(f"after must be a schedule (a callable of t); got {self.after!r}")

    def __call__(self, t: int) -> float:
        t = _t(t)
        return self.warmup(t) if t < self.warmup.warmup else self.after(t - self.warmup.warmup)
