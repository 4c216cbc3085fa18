"""Record attention's forward + backward beside PyTorch, and its memory as T grows, in one run.

    python benchmarks/attention.py              # writes results/attention-<date>.json
    python benchmarks/attention.py --lengths 256,1024 --repeat 9

Records (``accel-edu bench attention``): one forward + backward of float32 q, k, v
(4, T, 64) (batch * heads 4, head dim 64) at each T, non-causal and causal: NumPy's reference,
the plain and tiled versions on Numba and OpenCL, and PyTorch's scaled_dot_product_attention
(as many threads as Numba), timed round-robin, with GFLOP/s and the ratio to PyTorch. Then
(``accel_edu.attention.memory.measure_memory``) the peak extra memory of plain and tiled at
B = 1, d = 16 for each memory length, measured beside the count on paper. The plain versions
that take seconds per call are left out where they would (``--include-slow`` times them).
The JSON holds the machine it ran on.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from tqdm import tqdm

from accel_edu.attention.memory import measure_memory
from accel_edu.bench.attention import attention_records
from accel_edu.bench.cli import format_attention_table
from accel_edu.bench.machine import machine_info


def _ints(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="256,1024,2048", help="sequence lengths timed")
    parser.add_argument("--batch-heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--include-slow", action="store_true")
    parser.add_argument("--memory-lengths", default="256,512,1024,2048,4096",
                        help="sequence lengths of the memory measurement ('' to skip it)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results"))
    args = parser.parse_args()
    lengths = _ints(args.lengths)
    records = []
    with tqdm(total=2 * len(lengths), desc="attention", unit="T", file=sys.stderr) as bar:
        for causal in (False, True):
            records += attention_records(lengths, batch=args.batch_heads, d=args.head_dim, causal=causal,
                                         repeat=args.repeat, include_slow=args.include_slow, progress=bar)
    memory_lengths = _ints(args.memory_lengths)
    memory = measure_memory(memory_lengths) if memory_lengths else []
    result = {"machine": machine_info(), "records": records, "memory": memory}
    args.out.mkdir(exist_ok=True)
    path = args.out / f"attention-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for causal in (False, True):
        print(f"{'causal' if causal else 'non-causal'}, q, k, v ({args.batch_heads}, T, {args.head_dim}):")
        print(format_attention_table([r for r in records if r["causal"] == causal]))
    for r in memory:
        if "skipped" in r:
            print(f"memory, {r['backend']}: skipped ({r['skipped']})")
        else:
            print(f"memory, {r['backend']:<6} {r['variant']:<5} T={r['T']:>5}: measured "
                  f"{r['measured_bytes'] / 2**20:8.2f} MiB, expected {r['expected_bytes'] / 2**20:8.2f} MiB")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
