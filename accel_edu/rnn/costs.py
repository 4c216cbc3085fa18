"""FLOPs and compulsory bytes of one call of each RNN kernel, from its arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``); a sigmoid
1 / (1 + exp(-a)) counts 3 (exp, add, divide), tanh 1. Counts are per (row n, hidden unit j)
of the (N, H) state, from the equations in ``numpy_kernels.py``.
"""
from __future__ import annotations

import numpy as np

from ..runtime.costs import elements, nbytes, shape_bytes

SIGMOID = 3


def rnn_cell_forward_flops(x_gates, h_gates):
    """h = tanh(x_gates + h_gates): an add and a tanh per element of (N, H)."""
    return 2.0 * elements(x_gates)


def rnn_cell_forward_bytes(x_gates, h_gates):
    """Read x_gates and h_gates (N, H); write h (N, H)."""
    return nbytes(x_gates, h_gates) + nbytes(x_gates)


def rnn_cell_backward_flops(dh, h):
    """dh * (1 - h * h): two multiplies and a subtract per element."""
    return 3.0 * elements(dh)


def rnn_cell_backward_bytes(dh, h):
    """Read dh and h; write dgates (N, H)."""
    return 3 * nbytes(dh)


def lstm_cell_forward_flops(x_gates, h_gates, c_prev):
    """Per (n, j): four gate adds (4), three sigmoids (9), tanh g (1), c = f c_prev + i g (3),
    h = o tanh(c) (2): 19."""
    return 19.0 * elements(c_prev)


def lstm_cell_forward_bytes(x_gates, h_gates, c_prev):
    """Read x_gates, h_gates (N, 4H) and c_prev (N, H); write h, c (N, H) and gates (N, 4H)."""
    return nbytes(x_gates, h_gates, c_prev) + 2 * nbytes(c_prev) + nbytes(x_gates)


def lstm_cell_backward_flops(dh, dc, gates, c_prev, c):
    """Per (n, j): tanh(c) (1), dc_total (5), da_i, da_f, da_g, da_o (4 each), dc_prev (1): 23."""
    return 23.0 * elements(c)


def lstm_cell_backward_bytes(dh, dc, gates, c_prev, c):
    """Read dh, dc, c_prev, c (N, H) and gates (N, 4H); write dgates (N, 4H) and dc_prev (N, H)."""
    return nbytes(dh, dc, gates, c_prev, c) + nbytes(gates) + nbytes(c)


def gru_cell_forward_flops(x_gates, h_gates, b_hh, h_prev):
    """Per (n, j): h_gates + b_hh (3), r and z (an add and a sigmoid each: 8), n = tanh(x_n +
    r hb_n) (3), h = (1 - z) n + z h_prev (4): 18."""
    return 18.0 * elements(h_prev)


def gru_cell_forward_bytes(x_gates, h_gates, b_hh, h_prev):
    """Read x_gates, h_gates (N, 3H), b_hh (3H,), h_prev (N, H); write h (N, H), saved (N, 4H)."""
    return nbytes(x_gates, h_gates, b_hh, h_prev) + 5 * nbytes(h_prev)


def gru_cell_backward_flops(dh, saved, h_prev):
    """Per (n, j): da_n (5), da_z (5), da_r (4), da_n r (1), dh z (1): 16."""
    return 16.0 * elements(h_prev)


def gru_cell_backward_bytes(dh, saved, h_prev):
    """Read dh, h_prev (N, H) and saved (N, 4H); write dx_gates, dh_gates (N, 3H), dh_direct (N, H)."""
    return nbytes(dh, saved, h_prev) + 7 * nbytes(h_prev)


def embedding_forward_flops(weight, indices):
    """A gather: 0 FLOPs."""
    return 0.0


def embedding_forward_bytes(weight, indices):
    """Read the indices and only the rows they name (each distinct row once: a gather does
    not read the whole table); write y (S, D)."""
    rows = np.unique(np.asarray(indices)).size
    d = weight.shape[1]
    itemsize = np.dtype(weight.dtype).itemsize
    return nbytes(indices) + rows * d * itemsize + elements(indices) * d * itemsize


def embedding_backward_flops(dy, indices, num_embeddings):
    """One add per element of dy (a scatter-add into dweight)."""
    return float(elements(dy))


def embedding_backward_bytes(dy, indices, num_embeddings):
    """Read dy and indices; write dweight (V, D)."""
    return nbytes(dy, indices) + shape_bytes((num_embeddings, dy.shape[-1]), dy.dtype)


def gradient_sum_flops(a, b):
    """a + b: one add per element."""
    return float(elements(a))


def gradient_sum_bytes(a, b):
    """Read a and b; write their sum."""
    return nbytes(a, b) + nbytes(a)
