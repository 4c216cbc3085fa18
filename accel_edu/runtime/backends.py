"""Which backend runs a kernel.

The choice is made in this order, first match wins:

1. an explicit ``backend=`` argument to the kernel or layer;
2. the innermost ``with accel_edu.use("numba"):`` block;
3. the ``ACCEL_EDU_BACKEND`` environment variable;
4. ``"numpy"``, the reference.
"""
from __future__ import annotations

import contextlib
import contextvars
import os

BACKENDS = ("numpy", "numba", "opencl")

_selected: contextvars.ContextVar[str | None] = contextvars.ContextVar("accel_edu_backend", default=None)


def check_backend_name(name: object, argument: str = "backend") -> str:
    """Return ``name`` if it names a backend, else raise a ValueError that lists them."""
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise ValueError(f"{argument} must be one of {', '.join(BACKENDS)}; got {name!r}")
    return name.lower()


def current_backend() -> str:
    """The backend a kernel called without ``backend=`` runs on, here and now."""
    chosen = _selected.get()
    if chosen is not None:
        return chosen
    env = os.environ.get("ACCEL_EDU_BACKEND")
    if env:
        return check_backend_name(env.strip(), argument="ACCEL_EDU_BACKEND")
    return "numpy"


def resolve_backend(backend: str | None = None) -> str:
    """``backend`` if given, else :func:`current_backend`."""
    return current_backend() if backend is None else check_backend_name(backend)


@contextlib.contextmanager
def use(backend: str):
    """Run every kernel inside the ``with`` block on ``backend``.

    >>> with use("numba"):
    ...     y = model.forward(x)        # doctest: +SKIP
    """
    token = _selected.set(check_backend_name(backend))
    try:
        yield backend
    finally:
        _selected.reset(token)
