"""Awkward inputs for the cross-backend check of each attention kernel.

batch * heads 1, a sequence of length 1, prime lengths (no key block divides them), query
length != key length (non-causal only), head dim 1 and odd, value dim != head dim, lengths
just past the tiled kernels' key block, non-contiguous views, causal and not.
"""
from __future__ import annotations

import numpy as np

from ..runtime import Case
from . import numpy_kernels

# (B, Tq, Tk, d, e): B = batch * heads.
SHAPES = [(1, 1, 1, 1, 1), (1, 1, 7, 3, 3), (2, 5, 5, 1, 1), (3, 7, 13, 5, 5), (1, 13, 13, 8, 8),
          (2, 17, 4, 3, 6), (2, 37, 37, 16, 16), (1, 70, 70, 9, 7)]


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _strided(rng, shape, dtype):
    """A non-contiguous view with the given shape: every other entry of the last axis."""
    return _rand(rng, shape[:-1] + (2 * shape[-1],), dtype)[..., ::2]


def _inputs(rng, dtype):
    """(label, q, k, v, causal) for every shape, causal where Tq == Tk, and strided views."""
    for b, tq, tk, d, e in SHAPES:
        q, k, v = _rand(rng, (b, tq, d), dtype), _rand(rng, (b, tk, d), dtype), _rand(rng, (b, tk, e), dtype)
        yield f"B={b} Tq={tq} Tk={tk} d={d} e={e}", q, k, v, False
        if tq == tk:
            yield f"B={b} T={tq} d={d} e={e} causal", q, k, v, True
    yield ("non-contiguous q, k, v", _strided(rng, (2, 6, 5), dtype), _strided(rng, (2, 11, 5), dtype),
           _strided(rng, (2, 11, 4), dtype), False)
    yield ("non-contiguous q, k, v causal", _strided(rng, (3, 9, 4), dtype),
           _strided(rng, (3, 9, 4), dtype), _rand(rng, (3, 4, 9), dtype).transpose(0, 2, 1), True)
    # Large scores: a softmax without the max subtracted would overflow exp here.
    yield ("scores near 100 (stability)", 10 * _rand(rng, (1, 6, 4), dtype),
           10 * _rand(rng, (1, 9, 4), dtype), _rand(rng, (1, 9, 3), dtype), False)


def attention_forward(rng, dtype):
    for label, q, k, v, causal in _inputs(rng, dtype):
        yield Case(label, (q, k, v), dict(causal=causal))
    q, k, v = _rand(rng, (2, 5, 3), dtype), _rand(rng, (2, 8, 3), dtype), _rand(rng, (2, 8, 3), dtype)
    yield Case("explicit scale 0.25", (q, k, v), dict(scale=0.25))


def attention_backward(rng, dtype):
    for label, q, k, v, causal in _inputs(rng, dtype):
        out, lse = numpy_kernels.attention_forward(q, k, v, causal=causal)
        dout = _rand(rng, out.shape, dtype)
        yield Case(label, (dout, q, k, v, out, lse, causal))
    q, k, v = _rand(rng, (2, 5, 3), dtype), _rand(rng, (2, 8, 3), dtype), _rand(rng, (2, 8, 3), dtype)
    out, lse = numpy_kernels.attention_forward(q, k, v, scale=0.25)
    yield Case("explicit scale 0.25", (_rand(rng, out.shape, dtype), q, k, v, out, lse, False, 0.25))
