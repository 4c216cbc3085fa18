"""Numba kernels of the RNN chapter: the NumPy reference as one fused loop per cell.

Each public function has the name, signature, output shapes and dtypes of its twin in
``numpy_kernels.py`` (the equations are there); ``kernels.py`` registers them by name.
Where NumPy makes one pass over memory per operation (add, split, sigmoid, multiply, ...),
each loop here reads a row's pre-activations once and writes its outputs once. Rows of the
batch run in parallel (``prange``); the inner loop walks 1-D contiguous row slices, which
Numba vectorises. Inputs arrive C-contiguous (the registry copies views).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True, fastmath=False, inline="always")
def _sigmoid(u):
    e = math.exp(-abs(u))            # never overflows: the argument is <= 0
    return 1 / (1 + e) if u >= 0 else e / (1 + e)


@njit(cache=True, fastmath=False, parallel=True)
def rnn_cell_forward(x_gates, h_gates):
    """h = tanh(x_gates + h_gates).   x_gates, h_gates: (N, H)  ->  h: (N, H)"""
    n, hidden = x_gates.shape
    h = np.empty_like(x_gates)
    for b in prange(n):
        xr, hr, out = x_gates[b], h_gates[b], h[b]
        for j in range(hidden):
            out[j] = np.tanh(xr[j] + hr[j])
    return h


@njit(cache=True, fastmath=False, parallel=True)
def rnn_cell_backward(dh, h):
    """dgates = dh * (1 - h^2).   dh, h: (N, H)  ->  dgates: (N, H)"""
    n, hidden = dh.shape
    dgates = np.empty_like(dh)
    for b in prange(n):
        g, y, out = dh[b], h[b], dgates[b]
        for j in range(hidden):
            out[j] = g[j] * (1 - y[j] * y[j])
    return dgates


@njit(cache=True, fastmath=False, parallel=True)
def lstm_cell_forward(x_gates, h_gates, c_prev):
    """One LSTM step.   x_gates, h_gates: (N, 4H);  c_prev: (N, H)
    -> h: (N, H), c: (N, H), gates: (N, 4H) activated i, f, g, o."""
    n, hidden = c_prev.shape
    h = np.empty_like(c_prev)
    c = np.empty_like(c_prev)
    gates = np.empty_like(x_gates)
    for b in prange(n):
        xr, hr, act = x_gates[b], h_gates[b], gates[b]
        for j in range(hidden):
            i = _sigmoid(xr[j] + hr[j])
            f = _sigmoid(xr[hidden + j] + hr[hidden + j])
            g = np.tanh(xr[2 * hidden + j] + hr[2 * hidden + j])
            o = _sigmoid(xr[3 * hidden + j] + hr[3 * hidden + j])
            cell = f * c_prev[b, j] + i * g
            c[b, j] = cell
            h[b, j] = o * np.tanh(cell)
            act[j], act[hidden + j], act[2 * hidden + j], act[3 * hidden + j] = i, f, g, o
    return h, c, gates


@njit(cache=True, fastmath=False, parallel=True)
def lstm_cell_backward(dh, dc, gates, c_prev, c):
    """Backward of one LSTM step.   dh, dc, c_prev, c: (N, H);  gates: (N, 4H)
    -> dgates: (N, 4H), dc_prev: (N, H)."""
    n, hidden = c.shape
    dgates = np.empty_like(gates)
    dc_prev = np.empty_like(c)
    for b in prange(n):
        act, out = gates[b], dgates[b]
        for j in range(hidden):
            i, f, g, o = act[j], act[hidden + j], act[2 * hidden + j], act[3 * hidden + j]
            tc = np.tanh(c[b, j])
            dc_total = dc[b, j] + dh[b, j] * o * (1 - tc * tc)
            out[j] = dc_total * g * i * (1 - i)
            out[hidden + j] = dc_total * c_prev[b, j] * f * (1 - f)
            out[2 * hidden + j] = dc_total * i * (1 - g * g)
            out[3 * hidden + j] = dh[b, j] * tc * o * (1 - o)
            dc_prev[b, j] = dc_total * f
    return dgates, dc_prev


@njit(cache=True, fastmath=False, parallel=True)
def gru_cell_forward(x_gates, h_gates, b_hh, h_prev):
    """One GRU step.   x_gates, h_gates: (N, 3H);  b_hh: (3H,);  h_prev: (N, H)
    -> h: (N, H), saved: (N, 4H) = r, z, n, hb_n."""
    n, hidden = h_prev.shape
    h = np.empty_like(h_prev)
    saved = np.empty((n, 4 * hidden), h_prev.dtype)
    for b in prange(n):
        xr, hr, s = x_gates[b], h_gates[b], saved[b]
        for j in range(hidden):
            r = _sigmoid(xr[j] + hr[j] + b_hh[j])
            z = _sigmoid(xr[hidden + j] + hr[hidden + j] + b_hh[hidden + j])
            hn = hr[2 * hidden + j] + b_hh[2 * hidden + j]
            cand = np.tanh(xr[2 * hidden + j] + r * hn)
            h[b, j] = (1 - z) * cand + z * h_prev[b, j]
            s[j], s[hidden + j], s[2 * hidden + j], s[3 * hidden + j] = r, z, cand, hn
    return h, saved


@njit(cache=True, fastmath=False, parallel=True)
def gru_cell_backward(dh, saved, h_prev):
    """Backward of one GRU step.   dh, h_prev: (N, H);  saved: (N, 4H)
    -> dx_gates: (N, 3H), dh_gates: (N, 3H), dh_direct: (N, H)."""
    n, hidden = h_prev.shape
    dx_gates = np.empty((n, 3 * hidden), dh.dtype)
    dh_gates = np.empty((n, 3 * hidden), dh.dtype)
    dh_direct = np.empty_like(dh)
    for b in prange(n):
        s, dx, dhg = saved[b], dx_gates[b], dh_gates[b]
        for j in range(hidden):
            r, z, cand, hn = s[j], s[hidden + j], s[2 * hidden + j], s[3 * hidden + j]
            g = dh[b, j]
            da_n = g * (1 - z) * (1 - cand * cand)
            da_z = g * (h_prev[b, j] - cand) * z * (1 - z)
            da_r = da_n * hn * r * (1 - r)
            dx[j], dx[hidden + j], dx[2 * hidden + j] = da_r, da_z, da_n
            dhg[j], dhg[hidden + j], dhg[2 * hidden + j] = da_r, da_z, da_n * r
            dh_direct[b, j] = g * z
    return dx_gates, dh_gates, dh_direct


def embedding_forward(weight, indices):
    """y[...] = weight[indices[...]].   weight: (V, D);  indices: shape S  ->  y: S + (D,)"""
    flat = np.ascontiguousarray(indices.reshape(-1)).astype(np.int64)
    return _gather_rows(weight, flat).reshape(indices.shape + (weight.shape[1],))


@njit(cache=True, fastmath=False, parallel=True)
def _gather_rows(weight, flat):
    y = np.empty((flat.size, weight.shape[1]), weight.dtype)
    for k in prange(flat.size):
        y[k] = weight[flat[k]]          # a contiguous row copy
    return y


def embedding_backward(dy, indices, num_embeddings):
    """dweight[v] = sum of dy rows whose index is v.   dy: S + (D,);  indices: S  ->  (V, D)"""
    flat = np.ascontiguousarray(indices.reshape(-1)).astype(np.int64)
    return _scatter_add_rows(dy.reshape(-1, dy.shape[-1]), flat, num_embeddings)


@njit(cache=True, fastmath=False, parallel=True)
def _scatter_add_rows(dy, flat, num_embeddings):
    """Race-free: positions are bucketed by their index (a counting sort), then each row of
    dweight is summed by one thread, from its own bucket, in the order the positions came.
    Two threads never write one row, and the sum order does not depend on the thread count."""
    counts = np.zeros(num_embeddings + 1, np.int64)
    for k in range(flat.size):
        counts[flat[k] + 1] += 1
    starts = np.cumsum(counts)                      # bucket v is order[starts[v]:starts[v + 1]]
    fill = starts[:-1].copy()
    order = np.empty(flat.size, np.int64)
    for k in range(flat.size):
        order[fill[flat[k]]] = k
        fill[flat[k]] += 1
    dweight = np.zeros((num_embeddings, dy.shape[1]), dy.dtype)
    for v in prange(num_embeddings):
        row = dweight[v]
        for p in range(starts[v], starts[v + 1]):
            row += dy[order[p]]                     # a contiguous row add: vectorises
    return dweight


@njit(cache=True, fastmath=False, parallel=True)
def _sum_flat(a, b):
    out = np.empty_like(a)
    for k in prange(a.size):
        out[k] = a[k] + b[k]
    return out


def gradient_sum(a, b):
    """a + b.   a, b: any shape, the same  ->  (the same shape)"""
    return _sum_flat(a.reshape(-1), b.reshape(-1)).reshape(a.shape)
