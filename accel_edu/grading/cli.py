"""``accel-edu grade``, ``accel-edu make-exercises`` and ``accel-edu autograder-bundle``.

Exit codes: 0 when the command did its job (whatever the score), 1 when the grader itself
failed on a submission (its result is still written, saying so), 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from .limits import Limits

_DEFAULTS = Limits()


def register(subparsers) -> None:
    grade = subparsers.add_parser(
        "grade", help="grade a notebook, or every notebook in a folder",
        description="Grade a submitted notebook (or every .ipynb under a folder) in a sandbox, "
                    "and report each part's points with feedback.")
    grade.add_argument("path", help="a .ipynb file, or a folder of them (batch mode)")
    grade.add_argument("--format", choices=("table", "json", "gradescope", "junit"), default=None,
                       help="output format (default: table for one notebook, json files in batch mode)")
    grade.add_argument("--output", "-o", metavar="FILE_OR_DIR",
                       help="write the result here instead of stdout; in batch mode the folder for "
                            "the gradebook and result files (default: ./grades)")
    grade.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                       help="batch mode: grade N notebooks at once (default 1)")
    grade.add_argument("--timeout", type=float, default=_DEFAULTS.timeout, metavar="S",
                       help=f"seconds for a whole submission (default {_DEFAULTS.timeout:g})")
    grade.add_argument("--part-timeout", type=float, default=_DEFAULTS.part_timeout, metavar="S",
                       help=f"seconds for one cell and for one part (default {_DEFAULTS.part_timeout:g})")
    grade.add_argument("--memory-mb", type=int, default=_DEFAULTS.memory_mb, metavar="M",
                       help=f"memory for the submission's process, in MB (default {_DEFAULTS.memory_mb})")
    grade.add_argument("--assignment", help="grade as this assignment (default: from the notebook)")
    grade.add_argument("--seed", type=int, help=argparse.SUPPRESS)  # reproduce a run's hidden cases
    grade.add_argument("--no-progress", action="store_true", help="batch mode: no progress bar")
    grade.set_defaults(func=run_grade)

    make = subparsers.add_parser(
        "make-exercises", help="write exercises/ from solutions/",
        description="Write exercises/NN_topic.ipynb from each solutions/NN_topic.ipynb: solution "
                    "blocks become stubs, outputs are cleared.")
    make.add_argument("solutions", nargs="?", default="solutions", help="folder of solution notebooks")
    make.add_argument("--out", default="exercises", help="folder to write the exercises to")
    make.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if an exercise is missing or out of date")
    make.set_defaults(func=run_make_exercises)

    bundle = subparsers.add_parser(
        "autograder-bundle", help="build a Gradescope autograder zip",
        description="Build a zip for Gradescope's programming assignments: setup.sh, run_autograder "
                    "and this accel_edu package.")
    bundle.add_argument("--out", default="autograder.zip", help="the zip to write")
    bundle.add_argument("--assignment", default="01_backprop", help="which assignment it grades")
    bundle.add_argument("--timeout", type=float, default=_DEFAULTS.timeout, metavar="S")
    bundle.add_argument("--part-timeout", type=float, default=_DEFAULTS.part_timeout, metavar="S")
    bundle.add_argument("--memory-mb", type=int, default=1024, metavar="M",
                        help="memory for the submission (default 1024; Gradescope's default machine has little)")
    bundle.set_defaults(func=run_bundle)


def _limits(args) -> Limits:
    for name in ("timeout", "part_timeout"):
        if not getattr(args, name) > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive number of seconds")
    if args.memory_mb < 64:
        raise ValueError(f"--memory-mb must be at least 64; got {args.memory_mb}")
    return Limits(timeout=args.timeout, part_timeout=args.part_timeout, memory_mb=args.memory_mb)


def run_grade(args) -> int:
    from .formats import render
    _exit_cleanly_on_sigterm()
    from .grader import GradeOptions, grade_notebook
    options = GradeOptions(limits=_limits(args), assignment=args.assignment, seed=args.seed)
    path = Path(args.path)
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1; got {args.jobs}")
    if path.is_dir():
        return _grade_batch(path, args, options)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    result = grade_notebook(path, options)
    text = render(result, args.format or "table")
    if args.output:
        _write_atomically(Path(args.output), text)
        print(f"{result.score:g}/{result.max_score:g} written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if result.error else 0


def _exit_cleanly_on_sigterm() -> None:
    """CI cancels a job with SIGTERM: turn it into SystemExit, so that every sandbox is stopped
    and its temporary folder removed on the way out (they run in sessions of their own)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _grade_batch(path: Path, args, options) -> int:
    from .batch import grade_directory
    out_dir = Path(args.output or "grades")
    graded = grade_directory(path, out_dir, options, jobs=args.jobs, fmt=args.format or "json",
                             progress=not args.no_progress)
    width = max(len(g.student) for g in graded) + 2
    for g in graded:
        flag = "  GRADER ERROR" if g.result.error else ""
        print(f"{g.student:<{width}}{g.result.score:>7g}/{g.result.max_score:g}{flag}")
    print(f"\n{len(graded)} notebooks graded; gradebook: {out_dir / 'gradebook.csv'}; "
          f"one result per notebook in {out_dir}/")
    return 1 if any(g.result.error for g in graded) else 0


def _write_atomically(path: Path, text: str) -> None:
    """Write next to the target, then rename: a reader never sees half a results.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_make_exercises(args) -> int:
    from .exercises import stale_exercises, write_exercises
    if args.check:
        problems = stale_exercises(args.solutions, args.out)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `accel-edu make-exercises` and commit the result", file=sys.stderr)
            return 1
        print(f"{args.out}/ is up to date with {args.solutions}/")
        return 0
    for path in write_exercises(args.solutions, args.out):
        print(f"wrote {path}")
    return 0


def run_bundle(args) -> int:
    from .bundle import build_bundle
    out = build_bundle(args.out, args.assignment, _limits(args))
    print(f"wrote {out}: upload it as the autograder of a Gradescope programming assignment")
    return 0
