"""How ``solutions/05_regularization.ipynb`` is graded: five parts, 50 points.

Expected values come from the chapter's reference kernels (``accel_edu.regularization.numpy_kernels``),
computed in this process and never sent. Dropout's random numbers are the library's Philox
stream, handed to the submission as the callable ``uniform(n)`` (a ``GraderCallable`` the worker
builds from the seed), so the expected mask is exactly the one the library draws.
"""
from __future__ import annotations

import numpy as np

from ...regularization import numpy_kernels as ref
from ...regularization.early_stopping import EarlyStopping
from ..parts import Case, FunctionPart
from ..protocol import GraderCallable, Layout
from . import Assignment
from .backprop import in_both_dtypes

DROPOUT_SHAPES = [(1,), (7,), (3, 5), (2, 3, 4, 5), (1000,)]
BN_SHAPES = [(1, 3), (2, 1), (5, 4), (7, 13), (64, 10)]   # (N, F): a batch of one has zero variance


# -- Parts 1 and 2: dropout ---------------------------------------------------------------------
def _dropout_forward_cases(rng, dtype):
    for shape, p in zip(DROPOUT_SHAPES, [0.5, 0.0, 0.3, 0.9, 0.1]):
        x = rng.standard_normal(shape).astype(dtype)
        seed, offset = int(rng.integers(0, 2 ** 40)), int(rng.integers(0, 1000))
        y, mask = ref.dropout_forward(x, p, seed, offset)
        yield f"x {shape}, p={p}", [x, p, GraderCallable("philox_uniform", (seed, offset))], (y, mask)
    # A transposed x: "element i in C order" is of the array as indexed, not of its memory.
    x = rng.standard_normal((4, 6)).astype(dtype).T
    y, mask = ref.dropout_forward(np.ascontiguousarray(x), 0.5, 7, 0)
    yield "x a transposed (6, 4) view, p=0.5", [Layout(np.ascontiguousarray(x), "F"), 0.5,
                                                GraderCallable("philox_uniform", (7, 0))], (y, mask)


def _dropout_backward_cases(rng, dtype):
    for shape, p in zip(DROPOUT_SHAPES, [0.5, 0.0, 0.3, 0.9, 0.1]):
        dy = rng.standard_normal(shape).astype(dtype)
        mask = (rng.random(shape) >= p).astype(np.uint8)
        yield f"dy {shape}, p={p}", [dy, mask, p], (ref.dropout_backward(dy, mask, p),)


# -- Part 3: L2 ---------------------------------------------------------------------------------
def _l2_cases(rng, dtype):
    for shape, lam in zip([(1,), (7,), (3, 5), (16, 9, 3)], [0.1, 0.0, 1e-4, 5.0]):
        w, grad = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
        total = ref.l2_penalty_grad(grad.copy(), w, lam)
        yield f"w {shape}, lam={lam}", [w, grad, lam], (ref.l2_penalty(w, lam), total)


# -- Part 4: batch norm backward ------------------------------------------------------------------
def _batchnorm_cases(rng, dtype):
    for shape in BN_SHAPES:
        x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
        dy, gamma = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
        yield f"x {shape}", [dy, x, gamma, 1e-5], _bn_reference(dy, x, gamma, 1e-5)
    # Every row equal: zero variance, where x_hat = 0 and only eps keeps 1/sqrt(var + eps) finite.
    x = np.tile(rng.standard_normal((1, 3)), (4, 1)).astype(dtype)
    dy, gamma = rng.standard_normal((4, 3)).astype(dtype), np.ones(3, dtype)
    yield "x (4, 3), every row the same (zero variance)", [dy, x, gamma, 1e-3], _bn_reference(dy, x, gamma, 1e-3)


def _bn_reference(dy, x, gamma, eps):
    _, mean, var = ref.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps)
    return ref.batchnorm_backward(dy, x, mean, var, gamma, eps)


# -- Part 5: early stopping ------------------------------------------------------------------------
def early_stopping_reference(val_losses, patience, min_delta=0.0) -> tuple[int, int]:
    """(stop_epoch, best_epoch): the chapter's EarlyStopping, stepped once per epoch."""
    stopper = EarlyStopping(patience, min_delta, mode="min", restore_best=False)
    for epoch, loss in enumerate(val_losses):
        if stopper.step(float(loss), epoch):
            return epoch, stopper.best_epoch
    return len(val_losses) - 1, stopper.best_epoch


def _early_stopping_cases(rng):
    curves = {
        "a U-shaped validation curve": 1 / np.arange(1, 31) + 0.002 * np.arange(30),
        "a plateau at the start": np.array([1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8]),
        "still improving at the end": np.linspace(1.0, 0.1, 12),
        "one epoch": np.array([0.5]),
        "noisy": 1 / np.arange(1, 41) + 0.05 * rng.random(40),
    }
    cases = []
    for name, losses in curves.items():
        for patience, min_delta in [(1, 0.0), (3, 0.0), (5, 0.01), (2, 0.05)]:
            want = early_stopping_reference(losses, patience, min_delta)
            cases.append(Case(f"{name} ({len(losses)} epochs), patience={patience}, min_delta={min_delta}",
                              [losses, patience, min_delta], tuple(np.asarray(w) for w in want), 0.0))
    return cases


PARTS = [
    FunctionPart(
        name="Part 1: Inverted dropout, forward", points=10, function="dropout_forward",
        signature="dropout_forward(x, p, uniform) -> (y, mask)",
        make_cases=in_both_dtypes(_dropout_forward_cases), outputs=("y", "mask")),
    FunctionPart(
        name="Part 2: Dropout, backward", points=5, function="dropout_backward",
        signature="dropout_backward(dy, mask, p) -> dx",
        make_cases=in_both_dtypes(_dropout_backward_cases), outputs=("dx",)),
    FunctionPart(
        name="Part 3: An L2 penalty and its gradient", points=10, function="l2_penalty_and_grad",
        signature="l2_penalty_and_grad(w, grad, lam) -> (penalty, total_grad)",
        make_cases=in_both_dtypes(_l2_cases), outputs=("penalty", "total_grad"), scalars=("penalty",)),
    FunctionPart(
        name="Part 4: Batch normalization, backward", points=15, function="batchnorm_backward",
        signature="batchnorm_backward(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)",
        make_cases=in_both_dtypes(_batchnorm_cases), outputs=("dx", "dgamma", "dbeta")),
    FunctionPart(
        name="Part 5: Early stopping", points=10, function="early_stopping",
        signature="early_stopping(val_losses, patience, min_delta=0.0) -> (stop_epoch, best_epoch)",
        make_cases=_early_stopping_cases, outputs=("stop_epoch", "best_epoch"),
        scalars=("stop_epoch", "best_epoch")),
]

ASSIGNMENT = Assignment("05_regularization", "Regularization", PARTS)
