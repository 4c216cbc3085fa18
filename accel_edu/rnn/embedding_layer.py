"""The embedding layer: one row of a table per token, and the scatter-add that is its backward.

Also ``positive_int``, the argument check every layer of the chapter shares.
"""
from __future__ import annotations

import numpy as np

from ..backprop.module import Module
from . import kernels as K


def positive_int(name, value, allow_none=False):
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
        positive_int("num_embeddings", num_embeddings)
        positive_int("dim", dim)
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
