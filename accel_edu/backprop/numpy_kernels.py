"""The reference kernels of the backprop chapter: short, vectorised, obviously right.

Every other backend is checked against these. Shapes use N for the batch, D_in/D_out for
features and C for classes. A Linear layer stores its weight as (D_out, D_in), as PyTorch
does, so ``y = x @ w.T + b``.
"""
from __future__ import annotations

import numpy as np


def gemm(a, b, trans_a=False, trans_b=False):
    """C = op(A) @ op(B), op(X) = X.T when its flag is set.

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)
    """
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    return a @ b


def linear_forward(x, w, b):
    """y = x @ w.T + b.    x: (N, D_in), w: (D_out, D_in), b: (D_out,)  ->  y: (N, D_out)"""
    return x @ w.T + b


def linear_backward(dy, x, w):
    """Gradients of a Linear layer.

    dy: (N, D_out), x: (N, D_in), w: (D_out, D_in)
    ->  dx = dy @ w: (N, D_in),  dw = dy.T @ x: (D_out, D_in),  db = sum_n dy: (D_out,)
    """
    return dy @ w, dy.T @ x, dy.sum(axis=0)


def bias_grad(dy):
    """db = sum over the batch of dy.    dy: (N, D)  ->  (D,)"""
    return dy.sum(axis=0)


def relu_forward(x):
    """max(x, 0), elementwise.    x: any shape -> same shape"""
    return np.maximum(x, 0)


def relu_backward(dy, x):
    """dx = dy where x > 0, else 0 (the subgradient at 0 is taken as 0)."""
    return np.where(x > 0, dy, 0).astype(dy.dtype)


def sigmoid_forward(x):
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def sigmoid_backward(dy, y):
    """dx = dy * y * (1 - y), from the forward output y."""
    return dy * y * (1 - y)


def tanh_forward(x):
    return np.tanh(x)


def tanh_backward(dy, y):
    """dx = dy * (1 - y**2), from the forward output y."""
    return dy * (1 - y * y)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient, fused.

    logits: (N, C) float, labels: (N,) int in [0, C)  ->  loss: 0-d array, dlogits: (N, C)

    Stable for any magnitude: subtracting the row maximum makes every exponent <= 0, and
    log-sum-exp is formed from those, so logits of 1e4 give a finite loss and gradient.
    dlogits = (softmax(logits) - onehot(labels)) / N.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_sum_exp
    rows = np.arange(n)
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    return np.asarray(loss, dtype=logits.dtype), (dlogits / n).astype(logits.dtype)


def mse(pred, target):
    """Mean squared error over every element, and its gradient.

    pred, target: same shape  ->  loss: 0-d array, dpred = 2 (pred - target) / pred.size
    """
    diff = pred - target
    return np.asarray((diff * diff).mean(), dtype=pred.dtype), (2 * diff / diff.size).astype(pred.dtype)


def sgd_update(param, grad, lr):
    """param -= lr * grad, in place.    param, grad: same shape;  returns param."""
    param -= np.asarray(lr, dtype=param.dtype) * grad
    return param
