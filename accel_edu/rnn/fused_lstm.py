"""``LSTM(..., backend="numba", fused=True)``: the layer's forward and backward as one compiled
call each over the whole sequence (``numba_sequence.py``), and the GEMMs over all steps at
once with NumPy (OpenBLAS):

    forward:   lstm_sequence_forward               (input projection, per-step GEMM, cell)
    backward:  lstm_sequence_backward              (cell backward, per-step dgates @ W_hh)
               dW_ih = dgates.T @ x,  dW_hh = dgates.T @ h_prev,  db = sum of dgates rows
               dx = dgates @ W_ih                  (four big GEMMs, T * N rows each)

It computes what the step-by-step layer computes (the same arrays, under the same names:
``states``, ``cells``, ``gates``, ``dx_gates``, ``h_n``, ``c_n``, ``dh0``, ``dc0``), in a
different summation order only. The layer methods call these two functions.
"""
from __future__ import annotations

import numpy as np

from . import numba_sequence as S


def fused_forward(layer, x, h0, c0):
    """x: (T, N, D)  [h0, c0: (N, H)]  ->  y: (T, N, H), a view of ``layer.states``."""
    p = layer.params
    t_len, n, d = x.shape
    hidden, dtype = layer.hidden, p["w_ih"].dtype
    layer.shape = (t_len, n)
    x = np.ascontiguousarray(x, dtype=dtype)
    layer.x2d = x.reshape(t_len * n, d)
    states = np.empty((t_len + 1, n, hidden), dtype)
    cells = np.empty((t_len + 1, n, hidden), dtype)
    for name, given, first in (("h0", h0, states), ("c0", c0, cells)):
        if given is not None and np.shape(given) != (n, hidden):
            raise ValueError(f"{name} must have shape (N, H) = ({n}, {hidden}); got {np.shape(given)}")
        first[0] = 0 if given is None else given
    gates = np.empty((t_len, n, 4 * hidden), dtype)
    S.lstm_sequence_forward(x, p["w_ih"], p["w_hh"], p["b_ih"] + p["b_hh"], states, cells, gates)
    layer.states, layer.cells = states.reshape(-1, hidden), cells.reshape(-1, hidden)
    layer.gates = gates.reshape(-1, 4 * hidden)
    layer.h_n, layer.c_n = states[t_len], cells[t_len]
    return states[1:]


def fused_backward(layer, dy, need_dx):
    """dy: (T, N, H)  ->  dx: (T, N, D), or None with ``need_dx=False``; sets ``layer.grads``,
    ``layer.dh0`` and ``layer.dc0`` (N, H)."""
    p = layer.params
    t_len, n = layer.shape
    hidden, dtype = layer.hidden, p["w_ih"].dtype
    dy = np.ascontiguousarray(dy, dtype=dtype).reshape(t_len, n, hidden)
    dgates = np.empty((t_len, n, 4 * hidden), dtype)
    layer.dh0, layer.dc0 = np.empty((n, hidden), dtype), np.empty((n, hidden), dtype)
    S.lstm_sequence_backward(dy, layer.gates.reshape(t_len, n, 4 * hidden),
                             layer.cells.reshape(t_len + 1, n, hidden), p["w_hh"], dgates,
                             layer.dh0, layer.dc0, bptt=layer.bptt)
    layer.dx_gates = layer.dh_gates = dgates = dgates.reshape(t_len * n, 4 * hidden)
    layer.grads = _weight_gradients(dgates, layer.x2d, layer.states[:t_len * n])
    if not need_dx:
        return None
    return _input_gradient(dgates, p["w_ih"]).reshape(t_len, n, layer.d_in)


def _weight_gradients(dgates, x2d, h_prev):
    """dgates (T*N, 4H), x2d (T*N, D), h_prev (T*N, H): h_0 .. h_{T-1}  ->  {w_ih (4H, D),
    w_hh (4H, H), b_ih, b_hh (4H,)}: every step's contribution summed by one GEMM each."""
    b = np.ones(dgates.shape[0], dgates.dtype) @ dgates
    return {"w_ih": dgates.T @ x2d, "w_hh": dgates.T @ h_prev, "b_ih": b, "b_hh": b.copy()}


def _input_gradient(dgates, w_ih):
    """dgates (T*N, 4H) @ W_ih (4H, D)  ->  dx (T*N, D)."""
    return dgates @ w_ih
