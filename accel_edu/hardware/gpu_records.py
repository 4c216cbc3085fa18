"""Recorded results of OpenCL GPUs, read from ``benchmarks/results/`` for the book.

The same kernels and measurements run unchanged on any OpenCL device (``accel-edu devices``
lists them; ``PYOPENCL_CTX`` picks one). When ``python benchmarks/machine.py`` runs on a
machine with an OpenCL GPU, its JSON (``machine-<date>*.json``, or any ``*gpu*.json``) holds
that GPU's records beside the CPU's. This module finds such files and summarises each GPU,
so a book built on a CPU can show what a GPU measured, dated and named; where no file holds a
GPU it says so, and how to record one.
"""
from __future__ import annotations

import json
from pathlib import Path

HOW_TO_RECORD = ("No OpenCL GPU result has been recorded yet. To record one, run "
                 "`python benchmarks/machine.py` on a machine where `accel-edu devices` lists an "
                 "OpenCL GPU, and commit the JSON it writes to benchmarks/results/ "
                 "(name it with -gpu, e.g. machine-<date>-gpu.json).")


def _gpu_labels(result: dict) -> list[str]:
    """Labels ('[p:d] name') of the measured OpenCL devices whose type is GPU."""
    devices = result.get("machine", {}).get("opencl_devices", [])
    gpu_ids = {d.get("id") for d in devices if "GPU" in str(d.get("type", "")).upper()}
    return [label for label in result.get("opencl_devices_measured", [])
            if label.startswith("[") and label[1:label.index("]")] in gpu_ids]


def _best(records: list[dict], device: str, **match) -> float | None:
    values = [r["best"] for r in records
              if r.get("backend") == "opencl" and r.get("device") == device and "best" in r
              and all(r.get(k) == v for k, v in match.items())]
    return max(values) if values else None


def summarise_gpu(result: dict, device: str, file: str = "") -> dict:
    """One GPU's headline figures from a measure_all() dict: {"file", "date", "device",
    "peak_float32_gflops", "peak_float64_gflops", "triad_gbps", "launch_us",
    "host_to_device_gbps", "host_to_device_latency_us"} (None where not measured)."""
    fits = [f for t in result.get("transfer", []) for f in t.get("fits", [])
            if f.get("device") == device and f.get("direction") == "host_to_device"]
    fit = max(fits, key=lambda f: f.get("bandwidth_gbps", 0)) if fits else {}
    launches = [r["median"] for r in result.get("launch", [])
                if r.get("backend") == "opencl" and r.get("device") == device]
    return {"file": file, "date": result.get("machine", {}).get("date", "undated"), "device": device,
            "peak_float32_gflops": _best(result.get("peak", []), device, dtype="float32"),
            "peak_float64_gflops": _best(result.get("peak", []), device, dtype="float64"),
            "triad_gbps": _best(result.get("stream", []), device, kernel="triad"),
            "launch_us": min(launches) if launches else None,
            "host_to_device_gbps": fit.get("bandwidth_gbps"),
            "host_to_device_latency_us": fit.get("latency_us")}


def gpu_records(results_dir) -> list[dict]:
    """Every GPU measured in ``results_dir``'s machine-*.json and *gpu*.json files, one
    :func:`summarise_gpu` dict each, oldest file first. Empty when none holds a GPU."""
    results = Path(results_dir)
    if not results.is_dir():
        raise ValueError(f"results_dir must be a folder of recorded results; got {str(results_dir)!r}")
    files = sorted(set(results.glob("machine-*.json")) | set(results.glob("*gpu*.json")))
    found = []
    for path in files:
        try:
            result = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue   # not a record this reader knows; other benchmarks keep other files here
        if isinstance(result, dict):
            found += [summarise_gpu(result, device, path.name) for device in _gpu_labels(result)]
    return found


def _fmt(value, unit: str) -> str:
    return "not measured" if value is None else f"{value:,.0f} {unit}"


def gpu_report(results_dir) -> str:
    """What the book prints: a few lines per recorded GPU, or :data:`HOW_TO_RECORD`."""
    found = gpu_records(results_dir)
    if not found:
        return HOW_TO_RECORD
    lines = []
    for g in found:
        lines += [f"{g['device']}  (recorded {g['date']}, {g['file']})",
                  f"  peak float32 {_fmt(g['peak_float32_gflops'], 'GFLOP/s')}, "
                  f"float64 {_fmt(g['peak_float64_gflops'], 'GFLOP/s')}",
                  f"  STREAM triad {_fmt(g['triad_gbps'], 'GB/s')}; empty kernel {_fmt(g['launch_us'], 'us')}",
                  f"  host -> device {_fmt(g['host_to_device_gbps'], 'GB/s')} "
                  f"after {_fmt(g['host_to_device_latency_us'], 'us')}"]
    return "\n".join(lines)
