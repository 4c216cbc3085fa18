"""Numba kernels of the RNN chapter: the NumPy reference as one fused loop per cell.

Each public function has the name, signature, output shapes and dtypes of its twin in
``numpy_kernels.py`` (the equations are there); ``kernels.py`` registers them by name. Each
also has an ``_into`` twin that writes its results into arrays it is given (the layer passes
rows of its whole-sequence arrays, so nothing is allocated or copied per step); the LSTM and
RNN backward ``_into`` twins also add the two gradients reaching h (dy_t + dh from step t + 1,
``gradient_sum``) as they read them.

Three choices make these fast, each measured (N=64, H=128 LSTM step forward, this 2-core VM):
- serial loops, no ``prange``: a Numba parallel region costs 40-110 us to start here, and the
  whole cell takes about 20 us on one core;
- ``error_model="numpy"``: Numba's default error model tests every float division for zero
  (to raise ZeroDivisionError), which stops LLVM vectorising the loop (1 ns per division,
  against 0.05 ns vectorised);
- ``_tanh`` below: float32 tanh as a rational function (plain * + /, which LLVM vectorises;
  libm's tanhf is a scalar call, about 15 ns here), and sigma(u) = (1 + tanh(u / 2)) / 2.
  Together: 720 us -> 18 us per LSTM step forward.
Inputs arrive C-contiguous (the registry copies views; the layer passes contiguous rows).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

FAST = dict(cache=True, fastmath=False, error_model="numpy")


@njit(**FAST, inline="always")
def _tanh_rational(x):
    """tanh(x) for float32 to within 4e-7 (Eigen's rational approximation, as PyTorch's CPU
    kernels use): beyond |x| = 7.9 tanh is +-1 in float32, inside it an odd degree-13 / even
    degree-6 ratio of polynomials. Only * + / and a clamp, so a loop of it vectorises."""
    x = min(max(x, np.float32(-7.90531110763549805)), np.float32(7.90531110763549805))
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return x * p / q


def _tanh(x):
    """tanh: the vectorisable rational form for float32, libm's exact one for float64 (the
    gradient checks run in float64 and need every digit)."""


@overload(_tanh, inline="always")
def _tanh_for(x):
    if x == types.float32:
        return lambda x: _tanh_rational(x)
    return lambda x: math.tanh(x)


HALF, ONE = np.float32(0.5), np.float32(1)   # exact in float32 and float64: no promotion


@njit(**FAST, inline="always")
def _sigmoid(u):
    return HALF + HALF * _tanh(HALF * u)       # sigma(u) = (1 + tanh(u / 2)) / 2, no overflow


@njit(**FAST)
def rnn_cell_forward_into(x_gates, h_gates, h):
    """h = tanh(x_gates + h_gates), written into h.   all (N, H)"""
    for b in range(h.shape[0]):
        xr, hr, out = x_gates[b], h_gates[b], h[b]
        for j in range(h.shape[1]):
            out[j] = _tanh(xr[j] + hr[j])


def rnn_cell_forward(x_gates, h_gates):
    """h = tanh(x_gates + h_gates).   x_gates, h_gates: (N, H)  ->  h: (N, H)"""
    h = np.empty_like(x_gates)
    rnn_cell_forward_into(x_gates, h_gates, h)
    return h


@njit(**FAST)
def rnn_cell_backward_into(dy, dh_next, h, dgates):
    """dgates = (dy + dh_next) * (1 - h^2): the gradient of h summed from its two uses (the
    output y_t and step t + 1) and taken through tanh.   all (N, H)"""
    for b in range(h.shape[0]):
        g, r, y, out = dy[b], dh_next[b], h[b], dgates[b]
        for j in range(h.shape[1]):
            out[j] = (g[j] + r[j]) * (ONE - y[j] * y[j])


def rnn_cell_backward(dh, h):
    """dgates = dh * (1 - h^2).   dh, h: (N, H)  ->  dgates: (N, H)"""
    dgates = np.empty_like(dh)
    rnn_cell_backward_into(dh, np.zeros_like(dh), h, dgates)
    return dgates


@njit(**FAST)
def lstm_cell_forward_into(x_gates, h_gates, c_prev, h, c, gates):
    """One LSTM step into h, c (N, H) and gates (N, 4H).   x_gates, h_gates: (N, 4H);  c_prev: (N, H)

    Per row, one loop per gate over a contiguous block (the i and f blocks side by side), then
    one for c and h. Each loop walks 1-D slices from index 0, which LLVM vectorises; a loop over
    ``range(2 * H, 3 * H)`` did not (8x slower), nor did one loop doing all four gates at once."""
    n, hidden = c_prev.shape
    for b in range(n):
        xr, hr, act = x_gates[b], h_gates[b], gates[b]
        for k in range(2 * hidden):                          # i and f
            act[k] = _sigmoid(xr[k] + hr[k])
        i, f, g, o = act[:hidden], act[hidden:2 * hidden], act[2 * hidden:3 * hidden], act[3 * hidden:]
        xg, hg, xo, ho = xr[2 * hidden:3 * hidden], hr[2 * hidden:3 * hidden], xr[3 * hidden:], hr[3 * hidden:]
        for j in range(hidden):
            g[j] = _tanh(xg[j] + hg[j])
        for j in range(hidden):
            o[j] = _sigmoid(xo[j] + ho[j])
        cp, cr, hr_out = c_prev[b], c[b], h[b]
        for j in range(hidden):
            cell = f[j] * cp[j] + i[j] * g[j]
            cr[j] = cell
            hr_out[j] = o[j] * _tanh(cell)


def lstm_cell_forward(x_gates, h_gates, c_prev):
    """One LSTM step.   x_gates, h_gates: (N, 4H);  c_prev: (N, H)
    -> h: (N, H), c: (N, H), gates: (N, 4H) activated i, f, g, o."""
    h, c = np.empty_like(c_prev), np.empty_like(c_prev)
    gates = np.empty_like(x_gates)
    lstm_cell_forward_into(x_gates, h_gates, c_prev, h, c, gates)
    return h, c, gates


@njit(**FAST)
def lstm_cell_backward_into(dy, dh_next, dc, gates, c_prev, c, dgates):
    """Backward of one LSTM step, with dh = dy + dh_next (h_t's gradient from the output and
    from step t + 1). Writes dgates (N, 4H) and replaces dc (N, H), the gradient of c_t, by
    that of c_{t-1} (each element is read before it is written).
    dy, dh_next, dc, c_prev, c: (N, H);  gates: (N, 4H)"""
    n, hidden = c.shape
    for b in range(n):
        act, out = gates[b], dgates[b]
        i, f, g, o = act[:hidden], act[hidden:2 * hidden], act[2 * hidden:3 * hidden], act[3 * hidden:]
        di, df, dg, do = out[:hidden], out[hidden:2 * hidden], out[2 * hidden:3 * hidden], out[3 * hidden:]
        dyr, dnr, dcr, cp, cr = dy[b], dh_next[b], dc[b], c_prev[b], c[b]
        for j in range(hidden):
            dh = dyr[j] + dnr[j]
            tc = _tanh(cr[j])
            dc_total = dcr[j] + dh * o[j] * (ONE - tc * tc)
            di[j] = dc_total * g[j] * i[j] * (ONE - i[j])
            df[j] = dc_total * cp[j] * f[j] * (ONE - f[j])
            dg[j] = dc_total * i[j] * (ONE - g[j] * g[j])
            do[j] = dh * tc * o[j] * (ONE - o[j])
            dcr[j] = dc_total * f[j]


def lstm_cell_backward(dh, dc, gates, c_prev, c):
    """Backward of one LSTM step.   dh, dc, c_prev, c: (N, H);  gates: (N, 4H)
    -> dgates: (N, 4H), dc_prev: (N, H)."""
    dgates, dc_prev = np.empty_like(gates), dc.copy()
    lstm_cell_backward_into(dh, np.zeros_like(dh), dc_prev, gates, c_prev, c, dgates)
    return dgates, dc_prev


@njit(**FAST)
def gru_cell_forward_into(x_gates, h_gates, b_hh, h_prev, h, saved):
    """One GRU step into h (N, H) and saved (N, 4H) = r, z, n, hb_n.
    x_gates, h_gates: (N, 3H);  b_hh: (3H,);  h_prev: (N, H)"""
    n, hidden = h_prev.shape
    for b in range(n):
        xr, hr, s, hp, out = x_gates[b], h_gates[b], saved[b], h_prev[b], h[b]
        for k in range(2 * hidden):                          # r and z
            s[k] = _sigmoid(xr[k] + hr[k] + b_hh[k])
        r, z, cand, hn = s[:hidden], s[hidden:2 * hidden], s[2 * hidden:3 * hidden], s[3 * hidden:]
        xn, hgn, bn = xr[2 * hidden:], hr[2 * hidden:], b_hh[2 * hidden:]   # slices from 0: vectorised
        for j in range(hidden):
            hn[j] = hgn[j] + bn[j]
            cand[j] = _tanh(xn[j] + r[j] * hn[j])
        for j in range(hidden):
            out[j] = (ONE - z[j]) * cand[j] + z[j] * hp[j]


def gru_cell_forward(x_gates, h_gates, b_hh, h_prev):
    """One GRU step.   x_gates, h_gates: (N, 3H);  b_hh: (3H,);  h_prev: (N, H)
    -> h: (N, H), saved: (N, 4H) = r, z, n, hb_n."""
    n, hidden = h_prev.shape
    h = np.empty_like(h_prev)
    saved = np.empty((n, 4 * hidden), h_prev.dtype)
    gru_cell_forward_into(x_gates, h_gates, b_hh, h_prev, h, saved)
    return h, saved


@njit(**FAST)
def gru_cell_backward(dh, saved, h_prev):
    """Backward of one GRU step.   dh, h_prev: (N, H);  saved: (N, 4H)
    -> dx_gates: (N, 3H), dh_gates: (N, 3H), dh_direct: (N, H)."""
    n, hidden = h_prev.shape
    dx_gates = np.empty((n, 3 * hidden), dh.dtype)
    dh_gates = np.empty((n, 3 * hidden), dh.dtype)
    dh_direct = np.empty_like(dh)
    for b in range(n):
        s, dx, dhg = saved[b], dx_gates[b], dh_gates[b]
        for j in range(hidden):
            r, z, cand, hn = s[j], s[hidden + j], s[2 * hidden + j], s[3 * hidden + j]
            g = dh[b, j]
            da_n = g * (ONE - z) * (ONE - cand * cand)
            da_z = g * (h_prev[b, j] - cand) * z * (ONE - z)
            da_r = da_n * hn * r * (ONE - r)
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


@njit(**FAST)
def _sum_flat(a, b):
    out = np.empty_like(a)        # serial: a parallel region costs more than this whole sum
    for k in range(a.size):
        out[k] = a[k] + b[k]
    return out


def gradient_sum(a, b):
    """a + b.   a, b: any shape, the same  ->  (the same shape)"""
    return _sum_flat(a.reshape(-1), b.reshape(-1)).reshape(a.shape)
