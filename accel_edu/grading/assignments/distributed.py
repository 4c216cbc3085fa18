"""How ``solutions/08_distributed.ipynb`` is graded: four parts, 50 points, no MPI needed.

Parts 1 and 2 run the student's function on p ranks at once through the simulated
communicator (:mod:`accel_edu.distributed.simulated`, imported by a given cell of the
notebook): the grader sends only data (the function's name and each rank's arrays), the worker
runs p threads, and what comes back is each rank's result and what each rank sent. Expected
values are made here: the sum of the ranks' buffers (Part 1), and one SGD step on the whole
batch computed by this process (Part 2), never the mean of the shards' gradients.

Traffic is checked only where the result is right, so it rewards a correct allreduce that
communicates like a ring (2 (p - 1) messages per rank of at most ceil(n / p) elements), and a
gradient average that sends one bucket (one Allreduce of every parameter's elements). The
counts come from the worker, which the submission could rewrite: like the source scans, this
checks an honest attempt, not an adversary (the values themselves are checked here).

Parts 3 and 4 are pure functions returning a pipeline schedule as the library's data (per stage
a list of (phase, micro-batch) pairs), judged by :func:`accel_edu.distributed.schedule.timed_schedule`
(dependencies, deadlock), completeness, the bubble (p - 1) / (m + p - 1), and for 1F1B the
peak of stored activations, at most p - rank (what 1F1B guarantees; GPipe keeps m).

The submission may not import ``accel_edu.distributed``, except the simulated communicator and
the launcher (``run_mpi``, for the notebook's optional, ungraded run on real MPI ranks).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...distributed.schedule import bubble_fraction, ideal_bubble_fraction, peak_activations, timed_schedule
from ..compare import check_array, describe
from ..parts import Case, Context, FunctionPart, Outcome, summarize_failures
from ..result import PartResult
from . import Assignment

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
RING_CASES = [(2, 0, np.float64), (2, 1, np.float32), (3, 2, np.float64), (4, 3, np.float32),
              (2, 8, np.float32), (3, 10, np.float64), (4, 12, np.float32), (4, 13, np.float64),
              (5, 5, np.float64), (5, 23, np.float32), (3, 1000, np.float32), (5, 1001, np.float64)]
STEP_CASES = [(1, 4, 3, 2, np.float64), (2, 3, 3, 2, np.float64), (2, 5, 4, 1, np.float32),  # p, B/p, D, K
              (3, 2, 5, 3, np.float64), (4, 4, 2, 2, np.float32), (5, 3, 6, 4, np.float64)]
SCHEDULE_CASES = [(1, 1), (1, 3), (2, 1), (2, 4), (3, 2), (3, 3), (4, 8), (5, 3)]           # (p, m)


@dataclass
class RankedCase(Case):
    traffic: object = None       # traffic -> problem or None, checked when the values are right


@dataclass
class RankedOutcome(Outcome):
    traffic: Outcome | None = None


@dataclass
class RankedPart(FunctionPart):
    """A function of (comm, ...) run on p simulated ranks; points for values, and for traffic."""
    traffic_points: float = 0.0

    def grade_part(self, ctx: Context, result: PartResult) -> PartResult:
        cases = list(self.make_cases(ctx.rng))
        values, stop = self.run_cases(ctx, cases)
        traffic = [o.traffic if isinstance(o, RankedOutcome) and o.traffic else Outcome(c.label, False)
                   for c, o in zip(cases, values) if c.traffic is not None]
        share = lambda outs: sum(o.passed for o in outs) / max(len(outs), 1)  # noqa: E731
        result.score = round((self.points - self.traffic_points) * share(values)
                             + self.traffic_points * share(traffic), 2)
        lines = [f"{sum(o.passed for o in values)} of {len(values)} results right; "
                 f"{sum(o.passed for o in traffic)} of {len(traffic)} traffic checks passed "
                 f"(checked where the result is right)."]
        lines += [stop] if stop else []
        lines += summarize_failures(values + [o for o in traffic if o.message])
        if not all(o.passed for o in values + traffic):
            lines += self.cell_hint(ctx, self.signature.split("(")[0])
        result.output = "\n".join(lines)
        return result

    def why_no_call(self, ctx: Context, reply) -> str:
        if reply.kind == "missing":
            return ("The notebook has no `simulate_ranks`: keep the given cell that imports it from "
                    "accel_edu.distributed.simulated; the grader runs your "
                    f"{self.signature.split('(')[0]} on p ranks through it.")
        return super().why_no_call(ctx, reply)

    def judge(self, case: RankedCase, reply, ctx: Context) -> Outcome:
        if reply.kind != "ok":
            return super().judge(case, reply, ctx)
        got = reply.value
        if not (isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[1], dict)):
            return Outcome(case.label, False, "simulate_ranks came back changed: keep the given cell that "
                                              "imports it from accel_edu.distributed.simulated")
        results, traffic = got
        if not isinstance(results, (tuple, list)) or len(results) != len(case.expected):
            return Outcome(case.label, False, f"expected one result per rank ({len(case.expected)})")
        for rank, (value, want) in enumerate(zip(results, case.expected)):
            problem = check_outputs_of(value, want, self.outputs)
            if problem:
                return RankedOutcome(case.label, False, f"rank {rank}: {problem}")
        problem = case.traffic(traffic) if case.traffic is not None else None
        return RankedOutcome(case.label, True, "", Outcome(case.label, problem is None, problem or ""))


def check_outputs_of(value, want: tuple, names: tuple) -> str | None:
    if len(names) == 1:
        return check_array(names[0], value, want[0], RTOL[want[0].dtype])
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        return f"should return a list ({', '.join(names)}); got {describe(value)}"
    problems = [check_array(n, v, w, RTOL[w.dtype]) for n, v, w in zip(names, value, want)]
    return "; ".join(p for p in problems if p) or None


# -- Part 1: the ring allreduce ------------------------------------------------------------------
def _ring_traffic(p: int, n: int):
    chunk = math.ceil(n / p)

    def check(traffic):
        for rank in range(p):
            sent, largest = traffic["messages"][rank], traffic["largest_message"][rank]
            if sent != 2 * (p - 1):
                return (f"rank {rank} sent {sent} messages; a ring allreduce sends 2 (p - 1) = {2 * (p - 1)} "
                        f"(p - 1 to reduce-scatter, p - 1 to allgather)")
            if largest > chunk:
                return (f"rank {rank} sent a message of {largest} elements; a ring sends chunks of at most "
                        f"ceil(n / p) = {chunk}")
        return None
    return check


def _ring_cases(rng):
    for p, n, dtype in RING_CASES:
        buffers = [rng.standard_normal(n).astype(dtype) for _ in range(p)]
        total = np.sum(np.stack(buffers).astype(np.float64), axis=0).astype(dtype)
        label = f"p={p}, n={n}, {np.dtype(dtype).name}"
        yield RankedCase(label, ["ring_allreduce", [[b] for b in buffers]], [(total,)] * p, RTOL[np.dtype(dtype)],
                         _ring_traffic(p, n) if n >= p else None)


# -- Part 2: gradient averaging, one data-parallel SGD step -------------------------------------
def full_batch_step(w, b, x, y, lr):
    """SGD on L = 1/(2B) sum_i ||w x_i + b - y_i||^2 over the whole batch x (B, D), y (B, K)."""
    r = x @ w.T + b - y
    return w - lr * (r.T @ x) / len(x), b - lr * r.sum(axis=0) / len(x)


def _bucket_traffic(n_params: int):
    def check(traffic):
        for rank, calls in enumerate(traffic["allreduce_calls"]):
            if calls != 1 or traffic["allreduce_elements"][rank] != n_params:
                return (f"rank {rank} made {calls} Allreduce call(s) of {traffic['allreduce_elements'][rank]} "
                        f"elements in all; one bucket is one Allreduce of all {n_params} gradient entries")
            if traffic["messages"][rank]:
                return f"rank {rank} also sent {traffic['messages'][rank]} point-to-point messages"
        return None
    return check


def _step_cases(rng):
    for p, per, d, k, dtype in STEP_CASES:
        w, b = rng.standard_normal((k, d)).astype(dtype), rng.standard_normal(k).astype(dtype)
        x, y = rng.standard_normal((p * per, d)).astype(dtype), rng.standard_normal((p * per, k)).astype(dtype)
        lr = 0.1
        want = tuple(a.astype(dtype) for a in full_batch_step(*(a.astype(np.float64) for a in (w, b, x, y)), lr))
        ranks = [[[w, b], x[r * per:(r + 1) * per], y[r * per:(r + 1) * per], lr] for r in range(p)]
        label = f"p={p}, {per} samples per rank, w ({k}, {d}), {np.dtype(dtype).name}"
        yield RankedCase(label, ["data_parallel_sgd_step", ranks], [want] * p, RTOL[np.dtype(dtype)],
                         _bucket_traffic(w.size + b.size))


# -- Parts 3 and 4: pipeline schedules -----------------------------------------------------------
def check_orders(orders, p: int, m: int, kind: str) -> str | None:
    """None when ``orders`` is a complete, deadlock-free schedule of ``kind`` with the ideal bubble."""
    if not isinstance(orders, (list, tuple)) or len(orders) != p:
        return f"should return {p} lists, one per stage; got {describe(orders)}"
    want = sorted([("F", j) for j in range(m)] + [("B", j) for j in range(m)])
    for s, order in enumerate(orders):
        ok = isinstance(order, (list, tuple)) and all(
            isinstance(i, (list, tuple)) and len(i) == 2 and i[0] in ("F", "B") and type(i[1]) is int for i in order)
        if not ok:
            return f"stage {s}: each stage's order must be a list of (phase, micro) pairs like ('F', 0)"
        if sorted(tuple(i) for i in order) != want:
            return f"stage {s} must run F and B of each micro-batch 0..{m - 1} exactly once; got {list(order)[:12]}"
    orders = [[tuple(i) for i in order] for order in orders]
    try:
        steps = timed_schedule(orders)
    except ValueError as exc:
        return str(exc)
    bubble, ideal = bubble_fraction(steps), ideal_bubble_fraction(p, m)
    if abs(bubble - ideal) > 1e-12:
        return f"the bubble is {bubble:.4f} of the stage-steps; the ideal (p - 1) / (m + p - 1) is {ideal:.4f}"
    if kind == "gpipe" and any(phase != "F" for order in orders for phase, _ in order[:m]):
        return "GPipe runs all m forwards on each stage before its first backward"
    if kind == "1f1b":
        for s, peak in enumerate(peak_activations(steps)):
            if peak > p - s:
                return (f"stage {s} holds {peak} micro-batches' activations at once; 1F1B keeps at most "
                        f"p - stage = {p - s}")
    return None


@dataclass
class SchedulePart(FunctionPart):
    kind: str = "gpipe"

    def judge(self, case: Case, reply, ctx: Context) -> Outcome:
        if reply.kind != "ok":
            return super().judge(case, reply, ctx)
        problem = check_orders(reply.value, *case.args, self.kind)
        return Outcome(case.label, problem is None, problem or "")


def _schedule_cases(rng):
    return [Case(f"p={p}, m={m}", [p, m], (), 0.0) for p, m in SCHEDULE_CASES]


PARTS = [
    RankedPart(
        name="Part 1: Ring allreduce", points=20, traffic_points=6, function="simulate_ranks",
        signature="ring_allreduce(comm, x) -> total", make_cases=_ring_cases, outputs=("total",)),
    RankedPart(
        name="Part 2: Gradient averaging", points=15, traffic_points=3, function="simulate_ranks",
        signature="data_parallel_sgd_step(comm, params, x, y, lr) -> [w, b]", make_cases=_step_cases,
        outputs=("w", "b")),
    SchedulePart(
        name="Part 3: GPipe schedule", points=5, function="gpipe_orders",
        signature="gpipe_orders(stages, micro_batches) -> orders", make_cases=_schedule_cases, outputs=()),
    SchedulePart(
        name="Part 4: 1F1B schedule", points=10, function="one_f_one_b_orders",
        signature="one_f_one_b_orders(stages, micro_batches) -> orders", make_cases=_schedule_cases,
        outputs=(), kind="1f1b"),
]

ASSIGNMENT = Assignment("08_distributed", "Parallel and distributed training", PARTS)
