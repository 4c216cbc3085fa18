"""Record a recurrent layer's forward + backward through time on every backend, side by side with
PyTorch on the CPU (if installed), in one run.

    python benchmarks/lstm.py                  # writes results/lstm-<date>.json
    python benchmarks/lstm.py --cells lstm --repeat 9
    python benchmarks/lstm.py --threads 1      # Numba, PyTorch and OpenBLAS all on one thread
    OPENBLAS_CORETYPE=SkylakeX python benchmarks/lstm.py   # OpenBLAS's AVX-512 kernels

The file is results/lstm-<date>[-<n>thread]-<OpenBLAS kernels>.json, e.g. lstm-2026-12-02-Haswell.json.

Records (``accel-edu bench lstm``): for each cell (LSTM, GRU, vanilla RNN) an x of (T, N, D) =
(40, 64, 40) and hidden size 128, forward over the 40 steps and backward through time, on
NumPy, Numba, Numba cells with OpenBLAS GEMMs (``gemm_backend="numpy"``), the fused Numba
sequence kernels (LSTM only, ``fused=True``), OpenCL, and
torch.nn.LSTM/GRU/RNN with and without oneDNN; once with the input gradient and once without
(on both sides). Each time is a median of round-robin rounds after a warm-up, each ratio to
PyTorch from the same rounds. Then, for the LSTM, where each configuration's time goes (GEMM
per step, input projection, weight-gradient GEMMs, dx GEMM, cells, copies, Python; for the
fused configuration its forward and backward sequence calls instead of GEMMs and cells), from
``time_breakdown``: the mean over the rounds, every call timed. The JSON holds the machine.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import sys
from pathlib import Path

from tqdm import tqdm

from accel_edu.bench.cli import format_lstm_table
from accel_edu.bench.lstm import CELLS, DEFAULT_SHAPE, configs_for, lstm_records, time_breakdown
from accel_edu.bench.machine import machine_info
from accel_edu.runtime import available_backends


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--shape", default=",".join(map(str, DEFAULT_SHAPE)), help="T,N,D,H")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="for Numba, PyTorch and OpenBLAS alike")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args()
    cells, shape = args.cells.split(","), tuple(int(s) for s in args.shape.split(","))
    runs = [(cell, input_grad) for cell in cells for input_grad in (True, False)]
    records = []
    with tqdm(total=len(runs), desc="lstm", unit="run", file=sys.stderr) as bar:
        for cell, input_grad in runs:
            records += lstm_records(cell, shape, repeat=args.repeat, input_grad=input_grad,
                                    threads=args.threads, progress=bar)
    breakdown = []
    if "lstm" in cells:
        import numba
        from threadpoolctl import threadpool_limits
        if args.threads:
            numba.set_num_threads(args.threads)
        with threadpool_limits(args.threads) if args.threads else contextlib.nullcontext():
            for backend, variant, options in configs_for("lstm"):
                if available_backends()[backend]:
                    seconds = time_breakdown("lstm", shape, backend, repeat=args.repeat, **options)
                    breakdown.append({"backend": backend, "variant": variant, "seconds": seconds})
    result = {"machine": machine_info(), "records": records, "breakdown": breakdown}
    args.out.mkdir(exist_ok=True)
    # The OpenBLAS kernels in the name: they decide the fastest row (this machine's environment
    # sets OPENBLAS_CORETYPE=Haswell; SkylakeX, AVX-512, is another file beside it).
    suffix = "" if args.threads is None else f"-{args.threads}thread"
    suffix += f"-{records[0]['openblas_kernels'] or 'no-openblas'}"
    path = args.out / f"lstm-{datetime.date.today().isoformat()}{suffix}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for cell, input_grad in runs:
        print(f"{cell}, x {shape[:3]}, hidden {shape[3]}, {'with' if input_grad else 'without'} the input gradient:")
        print(format_lstm_table([r for r in records if r["kernel"] == cell and r["input_grad"] == input_grad]))
    for b in breakdown:
        print(f"where the time goes, LSTM, {b['backend']} {b['variant']}: " +
              ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in b["seconds"].items()))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
