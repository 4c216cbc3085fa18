"""The hardware exercises' two timed parts: a STREAM triad on Numba and on OpenCL, each graded
as a fraction of the bandwidth the grader's own triad reaches in the same run.

**Numba** (:class:`TriadPart`). The student's function runs in the untrusted worker and the
grader's clock runs from request to reply, which includes sending three float64 arrays through
a pipe and one back. For a memory-bound kernel that costs more than the kernel (the optimizers'
fused update is not timed for this reason). So the function takes ``sweeps`` (STREAM's own
timing loop), and the grader times it at ``sweeps = 1`` and ``sweeps = 1 + extra``: the
difference of the median times is ``extra`` triads, with the pipe cancelled out. The baseline
(:func:`..baselines_hardware.triad_sweeps`, one prange pass per sweep) is timed the same way,
in the trusted process, alternately with the student's (the worker frozen meanwhile). Each call
gets a fresh scalar, and each answer is checked. A function that skips sweeps shows as
bandwidth the memory cannot deliver (a fraction far above 1): it gets no speed credit.

**OpenCL** (:class:`OpenCLTriadPart`). The student supplies only a string and a work-group size.
The trusted OpenCL process builds it, launches it with the grader's host code, and times it
against the trusted triad over the same device buffers: no pipe and no student Python between
the launch and the clock.

Both: correctness first; speed credit only once every case passes, growing linearly from
``floor`` of the baseline's bandwidth (none) to ``target`` (all of it). The targets leave room
for a loaded machine: on 2 cores with six other users, the same code on both sides measured
64-110% (OpenCL) and 52-202% (Numba) of the grader's from best times, hence medians; from
medians the solution measured 96-104% (OpenCL) and 75-152% (Numba).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compare import check_array
from ..opencl_part import MAX_SOURCE_CHARS
from ..parts import Context, FunctionPart, Outcome, Part, summarize_failures
from ..result import PartResult
from ..session import CallResult
from ..trusted import TrustedRunner

BYTES_PER_ELEMENT = 24     # STREAM's count for a float64 triad: read b and c, write a
MAX_PLAUSIBLE = 4.0        # this much faster than the grader's triad: sweeps were skipped. Skipping
# them all leaves only the pipe's noise (+-0.3 ms a sweep against the triad's 3-5 ms): 10x and more.
# The same code on both sides measured 0.98-1.5x from medians on the loaded machine (2.9x from best times).


def credit(fraction: float, floor: float, target: float) -> float:
    """0 at or below ``floor`` of the baseline's bandwidth, 1 from ``target``, linear between."""
    return min(1.0, max(0.0, (fraction - floor) / (target - floor)))


def speed_line(label: str, mine: float, theirs: float, n: int, floor: float, target: float,
               fraction: float | None = None) -> tuple[float, list[str]]:
    """(speed credit, feedback) from seconds per triad of the student's and the grader's
    (``fraction``: the grader's bandwidth over the student's, when not simply theirs / mine)."""
    fraction = theirs / mine if fraction is None else fraction
    gbps = BYTES_PER_ELEMENT * n / 1e9
    text = (f"Speed ({label}): yours {mine * 1e3:.2f} ms a triad ({gbps / mine:.1f} GB/s), the grader's "
            f"{theirs * 1e3:.2f} ms ({gbps / theirs:.1f} GB/s): {fraction:.0%} of its bandwidth.")
    if fraction > MAX_PLAUSIBLE:
        return 0.0, [text + " That is more than the memory delivers to the grader's triad: does every sweep "
                     "read all of b and c and write all of a? No speed credit."]
    got = credit(fraction, floor, target)
    return got, [text + f" Full speed credit from {target:.0%}, none below {floor:.0%}; this earns {got:.0%} of it."]


@dataclass
class TriadPart(FunctionPart):
    """``triad(a, b, c, scalar, sweeps) -> a``, timed by sweeps (see the module docstring)."""
    timed_n: int = 2 ** 21
    extra_sweeps: int = 100
    target: float = 0.6     # the solution measured 75-152% through the grader on the loaded machine
    floor: float = 0.2
    speed_share: float = 0.6
    repeats: int = 5
    rounds: int = 2
    hint: str = ""

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:
        baseline = TrustedRunner(ctx.limits, "baseline", numba_cache=True)
        baseline.prestart()  # it warms up while the correctness cases run
        try:
            outcomes, stop = self.run_cases(ctx, self.make_cases(ctx.rng))
            passed = sum(o.passed for o in outcomes)
            lines = [f"Correctness: {passed} of {len(outcomes)} checks passed."] + ([stop] if stop else [])
            lines += summarize_failures(outcomes)
            speed = 0.0
            if outcomes and passed == len(outcomes):
                speed, more = self.measure(ctx, baseline)
                lines += more + ([self.hint] if speed < 1 else [])
            else:
                lines += ["Speed: measured once every correctness check passes."] + self.cell_hint(ctx)
        finally:
            baseline.close()
        correct = passed / max(len(outcomes), 1)
        result.score = round(self.points * ((1 - self.speed_share) * correct + self.speed_share * speed), 2)
        result.output = "\n".join(lines)
        return result

    def measure(self, ctx: Context, baseline: TrustedRunner) -> tuple[float, list[str]]:
        sweeps = (1, 1 + self.extra_sweeps)
        times = {(who, s): [] for who in ("student", "baseline") for s in sweeps}
        with ctx.timing_lock:  # parallel batch grading: one submission is timed at a time
            for round_ in range(self.rounds):  # round 0 starts with an untimed warm-up call
                problem = self.time_round(ctx, baseline, times, sweeps, warm_up=round_ == 0)
                if problem:
                    return 0.0, [f"Speed: not measured: {problem}"]
                mine, theirs = (self.per_sweep(times, who, sweeps) for who in ("student", "baseline"))
                if 0 < mine and theirs / mine <= MAX_PLAUSIBLE and credit(theirs / mine, self.floor, self.target) >= 1:
                    break
        if mine <= 0:
            return 0.0, [f"Speed: {self.extra_sweeps} more sweeps took no more time: does {self.function} run "
                         "every sweep? No speed credit."]
        label = (f"n = {self.timed_n:,} float64, {BYTES_PER_ELEMENT} bytes an element, medians of "
                 f"{len(times['student', 1])} calls at {sweeps[0]} and {sweeps[1]} sweeps, timed by the grader")
        return speed_line(label, mine, theirs, self.timed_n, self.floor, self.target)

    def per_sweep(self, times: dict, who: str, sweeps: tuple[int, int]) -> float:
        """Seconds per sweep: the medians' difference over the sweeps' (medians, not minimums:
        on the loaded machine the best call was whichever process met a quiet moment, and the
        fraction from minimums ran 52-202% for the same code on both sides)."""
        median = {s: float(np.median(times[who, s])) for s in sweeps}
        return (median[sweeps[1]] - median[sweeps[0]]) / (sweeps[1] - sweeps[0])

    def time_round(self, ctx: Context, baseline: TrustedRunner, times: dict, sweeps, warm_up: bool) -> str:
        b, c = ctx.rng.uniform(-1, 1, self.timed_n), ctx.rng.uniform(-1, 1, self.timed_n)
        a = np.zeros(self.timed_n)
        for repeat in range(self.repeats + warm_up):
            for s in sweeps:
                scalar = float(ctx.rng.uniform(0.5, 4.0))  # fresh each call: no answer can be reused
                args, want = [a, b, c, scalar, s], b + scalar * c
                deadline = ctx.part_deadline()
                mine = ctx.session.call(self.function, args, deadline, snapshot=False)
                problem = self.timed_problem(mine, want)
                if problem:
                    return problem
                ctx.session.pause()  # the submission's threads cannot steal the baseline's CPU
                try:
                    base = baseline.request({"op": "triad_sweeps", "args": args}, deadline)
                finally:
                    ctx.session.resume()
                if base.kind != "ok":
                    raise RuntimeError(f"the triad baseline failed ({base.kind}: {base.reason})")
                if not (warm_up and repeat == 0):
                    times["student", s].append(mine.seconds)
                    times["baseline", s].append(base.seconds)
        return ""

    def timed_problem(self, reply: CallResult, want: np.ndarray) -> str:
        if reply.kind == "timeout":
            return "a timed call did not return within the time limit"
        if reply.kind != "ok":
            detail = self.explain_error(reply.error) if reply.kind == "error" else reply.reason
            return f"a timed call failed: {detail}"
        problem = check_array("a", reply.value, want, 1e-12)
        return f"a timed call (fresh scalar) returned a wrong result: {problem}" if problem else ""


@dataclass
class OpenCLTriadPart(Part):
    """``TRIAD_SOURCE`` (kernels triad_groups and triad_tail) launched in work-groups of
    ``TRIAD_LOCAL_SIZE`` by the grader (protocol: baselines_hardware's docstring)."""
    name: str
    points: float
    sizes: tuple[int, ...]
    timed_n: int = 2 ** 22
    target: float = 0.7
    floor: float = 0.25
    speed_share: float = 0.6
    repeats: int = 20
    rounds: int = 3
    hint: str = ""
    source_name: str = "TRIAD_SOURCE"
    local_name: str = "TRIAD_LOCAL_SIZE"

    @property
    def function(self) -> str:
        """The graded name, for the grader's scan of where each answer is defined."""
        return self.source_name

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:
        runner = TrustedRunner(ctx.limits, "opencl")
        runner.prestart()  # PoCL starts up while the source is fetched
        try:
            source, local, problem = self.read_answer(ctx)
            if problem:
                result.output = problem
                return result
            outcomes, stop = self.run_cases(ctx, runner, source, local)
            passed = sum(o.passed for o in outcomes)
            lines = [f"Correctness: {passed} of {len(outcomes)} launches were right."] + ([stop] if stop else [])
            lines += summarize_failures(outcomes)
            speed = 0.0
            if passed == len(outcomes):
                speed, more = self.measure(ctx, runner, source, local)
                lines += more + ([self.hint] if speed < 1 else [])
            else:
                lines.append("Speed: measured once every launch is right.")
        finally:
            runner.close()
        correct = passed / len(outcomes)
        result.score = round(self.points * ((1 - self.speed_share) * correct + self.speed_share * speed), 2)
        result.output = "\n".join(lines)
        return result

    def read_answer(self, ctx: Context) -> tuple[str, int, str]:
        values = []
        for name, kind in ((self.source_name, str), (self.local_name, int)):
            reply = ctx.session.get(name, ctx.part_deadline())
            if reply.kind == "unavailable":
                return "", 0, f"The notebook could not be run: {reply.reason}"
            if reply.kind != "ok":
                return "", 0, f"No variable named `{name}` was found ({reply.kind}); keep the exercise's names."
            value = reply.value.item() if isinstance(reply.value, np.ndarray) and reply.value.ndim == 0 else reply.value
            if not isinstance(value, kind) or isinstance(value, bool):
                return "", 0, f"`{name}` should be a {kind.__name__}; it is not."
            values.append(value)
        source, local = values
        if len(source) > MAX_SOURCE_CHARS:
            return "", 0, f"`{self.source_name}` is longer than {MAX_SOURCE_CHARS:,} characters."
        return source, local, ""

    def run_cases(self, ctx: Context, runner: TrustedRunner, source: str, local: int) -> tuple[list[Outcome], str]:
        outcomes: list[Outcome] = []
        for n in self.sizes:
            label = f"n = {n}, work-groups of {local}"
            b, c, scalar = ctx.rng.uniform(-9, 9, n), ctx.rng.uniform(-9, 9, n), float(ctx.rng.uniform(-4, 4))
            reply = runner.request({"op": "opencl_triad_check", "args": [source, local, b, c, scalar]},
                                   ctx.part_deadline())
            if reply.kind != "ok":  # the launching process died or hung
                outcomes.append(Outcome(label, False, f"the kernel stopped the process that launched it ({reply.kind}: "
                                                      f"{reply.reason}); an out-of-bounds access?"))
                continue
            value = reply.value if isinstance(reply.value, dict) else {}
            if not value.get("ok"):
                kind, message = str(value.get("kind")), str(value.get("message", ""))[:3000]
                stops = {"build": "The OpenCL compiler says:\n", "kernel_missing": "", "signature": "",
                         "geometry": ""}
                if kind in stops:
                    return [Outcome(f"n = {m}", False, kind) for m in self.sizes], stops[kind] + message
                outcomes.append(Outcome(label, False, f"launch failed: {message}"))
                continue
            outcomes.append(Outcome(label, *self.check(value, b + scalar * c, local)))
        return outcomes, ""

    def check(self, value: dict, want: np.ndarray, local: int) -> tuple[bool, str]:
        overrun, unwritten = value.get("overrun"), value.get("unwritten")
        if not isinstance(overrun, int) or not isinstance(unwritten, int):
            return False, "the launcher's reply was malformed"
        if overrun:
            return False, (f"wrote past the end of a: the tail launch runs {local} work-items from offset, "
                           "and those at i >= n must not write")
        if unwritten:
            return False, ("left some elements of a unwritten: triad_groups covers 0 .. offset - 1 "
                           "(i = get_global_id(0)), triad_tail covers offset .. n - 1 (i = offset + get_global_id(0))")
        problem = check_array("a", value.get("value"), want, 1e-12)
        return problem is None, problem or ""

    def measure(self, ctx: Context, runner: TrustedRunner, source: str, local: int) -> tuple[float, list[str]]:
        """Launches alternate (yours, the grader's, yours, ...); each pair ran under the same load,
        so the fraction is the median of the pairs' ratios. The best of all other pairs' could
        come from a quiet moment only one of the two happened to get."""
        pairs: list[tuple[float, float]] = []
        with ctx.timing_lock:
            for _ in range(self.rounds):
                request = {"op": "opencl_triad_timing", "args": [source, local, self.timed_n, self.repeats]}
                reply = runner.request(request, ctx.part_deadline())
                value = reply.value if reply.kind == "ok" and isinstance(reply.value, dict) else {}
                if not value.get("ok"):
                    why = value.get("message") or f"{reply.kind} {reply.reason}"
                    return 0.0, [f"Speed: not measured: {why}"]
                pairs += [(float(m), float(t)) for m, t in zip(value["student"], value["trusted"])]
                fraction = float(np.median([t / m for m, t in pairs]))
                if credit(fraction, self.floor, self.target) >= 1:
                    break
        mine, theirs = (float(np.median(times)) for times in zip(*pairs))
        label = (f"n = {self.timed_n:,} float64, {BYTES_PER_ELEMENT} bytes an element, medians of {len(pairs)} "
                 "launches each, alternating, timed by the grader on the same device")
        return speed_line(label, mine, theirs, self.timed_n, self.floor, self.target, fraction)
