"""The argument check of each backprop kernel, shared by all three backends."""
from __future__ import annotations

from ..runtime.checks import (check_array, check_labels, check_positive, check_same_dtype,
                              check_same_shape)


def gemm(a, b, trans_a=False, trans_b=False):
    check_array("a", a, ndim=2)
    check_array("b", b, ndim=2)
    check_same_dtype(a=a, b=b)
    m, k = a.shape[::-1] if trans_a else a.shape
    k2, n = b.shape[::-1] if trans_b else b.shape
    if k != k2:
        raise ValueError(
            f"b must have {k} {'columns' if trans_b else 'rows'} to match op(a) of shape ({m}, {k}); "
            f"got b of shape {tuple(b.shape)} (trans_a={trans_a}, trans_b={trans_b})")


def linear_forward(x, w, b):
    check_array("x", x, ndim=2)
    check_array("w", w, ndim=2)
    check_array("b", b, ndim=1)
    check_same_dtype(x=x, w=w, b=b)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w must have shape (D_out, {x.shape[1]}) to match x of shape "
                         f"{tuple(x.shape)}; got {tuple(w.shape)}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), one bias per output; got {tuple(b.shape)}")


def linear_backward(dy, x, w):
    check_array("dy", dy, ndim=2)
    check_array("x", x, ndim=2)
    check_array("w", w, ndim=2)
    check_same_dtype(dy=dy, x=x, w=w)
    n, d_in = x.shape
    d_out = w.shape[0]
    if w.shape[1] != d_in:
        raise ValueError(f"w must have shape (D_out, {d_in}) to match x; got {tuple(w.shape)}")
    if tuple(dy.shape) != (n, d_out):
        raise ValueError(f"dy must have shape ({n}, {d_out}), like the layer's output; got {tuple(dy.shape)}")


def bias_grad(dy):
    check_array("dy", dy, ndim=2)


def unary(x):
    check_array("x", x)


def unary_backward_from_input(dy, x):
    check_array("dy", dy)
    check_array("x", x)
    check_same_dtype(dy=dy, x=x)
    check_same_shape(dy=dy, x=x)


def unary_backward_from_output(dy, y):
    check_array("dy", dy)
    check_array("y", y)
    check_same_dtype(dy=dy, y=y)
    check_same_shape(dy=dy, y=y)


def softmax_cross_entropy(logits, labels):
    check_array("logits", logits, ndim=2)
    check_labels("labels", labels, logits.shape[0], logits.shape[1])


def mse(pred, target):
    check_array("pred", pred)
    check_array("target", target)
    check_same_dtype(pred=pred, target=target)
    check_same_shape(pred=pred, target=target)


def sgd_update(param, grad, lr):
    check_array("param", param, writeable=True)
    check_array("grad", grad)
    check_same_dtype(param=param, grad=grad)
    check_same_shape(param=param, grad=grad)
    check_positive("lr", lr)
