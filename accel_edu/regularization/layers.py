"""Dropout and batch normalization as layers that compose with ``backprop.Sequential``.

Both act differently in training and evaluation mode (``model.train()`` / ``model.eval()``,
which ``backprop.train`` switches for you): dropout drops units only while training; batch
norm normalises by the batch's statistics while training (and updates its running ones), and
by the running statistics at evaluation. Parameters, running statistics and masks live on the
module's backend, so on OpenCL a training step copies nothing to or from the host.
"""
from __future__ import annotations

import numpy as np

from ..backprop.module import Module
from ..runtime import to_numpy
from . import checks
from . import kernels as K


class Dropout(Module):
    """Inverted dropout.    x: any shape -> y: same shape

    Training: each unit is kept with probability 1 - p and scaled by 1 / (1 - p); dropped units
    pass no gradient. Evaluation: the identity (the scaling already made E[y] = x).
    The mask of training step t is the Philox stream of ``seed`` from counter offset t * 2^32,
    so a seed gives the same masks, step after step, on NumPy, Numba and OpenCL.
    """

    def __init__(self, p: float = 0.5, *, seed: int = 0, backend=None):
        super().__init__(backend)
        checks.dropout_p(p)
        checks.seed_and_offset(seed, 0, 1)
        self.p, self.seed = float(p), int(seed)
        self.step = 0      # training steps so far: picks the next mask's counter offset
        self.mask = None

    def forward(self, x):
        if not self.training or self.p == 0:
            self.mask = None
            return x
        y, self.mask = K.dropout_forward(x, self.p, self.seed, self.step << 32, backend=self.backend)
        self.step += 1
        return y

    def backward(self, dy):
        # dx = mask * dy / (1 - p): the forward's own mask, so a dropped unit gets no gradient.
        if self.mask is None:
            return dy
        return K.dropout_backward(dy, self.mask, self.p, backend=self.backend)

    def __repr__(self):
        return f"Dropout(p={self.p}, seed={self.seed})"


class _BatchNorm(Module):
    """Batch normalization over the batch (and, for images, over H and W) of each channel.

    Parameters gamma (ones) and beta (zeros), (C,); running_mean (zeros) and running_var
    (ones), (C,), updated with PyTorch's convention (momentum 0.1, unbiased variance).
    """

    input_ndim = 2
    shape_words = "(N, F)"

    def __init__(self, channels: int, *, eps: float = 1e-5, momentum: float = 0.1,
                 dtype=np.float32, backend=None):
        super().__init__(backend)
        if not isinstance(channels, (int, np.integer)) or isinstance(channels, bool) or channels < 1:
            raise ValueError(f"channels must be a positive integer; got {channels!r}")
        checks.check_eps(eps)
        checks.check_momentum(momentum)
        self.channels, self.eps, self.momentum = int(channels), float(eps), float(momentum)
        self.params = {"gamma": self._here(np.ones(channels, dtype)),
                       "beta": self._here(np.zeros(channels, dtype))}
        self.buffers = {"running_mean": self._here(np.zeros(channels, dtype)),
                        "running_var": self._here(np.ones(channels, dtype))}
        self.cache = None

    # Running statistics are state but not parameters: no gradient, no optimizer step.
    def to(self, backend: str) -> "_BatchNorm":
        super().to(backend)
        if hasattr(self, "buffers"):
            self.buffers = {k: self._here(v) for k, v in self.buffers.items()}
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        state = super().state_dict()
        state.update({name: to_numpy(b).copy() for name, b in self.buffers.items()})
        return state

    def load_state_dict(self, state) -> None:
        params = {k: v for k, v in state.items() if k not in self.buffers}
        super().load_state_dict(params)
        for name in set(state) & set(self.buffers):
            old = self.buffers[name]
            if tuple(np.shape(state[name])) != tuple(old.shape):
                raise ValueError(f"{name} must have shape {tuple(old.shape)}; got {tuple(np.shape(state[name]))}")
            self.buffers[name] = self._here(np.asarray(state[name], dtype=old.dtype))

    def _check_input(self, x) -> None:
        if x.ndim != self.input_ndim or x.shape[1] != self.channels:
            raise ValueError(f"x must have shape {self.shape_words} with {self.channels} channels for "
                             f"{type(self).__name__}({self.channels}); got {tuple(x.shape)}")

    def _buffers_like(self, dtype) -> None:
        """Keep the running statistics in the input's dtype (a float64 gradient check)."""
        for name, b in self.buffers.items():
            if b.dtype != dtype:
                self.buffers[name] = self._here(to_numpy(b).astype(dtype))

    def forward(self, x):
        self._check_input(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        self._buffers_like(x.dtype)
        mean_run, var_run = self.buffers["running_mean"], self.buffers["running_var"]
        if not self.training:
            self.cache = None
            return K.batchnorm_normalize(x, mean_run, var_run, gamma, beta, self.eps, backend=self.backend)
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"x must hold more than one value per channel in training mode (the "
                             f"batch variance of one value is 0 and its unbiased estimate 0/0); got "
                             f"x of shape {tuple(x.shape)}. Use a batch of 2 or more, or call eval()")
        y, mean, var = K.batchnorm_forward(x, gamma, beta, self.eps, backend=self.backend)
        K.batchnorm_running_update(mean_run, var_run, mean, var, self.momentum, count,
                                   backend=self.backend)
        self.cache = (x, mean, var)
        return y

    def backward(self, dy):
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward needs a training-mode forward "
                               "first (call train(), then forward)")
        x, mean, var = self.cache
        dx, dgamma, dbeta = K.batchnorm_backward(dy, x, mean, var, self.params["gamma"], self.eps,
                                                 backend=self.backend)
        self.grads = {"gamma": dgamma, "beta": dbeta}
        return dx

    def __repr__(self):
        return f"{type(self).__name__}({self.channels}, eps={self.eps}, momentum={self.momentum})"


class BatchNorm1d(_BatchNorm):
    """Batch norm of features.    x: (N, F) -> y: (N, F); statistics over the batch, per feature."""
    input_ndim = 2
    shape_words = "(N, F)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of images.    x: (N, C, H, W) -> same; statistics over N, H, W, per channel."""
    input_ndim = 4
    shape_words = "(N, C, H, W)"
