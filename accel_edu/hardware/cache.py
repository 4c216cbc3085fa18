"""Bandwidth against working-set size: the steps where L1, L2 and L3 run out.

A read-mostly kernel sums the first ``size`` bytes of one array, pass after pass. While those
bytes fit in a cache, every pass after the first reads from that cache, so the rate measured is
that cache's bandwidth; past the last level it is DRAM's. Each size is read enough passes to
move about ``bytes_per_sample`` (1 GiB) per sample, so small sizes are not lost in the cost of
a call (or of starting a parallel region), and every pass of the largest comes from memory.

- Numba, one thread and all threads. Summing floats in order is a chain of dependent adds (one
  per 3-4 cycles), which would measure the adder's latency, not the memory: ``fastmath=
  {"reassoc"}`` lets LLVM keep several partial sums in vector registers, so the loop issues
  vector loads as fast as the caches deliver them. With all threads, each sums its own
  contiguous share, so the working set is split between the cores' private caches (and the
  plot's L1/L2 steps move right by the thread count).
- OpenCL: ``cache.cl``, vectors of the device's preferred width into four sums; on a CPU one
  work-item per compute unit reading a contiguous share (the first version, neighbouring
  work-items reading neighbouring floats, ran at 1-15 GB/s on PoCL: it did not vectorise).

The array is float32, allocated once at the largest size and first-touched; smaller sizes read
its beginning. :func:`accel_edu.hardware.cache_sizes.cache_levels` gives the sizes to mark.
"""
from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from ..runtime import numba_setup  # noqa: F401  (threading layer, before any prange runs)
from .records import check_positive_int, check_sizes, record, time_samples
from .stream import first_touch

SOURCE = Path(__file__).with_name("cache.cl")
BYTES_PER_SAMPLE = 2 ** 30   # 1 GiB: 2-3 ms from the L1s, so a parallel region's 40-110 us start is noise
ITEM = 4        # float32
GROUP = 64      # OpenCL work-group size


def default_sizes(smallest: int = 4 * 2 ** 10, largest: int = 256 * 2 ** 20, per_octave: int = 2) -> list[int]:
    """Log-spaced working sets in bytes, ``per_octave`` per doubling: 4 KiB, 5 KiB, 8 KiB, 11 KiB, ...
    Each a multiple of 1 KiB (rounded down), which every backend can split between its threads."""
    check_positive_int("smallest", smallest)
    check_positive_int("largest", largest)
    check_positive_int("per_octave", per_octave)
    if largest < smallest:
        raise ValueError(f"largest must be >= smallest ({smallest}); got {largest}")
    octaves = np.log2(largest / smallest)
    points = smallest * 2.0 ** (np.arange(int(round(octaves * per_octave)) + 1) / per_octave)
    return sorted({max(smallest, int(p) // 1024 * 1024) for p in points})


@njit(cache=True, fastmath={"reassoc"})
def read_sum(x, passes):
    """Sum of x over ``passes`` passes.  x: (n,) float32 contiguous."""
    total = x.dtype.type(0)
    for _ in range(passes):
        for i in range(x.shape[0]):   # reassoc: vectorised, several partial sums in flight
            total += x[i]
    return total


@njit(cache=True, fastmath={"reassoc"}, parallel=True)
def read_sum_parallel(x, passes, out):
    """out[t] = read_sum of thread t's contiguous share of x.  x: (n,), out: (threads,)."""
    threads = out.shape[0]
    share = x.shape[0] // threads
    for t in prange(threads):
        out[t] = read_sum(x[t * share:(t + 1) * share], passes)


def _passes(size: int, bytes_per_sample: int) -> int:
    return max(1, bytes_per_sample // size)


def _record(backend, device, size, passes, samples, **extra):
    return record("read_bandwidth", "GB/s", backend, device, size, "bytes (working set)", samples,
                  work=size * passes / 1e9, passes=passes, dtype="float32", **extra)


def _check(sizes, repeat, bytes_per_sample):
    sizes = check_sizes("sizes", sizes, minimum=4096)
    if any(s % 1024 for s in sizes):
        raise ValueError(f"sizes must be multiples of 1024 bytes; got {sizes!r}")
    check_positive_int("repeat", repeat)
    check_positive_int("bytes_per_sample", bytes_per_sample)
    return sizes


def numba_cache_curve(sizes=None, repeat: int = 5, threads: int | None = None,
                      bytes_per_sample: int = BYTES_PER_SAMPLE) -> list[dict]:
    """One record per size, on one thread (threads=1) or on ``threads`` (default: all)."""
    sizes = _check(default_sizes() if sizes is None else sizes, repeat, bytes_per_sample)
    threads = numba.get_num_threads() if threads is None else check_positive_int("threads", threads)
    x = np.empty(max(sizes) // ITEM, np.float32)
    first_touch(x, np.float32(1.0))
    out = np.zeros(threads, np.float32)
    records = []
    for size in sizes:
        view, passes = x[:size // ITEM], _passes(size, bytes_per_sample)
        if threads == 1:
            run = lambda: read_sum(view, passes)  # noqa: E731
        else:
            run = lambda: read_sum_parallel(view, passes, out)  # noqa: E731
        samples = time_samples(run, repeat=repeat, min_seconds=0.0)
        read = view.shape[0] // threads * threads * ITEM   # each thread's equal share, together
        records.append(_record("numba", f"{threads} thread{'s' * (threads > 1)}", read, passes, samples))
    return records


def opencl_cache_curve(device, sizes=None, repeat: int = 5, bytes_per_sample: int = BYTES_PER_SAMPLE) -> list[dict]:
    """One record per size on ``device`` (cache.cl). A CPU gets one work-item per compute unit,
    each reading a contiguous share (like Numba's threads); a GPU many strided work-items."""
    import pyopencl as cl
    from . import opencl_devices as ocl
    sizes = _check(default_sizes() if sizes is None else sizes, repeat, bytes_per_sample)
    lanes = device.preferred_vector_width_float if device.preferred_vector_width_float in (1, 2, 4, 8, 16) else 1
    cpu = ocl.is_cpu(device)
    queue = ocl.queue(device)
    x = ocl.buffer(device, max(sizes))
    cl.enqueue_fill_buffer(queue, x, np.float32(1.0), 0, max(sizes))
    kernel = ocl.kernel(device, SOURCE, "read_sum", floatv="float" if lanes == 1 else f"float{lanes}",
                        CONTIGUOUS=int(cpu))
    local = 1 if cpu else min(GROUP, device.max_work_group_size)
    wanted = device.max_compute_units * (1 if cpu else 8 * local)
    out = ocl.buffer(device, wanted * lanes * ITEM)
    records = []
    for size in sizes:
        vectors = size // (ITEM * lanes)
        # Every work-item reads a multiple of 4 vectors; the smallest sizes use fewer work-items.
        items = max(local, min(wanted, vectors // 4) // local * local)
        per_item = vectors // items // 4 * 4
        passes = _passes(size, bytes_per_sample)
        samples = time_samples(lambda: kernel(queue, (items,), (local,), x, np.int32(per_item),
                                              np.int32(passes), out),
                               repeat=repeat, min_seconds=0.0, sync=queue.finish)
        records.append(_record("opencl", ocl.device_label(device), items * per_item * lanes * ITEM, passes,
                               samples, work_items=items, local_size=local, lanes=lanes))
    return records
