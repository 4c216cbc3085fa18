"""FLOPs and compulsory bytes of one call of each backprop kernel, from its arguments.

The convention is the registry's (``Kernel.flops`` / ``Kernel.bytes``): add, multiply, divide,
a selecting comparison, exp, log, tanh each 1; a multiply-add 2; negation, abs, copies 0.
Bytes: every array argument read once, every output written once, in-place twice.
Shapes follow ``numpy_kernels.py``.
"""
from __future__ import annotations

import numpy as np

from ..runtime.costs import elements, nbytes, read_write, shape_bytes


def _gemm_mnk(a, b, trans_a=False, trans_b=False):
    m, k = a.shape[::-1] if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    return m, n, k


def gemm_flops(a, b, trans_a=False, trans_b=False):
    """2 M N K: one multiply and one add per (row, column, inner index)."""
    m, n, k = _gemm_mnk(a, b, trans_a, trans_b)
    return 2.0 * m * n * k


def gemm_bytes(a, b, trans_a=False, trans_b=False):
    """Read A (M K) and B (K N) once, write C (M N)."""
    m, n, _ = _gemm_mnk(a, b, trans_a, trans_b)
    return nbytes(a, b) + shape_bytes((m, n), np.result_type(a.dtype, b.dtype))


def linear_forward_flops(x, w, b):
    """x (N, D_in) @ w.T: 2 N D_out D_in, plus N D_out bias adds."""
    n, d_in = x.shape
    return 2.0 * n * w.shape[0] * d_in + n * w.shape[0]


def linear_forward_bytes(x, w, b):
    """Read x, w, b; write y (N, D_out)."""
    return nbytes(x, w, b) + shape_bytes((x.shape[0], w.shape[0]), x.dtype)


def linear_backward_flops(dy, x, w):
    """dx = dy @ w and dw = dy.T @ x: 2 N D_out D_in each; db: N D_out adds."""
    n, d_out = dy.shape
    return 4.0 * n * d_out * x.shape[1] + n * d_out


def linear_backward_bytes(dy, x, w):
    """Read dy, x, w; write dx (like x), dw (like w), db (D_out,)."""
    return 2 * nbytes(x, w) + nbytes(dy) + shape_bytes((dy.shape[1],), dy.dtype)


def bias_grad_flops(dy):
    """One add per element of dy (N, D)."""
    return float(elements(dy))


def bias_grad_bytes(dy):
    """Read dy (N, D); write db (D,)."""
    return nbytes(dy) + shape_bytes((dy.shape[1],), dy.dtype)


def _per_element(flops_per_element, name, what):
    """FLOPs of an elementwise kernel: ``flops_per_element`` per element of its first argument."""
    def flops(x, *rest):
        return float(flops_per_element * elements(x))
    flops.__name__ = flops.__qualname__ = name
    flops.__doc__ = f"{what}: {flops_per_element} FLOP(s) per element."
    return flops


def unary_bytes(x):
    """Read x, write y of the same shape."""
    return 2 * nbytes(x)


def unary_backward_bytes(dy, saved):
    """Read dy and the saved x or y, write dx like dy."""
    return 2 * nbytes(dy) + nbytes(saved)


relu_forward_flops = _per_element(1, "relu_forward_flops", "max(x, 0), one selecting comparison")
relu_backward_flops = _per_element(1, "relu_backward_flops", "dy where x > 0, one selecting comparison")
sigmoid_forward_flops = _per_element(3, "sigmoid_forward_flops", "1 / (1 + exp(-x)): exp, add, divide")
sigmoid_backward_flops = _per_element(3, "sigmoid_backward_flops",
                                      "dy * y * (1 - y): two multiplies, a subtract")
tanh_forward_flops = _per_element(1, "tanh_forward_flops", "tanh(x)")
tanh_backward_flops = _per_element(3, "tanh_backward_flops", "dy * (1 - y * y): two multiplies, a subtract")


def softmax_cross_entropy_flops(logits, labels):
    """Per element of logits (N, C): the row max (1), subtract it (1), exp (1), sum (1), and
    the gradient's scale by 1 / (sum N) (1): 5 N C; per row, the log and the label's term: 3 N."""
    n, c = logits.shape
    return 5.0 * n * c + 3.0 * n


def softmax_cross_entropy_bytes(logits, labels):
    """Read logits and labels; write the scalar loss and dlogits (N, C)."""
    return 2 * nbytes(logits) + nbytes(labels) + np.dtype(logits.dtype).itemsize


def mse_flops(pred, target):
    """Per element: the difference (1), its square added to the sum (2), the gradient's
    2 / size scale (1)."""
    return 4.0 * elements(pred)


def mse_bytes(pred, target):
    """Read pred and target; write the scalar loss and dpred (like pred)."""
    return 2 * nbytes(pred) + nbytes(target) + np.dtype(pred.dtype).itemsize


def sgd_update_flops(param, grad, lr):
    """param -= lr * grad: a multiply and a subtract per element."""
    return 2.0 * elements(param)


def sgd_update_bytes(param, grad, lr):
    """param read and written in place, grad read."""
    return read_write(param) + nbytes(grad)
