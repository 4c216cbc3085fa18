"""The RNN chapter's exercises through the grader: solution, exercise, and typical mistakes.

One batch grades three notebooks (the solution, the generated exercise, and the solution with a
classic mistake in each part) with a fixed seed, so every correctness count is exact; the tests
then read the results. Part 5's speed is measured by the grader and only bounded here.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from accel_edu.grading.assignments.rnn import rnn_bptt_reference
from accel_edu.grading.baselines import attention_naive
from accel_edu.attention import numpy_kernels as attention_ref
from grading_support import (assert_full_marks, assert_stubs_name_the_parts, assert_zero_and_says_what_to_write,
                             grade_solution_exercise_and, parts_by_number, with_mistakes)

MISTAKES = {
    # Part 1: sigma(u) written as exp(u) / (1 + exp(u)): right until a gate saturates, then inf / inf.
    "lstm_cell_forward": '''def lstm_cell_forward(x_gates, h_gates, c_prev):
    hidden = c_prev.shape[1]
    a = x_gates + h_gates
    with np.errstate(over="ignore", invalid="ignore"):
        sig = np.exp(a) / (1 + np.exp(a))
    i, f, o = sig[:, :hidden], sig[:, hidden:2 * hidden], sig[:, 3 * hidden:]
    g = np.tanh(a[:, 2 * hidden:3 * hidden])
    c = f * c_prev + i * g
    return o * np.tanh(c), c, np.concatenate([i, f, g, o], axis=1)''',
    # Part 2: the gradient arriving at c from the next step (dc) left out: right only at the last step.
    "lstm_cell_backward": '''def lstm_cell_backward(dh, dc, gates, c_prev, c):
    hidden = c.shape[1]
    i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
    tc = np.tanh(c)
    dc_total = dh * o * (1 - tc * tc)
    dgates = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                             dc_total * i * (1 - g * g), dh * tc * o * (1 - o)], axis=1)
    return dgates, dc_total * f''',
    # Part 3: the gradient from the future never added: each step sees only its own dy (as truncate=1).
    "rnn_bptt": '''def rnn_bptt(dy, x, h, h0, w_ih, w_hh, truncate=None):
    dx = np.empty_like(x)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db = np.zeros(w_hh.shape[0], dtype=x.dtype)
    for t in reversed(range(x.shape[0])):
        da = dy[t] * (1 - h[t] * h[t])
        h_prev = h[t - 1] if t > 0 else h0
        dw_ih += da.T @ x[t]
        dw_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dx[t] = da @ w_ih
        delta = da @ w_hh
    return dx, delta, dw_ih, dw_hh, db''',
    # Part 4: the softmax without subtracting the row maximum: exp overflows for large scores.
    "attention_forward": '''def attention_forward(q, k, v, causal=False):
    s = np.matmul(q, np.swapaxes(k, 1, 2)) * q.dtype.type(1 / np.sqrt(q.shape[2]))
    if causal:
        future = np.arange(k.shape[1])[None, :] > np.arange(q.shape[1])[:, None]
        s = np.where(future, q.dtype.type(-np.inf), s)
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.exp(s)
        total = p.sum(axis=2, keepdims=True)
        return np.matmul(p / total, v), np.log(total)[..., 0]''',
    # Part 5: right, but the naive loops renamed: no speed-up, so only the correctness points.
    "attention_fused": '''attention_fused = attention_naive''',
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"solution" | "exercise" | "mistakes": result}, graded in one batch."""
    return grade_solution_exercise_and(with_mistakes("03_rnn", MISTAKES), "03_rnn", tmp_path_factory.mktemp("rnn"))


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded["solution"], "03_rnn", 50)


def test_exercise_scores_zero_and_says_what_to_write(graded):
    assert_zero_and_says_what_to_write(graded["exercise"], 50)


def test_each_mistake_costs_its_part_and_names_the_cases(graded):
    parts = parts_by_number(graded["mistakes"])
    # Part 1: only the saturated case fails, in both dtypes, and the feedback says NaN/inf.
    assert "12 of 14 checks passed" in parts["1"].output, parts["1"].output
    assert "saturated gates" in parts["1"].output and "NaN/inf" in parts["1"].output
    # Part 2: only the last step (dc = 0) is right.
    assert "2 of 12 checks passed" in parts["2"].output, parts["2"].output
    # Part 3: right only where nothing flows between steps: T = 1, and truncate=1.
    assert "4 of 20 checks passed" in parts["3"].output, parts["3"].output
    assert "FAILED [T=7, N=2, D=3, H=4, truncate=3" in parts["3"].output
    # Part 4: only the scores in the hundreds overflow.
    assert "12 of 14 checks passed" in parts["4"].output and "scores in the hundreds" in parts["4"].output
    # Part 5: every check passes, and the speed-up over itself earns (almost) nothing.
    assert "Correctness: 9 of 9 checks passed" in parts["5"].output, parts["5"].output
    assert 4 <= parts["5"].score < 5.5, parts["5"].output


def test_the_solution_is_timed_by_the_grader(graded):
    output = parts_by_number(graded["solution"])["5"].output
    ratio = float(re.search(r"naive loops [\d.]+ ms: ([\d.]+)x faster", output).group(1))
    assert ratio > 1, output   # reported, not a speed test: the figure is the grader's


def test_bptt_reference_matches_a_hand_unrolled_two_step_rnn():
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((2, 1, 2)), rng.standard_normal((1, 3))
    w_ih, w_hh, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 3)), rng.standard_normal(3)
    dy = rng.standard_normal((2, 1, 3))
    h1 = np.tanh(x[0] @ w_ih.T + h0 @ w_hh.T + b)
    h2 = np.tanh(x[1] @ w_ih.T + h1 @ w_hh.T + b)
    h, (dx, dh0, dw_ih, dw_hh, db) = rnn_bptt_reference(dy, x, h0, w_ih, w_hh, b)
    np.testing.assert_allclose(h[1], h2)
    da2 = dy[1] * (1 - h2 ** 2)
    da1 = (dy[0] + da2 @ w_hh) * (1 - h1 ** 2)
    np.testing.assert_allclose(dw_hh, da2.T @ h1 + da1.T @ h0)
    np.testing.assert_allclose(dh0, da1 @ w_hh)
    np.testing.assert_allclose(db, (da1 + da2)[0])
    # Truncated at 1: step 1's gradient never reaches h1.
    _, (_, dh0_cut, _, dw_hh_cut, _) = rnn_bptt_reference(dy, x, h0, w_ih, w_hh, b, truncate=1)
    da1_cut = dy[0] * (1 - h1 ** 2)
    np.testing.assert_allclose(dw_hh_cut, da2.T @ h1 + da1_cut.T @ h0)
    np.testing.assert_allclose(dh0_cut, da1_cut @ w_hh)


def test_the_speed_baseline_computes_attention():
    rng = np.random.default_rng(4)
    for causal, (tq, tk) in [(True, (7, 7)), (False, (5, 9))]:
        q, k, v = (rng.standard_normal((2, t, 3)).astype(np.float32) for t in (tq, tk, tk))
        np.testing.assert_allclose(attention_naive(q, k, v, causal),
                                   attention_ref.attention_forward(q, k, v, causal)[0], rtol=1e-4, atol=1e-5)


def test_stubs_name_the_graded_parts():
    assert_stubs_name_the_parts("03_rnn", 50)
