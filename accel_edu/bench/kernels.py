"""``accel-edu bench kernels``'s loop: time any registered kernels, at named sizes, on any backends,
and place each on the roofline.

For every (kernel, size) the inputs are built once (the chapter's ``workloads.py``, or the
kernel's largest ``case`` where a chapter has none: flagged in every record), OpenCL's are
uploaded before the clock starts, and every chosen (backend, variant) is timed round-robin
(:func:`accel_edu.bench.timing.interleaved_medians`), so the ratios between them are measured
side by side. Each record carries the call's FLOPs and compulsory bytes (``Kernel.flops`` and
``Kernel.bytes``), hence GFLOP/s, GB/s and arithmetic intensity; with ceilings,
:func:`accel_edu.hardware.roofline.place` adds the attainable rate and the fraction reached.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..runtime import REGISTRY, available_backends
from ..runtime.workloads import SIZES, chapters, check_size, workload_table
from .timing import interleaved_medians

# `accel-edu bench --roofline` with no subcommand: one kernel of each kind, from the most
# compute-bound (GEMM, convolution, attention) to the most memory-bound (elementwise, updates).
DEFAULT_ROOFLINE = ["gemm", "conv2d_forward", "attention_forward", "linear_forward", "softmax_cross_entropy",
                    "batchnorm_forward", "lstm_cell_forward", "adam_update", "relu_forward", "sum_of_squares"]
DEFAULT_ROOFLINE_SIZE = "medium"
FALLBACK = "largest case (no workload in the chapter's workloads.py)"


def select_kernels(names: Iterable[str] = (), chapter: str | None = None, every: bool = False) -> list[str]:
    """The kernels asked for: ``names``, a chapter's, or every registered kernel."""
    table = chapters()
    if every:
        return sorted(REGISTRY)
    if chapter is not None:
        if chapter not in table:
            raise ValueError(f"--chapter must be one of {', '.join(table)}; got {chapter!r}")
        return list(table[chapter])
    names = list(names)
    if not names:
        raise ValueError("choose kernels with --kernel NAME[,NAME], --chapter CHAPTER or --all")
    for name in names:
        if name not in REGISTRY:
            raise ValueError(f"--kernel must be a comma-separated subset of the registered kernels "
                             f"({', '.join(sorted(REGISTRY))}); got {name!r}")
    return names


def check_sizes(sizes: Iterable[str]) -> list[str]:
    sizes = list(sizes)
    for s in sizes:
        if s not in SIZES:
            raise ValueError(f"--size must be one or more of {', '.join(SIZES)}; got {s!r}")
    return sizes or [DEFAULT_ROOFLINE_SIZE]


def variants_to_time(kernel, backend: str, variants: str | list[str] = "default") -> list[str]:
    """"default": the backend's default variant; "all": every rung of its ladder; or a list
    (those of them this backend has)."""
    have = kernel.variants(backend)
    if variants == "default":
        return [kernel.defaults[backend]] if backend in kernel.defaults else []
    if variants == "all":
        return have
    return [v for v in variants if v in have]


def chapter_of(name: str) -> str:
    return next((c for c, names in chapters().items() if name in names), "?")


def workload(name: str, size: str, dtype=np.float32, seed: int = 0):
    """(Case, source) for ``name`` at ``size``: the chapter's workload, or the kernel's largest
    case by bytes where its chapter has none (source then says so)."""
    check_size(size)
    rng = np.random.default_rng(seed)
    make = workload_table().get(name)
    if make is not None:
        return make(rng, dtype, size), "workloads.py"
    kernel = REGISTRY[name]
    cases = list(kernel.cases(rng, dtype))
    return max(cases, key=lambda c: kernel.bytes(*c.args, **c.kwargs)), FALLBACK


def _on_device(args, kwargs):
    from ..runtime.opencl import to_device
    up = lambda a: to_device(a) if isinstance(a, np.ndarray) else a   # noqa: E731
    return tuple(up(a) for a in args), {k: up(v) for k, v in kwargs.items()}


def _candidate(kernel, backend, variant, case):
    """(fn, sync) timing one call; OpenCL's inputs are uploaded once, here, not in the loop."""
    import copy
    # An in-place argument gets a copy per candidate, so each updates its own; inputs are shared.
    args = tuple(copy.deepcopy(a) if i in kernel.inplace else a for i, a in enumerate(case.args))
    kwargs = dict(case.kwargs)
    sync = None
    if backend == "opencl":
        from ..runtime.opencl import finish
        args, kwargs = _on_device(args, kwargs)
        sync = finish
    return (lambda: kernel(*args, backend=backend, variant=variant, **kwargs)), sync


def kernel_records(names: list[str], sizes: list[str], backends: list[str], variants="default",
                   repeat: int = 5, dtype=np.float32, min_seconds: float = 0.05, progress=None) -> dict:
    """{"records": [...], "skipped": [...]}: one record per (kernel, size, backend, variant)
    timed, with flops, bytes, intensity, GFLOP/s, GB/s and the ratio to NumPy's time."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"--repeat must be a positive integer; got {repeat!r}")
    dtype = np.dtype(dtype).type          # cases and workloads take np.float32, not a dtype instance
    available = available_backends()
    records, skipped = [], []
    for b in backends:
        if not available[b]:
            skipped.append({"backend": b, "why": f"unavailable: {available[b].detail}"})
    backends = [b for b in backends if available[b]]
    if progress is not None:
        progress.reset(total=len(names) * len(sizes))
    for name in names:
        kernel = REGISTRY[name]
        for size in sizes:
            case, source = workload(name, size, dtype)
            flops, nbytes = float(kernel.flops(*case.args, **case.kwargs)), float(kernel.bytes(*case.args, **case.kwargs))
            candidates = {}
            for b in backends:
                for v in variants_to_time(kernel, b, variants):
                    try:
                        fn, sync = _candidate(kernel, b, v, case)
                        fn()                              # first call: compile, build, or fail here
                        candidates[(b, v)] = (fn, sync)
                    except Exception as exc:              # one broken variant does not stop the run
                        skipped.append({"kernel": name, "size": size, "backend": b, "variant": v,
                                        "why": f"{type(exc).__name__}: {exc}"[:300]})
            medians = interleaved_medians(candidates, repeat=repeat, min_seconds=min_seconds) if candidates else {}
            numpy_s = next((t for (b, _), t in medians.items() if b == "numpy"), None)
            for (b, v), seconds in medians.items():
                records.append({
                    "kernel": name, "chapter": chapter_of(name), "backend": b, "variant": v, "size": size,
                    "workload": case.label, "workload_source": source, "dtype": np.dtype(dtype).name,
                    "flops": flops, "bytes": nbytes, "intensity": flops / nbytes, "median_s": seconds,
                    "gflops": flops / seconds / 1e9, "gbps": nbytes / seconds / 1e9, "repeat": repeat,
                    "ratio_to_numpy": None if numpy_s is None else numpy_s / seconds})
            if progress is not None:
                progress.update(1)
    return {"records": records, "skipped": skipped}
