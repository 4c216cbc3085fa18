"""Grade a folder of submissions in parallel: one result file each, and a CSV gradebook.

Each submission is graded in its own sandboxed worker, so the pool here only waits on pipes:
threads are enough. One submission that cannot be graded, for whatever reason, gets a zero
row with the reason, and the batch goes on. Speed parts share one lock, so two submissions
are never timed at the same moment.
"""
from __future__ import annotations

import csv
import re
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import assignments
from .formats import EXTENSIONS, render
from .grader import GradeOptions, grade_notebook
from .result import GradeResult, PartResult
from .sandbox import stop_all


@dataclass
class Graded:
    student: str
    path: Path
    result: GradeResult
    result_file: Path


def find_submissions(directory: Path, out_dir: Path | None = None) -> list[Path]:
    """Every .ipynb under ``directory`` (Gradescope's export has a folder per student),
    leaving out checkpoints and the output folder."""
    found = []
    for path in sorted(directory.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        if out_dir is not None and out_dir.resolve() in path.resolve().parents:
            continue
        found.append(path)
    return found


def student_id(path: Path, directory: Path) -> str:
    """'alice' for alice.ipynb, 'submission_123__01_backprop' for submission_123/01_backprop.ipynb."""
    relative = path.relative_to(directory).with_suffix("")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "__".join(relative.parts)) or "submission"


def grade_directory(directory: str | Path, out_dir: str | Path, options: GradeOptions,
                    jobs: int = 1, fmt: str = "json", progress: bool = True) -> list[Graded]:
    directory, out_dir = Path(directory), Path(out_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"no such folder: {directory}")
    submissions = find_submissions(directory, out_dir)
    if not submissions:
        raise FileNotFoundError(f"no .ipynb files in {directory}")
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = _student_ids(submissions, directory)
    graded: list[Graded] = []
    bar = _progress(len(submissions), progress)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(_grade_one, path, options): path for path in submissions}
        for future in as_completed(futures):
            path = futures[future]
            result = future.result()
            student = ids[path]
            result_file = out_dir / f"{student}{EXTENSIONS[fmt]}"
            result_file.write_text(render(result, fmt), encoding="utf-8")
            graded.append(Graded(student, path, result, result_file))
            if bar is not None:
                bar.set_postfix_str(f"{student}: {result.score:g}/{result.max_score:g}", refresh=False)
                bar.update(1)
    except BaseException:  # Ctrl-C or SIGTERM: stop every sandbox now, not after the queue drains
        pool.shutdown(wait=False, cancel_futures=True)
        stop_all()
        raise
    pool.shutdown()
    if bar is not None:
        bar.close()
    graded.sort(key=lambda g: g.student)
    write_gradebook(out_dir / "gradebook.csv", graded)
    return graded


def _student_ids(submissions: list[Path], directory: Path) -> dict[Path, str]:
    """Two files may sanitise to one name (a b.ipynb, a_b.ipynb): number the later ones."""
    ids: dict[Path, str] = {}
    for path in submissions:
        base = candidate = student_id(path, directory)
        n = 1
        while candidate in ids.values():
            n += 1
            candidate = f"{base}_{n}"
        ids[path] = candidate
    return ids


def _grade_one(path: Path, options: GradeOptions) -> GradeResult:
    """Never raises: a failure of the grader becomes a zero result that says so."""
    try:
        return grade_notebook(path, options)
    except Exception:
        try:
            parts = assignments.resolve({}, path, options.assignment).parts
        except Exception:
            parts = []
        detail = traceback.format_exc(limit=6)
        return GradeResult(str(path), options.assignment or "?",
                           [PartResult(p.name, p.points, 0.0, "The grader failed on this submission.") for p in parts],
                           notebook="The grader failed on this submission (not the student's fault).",
                           error=detail)


def write_gradebook(path: Path, graded: list[Graded]) -> None:
    part_names: list[str] = []
    for g in graded:
        for p in g.result.parts:
            if p.name not in part_names:
                part_names.append(p.name)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "file", *part_names, "total", "max_score", "grader_error"])
        for g in graded:
            scores = {p.name: p.score for p in g.result.parts}
            writer.writerow([g.student, str(g.path), *[f"{scores.get(n, 0):g}" for n in part_names],
                             f"{g.result.score:g}", f"{g.result.max_score:g}",
                             g.result.error.strip().splitlines()[-1] if g.result.error else ""])


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="notebook", desc="grading", file=sys.stderr, dynamic_ncols=True)
