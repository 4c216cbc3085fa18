"""Write ``exercises/NN_topic.ipynb`` from ``solutions/NN_topic.ipynb``, the only source.

What changes: every marked solution block becomes a stub naming its part (see markers.py);
outputs and execution counts are cleared; execution timings are dropped. What stays: every
other cell, hints, tags and metadata. The part a stub names is the most recent markdown
heading of the form ``## Part N: Name`` (a trailing "(10 points)" is left out).

The output is deterministic, so ``--check`` can compare the files byte for byte.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .markers import MarkerError, has_markers, strip_solutions

_PART_HEADING = re.compile(r"^\s*#+\s*(Part\s+\d+\s*:\s*.+?)\s*(\(\s*\d+(\.\d+)?\s*points?\s*\))?\s*$", re.M)
SOLUTION_GLOB = "[0-9][0-9]_*.ipynb"


def make_exercise(solution: nbformat.NotebookNode, source_name: str = "") -> nbformat.NotebookNode:
    """The student's notebook for one solution notebook."""
    exercise = nbformat.from_dict(solution)
    part = "Write your code here"
    for number, cell in enumerate(exercise.cells):
        if cell.cell_type == "markdown":
            found = _PART_HEADING.findall(cell.source)
            if found:
                part = found[-1][0]
        elif cell.cell_type == "code":
            if has_markers(cell.source):
                try:
                    cell.source = strip_solutions(cell.source, part)
                except MarkerError as exc:
                    raise MarkerError(f"{source_name or 'notebook'}, cell {number + 1}: {exc}") from None
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        if "id" not in cell and exercise.nbformat_minor >= 5:
            cell["id"] = f"cell-{number + 1}"
    if source_name:
        exercise.metadata.setdefault("accel_edu", {})["generated_from"] = source_name
    return exercise


def _pairs(solutions_dir: Path, out_dir: Path) -> list[tuple[Path, Path]]:
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"no solutions folder at {solutions_dir}")
    return [(src, out_dir / src.name) for src in sorted(solutions_dir.glob(SOLUTION_GLOB))]


def render(src: Path) -> str:
    solution = nbformat.read(src, as_version=4)
    return nbformat.writes(make_exercise(solution, f"solutions/{src.name}")) + "\n"


def write_exercises(solutions_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write every exercise; returns the paths written."""
    solutions_dir, out_dir = Path(solutions_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src, dst in _pairs(solutions_dir, out_dir):
        dst.write_text(render(src), encoding="utf-8")
        written.append(dst)
    return written


def stale_exercises(solutions_dir: str | Path, out_dir: str | Path) -> list[str]:
    """One line per exercise that is missing or differs from what its solution generates."""
    problems = []
    for src, dst in _pairs(Path(solutions_dir), Path(out_dir)):
        if not dst.exists():
            problems.append(f"{dst} is missing")
        elif dst.read_text(encoding="utf-8") != render(src):
            problems.append(f"{dst} is out of date with {src}")
    return problems
