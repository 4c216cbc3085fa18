"""The RNN chapter's kernels: each one name, one check, three backends.

A recurrent layer runs, per time step t, one GEMM ``h_gates = h_prev @ W_hh.T`` and then one of
the fused cell kernels below, which add the input projection ``x_gates = x_proj[t]`` (computed
for the whole sequence at once, by one GEMM) and apply every gate's nonlinearity in a single
pass over memory. Each forward returns what its backward needs. Gate order and conventions
follow PyTorch (``torch.nn.RNN``, ``LSTM``, ``GRU``), so weights move between the two unchanged.

The implementations live beside this file: ``numpy_kernels.py`` (the reference, with the
equations), ``numba_kernels.py`` and ``opencl_kernels.py`` (OpenCL C in ``cells.cl`` and
``embedding.cl``).
"""
from __future__ import annotations

from ..runtime import Kernel
from ..runtime.registry import wire_chapter
from . import cases, checks, costs

rnn_cell_forward = Kernel("rnn_cell_forward", checks.rnn_cell_forward, cases.rnn_cell_forward,
                          summary="h = tanh(x_gates + h_gates)",
                          flops=costs.rnn_cell_forward_flops, bytes=costs.rnn_cell_forward_bytes)
rnn_cell_backward = Kernel("rnn_cell_backward", checks.rnn_cell_backward, cases.rnn_cell_backward,
                           summary="d pre-activation = dh * (1 - h^2)",
                           flops=costs.rnn_cell_backward_flops, bytes=costs.rnn_cell_backward_bytes)
lstm_cell_forward = Kernel("lstm_cell_forward", checks.lstm_cell_forward, cases.lstm_cell_forward,
                           summary="(h, c, gates i f g o) of one LSTM step, fused",
                           flops=costs.lstm_cell_forward_flops, bytes=costs.lstm_cell_forward_bytes)
lstm_cell_backward = Kernel("lstm_cell_backward", checks.lstm_cell_backward, cases.lstm_cell_backward,
                            summary="(d pre-activations, dc_prev) of one LSTM step, fused",
                            flops=costs.lstm_cell_backward_flops, bytes=costs.lstm_cell_backward_bytes)
gru_cell_forward = Kernel("gru_cell_forward", checks.gru_cell_forward, cases.gru_cell_forward,
                          summary="(h, saved r z n hn) of one GRU step, fused",
                          flops=costs.gru_cell_forward_flops, bytes=costs.gru_cell_forward_bytes)
gru_cell_backward = Kernel("gru_cell_backward", checks.gru_cell_backward, cases.gru_cell_backward,
                           summary="(dx_gates, dh_gates, direct dh_prev) of one GRU step, fused",
                           flops=costs.gru_cell_backward_flops, bytes=costs.gru_cell_backward_bytes)
embedding_forward = Kernel("embedding_forward", checks.embedding_forward, cases.embedding_forward,
                           summary="y[...] = weight[indices[...]] (a gather of rows)",
                           flops=costs.embedding_forward_flops, bytes=costs.embedding_forward_bytes)
embedding_backward = Kernel("embedding_backward", checks.embedding_backward, cases.embedding_backward,
                            summary="dweight[indices[...]] += dy[...] (a race-free scatter-add)",
                            flops=costs.embedding_backward_flops, bytes=costs.embedding_backward_bytes)

gradient_sum = Kernel("gradient_sum", checks.gradient_sum, cases.gradient_sum,
                      summary="a + b: where a state feeds two paths, their gradients add",
                      flops=costs.gradient_sum_flops, bytes=costs.gradient_sum_bytes)

ALL = [rnn_cell_forward, rnn_cell_backward, lstm_cell_forward, lstm_cell_backward,
       gru_cell_forward, gru_cell_backward, embedding_forward, embedding_backward, gradient_sum]

wire_chapter(ALL, __package__)   # numpy_kernels, numba_kernels, opencl_kernels, by name
