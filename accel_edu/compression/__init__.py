"""Chapter 7, model compression: int8 quantization, pruning and sparse kernels, distillation.

>>> from accel_edu.compression import quantize_model, prepare_qat, magnitude_masks, DistillationLoss  # doctest: +SKIP

kernels.py       the registered kernels (quantize, dequantize, fake quantization, int8 GEMM, CSR)
quantize.py      choosing scale and zero point (symmetric / asymmetric, per tensor / channel)
ptq.py           post-training quantization of a trained MLP or CNN onto the int8 GEMM
layers.py        quantization-aware training: QATLinear, QATConv2d (straight-through estimator)
prune.py         magnitude pruning, unstructured and by channel, masks kept while fine-tuning
csr.py           the CSR format
sparse_linear.py a pruned Linear run as CSR (SparseLinear, sparsify)
distill.py       knowledge distillation: the loss and a student's training loop
compare.py       accuracy against sparsity; size, accuracy and speed of every version in one table
int8_bench.py, sparsity_bench.py   the chapter's side-by-side timings
"""
from . import kernels
from .csr import CSRMatrix
from .distill import DistillationLoss, train_student
from .layers import QATConv2d, QATLinear, RangeObserver, prepare_qat
from .prune import (MaskedOptimizer, apply_masks, channel_masks, magnitude_masks, prunable,
                    sparsity_report)
from .ptq import QuantizedConv2d, QuantizedLinear, calibrate_ranges, model_nbytes, quantize_model
from .quantize import (QParams, asymmetric_qparams, dequantize, quantization_error, quantize,
                       symmetric_qparams)
from .sparse_linear import SparseLinear, sparsify

__all__ = ["kernels", "CSRMatrix", "DistillationLoss", "train_student", "QATConv2d", "QATLinear",
           "RangeObserver", "prepare_qat", "MaskedOptimizer", "apply_masks", "channel_masks",
           "magnitude_masks", "prunable", "sparsity_report", "SparseLinear", "sparsify",
           "QuantizedConv2d", "QuantizedLinear", "calibrate_ranges", "model_nbytes", "quantize_model", "QParams", "asymmetric_qparams", "dequantize",
           "quantization_error", "quantize", "symmetric_qparams"]
