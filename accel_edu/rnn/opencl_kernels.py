"""OpenCL host code of the RNN chapter: size the grid, launch, leave the results on the device.

Each public function has the name and signature of its twin in ``numpy_kernels.py`` (the
equations are there) but takes and returns DeviceArrays: a recurrent layer's state never
leaves the device between steps. The kernels are OpenCL C in ``cells.cl`` (the fused gate
math) and ``embedding.cl``.
"""
from __future__ import annotations

from pathlib import Path

from ..backprop.opencl_kernels import LABEL_TYPES
from ..runtime.opencl import empty, launch, round_up

HERE = Path(__file__).parent

GROUP = 256        # work-items per group; cells.cl's units are numbered k = b * H + j


def _cell(name: str, n: int, hidden: int, arrays: list, dtype) -> None:
    """Launch cells.cl's ``name`` over the N * H units: whole work-groups unchecked (BOUNDS=0,
    which PoCL vectorises), then the last partial group with its bounds test (BOUNDS=1)."""
    total = n * hidden
    bulk = total - total % GROUP
    if bulk:
        launch(HERE / "cells.cl", name, (bulk,), (GROUP,), [total, 0, hidden, *arrays], dtype, BOUNDS=0)
    if total > bulk:
        launch(HERE / "cells.cl", name, (GROUP,), (GROUP,), [total, bulk, hidden, *arrays], dtype, BOUNDS=1)


def rnn_cell_forward(x_gates, h_gates):
    """h = tanh(x_gates + h_gates).   x_gates, h_gates: (N, H)  ->  h: (N, H)"""
    h = empty(x_gates.shape, x_gates.dtype)
    _cell("rnn_cell_forward", *x_gates.shape, [x_gates, h_gates, h], x_gates.dtype)
    return h


def rnn_cell_backward(dh, h):
    """dgates = dh * (1 - h^2).   dh, h: (N, H)  ->  dgates: (N, H)"""
    dgates = empty(dh.shape, dh.dtype)
    _cell("rnn_cell_backward", *dh.shape, [dh, h, dgates], dh.dtype)
    return dgates


def lstm_cell_forward(x_gates, h_gates, c_prev):
    """x_gates, h_gates: (N, 4H);  c_prev: (N, H)  ->  h, c: (N, H), gates: (N, 4H)"""
    h, c = empty(c_prev.shape, c_prev.dtype), empty(c_prev.shape, c_prev.dtype)
    gates = empty(x_gates.shape, x_gates.dtype)
    _cell("lstm_cell_forward", *c_prev.shape, [x_gates, h_gates, c_prev, h, c, gates], c_prev.dtype)
    return h, c, gates


def lstm_cell_backward(dh, dc, gates, c_prev, c):
    """dh, dc, c_prev, c: (N, H);  gates: (N, 4H)  ->  dgates: (N, 4H), dc_prev: (N, H)"""
    dgates, dc_prev = empty(gates.shape, gates.dtype), empty(c.shape, c.dtype)
    _cell("lstm_cell_backward", *c.shape, [dh, dc, gates, c_prev, c, dgates, dc_prev], c.dtype)
    return dgates, dc_prev


def gru_cell_forward(x_gates, h_gates, b_hh, h_prev):
    """x_gates, h_gates: (N, 3H);  b_hh: (3H,);  h_prev: (N, H)  ->  h: (N, H), saved: (N, 4H)"""
    n, hidden = h_prev.shape
    h, saved = empty((n, hidden), h_prev.dtype), empty((n, 4 * hidden), h_prev.dtype)
    _cell("gru_cell_forward", n, hidden, [x_gates, h_gates, b_hh, h_prev, h, saved], h_prev.dtype)
    return h, saved


def gru_cell_backward(dh, saved, h_prev):
    """dh, h_prev: (N, H);  saved: (N, 4H)  ->  dx_gates, dh_gates: (N, 3H), dh_direct: (N, H)"""
    n, hidden = h_prev.shape
    dx_gates, dh_gates = empty((n, 3 * hidden), dh.dtype), empty((n, 3 * hidden), dh.dtype)
    dh_direct = empty((n, hidden), dh.dtype)
    _cell("gru_cell_backward", n, hidden, [dh, saved, h_prev, dx_gates, dh_gates, dh_direct], dh.dtype)
    return dx_gates, dh_gates, dh_direct


def embedding_forward(weight, indices):
    """weight: (V, D);  indices: integer, shape S  ->  y: S + (D,)"""
    dim = weight.shape[1]
    y = empty(tuple(indices.shape) + (dim,), weight.dtype)
    total = indices.size * dim
    launch(HERE / "embedding.cl", "embedding_forward", (round_up(total, GROUP),), (GROUP,),
           [total, dim, weight, indices, y], weight.dtype, INDEX=LABEL_TYPES[indices.dtype.name])
    return y


def embedding_backward(dy, indices, num_embeddings):
    """dy: S + (D,);  indices: integer, shape S;  num_embeddings: V  ->  dweight: (V, D)"""
    dim = dy.shape[-1]
    dweight = empty((num_embeddings, dim), dy.dtype)
    group = 32     # one work-item per column of dweight: D is small, so a small group
    launch(HERE / "embedding.cl", "embedding_backward", (round_up(dim, group),), (group,),
           [indices.size, dim, num_embeddings, dy, indices, dweight], dy.dtype,
           INDEX=LABEL_TYPES[indices.dtype.name])
    return dweight


def gradient_sum(a, b):
    """a + b.   a, b: any shape, the same  ->  (the same shape)"""
    out = empty(a.shape, a.dtype)
    _cell("gradient_sum", a.size, 1, [a, b, out], a.dtype)
    return out
