"""What every optimizer shares: its parameters, its state kept beside them, and ``step()``.

``parameters`` are the (module, name) pairs of ``model.parameters()``: the optimizer updates
``module.params[name]`` in place from ``module.grads[name]``. State (momentum buffers, running
averages) is created on the first step, where the parameter lives: a NumPy array for the
``numpy`` and ``numba`` backends, a DeviceArray on ``opencl``, filled with zeros on the device
itself, so a step moves no byte between host and device.
"""
from __future__ import annotations

import numpy as np

from ..runtime import DeviceArray, to_device, to_numpy
from . import checks


def device_zeros(shape, dtype):
    """A DeviceArray of zeros, filled by the device itself (nothing is uploaded)."""
    from ..runtime.opencl import _cl, empty, queue
    out = empty(shape, dtype)
    if out.nbytes:
        _cl().enqueue_fill_buffer(queue(), out.buffer, np.zeros(1, out.dtype), 0, out.nbytes)
    return out


def zeros_like(param):
    """Zeros with param's shape and dtype, where param lives (no host-to-device copy)."""
    if isinstance(param, DeviceArray):
        return device_zeros(param.shape, param.dtype)
    return np.zeros(param.shape, param.dtype)


class Optimizer:
    """Base class. A subclass names its state buffers in ``STATE`` and defines
    ``_update(param, grad, state, backend)``, one fused kernel call per parameter."""

    STATE: tuple[str, ...] = ()

    def __init__(self, parameters, lr: float):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("parameters must name at least one (module, name) pair, as "
                             "model.parameters() returns; got an empty list")
        for p in self.parameters:
            if not (isinstance(p, tuple) and len(p) == 2 and hasattr(p[0], "params") and p[1] in p[0].params):
                raise ValueError(f"parameters must be (module, name) pairs from model.parameters(); got {p!r}")
        checks.positive("lr", lr)
        self.lr = float(lr)
        self.steps = 0          # t: updates made so far (Adam's bias correction counts them)
        self.state: dict[tuple[int, str], dict] = {}

    def _state_for(self, module, name: str, param) -> dict:
        """This parameter's buffers, created (as zeros) on first use and moved along if the
        module has moved to another backend since (``module.to``, counted copies)."""
        state = self.state.get((id(module), name))
        if state is None:
            state = self.state[(id(module), name)] = {k: zeros_like(param) for k in self.STATE}
        on_device = isinstance(param, DeviceArray)
        for k, buf in state.items():
            if isinstance(buf, DeviceArray) != on_device:
                state[k] = to_device(buf) if on_device else to_numpy(buf)
        return state

    def step(self) -> None:
        """One update of every parameter from its current gradient (call after backward)."""
        self.steps += 1
        for module, name in self.parameters:
            if name not in module.grads:
                raise RuntimeError(f"no gradient for {type(module).__name__}.{name}: "
                                   "call backward() before step()")
            param = module.params[name]
            self._update(param, module.grads[name], self._state_for(module, name, param), module.backend)

    def _update(self, param, grad, state: dict, backend: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, {len(self.parameters)} parameters, steps={self.steps})"
