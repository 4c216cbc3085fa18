"""Benchmark inputs for attention at "small", "medium" or "large" (see
:mod:`accel_edu.runtime.workloads`): q, k, v of shape (B, T, d) with B = 4 batch-heads,
head dim d = 64, not causal, and T = 128, 512, 1024 (about 17, 270 and 1,100 MFLOP forward).
The backward's out and logsumexp come from the NumPy forward on the same q, k, v.
"""
from __future__ import annotations

from ..runtime import Case
from ..runtime.workloads import pick, rand
from . import numpy_kernels as ref

BATCH_HEADS, HEAD_DIM = 4, 64


def _qkv(rng, dtype, size):
    t = pick(size, 128, 512, 1024)
    return t, [rand(rng, (BATCH_HEADS, t, HEAD_DIM), dtype) for _ in range(3)]


def attention_forward(rng, dtype, size):
    t, (q, k, v) = _qkv(rng, dtype, size)
    return Case(f"B={BATCH_HEADS} T={t} d={HEAD_DIM}", (q, k, v))


def attention_backward(rng, dtype, size):
    t, (q, k, v) = _qkv(rng, dtype, size)
    out, lse = ref.attention_forward(q, k, v)
    return Case(f"B={BATCH_HEADS} T={t} d={HEAD_DIM}", (rand(rng, out.shape, dtype), q, k, v, out, lse))


WORKLOADS = {"attention_forward": attention_forward, "attention_backward": attention_backward}
