"""Every registered kernel declares its FLOPs and compulsory bytes, and they add up.

Bytes are checked on every kernel against a count made without the kernel's cost function:
the NumPy reference is run on a case and its array arguments, its outputs and the in-place
arguments (read and written) are measured. FLOPs are checked against an independent formula on the
kernels where one is short (GEMM 2mnk, convolution 2NKCRSPQ, elementwise n, ...), from the
shapes of the reference's own outputs where the kernel's geometry matters. Every kernel's
benchmark workloads grow with their size. Nothing here times anything.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import accel_edu.chapters  # noqa: F401  (registers every chapter's kernels)
from accel_edu.runtime import REGISTRY
from accel_edu.runtime.workloads import check_size, workload_table

NAMES = sorted(REGISTRY)


def _arrays(values):
    return [v for v in values if isinstance(v, np.ndarray)]


def _first_case(name, dtype=np.float32):
    return next(iter(REGISTRY[name].cases(np.random.default_rng(7), dtype)))


def _independent_bytes(kernel, case):
    """Bytes of the arrays a call reads and writes, measured on the NumPy reference's call."""
    args = copy.deepcopy(case.args)
    out = kernel(*args, backend="numpy", **case.kwargs)
    outs = list(out) if isinstance(out, tuple) else [out]
    read = sum(a.nbytes for a in _arrays(args) + _arrays(case.kwargs.values()))
    written = sum(args[i].nbytes for i in kernel.inplace)
    # A returned array that is an in-place argument is that argument, already counted.
    written += sum(np.asarray(o).nbytes for o in outs if not any(o is args[i] for i in kernel.inplace))
    return read + written


# Where the compulsory traffic is, by design, not "every argument read once" (costs.py says
# why): {kernel: position of the argument read through a gather}. Their costs count what the
# gather touches, which can be less or more than the whole argument; everything else is exact.
PARTIAL_READS = {"embedding_forward": 0,   # only the rows its indices name
                 "csr_spmv": 3,            # x, one element per stored value
                 "csr_spmm": 3}            # B, one row per stored value


@pytest.mark.parametrize("name", NAMES)
def test_every_kernel_declares_flops_and_bytes(name):
    kernel = REGISTRY[name]
    assert callable(kernel.flops), f"{name} has no flops= (add it in its chapter's costs.py)"
    assert callable(kernel.bytes), f"{name} has no bytes= (add it in its chapter's costs.py)"
    for case in kernel.cases(np.random.default_rng(3), np.float32):
        f, b = kernel.flops(*case.args, **case.kwargs), kernel.bytes(*case.args, **case.kwargs)
        assert math.isfinite(f) and f >= 0, f"{name} {case.label}: flops {f}"
        assert math.isfinite(b) and b > 0, f"{name} {case.label}: bytes {b}"


@pytest.mark.parametrize("name", [n for n in NAMES if n not in PARTIAL_READS])
def test_bytes_are_what_the_reference_reads_and_writes(name):
    kernel = REGISTRY[name]
    checked = 0
    for case in kernel.cases(np.random.default_rng(5), np.float32):
        if name == "sgd_momentum_update" and (case.kwargs.get("first_step") or not case.kwargs.get("momentum")):
            continue   # without momentum SGD never touches its buffer; its first step only writes it
        want = _independent_bytes(kernel, case)
        got = kernel.bytes(*case.args, **case.kwargs)
        assert got == want, f"{name} {case.label}: bytes() says {got}, the reference moves {want}"
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", sorted(PARTIAL_READS))
def test_gathers_count_at_least_every_other_argument(name):
    kernel, gathered = REGISTRY[name], PARTIAL_READS[name]
    for case in kernel.cases(np.random.default_rng(5), np.float32):
        rest = _independent_bytes(kernel, case) - case.args[gathered].nbytes
        got = kernel.bytes(*case.args, **case.kwargs)
        assert got >= rest, f"{name} {case.label}: bytes() {got} is less than the other arguments and outputs ({rest})"


def test_a_gather_counts_only_the_rows_it_reads():
    kernel = REGISTRY["embedding_forward"]
    weight = np.zeros((1000, 16), np.float32)
    indices = np.array([[3, 3, 5], [7, 3, 5]])          # 3 distinct rows of 1000
    got = kernel.bytes(weight, indices)
    assert got == indices.nbytes + 3 * 16 * 4 + 6 * 16 * 4
    assert got < weight.nbytes, "a gather of 3 rows must not be charged the whole table"


def _out(name, case):
    out = REGISTRY[name](*copy.deepcopy(case.args), backend="numpy", **case.kwargs)
    return out[0] if isinstance(out, tuple) else out


def _gemm(case):
    c = _out("gemm", case)
    a = case.args[0]
    k = a.shape[0] if case.kwargs.get("trans_a") else a.shape[1]
    return 2 * c.shape[0] * c.shape[1] * k


def _conv(name):
    def count(case):
        x, w, b = case.args[:3]
        y = _out(name, case)                             # (N, K, P, Q) from the reference itself
        n, k, p, q = y.shape
        return 2 * n * k * x.shape[1] * w.shape[2] * w.shape[3] * p * q + (n * k * p * q if b is not None else 0)
    return count


def _attention_forward(case):
    q, k, v = case.args[:3]
    causal = case.kwargs.get("causal", False)
    mask = np.tril(np.ones((q.shape[1], k.shape[1]))) if causal else np.ones((q.shape[1], k.shape[1]))
    pairs = q.shape[0] * mask.sum()
    return pairs * (2 * q.shape[2] + 2 * v.shape[2] + 5) + q.shape[0] * q.shape[1] * (v.shape[2] + 2)


INDEPENDENT_FLOPS = {
    "gemm": _gemm,
    "conv2d_forward": _conv("conv2d_forward"),
    "conv2d_direct_forward": _conv("conv2d_direct_forward"),
    "linear_forward": lambda c: 2 * c.args[0].shape[0] * c.args[1].shape[0] * c.args[0].shape[1]
    + c.args[0].shape[0] * c.args[1].shape[0],
    "relu_forward": lambda c: c.args[0].size,
    "tanh_forward": lambda c: c.args[0].size,
    "gradient_sum": lambda c: c.args[0].size,
    "scale_inplace": lambda c: c.args[0].size,
    "sum_of_squares": lambda c: 2 * sum(t.size for t in c.args),
    "bias_grad": lambda c: c.args[0].size,
    "maxpool2d_forward": lambda c: _out("maxpool2d_forward", c).size * np.prod(
        [c.kwargs["kernel"]] * 2 if np.isscalar(c.kwargs["kernel"]) else c.kwargs["kernel"]),
    "adam_update": lambda c: (13 + (2 if c.kwargs.get("weight_decay") else 0)) * c.args[0].size,
    "attention_forward": _attention_forward,
}


@pytest.mark.parametrize("name", sorted(INDEPENDENT_FLOPS))
def test_flops_match_an_independent_count(name):
    kernel = REGISTRY[name]
    for case in list(kernel.cases(np.random.default_rng(11), np.float32))[:4]:
        want = INDEPENDENT_FLOPS[name](case)
        got = kernel.flops(*case.args, **case.kwargs)
        assert got == pytest.approx(want, rel=1e-12), f"{name} {case.label}: flops() {got}, expected {want}"


def test_conv_flops_on_a_hand_worked_shape():
    # N=2, C=3, H=W=8, K=4 filters 3x3, padding 1 -> P=Q=8: 2*2*4*3*3*3*8*8 = 27,648, + 512 bias adds.
    x, w, b = np.zeros((2, 3, 8, 8), np.float32), np.zeros((4, 3, 3, 3), np.float32), np.zeros(4, np.float32)
    assert REGISTRY["conv2d_forward"].flops(x, w, b, padding=1) == 27_648 + 2 * 4 * 8 * 8
    assert REGISTRY["conv2d_forward"].flops(x, w, None, padding=1) == 27_648


WORKLOADS = workload_table()


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workloads_are_valid_inputs_that_grow_with_size(name):
    # small and medium only: building "large" (64 MiB arrays) takes seconds per kernel here.
    kernel, make = REGISTRY[name], WORKLOADS[name]
    costs = []
    for size in ("small", "medium"):
        case = make(np.random.default_rng(0), np.float32, size)
        kernel.check(*case.args, **case.kwargs)          # the shared argument check accepts it
        costs.append((kernel.bytes(*case.args, **case.kwargs), kernel.flops(*case.args, **case.kwargs)))
    (b_small, f_small), (b_medium, f_medium) = costs
    assert b_small < b_medium, f"{name}: bytes at small, medium {costs}"
    assert f_small <= f_medium, f"{name}: flops at small, medium {costs}"


def test_small_workloads_run_on_numpy():
    for name, make in WORKLOADS.items():
        case = make(np.random.default_rng(0), np.float32, "small")
        REGISTRY[name](*case.args, backend="numpy", **case.kwargs)


def test_unknown_size_names_the_argument():
    with pytest.raises(ValueError, match="size must be one of small, medium, large; got 'huge'"):
        check_size("huge")
    with pytest.raises(ValueError, match="size must be one of"):
        WORKLOADS["gemm"](np.random.default_rng(0), np.float32, "huge")
