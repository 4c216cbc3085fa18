"""CSR (compressed sparse row), the format a pruned weight is multiplied in.

A (M, K) matrix with nnz stored values is three arrays:

    indptr  int32 (M + 1,)   row i's values are positions indptr[i] .. indptr[i+1]-1
    indices int32 (nnz,)     the column of each stored value
    data    float (nnz,)     the stored values

so a row is one contiguous run, and y = A x touches only the stored values: 2 nnz operations
in place of 2 M K, paid for by reading an index with every value and gathering x.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..runtime import to_numpy
from ..runtime.checks import check_array
from . import checks
from . import kernels as K


@dataclass
class CSRMatrix:
    """A sparse (M, K) matrix; ``indptr``, ``indices``, ``data`` as described in the module."""
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    def __post_init__(self):
        self.shape = (int(self.shape[0]), int(self.shape[1]))
        if self.indptr.shape[0] != self.shape[0] + 1:
            raise ValueError(f"indptr must have M + 1 = {self.shape[0] + 1} entries for shape {self.shape}; "
                             f"got {self.indptr.shape[0]}")
        checks.csr_matrix(self.indptr, self.indices, self.data, self.shape[1], "the dense operand")

    @classmethod
    def from_dense(cls, a, threshold: float = 0.0) -> "CSRMatrix":
        """Store the entries of ``a`` with |a[i, j]| > threshold, row by row, columns ascending.

        a: float (M, K)  ->  CSRMatrix of shape (M, K). threshold 0 keeps every nonzero.
        """
        a = to_numpy(a)
        check_array("a", a, ndim=2)
        if not np.isfinite(threshold) or threshold < 0:
            raise ValueError(f"threshold must be a finite number >= 0; got {threshold!r}")
        keep = np.abs(a) > threshold
        rows, cols = np.nonzero(keep)                  # C order: row by row, columns ascending
        indptr = np.zeros(a.shape[0] + 1, np.int32)
        np.cumsum(np.bincount(rows, minlength=a.shape[0]), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), a[rows, cols], a.shape)

    def to_dense(self) -> np.ndarray:
        """(M, K) with the stored values in place and zeros elsewhere (duplicates add up)."""
        out = np.zeros(self.shape, self.data.dtype)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        np.add.at(out, (rows, self.indices), self.data)
        return out

    @property
    def nnz(self) -> int:
        return int(self.data.shape[0])

    @property
    def density(self) -> float:
        """Stored values over all M K entries (1 - sparsity)."""
        return self.nnz / max(self.shape[0] * self.shape[1], 1)

    @property
    def nbytes(self) -> int:
        """Bytes the three arrays take: below a dense float32 matrix only under ~50% density."""
        return self.indptr.nbytes + self.indices.nbytes + self.data.nbytes

    def matvec(self, x, backend=None):
        """A @ x.   x: (K,)  ->  (M,)"""
        self._check_operand("x", x)
        return K.csr_spmv(self.indptr, self.indices, self.data, x, backend=backend)

    def matmul(self, b, backend=None):
        """A @ B.   b: (K, N)  ->  (M, N)"""
        self._check_operand("b", b)
        return K.csr_spmm(self.indptr, self.indices, self.data, b, backend=backend)

    def _check_operand(self, name, x):
        if x.shape[0] != self.shape[1]:
            raise ValueError(f"{name} must have {self.shape[1]} rows, one per column of the "
                             f"{self.shape} sparse matrix; got shape {tuple(x.shape)}")

    def __repr__(self):
        return f"CSRMatrix(shape={self.shape}, nnz={self.nnz}, density={self.density:.3f}, dtype={self.data.dtype})"
