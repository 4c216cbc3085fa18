"""The roofline: where a kernel stands against the machine's two limits.

A kernel that performs F FLOPs and must move B bytes has arithmetic intensity I = F / B
(FLOP/byte). On a machine with peak rate P (GFLOP/s) and memory bandwidth W (GB/s) it can run
no faster than

    attainable(I) = min(P, I * W)      GFLOP/s

a slanted roof (memory-bound, left of the ridge I = P / W) meeting a flat one (compute-bound,
right of it). Williams, Waterman and Patterson, "Roofline", CACM 2009.

Units everywhere in this module: GFLOP/s, GB/s, FLOP/byte, seconds.

A *ceiling* is a dict ``{"name", "backend", "peak_gflops", "bandwidth_gbps", "source"}``: one
per backend, from measured peaks (:func:`ceilings_from_machine`). A *point* is a dict
``{"kernel", "backend", "variant", "size", "intensity", "gflops", "gbps", "attainable_gflops",
"fraction", ...}`` made by :func:`place` from benchmark records. ``parts`` are extra ceilings
(published peaks of real GPUs and TPUs, say) drawn dashed on the same axes.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

# One colour per backend, shared by the ceilings and the points that run on it.
COLOURS = {"numpy": "tab:blue", "numba": "tab:orange", "opencl": "tab:green", "torch": "tab:red"}


def attainable(intensity, peak_flops, bandwidth):
    """min(peak_flops, intensity * bandwidth): the roofline at ``intensity``.

    With peak in GFLOP/s and bandwidth in GB/s the result is GFLOP/s. Works elementwise on
    NumPy arrays of intensities."""
    import numpy as np
    for name, value in (("peak_flops", peak_flops), ("bandwidth", bandwidth)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    i = np.asarray(intensity, dtype=float)
    if np.any(~np.isfinite(i)) or np.any(i < 0):
        raise ValueError(f"intensity must be finite and >= 0 FLOP/byte; got {intensity!r}")
    out = np.minimum(peak_flops, i * bandwidth)
    return float(out) if out.ndim == 0 else out


def ridge(ceiling: dict) -> float:
    """The intensity (FLOP/byte) where a ceiling turns from memory- to compute-bound: P / W."""
    return ceiling["peak_gflops"] / ceiling["bandwidth_gbps"]


def _best(records, **match):
    """The largest "best" among records whose fields equal ``match`` (a limit: noise only slows)."""
    values = [r["best"] for r in records if all(r.get(k) == v for k, v in match.items())]
    return max(values) if values else None


def ceilings_from_machine(machine: dict, dtype: str = "float32") -> list[dict]:
    """One ceiling per backend from a :func:`accel_edu.hardware.measure.measure_all` result
    (or a recorded ``benchmarks/results/machine-*.json``).

    - numba: the FMA-chain peak on all threads, and Numba's STREAM triad;
    - opencl: each measured device's FMA peak and its triad;
    - numpy: the large matmul (OpenBLAS) as its measured peak, and NumPy's triad.

    The best sample of each is used: on a shared machine other work can only slow a run, so
    the fastest sample is the closest estimate of the limit. STREAM is measured in float64;
    bytes are bytes, so its GB/s is the ceiling for any dtype. A backend lacking either number
    is left out."""
    if not isinstance(machine, dict) or "peak" not in machine or "stream" not in machine:
        raise ValueError("machine must be a measure_all() dict with 'peak' and 'stream' records; "
                         f"got {type(machine).__name__} with keys {sorted(machine)[:8] if isinstance(machine, dict) else '-'}")
    peaks = [r for r in machine["peak"] if r.get("dtype") == dtype]
    triads = [r for r in machine["stream"] if r.get("kernel") == "triad"]
    ceilings = []

    numba_peaks = [r for r in peaks if r["backend"] == "numba"]
    if numba_peaks:
        most = max(numba_peaks, key=lambda r: int(str(r["device"]).split()[0]))["device"]
        _append(ceilings, "Numba", "numba", _best(numba_peaks, device=most),
                _best(triads, backend="numba"), f"fma_chains {dtype} ({most}), STREAM triad")
    for device in sorted({r["device"] for r in peaks if r["backend"] == "opencl"}):
        _append(ceilings, f"OpenCL {device}", "opencl", _best(peaks, backend="opencl", device=device),
                _best(triads, backend="opencl", device=device) or _best(triads, backend="opencl"),
                f"fma_peak {dtype}, STREAM triad")
    _append(ceilings, "NumPy (OpenBLAS matmul)", "numpy", _best(peaks, backend="numpy", kernel="matmul"),
            _best(triads, backend="numpy"), f"matmul {dtype}, STREAM triad")
    return ceilings


# measure_peaks settings: "quick" takes a few seconds and reads DRAM (arrays of 4M float64,
# 96 MiB for the three, past a 32 MiB L3); "full" is what accel-edu bench machine measures.
PEAK_SETTINGS = {"quick": {"numba_iterations": 200_000, "opencl_iterations": 20_000, "matmul_n": 1024,
                           "stream_n": 4_000_000, "repeat": 3},
                 "full": {"numba_iterations": 2_000_000, "opencl_iterations": 100_000, "matmul_n": 2048,
                          "stream_n": 20_000_000, "repeat": 5}}


def measure_peaks(quick: bool = True, dtype: str = "float32", opencl: bool = True) -> dict:
    """The measurements a roofline's ceilings need, in the shape of a ``measure_all`` result
    ({"machine", "peak", "stream", "errors"}): FMA peaks (Numba on all threads, each usable
    OpenCL device), NumPy's matmul, and STREAM on NumPy, Numba and OpenCL. A backend that
    fails is recorded under "errors" and left out of the ceilings."""
    import numba
    import numpy as np
    from . import peak, stream
    from .machine import describe_machine
    s = PEAK_SETTINGS["quick" if quick else "full"]
    dt = np.dtype(dtype)
    result = {"machine": describe_machine(), "settings": {"quick": quick, **s}, "peak": [], "stream": [],
              "errors": []}
    steps = [("peak", lambda: [peak.numba_peak(dt, s["numba_iterations"], s["repeat"], numba.get_num_threads())]),
             ("peak", lambda: [peak.numpy_peak(dt, s["matmul_n"], s["repeat"])]),
             ("stream", lambda: stream.numpy_stream(s["stream_n"], s["repeat"])),
             ("stream", lambda: stream.numba_stream(s["stream_n"], s["repeat"]))]
    if opencl:
        try:
            from .opencl_devices import usable_devices
            devices = usable_devices()
        except Exception as exc:   # no pyopencl, no platform: no OpenCL ceiling
            devices = []
            result["errors"].append({"section": "opencl", "error": f"{type(exc).__name__}: {exc}"[:300]})
        for dev in devices:
            steps.append(("peak", lambda dev=dev: [peak.opencl_peak(dev, dt, s["opencl_iterations"], s["repeat"])]))
            steps.append(("stream", lambda dev=dev: stream.opencl_stream(
                dev, s["stream_n"], s["repeat"], np.float64 if dev.double_fp_config else np.float32)))
    for section, thunk in steps:
        try:
            result[section].extend(thunk())
        except Exception as exc:   # recorded; the other ceilings still stand
            result["errors"].append({"section": section, "error": f"{type(exc).__name__}: {exc}"[:300]})
    return result


def _append(ceilings, name, backend, peak, bandwidth, source):
    if peak and bandwidth:
        ceilings.append({"name": name, "backend": backend, "peak_gflops": float(peak),
                         "bandwidth_gbps": float(bandwidth), "source": source})


def ceiling_for(ceilings: list[dict], backend: str) -> dict | None:
    """The first ceiling of ``backend`` (the default OpenCL device comes first), or None."""
    return next((c for c in ceilings if c["backend"] == backend), None)


def place(records: list[dict], ceilings: list[dict] | None = None) -> list[dict]:
    """Points on the roofline from benchmark records.

    Each record needs "kernel", "backend", "flops" (one call), "bytes" (one call) and
    "median_s"; "variant" and "size" are carried along. A point adds "intensity"
    (flops / bytes), "gflops", "gbps", and, where ``ceilings`` has one for the record's
    backend, "attainable_gflops" (the roof at that intensity) and "fraction" (gflops over it;
    can pass 1 when the ceiling was measured on a slower moment or the data fit in cache).
    A record with zero flops (a copy, a gather) gets intensity 0 and its fraction from
    bandwidth alone (gbps over the ceiling's)."""
    points = []
    for r in records:
        for key in ("kernel", "backend", "flops", "bytes", "median_s"):
            if key not in r:
                raise ValueError(f"records must each have {key!r}; got a record with {sorted(r)}")
        flops, nbytes, seconds = float(r["flops"]), float(r["bytes"]), float(r["median_s"])
        if not (nbytes > 0 and seconds > 0 and flops >= 0):
            raise ValueError(f"record {r['kernel']}/{r['backend']}: bytes and median_s must be > 0 and "
                             f"flops >= 0; got bytes={nbytes}, median_s={seconds}, flops={flops}")
        p = dict(r)
        p.update(intensity=flops / nbytes, gflops=flops / seconds / 1e9, gbps=nbytes / seconds / 1e9,
                 attainable_gflops=None, fraction=None)
        c = ceiling_for(ceilings or [], r["backend"])
        if c is not None:
            if flops > 0:
                p["attainable_gflops"] = attainable(p["intensity"], c["peak_gflops"], c["bandwidth_gbps"])
                p["fraction"] = p["gflops"] / p["attainable_gflops"]
            else:
                p["fraction"] = p["gbps"] / c["bandwidth_gbps"]
            p["ceiling"] = c["name"]
        points.append(p)
    return points


def plot_roofline(ax, ceilings: list[dict], points: list[dict], parts: list[dict] | None = None,
                  label_points: bool = True):
    """Draw ceilings (solid, one colour per backend), ``parts`` (grey, one dash pattern each,
    named in the legend) and points (coloured by backend, labelled by kernel) on log-log axes ``ax``.
    A point with zero FLOPs (a copy, a gather) cannot sit on a log axis: it is drawn as a
    triangle at the left edge, at height gbps * intensity there, so its distance below the
    slanted roof is its fraction of the bandwidth."""
    import numpy as np
    all_ceilings = list(ceilings) + list(parts or [])
    intensities = [p["intensity"] for p in points if p["intensity"] > 0]
    ridges = [ridge(c) for c in all_ceilings]
    lo = min([0.01, *(i / 2 for i in intensities)])
    hi = max([100.0, *(i * 2 for i in intensities), *(r * 4 for r in ridges)])
    x = np.logspace(math.log10(lo), math.log10(hi), 200)
    for c in ceilings:
        ax.plot(x, attainable(x, c["peak_gflops"], c["bandwidth_gbps"]), lw=2,
                color=COLOURS.get(c["backend"], "black"),
                label=f"{c['name']}: {c['peak_gflops']:.0f} GFLOP/s, {c['bandwidth_gbps']:.0f} GB/s")
    # Parts' peaks sit close together (H100 and MI300X, A100 and TPU v4 in BF16), so labels
    # written at the lines collide: each part gets its own dash pattern and a legend entry.
    dashes = ["--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2))]
    for k, c in enumerate(sorted(parts or [], key=lambda c: -c["peak_gflops"])):
        ax.plot(x, attainable(x, c["peak_gflops"], c["bandwidth_gbps"]), lw=1.2, color="0.45",
                ls=dashes[k % len(dashes)],
                label=f"{c['name']}: {c['peak_gflops'] / 1e3:.0f} TFLOP/s, {c['bandwidth_gbps']:.0f} GB/s")
    for p in points:
        i = p["intensity"] if p["intensity"] > 0 else lo
        y = p["gflops"] if p["gflops"] > 0 else p["gbps"] * lo
        ax.scatter([i], [y], s=24, color=COLOURS.get(p["backend"], "black"), zorder=3,
                   marker="o" if p["intensity"] > 0 else "<")
        if label_points:
            ax.annotate(p["kernel"], (i, y), fontsize=6, xytext=(3, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("GFLOP/s")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return ax


def write_roofline(png_path, ceilings: list[dict], points: list[dict], parts: list[dict] | None = None,
                   title: str | None = None, extra: dict | None = None) -> tuple[Path, Path]:
    """Write the roofline as ``png_path`` and its data as the same name with ``.json``
    ({"ceilings", "parts", "points", **extra}). Returns both paths."""
    from matplotlib.figure import Figure   # no pyplot: leaves a notebook's backend alone
    png = Path(png_path)
    if png.suffix.lower() != ".png":
        raise ValueError(f"png_path must end in .png; got {str(png_path)!r}")
    fig = Figure(figsize=(8, 5.5))
    ax = fig.add_subplot()
    plot_roofline(ax, ceilings, points, parts, label_points=len(points) <= 40)   # past 40 labels only clutter
    ax.set_title(title or "roofline: measured kernels against measured peaks", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    data = {"ceilings": ceilings, "parts": parts or [], "points": points, **(extra or {})}
    js = png.with_suffix(".json")
    js.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return png, js
