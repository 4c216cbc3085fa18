"""The hardware chapter's exercises through the grader: solution, exercise, and typical mistakes.

One batch grades four notebooks with a fixed seed: the solution, the generated exercise, and
the solution with a classic mistake in each part, twice over (two mistakes per timed part).
Correctness counts are exact. The speed of the timed parts is measured by the grader on a
shared machine, so only what cannot move is pinned here: full marks need every check right,
a function that skips sweeps gets no speed credit, and speed is never given for a wrong answer.
"""
from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from accel_edu.grading.assignments import hardware
from accel_edu.grading.assignments.hardware_speed import credit
from accel_edu.grading.batch import grade_directory
from accel_edu.grading.grader import GradeOptions
from grading_support import (LIMITS, ROOT, assert_full_marks, assert_zero_and_says_what_to_write, parts_by_number,
                             with_mistakes)

SOLUTION_TRIAD = nbformat.read(ROOT / "solutions" / "06_hardware.ipynb", as_version=4)
TRIAD_SOURCE = next(c.source for c in SOLUTION_TRIAD.cells if c.source.startswith("TRIAD_SOURCE"))

MISTAKES = {
    # Part 1: each point compared with its neighbour only: a step with a sample halfway down
    # falls by less than a quarter twice, and is missed (all 8 such curves fail).
    "cache_steps": '''def cache_steps(sizes_bytes, gbps, drop=0.25):
    return np.array([sizes_bytes[i - 1] for i in range(1, len(gbps)) if gbps[i] < (1 - drop) * gbps[i - 1]])''',
    # Part 2: right, but NumPy with temporaries: b + scalar * c allocates and fills two arrays.
    "triad": '''def triad(a, b, c, scalar, sweeps):
    for _ in range(sweeps):
        a[:] = b + scalar * c
    return a''',
    # Part 3: the usual guard in every work-item of the whole groups: right, and slower on PoCL.
    "TRIAD_SOURCE": TRIAD_SOURCE.replace("    const int i = get_global_id(0);\n    a[i]",
                                         "    const int i = get_global_id(0);\n    if (i >= n) return;\n    a[i]"),
    # Part 4: a multiply-add counted as one FLOP in the GEMM (its 6 cases fail).
    "flops_and_bytes": "_counts = flops_and_bytes\n"
                       "def flops_and_bytes(kernel, sizes):\n"
                       "    flops, nbytes = _counts(kernel, sizes)\n"
                       "    return (flops / 2 if kernel == 'gemm' else flops), nbytes",
    # Part 5: intensity as bytes per FLOP.
    "roofline_place": '''def roofline_place(flops, nbytes, peak_gflops, bandwidth_gbps):
    intensity = nbytes / flops
    return intensity, min(peak_gflops, intensity * bandwidth_gbps), \\
        "memory" if intensity < peak_gflops / bandwidth_gbps else "compute"''',
}

MORE_MISTAKES = {
    # Part 2: sweeps ignored: every answer is right (each sweep writes the same values), but
    # 100 more sweeps take no more time: no speed credit.
    "triad": '''@njit(cache=True, parallel=True)
def triad(a, b, c, scalar, sweeps):
    for i in prange(a.shape[0]):
        a[i] = b[i] + scalar * c[i]
    return a''',
    # Part 3: an off-by-one tail (i <= n) writes a[n]: only sizes that are whole groups of 256
    # (256 and 4096 of the 8) have no tail launch and pass.
    "TRIAD_SOURCE": TRIAD_SOURCE.replace("if (i < n)", "if (i <= n)"),
}


def _with_mistakes(mistakes: dict) -> nbformat.NotebookNode:
    nb = with_mistakes("06_hardware", {k: v for k, v in mistakes.items() if k != "flops_and_bytes"})
    if "flops_and_bytes" in mistakes:  # a wrapper after the solution's cell, so it can call it
        index = next(i for i, c in enumerate(nb.cells) if c.source.startswith("def flops_and_bytes"))
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(mistakes["flops_and_bytes"]))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"solution" | "exercise" | "mistakes" | "more_mistakes": result}, graded in one batch."""
    base = tmp_path_factory.mktemp("hardware")
    submissions = base / "submissions"
    submissions.mkdir()
    for student, folder in (("solution", "solutions"), ("exercise", "exercises")):
        (submissions / f"{student}.ipynb").write_bytes((ROOT / folder / "06_hardware.ipynb").read_bytes())
    nbformat.write(_with_mistakes(MISTAKES), submissions / "mistakes.ipynb")
    nbformat.write(_with_mistakes(MORE_MISTAKES), submissions / "more_mistakes.ipynb")
    batch = grade_directory(submissions, base / "grades", GradeOptions(limits=LIMITS, seed=2024),
                            jobs=2, progress=False)
    return {g.student: g.result for g in batch}


def test_solution_scores_full_marks(graded):
    assert_full_marks(graded["solution"], "06_hardware", 50)


def test_exercise_scores_zero_and_says_what_to_write(graded):
    assert_zero_and_says_what_to_write(graded["exercise"], 50, numbers="1245")
    part3 = parts_by_number(graded["exercise"])["3"]
    assert part3.score == 0 and "0 of 8 launches were right" in part3.output, part3.output
    assert "left some elements of a unwritten" in part3.output


def test_exercise_stubs_name_the_parts():
    """As the other chapters' check, except that Part 3 has two stubs (one in each kernel)."""
    exercise = nbformat.read(ROOT / "exercises" / "06_hardware.ipynb", as_version=4)
    stubs = re.findall(r'NotImplementedError\("([^"]+)"\)|// (Part \d+: [^:]+): your code here',
                       "\n".join(c.source for c in exercise.cells))
    names = [a or b for a, b in stubs]
    assert names.count("Part 3: STREAM triad in OpenCL") == 2
    assert [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]] == [p.name for p in hardware.PARTS]
    headings = "\n".join(c.source for c in exercise.cells if c.cell_type == "markdown")
    for part in hardware.PARTS:
        assert f"## {part.name} ({part.points:g} points)" in headings
    assert sum(p.points for p in hardware.PARTS) == 50
    assert exercise.metadata["accel_edu"]["assignment"] == "06_hardware"


def test_neighbour_comparison_misses_the_gradual_steps(graded):
    part = parts_by_number(graded["mistakes"])["1"]
    assert part.score == 5.0 and "8 of 16 checks passed" in part.output, part.output
    assert "a sample halfway down each step" in part.output


def test_triad_with_temporaries_is_right_and_timed(graded):
    """Graded alone it measured 49-57% of the grader's bandwidth (full credit from 60%); in this
    batch, with another notebook running beside it on the 2 cores, it has reached 100%, so its
    speed is not pinned here."""
    part = parts_by_number(graded["mistakes"])["2"]
    assert "10 of 10 checks passed" in part.output and "of its bandwidth" in part.output, part.output
    assert 6.0 <= part.score <= 15.0


def test_guard_in_every_work_item_is_right_and_slower_on_a_cpu(graded):
    """Measured 46-54% of the grader's bandwidth on PoCL (full credit from 70%); a GPU's OpenCL
    does not mind the guard, so there only the correctness is pinned."""
    import pyopencl as cl
    from accel_edu.runtime import opencl as ocl
    part = parts_by_number(graded["mistakes"])["3"]
    assert "8 of 8 launches were right" in part.output and "of its bandwidth" in part.output, part.output
    assert 6.0 <= part.score <= 15.0
    if ocl.default_device().type & cl.device_type.CPU:
        assert part.score < 15.0 and "keep `if` out of triad_groups" in part.output, part.output


def test_multiply_add_counted_once(graded):
    part = parts_by_number(graded["mistakes"])["4"]
    assert "16 of 22 checks passed" in part.output and "gemm" in part.output, part.output
    assert part.score == round(5 * 16 / 22, 2)


def test_intensity_upside_down(graded):
    part = parts_by_number(graded["mistakes"])["5"]
    assert part.score == 0 and "0 of 11 checks passed" in part.output, part.output
    assert "intensity is" in part.output


def test_skipped_sweeps_earn_no_speed_credit(graded):
    part = parts_by_number(graded["more_mistakes"])["2"]
    assert "10 of 10 checks passed" in part.output, part.output
    assert part.score == 6.0 and "No speed credit" in part.output, part.output


def test_off_by_one_tail_writes_past_the_end(graded):
    part = parts_by_number(graded["more_mistakes"])["3"]
    assert "2 of 8 launches were right" in part.output and "wrote past the end of a" in part.output, part.output
    assert part.score == 1.5 and "Speed: measured once every launch is right" in part.output


def test_untouched_parts_of_the_mistake_notebooks_keep_full_marks(graded):
    more = parts_by_number(graded["more_mistakes"])
    assert [more[n].score for n in "145"] == [10, 5, 5]


def test_importing_the_chapters_code_is_refused(tmp_path):
    """Every part refuses a notebook that imports accel_edu.hardware, before calling anything."""
    from accel_edu.grading.grader import grade_notebook
    nb = nbformat.v4.new_notebook(metadata={"accel_edu": {"assignment": "06_hardware"}})
    nb.cells = [nbformat.v4.new_code_cell("from accel_edu.hardware.roofline import attainable\n"
                                          "def roofline_place(f, b, p, w):\n"
                                          "    return f / b, attainable(f / b, p, w), 'memory'")]
    path = tmp_path / "imports.ipynb"
    nbformat.write(nb, path)
    result = grade_notebook(path, GradeOptions(limits=LIMITS, seed=1))
    for part in result.parts:
        assert part.score == 0 and "imports the grader's reference code" in part.output, (part.name, part.output)
        assert "cell 1, line 1: imports accel_edu.hardware.roofline" in part.output


def test_credit_is_linear_between_floor_and_target():
    assert credit(0.3, 0.3, 0.8) == 0 and credit(0.8, 0.3, 0.8) == 1 and credit(1.4, 0.3, 0.8) == 1
    assert credit(0.55, 0.3, 0.8) == pytest.approx(0.5)


def test_counts_agree_with_the_registry_where_it_declares_them():
    """The grader's written-out convention is the registry's (Kernel.flops and Kernel.bytes)."""
    cases = [c for c in hardware._count_cases(np.random.default_rng(3)) if c.args[0] != "triad"]
    if hardware.registry_counts(*cases[0].args) is None:
        pytest.skip("this checkout's registry declares no Kernel.bytes yet")
    for case in cases:
        kernel, sizes = case.args
        assert hardware.registry_counts(kernel, sizes) == hardware._written_out(kernel, sizes, sizes["itemsize"]), \
            case.label


def test_the_solutions_step_finder_reads_every_synthetic_curve():
    """Over many seeds (the grader draws a fresh one per submission), not only the test's."""
    solution = next(c.source for c in SOLUTION_TRIAD.cells if c.source.startswith("def cache_steps"))
    namespace = {"np": np}
    exec(solution, namespace)
    for seed in range(50):
        for case in hardware._curve_cases(np.random.default_rng(seed)):
            got, want = namespace["cache_steps"](*case.args), case.expected[0]
            assert got.size == want.size and all(w / 2 <= g <= 2 * w for g, w in zip(got, want)), (seed, case.label)
