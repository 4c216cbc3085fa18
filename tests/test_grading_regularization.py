"""The regularization chapter's exercises through the grader: solution, exercise, and typical mistakes.

One batch grades three notebooks (the solution, the generated exercise, and the solution with a
classic mistake in each part) with a fixed seed, so every score is exact; the tests then read
the results.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from accel_edu.grading.assignments.regularization import early_stopping_reference
from accel_edu.grading.worker import GRADER_FUNCTIONS
from accel_edu.regularization import numpy_kernels as ref
from grading_support import (assert_full_marks, assert_stubs_name_the_parts, assert_zero_and_says_what_to_write,
                             grade_solution_exercise_and, parts_by_number, with_mistakes)

MISTAKES = {
    # Part 1: the survivors not scaled up by 1 / (1 - p): right only when nothing is dropped.
    "dropout_forward": '''def dropout_forward(x, p, uniform):
    u = uniform(x.size).reshape(x.shape)
    mask = (u >= p).astype(np.uint8)
    return x * mask, mask''',
    # Part 2: the same slip in the backward pass.
    "dropout_backward": '''def dropout_backward(dy, mask, p):
    return dy * mask''',
    # Part 3: lam * sum(w^2), without the 1/2 that makes the gradient lam * w.
    "l2_penalty_and_grad": '''def l2_penalty_and_grad(w, grad, lam):
    return lam * float(np.sum(w.astype(np.float64) ** 2)), grad + grad.dtype.type(lam) * w''',
    # Part 4: the variance divided by N - 1 (np.var's ddof=1), not by N as the forward pass does.
    "batchnorm_backward": '''def batchnorm_backward(dy, x, gamma, eps=1e-5):
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    x_hat = (x - mean) * inv_std
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    return (gamma * inv_std / n) * (n * dy - dbeta - x_hat * dgamma), dgamma, dbeta''',
    # Part 5: waits one epoch too many: `>` where the rule says "patience epochs after the best".
    "early_stopping": '''def early_stopping(val_losses, patience, min_delta=0.0):
    best_epoch, best = 0, float(val_losses[0])
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < best - min_delta:
            best_epoch, best = epoch, float(val_losses[epoch])
        elif epoch - best_epoch > patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch''',
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"solution" | "exercise" | "mistakes": result}, graded in one batch."""
    return grade_solution_exercise_and(with_mistakes("05_regularization", MISTAKES), "05_regularization",
                                       tmp_path_factory.mktemp("regularization"))


def _counts(output: str) -> tuple[int, int]:
    passed, total = re.search(r"(\d+) of (\d+) checks passed", output).groups()
    return int(passed), int(total)


def _failed(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAILED")]


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded["solution"], "05_regularization", 50)


def test_exercise_scores_zero_and_says_what_to_write(graded):
    assert_zero_and_says_what_to_write(graded["exercise"], 50)


def test_each_mistake_costs_its_part_and_names_the_cases(graded):
    parts = parts_by_number(graded["mistakes"])
    # Parts 1 and 2: without the scale, p = 0 (nothing dropped, scale 1) is right in both dtypes,
    # and so is a case whose every unit happens to be dropped; every other case is wrong.
    for number in "12":
        passed, total = _counts(parts[number].output)
        assert 2 <= passed < total, parts[number].output
        assert all("p=0.0" not in line for line in _failed(parts[number].output)), parts[number].output
    assert "y: " in parts["1"].output and "dx: " in parts["2"].output
    # Part 3: the gradient is right; the penalty is twice too big unless lam = 0.
    assert "2 of 8 checks passed" in parts["3"].output and "penalty is" in parts["3"].output
    # Part 4: with zero variance both divisors give 0, so only that case passes (in both dtypes);
    # a batch of one divides by N - 1 = 0.
    assert "2 of 12 checks passed" in parts["4"].output, parts["4"].output
    assert "FAILED [x (1, 3), float32]" in parts["4"].output
    # Part 5: every case that stops early stops one epoch late; those that never stop are right.
    assert 0 < parts["5"].score < 10 and "stop_epoch is" in parts["5"].output, parts["5"].output


def test_the_given_generator_is_the_librarys_philox_stream():
    uniform = GRADER_FUNCTIONS["philox_uniform"](12345, 7)
    np.testing.assert_array_equal(uniform(10), ref.philox_uniform(10, 12345, 7, np.float64))
    x = np.ones((3, 4))
    y, mask = ref.dropout_forward(x, 0.25, 12345, 7)
    np.testing.assert_array_equal(mask, (uniform(12) >= 0.25).reshape(3, 4))


def test_early_stopping_reference_follows_the_stated_rule():
    losses = [1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77]
    assert early_stopping_reference(losses, 2) == (3, 1)
    assert early_stopping_reference(losses, 3) == (7, 4)
    assert early_stopping_reference(losses, 3, min_delta=0.15) == (4, 1)
    assert early_stopping_reference([0.5], 1) == (0, 0)


def test_stubs_name_the_graded_parts():
    assert_stubs_name_the_parts("05_regularization", 50)
