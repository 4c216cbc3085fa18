"""Record the chapter's measurements in one run: ``python -m accel_edu.distributed.record [--out F.json]``.

Launches (through :func:`run_mpi`) the allreduce sweep, the pipeline bubble sweep and the
data-parallel check on ``--ranks`` ranks, fits the alpha-beta model to both allreduces, and
prints a summary. The load average is recorded before and after: on a shared machine the
figures mean little unless it is low (each rank needs a core of its own).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

from .cost_model import fit_alpha_beta
from .launch import run_mpi

WORKERS = "accel_edu.distributed.workers."


def record(ranks: int = 2, repeats: int = 20, pipeline_width: int = 512, timeout: float = 600) -> dict:
    """Every measurement as one JSON-ready dict: allreduce records and fits, bubbles, data parallel."""
    load_before = os.getloadavg()
    allreduce = run_mpi(WORKERS + "allreduce_timing", n=ranks, args=["--repeats", repeats],
                        timeout=timeout)["records"]
    sized = [r for r in allreduce if r["bytes"] > 0]
    fits = {column: fit_alpha_beta([r["bytes"] for r in sized], [r[column] for r in sized], ranks)
            for column in ("ring_s", "mpi_s")}
    pipeline = run_mpi(WORKERS + "pipeline_bubble", n=ranks, timeout=timeout,
                       args=["--width", pipeline_width, "--batch", pipeline_width])["records"]
    data_parallel = run_mpi(WORKERS + "data_parallel", n=ranks, timeout=timeout)
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "host": platform.node(),
            "cpus": os.cpu_count(), "ranks": ranks,
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "allreduce": allreduce, "fit_ring_model": fits, "pipeline": pipeline,
            "data_parallel": {k: v for k, v in data_parallel.items() if k != "losses"}}


def summary(result: dict) -> str:
    lines = [f"{result['ranks']} ranks, {result['cpus']} CPUs, load average "
             f"{result['load_average_before'][0]:.1f} -> {result['load_average_after'][0]:.1f}",
             f"{'bytes':>10} {'ring us':>10} {'MPI us':>10} {'ring/MPI':>9}"]
    for r in result["allreduce"]:
        lines.append(f"{r['bytes']:>10} {r['ring_s'] * 1e6:>10.1f} {r['mpi_s'] * 1e6:>10.1f} "
                     f"{r['ring_over_mpi']:>9.2f}")
    for column, fit in result["fit_ring_model"].items():
        lines.append(f"fit {column[:-2]:>4}: alpha {fit['alpha'] * 1e6:.2f} us, "
                     f"bandwidth {fit['bandwidth'] / 1e9:.2f} GB/s, relative rms {fit['relative_rms']:.2f}")
    for r in result["pipeline"]:
        lines.append(f"pipeline {r['kind']:>5} m={r['micro_batches']}: bubble measured "
                     f"{r['measured_bubble']:.2f}, formula {r['formula_bubble']:.2f}")
    dp = result["data_parallel"]
    lines.append(f"data parallel: max |params - one process| = {dp['max_difference_from_one_process']:.1e}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m accel_edu.distributed.record", description=__doc__)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", help="write the JSON record here")
    args = parser.parse_args(argv)
    result = record(args.ranks, args.repeats)
    print(summary(result))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
