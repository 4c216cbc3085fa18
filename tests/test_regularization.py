"""Regularization chapter, kernels: Philox, dropout's masks, and the bad-input messages.

The registry walk (tests/test_registry.py) already checks every backend against NumPy on the
awkward cases; here: the generator's structure and known answers, statistics, the same mask
everywhere, dropout's expected value and gradient, and each hyper-parameter's error.
"""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import gradient_check
from accel_edu.regularization import Dropout, kernels as K
from accel_edu.regularization import numpy_kernels as ref
from accel_edu.regularization.cases import PHILOX_KAT_INPUTS
from accel_edu.runtime import BACKENDS, available_backends, to_numpy

AVAILABLE = available_backends()
backends = pytest.mark.parametrize("backend", BACKENDS)

# Random123's kat_vectors for philox4x32 with 10 rounds, for PHILOX_KAT_INPUTS in order.
PHILOX_KAT_OUTPUTS = [
    [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8],
    [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD],
    [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
]


def _need(backend):
    if not AVAILABLE[backend]:
        pytest.skip(f"{backend} unavailable: {AVAILABLE[backend].detail}")


def _one_round_by_hand(c, k):
    """One Philox4x32 round in plain Python integers, written from the paper's definition."""
    p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
    hi0, lo0, hi1, lo1 = p0 >> 32, p0 & 0xFFFFFFFF, p1 >> 32, p1 & 0xFFFFFFFF
    return [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0]


def test_philox_round_structure(rng):
    """One and two rounds agree with the definition; the second round uses the bumped key."""
    c = [int(v) for v in rng.integers(0, 2 ** 32, 4)]
    k = [int(v) for v in rng.integers(0, 2 ** 32, 2)]
    counters, key = np.array([c], np.uint32), np.array(k, np.uint32)
    one = _one_round_by_hand(c, k)
    bumped = [(k[0] + 0x9E3779B9) & 0xFFFFFFFF, (k[1] + 0xBB67AE85) & 0xFFFFFFFF]
    assert ref.philox4x32(counters, key, rounds=1)[0].tolist() == one
    assert ref.philox4x32(counters, key, rounds=2)[0].tolist() == _one_round_by_hand(one, bumped)


@backends
def test_philox_known_answers(backend):
    _need(backend)
    for (counter, key), want in zip(PHILOX_KAT_INPUTS, PHILOX_KAT_OUTPUTS):
        got = to_numpy(K.philox4x32(np.array([counter], np.uint32), np.array(key, np.uint32),
                                    backend=backend))
        assert got[0].tolist() == want, f"counter {counter}, key {key}"


def test_uniforms_look_uniform():
    n = 1 << 18
    u = ref.philox_uniform(n, seed=2024, dtype=np.float64)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / n)        # Var of (U - 1/2)^2 is 1/180
    counts = np.bincount((u * 64).astype(int), minlength=64)
    chi2 = ((counts - n / 64) ** 2 / (n / 64)).sum()
    assert chi2 < 120, f"chi-square {chi2:.1f} on 63 degrees of freedom (p < 1e-5 above ~115)"
    lag1 = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(lag1) < 5 / np.sqrt(n)
    other_seed = ref.philox_uniform(n, seed=2025, dtype=np.float64)
    assert abs(np.corrcoef(u, other_seed)[0, 1]) < 5 / np.sqrt(n)


def test_counter_offset_selects_a_window_of_one_stream():
    whole = ref.philox_uniform(40, seed=9, offset=0)
    np.testing.assert_array_equal(ref.philox_uniform(29, seed=9, offset=11), whole[11:])


@backends
def test_same_dropout_mask_on_every_backend(backend):
    _need(backend)
    x = np.random.default_rng(3).standard_normal((37, 41)).astype(np.float32)
    for seed, offset in [(0, 0), (12345, 7), (2 ** 64 - 1, 5 << 32)]:
        y_ref, mask_ref = K.dropout_forward(x, 0.3, seed, offset, backend="numpy")
        y, mask = K.dropout_forward(x, 0.3, seed, offset, backend=backend)
        np.testing.assert_array_equal(to_numpy(mask), mask_ref)
        np.testing.assert_array_equal(to_numpy(y), y_ref)   # one rounded multiply: the same bits


def test_dropout_layer_masks_agree_across_backends_step_by_step():
    x = np.ones((8, 16), np.float32)
    masks = {}
    for backend in [b for b in BACKENDS if AVAILABLE[b]]:
        layer = Dropout(0.5, seed=77, backend=backend)
        masks[backend] = [to_numpy(layer.forward(x)) for _ in range(3)]
    for backend, steps in masks.items():
        for a, b in zip(steps, masks["numpy"]):
            np.testing.assert_array_equal(a, b, err_msg=backend)
    assert not np.array_equal(masks["numpy"][0], masks["numpy"][1]), "each step needs a fresh mask"


def test_dropout_keeps_expected_value_and_fraction():
    p, n = 0.3, 200_000
    x = np.full(n, 2.0)
    y, mask = ref.dropout_forward(x, p, seed=5)
    keep = mask.mean()
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(keep - (1 - p)) < 5 * sigma
    assert abs(y.mean() - 2.0) < 5 * 2.0 * sigma / (1 - p)
    assert set(np.unique(y)) == {0.0, 2.0 / (1 - p)}


@backends
def test_dropout_eval_is_identity_and_p0_keeps_everything(backend):
    _need(backend)
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    layer = Dropout(0.5, seed=1, backend=backend).eval()
    assert layer.forward(x) is x and layer.backward(x) is x
    y, mask = K.dropout_forward(x, 0.0, 3, backend=backend)
    np.testing.assert_array_equal(to_numpy(y), x)
    assert to_numpy(mask).all()


class FixedMaskDropout(Dropout):
    """Dropout whose every forward reuses step 0's mask, so finite differences see one function."""

    def forward(self, x):
        self.step = 0
        return super().forward(x)


@backends
@pytest.mark.parametrize("shape", [(1, 7), (3, 5, 2), (13, 4)])
def test_dropout_gradient_check(backend, shape):
    _need(backend)
    x = np.random.default_rng(0).standard_normal(shape)
    result = gradient_check(FixedMaskDropout(0.4, seed=3, backend=backend), x)
    assert result.passed, result


def test_dropout_backward_routes_gradient_through_kept_units_only():
    dy = np.arange(1.0, 7.0).reshape(2, 3)
    mask = np.array([[1, 0, 1], [0, 0, 1]], np.uint8)
    np.testing.assert_allclose(ref.dropout_backward(dy, mask, 0.5), dy * mask * 2.0)


# -- bad input -------------------------------------------------------------------------------

X = np.ones((2, 3), np.float32)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, float("nan"), "0.5"])
def test_dropout_p_outside_0_1_is_rejected(p):
    with pytest.raises(ValueError, match=r"p must be a dropout probability in \[0, 1\)"):
        Dropout(p)
    with pytest.raises(ValueError, match="p must be"):
        K.dropout_forward(X, p, 0)


@pytest.mark.parametrize("seed", [-1, 2 ** 64, 1.5, True])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        K.dropout_forward(X, 0.5, seed)


def test_bad_philox_arguments_are_rejected():
    with pytest.raises(ValueError, match=r"counters must have shape \(B, 4\)"):
        K.philox4x32(np.zeros((2, 3), np.uint32), np.zeros(2, np.uint32))
    with pytest.raises(ValueError, match="counters must have dtype uint32"):
        K.philox4x32(np.zeros((2, 4), np.int64), np.zeros(2, np.uint32))
    with pytest.raises(ValueError, match="n must be an integer"):
        K.philox_uniform(0, 1)
    with pytest.raises(ValueError, match="offset must be an integer >= 0"):
        K.philox_uniform(5, 1, offset=-3)


def test_dropout_backward_mask_must_be_uint8_like_dy():
    with pytest.raises(ValueError, match="mask must have dtype uint8"):
        K.dropout_backward(X, np.ones((2, 3), bool), 0.5)
    with pytest.raises(ValueError, match="mask must have the same shape as dy"):
        K.dropout_backward(X, np.ones((3, 2), np.uint8), 0.5)
