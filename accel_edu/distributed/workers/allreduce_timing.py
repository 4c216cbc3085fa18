"""Ring allreduce against MPI_Allreduce over message sizes; rank 0 prints {"records": [...]}.

    python -m accel_edu.distributed.workers.allreduce_timing [--sizes 1,1024,...] [--repeats 20]
"""
from __future__ import annotations

import argparse

from ..rank import worker_main
from ..timing import DEFAULT_SIZES, time_allreduce


def main(comm, argv):
    parser = argparse.ArgumentParser(prog="allreduce_timing")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="element counts, comma separated")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    records = time_allreduce(comm, sizes, repeats=args.repeats, warmup=args.warmup, dtype=args.dtype)
    return {"records": records}


if __name__ == "__main__":
    worker_main(main)
