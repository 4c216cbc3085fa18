"""How ``solutions/01_backprop.ipynb`` is graded: five parts, 60 points.

Inputs come from the chapter's own awkward cases (``accel_edu.backprop.cases``: sizes 1,
primes, just past powers of two, non-contiguous views) drawn from a fresh seed, in float32
and float64. Expected outputs come from the reference kernels in
``accel_edu.backprop.numpy_kernels``, computed here and never sent to the submission.
"""
from __future__ import annotations

import numpy as np

from ...backprop import cases as chapter_cases
from ...backprop import numpy_kernels as ref
from ..opencl_part import OpenCLCase, OpenCLPart
from ..parts import Case, FunctionPart
from ..protocol import GraderCallable, Layout
from ..speed import SpeedPart
from . import Assignment

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-9}
GEMM_TIMED_SHAPE = (256, 320, 288)   # (M, K, N): the naive loops take tens of milliseconds


def _send(a):
    """An input as the worker should see it: awkward layouts are rebuilt on its side."""
    if not isinstance(a, np.ndarray) or a.flags.c_contiguous:
        return a
    return Layout(np.ascontiguousarray(a), "F" if a.flags.f_contiguous else "strided")


def in_both_dtypes(make):
    """Cases from ``make(rng, dtype) -> [(label, args, expected)]``, in float32 then float64,
    each labelled with its dtype and checked to that dtype's tolerance."""
    def cases(rng):
        out = []
        for dtype in (np.float32, np.float64):
            for label, args, expected in make(rng, np.dtype(dtype)):
                out.append(Case(f"{label}, {dtype.__name__}", args, tuple(np.asarray(e) for e in expected),
                                RTOL[np.dtype(dtype)]))
        return out
    return cases


def _registry_cases(maker, reference, dtypes=(np.float32, np.float64)):
    def make(rng):
        out = []
        for dtype in dtypes:
            for c in maker(rng, dtype):
                want = reference(*c.args)
                want = want if isinstance(want, tuple) else (want,)
                out.append(Case(f"{c.label}, {np.dtype(dtype).name}", [_send(a) for a in c.args],
                                tuple(np.asarray(w) for w in want), RTOL[np.dtype(dtype)]))
        return out
    return make


# -- Part 2: numerical gradient ----------------------------------------------------------------
EPS = 1e-5


def _numerical_gradient_cases(rng):
    cases = []
    for shape in [(1,), (7,), (3, 4), (2, 3, 2)]:
        x = rng.standard_normal(shape)
        c = rng.standard_normal(shape)
        cases.append(Case(f"f(x) = sum(sin(x) * c), x of shape {shape}",
                          [GraderCallable("sin_weighted", (c,)), x, EPS], (np.cos(x) * c,), 1e-6))
    for n, d_in, d_out in [(5, 4, 3), (2, 7, 1)]:
        x, w = rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in))
        b, dy = rng.standard_normal(d_out), rng.standard_normal((n, d_out))
        _, dw, _ = ref.linear_backward(dy, x, w)   # the analytic answer, from Part 1's reference
        cases.append(Case(f"f(w) = sum(linear_forward(x, w, b) * dy), w of shape {w.shape}",
                          [GraderCallable("linear_loss", (x, b, dy)), w, EPS], (dw,), 1e-6))
    return cases


# -- Part 4: GEMM ---------------------------------------------------------------------------------
def _gemm_cases(rng):
    cases = []
    for m, k, n in chapter_cases.GEMM_SHAPES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        cases.append(Case(f"M={m} K={k} N={n}", [a, b], (ref.gemm(a, b),), 2e-4))
    a = np.asfortranarray(rng.standard_normal((13, 9)).astype(np.float32))
    b = rng.standard_normal((9, 11)).astype(np.float32)
    cases.append(Case("a in Fortran order (a transposed view)", [_send(a), b], (ref.gemm(a, b),), 2e-4))
    return cases


def _gemm_timed_input(rng):
    m, k, n = GEMM_TIMED_SHAPE
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    return [a, b], ref.gemm(a, b)


# -- Part 5: OpenCL ReLU backward ----------------------------------------------------------------
def _relu_backward_cases(rng):
    cases = []
    for shape in [(1,), (7,), (64,), (1000,), (4099,), (13, 31)]:
        x = rng.standard_normal(shape).astype(np.float32)
        x.reshape(-1)[::5] = 0.0        # exact zeros: the gradient there is taken as 0
        dy = rng.standard_normal(shape).astype(np.float32)
        cases.append(OpenCLCase(f"n={int(np.prod(shape))}" + (f", shape {shape}" if len(shape) > 1 else ""),
                                [dy, x], ref.relu_backward(dy, x)))
    return cases


PARTS = [
    FunctionPart(
        name="Part 1: Linear backward", points=10, function="linear_backward",
        signature="linear_backward(dy, x, w) -> (dx, dw, db)",
        make_cases=_registry_cases(chapter_cases.linear_backward, ref.linear_backward),
        outputs=("dx", "dw", "db")),
    FunctionPart(
        name="Part 2: Numerical gradient", points=10, function="numerical_gradient",
        signature="numerical_gradient(f, x, eps=1e-5) -> grad",
        make_cases=_numerical_gradient_cases, outputs=("grad",), mutation_tolerance=1e-12),
    FunctionPart(
        name="Part 3: Softmax cross-entropy", points=10, function="softmax_cross_entropy",
        signature="softmax_cross_entropy(logits, labels) -> (loss, dlogits)",
        make_cases=_registry_cases(chapter_cases.softmax_cross_entropy, ref.softmax_cross_entropy),
        outputs=("loss", "dlogits"), scalars=("loss",)),
    SpeedPart(
        name="Part 4: Fast Numba GEMM", points=20, function="gemm_fast",
        signature="gemm_fast(a, b) -> c", make_cases=_gemm_cases, outputs=("c",),
        make_timed_input=_gemm_timed_input, target=5.0,
        timed_label="{0} x {1} @ {1} x {2}".format(*GEMM_TIMED_SHAPE),
        shortcut_rule="gemm_fast must multiply with its own loops (no @, np.dot, np.matmul, einsum or BLAS)."),
    OpenCLPart(
        name="Part 5: OpenCL ReLU backward", points=10, source_name="RELU_BACKWARD_SRC",
        kernel="relu_backward",
        signature="__kernel void relu_backward(__global const float *dy, __global const float *x, "
                  "__global float *dx, const int n)",
        make_cases=_relu_backward_cases),
]

ASSIGNMENT = Assignment("01_backprop", "Backpropagation, fast", PARTS)
