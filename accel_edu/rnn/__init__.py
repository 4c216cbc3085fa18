"""Recurrent networks: the vanilla (tanh) RNN, LSTM and GRU and an embedding layer.

The kernels (``kernels.py``) are the per-step gate math of each cell, fused into one pass, and
the embedding's gather and scatter-add; the GEMMs around them are the backprop chapter's.
The layers (``layers.py``) run a cell over a time-major (T, N, D) sequence and backpropagate
through time, optionally truncated (``bptt=k``).

>>> from accel_edu.rnn import LSTM
>>> lstm = LSTM(40, 128, backend="numba")        # doctest: +SKIP
>>> y = lstm(x)                                  # x: (T, N, 40) -> y: (T, N, 128)   # doctest: +SKIP
"""
from . import kernels
from .layers import GRU, LSTM, RNN, Embedding

__all__ = ["kernels", "Embedding", "RNN", "LSTM", "GRU"]
