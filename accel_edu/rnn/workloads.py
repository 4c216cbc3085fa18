"""Benchmark inputs for the RNN kernels at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`).

    cells          batch N, hidden H: (64, 128), (256, 512), (1024, 1024)
    embedding      V = 10,000 rows of D = 128, 256, 512; indices (N, T) = (32, 32), (64, 128), (256, 256)
    gradient_sum   (N, 1024) arrays of 64 Ki, 1 Mi, 16 Mi elements
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from ..runtime.workloads import pick, rand, rows

VOCABULARY = 10_000


def _cell(size):
    return pick(size, (64, 128), (256, 512), (1024, 1024))


def rnn_cell_forward(rng, dtype, size):
    n, h = _cell(size)
    return Case(f"N={n} H={h}", (rand(rng, (n, h), dtype), rand(rng, (n, h), dtype)))


def rnn_cell_backward(rng, dtype, size):
    n, h = _cell(size)
    return Case(f"N={n} H={h}", (rand(rng, (n, h), dtype), np.tanh(rand(rng, (n, h), dtype))))


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_cell_forward(rng, dtype, size):
    n, h = _cell(size)
    return Case(f"N={n} H={h}", (rand(rng, (n, 4 * h), dtype), rand(rng, (n, 4 * h), dtype),
                                 rand(rng, (n, h), dtype)))


def lstm_cell_backward(rng, dtype, size):
    n, h = _cell(size)
    gates = _sigmoid(rand(rng, (n, 4 * h), dtype)).astype(dtype)
    return Case(f"N={n} H={h}", (rand(rng, (n, h), dtype), rand(rng, (n, h), dtype), gates,
                                 rand(rng, (n, h), dtype), rand(rng, (n, h), dtype)))


def gru_cell_forward(rng, dtype, size):
    n, h = _cell(size)
    return Case(f"N={n} H={h}", (rand(rng, (n, 3 * h), dtype), rand(rng, (n, 3 * h), dtype),
                                 rand(rng, (3 * h,), dtype), rand(rng, (n, h), dtype)))


def gru_cell_backward(rng, dtype, size):
    n, h = _cell(size)
    saved = np.concatenate([_sigmoid(rand(rng, (n, 2 * h), dtype)), np.tanh(rand(rng, (n, h), dtype)),
                            rand(rng, (n, h), dtype)], axis=1).astype(dtype)
    return Case(f"N={n} H={h}", (rand(rng, (n, h), dtype), saved, rand(rng, (n, h), dtype)))


def _embedding(size):
    return pick(size, (128, (32, 32)), (256, (64, 128)), (512, (256, 256)))


def embedding_forward(rng, dtype, size):
    d, shape = _embedding(size)
    return Case(f"V={VOCABULARY} D={d} indices {shape}",
                (rand(rng, (VOCABULARY, d), dtype), rng.integers(0, VOCABULARY, shape)))


def embedding_backward(rng, dtype, size):
    d, shape = _embedding(size)
    return Case(f"V={VOCABULARY} D={d} indices {shape}",
                (rand(rng, shape + (d,), dtype), rng.integers(0, VOCABULARY, shape), VOCABULARY))


def gradient_sum(rng, dtype, size):
    shape = rows(size)
    return Case(f"{shape}", (rand(rng, shape, dtype), rand(rng, shape, dtype)))


WORKLOADS = {
    "rnn_cell_forward": rnn_cell_forward, "rnn_cell_backward": rnn_cell_backward,
    "lstm_cell_forward": lstm_cell_forward, "lstm_cell_backward": lstm_cell_backward,
    "gru_cell_forward": gru_cell_forward, "gru_cell_backward": gru_cell_backward,
    "embedding_forward": embedding_forward, "embedding_backward": embedding_backward,
    "gradient_sum": gradient_sum,
}
