"""Awkward inputs for the cross-backend check of each RNN kernel.

Batch 1, hidden size 1, primes and sizes just past a power of two (so no vector width or
work-group divides them), large pre-activations (the sigmoids and tanh saturate), and
non-contiguous views (every other column of a wider array, or one time step of a sequence).
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case

# (N, H): batch 1, hidden 1, primes, just past a power of two.
CELL_SHAPES = [(1, 1), (1, 7), (5, 1), (3, 13), (17, 33), (64, 129)]


def _rand(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _strided(rng, shape, dtype, scale=1.0):
    """A non-contiguous view with the given shape: every other column of a wider array."""
    return _rand(rng, shape[:-1] + (2 * shape[-1],), dtype, scale)[..., ::2]


def _unit(rng, shape, dtype):
    """Numbers in (0, 1), like a sigmoid's output."""
    return rng.uniform(0.01, 0.99, shape).astype(dtype)


def rnn_cell_forward(rng, dtype):
    for n, h in CELL_SHAPES:
        yield Case(f"N={n} H={h}", (_rand(rng, (n, h), dtype, 2.0), _rand(rng, (n, h), dtype)))
    yield Case("saturated", (_rand(rng, (4, 5), dtype, 50.0), _rand(rng, (4, 5), dtype)))
    yield Case("non-contiguous x_gates", (_strided(rng, (6, 11), dtype), _rand(rng, (6, 11), dtype)))


def rnn_cell_backward(rng, dtype):
    for n, h in CELL_SHAPES:
        yield Case(f"N={n} H={h}", (_rand(rng, (n, h), dtype), np.tanh(_rand(rng, (n, h), dtype))))
    yield Case("non-contiguous dh", (_strided(rng, (6, 11), dtype), np.tanh(_rand(rng, (6, 11), dtype))))


def lstm_cell_forward(rng, dtype):
    for n, h in CELL_SHAPES:
        yield Case(f"N={n} H={h}", (_rand(rng, (n, 4 * h), dtype, 2.0), _rand(rng, (n, 4 * h), dtype),
                                    _rand(rng, (n, h), dtype)))
    yield Case("saturated", (_rand(rng, (3, 20), dtype, 60.0), _rand(rng, (3, 20), dtype),
                             _rand(rng, (3, 5), dtype)))
    seq = _rand(rng, (4, 6, 4 * 7), dtype)     # x_proj of a (T, N, 4H) sequence, step t = 2 ...
    yield Case("one step of a sequence, non-contiguous c_prev",
               (seq[2], _rand(rng, (6, 28), dtype), _strided(rng, (6, 7), dtype)))


def lstm_cell_backward(rng, dtype):
    for n, h in CELL_SHAPES + [(6, 7)]:
        gates = _unit(rng, (n, 4 * h), dtype)
        gates[:, 2 * h:3 * h] = 2 * gates[:, 2 * h:3 * h] - 1     # g = tanh(...) lies in (-1, 1)
        dh = _strided(rng, (n, h), dtype) if (n, h) == (6, 7) else _rand(rng, (n, h), dtype)
        yield Case(f"N={n} H={h}" + (" non-contiguous dh" if (n, h) == (6, 7) else ""),
                   (dh, _rand(rng, (n, h), dtype), gates, _rand(rng, (n, h), dtype),
                    _rand(rng, (n, h), dtype)))


def gru_cell_forward(rng, dtype):
    for n, h in CELL_SHAPES:
        yield Case(f"N={n} H={h}", (_rand(rng, (n, 3 * h), dtype, 2.0), _rand(rng, (n, 3 * h), dtype),
                                    _rand(rng, (3 * h,), dtype), _rand(rng, (n, h), dtype)))
    yield Case("saturated", (_rand(rng, (3, 15), dtype, 60.0), _rand(rng, (3, 15), dtype, 30.0),
                             _rand(rng, (15,), dtype), _rand(rng, (3, 5), dtype)))
    yield Case("non-contiguous h_gates and b_hh",
               (_rand(rng, (5, 21), dtype), _strided(rng, (5, 21), dtype), _rand(rng, (42,), dtype)[::2],
                _rand(rng, (5, 7), dtype)))


def gru_cell_backward(rng, dtype):
    for n, h in CELL_SHAPES + [(6, 7)]:
        saved = _unit(rng, (n, 4 * h), dtype)
        saved[:, 2 * h:3 * h] = 2 * saved[:, 2 * h:3 * h] - 1    # n = tanh(...)
        saved[:, 3 * h:] = _rand(rng, (n, h), dtype)              # hb_n: any real
        dh = _strided(rng, (n, h), dtype) if (n, h) == (6, 7) else _rand(rng, (n, h), dtype)
        yield Case(f"N={n} H={h}" + (" non-contiguous dh" if (n, h) == (6, 7) else ""),
                   (dh, saved, _rand(rng, (n, h), dtype)))


def embedding_forward(rng, dtype):
    for v, d, shape in [(1, 1, (1,)), (5, 3, (7,)), (13, 31, (4, 9)), (50, 129, (3, 2, 5))]:
        yield Case(f"V={v} D={d} indices {shape}", (_rand(rng, (v, d), dtype), rng.integers(0, v, shape)))
    yield Case("int32 indices, non-contiguous weight",
               (_strided(rng, (11, 6), dtype), rng.integers(0, 11, (5, 3)).astype(np.int32)))


def embedding_backward(rng, dtype):
    for v, d, shape in [(1, 1, (1,)), (5, 3, (7,)), (13, 31, (4, 9)), (50, 129, (3, 2, 5))]:
        yield Case(f"V={v} D={d} indices {shape}",
                   (_rand(rng, shape + (d,), dtype), rng.integers(0, v, shape), v))
    yield Case("every index the same (all gradients accumulate in one row)",
               (_rand(rng, (40, 9), dtype), np.full(40, 3), 5))
    yield Case("int32 indices, non-contiguous dy",
               (_strided(rng, (6, 4, 5), dtype), rng.integers(0, 3, (6, 4)).astype(np.int32), 3))


def gradient_sum(rng, dtype):
    for n, h in CELL_SHAPES + [(3, 257)]:
        yield Case(f"({n}, {h})", (_rand(rng, (n, h), dtype), _rand(rng, (n, h), dtype)))
    yield Case("non-contiguous b", (_rand(rng, (4, 9), dtype), _strided(rng, (4, 9), dtype)))
