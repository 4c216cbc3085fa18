"""Limits and notebook reading, on tiny notebooks that grade in seconds."""
from __future__ import annotations

import nbformat
import pytest

from accel_edu.grading import GradeOptions, Limits, grade_notebook
from accel_edu.grading.cells import neutralise_magics, read_notebook
from accel_edu.grading.landlock import abi_version


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources],
                                  metadata={"accel_edu": {"assignment": "01_backprop"}})
    nbformat.write(nb, path)
    return path


def test_the_whole_submission_has_a_time_limit(tmp_path):
    path = _notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)", "def linear_backward(dy, x, w):\n    pass")
    result = grade_notebook(path, GradeOptions(limits=Limits(timeout=4, part_timeout=30)))
    assert result.error == "" and result.score == 0 and result.execution_time < 20
    assert "used up its 4 s time limit" in result.notebook
    assert "was still running when the submission's 4 s time limit ran out" in result.notebook
    assert all("the submission's 4 s time limit was used up" in p.output for p in result.parts[:4])
    assert "used up its 4 s time limit" in result.parts[4].output


def test_ipython_magics_do_not_break_a_cell():
    cell = neutralise_magics(3, "%matplotlib inline\nx = 1\n!pip install foo\ny = x != 2")
    assert cell.source.splitlines()[1:] == ["x = 1", "pass  # IPython: !pip install foo", "y = x != 2"]
    assert "2 IPython magic line(s) skipped" == cell.note
    assert neutralise_magics(4, "%%time\nx = 1").source == ""
    assert neutralise_magics(5, 's = """\n%not magic\n"""').note == ""  # valid Python is left alone


def test_reading_a_notebook_counts_every_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_raw_cell("raw"),
                                         nbformat.v4.new_code_cell(["y = ", "2"])])
    nbformat.write(nb, tmp_path / "n.ipynb")
    metadata, cells = read_notebook(tmp_path / "n.ipynb")
    assert [(c.index, c.source) for c in cells] == [(2, "x = 1"), (4, "y = 2")]


@pytest.mark.skipif(abi_version() < 1, reason="no Landlock on this kernel")
def test_sandbox_reports_its_confinement(tmp_path):
    path = _notebook(tmp_path / "tiny.ipynb", "x = 1")
    result = grade_notebook(path, GradeOptions(limits=Limits(part_timeout=20)))
    assert any(s.startswith("landlock ABI") for s in result.sandbox)
    assert any(s.startswith("data ") for s in result.sandbox)
