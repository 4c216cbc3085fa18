"""The optimizers chapter's exercises through the grader: solution, exercise, and typical mistakes.

One batch grades three notebooks (the solution, the generated exercise, and the solution with a
classic mistake in each part) with a fixed seed, so every score is exact; the tests then read
the results.
"""
from __future__ import annotations

import pytest

from accel_edu.grading.assignments.optim import _jit_decorated
from grading_support import (assert_full_marks, assert_stubs_name_the_parts, assert_zero_and_says_what_to_write,
                             grade_solution_exercise_and, parts_by_number, with_mistakes)

MISTAKES = {
    # Part 1: Nesterov's look-ahead forgotten: right for heavy-ball momentum only.
    "sgd_momentum": '''def sgd_momentum(param, grad, velocity, lr, momentum, nesterov=False):
    velocity = momentum * velocity + grad
    return param - lr * velocity, velocity''',
    # Part 2: no bias correction: m_hat = m, v_hat = v.
    "adam": '''def adam(param, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return param - lr * m / (np.sqrt(v) + eps), m, v''',
    # Part 3: the warm-up counted from 1: one step ahead during the warm-up only.
    "warmup_cosine": '''def warmup_cosine(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * progress))''',
    # Part 4: right values, but new arrays: the optimizer's state would never change.
    "adam_fused": '''@njit
def adam_fused(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    param = param - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return param, m, v''',
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"solution" | "exercise" | "mistakes": result}, graded in one batch."""
    return grade_solution_exercise_and(with_mistakes("04_optim", MISTAKES), "04_optim",
                                       tmp_path_factory.mktemp("optim"))


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded["solution"], "04_optim", 50)


def test_exercise_scores_zero_and_says_what_to_write(graded):
    assert_zero_and_says_what_to_write(graded["exercise"], 50)


def test_each_mistake_costs_its_part_and_names_the_cases(graded):
    parts = parts_by_number(graded["mistakes"])
    # Part 1: the heavy-ball cases pass, every Nesterov case fails.
    failed = [line for line in parts["1"].output.splitlines() if line.startswith("FAILED")]
    assert failed and all("nesterov=True" in line for line in failed), parts["1"].output
    assert 0 < parts["1"].score < 10, parts["1"].output
    # Part 2: without the bias correction, the first step is 10x too short.
    assert parts["2"].score < 10 and "t=1," in parts["2"].output, parts["2"].output
    # Part 3: only the warm-up steps are wrong; the cosine and the tail are right.
    assert 0 < parts["3"].score < 10, parts["3"].output
    assert "FAILED [step=0, base_lr=1.0, warmup_steps=10" in parts["3"].output
    # Part 4: the values are right, but param, m and v were not updated in place.
    assert parts["4"].score == 0, parts["4"].output
    assert "must update param in place, but param came back unchanged" in parts["4"].output


def test_a_fused_kernel_must_be_compiled_by_numba():
    assert _jit_decorated("@njit\ndef adam_fused(p):\n    pass", "adam_fused")
    assert _jit_decorated("@numba.njit(cache=True)\ndef adam_fused(p):\n    pass", "adam_fused")
    assert _jit_decorated("@jit(nopython=True)\ndef adam_fused(p):\n    pass", "adam_fused")
    assert not _jit_decorated("def adam_fused(p):\n    p -= 1", "adam_fused")
    assert not _jit_decorated("@njit\ndef other(p):\n    pass", "adam_fused")


def test_stubs_name_the_graded_parts():
    assert_stubs_name_the_parts("04_optim", 50)
