"""Chapter 7, model compression: int8 quantization, pruning and sparse kernels, distillation."""
from . import kernels
from .csr import CSRMatrix

__all__ = ["kernels", "CSRMatrix"]
