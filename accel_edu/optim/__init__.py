"""Chapter 4, optimizers: fused update kernels, torch-like optimizer classes, learning-rate
schedules and gradient clipping.

>>> from accel_edu.optim import Adam, cosine, clip_grad_norm          # doctest: +SKIP
>>> opt = Adam(model.parameters(), lr=1e-3)                             # doctest: +SKIP
>>> train(model, loss, x, y, optimizer=opt)                             # doctest: +SKIP
"""
from . import kernels
from .clipping import clip_grad_norm
from .optimizer import Optimizer, zeros_like
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from .schedules import cosine, exponential, linear_warmup, step_decay, warmup_then

__all__ = ["kernels", "clip_grad_norm", "Optimizer", "zeros_like", "SGD", "Adagrad", "Adam",
           "AdamW", "RMSprop", "cosine", "exponential", "linear_warmup", "step_decay", "warmup_then"]
