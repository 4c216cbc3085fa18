"""The argument check of each RNN kernel, shared by all three backends.

Shapes: N is the batch, H the hidden size; a cell's gate pre-activations are (N, G * H) with
G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n), the gates side by side in each row.
"""
from __future__ import annotations

import numpy as np

from ..runtime.checks import check_array, check_same_dtype, describe


def _gates(name, x, gates: int, cell: str):
    """A 2-D (N, gates * H) array; returns H."""
    check_array(name, x, ndim=2)
    if x.shape[1] % gates:
        raise ValueError(f"{name} must have shape (N, {gates} * H), the {cell} gates side by side; "
                         f"got {tuple(x.shape)}, whose width is not a multiple of {gates}")
    return x.shape[1] // gates


def _shape(name, x, shape, what):
    check_array(name, x, ndim=len(shape))
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, {what}; got {tuple(x.shape)}")


def _pair(x_gates, h_gates, gates, cell):
    hidden = _gates("x_gates", x_gates, gates, cell)
    _shape("h_gates", h_gates, x_gates.shape, "like x_gates")
    check_same_dtype(x_gates=x_gates, h_gates=h_gates)
    return x_gates.shape[0], hidden


def rnn_cell_forward(x_gates, h_gates):
    _pair(x_gates, h_gates, 1, "RNN")


def rnn_cell_backward(dh, h):
    check_array("dh", dh, ndim=2)
    _shape("h", h, dh.shape, "like dh (the forward's output)")
    check_same_dtype(dh=dh, h=h)


def lstm_cell_forward(x_gates, h_gates, c_prev):
    n, hidden = _pair(x_gates, h_gates, 4, "LSTM (i, f, g, o)")
    _shape("c_prev", c_prev, (n, hidden), "the previous cell state (N, H)")
    check_same_dtype(x_gates=x_gates, c_prev=c_prev)


def lstm_cell_backward(dh, dc, gates, c_prev, c):
    check_array("dh", dh, ndim=2)
    n, hidden = dh.shape
    _shape("dc", dc, (n, hidden), "like dh")
    _shape("gates", gates, (n, 4 * hidden), "the forward's activated gates i, f, g, o")
    _shape("c_prev", c_prev, (n, hidden), "like dh")
    _shape("c", c, (n, hidden), "like dh")
    check_same_dtype(dh=dh, dc=dc, gates=gates, c_prev=c_prev, c=c)


def gru_cell_forward(x_gates, h_gates, b_hh, h_prev):
    n, hidden = _pair(x_gates, h_gates, 3, "GRU (r, z, n)")
    _shape("b_hh", b_hh, (3 * hidden,), "the hidden-to-hidden bias (3 * H,)")
    _shape("h_prev", h_prev, (n, hidden), "the previous hidden state (N, H)")
    check_same_dtype(x_gates=x_gates, b_hh=b_hh, h_prev=h_prev)


def gru_cell_backward(dh, saved, h_prev):
    check_array("dh", dh, ndim=2)
    n, hidden = dh.shape
    _shape("saved", saved, (n, 4 * hidden), "the forward's r, z, n and hn side by side")
    _shape("h_prev", h_prev, (n, hidden), "like dh")
    check_same_dtype(dh=dh, saved=saved, h_prev=h_prev)


def gradient_sum(a, b):
    check_array("a", a)
    _shape("b", b, a.shape, "like a")
    check_same_dtype(a=a, b=b)


def _indices(indices, num_embeddings: int):
    """Integer token ids, any shape, each in [0, num_embeddings)."""
    from ..runtime.opencl import DeviceArray
    if not isinstance(indices, (np.ndarray, DeviceArray)) or indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be an integer array of token ids; got {describe(indices)}")
    if indices.size == 0:
        raise ValueError(f"indices must not be empty; got shape {tuple(indices.shape)}")
    if not isinstance(indices, DeviceArray) and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices[(indices < 0) | (indices >= num_embeddings)].flat[0]
        raise ValueError(f"indices must lie in [0, {num_embeddings}), rows of the embedding table; "
                         f"found {bad}")


def embedding_forward(weight, indices):
    check_array("weight", weight, ndim=2)
    _indices(indices, weight.shape[0])


def embedding_backward(dy, indices, num_embeddings):
    if not isinstance(num_embeddings, int) or isinstance(num_embeddings, bool) or num_embeddings < 1:
        raise ValueError(f"num_embeddings must be a positive int; got {describe(num_embeddings)}")
    _indices(indices, num_embeddings)
    check_array("dy", dy)
    if tuple(dy.shape[:-1]) != tuple(indices.shape) or dy.ndim != indices.ndim + 1:
        raise ValueError(f"dy must have shape {tuple(indices.shape)} + (D,), one row per index; "
                         f"got {tuple(dy.shape)}")
