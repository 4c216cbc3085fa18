"""A graded part: cases made by the grader, answers checked by the grader.

A :class:`FunctionPart` calls one function of the submission on each of its cases. The
cases (inputs, and the expected outputs from the library's reference kernels) are made here,
in the trusted process, from a fresh random seed; only the inputs go to the worker. Each case
passed is worth an equal share of the part's points.
"""
from __future__ import annotations

import difflib
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .compare import check_outputs
from .integrity import Scan
from .limits import Limits
from .result import PartResult
from .session import CallResult, NotebookSession

MAX_FAILURES_SHOWN = 4


@dataclass
class Case:
    label: str
    args: list                 # sent to the worker (arrays, protocol.Layout, protocol.GraderCallable)
    expected: tuple            # one array per output, from the reference; never sent
    rtol: float


@dataclass
class Context:
    """Everything a part needs to grade one submission."""
    session: NotebookSession
    limits: Limits
    rng: np.random.Generator
    scan: Scan
    timing_lock: threading.Lock = field(default_factory=threading.Lock)

    def part_deadline(self) -> float:
        return min(self.session.deadline, time.monotonic() + self.limits.part_timeout)

    def which_limit(self) -> str:
        """The time limit that ran out: the whole submission's, or this part's."""
        if time.monotonic() >= self.session.deadline:
            return f"the submission's {self.limits.timeout:g} s time limit"
        return f"the part's {self.limits.part_timeout:g} s time limit"


@dataclass
class Outcome:
    label: str
    passed: bool
    message: str = ""


class Part:
    name: str
    points: float

    def grade(self, ctx: Context) -> PartResult:
        """No points, with the reason as feedback, when :meth:`blocked` gives one; otherwise
        :meth:`grade_part` scores it."""
        result = PartResult(self.name, self.points)
        result.output = self.blocked(ctx)
        return result if result.output else self.grade_part(ctx, result)

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:  # pragma: no cover - interface
        raise NotImplementedError

    def blocked(self, ctx: Context) -> str:
        """A reason to give no points without calling anything, or ''."""
        if ctx.scan.reference_imports:
            return ("Your notebook imports the grader's reference code (" + "; ".join(ctx.scan.reference_imports[:3])
                    + "). A submission must not use it; remove that import and write the function yourself.")
        return ""


@dataclass
class FunctionPart(Part):
    name: str
    points: float
    function: str
    signature: str                              # shown when a call fails on its arguments
    make_cases: Callable[[np.random.Generator], list[Case]]
    outputs: tuple[str, ...]
    scalars: tuple[str, ...] = ()
    mutation_tolerance: float | None = None     # None: inputs must not change at all
    inplace: tuple[int, ...] = ()               # arguments the function must update in place

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:
        outcomes, stop = self.run_cases(ctx, self.make_cases(ctx.rng))
        result.score = round(self.points * sum(o.passed for o in outcomes) / max(len(outcomes), 1), 2)
        result.output = self.feedback(ctx, outcomes, stop)
        return result

    # -- the parts of grading a function ---------------------------------------------------------
    def run_cases(self, ctx: Context, cases: list[Case]) -> tuple[list[Outcome], str]:
        """Call the function on every case; stop early when it is missing, or keeps dying."""
        outcomes: list[Outcome] = []
        deadline = ctx.part_deadline()
        crashes = 0
        for case in cases:
            if time.monotonic() >= deadline:
                limit = ctx.which_limit()
                outcomes += [Outcome(c.label, False, f"not run: {limit} was used up") for c in cases[len(outcomes):]]
                return outcomes, f"Not every case ran: {limit} was used up."
            deadline += ctx.session.restart_if_needed()  # replaying the notebook is not the part's time
            reply = ctx.session.call(self.function, case.args, min(deadline, ctx.session.deadline))
            if reply.kind in ("missing", "unavailable"):
                return [Outcome(c.label, False) for c in cases], self.why_no_call(ctx, reply)
            outcomes.append(self.judge(case, reply, ctx))
            if reply.kind in ("died", "timeout"):
                crashes += 1
                if crashes >= 2:
                    outcomes += [Outcome(c.label, False, "not run") for c in cases[len(outcomes):]]
                    return outcomes, f"{self.function} stopped the worker twice; the remaining cases were not run."
        return outcomes, ""

    def judge(self, case: Case, reply: CallResult, ctx: Context) -> Outcome:
        if reply.kind == "timeout":
            return Outcome(case.label, False, f"did not return within {ctx.which_limit()}")
        if reply.kind == "died":
            return Outcome(case.label, False, f"the call stopped the Python process: it {reply.reason}")
        if reply.kind == "error":
            return Outcome(case.label, False, self.explain_error(reply.error))
        problem = self.check_mutation(case, reply) or check_outputs(
            reply.value, case.expected, self.outputs, case.rtol, self.scalars)
        return Outcome(case.label, problem is None, problem or "")

    def check_mutation(self, case: Case, reply: CallResult) -> str:
        changed = {index for index, _ in reply.mutated}
        for index, change in reply.mutated:
            if index in self.inplace:
                continue
            if 0 <= index < len(case.args) and not change <= (self.mutation_tolerance or 0.0):
                return (f"{self.function} changed its input {self.argument_name(index)} in place "
                        f"(by up to {change:.2g}); work on a copy, or put every value back exactly")
        for index in self.inplace:
            if index not in changed:
                name = self.argument_name(index)
                return (f"{self.function} must update {name} in place, but {name} came back unchanged "
                        f"(assigning to the name makes a new array: write into it, {name}[i] = ...)")
        return ""

    def argument_name(self, index: int) -> str:
        names = self.signature[self.signature.index("(") + 1:self.signature.index(")")].split(",")
        return names[index].split("=")[0].strip() if index < len(names) else f"argument {index + 1}"

    def explain_error(self, error: dict) -> str:
        where = f" at {error['where']}" if error.get("where") else ""
        code = f" (`{error['code']}`)" if error.get("code") else ""
        if error["type"] == "NotImplementedError":
            return f"not written yet ({error.get('where') or 'your code'} raises NotImplementedError)"
        text = f"raised {error['type']}{where}{code}: {_one_line(error['message'])}"
        if error["type"] == "TypeError" and ("argument" in error["message"] or "positional" in error["message"]):
            text += f". The grader calls {self.signature}"
        return text

    def why_no_call(self, ctx: Context, reply: CallResult) -> str:
        if reply.kind == "unavailable":
            return f"The notebook could not be run: {reply.reason}"
        close = difflib.get_close_matches(self.function, reply.names, n=3, cutoff=0.6)
        text = f"No function named `{self.function}` was found in your notebook."
        if close:
            text += f" Did you rename it? Similar names: {', '.join(close)}."
        return text + f" Keep the exercise's name and signature: {self.signature}."

    # -- feedback -----------------------------------------------------------------------------
    def feedback(self, ctx: Context, outcomes: list[Outcome], stop: str) -> str:
        passed = sum(o.passed for o in outcomes)
        lines = [f"{passed} of {len(outcomes)} checks passed."] if outcomes else []
        if stop:
            lines.append(stop)
        lines += summarize_failures(outcomes)
        if passed < len(outcomes):
            lines += self.cell_hint(ctx)
        return "\n".join(lines)

    def cell_hint(self, ctx: Context, name: str | None = None) -> list[str]:
        """If the cell that defines this part's function raised or was skipped, say so."""
        name = name or self.function
        index = ctx.scan.defined_in.get(name)
        report = ctx.session.reports.get(index) if index is not None else None
        if report and (report.error or report.skipped):
            return [f"Note: {report.summary()}. `{name}` is defined there; fix that cell first."]
        return []


def summarize_failures(outcomes: list[Outcome]) -> list[str]:
    """One line per distinct failure message, with the cases that share it."""
    groups: dict[str, list[str]] = {}
    for o in outcomes:
        if not o.passed and o.message:
            groups.setdefault(o.message, []).append(o.label)
    lines = []
    for message, labels in list(groups.items())[:MAX_FAILURES_SHOWN]:
        more = f" (and {len(labels) - 1} more case{'s' if len(labels) > 2 else ''})" if len(labels) > 1 else ""
        lines.append(f"FAILED [{labels[0]}]{more}: {message}")
    if len(groups) > MAX_FAILURES_SHOWN:
        lines.append(f"... and {len(groups) - MAX_FAILURES_SHOWN} more kinds of failure.")
    return lines


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."
