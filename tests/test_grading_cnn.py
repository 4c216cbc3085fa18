"""The CNN chapter's exercises through the grader: solution, exercise, and typical mistakes.

One batch grades three notebooks (the solution, the generated exercise, and the solution with
a classic mistake in each part) with a fixed seed, so every score but the timed one is exact;
the tests then read the results. The rule about the library's own kernels is checked on its
own, without running anything.
"""
from __future__ import annotations

import nbformat
import pytest

from accel_edu.grading.assignments.cnn import library_shortcut
from accel_edu.grading.cells import CodeCell
from grading_support import (assert_full_marks, assert_stubs_name_the_parts, assert_zero_and_says_what_to_write,
                             defines, grade_solution_exercise_and, parts_by_number, with_mistakes)

MISTAKES = {
    # Part 1: rows ordered (c, j, i) instead of (c, i, j): right only for a 1x1 kernel.
    "im2col": '''def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c, h, w = x.shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((n, c, kw, kh, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, j, i] = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols.reshape(n, c * kh * kw, oh * ow)''',
    # Part 3: `=` where windows overlap keeps one gradient of several.
    "maxpool2d_backward": '''def maxpool2d_backward(dy, argmax, x_shape):
    n, c, h, w = x_shape
    dx = np.zeros((n * c, h * w), dtype=dy.dtype)
    dx[np.arange(n * c)[:, None], argmax.reshape(n * c, -1)] = dy.reshape(n * c, -1)
    return dx.reshape(x_shape)''',
    # Part 4: right, but the baseline's own loops.
    "conv2d_direct": "conv2d_direct = conv2d_naive",
}
# Part 5: w read as (C_out, C_in, kw, kh): right for square kernels only.
SWAPPED_KERNEL = ("w[((o * c_in + c) * kh + p) * kw + q]", "w[((o * c_in + c) * kw + p) * kh + q]")


def _with_mistakes() -> nbformat.NotebookNode:
    nb = with_mistakes("02_cnn", MISTAKES)
    (cell,) = [c for c in nb.cells if defines(c, "CONV2D_SRC")]
    assert SWAPPED_KERNEL[0] in cell.source
    cell.source = cell.source.replace(*SWAPPED_KERNEL)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"solution" | "exercise" | "mistakes": result}, graded in one batch."""
    return grade_solution_exercise_and(_with_mistakes(), "02_cnn", tmp_path_factory.mktemp("cnn"))


def test_solution_scores_full_marks(graded):
    result = graded["solution"]
    assert_full_marks(result, "02_cnn", 60)
    speed = parts_by_number(result)["4"].output
    assert "Full speed credit from 4x; this earns 100% of it" in speed, speed


def test_exercise_scores_zero_and_says_what_to_write(graded):
    result = graded["exercise"]
    assert_zero_and_says_what_to_write(result, 60, numbers="1234")
    assert "left every element of y unwritten" in parts_by_number(result)["5"].output


def test_each_mistake_costs_its_part_and_names_the_cases(graded):
    result = graded["mistakes"]
    assert result.error == ""
    parts = parts_by_number(result)
    # Part 1: only the 1x1 kernel, in float32 and float64, survives the transposed offsets.
    assert parts["1"].score == pytest.approx(10 * 2 / 18, abs=0.01), parts["1"].output
    assert "2 of 18 checks passed" in parts["1"].output
    assert "FAILED [batch 1, one channel: x (1, 1, 5, 5), 3x3 kernel, float32]" in parts["1"].output
    assert "cols: " in parts["1"].output and "values are wrong" in parts["1"].output
    # Part 2 uses the library's im2col, so Part 1's slip costs nothing here.
    assert parts["2"].score == 10
    # Part 3: the non-overlapping poolings pass; every overlapping one loses gradient.
    assert parts["3"].score == pytest.approx(10 * 4 / 14, abs=0.01), parts["3"].output
    assert "FAILED [one pixel wins 9 overlapping windows, float32]" in parts["3"].output
    assert "batch 1, one channel, 2x2" not in parts["3"].output
    # Part 4: every correctness point (8), little or no speed credit.
    assert 8 <= parts["4"].score <= 14, parts["4"].output
    assert "Correctness: 6 of 6 checks passed" in parts["4"].output and "faster" in parts["4"].output
    assert "Hint: which loop is innermost?" in parts["4"].output
    # Part 5: the square kernels pass; the one non-square kernel is named.
    assert parts["5"].score == pytest.approx(10 * 5 / 6, abs=0.01), parts["5"].output
    assert "FAILED [non-square kernel, odd sizes: x (2, 3, 7, 9), 2x5 kernel]" in parts["5"].output


def _cells(*sources):
    return [CodeCell(i + 2, s) for i, s in enumerate(sources)]


GIVEN = "from accel_edu.cnn.numpy_kernels import col2im, im2col as given_im2col"


def test_the_given_unfolding_may_be_imported_for_part_2_only():
    own = "def im2col(x, kh, kw, stride=1, padding=0, dilation=1):\n    return x"
    assert library_shortcut(_cells(GIVEN, own), "im2col") == ""
    assert library_shortcut(_cells(GIVEN, own), "conv2d_backward") == ""
    imported = library_shortcut(_cells("from accel_edu.cnn.numpy_kernels import im2col"), "im2col")
    assert "`im2col` is the library's, imported at cell 2, line 1" in imported
    wrapper = "def im2col(x, kh, kw, *geometry):\n    return given_im2col(x, kh, kw, *geometry)"
    wrapped = library_shortcut(_cells(GIVEN, wrapper), "im2col")
    assert "Your im2col (cell 3) calls the library's given_im2col" in wrapped


@pytest.mark.parametrize("source", [
    "from accel_edu.cnn.numpy_kernels import maxpool2d_backward",
    "import accel_edu.cnn.numba_kernels as nk",
    "from accel_edu.cnn import numpy_kernels",
    "from accel_edu import cnn",
])
def test_any_other_import_from_the_chapter_blocks_the_python_parts(source):
    for function in ("im2col", "conv2d_backward", "maxpool2d_backward", "conv2d_direct"):
        reason = library_shortcut(_cells(GIVEN, source), function)
        assert "imports from the chapter's library (cell 3, line 1" in reason


def test_stubs_name_the_graded_parts():
    assert_stubs_name_the_parts("02_cnn", 60)
