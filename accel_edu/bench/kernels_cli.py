"""The command line of ``accel-edu bench kernels`` (and of a bare ``accel-edu bench --roofline``):
its options, the printed table, the bar chart, and the files it writes. The timing loop is
:mod:`accel_edu.bench.kernels`; the roofline is :mod:`accel_edu.hardware.roofline`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime import BACKENDS
from .kernels import (DEFAULT_ROOFLINE, DEFAULT_ROOFLINE_SIZE, FALLBACK, check_sizes, kernel_records,
                      select_kernels)


def _fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:9.1f} us"


def format_kernel_table(points: list[dict]) -> str:
    """kernel, backend, variant, size, median, GFLOP/s, GB/s, FLOP/byte, % of the roof."""
    header = (f"{'kernel':<26} {'backend':<7} {'variant':<14} {'size':<6} {'median':>12} {'GFLOP/s':>9} "
              f"{'GB/s':>8} {'FLOP/B':>7} {'% roof':>7}")
    lines = [header, "-" * len(header)]
    for p in points:
        roof = "" if p.get("fraction") is None else f"{100 * p['fraction']:.1f}"
        flag = " *" if p["workload_source"] == FALLBACK else ""
        lines.append(f"{p['kernel'][:26]:<26} {p['backend']:<7} {p['variant'][:14]:<14} {p['size']:<6} "
                     f"{_fmt_time(p['median_s']):>12} {p['gflops']:>9.2f} {p['gbps']:>8.2f} "
                     f"{p['intensity']:>7.2f} {roof:>7}{flag}")
    if any(p["workload_source"] == FALLBACK for p in points):
        lines.append(f"* {FALLBACK}")
    if any((p.get("fraction") or 0) > 1 for p in points):
        lines.append("% roof above 100: the ceiling was measured low (another process busy during the "
                     "quick measurement) or the data stayed in cache; --machine FILE reads recorded ceilings")
    return "\n".join(lines)


def write_bar_chart(png_path, points: list[dict]) -> None:
    """One horizontal bar per record: its % of the roofline's attainable rate (of bandwidth
    for a kernel with no FLOPs), coloured by backend."""
    from matplotlib.figure import Figure
    from ..hardware.roofline import COLOURS
    rows = [p for p in points if p.get("fraction") is not None]
    fig = Figure(figsize=(8, 1.0 + 0.22 * max(len(rows), 1)))
    ax = fig.add_subplot()
    labels = [f"{p['kernel']} [{p['size']}] {p['backend']}/{p['variant']}" for p in rows]
    ax.barh(range(len(rows)), [100 * p["fraction"] for p in rows],
            color=[COLOURS.get(p["backend"], "black") for p in rows])
    ax.set_yticks(range(len(rows)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("% of the roofline's attainable rate (measured ceilings)")
    ax.axvline(100, color="0.5", lw=0.8, ls="--")
    ax.set_title("accel-edu bench kernels", fontsize=9)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)


def _split(values) -> list[str]:
    """--size small --size medium,large -> ["small", "medium", "large"]."""
    if isinstance(values, str):
        values = [values]
    return [v for text in values or [] for v in text.split(",") if v]


def _ceilings(machine_file, wanted: bool, quiet: bool):
    """(ceilings, where they came from): a recorded machine JSON, a quick measurement now, or none."""
    import json
    import sys
    from ..hardware.roofline import ceilings_from_machine, measure_peaks
    if machine_file:
        with open(machine_file) as f:
            return ceilings_from_machine(json.load(f)), machine_file
    if not wanted:
        return [], "none (give --machine FILE, --roofline or --plot for the % of the roof)"
    if not quiet:
        print("measuring the ceilings (peak FLOP/s and STREAM triad, quick) ...", file=sys.stderr)
    return ceilings_from_machine(measure_peaks(quick=True)), "measured in this run (quick)"


def run(args, bare: bool = False) -> int:
    """``accel-edu bench kernels``, or ``accel-edu bench --roofline`` (``bare``: the default subset)."""
    import json
    import sys

    from tqdm import tqdm

    from ..hardware.machine import describe_machine
    from ..hardware.roofline import place, write_roofline
    from .cli import _backends
    if bare:
        names, sizes, backends, variants = DEFAULT_ROOFLINE, [DEFAULT_ROOFLINE_SIZE], list(BACKENDS), "default"
    else:
        names = select_kernels(_split(args.kernel_names), args.chapter, args.all)
        sizes = check_sizes(_split(args.size))
        backends = _backends(args.backends)
        variants = args.variants if args.variants in ("default", "all") else _split(args.variants)
    if args.repeat < 1:     # checked before the ceilings are measured, not a minute later
        raise ValueError(f"--repeat must be a positive integer; got {args.repeat!r}")
    if args.dtype not in ("float32", "float64"):
        raise ValueError(f"--dtype must be float32 or float64; got {args.dtype!r}")
    for option, path, suffix in (("--roofline", args.roofline, ".png"), ("--plot", args.plot, ".png")):
        if path and not str(path).lower().endswith(suffix):
            raise ValueError(f"{option} must name a {suffix} file; got {path!r}")
    if args.json and args.roofline and Path(args.json).resolve() == Path(args.roofline).with_suffix(".json").resolve():
        raise ValueError(f"--json {args.json!r} is where --roofline writes its own JSON; give another name")
    ceilings, source = _ceilings(args.machine, bool(args.roofline or args.plot), args.quiet)
    with tqdm(desc="bench kernels", unit="kernel-size", file=sys.stderr, disable=args.quiet) as bar:
        result = kernel_records(names, sizes, backends, variants, repeat=args.repeat,
                                dtype=np.dtype(args.dtype), progress=bar)
    points = place(result["records"], ceilings)
    settings = {"kernels": names, "sizes": sizes, "backends": backends, "variants": variants,
                "repeat": args.repeat, "dtype": args.dtype, "ceilings_from": source}
    out = {"machine": describe_machine(), "settings": settings, "ceilings": ceilings,
           "points": points, "skipped": result["skipped"]}
    print(summary_line(out))
    print(format_kernel_table(points))
    for s in result["skipped"]:
        print(f"skipped {'/'.join(str(s.get(k)) for k in ('kernel', 'size', 'backend', 'variant') if k in s)}: "
              f"{s['why']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=str)
            f.write("\n")
        print(f"wrote {args.json}")
    if args.plot:
        write_bar_chart(args.plot, points)
        print(f"wrote {args.plot}")
    if args.roofline:
        png, js = write_roofline(args.roofline, ceilings, points, extra={"machine": out["machine"], "settings": settings},
                                 title=f"roofline: {len(points)} measurements, ceilings {source}")
        print(f"wrote {png} and {js}")
    return 0


def run_bare(args) -> int:
    """``accel-edu bench --roofline [FILE.png]`` with no subcommand: ``bench kernels --roofline``
    over DEFAULT_ROOFLINE at the default size, every backend, 3 rounds."""
    import argparse
    if args.bare_roofline is None:
        raise ValueError("choose a benchmark (accel-edu bench --help lists them) or --roofline [FILE.png]")
    return run(argparse.Namespace(roofline=args.bare_roofline, plot=None, json=None, machine=None, quiet=False,
                                  repeat=3, dtype="float32"), bare=True)


HELP = """Time registered kernels at named sizes and place them on the machine's roofline.

A kernel's FLOPs (multiply-add = 2) and its compulsory bytes (each input read once, each output
written once) come from the registry (Kernel.flops, Kernel.bytes; each chapter's costs.py), so
a time becomes GFLOP/s and GB/s, and FLOPs / bytes is its arithmetic intensity (FLOP/byte).
The roofline says no kernel can beat min(peak FLOP/s, intensity x bandwidth): the table's
% roof is the measured rate over that bound, with one ceiling per backend from measured peaks
(Numba's FMA peak and STREAM triad, OpenCL's, NumPy's matmul and triad).

examples:
  accel-edu bench kernels --kernel relu_forward,gemm --size small,medium
  accel-edu bench kernels --chapter cnn --size medium --backends numpy,numba --json cnn.json
  accel-edu bench kernels --kernel gemm --variants all --size large --roofline gemm.png
  accel-edu bench kernels --all --size small --machine benchmarks/results/machine-2026-12-02.json --plot all.png
  accel-edu bench --roofline roofline.png      (a default subset at medium size)
"""


def add_parser(kinds) -> None:
    """Register ``kernels`` under ``accel-edu bench``."""
    import argparse
    k = kinds.add_parser("kernels", help="any registered kernels at named sizes: table, JSON, bar chart, roofline",
                         description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    pick = k.add_mutually_exclusive_group()
    pick.add_argument("--kernel", dest="kernel_names", metavar="NAME[,NAME]", default=None,
                      help="comma-separated kernel names (accel_edu.runtime.REGISTRY)")
    pick.add_argument("--chapter", default=None,
                      help="every kernel of one chapter, by its subpackage's name (backprop, cnn, rnn, ...)")
    pick.add_argument("--all", action="store_true", help="every registered kernel")
    k.add_argument("--size", action="append", default=None, metavar="SIZE[,SIZE]",
                   help="small (fits L2), medium (L3), large (DRAM); repeatable or a comma list (default: medium)")
    k.add_argument("--backends", default="", help="comma-separated subset of numpy,numba,opencl (default: all)")
    k.add_argument("--variants", default="default",
                   help="default (each backend's default), all (every rung of each ladder), or a comma list")
    k.add_argument("--repeat", type=int, default=5, help="timed round-robin rounds (default: 5)")
    k.add_argument("--dtype", default="float32", help="float32 or float64 (default: float32)")
    add_output_options(k)
    k.set_defaults(func=run)


def add_output_options(p) -> None:
    """--json FILE, --plot FILE.png, --roofline FILE.png, --machine FILE, --quiet."""
    p.add_argument("--json", metavar="FILE", default=None, help="write the records and the machine as JSON")
    p.add_argument("--plot", metavar="FILE.png", default=None, help="write a bar chart of each record's %% of the roof")
    p.add_argument("--roofline", metavar="FILE.png", default=None,
                   help="write the roofline as FILE.png and its data as FILE.json")
    p.add_argument("--machine", metavar="FILE", default=None,
                   help="read the ceilings from a recorded machine JSON (accel-edu bench machine --json) "
                        "instead of measuring them now")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
def summary_line(result: dict) -> str:
    n = len(result["points"])
    kernels = len({p["kernel"] for p in result["points"]})
    return (f"{n} measurements of {kernels} kernels, {result['settings']['dtype']}, median of "
            f"{result['settings']['repeat']} round-robin rounds after warm-up; ceilings from "
            f"{result['settings']['ceilings_from']}")
