"""Host-to-device and device-to-host copies: bandwidth and latency against size.

A copy of ``size`` bytes takes about ``latency + size / bandwidth``: a fixed cost (the
driver's call, queueing, waking a thread, on a GPU a DMA setup) and a rate (on a CPU device, a
memcpy; on a GPU, the PCIe link). Small copies are all latency and large ones all bandwidth,
so one number cannot describe both: :func:`fit_latency_bandwidth` fits the two by least squares
and :func:`opencl_transfers` returns the measured points beside the fit.

Copies are ``pyopencl.enqueue_copy`` and wait until done, from two kinds of host memory:

- pageable: an ordinary NumPy array. A GPU driver first copies it into a pinned staging buffer
  (the hardware can only DMA from memory the OS will not move).
- pinned: a buffer allocated with ``ALLOC_HOST_PTR`` and mapped into the host, which a GPU can
  DMA from directly. On a CPU device (PoCL) both are a memcpy, and should measure alike.
"""
from __future__ import annotations

import numpy as np

from .records import check_sizes, check_positive_int, record, time_samples

DIRECTIONS = ("host_to_device", "device_to_host")
MEMORY = ("pageable", "pinned")


def default_sizes(smallest: int = 64, largest: int = 64 * 2 ** 20) -> list[int]:
    """Bytes, four per factor of 16 from 64 B to 64 MiB: 64, 128, 256, ... (a doubling each)."""
    return [int(s) for s in 2 ** np.arange(np.log2(smallest), np.log2(largest) + 1)]


def fit_latency_bandwidth(sizes, seconds) -> dict:
    """Fit seconds = latency + size / bandwidth (sizes in bytes) by least squares.

    Each point is weighted by 1/seconds, so that the error is relative: without it the largest
    copies, thousands of times slower than the smallest, would decide the line alone and the
    latency would be noise. Returns {"latency_s", "latency_us", "bandwidth_gbps",
    "rms_relative_error"}; bandwidth_gbps is None when the fitted slope is not positive (every
    copy as fast as the smallest: latency-bound throughout).
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    seconds = np.asarray(seconds, dtype=np.float64)
    if sizes.ndim != 1 or sizes.shape != seconds.shape or sizes.size < 2:
        raise ValueError(f"sizes and seconds must be 1-D of the same length >= 2; got shapes "
                         f"{sizes.shape} and {seconds.shape}")
    if not (np.all(np.isfinite(sizes)) and np.all(sizes > 0)):
        raise ValueError(f"sizes must be positive finite byte counts; got {sizes.tolist()}")
    if not (np.all(np.isfinite(seconds)) and np.all(seconds > 0)):
        raise ValueError(f"seconds must be positive finite times; got {seconds.tolist()}")
    if np.unique(sizes).size < 2:
        raise ValueError(f"sizes must hold at least two different sizes to fit a line; got {sizes.tolist()}")
    w = 1.0 / seconds
    design = np.stack([np.ones_like(sizes), sizes], axis=1) * w[:, None]
    (latency, per_byte), *_ = np.linalg.lstsq(design, seconds * w, rcond=None)
    predicted = latency + per_byte * sizes
    return {"latency_s": float(latency), "latency_us": float(latency) * 1e6,
            "bandwidth_gbps": float(1 / per_byte / 1e9) if per_byte > 0 else None,
            "rms_relative_error": float(np.sqrt(np.mean((predicted / seconds - 1) ** 2)))}


def _host_arrays(device, nbytes: int):
    """(pageable, pinned) host arrays of nbytes, and the pinned buffer that must outlive its map."""
    import pyopencl as cl
    from . import opencl_devices as ocl
    pageable = np.ones(nbytes, np.uint8)
    flags = cl.mem_flags.READ_WRITE | cl.mem_flags.ALLOC_HOST_PTR
    pinned_buffer = cl.Buffer(ocl.context(device), flags, nbytes)
    pinned, _ = cl.enqueue_map_buffer(ocl.queue(device), pinned_buffer, cl.map_flags.READ | cl.map_flags.WRITE,
                                      0, (nbytes,), np.uint8)
    pinned[:] = 1
    return pageable, pinned, pinned_buffer


def opencl_transfers(device, sizes=None, repeat: int = 5, min_seconds: float = 0.005) -> dict:
    """{"points": one record per (direction, memory, size), "fits": one per (direction, memory),
    fitted to each size's fastest sample}. Each sample loops the copy for ``min_seconds``, so
    a 64-byte copy is timed over many."""
    import pyopencl as cl
    from . import opencl_devices as ocl
    sizes = check_sizes("sizes", default_sizes() if sizes is None else sizes)
    check_positive_int("repeat", repeat)
    queue, label = ocl.queue(device), ocl.device_label(device)
    largest = max(sizes)
    device_buffer = ocl.buffer(device, largest)
    pageable, pinned, _keep = _host_arrays(device, largest)
    hosts = {"pageable": pageable, "pinned": pinned}
    points = []
    for direction in DIRECTIONS:
        for memory in MEMORY:
            for size in sizes:
                host = hosts[memory][:size]
                if direction == "host_to_device":
                    copy = lambda: cl.enqueue_copy(queue, device_buffer, host, is_blocking=True)  # noqa: E731
                else:
                    copy = lambda: cl.enqueue_copy(queue, host, device_buffer, is_blocking=True)  # noqa: E731
                samples = time_samples(copy, repeat=repeat, min_seconds=min_seconds, sync=queue.finish)
                points.append(record("transfer_bandwidth", "GB/s", "opencl", label, size, "bytes", samples,
                                     work=size / 1e9, direction=direction, memory=memory))
    fits = []
    for direction in DIRECTIONS:
        for memory in MEMORY:
            mine = [p for p in points if p["direction"] == direction and p["memory"] == memory]
            # The fastest sample of each size: other processes only ever add time, and on a busy
            # machine the medians' noise tipped a fit's slope negative.
            fit = fit_latency_bandwidth([p["size"] for p in mine], [p["best_s"] for p in mine])
            fits.append({"quantity": "transfer_fit", "backend": "opencl", "device": label,
                         "direction": direction, "memory": memory, **fit})
    return {"points": points, "fits": fits}
