"""NumPy reference of the RNN chapter's kernels: short, vectorised, obviously right.

Conventions are PyTorch's. Per time step, with x_t (N, D), h_prev (N, H) and the weights
W_ih (G*H, D), W_hh (G*H, H), b_ih and b_hh (G*H,), the layer computes

    x_gates = x_t @ W_ih.T + b_ih          (for the whole sequence at once: one GEMM)
    h_gates = h_prev @ W_hh.T  (+ b_hh)    (one GEMM per step; RNN and LSTM fold b_hh into x_gates)

and the cell kernels here do everything else in one pass. The gates sit side by side in each
row of width G*H: column block k holds gate k. sigma(u) = 1 / (1 + exp(-u)).

Every backward takes the upstream gradient and what its forward returned, and returns the
gradient with respect to the pre-activations; the layer turns those into weight gradients
with GEMMs (dW_hh += dh_gates.T @ h_prev, dh_prev = dh_gates @ W_hh, ...).
"""
from __future__ import annotations

import numpy as np


def _sigmoid(u):
    # exp only ever sees -|u|, so it cannot overflow (as the backprop chapter's sigmoid).
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1 / (1 + e), e / (1 + e))


# -- vanilla RNN (tanh) -----------------------------------------------------------------------

def rnn_cell_forward(x_gates, h_gates):
    """h = tanh(x_gates + h_gates).

    x_gates: (N, H) = x_t @ W_ih.T + b_ih + b_hh;  h_gates: (N, H) = h_prev @ W_hh.T  ->  h: (N, H)
    """
    return np.tanh(x_gates + h_gates)


def rnn_cell_backward(dh, h):
    """d pre-activation = dh * (1 - h^2), since tanh'(u) = 1 - tanh(u)^2.

    dh: (N, H) upstream gradient of h;  h: (N, H) the forward's output  ->  dgates: (N, H),
    the gradient of both x_gates and h_gates (they enter as a sum).
    """
    return dh * (1 - h * h)


# -- LSTM (gates i, f, g, o) ------------------------------------------------------------------

def lstm_cell_forward(x_gates, h_gates, c_prev):
    """One LSTM step. With a = x_gates + h_gates split into four (N, H) blocks a_i, a_f, a_g, a_o:

        i = sigma(a_i)   f = sigma(a_f)   g = tanh(a_g)   o = sigma(a_o)
        c = f * c_prev + i * g
        h = o * tanh(c)

    x_gates, h_gates: (N, 4H);  c_prev: (N, H)
    -> h: (N, H), c: (N, H), gates: (N, 4H) the activated i, f, g, o (kept for backward).
    """
    a = x_gates + h_gates
    hidden = c_prev.shape[1]
    i, f, o = (_sigmoid(a[:, k * hidden:(k + 1) * hidden]) for k in (0, 1, 3))
    g = np.tanh(a[:, 2 * hidden:3 * hidden])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, np.concatenate([i, f, g, o], axis=1)


def lstm_cell_backward(dh, dc, gates, c_prev, c):
    """Backward of one LSTM step.

        dc_total = dc + dh * o * (1 - tanh(c)^2)      (c reaches the loss directly and via h)
        da_i = dc_total * g * i (1 - i)       da_f = dc_total * c_prev * f (1 - f)
        da_g = dc_total * i * (1 - g^2)       da_o = dh * tanh(c) * o (1 - o)
        dc_prev = dc_total * f

    dh: (N, H) gradient of h;  dc: (N, H) gradient of c from the step after (zeros at the end);
    gates: (N, 4H) activated i, f, g, o;  c_prev, c: (N, H)
    -> dgates: (N, 4H) the gradient of the pre-activations a (so of x_gates and h_gates),
       dc_prev: (N, H).
    """
    hidden = c.shape[1]
    i, f, g, o = (gates[:, k * hidden:(k + 1) * hidden] for k in range(4))
    tc = np.tanh(c)
    dc_total = dc + dh * o * (1 - tc * tc)
    dgates = np.concatenate([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f),
                             dc_total * i * (1 - g * g), dh * tc * o * (1 - o)], axis=1)
    return dgates, dc_total * f


# -- GRU (gates r, z, n) ----------------------------------------------------------------------

def gru_cell_forward(x_gates, h_gates, b_hh, h_prev):
    """One GRU step, PyTorch's form (the reset gate multiplies W_hn h + b_hn, not h):

        hb = h_gates + b_hh                       (hb_n = W_hn h_prev + b_hn)
        r = sigma(x_r + hb_r)    z = sigma(x_z + hb_z)
        n = tanh(x_n + r * hb_n)
        h = (1 - z) * n + z * h_prev

    x_gates: (N, 3H) = x_t @ W_ih.T + b_ih;  h_gates: (N, 3H) = h_prev @ W_hh.T (no bias);
    b_hh: (3H,);  h_prev: (N, H)
    -> h: (N, H), saved: (N, 4H) = r, z, n, hb_n side by side (what backward needs).
    """
    hidden = h_prev.shape[1]
    hb = h_gates + b_hh
    x_r, x_z, x_n = (x_gates[:, k * hidden:(k + 1) * hidden] for k in range(3))
    r = _sigmoid(x_r + hb[:, :hidden])
    z = _sigmoid(x_z + hb[:, hidden:2 * hidden])
    hn = hb[:, 2 * hidden:]
    n = np.tanh(x_n + r * hn)
    h = (1 - z) * n + z * h_prev
    return h, np.concatenate([r, z, n, hn], axis=1)


def gru_cell_backward(dh, saved, h_prev):
    """Backward of one GRU step.

        da_n = dh * (1 - z) * (1 - n^2)                      (a_n = x_n + r * hb_n)
        da_z = dh * (h_prev - n) * z (1 - z)
        da_r = da_n * hb_n * r (1 - r)
        dx_gates = [da_r, da_z, da_n]      dh_gates = [da_r, da_z, da_n * r]
        dh_prev (direct part) = dh * z

    dh: (N, H);  saved: (N, 4H) r, z, n, hb_n from the forward;  h_prev: (N, H)
    -> dx_gates: (N, 3H), dh_gates: (N, 3H) (also the gradient of b_hh, summed over N),
       dh_direct: (N, H); the full dh_prev is dh_direct + dh_gates @ W_hh.
    """
    hidden = h_prev.shape[1]
    r, z, n, hn = (saved[:, k * hidden:(k + 1) * hidden] for k in range(4))
    da_n = dh * (1 - z) * (1 - n * n)
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_r = da_n * hn * r * (1 - r)
    return (np.concatenate([da_r, da_z, da_n], axis=1),
            np.concatenate([da_r, da_z, da_n * r], axis=1), dh * z)


# -- embedding --------------------------------------------------------------------------------

def embedding_forward(weight, indices):
    """y[...] = weight[indices[...]]: one row of the table per token.

    weight: (V, D);  indices: integer, any shape S, each in [0, V)  ->  y: S + (D,)
    """
    return weight[indices]


def embedding_backward(dy, indices, num_embeddings):
    """dweight[v] = sum of dy[...] over every position whose index is v (zero for unused rows).

    A token that appears twice gets both gradients added: np.add.at accumulates repeated
    indices, where ``dweight[indices] += dy`` would keep only one of them.

    dy: S + (D,);  indices: integer, shape S;  num_embeddings: V  ->  dweight: (V, D)
    """
    dweight = np.zeros((num_embeddings, dy.shape[-1]), dy.dtype)
    np.add.at(dweight, indices.reshape(-1), dy.reshape(-1, dy.shape[-1]))
    return dweight


# -- where a state feeds two paths ------------------------------------------------------------

def gradient_sum(a, b):
    """a + b. A hidden state h_t feeds both the layer's output y_t and the next step, so its
    gradient is the sum of the two paths' (dy_t + dh_t from step t + 1).

    a, b: any shape, the same  ->  (the same shape)
    """
    return a + b
