"""The alpha-beta allreduce model: its terms, the least-squares fit, the scaling predictions."""
import numpy as np
import pytest

from accel_edu.distributed.cost_model import (ALGORITHMS, allreduce_time, data_parallel_speedup,
                                              fit_alpha_beta, predict_scaling)

ALPHA, BETA = 5e-6, 1 / 10e9  # 5 us per message, 10 GB/s


def test_ring_terms():
    n = 4e6
    assert allreduce_time(n, 1, ALPHA, BETA) == 0.0
    assert allreduce_time(n, 2, ALPHA, BETA) == pytest.approx(2 * ALPHA + n * BETA)
    assert allreduce_time(n, 8, ALPHA, BETA) == pytest.approx(14 * ALPHA + 2 * 7 / 8 * n * BETA)
    # the bandwidth term tends to 2 n beta: a ring's cost per byte hardly grows with p
    assert allreduce_time(n, 1024, 0.0, BETA) < 2 * n * BETA


def test_recursive_doubling_beats_the_ring_on_small_messages_only():
    small, large = 1e2, 1e8
    for p in (8, 64):
        assert allreduce_time(small, p, ALPHA, BETA, "recursive_doubling") < allreduce_time(small, p, ALPHA, BETA)
        assert allreduce_time(large, p, ALPHA, BETA, "recursive_doubling") > allreduce_time(large, p, ALPHA, BETA)
    assert allreduce_time(1e6, 8, ALPHA, BETA, "tree") == pytest.approx(6 * (ALPHA + 1e6 * BETA))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fit_recovers_the_parameters_that_made_the_data(algorithm):
    rng = np.random.default_rng(0)
    n = np.logspace(0, 7, 15)
    t = allreduce_time(n, 4, ALPHA, BETA, algorithm) * rng.uniform(0.98, 1.02, n.size)  # 2% noise
    fit = fit_alpha_beta(n, t, 4, algorithm)
    assert fit["alpha"] == pytest.approx(ALPHA, rel=0.05)
    assert fit["beta"] == pytest.approx(BETA, rel=0.05)
    assert fit["relative_rms"] < 0.03


def test_fit_never_returns_a_negative_latency():
    # Times growing faster than linearly (caches overflowing): the plain least-squares line
    # through them has a negative intercept; the fit refits with alpha = 0 instead.
    n = np.array([1e3, 1e4, 1e5, 1e6])
    t = 1e-12 * n ** 1.3
    design = np.column_stack([np.full_like(n, 2.0), n]) / t[:, None]
    assert np.linalg.lstsq(design, np.ones_like(t), rcond=None)[0][0] < 0
    fit = fit_alpha_beta(n, t, 2)
    assert fit["alpha"] == 0.0 and fit["beta"] > 0
    only_beta = np.sum(n / t) / np.sum((n / t) ** 2)  # the one-term relative least squares
    assert fit["beta"] == pytest.approx(only_beta)


def test_predictions_and_speedup():
    records = predict_scaling(1e8, [2, 4, 8, 16], ALPHA, BETA)
    assert [r["p"] for r in records[:4]] == [2, 4, 8, 16] and len(records) == 4 * len(ALGORITHMS)
    ring = [r["seconds"] for r in records if r["algorithm"] == "ring"]
    assert ring == sorted(ring)
    speed = data_parallel_speedup(1.0, 1e8, [1, 2, 8, 64], ALPHA, BETA)
    assert speed[0]["speedup"] == pytest.approx(1.0)
    # communication does not shrink with p, so efficiency falls as p grows
    assert [s["efficiency"] for s in speed] == sorted((s["efficiency"] for s in speed), reverse=True)
    assert speed[-1]["speedup"] < 1.0 / (2 * 1e8 * BETA)  # bounded by compute / (2 n beta)


@pytest.mark.parametrize("call, match", [
    (lambda: allreduce_time(1e3, 0, ALPHA, BETA), "p .* must be a positive integer"),
    (lambda: allreduce_time(1e3, 2, -1.0, BETA), "alpha must be a non-negative"),
    (lambda: allreduce_time(1e3, 2, ALPHA, BETA, "butterfly"), "algorithm must be one of"),
    (lambda: fit_alpha_beta([1, 2], [1e-6], 2), "same length"),
    (lambda: fit_alpha_beta([8, 8, 8], [1e-6, 2e-6, 3e-6], 2), "at least two different sizes"),
    (lambda: fit_alpha_beta([1, 2], [1e-6, 2e-6], 1), "p must be at least 2"),
    (lambda: fit_alpha_beta([1, 2], [1e-6, 0.0], 2), "seconds must all be positive"),
    (lambda: data_parallel_speedup(0.0, 1e6, [2], ALPHA, BETA), "compute_seconds must be a positive"),
])
def test_bad_arguments_raise_named_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
