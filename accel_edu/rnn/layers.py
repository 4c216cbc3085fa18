"""Sequence layers: Embedding, and the RNN, LSTM and GRU layers that run a cell over time.

Layout: time-major, as PyTorch's default (``batch_first=False``): x is (T, N, D), the output
(T, N, H), one row of the batch per sequence. Weights are PyTorch's too (``weight_ih_l0`` is
``w_ih`` here, gates stacked in its order), so a state dict moves between the two unchanged.

Forward, per layer:
    x_proj = x @ W_ih.T + b_ih (+ b_hh)        one GEMM over all T * N rows (RNN and LSTM add
                                               b_hh here once, not once per step)
    per step t:  h_gates = h_{t-1} @ W_hh.T, then the fused cell kernel
Backward through time walks the steps in reverse, each a cell backward and one GEMM carrying
the gradient to h_{t-1}; the weight gradients are then one GEMM each over all steps.

Every per-step result is written into a whole-sequence array: ``states`` holds h_0 .. h_T as
(T + 1) * N rows, so the output y is its last T * N rows and the h_{t-1} that dW_hh needs its
first T * N, with no copy on the host. On Numba the cells write their rows in place (their
``_into`` twins). ``gemm_backend="numpy"`` runs the GEMMs with NumPy (OpenBLAS) while the cells
stay on the layer's backend: a separate configuration, named as such in the benchmark.
``LSTM(..., backend="numba", fused=True)`` runs the loop over time inside one compiled call
each way instead (``fused_lstm.py``, ``numba_sequence.py``); fastest in the benchmark so far.

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
from . import numba_kernels as NK
from .embedding_layer import Embedding, positive_int  # noqa: F401  (Embedding lived here: models import it from here)
from .fused_lstm import fused_backward, fused_forward
from .steps import empty, put_step, take_rows, take_step, zeros


class _Recurrent(Module):
    """What the three sequence layers share: weights, the input projection, the loop over time,
    the weight gradients. A subclass sets GATES and writes ``_step`` / ``_step_backward``.
    ``gemm_backend="numpy"``: every GEMM by NumPy/OpenBLAS, the cells on ``backend`` (numpy or numba)."""

    GATES = 1
    FOLD_B_HH = True          # b_hh enters as a plain sum (RNN, LSTM): add it to x_proj once

    def __init__(self, d_in: int, hidden: int, *, bptt: int | None = None, seed: int = 0,
                 dtype=np.float32, backend=None, gemm_backend: str | None = None):
        super().__init__(backend)
        positive_int("d_in", d_in)
        positive_int("hidden", hidden)
        positive_int("bptt", bptt, allow_none=True)
        if gemm_backend not in (None, "numpy"):
            raise ValueError(f"gemm_backend must be None (the layer's backend) or 'numpy' (OpenBLAS); "
                             f"got {gemm_backend!r}")
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden)        # PyTorch: every weight uniform in +-1/sqrt(H)
        g = self.GATES * hidden
        shapes = {"w_ih": (g, d_in), "w_hh": (g, hidden), "b_ih": (g,), "b_hh": (g,)}
        self.params = {k: self._here(rng.uniform(-bound, bound, s).astype(dtype)) for k, s in shapes.items()}
        self.d_in, self.hidden, self.bptt, self.gemm_backend = d_in, hidden, bptt, gemm_backend

    def _zeros(self, n, width=None):
        return zeros((n, width or self.hidden), self.params["w_ih"].dtype, self.backend)

    def _empty(self, rows, width=None):
        return empty((rows, width or self.hidden), self.params["w_ih"].dtype, self.backend)

    def _gemm(self, a, b, trans_a=False, trans_b=False, out=None):
        """a @ b, either transposed: with NumPy (OpenBLAS) when gemm_backend="numpy", written
        into ``out`` if given (a per-step buffer, reused), else the backprop chapter's gemm
        kernel on the layer's backend (``out`` unused)."""
        if self.gemm_backend == "numpy":
            return np.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)
        return B.gemm(a, b, trans_a=trans_a, trans_b=trans_b, backend=self.backend)

    def _input_projection(self, x2d):
        """x2d (T*N, D) @ W_ih.T + b_ih (+ b_hh)  ->  (T*N, G*H): every step's input gates at once."""
        p, be = self.params, self.backend
        bias = K.gradient_sum(p["b_ih"], p["b_hh"], backend=be) if self.FOLD_B_HH else p["b_ih"]
        if self.gemm_backend != "numpy":
            return B.linear_forward(x2d, p["w_ih"], bias, backend=be)
        x_proj = x2d @ p["w_ih"].T
        x_proj += bias
        return x_proj

    def _bias_grad(self, dgates):
        """Column sums of dgates (T*N, G*H): with OpenBLAS, as the product ones @ dgates."""
        if self.gemm_backend == "numpy":
            return np.ones(dgates.shape[0], dgates.dtype) @ dgates
        return B.bias_grad(dgates, backend=self.backend)

    def _step_buffer(self, width):
        """A per-step (N, width) buffer for the GEMMs to write into (OpenBLAS only), else None."""
        return np.empty((self.shape[1], width), self.params["w_ih"].dtype) if self.gemm_backend else None

    def _rows(self, seq, t):
        return take_step(seq, t, self.shape[1])

    def forward(self, x, h0=None):
        """x: (T, N, D)  [h0: (N, H), zeros if None]  ->  y: (T, N, H); ``self.h_n`` is h_T.

        On the host y is a view of ``self.states`` (which backward reads): do not write into it."""
        check_array("x", x, ndim=3)
        t_len, n, d = x.shape
        if d != self.d_in:
            raise ValueError(f"x must have shape (T, N, {self.d_in}); got {tuple(x.shape)}")
        if self.gemm_backend == "numpy" and self.backend == "opencl":
            raise ValueError("gemm_backend='numpy' needs a host backend (numpy or numba); the layer is on opencl")
        be = self.backend
        self.shape = (t_len, n)
        # Uploaded once here (on OpenCL), not once per kernel that reads it.
        x = self._here(x)
        self.x2d = (x if be == "opencl" else np.ascontiguousarray(x)).reshape(t_len * n, d)
        x_proj = self._input_projection(self.x2d)
        self.states = self._empty((t_len + 1) * n)            # h_0, h_1, ..., h_T
        put_step(self.states, 0, self._zeros(n) if h0 is None else self._here(h0))
        self._begin(t_len, n)
        self.h_gates = self._step_buffer(self.GATES * self.hidden)
        for t in range(t_len):
            self._step(t, take_step(x_proj, t, n))            # writes h_{t+1} into states
        self.h_n = take_step(self.states, t_len, n)
        return take_rows(self.states, n, (t_len + 1) * n).reshape(t_len, n, self.hidden)

    def backward(self, dy, need_dx: bool = True):
        """dy: (T, N, H)  ->  dx: (T, N, D) (None with ``need_dx=False``, which skips its GEMM,
        for a layer whose input needs no gradient); sets grads and ``self.dh0`` (N, H)."""
        t_len, n = self.shape
        p, be = self.params, self.backend
        dy = self._here(dy)
        dy2d = (dy if be == "opencl" else np.ascontiguousarray(dy)).reshape(t_len * n, self.hidden)
        g = self.GATES * self.hidden
        self.dx_gates = self._empty(t_len * n, g)
        self.dh_gates = self.dx_gates if self.SHARED_GATE_GRADIENT else self._empty(t_len * n, g)
        dh_rec = self._zeros(n)                # the gradient reaching h_t from step t + 1
        self.dh_rec = self._step_buffer(self.hidden)
        self._begin_backward(n)
        for t in reversed(range(t_len)):
            dh_rec = self._step_backward(t, take_step(dy2d, t, n), dh_rec)
            if t == 0:
                self.dh0 = dh_rec
            if self.bptt is not None and t % self.bptt == 0:   # a chunk boundary: stop here
                dh_rec = self._zeros(n)
                self._cut()
        h_prevs = take_rows(self.states, 0, t_len * n)          # h_0 .. h_{T-1}
        b_ih = self._bias_grad(self.dx_gates)
        self.grads = {
            "w_ih": self._gemm(self.dx_gates, self.x2d, trans_a=True),
            "w_hh": self._gemm(self.dh_gates, h_prevs, trans_a=True),
            "b_ih": b_ih,
            "b_hh": b_ih.copy() if self.SHARED_GATE_GRADIENT else self._bias_grad(self.dh_gates),
        }
        if not need_dx:
            return None
        return self._gemm(self.dx_gates, p["w_ih"]).reshape(t_len, n, self.d_in)

    # hooks for the cells with more state (LSTM's c)
    SHARED_GATE_GRADIENT = True

    def _begin(self, t_len, n):
        pass

    def _begin_backward(self, n):
        pass

    def _cut(self):
        pass

    def __repr__(self):
        gemm = "" if self.gemm_backend is None else f", gemm_backend={self.gemm_backend!r}"
        gemm += ", fused=True" if getattr(self, "fused", False) else ""
        return f"{type(self).__name__}({self.d_in}, {self.hidden}, bptt={self.bptt}, backend={self.backend!r}{gemm})"


class RNN(_Recurrent):
    """h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh).  W_ih: (H, D), W_hh: (H, H)"""

    def _step(self, t, x_gates):
        h_gates = self._gemm(self._rows(self.states, t), self.params["w_hh"], trans_b=True, out=self.h_gates)
        if self.backend == "numba":        # written straight into the state's row
            NK.rnn_cell_forward_into(x_gates, h_gates, self._rows(self.states, t + 1))
        else:
            put_step(self.states, t + 1, K.rnn_cell_forward(x_gates, h_gates, backend=self.backend))

    def _step_backward(self, t, dy_t, dh_rec):
        be, h = self.backend, self._rows(self.states, t + 1)
        if be == "numba":                  # dy_t + dh_rec summed inside the kernel
            dgates = self._rows(self.dx_gates, t)
            NK.rnn_cell_backward_into(dy_t, dh_rec, h, dgates)
        else:
            dgates = K.rnn_cell_backward(K.gradient_sum(dy_t, dh_rec, backend=be), h, backend=be)
            put_step(self.dx_gates, t, dgates)
        return self._gemm(dgates, self.params["w_hh"], out=self.dh_rec)   # dh_rec already read


class LSTM(_Recurrent):
    """PyTorch's LSTM (gates i, f, g, o; see numpy_kernels.lstm_cell_forward).
    W_ih: (4H, D), W_hh: (4H, H). ``forward(x, h0, c0)``; ``self.c_n`` is the last cell state.
    ``fused=True`` (backend numba): the whole sequence in one compiled call each way, the big
    GEMMs by OpenBLAS (``fused_lstm.py``); the same results, summed in another order."""

    GATES = 4

    def __init__(self, d_in: int, hidden: int, *, fused: bool = False, **options):
        super().__init__(d_in, hidden, **options)
        if not isinstance(fused, bool):
            raise ValueError(f"fused must be True or False; got {fused!r}")
        if fused and self.gemm_backend is not None:
            raise ValueError(f"fused=True runs its own GEMMs: leave gemm_backend None; got {self.gemm_backend!r}")
        self.fused = fused

    def forward(self, x, h0=None, c0=None):
        self.c0 = c0
        if not self.fused:
            return super().forward(x, h0)
        check_array("x", x, ndim=3)
        if x.shape[2] != self.d_in:
            raise ValueError(f"x must have shape (T, N, {self.d_in}); got {tuple(x.shape)}")
        if self.backend != "numba":
            raise ValueError(f"fused=True is a Numba path: the layer's backend must be numba; got {self.backend!r}")
        return fused_forward(self, x, h0, c0)

    def backward(self, dy, need_dx: bool = True):
        if self.fused:
            return fused_backward(self, dy, need_dx)
        return super().backward(dy, need_dx)

    def _begin(self, t_len, n):
        self.cells = self._empty((t_len + 1) * n)                 # c_0 .. c_T
        put_step(self.cells, 0, self._zeros(n) if self.c0 is None else self._here(self.c0))
        self.gates = self._empty(t_len * n, 4 * self.hidden)      # activated i, f, g, o per step

    def _step(self, t, x_gates):
        be = self.backend
        h_gates = self._gemm(self._rows(self.states, t), self.params["w_hh"], trans_b=True, out=self.h_gates)
        c_prev = self._rows(self.cells, t)
        if be == "numba":                  # h, c and the gates written straight into their rows
            NK.lstm_cell_forward_into(x_gates, h_gates, c_prev, self._rows(self.states, t + 1),
                                      self._rows(self.cells, t + 1), self._rows(self.gates, t))
        else:
            h, c, gates = K.lstm_cell_forward(x_gates, h_gates, c_prev, backend=be)
            put_step(self.states, t + 1, h)
            put_step(self.cells, t + 1, c)
            put_step(self.gates, t, gates)
        if t == self.shape[0] - 1:
            self.c_n = self._rows(self.cells, t + 1)

    def _begin_backward(self, n):
        self.dc = self._zeros(n)

    def _step_backward(self, t, dy_t, dh_rec):
        be = self.backend
        gates, c_prev, c = self._rows(self.gates, t), self._rows(self.cells, t), self._rows(self.cells, t + 1)
        if be == "numba":                  # dy_t + dh_rec summed inside; dc updated in place
            dgates = self._rows(self.dx_gates, t)
            NK.lstm_cell_backward_into(dy_t, dh_rec, self.dc, gates, c_prev, c, dgates)
        else:
            dh = K.gradient_sum(dy_t, dh_rec, backend=be)
            dgates, self.dc = K.lstm_cell_backward(dh, self.dc, gates, c_prev, c, backend=be)
            put_step(self.dx_gates, t, dgates)
        if t == 0:
            self.dc0 = self.dc
        return self._gemm(dgates, self.params["w_hh"], out=self.dh_rec)   # dh_rec already read

    def _cut(self):
        self.dc = self._zeros(self.shape[1])


class GRU(_Recurrent):
    """PyTorch's GRU (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); see
    numpy_kernels.gru_cell_forward). W_ih: (3H, D), W_hh: (3H, H)."""

    GATES = 3
    FOLD_B_HH = False                 # b_hn sits inside r * (...): the cell adds b_hh itself
    SHARED_GATE_GRADIENT = False      # ... so dh_gates != dx_gates

    def _begin(self, t_len, n):
        self.saved = self._empty(t_len * n, 4 * self.hidden)      # r, z, n, hb_n per step

    def _step(self, t, x_gates):
        be, p = self.backend, self.params
        h_prev = self._rows(self.states, t)
        h_gates = self._gemm(h_prev, p["w_hh"], trans_b=True, out=self.h_gates)
        if be == "numba":
            NK.gru_cell_forward_into(x_gates, h_gates, p["b_hh"], h_prev, self._rows(self.states, t + 1),
                                     self._rows(self.saved, t))
        else:
            h, saved = K.gru_cell_forward(x_gates, h_gates, p["b_hh"], h_prev, backend=be)
            put_step(self.states, t + 1, h)
            put_step(self.saved, t, saved)

    def _step_backward(self, t, dy_t, dh_rec):
        be = self.backend
        dh = K.gradient_sum(dy_t, dh_rec, backend=be)
        dx_gates, dh_gates, dh_direct = K.gru_cell_backward(dh, self._rows(self.saved, t),
                                                            self._rows(self.states, t), backend=be)
        put_step(self.dx_gates, t, dx_gates)
        put_step(self.dh_gates, t, dh_gates)
        return K.gradient_sum(dh_direct, self._gemm(dh_gates, self.params["w_hh"]), backend=be)
