"""Exercises are generated from solutions: markers, stubs, staleness, and the parts' names."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from accel_edu.cli import main
from accel_edu.grading import assignments
from accel_edu.grading.exercises import make_exercise, stale_exercises
from accel_edu.grading.markers import MarkerError, strip_solutions

ROOT = Path(__file__).resolve().parents[1]


def test_exercises_are_up_to_date(capsys):
    code = main(["make-exercises", str(ROOT / "solutions"), "--out", str(ROOT / "exercises"), "--check"])
    assert code == 0, capsys.readouterr().err + "\nrun `accel-edu make-exercises` and commit exercises/"


def test_check_reports_a_stale_exercise(tmp_path, capsys):
    out = tmp_path / "exercises"
    assert main(["make-exercises", str(ROOT / "solutions"), "--out", str(out)]) == 0
    assert stale_exercises(ROOT / "solutions", out) == []
    (out / "01_backprop.ipynb").write_text("{}")
    assert main(["make-exercises", str(ROOT / "solutions"), "--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


def test_python_block_becomes_a_stub_at_its_indentation():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    assert strip_solutions(source, "Part 1: F") == 'def f(x):\n    y = 1\n    raise NotImplementedError("Part 1: F")\n'


def test_opencl_block_becomes_a_comment_so_the_kernel_still_compiles():
    source = "k = '''\nvoid k() {\n    // BEGIN SOLUTION\n    x = 1;\n    // END SOLUTION\n}\n'''"
    assert strip_solutions(source, "Part 5: K") == "k = '''\nvoid k() {\n    // Part 5: K: your code here\n}\n'''"


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside the block"),
])
def test_broken_markers_are_reported_with_their_line(source, problem):
    with pytest.raises(MarkerError, match=problem):
        strip_solutions(source, "Part 1")


def test_exercise_keeps_everything_but_solutions_and_outputs():
    solution = nbformat.read(ROOT / "solutions" / "01_backprop.ipynb", as_version=4)
    solution.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello")]
    solution.cells[1].execution_count = 3
    solution.cells[1].metadata["tags"] = ["keep-me"]
    exercise = make_exercise(solution, "solutions/01_backprop.ipynb")
    assert len(exercise.cells) == len(solution.cells)
    assert exercise.cells[1].outputs == [] and exercise.cells[1].execution_count is None
    assert exercise.cells[1].metadata["tags"] == ["keep-me"]
    assert exercise.metadata["accel_edu"] == {"assignment": "01_backprop",
                                              "generated_from": "solutions/01_backprop.ipynb"}
    code = "\n".join(c.source for c in exercise.cells if c.cell_type == "code")
    for solution_line in ("BEGIN SOLUTION", "dw = dy.T @ x", "x[i] = old", "dx[i] = x[i] > 0.0f"):
        assert solution_line not in code
    for cell_s, cell_e in zip(solution.cells, exercise.cells):
        if cell_s.cell_type == "markdown" or "BEGIN SOLUTION" not in cell_s.source:
            assert cell_s.source == cell_e.source


def test_stubs_name_the_graded_parts():
    """Every part the grader knows has a heading in the solution and a stub in the exercise."""
    exercise = nbformat.read(ROOT / "exercises" / "01_backprop.ipynb", as_version=4)
    stubs = re.findall(r'NotImplementedError\("([^"]+)"\)|// (Part \d+: [^:]+): your code here',
                       "\n".join(c.source for c in exercise.cells))
    named = [a or b for a, b in stubs]
    parts = assignments.get("01_backprop").parts
    assert named == [p.name for p in parts]
    headings = "\n".join(c.source for c in exercise.cells if c.cell_type == "markdown")
    for part in parts:
        assert f"## {part.name} ({part.points:g} points)" in headings
    assert sum(p.points for p in parts) == 60
