"""What every layer shares: named parameters and gradients, and the backend they live on.

A module's parameters live where its backend computes: NumPy arrays for ``numpy`` and
``numba``, :class:`~accel_edu.runtime.DeviceArray` for ``opencl``. :meth:`Module.to` moves
them (the copies are counted), so a model trained on OpenCL never copies a weight to the
host until someone asks for it.
"""
from __future__ import annotations

import numpy as np

from ..runtime import resolve_backend, to_device, to_numpy


class Module:
    """Base class. Subclasses define ``forward(x)`` and ``backward(dy)``."""

    training = True
    """Training mode (the default) or evaluation mode: Dropout and batch norm act differently."""

    def __init__(self, backend: str | None = None):
        self.backend = resolve_backend(backend)
        self.params: dict[str, object] = {}
        self.grads: dict[str, object] = {}

    # -- where the data lives -------------------------------------------------------------
    def to(self, backend: str) -> "Module":
        """Move parameters to ``backend`` (uploads or downloads, counted) and compute there."""
        self.backend = resolve_backend(backend)
        self.params = {k: self._here(v) for k, v in self.params.items()}
        self.grads = {}
        return self

    def _here(self, x):
        """``x`` where this module's backend wants it: a DeviceArray on OpenCL, else NumPy."""
        if x is None:
            return None
        return to_device(x) if self.backend == "opencl" else to_numpy(x)

    # -- mode ---------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode: Dropout drops units, batch norm normalises by the batch's statistics."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: Dropout is the identity, batch norm uses its running statistics."""
        return self.train(False)

    # -- parameters -----------------------------------------------------------------------
    def parameters(self) -> list[tuple["Module", str]]:
        """(module, name) pairs: an optimizer updates ``module.params[name]`` in place."""
        return [(self, name) for name in self.params]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Host copies of every parameter, by name."""
        return {name: to_numpy(p).copy() for name, p in self.params.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name, value in state.items():
            if name not in self.params:
                raise ValueError(f"state has parameter {name!r}, which {type(self).__name__} does not")
            old = self.params[name]
            if tuple(np.shape(value)) != tuple(old.shape):
                raise ValueError(f"parameter {name!r} must have shape {tuple(old.shape)}; "
                                 f"got {tuple(np.shape(value))}")
            self.params[name] = self._here(np.asarray(value, dtype=old.dtype))

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dy):  # pragma: no cover - abstract
        raise NotImplementedError
