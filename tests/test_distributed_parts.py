"""The pieces of data and model parallelism that need no MPI: chunks, shards, buckets, splits."""
import numpy as np
import pytest

from accel_edu.backprop import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from accel_edu.distributed import chunk_bounds, flatten_gradients, shard, split_sequential, unflatten_gradients
from accel_edu.distributed.pipeline import measured_bubble


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 10, 64, 101])
@pytest.mark.parametrize("p", [1, 2, 3, 4, 8])
def test_chunks_cover_the_buffer_and_differ_by_at_most_one(n, p):
    bounds = chunk_bounds(n, p)
    sizes = [b - a for a, b in bounds]
    assert len(bounds) == p and sum(sizes) == n
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous, in order
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_shards_partition_the_batch():
    x, y = np.arange(24).reshape(12, 2), np.arange(12)
    parts = [shard(x, y, r, 3) for r in range(3)]
    np.testing.assert_array_equal(np.concatenate([px for px, _ in parts]), x)
    np.testing.assert_array_equal(np.concatenate([py for _, py in parts]), y)


def model():
    return Sequential(Linear(5, 4, seed=1), ReLU(), Linear(4, 3, seed=2))


def test_gradients_round_trip_through_one_buffer():
    net, loss = model(), SoftmaxCrossEntropy()
    rng = np.random.default_rng(0)
    loss(net.forward(rng.standard_normal((6, 5)).astype(np.float32)), rng.integers(0, 3, 6))
    net.backward(loss.backward())
    before = {k: v.copy() for k, v in net.grads.items()}
    buffer, layout = flatten_gradients(net)
    assert buffer.shape == (4 * 5 + 4 + 3 * 4 + 3,) and buffer.dtype == np.float32
    unflatten_gradients(buffer * 2, layout)
    for name, g in before.items():
        np.testing.assert_array_equal(net.grads[name], 2 * g)
    with pytest.raises(ValueError, match="buffer must hold 39 elements"):
        unflatten_gradients(buffer[:-1], layout)


def test_flatten_before_backward_says_so():
    with pytest.raises(RuntimeError, match="call backward"):
        flatten_gradients(model())


def test_split_keeps_each_linear_with_its_activation():
    layers = [Linear(4, 4, seed=i) if i % 2 == 0 else ReLU() for i in range(8)]  # 4 Linear + 4 ReLU
    stages = split_sequential(Sequential(*layers), 2)
    assert [len(s) for s in stages] == [4, 4]
    assert all(isinstance(s[0], Linear) for s in stages)
    assert [len(s) for s in split_sequential(Sequential(*layers), 3)] == [4, 2, 2]
    assert [len(s) for s in split_sequential(Sequential(*layers), 2, boundaries=[2])] == [2, 6]


@pytest.mark.parametrize("stages, boundaries, match", [
    (3, None, "has 2 layers with parameters, so it cannot be split over 3 ranks"),
    (2, [0], "boundaries must be 1 increasing layer indices"),
    (2, [1, 2], "boundaries must be 1 increasing"),
    (0, None, "stages must be a positive integer"),
])
def test_bad_splits_raise_named_errors(stages, boundaries, match):
    with pytest.raises(ValueError, match=match):
        split_sequential(model(), stages, boundaries)


@pytest.mark.parametrize("call, match", [
    (lambda: shard(np.zeros((5, 2)), np.zeros(5), 0, 2), r"batch size \(5 samples\) must be a multiple"),
    (lambda: shard(np.zeros((4, 2)), np.zeros(4), 2, 2), r"rank must be an integer in \[0, 2\)"),
    (lambda: shard(np.zeros((4, 2)), np.zeros(3), 0, 2), "same length"),
    (lambda: chunk_bounds(-1, 2), "n must be an integer >= 0"),
    (lambda: chunk_bounds(4, 0), "p must be an integer >= 1"),
    (lambda: measured_bubble([[]]), "at least one event"),
])
def test_bad_arguments_raise_named_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_measured_bubble_of_hand_made_events():
    # rank 0 busy 0-1 and 3-4, rank 1 busy 1-3: makespan 4, busy 4 of 8 rank-seconds
    events = [[("F", 0, 0.0, 1.0), ("B", 0, 3.0, 4.0)], [("F", 0, 1.0, 2.0), ("B", 0, 2.0, 3.0)]]
    assert measured_bubble(events) == {"makespan_s": 4.0, "busy_s": 4.0, "bubble_fraction": 0.5}
