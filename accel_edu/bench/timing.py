"""Timing that can be trusted on a shared, noisy machine.

A time is the median of ``repeat`` runs after ``warmup`` untimed runs (which pay Numba's
compile and PoCL's program build). OpenCL work is queued asynchronously, so the clock stops
only after the queue has finished.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable



def torch_on_numbas_threads(torch) -> None:
    """Give PyTorch as many threads as Numba has, so a ratio compares like with like."""
    import numba
    torch.set_num_threads(numba.get_num_threads())

def median_time(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1,
                min_seconds: float = 0.0, settle: float = 0.2, sync: Callable[[], None] | None = None) -> float:
    """Median wall-clock seconds of one ``fn()`` call.

    ``sync`` (for example ``runtime.opencl.finish``) is called before each clock stop.
    With ``min_seconds``, each sample loops ``fn`` until that much time has passed and
    divides, so microsecond kernels are not lost in the clock's resolution.
    """
    sync = sync or (lambda: None)
    # OpenBLAS's threads spin for a moment after a call returns; a kernel timed right after
    # NumPy then shares the cores with them and looks up to 2x slower. Let them settle.
    time.sleep(settle)
    for _ in range(warmup):
        fn()
    sync()
    samples = []
    for _ in range(repeat):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        samples.append(elapsed / calls)
    return statistics.median(samples)


def interleaved_medians(candidates: dict, *, repeat: int = 5, min_seconds: float = 0.05,
                        settle: float = 0.2) -> dict:
    """Median seconds per call of each candidate, timed round-robin.

    candidates: {name: (fn, sync or None)}. Each round times every candidate once, in turn,
    so a burst of noise from another process, or another library's threads still spinning
    after their last call (OpenBLAS, PyTorch's OpenMP, PoCL's workers), lands on all of them
    alike instead of on whichever happened to run next. Timing one candidate's runs back to
    back, then the next, let such bursts swing single ratios by 2-3x here.
    """
    samples = {name: [] for name in candidates}
    for name, (fn, sync) in candidates.items():  # warm-up: compile, build, first-touch
        fn()
        (sync or (lambda: None))()
    for _ in range(repeat):
        for name, (fn, sync) in candidates.items():
            time.sleep(settle)
            samples[name].append(median_time(fn, repeat=1, warmup=0, min_seconds=min_seconds,
                                             settle=0.0, sync=sync))
    return {name: statistics.median(s) for name, s in samples.items()}
