"""Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.

    norm = sqrt(sum over every gradient g of sum(g * g))
    if norm > max_norm:  every g *= max_norm / (norm + 1e-6)

One norm over all the gradients together, so clipping shrinks the whole update and keeps its
direction (clipping each tensor alone would turn it). Two kernels: ``sum_of_squares`` over all
the gradients of one backend at once, and ``scale_inplace`` per gradient.
"""
from __future__ import annotations

import math

from ..runtime import to_numpy
from . import checks
from . import kernels as K


def clip_grad_norm(parameters, max_norm: float, eps: float = 1e-6) -> float:
    """Scale the gradients of ``parameters`` ((module, name) pairs) in place so that their
    global norm is at most ``max_norm``; return the norm before clipping.

    On OpenCL the sum of squares stays on the device and one number (the total) is
    downloaded per call, so the host can decide whether to scale. torch returns the norm as a
    tensor and scales unconditionally by min(1, max_norm / (norm + eps)); the result is the same.
    """
    checks.positive("max_norm", max_norm)
    by_backend: dict[str, list] = {}
    for module, name in parameters:
        if name not in module.grads:
            raise RuntimeError(f"no gradient for {type(module).__name__}.{name}: call backward() first")
        by_backend.setdefault(module.backend, []).append(module.grads[name])
    if not by_backend:
        raise ValueError("parameters must name at least one (module, name) pair; got none")
    total = sum(float(to_numpy(K.sum_of_squares(*grads, backend=backend)))
                for backend, grads in by_backend.items())
    norm = math.sqrt(total)
    if norm > max_norm:
        factor = max_norm / (norm + eps)
        for backend, grads in by_backend.items():
            for g in grads:
                K.scale_inplace(g, factor, backend=backend)
    return norm
