"""A whole LSTM sequence in one Numba call each way: the per-step GEMMs, the input projection
and the cells inside one compiled loop over time.

The step-by-step layer (``layers.LSTM``) makes, per time step, one GEMM call and one cell
call: 80 small GEMMs for a forward + backward of T = 40, each a Python call that re-reads
W_hh and, with OpenBLAS, re-packs it. Here the weights are packed once per call and then:

    forward, per step t, per block of MR batch rows:
        for each 16 hidden units: acc = bias + x_t @ W_ih.T + h_{t-1} @ W_hh.T     (MR x 64)
                                  -> the gates' pre-activations of those units, into ``gates``
        the cell on the block's rows (still in L1): i, f, g, o, c_t, h_t
    backward, per step t in reverse, per block of MR batch rows:
        the cell backward of dh = dy_t + dh_rec  ->  dgates_t (into ``dgates``), dc updated
        dh_rec = dgates_t @ W_hh                                                    (MR x 64)

A tile of the forward holds 16 hidden units of all four gates (``pack_gate_panels`` puts
those 64 columns of W side by side), so x_t's and h_{t-1}'s contributions add into the same
registers: there is no separate input projection pass and no x_proj array.

Two threads split the batch: rows of a batch are independent sequences, so a thread owns
rows lo..hi for all T steps and the whole sequence is ONE parallel region (a region costs
~100 us to start on this VM: one per step would cost more than the step).

Measured (forward alone, T=40, N=64, D=40, H=128, one thread, the machine loaded by other
jobs, medians of interleaved runs): the cell computed straight from the tile, 16 units at a
time, did not vectorise and took half the time (1.7 of 3.5 ms); run per row on the block's
gates while they are in L1, with numba_kernels' vectorising loops, it takes ~0.4 ms. Tiles of
4 rows x 16 units (3.9 ms) beat 8 x 8 (4.8), 4 x 8 (4.6) and 6 x 16 (4.3).

What stays outside, after the loop: the weight gradients and dx, each one big GEMM over all
T * N rows, where OpenBLAS is at its best (``fused_lstm.py``). Summing dW inside the loop
instead (per step, each thread dW += dgates_t.T @ [x_t | h_{t-1} | 1] for its rows, in the
same kind of tile) lost, side by side in one run: the backward with it 56 ms against 32 ms
with OpenBLAS after the loop on one thread, 100 against 76 on two (machine heavily loaded).
Nor did this file's 4 x 64 tile as that one big GEMM after the loop ([x | h | 1].T @ dgates,
K-blocked) beat OpenBLAS's AVX2 kernels: 4.8-6.7 ms against 5.1-5.7, one thread, CPU time.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..backprop.numba_kernels import _stack_array
from .numba_kernels import ONE, _sigmoid, _tanh

UNITS = 16            # hidden units per forward tile: 4 gates x 16 = 64 columns
COLS = 4 * UNITS      # columns of every tile (forward and backward): 4 AVX-512 registers
MR = 4                # batch rows per tile: 4 x 64 float32 = 16 registers of accumulators
_TILE = MR * COLS
# contract: a * b + c may become one fused multiply-add (one rounding instead of two), twice
# the multiply-adds per cycle. Nothing is reordered ('reassoc' stays off): sums run in k order.
# cache=False: with Numba's on-disk cache, fresh-clone CI runs segfaulted here, in
# _forward_rows loaded from a cache the suite had filled (the same test passed on a fresh
# cache). Until the cause is found, these compile in each process (a few seconds).
GEMM = dict(cache=False, fastmath={"contract"}, error_model="numpy")


# -- packing: once per call, so each tile reads its weights contiguously -----------------------

def pack_gate_panels(w, hidden):
    """W (4H, K) -> (U, K, 64), U = ceil(H / 16): row k of panel u is W[., k] for units
    16u .. 16u + 15 of gate i, then of f, g and o (zeros past H)."""
    k = w.shape[1]
    units = -(-hidden // UNITS)
    padded = np.zeros((4, units * UNITS, k), w.dtype)
    padded[:, :hidden] = np.asarray(w).reshape(4, hidden, k)
    panels = padded.reshape(4, units, UNITS, k).transpose(1, 3, 0, 2)     # (U, K, 4, 16)
    return np.ascontiguousarray(panels).reshape(units, k, COLS)


def pack_bias_panels(bias, hidden):
    """b (4H,) -> (U, 64), in the columns' order of ``pack_gate_panels``."""
    units = -(-hidden // UNITS)
    padded = np.zeros((4, units * UNITS), bias.dtype)
    padded[:, :hidden] = np.asarray(bias).reshape(4, hidden)
    return np.ascontiguousarray(padded.reshape(4, units, UNITS).transpose(1, 0, 2)).reshape(units, COLS)


def pack_column_panels(w):
    """W (K, M) -> (ceil(M / 64), K, 64), zeros past M: W_hh (4H, H) for dgates @ W_hh."""
    k, m = w.shape
    panels = np.zeros((-(-m // COLS), k, COLS), w.dtype)
    for v in range(panels.shape[0]):
        width = min(COLS, m - v * COLS)
        panels[v, :, :width] = w[:, v * COLS:v * COLS + width]
    return panels


# -- the register tile, shared by both directions ----------------------------------------------

@njit(**GEMM, inline="always")
def _tile(acc, a, n0, panel):
    """acc (MR, 64) += a[n0 .. n0 + MR] @ panel (K, 64). Rows past a's end repeat its last row
    (computed, never stored), so every tile is a full one and unrolls the same way: per k, 4
    broadcasts of a, 4 vector loads of the panel, 16 multiply-adds into registers."""
    last = a.shape[0] - 1
    row0, row1, row2, row3 = a[n0], a[min(n0 + 1, last)], a[min(n0 + 2, last)], a[min(n0 + 3, last)]
    for p in range(panel.shape[0]):
        a0, a1, a2, a3 = row0[p], row1[p], row2[p], row3[p]
        w = panel[p]
        for q in range(COLS):      # a constant trip count: unrolled, each acc[r, q] a register
            b = w[q]
            acc[0, q] += a0 * b
            acc[1, q] += a1 * b
            acc[2, q] += a2 * b
            acc[3, q] += a3 * b


# -- forward ------------------------------------------------------------------------------------

@njit(**GEMM, inline="always")
def _cell_forward_row(act, c_prev, c, h, hidden):
    """act (4H,): pre-activations in, activated i, f, g, o out; c = f c_prev + i g and
    h = o tanh(c) into c, h (H,). One loop per gate over a slice from 0: each vectorises
    (as in numba_kernels.lstm_cell_forward_into)."""
    for k in range(2 * hidden):                  # i and f
        act[k] = _sigmoid(act[k])
    i, f, g, o = act[:hidden], act[hidden:2 * hidden], act[2 * hidden:3 * hidden], act[3 * hidden:]
    for j in range(hidden):
        g[j] = _tanh(g[j])
    for j in range(hidden):
        o[j] = _sigmoid(o[j])
    for j in range(hidden):
        cell = f[j] * c_prev[j] + i[j] * g[j]
        c[j] = cell
        h[j] = o[j] * _tanh(cell)


@njit(**GEMM)
def _forward_rows(x, wx, wh, bias, states, cells, gates, lo, hi):
    """All T steps for one thread's batch rows lo .. hi. Each step's rows are taken as
    ``a[t][lo:hi]`` (C-contiguous to Numba: its loops vectorise), not as ``a[:, lo:hi]``."""
    t_len, rows, hidden = x.shape[0], hi - lo, states.shape[2]
    acc = numba.carray(_stack_array(_TILE, x.dtype), (MR, COLS))
    for t in range(t_len):
        xt, h_prev, act = x[t][lo:hi], states[t][lo:hi], gates[t][lo:hi]
        c_prev, c_out, h_out = cells[t][lo:hi], cells[t + 1][lo:hi], states[t + 1][lo:hi]
        for n0 in range(0, rows, MR):
            block = min(MR, rows - n0)
            for u in range(wx.shape[0]):             # 16 hidden units of all 4 gates per tile
                j0 = u * UNITS
                units = min(UNITS, hidden - j0)
                for r in range(MR):
                    for q in range(COLS):
                        acc[r, q] = bias[u, q]
                _tile(acc, xt, n0, wx[u])          # the input projection, in the same tile
                _tile(acc, h_prev, n0, wh[u])
                for r in range(block):               # gate k's 16 columns to its place in act
                    row, a = act[n0 + r], acc[r]
                    for k in range(4):
                        out, part = row[k * hidden + j0:], a[k * UNITS:]
                        for q in range(units):
                            out[q] = part[q]
            for n in range(n0, n0 + block):         # the block's gates are in L1: the cell now
                _cell_forward_row(act[n], c_prev[n], c_out[n], h_out[n], hidden)


@njit(cache=False, fastmath=False, parallel=True)
def _forward_parallel(x, wx, wh, bias, states, cells, gates, parts):
    n = x.shape[1]
    for part in prange(parts):     # ONE region for the whole sequence: each thread its rows
        lo, hi = part * n // parts, (part + 1) * n // parts
        _forward_rows(x, wx, wh, bias, states, cells, gates, lo, hi)


def lstm_sequence_forward(x, w_ih, w_hh, bias, states, cells, gates, threads=None):
    """The LSTM forward over a whole sequence, written into the arrays given.

    x: (T, N, D);  w_ih: (4H, D);  w_hh: (4H, H);  bias: (4H,) = b_ih + b_hh
    states: (T + 1, N, H) with states[0] = h_0, steps 1..T written;  cells: the same for c
    gates: (T, N, 4H), written: every step's activated i, f, g, o (what backward needs)
    threads: how many batch slices run in parallel (default: Numba's thread count)
    """
    hidden = w_hh.shape[1]
    args = (x, pack_gate_panels(w_ih, hidden), pack_gate_panels(w_hh, hidden), pack_bias_panels(bias, hidden),
            states, cells, gates)
    parts = _parts(x.shape[1], threads)
    if parts == 1:                 # no parallel region to start (~100 us here) for one slice
        _forward_rows(*args, 0, x.shape[1])
    else:
        _forward_parallel(*args, parts)


# -- backward -----------------------------------------------------------------------------------

@njit(**GEMM, inline="always")
def _cell_backward_row(dy, dh_next, dc, act, c_prev, c, dgates, hidden):
    """numba_kernels.lstm_cell_backward_into for one row: dh = dy + dh_next; writes dgates
    (4H,) and replaces dc (H,) by the gradient of c_{t-1}."""
    i, f, g, o = act[:hidden], act[hidden:2 * hidden], act[2 * hidden:3 * hidden], act[3 * hidden:]
    di, df = dgates[:hidden], dgates[hidden:2 * hidden]
    dg, do = dgates[2 * hidden:3 * hidden], dgates[3 * hidden:]
    for j in range(hidden):
        dh = dy[j] + dh_next[j]
        tc = _tanh(c[j])
        dc_total = dc[j] + dh * o[j] * (ONE - tc * tc)
        di[j] = dc_total * g[j] * i[j] * (ONE - i[j])
        df[j] = dc_total * c_prev[j] * f[j] * (ONE - f[j])
        dg[j] = dc_total * i[j] * (ONE - g[j] * g[j])
        do[j] = dh * tc * o[j] * (ONE - o[j])
        dc[j] = dc_total * f[j]


@njit(**GEMM)
def _backward_rows(dy, gates, cells, wh_cols, bptt, dgates, dh0, dc0, lo, hi):
    """All T steps, in reverse, for one thread's batch rows lo .. hi (taken as in _forward_rows).
    bptt = 0: full backpropagation through time."""
    t_len, rows, hidden = dy.shape[0], hi - lo, dy.shape[2]
    acc = numba.carray(_stack_array(_TILE, dy.dtype), (MR, COLS))
    dh_rec = np.zeros((rows, hidden), dy.dtype)      # the gradient reaching h_t from step t + 1
    dc = np.zeros((rows, hidden), dy.dtype)
    for t in range(t_len - 1, -1, -1):
        cut = bptt > 0 and t % bptt == 0             # a chunk boundary: nothing flows past it
        dh_out = dh0[lo:hi] if t == 0 else dh_rec    # dh_rec is read (cell) before written (tile)
        dyt, act, dgt = dy[t][lo:hi], gates[t][lo:hi], dgates[t][lo:hi]
        c_prev, c = cells[t][lo:hi], cells[t + 1][lo:hi]
        for n0 in range(0, rows, MR):
            block = min(MR, rows - n0)
            for n in range(n0, n0 + block):
                _cell_backward_row(dyt[n], dh_rec[n], dc[n], act[n], c_prev[n], c[n], dgt[n], hidden)
            if cut and t > 0:
                continue                             # step t's gradient stops at h_{t-1}
            for v in range(wh_cols.shape[0]):        # dh_out[block] = dgates_t[block] @ W_hh
                acc[:] = 0
                _tile(acc, dgt, n0, wh_cols[v])
                j0 = v * COLS
                for r in range(block):
                    out, a = dh_out[n0 + r, j0:], acc[r]
                    for q in range(min(COLS, hidden - j0)):
                        out[q] = a[q]
        if t == 0:
            dc0[lo:hi] = dc
        if cut:
            dh_rec[:] = 0
            dc[:] = 0


@njit(cache=False, fastmath=False, parallel=True)
def _backward_parallel(dy, gates, cells, wh_cols, bptt, dgates, dh0, dc0, parts):
    n = dy.shape[1]
    for part in prange(parts):
        lo, hi = part * n // parts, (part + 1) * n // parts
        _backward_rows(dy, gates, cells, wh_cols, bptt, dgates, dh0, dc0, lo, hi)


def lstm_sequence_backward(dy, gates, cells, w_hh, dgates, dh0, dc0, bptt=None, threads=None):
    """Backpropagation through time of ``lstm_sequence_forward``, written into the arrays given.

    dy: (T, N, H) the gradient of the outputs h_1..h_T;  gates: (T, N, 4H) and cells:
    (T + 1, N, H) from the forward;  w_hh: (4H, H)
    dgates: (T, N, 4H), written: every step's gradient of the gate pre-activations (the
    gradient of x_proj and of h_gates: the weight gradients are GEMMs of it)
    dh0, dc0: (N, H), written: the gradients of h_0 and c_0
    bptt: None, or k: the gradient crosses no chunk boundary (t % k == 0), as layers.LSTM
    """
    args = (dy, gates, cells, pack_column_panels(w_hh), 0 if bptt is None else int(bptt), dgates, dh0, dc0)
    parts = _parts(dy.shape[1], threads)
    if parts == 1:
        _backward_rows(*args, 0, dy.shape[1])
    else:
        _backward_parallel(*args, parts)


def _parts(n, threads):
    """How many batch slices: one per thread, none thinner than one tile (MR rows)."""
    threads = numba.get_num_threads() if threads is None else threads
    return max(1, min(threads, n // MR))
