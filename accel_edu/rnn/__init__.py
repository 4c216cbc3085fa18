"""Recurrent networks: the vanilla (tanh) RNN, LSTM and GRU cells and an embedding layer.

The kernels (``kernels.py``) are the per-step gate math of each cell, fused into one pass, and
the embedding's gather and scatter-add; the GEMMs around them are the backprop chapter's.
"""
from . import kernels  # noqa: F401  (registers the chapter's kernels)
