"""The RNN chapter's sequence layers: gradient checks through time on every backend, truncated
backpropagation as chunks run separately, the state kept on the device, the embedding layer,
and the errors a student sees."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.backprop import gradient_check
from accel_edu.rnn import GRU, LSTM, RNN, Embedding
from accel_edu.runtime import available_backends, reset_transfer_stats, to_device, to_numpy, transfer_stats
from float64_backends import FLOAT64_BACKENDS

AVAILABLE = available_backends()


BACKENDS = FLOAT64_BACKENDS
LAYERS = [RNN, LSTM, GRU]
T, N, D, H = 5, 2, 3, 4


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bptt", [None, 2], ids=["full", "bptt2"])
def test_sequence_gradient(layer, backend, bptt):
    """Full backpropagation through time is the exact gradient of the whole sequence. With
    bptt=k it is not (that is the point), so that case checks a sequence no longer than k."""
    t_len = T if bptt is None else bptt
    x = np.random.default_rng(3).standard_normal((t_len, N, D))
    result = gradient_check(layer(D, H, bptt=bptt, seed=1, backend=backend), x)
    assert result.passed, result.errors


def _run(module, x, dy, **state):
    y = module.forward(x, **state)
    dx = module.backward(dy)
    return to_numpy(y), to_numpy(dx), {k: to_numpy(v) for k, v in module.grads.items()}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
def test_truncation_is_chunks_run_separately(layer, backend):
    """bptt=3 over 7 steps equals three runs over steps 0-2, 3-5 and 6, each starting from the
    state the previous one ended in (given as a constant): the same outputs, the same input
    gradients, and weight gradients that are the chunks' sum. Full BPTT differs."""
    rng = np.random.default_rng(5)
    x, dy = rng.standard_normal((7, N, D)), rng.standard_normal((7, N, H))
    truncated = layer(D, H, bptt=3, seed=2, backend=backend, dtype=np.float64)
    y, dx, grads = _run(truncated, x, dy)

    chunks = layer(D, H, seed=2, backend=backend, dtype=np.float64)
    ys, dxs, total, state = [], [], None, {}
    for start in (0, 3, 6):
        yc, dxc, gc = _run(chunks, x[start:start + 3], dy[start:start + 3], **state)
        ys.append(yc), dxs.append(dxc)
        total = gc if total is None else {k: total[k] + gc[k] for k in gc}
        state = dict(h0=to_numpy(chunks.h_n))
        if layer is LSTM:
            state["c0"] = to_numpy(chunks.c_n)
    np.testing.assert_allclose(y, np.concatenate(ys), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, np.concatenate(dxs), rtol=1e-10, atol=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=1e-10, atol=1e-12, err_msg=k)
    _, dx_full, _ = _run(layer(D, H, seed=2, backend=backend, dtype=np.float64), x, dy)
    assert not np.allclose(dx_full[:3], dx[:3]), "truncation changed nothing"


@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
def test_state_stays_on_the_device(layer):
    """On OpenCL a forward and backward of a whole sequence copy nothing between host and
    device once input and upstream gradient are there: no transfer per step."""
    if not AVAILABLE["opencl"]:
        pytest.skip(AVAILABLE["opencl"].detail)
    rng = np.random.default_rng(0)
    module = layer(D, H, backend="opencl")
    x = to_device(rng.standard_normal((T, N, D)).astype(np.float32))
    dy = to_device(rng.standard_normal((T, N, H)).astype(np.float32))
    module.forward(x)
    module.backward(dy)                      # warm-up: programs built
    reset_transfer_stats()
    module.forward(x)
    module.backward(dy)
    stats = transfer_stats()
    assert stats["h2d_count"] == 0 and stats["d2h_count"] == 0, stats


@pytest.mark.parametrize("backend", BACKENDS)
def test_embedding_layer(backend):
    emb = Embedding(6, 3, seed=4, backend=backend, dtype=np.float64)
    tokens = np.array([[1, 5], [1, 0]])
    y = to_numpy(emb(tokens))
    weight = to_numpy(emb.params["weight"])
    np.testing.assert_array_equal(y, weight[tokens])
    dy = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    assert emb.backward(dy) is None
    dweight = to_numpy(emb.grads["weight"])
    np.testing.assert_allclose(dweight[1], dy[0, 0] + dy[1, 0])
    np.testing.assert_array_equal(dweight[[2, 3, 4]], 0)


@pytest.mark.parametrize("make, match", [
    (lambda: LSTM(0, 4), "d_in must be a positive integer"),
    (lambda: GRU(3, 4, bptt=0), "bptt must be a positive integer or None"),
    (lambda: RNN(3, 4).forward(np.zeros((5, 2, 4), np.float32)), r"x must have shape \(T, N, 3\)"),
    (lambda: RNN(3, 4).forward(np.zeros((2, 3), np.float32)), "x must be 3-D"),
    (lambda: Embedding(3, 0), "dim must be a positive integer"),
])
def test_bad_input_names_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("backend", [pytest.param(b, marks=[] if AVAILABLE[b] else pytest.mark.skip(reason=AVAILABLE[b].detail))
                                     for b in ("numba", "opencl")])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: c.__name__)
def test_float32_sequence_agrees_with_numpy(layer, backend):
    """float32, prime sizes, truncated: output, input gradient and every weight gradient as NumPy's."""
    rng = np.random.default_rng(9)
    x, dy = rng.standard_normal((9, 5, 7)).astype(np.float32), rng.standard_normal((9, 5, 11)).astype(np.float32)
    results = {}
    for b in ("numpy", backend):
        module = layer(7, 11, bptt=4, backend=b)
        y, dx, grads = _run(module, x, dy)
        results[b] = [y, dx] + [grads[k] for k in sorted(grads)]
    for got, want in zip(results[backend], results["numpy"]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(want).max())))


def test_device_steps_are_views_where_aligned():
    """On OpenCL take_rows is a sub-buffer (no copy) where the rows start on the device's
    alignment: it sees a later write into the sequence; elsewhere it is a copy with the same
    values. A view of a view is cut from the first one's parent."""
    if not AVAILABLE["opencl"]:
        pytest.skip(AVAILABLE["opencl"].detail)
    from accel_edu.rnn.steps import put_step, take_rows
    host = np.arange(6 * 32, dtype=np.float32).reshape(6, 32)     # rows of 128 bytes: aligned
    seq = to_device(host)
    view = take_rows(seq, 2, 4)
    np.testing.assert_array_equal(to_numpy(view), host[2:4])
    put_step(seq, 1, to_device(np.full((2, 32), -1, np.float32)))    # rows 2 and 3
    np.testing.assert_array_equal(to_numpy(view), -1)                # the view saw it: no copy
    np.testing.assert_array_equal(to_numpy(take_rows(view, 1, 2)), -1)
    np.testing.assert_array_equal(to_numpy(take_rows(take_rows(seq, 4, 6), 1, 2)), host[5:6])
    odd = to_device(np.arange(5 * 3, dtype=np.float32).reshape(5, 3))  # 12-byte rows: a copy
    np.testing.assert_array_equal(to_numpy(take_rows(odd, 1, 4)), np.arange(15, dtype=np.float32).reshape(5, 3)[1:4])
