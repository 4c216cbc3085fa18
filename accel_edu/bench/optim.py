"""``accel-edu bench optim``: one Adam step on a large parameter vector, fused and unfused,
as achieved memory bandwidth next to the machine's STREAM triad measured in the same run.

An Adam step does a handful of flops per parameter and must read p, g, m, v and write p, m, v:
7 numbers per parameter, 28 bytes in float32. That is the least traffic any implementation
can have, and it is what every row counts: ``gbps = 28 n / time``. A fused kernel moves about
that much, so its figure is its real bandwidth; an unfused one moves more (each separate pass
re-reads and re-writes whole arrays, and NumPy allocates temporaries), so its figure is the
bandwidth it *effectively* delivers to the update. Rows:

    numpy   unfused        the reference, numpy_kernels.adam_update (about ten array passes)
    numba   three passes   m, then v, then p, each its own parallel loop (10 numbers/param)
    numba   fused          numba_kernels.adam_update: one loop, 7 numbers/param
    opencl  fused          update.cl's adam_update, state on the device
    torch   for-loop / fused   torch.optim.Adam(foreach=False) and (fused=True), if installed

Every candidate of one size is timed round-robin (``timing.interleaved_medians``), and STREAM
triad (``stream.py``) runs in the same process just before, so the fraction is of this
machine, under this load.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..runtime import available_backends, to_device
from .stream import DEFAULT_N, stream
from .timing import interleaved_medians

WORDS_PER_PARAM = 7          # read p, g, m, v; write p, m, v
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
DEFAULT_SIZES = (1 << 20, 1 << 22, 1 << 24)


@njit(cache=True, fastmath=False, parallel=True)
def _moment(avg, g, beta, one_minus_beta, square):
    for i in prange(avg.shape[0]):
        gi = g[i] * g[i] if square else g[i]
        avg[i] = beta * avg[i] + one_minus_beta * gi


@njit(cache=True, fastmath=False, parallel=True)
def _apply(p, m, v, step_size, bc2_sqrt, eps):
    for i in prange(p.shape[0]):
        p[i] -= step_size * m[i] / (math.sqrt(v[i]) / bc2_sqrt + eps)


def adam_three_passes(p, g, m, v, step):
    """The same Adam step as three Numba loops (m, v, then p): what an unfused but compiled
    version moves, 10 numbers per parameter instead of 7."""
    real = p.dtype.type
    _moment(m, g, real(BETA1), real(1 - BETA1), False)
    _moment(v, g, real(BETA2), real(1 - BETA2), True)
    _apply(p, m, v, real(LR / (1 - BETA1 ** step)), real(math.sqrt(1 - BETA2 ** step)), real(EPS))


def _arrays(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n, dtype=np.float32).astype(dtype)
    g = rng.standard_normal(n, dtype=np.float32).astype(dtype)
    return p, g, np.zeros_like(p), (g * g * 1e-3).astype(dtype)


def adam_candidates(n: int, backends, dtype=np.float32, skipped: dict | None = None) -> dict:
    """{(backend, variant): (fn, sync)}: one Adam step on n parameters per call. Each
    candidate owns its arrays (step 10, so the bias correction is not trivial). A candidate
    that fails its first call is left out, with the reason put in ``skipped``."""
    import accel_edu.chapters  # noqa: F401  registers the kernels
    from ..optim import kernels as K
    have = available_backends()
    skipped = {} if skipped is None else skipped
    candidates = {}
    if "numpy" in backends:
        a = _arrays(n, dtype)
        ref = K.adam_update.implementation("numpy")
        candidates[("numpy", "unfused")] = (lambda: ref(*a, LR, BETA1, BETA2, EPS, 0.0, 10), None)
    if "numba" in backends and have["numba"]:
        a, b = _arrays(n, dtype), _arrays(n, dtype)
        fused = K.adam_update.implementation("numba")
        candidates[("numba", "three passes")] = (lambda: adam_three_passes(*a, 10), None)
        candidates[("numba", "fused")] = (lambda: fused(*b, LR, BETA1, BETA2, EPS, 0.0, 10), None)
    if "opencl" in backends and have["opencl"]:
        from ..runtime.opencl import finish
        d = [to_device(x) for x in _arrays(n, dtype)]
        device = K.adam_update.implementation("opencl")
        try:  # the first call builds the program; a device that cannot is reported, not fatal
            device(*d, LR, BETA1, BETA2, EPS, 0.0, 10)
            finish()
            candidates[("opencl", "fused")] = (lambda: device(*d, LR, BETA1, BETA2, EPS, 0.0, 10), finish)
        except Exception as exc:  # pyopencl's RuntimeError for a failed build
            lines = [ln.strip() for ln in str(exc).splitlines() if "error" in ln.lower()] or [str(exc)]
            skipped[("opencl", "fused")] = f"{type(exc).__name__}: {lines[-1][:200]}"
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and "torch" in backends:
        for variant, opts in (("for-loop", dict(foreach=False)), ("fused", dict(fused=True))):
            p, g, _, _ = _arrays(n, dtype)
            tp = torch.nn.Parameter(torch.from_numpy(p))
            tp.grad = torch.from_numpy(g)
            opt = torch.optim.Adam([tp], lr=LR, betas=(BETA1, BETA2), eps=EPS, **opts)
            candidates[("torch", variant)] = (opt.step, None)
    return candidates


def optim_records(sizes=DEFAULT_SIZES, backends=("numpy", "numba", "opencl", "torch"), *, repeat=5,
                  stream_n=None, progress=None) -> dict:
    """{"stream": stream()'s result, "records": [one per (size, backend, variant)],
    "skipped": {"backend/variant": why}}.

    Each record: kernel, backend, variant, n, median_s, bytes (7 numbers per parameter),
    gbps, fraction_of_stream (of the STREAM triad median measured first)."""
    for n in sizes:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"sizes must be positive integers; got {n!r}")
    bw = stream(stream_n or DEFAULT_N, repeat=max(repeat, 3))
    triad = bw["triad"]["median_gbps"]
    records, skipped = [], {}
    for n in sizes:
        candidates = adam_candidates(n, backends, skipped=skipped)
        times = interleaved_medians(candidates, repeat=repeat, min_seconds=0.05)
        for (backend, variant), seconds in times.items():
            nbytes = WORDS_PER_PARAM * n * 4
            records.append({"kernel": "adam_update", "backend": backend, "variant": variant, "n": n,
                            "median_s": seconds, "bytes": nbytes, "gbps": nbytes / seconds / 1e9,
                            "fraction_of_stream": nbytes / seconds / 1e9 / triad})
        del candidates
        if progress is not None:
            progress.update()
    return {"stream": bw, "records": records, "skipped": {"/".join(k): v for k, v in skipped.items()}}
