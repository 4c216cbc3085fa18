"""The kernel registry: one name, one shared argument check, one implementation per backend.

A :class:`Kernel` is called like a function. It runs its argument check (the same for every
backend, so every backend rejects bad input with the same message), moves array arguments to
where the chosen backend wants them, and calls that backend's implementation::

    gemm = Kernel("gemm", check=check_gemm, cases=gemm_cases)
    gemm.implement("numpy", gemm_numpy)                     # the reference
    gemm.implement("numba", gemm_naive, variant="naive")
    gemm.implement("numba", gemm_parallel, variant="parallel", default=True)

    c = gemm(a, b, backend="numba")                         # the default variant
    c = gemm(a, b, backend="numba", variant="naive")

``tests/test_registry.py`` walks :data:`REGISTRY`: every kernel must have all three backends,
and every variant must agree with the NumPy reference on the kernel's own ``cases``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from .backends import BACKENDS, resolve_backend

REGISTRY: dict[str, "Kernel"] = {}


@dataclass
class Case:
    """One input for the cross-backend check: a label for failure messages, args, kwargs."""
    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass
class Kernel:
    name: str
    check: Callable[..., None]
    """Raises ValueError naming the bad argument; shared by every backend."""
    cases: Callable[[np.random.Generator, np.dtype], Iterable[Case]] | None = None
    """Awkward inputs (sizes 1, primes, batch 1, non-contiguous views) for the cross-check."""
    inplace: tuple[int, ...] = ()
    """Positions of arguments the kernel updates in place (an optimizer step's parameters)."""
    flops: Callable[..., float] | None = None
    """FLOPs one call performs, from its arguments (benchmarks turn time into FLOP/s).

    Counted the same way for every kernel (``accel_edu/*/costs.py``): each floating-point add,
    subtract, multiply, divide, and each comparison that selects a value (max, ``x > 0 ? a :
    b``, sign) is 1; a multiply-add is 2; exp, log, tanh, sqrt are 1 each; a negation or abs
    (a sign-bit operation), integer and index arithmetic, and copies are 0. A sum of n terms
    counts n adds. What the formula counts, not what one implementation happens to execute
    (no recomputation, no padding)."""
    bytes: Callable[..., float] | None = None
    """Compulsory memory traffic of one call, from its arguments: every array argument read
    once, every output written once, an in-place argument read and written (twice its size),
    scalars free. With ``flops`` it places the kernel on a roofline (FLOP/byte). A kernel that
    by construction reads only part of an input (a gather) counts the part; its costs.py says so."""
    rtol: dict = field(default_factory=lambda: {np.float32: 1e-4, np.float64: 1e-10})
    summary: str = ""
    impls: dict[tuple[str, str], Callable] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.name in REGISTRY:
            raise ValueError(f"kernel {self.name!r} is registered twice")
        REGISTRY[self.name] = self

    # -- building -------------------------------------------------------------------------
    def implement(self, backend: str, fn: Callable | None = None, *, variant: str = "default",
                  default: bool = False):
        """Register ``fn`` as ``backend``'s ``variant``. Usable as a decorator."""
        def register(fn):
            self.impls[(backend, variant)] = fn
            if default or backend not in self.defaults:
                self.defaults[backend] = variant
            return fn
        return register(fn) if fn is not None else register

    def variants(self, backend: str) -> list[str]:
        return [v for (b, v) in self.impls if b == backend]

    def backends(self) -> list[str]:
        return [b for b in BACKENDS if self.variants(b)]

    # -- calling --------------------------------------------------------------------------
    def implementation(self, backend: str | None = None, variant: str | None = None) -> Callable:
        backend = resolve_backend(backend)
        if backend not in self.defaults:
            raise NotImplementedError(f"kernel {self.name!r} has no {backend} implementation "
                                      f"(it has: {', '.join(self.backends())})")
        variant = variant or self.defaults[backend]
        try:
            return self.impls[(backend, variant)]
        except KeyError:
            raise ValueError(f"variant must be one of {', '.join(self.variants(backend))} for "
                             f"{self.name} on {backend}; got {variant!r}") from None

    def __call__(self, *args, backend: str | None = None, variant: str | None = None, **kwargs):
        backend = resolve_backend(backend)
        impl = self.implementation(backend, variant)
        self.check(*args, **kwargs)
        if backend == "opencl":
            return _call_on_device(impl, args, kwargs, self.inplace)
        return _call_on_host(impl, args, kwargs, self.inplace, contiguous=(backend == "numba"))

    def __repr__(self) -> str:
        impls = ", ".join(f"{b}:{'/'.join(self.variants(b))}" for b in self.backends())
        return f"<Kernel {self.name} [{impls}]>"


def _is_array(x: Any) -> bool:
    from .opencl import DeviceArray
    return isinstance(x, (np.ndarray, DeviceArray))


def _call_on_host(impl, args, kwargs, inplace, contiguous: bool):
    """NumPy and Numba take NumPy arrays. A DeviceArray is downloaded (counted) and, if the
    kernel updates it in place, uploaded back afterwards."""
    from .opencl import DeviceArray, to_host, copy_into_device
    host_args, writebacks = [], []
    for i, a in enumerate(args):
        if isinstance(a, DeviceArray):
            h = to_host(a)
            if i in inplace:
                writebacks.append((a, h))
            a = h
        elif contiguous and isinstance(a, np.ndarray) and i not in inplace:
            # Numba compiles one specialisation per memory layout; a contiguous copy keeps
            # that to one and lets the loops vectorise.
            a = np.ascontiguousarray(a)
        host_args.append(a)
    out = impl(*host_args, **kwargs)
    for dev, h in writebacks:
        copy_into_device(dev, h)
    return out


def _call_on_device(impl, args, kwargs, inplace):
    """OpenCL takes DeviceArrays. A NumPy argument is uploaded (counted); an in-place NumPy
    argument is uploaded, updated on the device, and copied back into the caller's array."""
    from .opencl import to_device, to_host
    dev_args, writebacks = [], []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            d = to_device(a)
            if i in inplace:
                writebacks.append((d, a))
            a = d
        dev_args.append(a)
    out = impl(*dev_args, **kwargs)
    for d, host in writebacks:
        host[...] = to_host(d)
    return out


def wire(kernels: Iterable[Kernel], backend: str, module) -> None:
    """Register ``module.<kernel name>`` as ``backend``'s implementation of each kernel.

    A kernel with an optimisation ladder is listed in ``module.LADDERS`` as
    ``{name: [variant, ...]}``, slowest first; each step is ``module.<name>_<variant>`` and the
    last step is the default. A kernel the module lacks is left out (tests/test_registry.py
    then fails, naming it).
    """
    ladders = getattr(module, "LADDERS", {})
    for k in kernels:
        if k.name in ladders:
            for step in ladders[k.name]:
                k.implement(backend, getattr(module, f"{k.name}_{step}"), variant=step)
            k.defaults[backend] = ladders[k.name][-1]
        elif hasattr(module, k.name):
            k.implement(backend, getattr(module, k.name))


def wire_chapter(kernels: Iterable[Kernel], package: str) -> None:
    """Register a chapter's three implementations of each kernel, by the kernel's name:
    ``<package>.numpy_kernels`` (the reference), ``numba_kernels`` (left out when Numba is not
    installed: ``available_backends()`` then says why) and ``opencl_kernels`` (which imports
    pyopencl only when a kernel first runs)."""
    import importlib
    import importlib.util
    reference = importlib.import_module(f"{package}.numpy_kernels")
    for k in kernels:
        k.implement("numpy", getattr(reference, k.name))
    if importlib.util.find_spec("numba") is not None:
        from . import numba_setup  # noqa: F401  (the threading layer, before any prange runs)
        wire(kernels, "numba", importlib.import_module(f"{package}.numba_kernels"))
    wire(kernels, "opencl", importlib.import_module(f"{package}.opencl_kernels"))


def get_kernel(name: str) -> Kernel:
    """The registered kernel called ``name`` (every chapter's kernels are loaded first)."""
    import accel_edu.chapters  # noqa: F401  (registers each chapter's kernels, once)
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"kernel must be one of {', '.join(sorted(REGISTRY))}; got {name!r}") from None
