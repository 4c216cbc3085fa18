"""Early stopping: stop when a held-out score stops improving, and keep the best weights.

Host logic only: a number per epoch goes in, a decision comes out.

>>> stopper = EarlyStopping(patience=5, mode="max")      # watch validation accuracy
>>> history = train(model, loss, x, y, x_test=x_val, y_test=y_val, on_epoch_end=stopper)  # doctest: +SKIP
>>> stopper.best_epoch                                                                    # doctest: +SKIP
"""
from __future__ import annotations

import math

import numpy as np


class EarlyStopping:
    """Stop after ``patience`` epochs without an improvement of more than ``min_delta``.

    mode:    "min" for a loss (lower is better), "max" for an accuracy
    monitor: the History field ``__call__`` reads (``backprop.train`` passes x_test/y_test as
             the held-out set, so this is the validation accuracy by default)
    restore_best: on stopping, load the weights of the best epoch back into the model (if
             training runs to its last epoch without stopping, call :meth:`restore` yourself)

    :meth:`step` is the rule itself: an epoch improves when value < best - min_delta ("min")
    or value > best + min_delta ("max"); then best, best_epoch and (if a model is given)
    best_state are recorded and the count of bad epochs restarts from 0. should_stop is True
    once that count reaches patience.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, mode: str = "max",
                 monitor: str = "test_accuracy", restore_best: bool = True):
        if not isinstance(patience, (int, np.integer)) or isinstance(patience, bool) or patience < 1:
            raise ValueError(f"patience must be a positive integer (epochs without improvement); got {patience!r}")
        if not isinstance(min_delta, (int, float, np.number)) or not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0; got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' (a loss) or 'max' (an accuracy); got {mode!r}")
        self.patience, self.min_delta, self.mode = int(patience), float(min_delta), mode
        self.monitor, self.restore_best = monitor, restore_best
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.best_state = None
        self.bad_epochs = 0
        self.should_stop = False

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value: float, epoch: int | None = None, model=None) -> bool:
        """Record one epoch's value; return should_stop."""
        if not math.isfinite(value):
            raise ValueError(f"value must be a finite number (the monitored {self.monitor}); got {value!r}")
        if self.improved(value):
            self.best, self.best_epoch, self.bad_epochs = float(value), epoch, 0
            if model is not None:
                self.best_state = model.state_dict()
        else:
            self.bad_epochs += 1
        self.should_stop = self.bad_epochs >= self.patience
        return self.should_stop

    def restore(self, model) -> None:
        """Load the best epoch's weights (and batch norm statistics) back into ``model``."""
        if self.best_state is None:
            raise RuntimeError("no best weights recorded: call step(value, epoch, model) first")
        model.load_state_dict(self.best_state)

    def __call__(self, epoch: int, model, history) -> bool:
        """The ``on_epoch_end`` hook of ``backprop.train``: True stops training."""
        if not hasattr(history, self.monitor):
            raise ValueError(f"monitor must name a History field; got {self.monitor!r}")
        stop = self.step(getattr(history, self.monitor)[-1], epoch, model)
        if stop and self.restore_best:
            self.restore(model)
        return stop

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, mode={self.mode!r}, "
                f"best={self.best} at epoch {self.best_epoch})")
