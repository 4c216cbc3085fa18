"""Pipeline schedules as plain data: every step once, dependencies kept, the bubble formula."""
import itertools

import pytest

from accel_edu.distributed.schedule import (bubble_fraction, gpipe_orders, ideal_bubble_fraction,
                                            makespan, one_f_one_b_orders, peak_activations,
                                            pipeline_schedule, timed_schedule)

SHAPES = [(1, 1), (1, 4), (2, 1), (2, 2), (2, 8), (3, 5), (4, 4), (4, 9)]
COSTS = [{"F": 1, "B": 1}, {"F": 1, "B": 2}]


def check_valid(steps, p, m, costs):
    """Each (rank, phase, micro) once; no rank runs two steps at once; inputs before use."""
    keys = [(s.rank, s.phase, s.micro) for s in steps]
    assert sorted(keys) == sorted(itertools.product(range(p), "FB", range(m)))
    end = {(s.rank, s.phase, s.micro): s.time + costs[s.phase] for s in steps}
    for r in range(p):
        mine = sorted((s for s in steps if s.rank == r), key=lambda s: s.time)
        for a, b in zip(mine, mine[1:]):
            assert a.time + costs[a.phase] <= b.time, (a, b)
    for s in steps:
        if s.phase == "F" and s.rank > 0:
            assert end[(s.rank - 1, "F", s.micro)] <= s.time
        if s.phase == "B":
            assert end[(s.rank, "F", s.micro)] <= s.time
            if s.rank < p - 1:
                assert end[(s.rank + 1, "B", s.micro)] <= s.time


@pytest.mark.parametrize("costs", COSTS)
@pytest.mark.parametrize("kind", ["gpipe", "1f1b"])
@pytest.mark.parametrize("p, m", SHAPES)
def test_schedules_are_valid_and_leave_the_formula_bubble(p, m, kind, costs):
    steps = pipeline_schedule(p, m, kind, costs)
    check_valid(steps, p, m, costs)
    # fill-drain: (m + p - 1) slots of one forward and one backward per stage
    assert makespan(steps, costs) == (m + p - 1) * (costs["F"] + costs["B"])
    assert bubble_fraction(steps, costs) == pytest.approx(ideal_bubble_fraction(p, m))


@pytest.mark.parametrize("p, m", SHAPES)
def test_one_f_one_b_keeps_fewer_activations_than_gpipe(p, m):
    assert peak_activations(pipeline_schedule(p, m, "gpipe")) == [m] * p
    assert peak_activations(pipeline_schedule(p, m, "1f1b")) == [min(p - r, m) for r in range(p)]


def test_two_stage_gpipe_by_hand():
    steps = [tuple(s) for s in pipeline_schedule(2, 2, "gpipe")]
    assert steps == [(0, 0, "F", 0), (0, 1, "F", 1), (1, 1, "F", 0), (1, 2, "F", 1),
                     (1, 3, "B", 1), (0, 4, "B", 1), (1, 4, "B", 0), (0, 5, "B", 0)]


def test_orders_list_every_micro_batch_once_per_phase():
    for orders in (gpipe_orders(3, 4), one_f_one_b_orders(3, 4)):
        for order in orders:
            assert sorted(order) == sorted([("B", j) for j in range(4)] + [("F", j) for j in range(4)])


def test_an_order_that_deadlocks_is_reported():
    # Stage 0 wants micro-batch 0's backward before it has sent micro-batch 1 forward, while
    # stage 1 insists on micro-batch 1's forward first: neither can move.
    orders = [[("F", 0), ("B", 0), ("F", 1), ("B", 1)], [("F", 1), ("F", 0), ("B", 0), ("B", 1)]]
    with pytest.raises(ValueError, match="orders deadlock"):
        timed_schedule(orders)


@pytest.mark.parametrize("call, match", [
    (lambda: pipeline_schedule(0, 2), "stages must be a positive integer"),
    (lambda: pipeline_schedule(2, 0), "micro_batches must be a positive integer"),
    (lambda: pipeline_schedule(2, 2, "zero-bubble"), "kind must be one of"),
    (lambda: timed_schedule([[("F", 0)]]), r"orders\[0\] must run phase B once"),
    (lambda: timed_schedule(gpipe_orders(2, 2), {"F": 1, "B": 0}), r"costs\['B'\] must be a positive"),
    (lambda: ideal_bubble_fraction(2, 1.5), "micro_batches must be a positive integer"),
])
def test_bad_arguments_raise_named_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
