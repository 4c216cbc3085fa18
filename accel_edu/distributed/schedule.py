"""Micro-batch pipeline schedules as plain data: who runs which micro-batch's forward or backward, when.

A network split into p stages (one per rank) processes a batch as m micro-batches. A
schedule is a list of :class:`Step` ``(rank, time, phase, micro)``: at ``time`` (a step
count, in units of one forward), ``rank`` runs ``phase`` ("F" forward or "B" backward) of
micro-batch ``micro``. Nothing here needs MPI, so a schedule can be checked, drawn and
graded on its own; :mod:`accel_edu.distributed.pipeline` executes one on real ranks.

Two schedules, both "fill, then drain" (every micro-batch's gradient is in before the step):

- GPipe: every stage runs all m forwards, then all m backwards.
- 1F1B (PipeDream-flush): after a short warm-up each stage alternates one forward and one
  backward, so it holds at most p - rank micro-batches' activations instead of m.

Both leave the same idle "bubble": (p - 1) / (m + p - 1) of the p * makespan stage-steps.
1F1B's gain is memory, not time.
"""
from __future__ import annotations

from typing import NamedTuple

PHASES = ("F", "B")


class Step(NamedTuple):
    """One unit of work: at step ``time`` rank ``rank`` runs ``phase`` of micro-batch ``micro``."""
    rank: int
    time: int
    phase: str
    micro: int


def _check_counts(stages, micro_batches) -> None:
    for name, value in (("stages", stages), ("micro_batches", micro_batches)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")


def gpipe_orders(stages: int, micro_batches: int) -> list[list[tuple[str, int]]]:
    """Per stage, the order of its work: F0 .. F(m-1), then B(m-1) .. B0 (GPipe).

    Returns ``stages`` lists of m forwards then m backwards, as (phase, micro) pairs.
    """
    _check_counts(stages, micro_batches)
    m = micro_batches
    order = [("F", j) for j in range(m)] + [("B", j) for j in reversed(range(m))]
    return [list(order) for _ in range(stages)]


def one_f_one_b_orders(stages: int, micro_batches: int) -> list[list[tuple[str, int]]]:
    """Per stage, the 1F1B order: warm-up forwards, then alternate F and B, then the last Bs.

    Stage s runs min(p - 1 - s, m) forwards before its first backward: just enough that the
    last stage's first backward can start as soon as it has a micro-batch.
    """
    _check_counts(stages, micro_batches)
    p, m = stages, micro_batches
    orders = []
    for s in range(p):
        warmup = min(p - 1 - s, m)
        order = [("F", j) for j in range(warmup)]
        for i in range(m - warmup):  # steady state: one forward, one backward
            order += [("F", warmup + i), ("B", i)]
        order += [("B", j) for j in range(m - warmup, m)]
        orders.append(order)
    return orders


def timed_schedule(orders, costs=None) -> list[Step]:
    """Give every (phase, micro) of ``orders`` its start time: the earliest both its stage is
    free and its input has arrived. Returns the steps sorted by (time, rank).

    orders: p lists of (phase, micro) pairs, one per stage (rank), in the order it runs them.
    costs: {"F": steps, "B": steps}, the duration of each phase (default 1 each; a backward
    that costs two forwards is ``{"F": 1, "B": 2}``).
    Dependencies: F(s, j) needs F(s-1, j) (its input activation); B(s, j) needs F(s, j)
    (its stashed activations) and B(s+1, j) (the gradient of its output).
    Raises ValueError when an order can never finish (a stage waits forever: a deadlock).
    """
    costs = {"F": 1, "B": 1} if costs is None else dict(costs)
    for phase in PHASES:
        if not isinstance(costs.get(phase), int) or costs[phase] < 1:
            raise ValueError(f"costs[{phase!r}] must be a positive integer; got {costs.get(phase)!r}")
    p = len(orders)
    if p < 1:
        raise ValueError("orders must hold one list per stage; got none")
    micros = {j for order in orders for _, j in order}
    for s, order in enumerate(orders):
        for phase in PHASES:
            done = sorted(j for ph, j in order if ph == phase)
            if done != sorted(micros):
                raise ValueError(f"orders[{s}] must run phase {phase} once for each micro-batch "
                                 f"{sorted(micros)}; got {done}")
    end = {}                      # (stage, phase, micro) -> end time
    free = [0] * p                # when each stage finishes its current work
    position = [0] * p            # index of each stage's next (phase, micro)
    steps = []
    while any(position[s] < len(orders[s]) for s in range(p)):
        progressed = False
        for s in range(p):
            if position[s] == len(orders[s]):
                continue
            phase, j = orders[s][position[s]]
            needs = _dependencies(s, phase, j, p)
            if not all(need in end for need in needs):
                continue
            start = max([free[s]] + [end[need] for need in needs])
            steps.append(Step(s, start, phase, j))
            end[(s, phase, j)] = free[s] = start + costs[phase]
            position[s] += 1
            progressed = True
        if not progressed:
            waiting = {s: orders[s][position[s]] for s in range(p) if position[s] < len(orders[s])}
            raise ValueError(f"orders deadlock: each waiting stage's next step needs one that never "
                             f"runs first; stuck at {waiting}")
    return sorted(steps, key=lambda step: (step.time, step.rank))


def _dependencies(s, phase, j, p):
    if phase == "F":
        return [(s - 1, "F", j)] if s > 0 else []
    return [(s, "F", j)] + ([(s + 1, "B", j)] if s < p - 1 else [])


def pipeline_schedule(stages: int, micro_batches: int, kind: str = "gpipe", costs=None) -> list[Step]:
    """The timed schedule of ``kind`` ("gpipe" or "1f1b") for p stages and m micro-batches.

    >>> [tuple(s) for s in pipeline_schedule(2, 2)][:3]
    [(0, 0, 'F', 0), (0, 1, 'F', 1), (1, 1, 'F', 0)]
    """
    builders = {"gpipe": gpipe_orders, "1f1b": one_f_one_b_orders}
    if kind not in builders:
        raise ValueError(f"kind must be one of {sorted(builders)}; got {kind!r}")
    return timed_schedule(builders[kind](stages, micro_batches), costs)


def makespan(steps, costs=None) -> int:
    """Time from the first start to the last end of a timed schedule."""
    costs = {"F": 1, "B": 1} if costs is None else costs
    return max(s.time + costs[s.phase] for s in steps) - min(s.time for s in steps)


def bubble_fraction(steps, costs=None) -> float:
    """Fraction of the p * makespan stage-steps a stage sits idle: 1 - busy / (p * makespan)."""
    costs = {"F": 1, "B": 1} if costs is None else costs
    p = len({s.rank for s in steps})
    busy = sum(costs[s.phase] for s in steps)
    return 1.0 - busy / (p * makespan(steps, costs))


def ideal_bubble_fraction(stages: int, micro_batches: int) -> float:
    """The fill-drain bubble (p - 1) / (m + p - 1): the first stage waits p-1 steps to start its
    backwards, and the last waits p-1 steps for its first forward."""
    _check_counts(stages, micro_batches)
    return (stages - 1) / (micro_batches + stages - 1)


def peak_activations(steps) -> list[int]:
    """Per rank, the most micro-batches whose forward has run and backward has not: the
    activations it must keep in memory at once (GPipe: m; 1F1B: at most p - rank)."""
    ranks = sorted({s.rank for s in steps})
    peaks = []
    for r in ranks:
        live = peak = 0
        for step in sorted((s for s in steps if s.rank == r), key=lambda s: s.time):
            live += 1 if step.phase == "F" else -1
            peak = max(peak, live)
        peaks.append(peak)
    return peaks
