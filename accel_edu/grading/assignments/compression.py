"""How ``solutions/07_compression.ipynb`` is graded: eight parts, 60 points.

Expected values come from the chapter's reference code, computed in this process and never
sent: scale and zero point from ``accel_edu.compression.quantize`` (PyTorch's observers),
quantize, dequantize and the int8 GEMM from ``accel_edu.compression.numpy_kernels`` (the
arithmetic every backend repeats to the bit), the masks from ``accel_edu.compression.prune``,
the distillation loss from ``accel_edu.compression.distill.DistillationLoss``.

Integer outputs (q, zero points, the GEMM's int8, the masks' 0/1) are compared exactly. The cases
that tell a classic mistake from the right answer are built on purpose, so each mistake costs a
known number of checks: ties at x.5 (half to even, not half up), values past the range (the
clamp), an all-zero channel (the scale's floor), a zero point whose rounding differs from
truncation, sums past 32,767 (an int16 accumulator wraps), layers of different magnitudes
(global, not per-layer, pruning), large logits (the max subtracted before exp).

Part 8 is timed: a Numba int8 GEMM against the naive loops (compression_speed.py says how).
The submission may not import ``accel_edu.compression``: it answers every part.
"""
from __future__ import annotations

import numpy as np

from ...compression import numpy_kernels as ref
from ...compression.distill import DistillationLoss
from ...compression.quantize import asymmetric_qparams, symmetric_qparams
from ..parts import Case, Context, FunctionPart, Outcome
from . import Assignment
from .backprop import _send
from .compression_pruning import EXACT, _check_masks, _global_cases, _neuron_cases
from ..speed import SpeedPart
from .compression_speed import TIMED_SHAPE, timed_input

SCALE_RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}   # a rounding of the last bit
LOSS_RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-9}
DTYPES = (np.float32, np.float64)


def _name(dtype) -> str:
    return np.dtype(dtype).name


# -- Part 1: scale and zero point --------------------------------------------------------------
def _qparams_reference(x, symmetric, per_channel):
    q = (symmetric_qparams if symmetric else asymmetric_qparams)(x, per_channel=per_channel)
    return q.scale, q.zero_point


def _rounds_up(rng, n, dtype):
    """(n,) values in [-1, 0.35], both ends included: -128 - lo / scale = 60.89, which rint
    rounds to 61 and truncation to 60."""
    x = rng.uniform(-1.0, 0.35, n).astype(dtype)
    x[:2] = (-1.0, 0.35)
    return x


def _qparams_inputs(rng, dtype):
    """(label, x, symmetric, per_channel) for one dtype."""
    yield "x (1,), a single value", rng.standard_normal(1).astype(dtype), True, False
    yield "x (7,)", rng.standard_normal(7).astype(dtype), True, False
    yield "x (16, 9), per channel", (rng.standard_normal((16, 9)) * rng.uniform(0.01, 3, (16, 1))).astype(dtype), \
        True, True
    w = rng.standard_normal((6, 3, 3, 3)).astype(dtype)
    w[2] = 0      # an all-zero filter: max|x| = 0, and the scale must not be 0
    yield "x (6, 3, 3, 3), per channel, filter 2 all zeros (the scale's floor)", w, True, True
    x = _rounds_up(rng, 50, dtype)
    yield "x (50,) in [-1, 0.35]", x, False, False
    x = np.abs(rng.standard_normal((5, 8))).astype(dtype)      # ReLU outputs: the range is [0, max]
    yield "x (5, 8) >= 0 (ReLU outputs)", x, False, False
    x = (rng.standard_normal((12, 10)) + rng.uniform(-2, 2, (12, 1))).astype(dtype)
    x[0] = _rounds_up(rng, 10, dtype)   # channel 0's zero point rounds up, as above
    yield "x (12, 10), per channel", x, False, True
    x = rng.standard_normal((4, 6)).astype(dtype)
    x[0], x[1] = _rounds_up(rng, 6, dtype), 0
    yield "x (4, 6), per channel, row 1 all zeros (the scale's floor)", x, False, True


def _qparams_cases(rng):
    cases = []
    for dtype in DTYPES:
        for label, x, symmetric, per_channel in _qparams_inputs(rng, dtype):
            kind = "symmetric" if symmetric else "asymmetric"
            cases.append(Case(f"{label}, {kind}, {_name(dtype)}", [x, symmetric, per_channel],
                              _qparams_reference(x, symmetric, per_channel), SCALE_RTOL[np.dtype(dtype)]))
    return cases


# -- Parts 2 and 3: quantize and dequantize -----------------------------------------------------------
def _quantize_inputs(rng, dtype):
    """(label, x, scale, zero_point) for one dtype: random ranges, the grid, ties, past the range."""
    x = rng.standard_normal((9,)).astype(dtype)
    q = symmetric_qparams(x)
    yield "x (9,), symmetric per tensor", x, q.scale, q.zero_point
    x = (rng.standard_normal((8, 13)) * rng.uniform(0.05, 2, (8, 1))).astype(dtype)
    q = symmetric_qparams(x, per_channel=True)
    yield "x (8, 13), symmetric per channel", x, q.scale, q.zero_point
    x = rng.uniform(-0.5, 3.0, (5, 2, 3)).astype(dtype)
    q = asymmetric_qparams(x, per_channel=True)
    yield "x (5, 2, 3), asymmetric per channel", x, q.scale, q.zero_point
    x = np.abs(rng.standard_normal((33,))).astype(dtype)
    q = asymmetric_qparams(x)
    yield "x (33,) >= 0, asymmetric per tensor", x, q.scale, q.zero_point
    # On the grid: every x / scale an integer, so even truncation gets these right.
    scale = np.array([0.25], dtype)
    x = (rng.integers(-100, 100, (4, 5)) * 0.25).astype(dtype)
    yield "x (4, 5) on the grid (every x / scale an integer), scale 0.25", x, scale, np.zeros(1, np.int32)
    # Ties: x / scale = k + 0.5 exactly (scale a power of two), rounded half to even.
    k = np.arange(-6, 6)
    yield "ties: x / scale = k + 0.5 for k = -6..5, scale 0.25", ((k + 0.5) * 0.25).astype(dtype), scale, \
        np.zeros(1, np.int32)
    yield "ties: x / scale = k + 0.5, scale 1/64, zero point 3", ((k + 0.5) / 64).astype(dtype), \
        np.array([1 / 64], dtype), np.array([3], np.int32)
    # Past the range: values up to 3x beyond what int8 holds must clamp to -128 and 127.
    x = rng.uniform(-3.0, 3.0, (3, 40)).astype(dtype)
    yield "x (3, 40) up to 3x past the range (clamped)", x, np.full(3, 1 / 127, dtype), np.array([0, 5, -20], np.int32)
    x = rng.uniform(-10.0, 10.0, (50,)).astype(dtype)
    yield "x (50,) past the range, asymmetric scale and zero point", x, np.array([0.02], dtype), np.array([-40], np.int32)


def _quantize_cases(rng):
    cases = []
    for dtype in DTYPES:
        for label, x, scale, zero_point in _quantize_inputs(rng, dtype):
            cases.append(Case(f"{label}, {_name(dtype)}", [x, scale, zero_point],
                              (ref.quantize_int8(x, scale, zero_point),), EXACT))
    x = np.asfortranarray(rng.standard_normal((6, 7)).astype(np.float32))
    q = symmetric_qparams(x, per_channel=True)
    cases.append(Case("x (6, 7) in Fortran order, symmetric per channel, float32", [_send(x), q.scale, q.zero_point],
                      (ref.quantize_int8(x, q.scale, q.zero_point),), EXACT))
    return cases


def _dequantize_cases(rng):
    cases = []
    for dtype in DTYPES:
        q = rng.integers(-128, 128, (7,)).astype(np.int8)
        inputs = [("q (7,), symmetric per tensor", q, np.array([0.013], dtype), np.zeros(1, np.int32))]
        q = rng.integers(-128, 128, (6, 11)).astype(np.int8)
        q[:, 0], q[:, 1] = -128, 127        # the ends: q - zero_point spans 255 steps
        inputs.append(("q (6, 11) including -128 and 127, asymmetric per channel", q,
                       rng.uniform(0.001, 0.1, 6).astype(dtype), rng.integers(-128, 128, 6).astype(np.int32)))
        x = rng.uniform(-1, 4, (3, 4, 5)).astype(dtype)
        qp = asymmetric_qparams(x)
        inputs.append(("a round trip: q = quantize(x), x (3, 4, 5) in [-1, 4], asymmetric per tensor",
                       ref.quantize_int8(x, qp.scale, qp.zero_point), qp.scale, qp.zero_point))
        q = rng.integers(-128, 128, (2, 9)).astype(np.int8)
        inputs.append(("q (2, 9), zero points -128 and 127", q, np.array([0.5, 0.25], dtype),
                       np.array([-128, 127], np.int32)))
        for label, q, scale, zero_point in inputs:
            cases.append(Case(f"{label}, {_name(dtype)}", [q, scale, zero_point],
                              (ref.dequantize_int8(q, scale, zero_point),), EXACT))
    return cases


# -- Part 4: the int8 GEMM ---------------------------------------------------------------------
def _gemm_case(rng, m, k, n, *, full_range=True, a_zero_point=0, out_zero_point=0, overflow=False,
               per_channel=True):
    lim = 128 if full_range else 8
    a = rng.integers(-lim, lim, (m, k)).astype(np.int8)
    b = rng.integers(-lim, lim, (k, n)).astype(np.int8)
    if overflow:   # output [0, 0] sums k products of 127 * (127 - zp) >= 16,129: past 32,767 once k >= 3
        a[0, :], b[:, 0] = 127, 127
    bias = rng.integers(-5000, 5000, n).astype(np.int32)
    # The multiplier brings a typical sum to about a third of int8's range, so most outputs are
    # not clamped and a wrong sum shows.
    spread = np.sqrt(k) * (lim / 1.7 + abs(a_zero_point)) * lim / 1.7 + 1.0
    mult = (rng.uniform(0.8, 1.2, n if per_channel else 1) * 40 / spread).astype(np.float32)
    args = [a, b, a_zero_point, bias, mult, out_zero_point]
    return args, (ref.int8_gemm(a, b, a_zero_point, bias, mult, out_zero_point),)


GEMM_CASES = [  # (label, m, k, n, options)
    ("M=1 K=1 N=1", 1, 1, 1, {}),
    ("M=3 K=1 N=5, a_zero_point=-7", 3, 1, 5, {"a_zero_point": -7}),
    ("M=4 K=16 N=6, small values (sums fit in int16), out_zero_point=10", 4, 16, 6,
     {"full_range": False, "out_zero_point": 10}),
    ("M=7 K=64 N=5, small values (sums fit in int16), a_zero_point=5", 7, 64, 5,
     {"full_range": False, "a_zero_point": 5}),
    ("M=5 K=4 N=3, one sum of 127 * 127 four times (past int16's 32,767)", 5, 4, 3, {"overflow": True}),
    ("M=9 K=13 N=7, full range, a_zero_point=-20, one multiplier", 9, 13, 7,
     {"a_zero_point": -20, "per_channel": False, "overflow": True}),
    ("M=33 K=256 N=17, full range (sums far past int16)", 33, 256, 17, {"out_zero_point": -3}),
    ("M=16 K=1024 N=8, full range, a_zero_point=-128", 16, 1024, 8, {"a_zero_point": -128, "overflow": True}),
]


def _gemm_cases(rng):
    cases = []
    for label, m, k, n, options in GEMM_CASES:
        args, want = _gemm_case(rng, m, k, n, **options)
        cases.append(Case(label, args, want, EXACT))
    args, want = _gemm_case(rng, 6, 20, 4, overflow=True)
    cases.append(Case("M=6 K=20 N=4, b in Fortran order", [args[0], _send(np.asfortranarray(args[1]))] + args[2:],
                      want, EXACT))
    return cases


# -- Parts 5 and 6: magnitude pruning (cases in compression_pruning.py) ----------------------
class MaskListPart(FunctionPart):
    """The answer is a list of masks, one per weight, each compared exactly."""

    def judge(self, case: Case, reply, ctx: Context) -> Outcome:
        if reply.kind != "ok":
            return super().judge(case, reply, ctx)
        problem = self.check_mutation(case, reply) or _check_masks(reply.value, case.expected)
        return Outcome(case.label, problem is None, problem or "")


# -- Part 7: the distillation loss --------------------------------------------------------------
def distillation_reference(student_logits, teacher_logits, labels, temperature, alpha):
    loss = DistillationLoss(temperature, alpha, backend="numpy")
    value = loss(student_logits, teacher_logits, labels)
    return np.asarray(value), np.asarray(loss.dlogits)


DISTILL_CASES = [  # (N, C, temperature, alpha, spread of the logits)
    (1, 2, 1.0, 0.5, 1.0), (4, 10, 2.0, 0.5, 2.0), (16, 7, 4.0, 0.9, 3.0), (8, 5, 8.0, 1.0, 1.0),
    (6, 3, 3.0, 0.0, 2.0), (32, 100, 2.0, 0.7, 1.0),
    (5, 6, 2.0, 0.7, 1e3), (3, 4, 1.0, 0.9, 1e4)]


def _distill_cases(rng):
    cases = []
    for dtype in DTYPES:
        for n, c, temperature, alpha, spread in DISTILL_CASES:
            s = (rng.standard_normal((n, c)) * spread).astype(dtype)
            t = (rng.standard_normal((n, c)) * spread).astype(dtype)
            if spread > 100:   # at least one logit as large as the spread: exp overflows, even in float64
                s[0, 0], t[0, -1] = spread, spread
            labels = rng.integers(0, c, n)
            size = f"logits of magnitude {spread:g}" if spread > 100 else f"N={n}, C={c}"
            cases.append(Case(f"{size}, T={temperature:g}, alpha={alpha:g}, {_name(dtype)}",
                              [s, t, labels, temperature, alpha],
                              distillation_reference(s, t, labels, temperature, alpha), LOSS_RTOL[np.dtype(dtype)]))
    return cases


PARTS = [
    FunctionPart(
        name="Part 1: Scale and zero point", points=8, function="quantization_params",
        signature="quantization_params(x, symmetric, per_channel) -> (scale, zero_point)",
        make_cases=_qparams_cases, outputs=("scale", "zero_point")),
    FunctionPart(
        name="Part 2: Quantize", points=8, function="quantize",
        signature="quantize(x, scale, zero_point) -> q", make_cases=_quantize_cases, outputs=("q",)),
    FunctionPart(
        name="Part 3: Dequantize", points=4, function="dequantize",
        signature="dequantize(q, scale, zero_point) -> x", make_cases=_dequantize_cases, outputs=("x",)),
    FunctionPart(
        name="Part 4: The int8 GEMM", points=10, function="int8_gemm",
        signature="int8_gemm(a, b, a_zero_point, bias, multiplier, out_zero_point) -> out",
        make_cases=_gemm_cases, outputs=("out",)),
    MaskListPart(
        name="Part 5: Global magnitude pruning", points=6, function="global_magnitude_masks",
        signature="global_magnitude_masks(weights, sparsity) -> masks",
        make_cases=_global_cases, outputs=("masks",)),
    FunctionPart(
        name="Part 6: Pruning whole neurons", points=4, function="neuron_masks",
        signature="neuron_masks(w, sparsity) -> mask", make_cases=_neuron_cases, outputs=("mask",)),
    FunctionPart(
        name="Part 7: The distillation loss", points=10, function="distillation_loss",
        signature="distillation_loss(student_logits, teacher_logits, labels, temperature, alpha) -> (loss, dlogits)",
        make_cases=_distill_cases, outputs=("loss", "dlogits"), scalars=("loss",)),
    SpeedPart(
        name="Part 8: A fast int8 GEMM in Numba", points=10, function="int8_gemm_fast",
        signature="int8_gemm_fast(a, b, a_zero_point, bias, multiplier, out_zero_point) -> out",
        make_cases=_gemm_cases, outputs=("out",), baseline_op="int8_gemm_naive",
        make_timed_input=timed_input, target=4.0,
        timed_label="int8 ({0}, {1}) @ ({1}, {2}), requantized".format(*TIMED_SHAPE),
        shortcut_rule="int8_gemm_fast must multiply with its own loops (no @, np.dot, np.matmul, einsum or BLAS).",
        hint="Hint: keep one int32 row of sums for row i of the output; for each p, add (a[i, p] - zero point) "
             "times row p of b (converted to int32 once, before the loops) into it, so the innermost loop "
             "runs along contiguous memory and vectorises; requantize the row at the end."),
]

ASSIGNMENT = Assignment("07_compression", "Model compression", PARTS)
