"""A pruned Linear layer stored and run as CSR: what unstructured sparsity buys at inference.

y = x @ w.T + b with w (D_out, D_in) stored as a CSRMatrix of its nonzeros. The sparse kernel
multiplies a sparse matrix on the left of a dense one, so the layer computes the transpose,
y.T = w @ x.T (D_out, N), with csr_spmm. The transposes of x and y are host copies here
(counted transfers on OpenCL). Whether it is faster than the dense layer depends on the
sparsity: sparsity_bench.py measures where the crossing is on this machine.
"""
from __future__ import annotations

import numpy as np

from ..backprop.layers import Linear
from ..backprop.module import Module
from ..runtime import to_numpy
from .csr import CSRMatrix


class SparseLinear(Module):
    """Inference-only Linear over a CSR weight.    x: (N, D_in) -> y: (N, D_out)"""

    def __init__(self, linear: Linear, backend=None):
        super().__init__(backend or linear.backend)
        w = to_numpy(linear.params["w"])
        self.weight = CSRMatrix.from_dense(w)           # the zeros pruning left are not stored
        self.bias = to_numpy(linear.params["b"]).copy()
        self.d_in, self.d_out = w.shape[1], w.shape[0]
        self.params = {}

    def forward(self, x):
        x_t = np.ascontiguousarray(to_numpy(x).T)                          # (D_in, N)
        y_t = to_numpy(self.weight.matmul(x_t, backend=self.backend))      # (D_out, N)
        return self._here(np.ascontiguousarray(y_t.T) + self.bias)

    def backward(self, dy):
        raise RuntimeError("SparseLinear is for inference; fine-tune the masked dense model instead")

    @property
    def nbytes(self) -> int:
        return self.weight.nbytes + self.bias.nbytes

    def __repr__(self):
        return (f"SparseLinear({self.d_in}, {self.d_out}, density={self.weight.density:.3f}, "
                f"backend={self.backend!r})")


def sparsify(model):
    """A copy of a Sequential with every Linear replaced by a SparseLinear of its weight."""
    import copy

    from ..backprop.sequential import Sequential
    layers = [SparseLinear(layer) if isinstance(layer, Linear) else copy.deepcopy(layer) for layer in model.layers]
    return Sequential(*layers, backend=model.backend).eval()
