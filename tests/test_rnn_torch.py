"""PyTorch as an oracle for the RNN chapter: the same weights give the same outputs, final
states and gradients as torch.nn.RNN / LSTM / GRU (float64, every backend)."""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.rnn import GRU, LSTM, RNN
from accel_edu.runtime import to_numpy
from float64_backends import FLOAT64_BACKENDS

torch = pytest.importorskip("torch")
BACKENDS = FLOAT64_BACKENDS
PAIRS = [(RNN, "RNN"), (LSTM, "LSTM"), (GRU, "GRU")]
T, N, D, H = 6, 3, 5, 7
# ours -> torch's parameter names (one layer, one direction)
NAMES = {"w_ih": "weight_ih_l0", "w_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[p[1] for p in PAIRS])
def test_matches_torch(ours, theirs, backend):
    rng = np.random.default_rng(11)
    x, dy = rng.standard_normal((T, N, D)), rng.standard_normal((T, N, H))
    h0 = rng.standard_normal((N, H))
    layer = ours(D, H, seed=3, backend=backend, dtype=np.float64)
    reference = getattr(torch.nn, theirs)(D, H).double()
    with torch.no_grad():
        for k, name in NAMES.items():
            getattr(reference, name).copy_(torch.from_numpy(to_numpy(layer.params[k])))

    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    if theirs == "LSTM":
        c0 = rng.standard_normal((N, H))
        c0t = torch.tensor(c0[None], requires_grad=True)
        yt, (hnt, cnt) = reference(xt, (h0t, c0t))
        y = layer.forward(x, h0=h0, c0=c0)
    else:
        yt, hnt = reference(xt, h0t)
        y = layer.forward(x, h0=h0)
    yt.backward(torch.from_numpy(dy))
    dx = layer.backward(dy)

    np.testing.assert_allclose(to_numpy(y), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(layer.h_n), hnt.detach().numpy()[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(dx), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(to_numpy(layer.dh0), h0t.grad.numpy()[0], rtol=1e-9, atol=1e-12)
    if theirs == "LSTM":
        np.testing.assert_allclose(to_numpy(layer.c_n), cnt.detach().numpy()[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_numpy(layer.dc0), c0t.grad.numpy()[0], rtol=1e-9, atol=1e-12)
    for k, name in NAMES.items():
        np.testing.assert_allclose(to_numpy(layer.grads[k]), getattr(reference, name).grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=k)
