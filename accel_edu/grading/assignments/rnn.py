"""How ``solutions/03_rnn.ipynb`` is graded: five parts, 50 points.

Expected values come from the chapter's reference code, computed in this process and never
sent: the LSTM cell from ``accel_edu.rnn.numpy_kernels``, backpropagation through time from the
chapter's ``RNN`` layer on the NumPy backend (given the student's weights, with ``b_hh = 0``),
attention from ``accel_edu.attention.numpy_kernels``.

Part 5 is timed. Unlike the optimizers' fused update (memory-bound, so the pipe to the worker
costs more than the kernel), attention does T work per number sent: at the timed size the
naive loops take ~30 ms and the arrays cost ~3 ms to send, so the speed-up shows.
"""
from __future__ import annotations

import numpy as np

from ...attention import numpy_kernels as attention_ref
from ...rnn import numpy_kernels as ref
from ..parts import Case, FunctionPart
from ..speed import SpeedPart
from . import Assignment
from .backprop import _send, in_both_dtypes

LSTM_SHAPES = [(1, 1), (1, 5), (3, 4), (7, 13), (64, 32)]          # (N, H)
RNN_SHAPES = [(1, 1, 1, 1), (3, 2, 4, 5), (6, 4, 3, 7), (9, 1, 2, 3)]  # (T, N, D, H)
ATTENTION_SHAPES = [  # (B, Tq, Tk, d, e, causal)
    (1, 1, 1, 1, 1, False), (1, 1, 1, 4, 3, True), (2, 5, 5, 3, 4, True), (3, 7, 11, 4, 2, False),
    (2, 16, 16, 8, 8, True), (1, 13, 6, 5, 1, False)]
ATTENTION_TIMED = (4, 512, 32)    # (B, T, d): causal, float32
ATTENTION_RTOL = 2e-4             # float32 sums of up to 512 terms, in another order than NumPy's


# -- Parts 1 and 2: the LSTM cell ----------------------------------------------------------------
def _lstm_inputs(rng, n, h, dtype, spread=1.0):
    x_gates = (rng.standard_normal((n, 4 * h)) * spread).astype(dtype)
    h_gates = (rng.standard_normal((n, 4 * h)) * spread).astype(dtype)
    c_prev = rng.standard_normal((n, h)).astype(dtype)
    return x_gates, h_gates, c_prev


def _lstm_forward_cases(rng, dtype):
    for n, h in LSTM_SHAPES:
        args = _lstm_inputs(rng, n, h, dtype)
        yield f"N={n}, H={h}", list(args), ref.lstm_cell_forward(*args)
    # Saturated gates: pre-activations in the hundreds, where a sigmoid written as 1 / (1 + exp(-u))
    # still works but exp(u) / (1 + exp(u)) overflows to inf / inf = NaN (float32 from u = 89,
    # float64 from 710).
    args = _lstm_inputs(rng, 4, 6, dtype, spread=400.0)
    yield "N=4, H=6, saturated gates (pre-activations in the hundreds)", list(args), ref.lstm_cell_forward(*args)
    x_gates, h_gates, c_prev = _lstm_inputs(rng, 5, 3, dtype)
    yield ("N=5, H=3, x_gates a non-contiguous view", [_send(np.asfortranarray(x_gates)), h_gates, c_prev],
           ref.lstm_cell_forward(x_gates, h_gates, c_prev))


def _lstm_backward_cases(rng, dtype):
    shapes = LSTM_SHAPES + [(4, 6)]
    for k, (n, h) in enumerate(shapes):
        x_gates, h_gates, c_prev = _lstm_inputs(rng, n, h, dtype, spread=8.0 if k == len(shapes) - 1 else 1.0)
        _, c, gates = ref.lstm_cell_forward(x_gates, h_gates, c_prev)
        dh, dc = rng.standard_normal((n, h)).astype(dtype), rng.standard_normal((n, h)).astype(dtype)
        if k == 0:
            dc = np.zeros_like(dc)   # the last step of a sequence: nothing flows back into c
        label = f"N={n}, H={h}" + (", dc = 0 (the last step)" if k == 0 else "") + \
            (", saturated gates" if k == len(shapes) - 1 else "")
        yield label, [dh, dc, gates, c_prev, c], ref.lstm_cell_backward(dh, dc, gates, c_prev, c)


# -- Part 3: backpropagation through time for a vanilla RNN ----------------------------------------
def rnn_bptt_reference(dy, x, h0, w_ih, w_hh, b, truncate=None):
    """(dx, dh0, dw_ih, dw_hh, db) from the chapter's RNN layer (NumPy backend) with these weights.

    The layer has two biases (PyTorch's b_ih and b_hh); with b_hh = 0 it is the exercise's RNN
    and the gradient of b is the gradient of b_ih."""
    from ...rnn.layers import RNN

    t_len, n, d = x.shape
    hidden = w_hh.shape[0]
    layer = RNN(d, hidden, bptt=truncate, dtype=x.dtype, backend="numpy")
    layer.params = {"w_ih": w_ih.copy(), "w_hh": w_hh.copy(), "b_ih": b.copy(), "b_hh": np.zeros_like(b)}
    h = layer.forward(x, h0)
    dx = layer.backward(dy)
    g = layer.grads
    return h, (dx, layer.dh0, g["w_ih"], g["w_hh"], g["b_ih"])


def _rnn_case(rng, t_len, n, d, hidden, dtype, truncate=None, weight_scale=1.0):
    x = rng.standard_normal((t_len, n, d)).astype(dtype)
    h0 = rng.standard_normal((n, hidden)).astype(dtype)
    bound = weight_scale / np.sqrt(hidden)
    w_ih = rng.uniform(-bound, bound, (hidden, d)).astype(dtype)
    w_hh = rng.uniform(-bound, bound, (hidden, hidden)).astype(dtype)
    b = rng.uniform(-bound, bound, hidden).astype(dtype)
    dy = rng.standard_normal((t_len, n, hidden)).astype(dtype)
    h, want = rnn_bptt_reference(dy, x, h0, w_ih, w_hh, b, truncate)
    return [dy, x, np.ascontiguousarray(h), h0, w_ih, w_hh, truncate], want


def _bptt_cases(rng, dtype):
    for t_len, n, d, hidden in RNN_SHAPES:
        args, want = _rnn_case(rng, t_len, n, d, hidden, dtype)
        yield f"T={t_len}, N={n}, D={d}, H={hidden}", args, want
    for t_len, k in [(7, 3), (6, 2), (4, 1), (5, 5), (3, 8)]:
        args, want = _rnn_case(rng, t_len, 2, 3, 4, dtype, truncate=k)
        yield f"T={t_len}, N=2, D=3, H=4, truncate={k}", args, want
    args, want = _rnn_case(rng, 12, 3, 2, 6, dtype, weight_scale=3.0)
    yield "T=12, N=3, D=2, H=6, large recurrent weights (saturated tanh)", args, want


# -- Parts 4 and 5: attention ----------------------------------------------------------------------
def _attention_inputs(rng, b, tq, tk, d, e, dtype, spread=1.0):
    q = (rng.standard_normal((b, tq, d)) * spread).astype(dtype)
    k = (rng.standard_normal((b, tk, d)) * spread).astype(dtype)
    v = rng.standard_normal((b, tk, e)).astype(dtype)
    return q, k, v


def _attention_label(b, tq, tk, d, e, causal) -> str:
    return f"q ({b}, {tq}, {d}), k ({b}, {tk}, {d}), v ({b}, {tk}, {e}), causal={causal}"


def _attention_cases(rng, dtype):
    for b, tq, tk, d, e, causal in ATTENTION_SHAPES:
        q, k, v = _attention_inputs(rng, b, tq, tk, d, e, dtype)
        yield _attention_label(b, tq, tk, d, e, causal), [q, k, v, causal], \
            attention_ref.attention_forward(q, k, v, causal)
    # Scores in the hundreds: exp(S) overflows (float32 from 89, float64 from 710) unless each
    # row's maximum is subtracted first.
    q, k, v = _attention_inputs(rng, 2, 6, 6, 4, 3, dtype, spread=30.0)
    yield "scores in the hundreds (exp overflows unless the row max is subtracted), causal=True", \
        [q, k, v, True], attention_ref.attention_forward(q, k, v, True)


def _fused_cases(rng):
    cases = []
    for b, tq, tk, d, e, causal in ATTENTION_SHAPES + [(2, 64, 64, 32, 32, True), (1, 37, 37, 7, 5, True)]:
        q, k, v = _attention_inputs(rng, b, tq, tk, d, e, np.float32)
        out, _ = attention_ref.attention_forward(q, k, v, causal)
        cases.append(Case(_attention_label(b, tq, tk, d, e, causal), [q, k, v, causal], (out,), ATTENTION_RTOL))
    q, k, v = _attention_inputs(rng, 2, 9, 9, 4, 3, np.float32, spread=30.0)
    cases.append(Case("scores in the hundreds, causal=True", [q, k, v, True],
                      (attention_ref.attention_forward(q, k, v, True)[0],), ATTENTION_RTOL))
    return cases


def _fused_timed_input(rng):
    b, t, d = ATTENTION_TIMED
    q, k, v = _attention_inputs(rng, b, t, t, d, d, np.float32)
    return [q, k, v, True], attention_ref.attention_forward(q, k, v, True)[0]


PARTS = [
    FunctionPart(
        name="Part 1: LSTM cell, forward", points=10, function="lstm_cell_forward",
        signature="lstm_cell_forward(x_gates, h_gates, c_prev) -> (h, c, gates)",
        make_cases=in_both_dtypes(_lstm_forward_cases), outputs=("h", "c", "gates")),
    FunctionPart(
        name="Part 2: LSTM cell, backward", points=10, function="lstm_cell_backward",
        signature="lstm_cell_backward(dh, dc, gates, c_prev, c) -> (dgates, dc_prev)",
        make_cases=in_both_dtypes(_lstm_backward_cases), outputs=("dgates", "dc_prev")),
    FunctionPart(
        name="Part 3: Backpropagation through time", points=10, function="rnn_bptt",
        signature="rnn_bptt(dy, x, h, h0, w_ih, w_hh, truncate=None) -> (dx, dh0, dw_ih, dw_hh, db)",
        make_cases=in_both_dtypes(_bptt_cases), outputs=("dx", "dh0", "dw_ih", "dw_hh", "db")),
    FunctionPart(
        name="Part 4: Attention with a causal mask", points=10, function="attention_forward",
        signature="attention_forward(q, k, v, causal=False) -> (out, logsumexp)",
        make_cases=in_both_dtypes(_attention_cases), outputs=("out", "logsumexp")),
    SpeedPart(
        name="Part 5: Fused attention in Numba", points=10, function="attention_fused",
        signature="attention_fused(q, k, v, causal) -> out", make_cases=_fused_cases, outputs=("out",),
        baseline_op="attention_naive", make_timed_input=_fused_timed_input, target=4.0,
        timed_label="q, k, v ({0}, {1}, {2}), causal".format(*ATTENTION_TIMED),
        shortcut_rule="attention_fused must compute with its own loops (no @, np.dot, einsum, "
                      "tensordot or BLAS).",
        hint="Hint: one query row at a time, with one short row of scores: skip the masked keys, make "
             "the innermost loop run along a contiguous row (v[j, :]), let the dot products vectorise "
             "(fastmath={\"reassoc\", \"contract\"}), and share the rows among threads with prange."),
]

ASSIGNMENT = Assignment("03_rnn", "Recurrent networks and attention", PARTS)
