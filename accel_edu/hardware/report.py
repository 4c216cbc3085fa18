"""A terminal summary of :func:`accel_edu.hardware.measure.measure_all`'s result: the figures a
reader compares first (peaks against the theoretical one, STREAM, the cache steps, transfer
latency and bandwidth, launch and compile costs). Everything else is in the JSON."""
from __future__ import annotations


def _rows(title: str, header: str, lines: list[str]) -> list[str]:
    return [title, header, "-" * len(header), *lines, ""]


def format_summary(result: dict) -> str:
    m = result["machine"]
    out = [f"{m['cpu']}, {m['cores']} cores, {m['simd_register_bytes'] * 8}-bit SIMD, clock {m['clock_mhz']} MHz "
           f"(reported); Numba {m['numba']} ({m['numba_threading_layer']}), NumPy {m['numpy']}", ""]
    roof = {t["dtype"]: t["value"] for t in result["theoretical_peak"]}
    out += _rows(f"Peak GFLOP/s (best of samples; theoretical float32 {roof['float32'] or 0:.0f}, "
                 f"float64 {roof['float64'] or 0:.0f})",
                 f"{'backend':<8} {'kernel':<26} {'device':<12} {'dtype':<8} {'best':>8} {'median':>8} "
                 f"{'x theory':>8}",
                 [f"{r['backend']:<8} {r['kernel'][:26]:<26} {r['device'][:12]:<12} {r['dtype']:<8} "
                  f"{r['best']:>8.1f} {r['median']:>8.1f} {r['fraction_of_theoretical'] or 0:>8.2f}"
                  for r in result["peak"]])
    out += _rows("STREAM GB/s (median; bytes counted as STREAM does)",
                 f"{'backend':<8} {'device':<40} {'copy':>7} {'scale':>7} {'add':>7} {'triad':>7}",
                 [f"{b:<8} {d[:40]:<40} " + " ".join(f"{r['median']:>7.1f}" for r in rs)
                  for (b, d), rs in _grouped(result["stream"]).items()])
    levels = result.get("cache_levels", {})
    marks = ", ".join(f"{k} {v // 1024} KiB" for k, v in levels.items())
    curves = _grouped(result["cache"])
    sizes = sorted({r["size"] for r in result["cache"]})
    picks = sizes[::max(1, len(sizes) // 8)]                  # about 8 rows, and always the largest
    picks += [s for s in sizes[-1:] if s not in picks]
    out += _rows(f"Read bandwidth GB/s against working set (best; per-core caches: {marks})",
                 f"{'size':>10} " + " ".join(f"{(b + ' ' + d)[:18]:>18}" for b, d in curves),
                 [f"{_size(s):>10} " + " ".join(f"{_at(rs, s):>18}" for rs in curves.values()) for s in picks])
    out += _rows("Transfers (fit: latency + size / bandwidth)",
                 f"{'device':<40} {'direction':<15} {'memory':<9} {'latency':>10} {'GB/s':>7}",
                 [f"{f['device'][:40]:<40} {f['direction']:<15} {f['memory']:<9} {f['latency_us']:>7.1f} us "
                  f"{f['bandwidth_gbps'] or float('nan'):>7.1f}" for t in result["transfer"] for f in t["fits"]])
    out += _rows("Launch overhead (median us per call)", f"{'backend':<8} {'what':<40} {'us':>9}",
                 [f"{r['backend']:<8} {r['what'][:40]:<40} {r['median']:>9.2f}" for r in result["launch"]])
    if result["compile"]:
        out += _rows("Compile time (s, fresh processes)", f"{'backend':<8} {'phase':<7} {'kernel':<50} {'compile':>8}",
                     [f"{r['backend']:<8} {r['phase']:<7} {r['kernel'][:50]:<50} {r['value']:>8.3f}"
                      for r in result["compile"] if "value" in r])
    for label, why in result.get("opencl_skipped", {}).items():
        out.append(f"OpenCL device not measured: {label}: {why}")
    for e in result["errors"]:
        out.append(f"ERROR in {e['section']}: {e['error']}")
    return "\n".join(out).rstrip() + "\n"


def _grouped(records: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["backend"], r["device"]), []).append(r)
    return groups


def _at(records: list[dict], size: int) -> str:
    for r in records:
        if r["size"] == size:
            return f"{r['best']:.1f}"
    return ""


def _size(n: int) -> str:
    return f"{n / 2 ** 20:.0f} MiB" if n >= 2 ** 20 else f"{n / 2 ** 10:.0f} KiB"
