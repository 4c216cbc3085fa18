"""Sequential: layers applied in order; backward walks them in reverse (the chain rule)."""
from __future__ import annotations

import numpy as np

from ..runtime import to_numpy
from .module import Module


class Sequential(Module):
    """``Sequential(Linear(64, 32), ReLU(), Linear(32, 10), backend="numba")``

    ``backend`` (if given) moves every layer there; otherwise each keeps its own.
    """

    def __init__(self, *layers: Module, backend: str | None = None):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(f"layers[{i}] must be a Module (Linear, ReLU, ...); got {type(layer).__name__}")
        super().__init__(backend if backend is not None else (layers[0].backend if layers else None))
        self.layers = list(layers)
        self.to(self.backend)

    def to(self, backend: str) -> "Sequential":
        super().to(backend)
        for layer in self.layers:
            layer.to(backend)
        return self

    def train(self, mode: bool = True) -> "Sequential":
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def forward(self, x):
        x = self._here(x)  # one upload for the whole model on OpenCL
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @params.setter
    def params(self, value):  # Module.__init__ assigns {}; a Sequential's live in its layers
        pass

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    @grads.setter
    def grads(self, value):
        pass

    def state_dict(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.state_dict().items()}

    def load_state_dict(self, state):
        for key, value in state.items():
            index, _, name = key.partition(".")
            self.layers[int(index)].load_state_dict({name: value})

    def predict(self, x) -> np.ndarray:
        """Class predictions, (N,), on the host."""
        return to_numpy(self.forward(x)).argmax(axis=1)

    def __repr__(self):
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(backend={self.backend!r}\n{inner}\n)"
