"""How ``solutions/04_optim.ipynb`` is graded: four parts, 50 points.

The expected values come from the chapter's reference kernels (``accel_edu.optim.numpy_kernels``,
in place, so they run on copies here) and its schedules, computed in this process and never
sent to the submission. The exercise's functions are pure (new arrays back, inputs untouched),
except Part 4's fused kernel, which must update param, m and v in place, as a real optimizer does.

Part 4 is graded on correctness and in-place updating, not timed: the grader's clock runs from
request to reply, and sending a memory-bound kernel's arrays through the pipe costs more than
the update itself (measured: 3.4 ms a call for 262,144 parameters, fused or not, where the
update alone takes 0.6 ms fused and 1.6 ms as NumPy formulas). The notebook's self-check
measures the speed-up in the student's own process instead.
"""
from __future__ import annotations

import ast

import numpy as np

from ...optim import numpy_kernels as ref
from ...optim.schedules import cosine, linear_warmup, warmup_then
from ..parts import Case, FunctionPart
from . import Assignment
from .backprop import RTOL, _send

SHAPES = [(1,), (7,), (1000,), (4099,), (3, 5), (2, 3, 4)]
FUSED_SIZES = [1, 7, 64, 1000, 4099]
ADAM_HYPER = [  # (lr, beta1, beta2, eps)
    (1e-3, 0.9, 0.999, 1e-8), (0.1, 0.5, 0.9, 1e-6), (3e-4, 0.95, 0.98, 1e-8)]


def _state(rng, shape, dtype):
    """(param, grad, first moment, second moment >= 0), random, of one shape and dtype."""
    p, g, m = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v = (rng.standard_normal(shape) ** 2).astype(dtype)
    return p, g, m, v


def _label(shape, dtype, **values) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in values.items())
    return f"shape {shape}, {np.dtype(dtype).name}, {settings}"


# -- Part 1: SGD with momentum -------------------------------------------------------------------
def _momentum_cases(rng):
    cases = []
    settings = [(0.1, 0.9, False), (0.1, 0.9, True), (0.01, 0.5, False), (0.5, 0.99, True)]
    for dtype in (np.float32, np.float64):
        for shape, (lr, momentum, nesterov) in zip(SHAPES, settings + settings[:2]):
            p, g, velocity, _ = _state(rng, shape, dtype)
            want_p, want_v = p.copy(), velocity.copy()
            ref.sgd_momentum_update(want_p, g, want_v, lr, momentum, nesterov=nesterov)
            cases.append(Case(_label(shape, dtype, lr=lr, momentum=momentum, nesterov=nesterov),
                              [p, g, velocity, lr, momentum, nesterov], (want_p, want_v), RTOL[np.dtype(dtype)]))
    # A gradient that is a strided view: a column of a larger array.
    p, g, velocity, _ = _state(rng, (9,), np.float64)
    g_view = np.repeat(g[:, None], 3, axis=1)[:, 1]
    want_p, want_v = p.copy(), velocity.copy()
    ref.sgd_momentum_update(want_p, g_view, want_v, 0.1, 0.9)
    cases.append(Case("grad a non-contiguous view, float64", [p, _send(g_view), velocity, 0.1, 0.9, False],
                      (want_p, want_v), RTOL[np.dtype(np.float64)]))
    return cases


# -- Part 2: Adam ---------------------------------------------------------------------------------
def _adam_reference(p, g, m, v, t, lr, beta1, beta2, eps):
    p, m, v = p.copy(), m.copy(), v.copy()
    ref.adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay=0.0, step=t)
    return p, m, v


def _adam_cases(rng):
    cases = []
    for dtype in (np.float32, np.float64):
        for shape, t, (lr, beta1, beta2, eps) in zip(SHAPES, [1, 2, 10, 1000, 3, 1], ADAM_HYPER * 2):
            p, g, m, v = _state(rng, shape, dtype)
            if t == 1:  # the first step starts from zero moments
                m, v = np.zeros_like(m), np.zeros_like(v)
            cases.append(Case(_label(shape, dtype, t=t, lr=lr, beta1=beta1, beta2=beta2),
                              [p, g, m, v, t, lr, beta1, beta2, eps],
                              _adam_reference(p, g, m, v, t, lr, beta1, beta2, eps), RTOL[np.dtype(dtype)]))
    return cases


# -- Part 3: warm-up then cosine -------------------------------------------------------------------
def warmup_cosine_reference(step, base_lr, warmup_steps, total_steps, min_lr=0.0) -> float:
    """The chapter's schedules composed: linear_warmup for warmup_steps, then cosine to total."""
    decay = cosine(base_lr, total_steps - warmup_steps, min_lr)
    if warmup_steps == 0:
        return decay(step)
    return warmup_then(linear_warmup(base_lr, warmup_steps), decay)(step)


def _schedule_cases(rng):
    cases = []
    for base_lr, warmup, total, min_lr in [(1.0, 10, 110, 0.0), (3e-4, 100, 1000, 1e-5),
                                           (0.1, 0, 50, 0.0), (0.5, 1, 7, 0.05)]:
        steps = sorted({0, 1, warmup - 1, warmup, warmup + 1, (warmup + total) // 2, total - 1, total,
                        total + 3, int(rng.integers(0, total + 10))} - {-1})
        for step in steps:
            want = warmup_cosine_reference(step, base_lr, warmup, total, min_lr)
            cases.append(Case(f"step={step}, base_lr={base_lr}, warmup_steps={warmup}, total_steps={total}, "
                              f"min_lr={min_lr}", [step, base_lr, warmup, total, min_lr],
                              (np.asarray(want),), 1e-9))
    return cases


# -- Part 4: fused Adam ------------------------------------------------------------------------------
def _fused_cases(rng):
    cases = []
    for dtype in (np.float32, np.float64):
        for n, t, (lr, beta1, beta2, eps) in zip(FUSED_SIZES, [1, 2, 5, 100, 7], ADAM_HYPER * 2):
            p, g, m, v = _state(rng, (n,), dtype)
            cases.append(Case(_label((n,), dtype, t=t, lr=lr, beta1=beta1, beta2=beta2),
                              [p, g, m, v, t, lr, beta1, beta2, eps],
                              _adam_reference(p, g, m, v, t, lr, beta1, beta2, eps), RTOL[np.dtype(dtype)]))
    return cases


class CompiledPart(FunctionPart):
    """A part whose function must be compiled by Numba (``@njit`` or ``@jit``): the point of the
    exercise is the loop, so NumPy vector code that happens to update in place does not count."""

    def blocked(self, ctx) -> str:
        if not any(_jit_decorated(cell.source, self.function) for cell in ctx.session.cells):
            return (f"`{self.function}` is not compiled by Numba: decorate it with @njit (from numba "
                    "import njit) and write the update as one loop.")
        return super().blocked(ctx)


def _jit_decorated(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except BaseException:  # SyntaxError, or MemoryError/RecursionError on pathological input
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name in ("njit", "jit"):
                    return True
    return False


PARTS = [
    FunctionPart(
        name="Part 1: SGD with momentum", points=10, function="sgd_momentum",
        signature="sgd_momentum(param, grad, velocity, lr, momentum, nesterov=False) -> (param, velocity)",
        make_cases=_momentum_cases, outputs=("param", "velocity")),
    FunctionPart(
        name="Part 2: Adam with bias correction", points=10, function="adam",
        signature="adam(param, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8) -> (param, m, v)",
        make_cases=_adam_cases, outputs=("param", "m", "v")),
    FunctionPart(
        name="Part 3: Linear warm-up, then cosine decay", points=10, function="warmup_cosine",
        signature="warmup_cosine(step, base_lr, warmup_steps, total_steps, min_lr=0.0) -> lr",
        make_cases=_schedule_cases, outputs=("lr",), scalars=("lr",)),
    CompiledPart(
        name="Part 4: A fused Adam step in Numba", points=20, function="adam_fused",
        signature="adam_fused(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)",
        make_cases=_fused_cases, outputs=("param", "m", "v"), inplace=(0, 2, 3)),
]

ASSIGNMENT = Assignment("04_optim", "Optimizers, fast", PARTS)
