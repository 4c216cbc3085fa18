"""The compression chapter's exercises through the grader: solution, exercise, and classic mistakes.

One batch grades five notebooks with a fixed seed: the solution, the generated exercise, two
copies of the solution with a classic mistake written into every part (two mistakes per part in
all, where the part has two worth telling apart), and the solution importing the chapter's
library. The cases that catch each mistake are built on purpose (see the assignment's module),
so every score below is exact. The last tests check that those cases still are what they claim.
"""
from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from accel_edu.compression import numpy_kernels as ref
from accel_edu.grading.assignments import compression as grading
from accel_edu.grading.assignments import compression_pruning as pruning
from accel_edu.grading.assignments import compression_speed as speed
from accel_edu.grading.baselines import int8_gemm_naive
from accel_edu.grading.batch import grade_directory
from accel_edu.grading.exercises import render
from accel_edu.grading.grader import GradeOptions
from grading_support import (LIMITS, ROOT, assert_full_marks, assert_stubs_name_the_parts,
                             assert_zero_and_says_what_to_write, parts_by_number, with_mistakes)

ASSIGNMENT = "07_compression"

MISTAKES_A = {
    # Part 1: the zero point truncated by astype instead of rounded by rint (60.89 -> 60).
    "quantization_params": '''def quantization_params(x, symmetric, per_channel):
    flat = x.reshape(x.shape[0], -1) if per_channel else x.reshape(1, -1)
    lo, hi = flat.min(axis=1), flat.max(axis=1)
    eps = np.finfo(np.float32).eps
    if symmetric:
        scale = np.maximum(np.maximum(-lo, hi) / 127, eps).astype(x.dtype)
        return scale, np.zeros(scale.shape, np.int32)
    lo, hi = np.minimum(lo, 0), np.maximum(hi, 0)
    scale = np.maximum((hi - lo) / 255, eps).astype(x.dtype)
    return scale, np.clip(-128 - lo / scale.astype(np.float64), -128, 127).astype(np.int32)''',
    # Part 2: truncation instead of rounding: right only where every x / scale is an integer.
    "quantize": '''def quantize(x, scale, zero_point):
    per_row = (-1,) + (1,) * (x.ndim - 1)
    inv = (1 / scale).astype(scale.dtype)
    return np.clip(x * inv.reshape(per_row) + zero_point.reshape(per_row), -128, 127).astype(np.int8)''',
    # Part 3: the zero point forgotten: right only for symmetric quantizers (z = 0).
    "dequantize": '''def dequantize(q, scale, zero_point):
    return q.astype(scale.dtype) * scale.reshape((-1,) + (1,) * (q.ndim - 1))''',
    # Part 4: an int16 accumulator: wraps around once a sum passes 32,767.
    "int8_gemm": '''def int8_gemm(a, b, a_zero_point, bias, multiplier, out_zero_point):
    with np.errstate(over="ignore"):
        acc = (a.astype(np.int16) - np.int16(a_zero_point)) @ b.astype(np.int16)
    scaled = np.rint((acc + bias).astype(np.float32) * multiplier) + np.float32(out_zero_point)
    return np.clip(scaled, -128, 127).astype(np.int8)''',
    # Part 5: each layer pruned by the same fraction instead of by one global threshold.
    "global_magnitude_masks": '''def global_magnitude_masks(weights, sparsity):
    masks = []
    for w in weights:
        order = np.argsort(np.abs(w).reshape(-1), kind="stable")
        mask = np.ones(w.size, w.dtype)
        mask[order[:round(sparsity * w.size)]] = 0
        masks.append(mask.reshape(w.shape))
    return masks''',
    # Part 6: rows ranked by their L1 norm instead of L2.
    "neuron_masks": '''def neuron_masks(w, sparsity):
    norms = np.abs(w.reshape(w.shape[0], -1)).sum(axis=1)
    mask = np.ones_like(w)
    mask[np.argsort(norms, kind="stable")[:round(sparsity * w.shape[0])]] = 0
    return mask''',
    # Part 7: softmax without subtracting the row maximum: exp overflows at large logits.
    "distillation_loss": '''def distillation_loss(student_logits, teacher_logits, labels, temperature, alpha):
    def log_softmax(z):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    s, t, T = student_logits, teacher_logits, temperature
    n, rows = s.shape[0], np.arange(s.shape[0])
    log_ps, log_pt = log_softmax(s / T), log_softmax(t / T)
    p_t = np.exp(log_pt)
    with np.errstate(invalid="ignore"):
        soft = np.sum(p_t * (log_pt - log_ps)) / n * T * T
    log_p = log_softmax(s)
    onehot = np.zeros_like(s)
    onehot[rows, labels] = 1
    grad = alpha * T * (np.exp(log_ps) - p_t) / n + (1 - alpha) * (np.exp(log_p) - onehot) / n
    return float(alpha * soft - (1 - alpha) * log_p[rows, labels].sum() / n), grad.astype(s.dtype)''',
    # Part 8: right, but the naive loops renamed: no speed-up, so only the correctness points.
    "int8_gemm_fast": "int8_gemm_fast = int8_gemm_loops",
}

MISTAKES_B = {
    # Part 1: no floor on the scale: an all-zero channel gets scale 0.
    "quantization_params": '''def quantization_params(x, symmetric, per_channel):
    flat = x.reshape(x.shape[0], -1) if per_channel else x.reshape(1, -1)
    lo, hi = flat.min(axis=1), flat.max(axis=1)
    if symmetric:
        scale = (np.maximum(-lo, hi) / 127).astype(x.dtype)
        return scale, np.zeros(scale.shape, np.int32)
    lo, hi = np.minimum(lo, 0), np.maximum(hi, 0)
    scale = ((hi - lo) / 255).astype(x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        zero_point = np.nan_to_num(np.rint(-128 - lo / scale.astype(np.float64)))
    return scale, np.clip(zero_point, -128, 127).astype(np.int32)''',
    # Part 2: no clamp: astype(np.int8) wraps values past the range around.
    "quantize": '''def quantize(x, scale, zero_point):
    per_row = (-1,) + (1,) * (x.ndim - 1)
    inv = (1 / scale).astype(scale.dtype)
    rounded = np.rint(x * inv.reshape(per_row)) + zero_point.reshape(per_row)
    return rounded.astype(np.int32).astype(np.int8)''',
    # Part 3: q - zero_point in int8: wraps past -128 and 127.
    "dequantize": '''def dequantize(q, scale, zero_point):
    per_row = (-1,) + (1,) * (q.ndim - 1)
    with np.errstate(over="ignore"):
        centred = q - zero_point.astype(np.int8).reshape(per_row)
    return centred.astype(scale.dtype) * scale.reshape(per_row)''',
    # Part 4: a's zero point forgotten: right only where it is 0.
    "int8_gemm": '''def int8_gemm(a, b, a_zero_point, bias, multiplier, out_zero_point):
    acc = a.astype(np.int32) @ b.astype(np.int32) + bias
    scaled = np.rint(acc.astype(np.float32) * multiplier) + np.float32(out_zero_point)
    return np.clip(scaled, -128, 127).astype(np.int8)''',
    # Part 5: pruned by signed value: the most negative weights go first.
    "global_magnitude_masks": '''def global_magnitude_masks(weights, sparsity):
    values = np.concatenate([w.reshape(-1) for w in weights])
    pruned = np.zeros(values.size, bool)
    pruned[np.argsort(values, kind="stable")[:round(sparsity * values.size)]] = True
    masks, start = [], 0
    for w in weights:
        masks.append((~pruned[start:start + w.size]).reshape(w.shape).astype(w.dtype))
        start += w.size
    return masks''',
    # Part 7: the soft term without T^2 (and its gradient with it): right only at T = 1 or alpha = 0.
    "distillation_loss": '''def distillation_loss(student_logits, teacher_logits, labels, temperature, alpha):
    def log_softmax(z):
        shifted = z - z.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    s, t, T = student_logits, teacher_logits, temperature
    n, rows = s.shape[0], np.arange(s.shape[0])
    log_ps, log_pt = log_softmax(s / T), log_softmax(t / T)
    p_t = np.exp(log_pt)
    soft = np.sum(p_t * (log_pt - log_ps)) / n
    log_p = log_softmax(s)
    onehot = np.zeros_like(s)
    onehot[rows, labels] = 1
    grad = alpha / T * (np.exp(log_ps) - p_t) / n + (1 - alpha) * (np.exp(log_p) - onehot) / n
    return float(alpha * soft - (1 - alpha) * log_p[rows, labels].sum() / n), grad.astype(s.dtype)''',
    # Part 8: fast enough to try, but the sums kept in int16, which wraps past 32,767.
    "int8_gemm_fast": '''@njit
def int8_gemm_fast(a, b, a_zero_point, bias, multiplier, out_zero_point):
    m, k = a.shape
    n = b.shape[1]
    out = np.empty((m, n), dtype=np.int8)
    per_column = multiplier.size > 1
    for i in range(m):
        for j in range(n):
            acc = np.int16(0)
            for p in range(k):
                acc = np.int16(acc + (np.int16(a[i, p]) - np.int16(a_zero_point)) * np.int16(b[p, j]))
            total = np.int32(acc) + bias[j]
            scaled = np.rint(np.float32(total) * multiplier[j if per_column else 0]) + np.float32(out_zero_point)
            out[i, j] = np.int8(min(max(scaled, np.float32(-128.0)), np.float32(127.0)))
    return out''',
}


def _importing_the_library() -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "solutions" / f"{ASSIGNMENT}.ipynb", as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("from accel_edu.compression import quantize as library_quantize"))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """{"solution" | "exercise" | "mistakes_a" | "mistakes_b" | "imports": result}, one batch."""
    base = tmp_path_factory.mktemp("compression")
    submissions = base / "submissions"
    submissions.mkdir()
    for student, folder in (("solution", "solutions"), ("exercise", "exercises")):
        (submissions / f"{student}.ipynb").write_bytes((ROOT / folder / f"{ASSIGNMENT}.ipynb").read_bytes())
    nbformat.write(with_mistakes(ASSIGNMENT, MISTAKES_A), submissions / "mistakes_a.ipynb")
    nbformat.write(with_mistakes(ASSIGNMENT, MISTAKES_B), submissions / "mistakes_b.ipynb")
    nbformat.write(_importing_the_library(), submissions / "imports.ipynb")
    batch = grade_directory(submissions, base / "grades", GradeOptions(limits=LIMITS, seed=2024),
                            jobs=2, progress=False)
    return {g.student: g.result for g in batch}


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded["solution"], ASSIGNMENT, 60)


def test_exercise_scores_zero_and_says_what_to_write(graded):
    assert_zero_and_says_what_to_write(graded["exercise"], 60)


def _scores(result) -> dict:
    return {number: part.score for number, part in parts_by_number(result).items()}


def test_each_first_mistake_costs_exactly_the_cases_built_to_catch_it(graded):
    parts = parts_by_number(graded["mistakes_a"])
    # Part 1: truncating the zero point fails the three asymmetric cases built with a zero point of
    # 60.89 (per tensor, and one channel of each per-channel case), in both dtypes: 10 of 16.
    assert "10 of 16 checks passed" in parts["1"].output, parts["1"].output
    assert "FAILED [x (50,) in [-1, 0.35], asymmetric, float32]" in parts["1"].output
    # Part 2: truncation is right only on the grid (every x / scale an integer): 2 of 19.
    assert "2 of 19 checks passed" in parts["2"].output, parts["2"].output
    # Part 3: without the zero point, only the symmetric case is right: 2 of 8.
    assert "2 of 8 checks passed" in parts["3"].output, parts["3"].output
    # Part 4: int16 sums are right where they fit (K = 1, small values) and wrong past 32,767.
    assert "4 of 9 checks passed" in parts["4"].output, parts["4"].output
    assert "past int16" in parts["4"].output
    # Part 5: per layer equals global only for one layer, or when nothing is pruned: 4 of 12.
    assert "4 of 12 checks passed" in parts["5"].output and "differ)" in parts["5"].output, parts["5"].output
    # Part 6: L1 ranks rows like L2 except where they were built to disagree: 10 of 12.
    assert "10 of 12 checks passed" in parts["6"].output and "L1 and L2" in parts["6"].output, parts["6"].output
    # Part 7: no max subtracted overflows on the two cases of large logits in each dtype: 12 of 16.
    assert "12 of 16 checks passed" in parts["7"].output and "logits of magnitude" in parts["7"].output
    # Part 8: every check passes, and the speed-up over itself earns (almost) nothing.
    assert "Correctness: 9 of 9 checks passed" in parts["8"].output, parts["8"].output
    assert 4 <= parts["8"].score < 5.5, parts["8"].output
    scores = _scores(graded["mistakes_a"])
    del scores["8"]
    assert scores == {"1": 5.0, "2": 0.84, "3": 1.0, "4": 4.44, "5": 2.0, "6": 3.33, "7": 7.5}


def test_each_second_mistake_costs_exactly_the_cases_built_to_catch_it(graded):
    parts = parts_by_number(graded["mistakes_b"])
    # Part 1: no floor on the scale fails the all-zero channel, symmetric and asymmetric: 12 of 16.
    assert "12 of 16 checks passed" in parts["1"].output and "the scale's floor" in parts["1"].output
    # Part 2: no clamp fails only the two cases past the range, in each dtype: 15 of 19.
    assert "15 of 19 checks passed" in parts["2"].output and "past the range" in parts["2"].output
    # Part 3: int8 subtraction wraps wherever a zero point is not 0: 2 of 8.
    assert "2 of 8 checks passed" in parts["3"].output, parts["3"].output
    # Part 4: forgetting a's zero point is right only where it is 0: 5 of 9.
    assert "5 of 9 checks passed" in parts["4"].output, parts["4"].output
    # Part 5: by signed value is right only when nothing is pruned: 2 of 12.
    assert "2 of 12 checks passed" in parts["5"].output, parts["5"].output
    # Part 7: without T^2, right only at T = 1 (two cases) or alpha = 0, in each dtype: 6 of 16.
    assert "6 of 16 checks passed" in parts["7"].output, parts["7"].output
    # Part 8: int16 sums in the loops: right where they fit, as Part 4's int16 mistake; not timed.
    assert "Correctness: 4 of 9 checks passed" in parts["8"].output and "Speed: measured once" in parts["8"].output
    assert _scores(graded["mistakes_b"]) == {"1": 6.0, "2": 6.32, "3": 1.0, "4": 5.56, "5": 1.0, "6": 4.0,
                                             "7": 3.75, "8": 1.78}


def test_the_solution_is_timed_by_the_grader(graded):
    output = parts_by_number(graded["solution"])["8"].output
    ratio = float(re.search(r"naive loops [\d.]+ ms: ([\d.]+)x faster", output).group(1))
    assert ratio > 1, output   # reported, not a speed test: the figure is the grader's


def test_importing_the_chapters_library_scores_nothing(graded):
    result = graded["imports"]
    assert result.score == 0
    for part in result.parts:
        assert "imports accel_edu.compression" in part.output, part.output


def test_stubs_name_the_graded_parts_and_the_exercise_is_current():
    assert_stubs_name_the_parts(ASSIGNMENT, 60)
    exercise = ROOT / "exercises" / f"{ASSIGNMENT}.ipynb"
    assert exercise.read_text(encoding="utf-8") == render(ROOT / "solutions" / f"{ASSIGNMENT}.ipynb")


# -- the cases are what their labels say ------------------------------------------------------------
def _cases(make, seed=0):
    return {case.label: case for case in make(np.random.default_rng(seed))}


def test_the_zero_point_cases_round_up_where_truncation_rounds_down():
    cases = _cases(grading._qparams_cases)
    for label in ("x (50,) in [-1, 0.35], asymmetric, float32", "x (12, 10), per channel, asymmetric, float64",
                  "x (4, 6), per channel, row 1 all zeros (the scale's floor), asymmetric, float32"):
        x = cases[label].args[0]
        scale, zero_point = cases[label].expected
        lo = np.minimum(x.reshape(len(scale), -1).min(axis=1), 0)
        exact = -128 - lo / scale.astype(np.float64)
        assert np.any(np.trunc(exact) != zero_point), label
    scale, _ = cases["x (6, 3, 3, 3), per channel, filter 2 all zeros (the scale's floor), symmetric, float32"].expected
    assert scale[2] == np.finfo(np.float32).eps


def test_the_quantize_cases_hold_ties_and_values_past_the_range():
    cases = _cases(grading._quantize_cases)
    x, scale, zero_point = cases["ties: x / scale = k + 0.5 for k = -6..5, scale 0.25, float32"].args
    assert np.all(x * (1 / scale) % 1 == 0.5)
    q, = cases["ties: x / scale = k + 0.5 for k = -6..5, scale 0.25, float32"].expected
    assert np.all(q % 2 == 0), "half to even: every tie lands on an even integer"
    x, scale, zero_point = cases["x (3, 40) up to 3x past the range (clamped), float64"].args
    unclamped = np.rint(x / scale[:, None]) + zero_point[:, None]
    assert unclamped.max() > 127 and unclamped.min() < -128


def test_the_overflow_cases_overflow_int16_and_the_small_ones_do_not():
    for label, case in _cases(grading._gemm_cases).items():
        a, b, a_zero_point = case.args[0], case.args[1], case.args[2]
        b = getattr(b, "array", b)   # the Fortran-order case is sent as a Layout
        acc = ref.int8_accumulate(a, b, a_zero_point).astype(np.int64)
        fits = np.abs(acc).max() <= 32767
        assert fits == ("K=1 " in label or "fit in int16" in label), (label, np.abs(acc).max())


def test_the_l1_l2_case_ranks_rows_differently():
    case = _cases(pruning._neuron_cases)["w (5, 4) whose rows rank differently by L1 and L2 norm, sparsity 0.4, float32"]
    w, sparsity = case.args
    l1 = np.argsort(np.abs(w).sum(axis=1), kind="stable")[:2]
    (mask,) = case.expected
    assert set(np.flatnonzero(mask[:, 0] == 0)) == {1, 4} != set(l1)


def test_global_masks_prune_the_exact_count_across_layers():
    for label, case in _cases(pruning._global_cases).items():
        weights, sparsity = case.args
        total = sum(w.size for w in weights)
        assert sum(int((m == 0).sum()) for m in case.expected) == round(sparsity * total), label


def test_the_speed_baseline_and_the_timed_answer_are_the_reference():
    rng = np.random.default_rng(5)
    for m, k, n, per_column in [(1, 1, 1, False), (7, 300, 5, True), (4, 33, 9, False)]:
        a = rng.integers(-128, 128, (m, k)).astype(np.int8)
        b = rng.integers(-128, 128, (k, n)).astype(np.int8)
        bias = rng.integers(-3000, 3000, n).astype(np.int32)
        mult = rng.uniform(1e-5, 1e-3, n if per_column else 1).astype(np.float32)
        assert np.array_equal(int8_gemm_naive(a, b, -5, bias, mult, 7), ref.int8_gemm(a, b, -5, bias, mult, 7))
    args, want = speed.timed_input(rng)   # computed through float64 BLAS: exact, every sum below 2^53
    assert args[0].shape == speed.TIMED_SHAPE[:2] and np.array_equal(want, ref.int8_gemm(*args))
