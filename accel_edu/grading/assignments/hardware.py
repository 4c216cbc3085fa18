"""How ``solutions/06_hardware.ipynb`` is graded: five parts, 50 points.

1. ``cache_steps``: read a bandwidth curve. Graded on synthetic curves made here (plateaus at
   known cache capacities, a transition sample between some of them, a few per cent of noise):
   the steps found must be as many as there are, each within a factor of two of the capacity
   (two samples at two sizes per octave).
2. ``triad`` in Numba and 3. ``TRIAD_SOURCE`` in OpenCL: correct first, then timed as a fraction
   of the grader's own triad (hardware_speed.py says how, and why the Numba one takes sweeps).
4. ``flops_and_bytes``: the counts the library's kernel registry declares (``Kernel.flops`` and
   ``Kernel.bytes`` of relu_forward, gemm, conv2d_forward, attention_forward), called here on
   arrays of the case's shapes; the triad's are STREAM's (2 FLOPs, 3 words an element).
5. ``roofline_place``: intensity, attainable GFLOP/s and which roof binds, from formulas.

The submission may not import ``accel_edu.hardware`` (the chapter's measuring and roofline code):
it would answer Parts 1, 4 and 5.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...runtime.registry import REGISTRY
from ..parts import Case, FunctionPart, Outcome
from . import Assignment
from .hardware_speed import OpenCLTriadPart, TriadPart

KIB, MIB = 2 ** 10, 2 ** 20
SIZES = [int(round(4 * KIB * 2 ** (k / 2))) for k in range(33)]      # 4 KiB .. 256 MiB, 2 an octave
CURVES = [  # (capacities in bytes, GB/s of each level and of DRAM last, a transition sample?)
    # Sharp steps (each level at most 0.6 of the one before), 1% and 4% noise.
    ((32 * KIB, 512 * KIB, 8 * MIB), (250.0, 150.0, 90.0, 35.0), False),
    ((16 * MIB,), (120.0, 45.0), False),
    ((64 * KIB, 1 * MIB, 64 * MIB), (250.0, 150.0, 90.0, 50.0), False),
    ((), (80.0,), False),
    # A sample halfway down each step, levels 0.65 of the one before: no two neighbouring samples
    # differ by a quarter, so comparing only neighbours misses the step. 0.5% and 1% noise.
    ((64 * KIB, 1 * MIB, 32 * MIB), (300.0, 195.0, 127.0, 40.0), True),
    ((32 * KIB, 2 * MIB), (200.0, 130.0, 20.0), True),
    ((32 * KIB, 256 * KIB, 16 * MIB), (180.0, 117.0, 76.0, 12.0), True),
    ((128 * KIB, 4 * MIB), (400.0, 260.0, 30.0), True),
]


# -- Part 1: reading a bandwidth curve -------------------------------------------------------
def synthetic_curve(rng, capacities, levels, transition: bool, noise: float) -> np.ndarray:
    """GB/s at each of SIZES: ``levels[k]`` up to ``capacities[k]``, DRAM's (the last) beyond;
    with ``transition`` the sample after each capacity is halfway down (geometric mean)."""
    gbps = np.empty(len(SIZES))
    for i, size in enumerate(SIZES):
        k = sum(size > cap for cap in capacities)
        value = levels[k]
        if transition and k > 0 and SIZES[i - 1] == capacities[k - 1]:
            value = float(np.sqrt(levels[k - 1] * levels[k]))
        gbps[i] = value
    return gbps * np.exp(np.clip(rng.normal(0.0, noise, len(SIZES)), -2.5 * noise, 2.5 * noise))


def _size(size: float) -> str:
    return f"{size / MIB:g} MiB" if size >= MIB else f"{size / KIB:g} KiB"


def _curve_cases(rng):
    cases = []
    for capacities, levels, transition in CURVES:
        for noise in ((0.005, 0.01) if transition else (0.01, 0.04)):
            gbps = synthetic_curve(rng, capacities, levels, transition, noise)
            label = (f"steps at {', '.join(map(_size, capacities)) or 'none'} ("
                     f"{' -> '.join(f'{v:g}' for v in levels)} GB/s, {noise:.0%} noise"
                     f"{', a sample halfway down each step' if transition else ''})")
            cases.append(Case(label, [np.array(SIZES, dtype=np.int64), gbps], (np.array(capacities, float),), 0.0))
    return cases


class StepsPart(FunctionPart):
    """The answer is a list of sizes, each right within a factor of two."""

    def judge(self, case, reply, ctx):
        if reply.kind != "ok" or self.check_mutation(case, reply):
            return super().judge(case, reply, ctx)
        want = case.expected[0]
        got = reply.value
        if isinstance(got, (list, tuple)):
            got = np.array(got, dtype=float) if all(isinstance(v, (int, float, np.generic)) for v in got) else None
        if not isinstance(got, np.ndarray) or got.ndim != 1 or got.dtype.kind not in "iuf":
            return Outcome(case.label, False, "should return a 1-D array of sizes in bytes")
        if got.size != want.size:
            found = ", ".join(map(_size, got[:6])) or "none"
            return Outcome(case.label, False, f"found {got.size} step(s) at {found}; the curve has {want.size}")
        far = [(g, w) for g, w in zip(np.sort(got.astype(float)), want) if not (w / 2 <= g <= 2 * w)]
        if far:
            g, w = far[0]
            return Outcome(case.label, False, f"a step at {_size(g)} is more than a factor of 2 from the cache "
                                              f"capacity {_size(w)}")
        return Outcome(case.label, True)


# -- Part 4: FLOPs and bytes -----------------------------------------------------------------
def _arrays(itemsize: int, *shapes):
    """Arrays of these shapes that take no memory (the registry's counts read shape and dtype)."""
    dtype = np.float32 if itemsize == 4 else np.float64
    return [np.broadcast_to(np.zeros((), dtype), s) for s in shapes]


def reference_counts(kernel: str, sizes: dict) -> tuple[float, float]:
    """(FLOPs, bytes) of one call: the registry's ``Kernel.flops`` and ``Kernel.bytes`` where the
    kernel declares both (the triad is not a registry kernel: STREAM's count), else the same
    convention written out here."""
    if kernel == "triad":
        return 2.0 * sizes["n"], 3.0 * sizes["n"] * sizes["itemsize"]
    return registry_counts(kernel, sizes) or _written_out(kernel, sizes, sizes["itemsize"])


def registry_counts(kernel: str, sizes: dict) -> tuple[float, float] | None:
    """The registry's counts for ``kernel`` at ``sizes``, or None where it declares no bytes."""
    from ...attention import kernels as _attention  # noqa: F401  (registering the kernels)
    from ...backprop import kernels as _backprop  # noqa: F401
    from ...cnn import kernels as _cnn  # noqa: F401
    name, shapes = _registry_shapes(kernel, sizes)
    registered = REGISTRY.get(name)
    if registered is None or not getattr(registered, "flops", None) or not getattr(registered, "bytes", None):
        return None
    args = _arrays(sizes["itemsize"], *shapes) + ([sizes["causal"]] if kernel == "attention" else [])
    return float(registered.flops(*args)), float(registered.bytes(*args))


def _registry_shapes(kernel: str, s: dict) -> tuple[str, list[tuple]]:
    """The registry kernel behind ``kernel`` and the shapes of its array arguments."""
    if kernel == "relu":
        return "relu_forward", [(s["n"],)]
    if kernel == "gemm":
        return "gemm", [(s["m"], s["k"]), (s["k"], s["n"])]
    if kernel == "conv2d":
        return "conv2d_forward", [(s["batch"], s["c_in"], s["h"], s["w"]),
                                  (s["c_out"], s["c_in"], s["kh"], s["kw"]), (s["c_out"],)]
    return "attention_forward", [(s["batch"], s["tq"], s["d"]), (s["batch"], s["tk"], s["d"]),
                                 (s["batch"], s["tk"], s["e"])]


def _written_out(kernel: str, s: dict, item: int) -> tuple[float, float]:
    """The registry's convention (runtime/registry.py, Kernel.flops and Kernel.bytes) by hand."""
    if kernel == "relu":
        return float(s["n"]), 2.0 * s["n"] * item
    if kernel == "gemm":
        return 2.0 * s["m"] * s["k"] * s["n"], float(s["m"] * s["k"] + s["k"] * s["n"] + s["m"] * s["n"]) * item
    if kernel == "conv2d":
        out = s["batch"] * s["c_out"] * (s["h"] - s["kh"] + 1) * (s["w"] - s["kw"] + 1)
        words = (s["batch"] * s["c_in"] * s["h"] * s["w"] + s["c_out"] * s["c_in"] * s["kh"] * s["kw"]
                 + s["c_out"] + out)
        return 2.0 * out * s["c_in"] * s["kh"] * s["kw"] + out, float(words) * item
    b, tq, tk, d, e = s["batch"], s["tq"], s["tk"], s["d"], s["e"]
    pairs = b * (tq * (tq + 1) // 2 if s["causal"] else tq * tk)
    words = b * (tq * d + tk * d + tk * e) + b * tq * e + b * tq
    return pairs * (2.0 * d + 2.0 * e + 5.0) + b * tq * (e + 2.0), float(words) * item


def _count_cases(rng):
    draws = [("triad", {"n": 1}), ("triad", {"n": int(rng.integers(10 ** 5, 10 ** 7))}),
             ("relu", {"n": 1000}), ("relu", {"n": int(rng.integers(10 ** 4, 10 ** 6))}),
             ("gemm", {"m": 1, "k": 1, "n": 1}), ("gemm", {"m": 1024, "k": 1024, "n": 1024}),
             ("gemm", {"m": int(rng.integers(2, 300)), "k": int(rng.integers(2, 300)), "n": 1}),
             ("conv2d", {"batch": 1, "c_in": 1, "h": 3, "w": 3, "c_out": 1, "kh": 3, "kw": 3}),
             ("conv2d", {"batch": 8, "c_in": 16, "h": 32, "w": 30, "c_out": 32, "kh": 3, "kw": 5}),
             ("attention", {"batch": 2, "tq": 5, "tk": 7, "d": 4, "e": 3, "causal": False}),
             ("attention", {"batch": 4, "tq": 512, "tk": 512, "d": 64, "e": 64, "causal": True})]
    cases = []
    for itemsize in (4, 8):
        for kernel, sizes in draws:
            sizes = {**sizes, "itemsize": itemsize}
            flops, nbytes = reference_counts(kernel, sizes)
            label = f"{kernel}, " + ", ".join(f"{k}={v}" for k, v in sizes.items())
            cases.append(Case(label, [kernel, sizes], (np.asarray(flops), np.asarray(nbytes)), 1e-12))
    return cases


# -- Part 5: on the roofline -----------------------------------------------------------------
def roofline_reference(flops, nbytes, peak_gflops, bandwidth_gbps):
    intensity = flops / nbytes
    attainable = min(peak_gflops, intensity * bandwidth_gbps)
    return intensity, attainable, "memory" if intensity < peak_gflops / bandwidth_gbps else "compute"


def _roofline_cases(rng):
    cases = []
    points = [(2e6, 24e6), (2.0 * 1024 ** 3, 12 * 1024 ** 2), (1e9, 1e8), (5e9, 1e9), (1.0, 1.0)]
    for (flops, nbytes), (peak, bandwidth) in zip(points * 2, [(512.0, 46.0), (60e3, 3350.0)] * 5):
        flops, nbytes = flops * float(rng.uniform(0.5, 2)), nbytes * float(rng.uniform(0.5, 2))
        cases.append((f"{flops:.3g} FLOPs, {nbytes:.3g} bytes, peak {peak:g} GFLOP/s, {bandwidth:g} GB/s",
                      [flops, nbytes, peak, bandwidth]))
    cases.append(("exactly at the ridge (counts as compute-bound)", [460.0, 10.0, 460.0, 10.0]))
    return [Case(label, args, roofline_reference(*args), 1e-9) for label, args in cases]


class RooflinePart(FunctionPart):
    """(intensity, attainable) as numbers, then the bound as the word "memory" or "compute"."""

    def judge(self, case, reply, ctx):
        value = reply.value
        if reply.kind != "ok":
            return super().judge(case, reply, ctx)
        if not (isinstance(value, (tuple, list)) and len(value) == 3):
            return Outcome(case.label, False, "should return a tuple (intensity, attainable, bound)")
        numbers = Case(case.label, case.args, case.expected[:2], case.rtol)
        outcome = super().judge(numbers, replace(reply, value=tuple(value[:2])), ctx)
        if outcome.passed and value[2] != case.expected[2]:
            return Outcome(case.label, False, f"bound is {value[2]!r}; expected {case.expected[2]!r}")
        return outcome


TRIAD_SIZES = [1, 7, 1000, 4099, 65537]


def _triad_cases(rng):
    cases = []
    for dtype in (np.float64, np.float32):
        for n, sweeps in zip(TRIAD_SIZES, [1, 2, 1, 3, 1]):
            a = rng.standard_normal(n).astype(dtype) * 1e3  # garbage to overwrite
            b, c = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
            scalar = float(rng.uniform(-4, 4))
            want = (b + dtype(scalar) * c).astype(dtype)
            cases.append(Case(f"n = {n}, {np.dtype(dtype).name}, scalar={scalar:.3g}, sweeps={sweeps}",
                              [a, b, c, scalar, sweeps], (want,), 1e-12 if dtype == np.float64 else 1e-6))
    return cases


PARTS = [
    StepsPart(
        name="Part 1: Read a bandwidth curve", points=10, function="cache_steps",
        signature="cache_steps(sizes_bytes, gbps, drop=0.25) -> steps", make_cases=_curve_cases, outputs=("steps",)),
    TriadPart(
        name="Part 2: STREAM triad in Numba", points=15, function="triad",
        signature="triad(a, b, c, scalar, sweeps) -> a", make_cases=_triad_cases, outputs=("a",), inplace=(0,),
        hint="Hint: one loop that reads b[i] and c[i] once and writes a[i] once, no temporary arrays "
             "(b + scalar * c makes two), and prange so both cores stream memory, on Numba's workqueue "
             "thread pool (the first cell sets it; OpenMP's threads wake slowly on a busy machine)."),
    OpenCLTriadPart(
        name="Part 3: STREAM triad in OpenCL", points=15, sizes=(1, 7, 64, 255, 256, 1000, 4096, 65537),
        hint="Hint: PoCL runs a work-group as one loop over its work-items and vectorises it only when "
             "every work-item does the same thing: keep `if` out of triad_groups (the grader launches it "
             "over whole groups only), guard only triad_tail, and write plain b[i] + s * c[i] (mad() is "
             "slow on PoCL). A work-group of 64 to 256 items suits a CPU."),
    FunctionPart(
        name="Part 4: FLOPs and bytes of a kernel", points=5, function="flops_and_bytes",
        signature="flops_and_bytes(kernel, sizes) -> (flops, bytes)", make_cases=_count_cases,
        outputs=("flops", "bytes"), scalars=("flops", "bytes")),
    RooflinePart(
        name="Part 5: Place a kernel on the roofline", points=5, function="roofline_place",
        signature="roofline_place(flops, nbytes, peak_gflops, bandwidth_gbps) -> (intensity, attainable, bound)",
        make_cases=_roofline_cases, outputs=("intensity", "attainable"), scalars=("intensity", "attainable")),
]

ASSIGNMENT = Assignment("06_hardware", "The machine's limits", PARTS)
