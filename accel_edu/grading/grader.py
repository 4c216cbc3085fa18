"""Grade one submission: read it, run it in a sandbox, grade each part, never give up.

    >>> from accel_edu.grading import grade_notebook
    >>> result = grade_notebook("exercises/01_backprop.ipynb")      # doctest: +SKIP
    >>> result.score, result.max_score                                # doctest: +SKIP

Whatever the submission does, a complete :class:`GradeResult` comes back: a part that
cannot be graded scores zero with the reason in its feedback. ``result.error`` is set only
when the grader itself failed.
"""
from __future__ import annotations

import secrets
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import assignments, integrity
from .cells import NotANotebook, read_notebook
from .limits import Limits
from .opencl_part import OpenCLPart
from .parts import Context
from .result import GradeResult, PartResult
from .session import NotebookSession
from .speed import SpeedPart
from .trusted import GraderSetupError


@dataclass
class GradeOptions:
    limits: Limits = field(default_factory=Limits)
    assignment: str | None = None
    seed: int | None = None
    timing_lock: threading.Lock = field(default_factory=threading.Lock)


def grade_notebook(path: str | Path, options: GradeOptions | None = None) -> GradeResult:
    """Grade ``path``; FileNotFoundError if it does not exist, ValueError for a bad --assignment."""
    options = options or GradeOptions()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook: {path}")
    started = time.monotonic()
    try:
        metadata, cells = read_notebook(path)
    except NotANotebook as exc:
        assignment = assignments.resolve({}, path, options.assignment)
        return _zero(path, assignment, f"This file could not be graded: {exc}.", started)
    assignment = assignments.resolve(metadata, path, options.assignment)
    if not cells:
        return _zero(path, assignment, "This notebook has no code cells: nothing to grade.", started)
    scan = integrity.scan(cells, _graded_names(assignment.parts),
                          tuple(p.function for p in assignment.parts if isinstance(p, SpeedPart) and p.shortcut_rule))
    session = NotebookSession(cells, options.limits, deadline=started + options.limits.timeout)
    seed = options.seed if options.seed is not None else secrets.randbits(64)
    ctx = Context(session, options.limits, np.random.default_rng(seed), scan, options.timing_lock)
    result = GradeResult(str(path), assignment.name, [])
    try:
        session.ensure_running()
        for part in assignment.parts:
            result.parts.append(_grade_part(part, ctx, result))
    finally:
        session.close()
    result.notebook = _notebook_notes(session)
    if session.broken:
        result.error += f"The sandboxed worker would not start: {session.failure}\n"
    result.sandbox = session.sandbox_info
    result.execution_time = time.monotonic() - started
    return result


def _grade_part(part, ctx: Context, result: GradeResult) -> PartResult:
    started = time.monotonic()
    try:
        graded = part.grade(ctx)
        graded.seconds = time.monotonic() - started
        return graded
    except GraderSetupError as exc:  # this machine cannot grade the part (no OpenCL device, say)
        result.error += f"{part.name}: {exc}\n"
        return PartResult(part.name, part.points, 0.0,
                          "The grader cannot grade this part on this machine (not your fault); tell your instructor.")
    except Exception:  # a bug of the grader: this part scores 0, the others are still graded
        detail = traceback.format_exc(limit=6)
        result.error += f"{part.name}: {detail}\n"
        return PartResult(part.name, part.points, 0.0,
                          "The grader failed on this part (not your fault); tell your instructor.")


def _graded_names(parts) -> list[str]:
    return [p.source_name if isinstance(p, OpenCLPart) else p.function for p in parts]


def _notebook_notes(session: NotebookSession) -> str:
    lines = []
    if session.failure:
        lines.append(f"The notebook could not be run to the end: {session.failure}")
    for report in session.reports.values():
        if report.error or report.skipped:
            lines.append(report.summary())
        if report.cell.note:
            lines.append(f"cell {report.cell.index}: {report.cell.note}")
    if session.output_total > 100_000:
        lines.append(f"The notebook printed {session.output_total:,} bytes. Printed output earns nothing "
                     "(only what your functions return is graded); the grader kept the first and last few KB.")
    return "\n".join(lines)


def _zero(path: Path, assignment, message: str, started: float) -> GradeResult:
    parts = [PartResult(p.name, p.points, 0.0, message) for p in assignment.parts]
    return GradeResult(str(path), assignment.name, parts, notebook=message,
                       execution_time=time.monotonic() - started)
