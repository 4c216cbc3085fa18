"""What the chapters' grading tests share: a solution with classic mistakes written in, one batch
that grades the solution, the generated exercise and those mistakes, and the check that the
exercise's stubs and headings name the assignment's parts.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from accel_edu.grading import assignments
from accel_edu.grading.batch import grade_directory
from accel_edu.grading.grader import GradeOptions
from accel_edu.grading.limits import Limits

ROOT = Path(__file__).resolve().parents[1]
# Room for a loaded 2-core CI machine: compiling a parallel Numba kernel takes seconds there.
LIMITS = Limits(timeout=300, part_timeout=30, memory_mb=1024)


def defines(cell, name: str) -> bool:
    """Whether a code cell defines ``name`` (a def, possibly decorated, or an assignment)."""
    return cell.cell_type == "code" and bool(
        re.search(rf"^(@\w+.*\n)?(def\s+{name}\b|{name}\s*=)", cell.source, re.M))


def with_mistakes(assignment: str, mistakes: dict[str, str]) -> nbformat.NotebookNode:
    """``solutions/<assignment>.ipynb`` with the cell defining each name replaced by its mistake."""
    nb = nbformat.read(ROOT / "solutions" / f"{assignment}.ipynb", as_version=4)
    for name, source in mistakes.items():
        (cell,) = [c for c in nb.cells if defines(c, name)]
        cell.source = source
    return nb


def grade_solution_exercise_and(mistakes: nbformat.NotebookNode, assignment: str, base: Path) -> dict:
    """{"solution" | "exercise" | "mistakes": result}, graded in one batch with a fixed seed."""
    submissions = base / "submissions"
    submissions.mkdir()
    for student, folder in (("solution", "solutions"), ("exercise", "exercises")):
        (submissions / f"{student}.ipynb").write_bytes((ROOT / folder / f"{assignment}.ipynb").read_bytes())
    nbformat.write(mistakes, submissions / "mistakes.ipynb")
    batch = grade_directory(submissions, base / "grades", GradeOptions(limits=LIMITS, seed=2024),
                            jobs=3, progress=False)
    return {g.student: g.result for g in batch}


def parts_by_number(result) -> dict:
    return {p.name.split(":")[0].removeprefix("Part "): p for p in result.parts}


def assert_stubs_name_the_parts(assignment: str, total_points: float) -> None:
    """Every part has a stub that names it and a heading with its points, in order."""
    exercise = nbformat.read(ROOT / "exercises" / f"{assignment}.ipynb", as_version=4)
    stubs = re.findall(r'NotImplementedError\("([^"]+)"\)|// (Part \d+: [^:]+): your code here',
                       "\n".join(c.source for c in exercise.cells))
    parts = assignments.get(assignment).parts
    assert [a or b for a, b in stubs] == [p.name for p in parts]
    headings = "\n".join(c.source for c in exercise.cells if c.cell_type == "markdown")
    for part in parts:
        assert f"## {part.name} ({part.points:g} points)" in headings
    assert sum(p.points for p in parts) == total_points
    assert exercise.metadata["accel_edu"]["assignment"] == assignment


def assert_full_marks(result, assignment: str, points: float) -> None:
    """The solution: every point, and every cell (self-checks included) ran cleanly."""
    assert result.error == "" and result.assignment == assignment
    assert result.score == result.max_score == points, [(p.name, p.score, p.output) for p in result.parts]
    assert result.notebook == "", "every cell of the solution, self-checks included, must run cleanly"


def assert_zero_and_says_what_to_write(result, points: float, numbers: str | None = None) -> None:
    """The untouched exercise: no points, and each part (or those numbered) names its stub."""
    assert result.error == "" and result.score == 0 and result.max_score == points
    for number, part in parts_by_number(result).items():
        if numbers is None or number in numbers:
            assert "not written yet" in part.output and "NotImplementedError" in part.output, (number, part.output)
