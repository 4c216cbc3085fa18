"""The training loop: batches in, SGD steps out, a history to plot."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from ..runtime import to_numpy
from .sgd import SGD


@dataclass
class History:
    """Per-epoch records of a run; ``as_dict()`` for plotting or JSON."""
    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def accuracy(model, x, y, batch_size: int = 1024) -> float:
    """Fraction of rows of ``x`` whose predicted class equals ``y``."""
    correct = 0
    for start in range(0, len(x), batch_size):
        correct += int((model.predict(x[start:start + batch_size]) == y[start:start + batch_size]).sum())
    return correct / len(x)


def train(model, loss_fn, x_train, y_train, *, epochs: int = 10, batch_size: int = 64,
          lr=0.1, optimizer=None, x_test=None, y_test=None, seed: int = 0,
          transform=None, progress: bool = True, penalty=None, on_epoch_end=None) -> History:
    """Train ``model`` with minibatch SGD; return a :class:`History`, one record per epoch.

    x_train: (N, ...) float, y_train: (N,) int labels (or targets for MSELoss). The batch
    order depends only on ``seed`` and the epoch, so two backends see the same batches.
    ``lr`` is a number, or a function of the epoch (1, 2, ...) returning the learning rate for
    that epoch: a schedule, such as a step down for the last few epochs.
    ``transform`` (for example an :class:`accel_edu.augment.Augment`) is applied to each
    training batch before the forward pass: data augmentation, fresh on every step.
    A tqdm bar shows epochs with the running loss (``progress=False`` hides it).
    ``penalty`` (for example an :class:`accel_edu.regularization.L2Penalty`) is called as
    ``penalty(model)`` after each backward pass and before the step: it adds its gradient to the
    parameters' gradients. ``on_epoch_end(epoch, model, history)`` runs after each epoch's
    record; a true result ends training (an :class:`accel_edu.regularization.EarlyStopping`).
    The model trains in training mode and is measured in evaluation mode (``model.eval()``:
    no dropout, batch norm's running statistics), and is left in evaluation mode.
    """
    from ..data import batches  # the loop reuses the data module's deterministic batching

    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    schedule = lr if callable(lr) else None
    optimizer = optimizer or SGD(model.parameters(), schedule(1) if schedule else lr)
    history = History()
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress, leave=False)
    start = time.perf_counter()
    for epoch in bar:
        if schedule is not None:
            optimizer.lr = float(schedule(epoch))
        losses = []
        _set_mode(model, training=True)
        for xb, yb in batches(x_train, y_train, batch_size, shuffle=True, seed=seed, epoch=epoch):
            if transform is not None:
                xb = transform(xb)
            loss = loss_fn(model.forward(xb), yb)
            model.backward(loss_fn.backward())
            if penalty is not None:
                penalty(model)
            optimizer.step()
            losses.append(loss)
        # One download per epoch, not per step: the losses stay on the device until here.
        mean_loss = float(np.mean([float(to_numpy(v)) for v in losses]))
        _set_mode(model, training=False)
        history.epoch.append(epoch)
        history.train_loss.append(mean_loss)
        history.train_accuracy.append(accuracy(model, x_train, y_train))
        history.test_accuracy.append(accuracy(model, x_test, y_test) if x_test is not None else float("nan"))
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix(loss=f"{mean_loss:.4f}", test_acc=f"{history.test_accuracy[-1]:.3f}")
        if on_epoch_end is not None and on_epoch_end(epoch, model, history):
            break
    return history


def _set_mode(model, training: bool) -> None:
    """model.train() / model.eval() where the model has them (any Module does)."""
    switch = getattr(model, "train", None)
    if callable(switch):
        switch(training)
