"""The executed pipeline (model split by layers over the ranks) gives the unsplit model's gradients."""
import numpy as np
import pytest

from accel_edu.backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy, Tanh
from accel_edu.distributed import measured_bubble, run_pipeline, split_sequential


def make_model(p, dtype=np.float64):
    """2p blocks of different widths, so a wrong hand-over between stages cannot go unnoticed."""
    widths = [12 + 3 * i for i in range(2 * p + 1)]
    layers = []
    for i in range(2 * p):
        layers += [Linear(widths[i], widths[i + 1], seed=10 + i, dtype=dtype), Tanh() if i % 2 else ReLU()]
    return Sequential(*layers[:-1]), widths  # logits come straight from the last Linear


@pytest.mark.parametrize("kind", ["gpipe", "1f1b"])
@pytest.mark.parametrize("micro_batches", [1, 3, 4])
def test_pipeline_gradients_equal_the_unsplit_model(comm, kind, micro_batches):
    p, rank = comm.Get_size(), comm.Get_rank()
    model, widths = make_model(p)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, widths[0]))
    y = rng.integers(0, widths[-1], 12)
    stage = split_sequential(model, p)[rank]
    run = run_pipeline(comm, stage, SoftmaxCrossEntropy(), x, y, micro_batches=micro_batches, kind=kind)
    events = comm.allgather(run.events)
    losses = comm.allgather(run.loss)

    reference, _ = make_model(p)  # the same weights, unsplit, on the whole batch
    loss_fn = SoftmaxCrossEntropy()
    full_loss = loss_fn(reference.forward(x), y)
    reference.backward(loss_fn.backward())
    ref_stage = split_sequential(reference, p)[rank]
    for mine, ref in zip(stage, ref_stage):
        assert set(mine.grads) == set(ref.grads)
        for name in ref.grads:
            np.testing.assert_allclose(mine.grads[name], ref.grads[name], rtol=1e-10, atol=1e-12)
    assert losses[-1] == pytest.approx(float(full_loss), rel=1e-12)  # mean of equal micro-batch means
    # Every rank ran one forward and one backward per micro-batch, and never two at once.
    for rank_events in events:
        assert sorted((ph, j) for ph, j, _, _ in rank_events) == sorted(
            [("F", j) for j in range(micro_batches)] + [("B", j) for j in range(micro_batches)])
        ends = [e[3] for e in rank_events]
        assert all(a[3] <= b[2] for a, b in zip(rank_events, rank_events[1:])) and ends == sorted(ends)
    assert 0.0 <= measured_bubble(events)["bubble_fraction"] < 1.0


def test_a_split_that_does_not_fit_the_ranks_raises(comm):
    model, _ = make_model(1)  # two Linear layers: at most two stages
    with pytest.raises(ValueError, match="cannot be split over 3 ranks"):
        split_sequential(model, 3)
    with pytest.raises(ValueError, match="multiple of micro_batches"):
        run_pipeline(comm, [], SoftmaxCrossEntropy(), np.zeros((10, 3)), np.zeros(10, int), micro_batches=4)
