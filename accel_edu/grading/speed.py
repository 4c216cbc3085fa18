"""A part that must be right and also fast: graded as a speed-up over a baseline, both timed here.

The grader, not the submission, holds the stopwatch: it times each call from the moment the
request goes out to the moment the answer is back, for the student's function and for the
baseline (the naive Numba loops in a trusted process of their own, reached the same way).
Each repeat gets fresh random inputs and each answer is checked, so caching results or
answering early gains nothing. The two are timed alternately, the student's worker is frozen
(SIGSTOP) while the baseline runs so background threads cannot slow it down, and the speed-up
is the ratio of the best times: on a shared machine other work only ever adds time, so the
minimum is the steadiest estimate of what each function costs (the median moved by 2x from
run to run on the 2-core machine this was written on, the minimum far less). Below the
target, up to two more rounds of calls are timed before the grade is given.

Credit grows with the logarithm of the speed-up: none at 1x, full at ``target``x (2x of a 5x
target earns 43%).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .compare import check_outputs
from .parts import Context, FunctionPart, summarize_failures
from .result import PartResult
from .trusted import TrustedRunner


@dataclass
class SpeedPart(FunctionPart):
    baseline_op: str = "gemm_naive"
    make_timed_input: Callable[[np.random.Generator], tuple[list, np.ndarray]] | None = None
    """Fresh (arguments, expected output) for one timed call."""
    target: float = 5.0
    speed_share: float = 0.6
    repeats: int = 7
    rounds: int = 3
    timed_label: str = ""
    """What is timed, for the feedback: "256 x 320 @ 320 x 288"."""
    shortcut_rule: str = ""
    hint: str = "Hint: which loop is innermost? Walk along rows (contiguous memory) in the inner loop."
    """What to try next, shown below the target."""

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:
        baseline = TrustedRunner(ctx.limits, "baseline", numba_cache=True)
        baseline.prestart()  # it warms up while the correctness cases run
        try:
            return self._grade(ctx, result, baseline)
        finally:
            baseline.close()

    def _grade(self, ctx: Context, result: PartResult, baseline: TrustedRunner) -> PartResult:
        outcomes, stop = self.run_cases(ctx, self.make_cases(ctx.rng))
        correct = sum(o.passed for o in outcomes) / max(len(outcomes), 1)
        lines = [f"Correctness: {sum(o.passed for o in outcomes)} of {len(outcomes)} checks passed."]
        if stop:
            lines.append(stop)
        lines += summarize_failures(outcomes)
        speed_credit, speed_lines = 0.0, []
        if correct == 1.0:
            speed_credit, speed_lines = self.measure(ctx, baseline)
        elif outcomes:
            speed_lines = ["Speed: measured once every correctness check passes."]
        lines += speed_lines
        if correct < 1.0:
            lines += self.cell_hint(ctx)
        correctness_points = self.points * (1 - self.speed_share)
        result.score = round(correctness_points * correct + self.points * self.speed_share * speed_credit, 2)
        result.output = "\n".join(lines)
        return result

    def blocked(self, ctx: Context) -> str:
        shortcuts = ctx.scan.shortcuts.get(self.function)
        if shortcuts:
            return (f"{self.function} uses {', '.join(shortcuts[:3])}. {self.shortcut_rule} "
                    "This part scores the loops you write, so it gets no points this way.")
        return super().blocked(ctx)

    def measure(self, ctx: Context, baseline: TrustedRunner) -> tuple[float, list[str]]:
        student: list[float] = []
        naive: list[float] = []
        with ctx.timing_lock:  # parallel batch grading: one submission is timed at a time
            # Round 0 warms up (JIT compiles, caches fill). Below the target, up to two more
            # rounds run: on a busy machine a short call suffers most from scheduling delays,
            # and more tries give the student's best time a fair chance to show.
            for round_ in range(self.rounds):
                problem = self.time_both(ctx, baseline, student, naive, warm_up=round_ == 0)
                if problem:
                    return 0.0, [f"Speed: not measured: {problem}"]
                if self.credit(min(naive) / min(student)) >= 1:
                    break
        ratio = min(naive) / min(student)
        credit = self.credit(ratio)
        lines = [f"Speed ({self.timed_label}, best of {len(student)}, timed by the grader): {self.function} "
                 f"{min(student) * 1e3:.2f} ms, naive loops {min(naive) * 1e3:.2f} ms: {ratio:.1f}x faster. "
                 f"Full speed credit from {self.target:g}x; this earns {credit:.0%} of it."]
        if credit < 1:
            lines.append(self.hint)
        return credit, lines

    def credit(self, ratio: float) -> float:
        return min(1.0, max(0.0, math.log(ratio) / math.log(self.target)))

    def time_both(self, ctx: Context, baseline: TrustedRunner, student: list, naive: list,
                  warm_up: bool) -> str:
        """Time ``repeats`` alternating calls of each; '' or the reason the timing stopped."""
        for repeat in range(self.repeats + warm_up):
            deadline = ctx.part_deadline()
            args, want = self.make_timed_input(ctx.rng)
            mine = ctx.session.call(self.function, args, deadline, snapshot=False)
            problem = self.timed_problem(mine, want, len(student) + repeat)
            if problem:
                return problem
            ctx.session.pause()  # the submission's threads cannot steal the baseline's CPU
            try:
                base = baseline.request({"op": self.baseline_op, "args": args}, deadline)
            finally:
                ctx.session.resume()
            if base.kind != "ok":
                raise RuntimeError(f"the speed baseline failed ({base.kind}: {base.reason})")
            if not (warm_up and repeat == 0):
                student.append(mine.seconds)
                naive.append(base.seconds)
        return ""

    def timed_problem(self, reply, want, repeat: int) -> str:
        if reply.kind == "timeout":
            return "a timed call did not return within the time limit"
        if reply.kind != "ok":
            detail = self.explain_error(reply.error) if reply.kind == "error" else reply.reason
            return f"a timed call failed: {detail}"
        problem = check_outputs(reply.value, (want,), self.outputs, 2e-4)
        if problem:
            return (f"timed call {repeat + 1} (fresh inputs) returned a wrong result: {problem}. "
                    "Every call must compute the answer for its own inputs.")
        return ""
