"""Attention: named errors, gradient checks on every backend and variant, PyTorch as oracle.

The cross-backend agreement of the kernels themselves is tests/test_registry.py's job; here
the layer's backward is checked against central differences of its own forward (float64),
and both against torch.nn.functional.scaled_dot_product_attention. Each backend's kernels are
compiled once per module (the first Numba call and the first OpenCL build cost ~1 s each).
"""
from __future__ import annotations

import numpy as np
import pytest

from accel_edu.attention import ScaledDotProductAttention, attention_backward, attention_forward
from accel_edu.backprop.gradcheck import gradient_check
from accel_edu.backprop.module import Module
from accel_edu.runtime import available_backends, to_numpy

AVAILABLE = available_backends()
# (backend, variant): the NumPy reference and both steps of each ladder.
LADDER = [("numpy", None), ("numba", "plain"), ("numba", "tiled"), ("opencl", "plain"),
          ("opencl", "tiled")]


def _skip_unavailable(backend):
    if not AVAILABLE[backend]:
        pytest.skip(f"{backend} unavailable: {AVAILABLE[backend].detail}")


def _qkv(rng, b=2, tq=5, tk=5, d=3, e=3, dtype=np.float64):
    return (rng.standard_normal((b, tq, d)).astype(dtype), rng.standard_normal((b, tk, d)).astype(dtype),
            rng.standard_normal((b, tk, e)).astype(dtype))


class _QueryInput(Module):
    """Attention seen by gradient_check: q is the input x, k and v are the parameters, so
    one check compares dq, dk and dv with central differences."""

    def __init__(self, k, v, causal, variant, backend):
        super().__init__(backend)
        self.layer = ScaledDotProductAttention(causal=causal, variant=variant, backend=backend)
        self.params = {"k": self._here(k), "v": self._here(v)}

    def forward(self, x):
        return self.layer(x, self.params["k"], self.params["v"])

    def backward(self, dy):
        dq, dk, dv = self.layer.backward(dy)
        self.grads = {"k": dk, "v": dv}
        return dq


# -- named errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, match", [
    ((np.zeros((2, 3)), np.zeros((1, 2, 3)), np.zeros((1, 2, 3))), {}, "q must be 3-D"),
    ((np.zeros((1, 2, 3)), np.zeros((1, 4, 5)), np.zeros((1, 4, 3))), {}, r"k must have shape \(1, Tk, 3\)"),
    ((np.zeros((1, 2, 3)), np.zeros((2, 4, 3)), np.zeros((2, 4, 3))), {}, r"k must have shape \(1, Tk, 3\)"),
    ((np.zeros((1, 2, 3)), np.zeros((1, 4, 3)), np.zeros((1, 5, 3))), {}, r"v must have shape \(1, 4, e\)"),
    ((np.zeros((1, 2, 3)), np.zeros((1, 4, 3)), np.zeros((1, 4, 3))), {"causal": True}, "Tq=2 and Tk=4"),
    ((np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), np.zeros((1, 2, 3))), {"causal": 1}, "causal must be True or False"),
    ((np.zeros((1, 2, 3)), np.zeros((1, 2, 3)), np.zeros((1, 2, 3))), {"scale": -1.0}, "scale must be None"),
    ((np.zeros((1, 2, 3)), np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 3))), {}, "k must have the same dtype as q"),
    ((np.zeros((1, 0, 3)), np.zeros((1, 2, 3)), np.zeros((1, 2, 3))), {}, "q must not be empty"),
])
def test_forward_rejects_bad_input_naming_the_argument(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        attention_forward(*args, backend="numpy", **kwargs)


def test_backward_rejects_bad_saved_tensors():
    q, k, v = _qkv(np.random.default_rng(0))
    out, lse = attention_forward(q, k, v, backend="numpy")
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 5, 3\)"):
        attention_backward(out[:, :4], q, k, v, out, lse, False, backend="numpy")
    with pytest.raises(ValueError, match=r"logsumexp must have shape \(2, 5\)"):
        attention_backward(out, q, k, v, out, lse[:, :4], False, backend="numpy")
    with pytest.raises(ValueError, match="backward needs a forward first"):
        ScaledDotProductAttention(backend="numpy").backward(out)
    with pytest.raises(ValueError, match="causal must be True or False"):
        ScaledDotProductAttention(causal="yes")


def test_opencl_tiled_names_its_head_dim_limit():
    _skip_unavailable("opencl")
    q, k, v = _qkv(np.random.default_rng(0), d=129, e=2, dtype=np.float32)
    with pytest.raises(ValueError, match="head dims up to 128; got q's d=129"):
        attention_forward(q, k, v, backend="opencl", variant="tiled")


# -- gradient checks ------------------------------------------------------------------------
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("backend, variant", LADDER, ids=[f"{b}-{v or 'reference'}" for b, v in LADDER])
def test_gradient_check(backend, variant, causal):
    _skip_unavailable(backend)
    rng = np.random.default_rng(7)
    tk = 6 if causal else 9      # non-causal: more keys than queries
    q, k, v = _qkv(rng, b=2, tq=6, tk=tk, d=3, e=4)
    result = gradient_check(_QueryInput(k, v, causal, variant, backend), q, tolerance=1e-6)
    assert result.passed, f"{backend}/{variant} causal={causal}\n{result}"


# (B, Tq, Tk, causal): one key; primes that no 32-row block divides, so the blocked backward
# has a partly filled last block of keys and of queries; more queries than keys and fewer.
AWKWARD = [(1, 1, 1, False), (1, 1, 1, True), (2, 7, 13, False), (1, 37, 37, True),
           (1, 41, 3, False), (1, 5, 67, False), (1, 67, 67, True)]


@pytest.mark.parametrize("b, tq, tk, causal", AWKWARD,
                         ids=[f"B{b}-Tq{tq}-Tk{tk}{'-causal' if c else ''}" for b, tq, tk, c in AWKWARD])
@pytest.mark.parametrize("backend, variant", LADDER, ids=[f"{b}-{v or 'reference'}" for b, v in LADDER])
def test_gradient_check_awkward_lengths(backend, variant, b, tq, tk, causal):
    _skip_unavailable(backend)
    q, k, v = _qkv(np.random.default_rng(tq * 100 + tk), b=b, tq=tq, tk=tk, d=3, e=2)
    result = gradient_check(_QueryInput(k, v, causal, variant, backend), q, tolerance=1e-6)
    assert result.passed, f"{backend}/{variant} B={b} Tq={tq} Tk={tk} causal={causal}\n{result}"


# -- PyTorch as oracle ----------------------------------------------------------------------
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("backend, variant", LADDER, ids=[f"{b}-{v or 'reference'}" for b, v in LADDER])
def test_matches_torch_scaled_dot_product_attention(backend, variant, causal):
    torch = pytest.importorskip("torch")
    _skip_unavailable(backend)
    rng = np.random.default_rng(11)
    tk = 37 if causal else 41    # past the tiled kernels' 32-key block
    q, k, v = _qkv(rng, b=3, tq=37, tk=tk, d=8, e=8)
    dout = rng.standard_normal((3, 37, 8))
    layer = ScaledDotProductAttention(causal=causal, variant=variant, backend=backend)
    out = to_numpy(layer(q, k, v))
    grads = [to_numpy(g) for g in layer.backward(dout)]

    tq_, tk_, tv_ = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    want = torch.nn.functional.scaled_dot_product_attention(tq_, tk_, tv_, is_causal=causal)
    want.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, want.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, got, t in zip("qkv", grads, (tq_, tk_, tv_)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=f"d{name}")


def test_logsumexp_matches_torch():
    torch = pytest.importorskip("torch")
    q, k, v = _qkv(np.random.default_rng(3), b=2, tq=7, tk=70, d=5, e=2)
    _, lse = attention_forward(q, k, v, backend="numpy")
    scores = torch.tensor(q) @ torch.tensor(k).transpose(1, 2) / np.sqrt(5)
    np.testing.assert_allclose(lse, torch.logsumexp(scores, dim=2).numpy(), rtol=1e-12)


@pytest.mark.parametrize("backend", ["numba", "opencl"])
def test_tiled_logsumexp_equals_plain_over_many_key_blocks(backend):
    """The online softmax's final m + log l is the plain row's logsumexp (float32, 7 blocks)."""
    _skip_unavailable(backend)
    q, k, v = _qkv(np.random.default_rng(5), b=2, tq=9, tk=211, d=6, e=5, dtype=np.float32)
    q *= 3                                   # scores of a few units: the running max moves
    out_p, lse_p = (to_numpy(a) for a in attention_forward(q, k, v, backend=backend, variant="plain"))
    out_t, lse_t = (to_numpy(a) for a in attention_forward(q, k, v, backend=backend, variant="tiled"))
    np.testing.assert_allclose(lse_t, lse_p, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out_t, out_p, rtol=1e-4, atol=1e-5)
