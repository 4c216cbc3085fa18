"""Sequence layers: Embedding, and the RNN, LSTM and GRU layers that run a cell over time.

Layout: time-major, as PyTorch's default (``batch_first=False``): x is (T, N, D), the output
(T, N, H), one row of the batch per sequence. Weights are PyTorch's too (``weight_ih_l0`` is
``w_ih`` here, gates stacked in its order), so a state dict moves between the two unchanged.

Forward, per layer:
    x_proj = x @ W_ih.T + b_ih                 one GEMM over all T * N rows
    per step t:  h_gates = h_{t-1} @ W_hh.T (+ b_hh), then the fused cell kernel
Backward through time walks the steps in reverse, each a cell backward and one GEMM carrying
the gradient to h_{t-1}; the weight gradients are then one GEMM each over all steps.

Truncated backpropagation (``bptt=k``): the sequence is cut into chunks of k steps and the
gradient does not cross a chunk boundary, exactly as detaching the state every k steps in
PyTorch: gradients flow back at most k steps. The forward is unchanged.
"""
from __future__ import annotations

import numpy as np

from ..backprop import kernels as B
from ..backprop.module import Module
from ..runtime.checks import check_array
from . import kernels as K
from .steps import empty, put_step, take_step, zeros


def _positive_int(name, value, allow_none=False):
    if allow_none and value is None:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer{' or None' if allow_none else ''}; got {value!r}")


class Embedding(Module):
    """y[...] = weight[indices[...]].   indices: integer, shape S  ->  y: S + (D,); weight: (V, D)

    Initialised N(0, 1), as PyTorch's. There is no input gradient (the input is integers);
    backward returns None and sets ``grads["weight"]`` (repeated tokens accumulate).
    """

    def __init__(self, num_embeddings: int, dim: int, *, seed: int = 0, dtype=np.float32, backend=None):
        super().__init__(backend)
        _positive_int("num_embeddings", num_embeddings)
        _positive_int("dim", dim)
        rng = np.random.default_rng(seed)
        self.params = {"weight": self._here(rng.standard_normal((num_embeddings, dim)).astype(dtype))}
        self.num_embeddings, self.dim = num_embeddings, dim

    def forward(self, indices):
        self.indices = indices
        return K.embedding_forward(self.params["weight"], indices, backend=self.backend)

    def backward(self, dy):
        self.grads = {"weight": K.embedding_backward(dy, self.indices, self.num_embeddings,
                                                     backend=self.backend)}
        return None

    def __repr__(self):
        return f"Embedding({self.num_embeddings}, {self.dim}, backend={self.backend!r})"


class _Recurrent(Module):
    """What the three sequence layers share: weights, the input projection, the weight
    gradients. A subclass sets GATES and writes ``_step`` / ``_step_backward``."""

    GATES = 1

    def __init__(self, d_in: int, hidden: int, *, bptt: int | None = None, seed: int = 0,
                 dtype=np.float32, backend=None):
        super().__init__(backend)
        _positive_int("d_in", d_in)
        _positive_int("hidden", hidden)
        _positive_int("bptt", bptt, allow_none=True)
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden)        # PyTorch: every weight uniform in +-1/sqrt(H)
        g = self.GATES * hidden
        shapes = {"w_ih": (g, d_in), "w_hh": (g, hidden), "b_ih": (g,), "b_hh": (g,)}
        self.params = {k: self._here(rng.uniform(-bound, bound, s).astype(dtype)) for k, s in shapes.items()}
        self.d_in, self.hidden, self.bptt = d_in, hidden, bptt

    def _zeros(self, n):
        return zeros((n, self.hidden), self.params["w_ih"].dtype, self.backend)

    def forward(self, x, h0=None):
        """x: (T, N, D)  [h0: (N, H), zeros if None]  ->  y: (T, N, H); ``self.h_n`` is h_T."""
        check_array("x", x, ndim=3)
        t_len, n, d = x.shape
        if d != self.d_in:
            raise ValueError(f"x must have shape (T, N, {self.d_in}); got {tuple(x.shape)}")
        p = self.params
        # Uploaded once here (on OpenCL), not once per kernel that reads it.
        self.x2d = self._here(x).reshape(t_len * n, d)
        x_proj = B.linear_forward(self.x2d, p["w_ih"], p["b_ih"], backend=self.backend)
        dtype = p["w_ih"].dtype
        self.h_prevs = empty((t_len * n, self.hidden), dtype, self.backend)   # h_{t-1} per step
        y = empty((t_len * n, self.hidden), dtype, self.backend)
        self.saved = []
        h = self._zeros(n) if h0 is None else self._here(h0)
        self._begin(n)
        for t in range(t_len):
            put_step(self.h_prevs, t, h)
            h = self._step(take_step(x_proj, t, n), h)
            put_step(y, t, h)
        self.h_n, self.shape = h, (t_len, n)
        return y.reshape(t_len, n, self.hidden)

    def backward(self, dy):
        """dy: (T, N, H)  ->  dx: (T, N, D); sets grads and ``self.dh0`` (N, H)."""
        t_len, n = self.shape
        p, be = self.params, self.backend
        dy2d = self._here(dy).reshape(t_len * n, self.hidden)
        g = self.GATES * self.hidden
        dtype = p["w_ih"].dtype
        dx_gates_all = empty((t_len * n, g), dtype, be)
        dh_gates_all = dx_gates_all if self.SHARED_GATE_GRADIENT else empty((t_len * n, g), dtype, be)
        dh_rec = None                          # the gradient reaching h_t from step t + 1
        self._begin_backward(n)
        for t in reversed(range(t_len)):
            dh = take_step(dy2d, t, n)
            if dh_rec is not None:
                dh = K.gradient_sum(dh, dh_rec, backend=be)
            dx_gates, dh_gates, dh_rec = self._step_backward(t, dh)
            put_step(dx_gates_all, t, dx_gates)
            if dh_gates_all is not dx_gates_all:
                put_step(dh_gates_all, t, dh_gates)
            if t == 0:
                self.dh0 = dh_rec
            if self.bptt is not None and t % self.bptt == 0:   # a chunk boundary: stop here
                dh_rec = None
                self._cut()
        self.grads = {
            "w_ih": B.gemm(dx_gates_all, self.x2d, trans_a=True, backend=be),
            "w_hh": B.gemm(dh_gates_all, self.h_prevs, trans_a=True, backend=be),
            "b_ih": B.bias_grad(dx_gates_all, backend=be),
            "b_hh": B.bias_grad(dh_gates_all, backend=be),
        }
        dx = B.gemm(dx_gates_all, p["w_ih"], backend=be)
        return dx.reshape(t_len, n, self.d_in)

    # hooks for the cells with more state (LSTM's c)
    SHARED_GATE_GRADIENT = True

    def _begin(self, n):
        pass

    def _begin_backward(self, n):
        pass

    def _cut(self):
        pass

    def __repr__(self):
        return f"{type(self).__name__}({self.d_in}, {self.hidden}, bptt={self.bptt}, backend={self.backend!r})"


class RNN(_Recurrent):
    """h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh).  W_ih: (H, D), W_hh: (H, H)"""

    def _step(self, x_gates, h):
        p = self.params
        h_gates = B.linear_forward(h, p["w_hh"], p["b_hh"], backend=self.backend)
        h = K.rnn_cell_forward(x_gates, h_gates, backend=self.backend)
        self.saved.append(h)
        return h

    def _step_backward(self, t, dh):
        dgates = K.rnn_cell_backward(dh, self.saved[t], backend=self.backend)
        return dgates, dgates, B.gemm(dgates, self.params["w_hh"], backend=self.backend)


class LSTM(_Recurrent):
    """PyTorch's LSTM (gates i, f, g, o; see numpy_kernels.lstm_cell_forward).
    W_ih: (4H, D), W_hh: (4H, H). ``forward(x, h0, c0)``; ``self.c_n`` is the last cell state."""

    GATES = 4

    def forward(self, x, h0=None, c0=None):
        self.c0 = c0
        return super().forward(x, h0)

    def _begin(self, n):
        self.c = self._zeros(n) if self.c0 is None else self._here(self.c0)

    def _step(self, x_gates, h):
        p = self.params
        h_gates = B.linear_forward(h, p["w_hh"], p["b_hh"], backend=self.backend)
        c_prev = self.c
        h, self.c, gates = K.lstm_cell_forward(x_gates, h_gates, c_prev, backend=self.backend)
        self.saved.append((gates, c_prev, self.c))
        self.c_n = self.c
        return h

    def _begin_backward(self, n):
        self.dc = self._zeros(n)

    def _step_backward(self, t, dh):
        gates, c_prev, c = self.saved[t]
        dgates, self.dc = K.lstm_cell_backward(dh, self.dc, gates, c_prev, c, backend=self.backend)
        if t == 0:
            self.dc0 = self.dc
        return dgates, dgates, B.gemm(dgates, self.params["w_hh"], backend=self.backend)

    def _cut(self):
        self.dc = self._zeros(self.shape[1])


class GRU(_Recurrent):
    """PyTorch's GRU (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); see
    numpy_kernels.gru_cell_forward). W_ih: (3H, D), W_hh: (3H, H)."""

    GATES = 3
    SHARED_GATE_GRADIENT = False      # b_hn sits inside r * (...), so dh_gates != dx_gates

    def _step(self, x_gates, h):
        p = self.params
        h_gates = B.gemm(h, p["w_hh"], trans_b=True, backend=self.backend)
        h_new, saved = K.gru_cell_forward(x_gates, h_gates, p["b_hh"], h, backend=self.backend)
        self.saved.append((saved, h))
        return h_new

    def _step_backward(self, t, dh):
        saved, h_prev = self.saved[t]
        be = self.backend
        dx_gates, dh_gates, dh_direct = K.gru_cell_backward(dh, saved, h_prev, backend=be)
        dh_rec = K.gradient_sum(dh_direct, B.gemm(dh_gates, self.params["w_hh"], backend=be), backend=be)
        return dx_gates, dh_gates, dh_rec
