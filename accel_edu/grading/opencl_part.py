"""A part whose answer is OpenCL C: the grader builds and launches it with its own host code.

The submission only supplies a string. The grader reads it from the worker, then hands it to
a trusted-code process (see trusted_runner.py) that compiles it on the OpenCL device (PoCL
on a CPU here) and launches it over the grader's own buffers. So no Python of the
submission stands between the kernel and the check, and a kernel that corrupts memory only
takes down that process.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .compare import check_array
from .parts import Context, Outcome, Part, summarize_failures
from .result import PartResult
from .session import CallResult
from .trusted import TrustedRunner

MAX_SOURCE_CHARS = 64_000


@dataclass
class OpenCLCase:
    """One launch: ``kernel(inputs..., out, int n, int sizes...)`` with one work-item per
    element of ``out`` (n of them; ``out`` has the shape of ``expected``)."""
    label: str
    inputs: list[np.ndarray]    # float32
    expected: np.ndarray
    rtol: float = 1e-6
    sizes: tuple[int, ...] = ()  # more int arguments after n (a convolution's shapes)


@dataclass
class OpenCLPart(Part):
    name: str
    points: float
    source_name: str            # the Python string that holds the kernel
    kernel: str
    signature: str
    make_cases: Callable[[np.random.Generator], list[OpenCLCase]]
    output: str = "dx"

    def blocked(self, ctx: Context) -> str:
        """Never: an OpenCL answer is a source string, and the grading corpus expects these
        parts graded even beside a reference import elsewhere in the notebook."""
        return ""

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:
        runner = TrustedRunner(ctx.limits, "opencl")
        runner.prestart()  # PoCL starts up while the source is fetched
        try:
            return self._grade(ctx, result, runner)
        finally:
            runner.close()

    def _grade(self, ctx: Context, result: PartResult, runner: TrustedRunner) -> PartResult:
        source, problem = self.read_source(ctx)
        if problem:
            result.output = problem + self.hint(ctx)
            return result
        cases = self.make_cases(ctx.rng)
        outcomes: list[Outcome] = []
        stop = ""
        crashes = 0
        for case in cases:
            outcome, stop = self.run_case(ctx, runner, source, case)
            outcomes.append(outcome)
            crashes += outcome.message.startswith("the kernel crashed")
            if crashes >= 2 and not stop:
                stop = "The kernel crashed twice; the remaining cases were not run."
            if stop:
                break
        outcomes += [Outcome(c.label, False) for c in cases[len(outcomes):]]
        passed = sum(o.passed for o in outcomes)
        result.score = round(self.points * passed / len(cases), 2)
        lines = [f"{passed} of {len(cases)} launches were right."] + ([stop] if stop else [])
        lines += summarize_failures(outcomes)
        result.output = "\n".join(lines) + (self.hint(ctx) if passed < len(cases) else "")
        return result

    def read_source(self, ctx: Context) -> tuple[str, str]:
        reply = ctx.session.get(self.source_name, ctx.part_deadline())
        if reply.kind == "unavailable":
            return "", f"The notebook could not be run: {reply.reason}"
        if reply.kind == "missing":
            return "", f"No variable named `{self.source_name}` was found; it should hold your kernel's OpenCL C source."
        if reply.kind != "ok":
            return "", f"Could not read `{self.source_name}` ({reply.kind}: {reply.reason})."
        if not isinstance(reply.value, str):
            return "", f"`{self.source_name}` should be a string of OpenCL C source; it is not."
        if len(reply.value) > MAX_SOURCE_CHARS:
            return "", f"`{self.source_name}` is longer than {MAX_SOURCE_CHARS:,} characters."
        return reply.value, ""

    def run_case(self, ctx: Context, runner: TrustedRunner, source: str, case: OpenCLCase) -> tuple[Outcome, str]:
        reply = runner.request({"op": "opencl_launch", "source": source, "kernel": self.kernel,
                                "inputs": case.inputs, "out_shape": case.expected.shape,
                                "ints": [int(case.expected.size), *map(int, case.sizes)]},
                               ctx.part_deadline(), raw=True)
        if isinstance(reply, CallResult):  # the launching process died or hung
            if reply.kind == "timeout":
                return Outcome(case.label, False, f"the kernel did not finish within {ctx.limits.part_timeout:g} s"), ""
            return Outcome(case.label, False, f"the kernel crashed the process that launched it ({reply.reason}); "
                                               "an out-of-bounds access?"), ""
        if not isinstance(reply, dict):
            runner.close()  # out of step (its memory may be corrupted): the next case starts afresh
            return Outcome(case.label, False, "the launcher's reply was malformed"), ""
        if not reply.get("ok"):
            kind, message = str(reply.get("kind")), str(reply.get("message", ""))[:3000]
            if kind == "build":
                return Outcome(case.label, False, "does not compile"), f"The OpenCL compiler says:\n{message}"
            if kind == "kernel_missing":
                return Outcome(case.label, False, "no kernel"), f"No kernel named `{self.kernel}` in the source ({message})."
            if kind == "signature":
                return Outcome(case.label, False, "wrong signature"), f"{message}. Keep the signature {self.signature}."
            return Outcome(case.label, False, f"launch failed: {message}"), ""
        return Outcome(case.label, *self.check(case, reply)), ""

    def check(self, case: OpenCLCase, reply: dict) -> tuple[bool, str]:
        n = case.expected.size
        overrun, unwritten = reply.get("overrun"), reply.get("unwritten")
        if not isinstance(overrun, int) or not isinstance(unwritten, int):
            return False, "the launcher's reply was malformed"
        if overrun:
            return False, (f"wrote past the end of {self.output}: the grader launches a multiple of 64 "
                           f"work-items, more than n, so guard the body with `if (i < n)`")
        if unwritten:
            how_many = "every element" if unwritten == n else "some elements"
            return False, (f"left {how_many} of {self.output} unwritten "
                           f"(does every work-item i < n write {self.output}[i]?)")
        problem = check_array(self.output, reply.get("value"), case.expected, case.rtol)
        return problem is None, problem or ""

    def hint(self, ctx: Context) -> str:
        index = ctx.scan.defined_in.get(self.source_name)
        report = ctx.session.reports.get(index) if index is not None else None
        if report and (report.error or report.skipped):
            return f"\nNote: {report.summary()}. `{self.source_name}` is defined there; fix that cell first."
        return ""
