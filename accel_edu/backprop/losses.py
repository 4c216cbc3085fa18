"""Losses: ``forward`` returns the scalar loss and keeps the gradient that ``backward`` returns.

Both losses come from fused kernels that compute the loss and its gradient in one pass, the
way fast libraries do: the softmax probabilities are needed for both, so computing them twice
would double the memory traffic.
"""
from __future__ import annotations

from . import kernels as K
from .module import Module


class SoftmaxCrossEntropy(Module):
    """Mean cross-entropy of softmax(logits) against integer labels.

    logits: (N, C), labels: (N,) ints in [0, C)  ->  loss: 0-d;  backward() -> dlogits: (N, C)
    """

    def forward(self, logits, labels):
        loss, self.dlogits = K.softmax_cross_entropy(logits, labels, backend=self.backend)
        return loss

    def backward(self, dy=None):
        return self.dlogits

    def __call__(self, logits, labels):
        return self.forward(logits, labels)


class MSELoss(Module):
    """Mean of (pred - target)^2 over every element.  backward() -> 2 (pred - target) / size."""

    def forward(self, pred, target):
        loss, self.dpred = K.mse(pred, target, backend=self.backend)
        return loss

    def backward(self, dy=None):
        return self.dpred

    def __call__(self, pred, target):
        return self.forward(pred, target)
