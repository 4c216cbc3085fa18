"""``accel-edu bench``: measure kernels side by side and print GFLOP/s and ratios."""
from __future__ import annotations

import json
import os
import sys

from tqdm import tqdm

from ..runtime import BACKENDS
from .kernels_cli import add_parser as add_kernels_parser, run_bare


def format_table(records: list[dict]) -> str:
    header = f"{'backend':<8} {'variant':<16} {'shape':<18} {'median':>11} {'GFLOP/s':>9} {'x NumPy':>8}"
    lines = [header, "-" * len(header)]
    for r in records:
        shape = "x".join(map(str, r["shape"]))
        lines.append(f"{r['backend']:<8} {r['variant']:<16} {shape:<18} {r['median_s'] * 1e3:>8.3f} ms "
                     f"{r['gflops']:>9.1f} {r['ratio_to_numpy']:>8.2f}")
    return "\n".join(lines)


def format_conv_table(records: list[dict]) -> str:
    header = (f"{'shape':<8} {'backend':<8} {'variant':<22} {'median':>11} {'GFLOP/s':>8} "
              f"{'x NumPy':>8} {'x PyTorch':>9}")
    lines = [header, "-" * len(header)]
    for r in records:
        torch = "" if r["ratio_to_torch"] is None else f"{r['ratio_to_torch']:.2f}"
        numpy = "" if r["ratio_to_numpy"] is None else f"{r['ratio_to_numpy']:.2f}"
        lines.append(f"{r['shape_name']:<8} {r['backend']:<8} {r['variant']:<22} {r['median_s'] * 1e3:>8.2f} ms "
                     f"{r['gflops']:>8.1f} {numpy:>8} {torch:>9}")
    return "\n".join(lines)


def _backends(arg: str, with_torch: bool = False) -> list[str]:
    """--backends as a list (default: all); ``with_torch`` lets "torch" be one of them."""
    allowed = [*BACKENDS, "torch"] if with_torch else list(BACKENDS)
    backends = arg.split(",") if arg else allowed
    for b in backends:
        if b not in allowed:
            raise ValueError(f"--backends must be a comma-separated subset of {','.join(allowed)}; got {b!r}")
    return backends


def _note_if_no_torch(backends: list[str]) -> None:
    """Say on standard error why a requested torch row will be missing."""
    if "torch" in backends:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("note: PyTorch is not installed, so there is no torch row and no ratio to it "
                  "(pip install torch for the comparison)", file=sys.stderr)


def _run_conv2d(args) -> int:
    from .conv2d import SHAPES, conv2d_records
    shapes = args.shapes.split(",")
    for name in shapes:
        if name not in SHAPES:
            raise ValueError(f"--shapes must be a comma-separated subset of {','.join(SHAPES)}; got {name!r}")
    with tqdm(total=len(shapes), desc="bench conv2d", unit="shape", file=sys.stderr, disable=args.quiet) as bar:
        records = list(conv2d_records(shapes, _backends(args.backends), repeat=args.repeat,
                                      include_slow=args.include_slow, progress=bar))
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        print()
    else:
        print(f"conv2d forward + backward, float32, {os.cpu_count()} CPU cores; median of {args.repeat} "
              "runs after warm-up; x PyTorch above 1 is faster than PyTorch")
        for name in shapes:
            n, c_in, h, w, c_out, k, p = SHAPES[name]
            print(f"  {name}: x ({n}, {c_in}, {h}, {w}), w ({c_out}, {c_in}, {k}, {k}), padding {p}")
        print(format_conv_table(records))
    return 0


def _run_gemm(args) -> int:
    from .gemm import gemm_records
    backends = _backends(args.backends)
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(n < 1 for n in sizes):
        raise ValueError(f"--sizes must be positive integers; got {args.sizes!r}")
    with tqdm(desc="bench gemm", unit="size", file=sys.stderr, disable=args.quiet) as bar:
        records = list(gemm_records(sizes, backends, repeat=args.repeat,
                                    include_slow=args.include_slow, progress=bar))
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        print()
    else:
        print(f"GEMM, float32, {os.cpu_count()} CPU cores; median of {args.repeat} runs after warm-up")
        print(format_table(records))
    return 0


def format_stream_table(result: dict) -> str:
    header = f"{'kernel':<8} {'median GB/s':>12} {'best GB/s':>10} {'median':>11}"
    lines = [header, "-" * len(header)]
    for k in ("copy", "scale", "add", "triad"):
        r = result[k]
        lines.append(f"{k:<8} {r['median_gbps']:>12.1f} {r['best_gbps']:>10.1f} {r['median_s'] * 1e3:>8.2f} ms")
    return "\n".join(lines)


def format_optim_table(result: dict) -> str:
    header = f"{'n':>10} {'backend':<8} {'variant':<14} {'median':>11} {'GB/s':>7} {'x STREAM':>9}"
    lines = [header, "-" * len(header)]
    for r in result["records"]:
        lines.append(f"{r['n']:>10,} {r['backend']:<8} {r['variant']:<14} {r['median_s'] * 1e3:>8.2f} ms "
                     f"{r['gbps']:>7.1f} {r['fraction_of_stream']:>9.2f}")
    for name, why in result.get("skipped", {}).items():
        lines.append(f"skipped {name}: {why}")
    return "\n".join(lines)


def _positive_ints(option: str, text: str) -> list[int]:
    try:
        values = [int(s) for s in text.split(",")]
    except ValueError:
        values = [0]
    if any(v < 1 for v in values):
        raise ValueError(f"{option} must be comma-separated positive integers; got {text!r}")
    return values


def _run_stream(args) -> int:
    from .stream import stream
    (n,) = _positive_ints("--n", str(args.n))
    result = stream(n, repeat=args.repeat)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"STREAM, float64 arrays of {n:,} elements ({result['array_mb']:.0f} MB each), Numba with "
              f"{os.cpu_count()} CPU cores; {args.repeat} runs after a warm-up; bytes counted as STREAM does")
        print(format_stream_table(result))
    return 0


def _run_optim(args) -> int:
    from .optim import optim_records
    sizes = _positive_ints("--sizes", args.sizes)
    backends = _backends(args.backends, with_torch=True)
    with tqdm(total=len(sizes), desc="bench optim", unit="size", file=sys.stderr, disable=args.quiet) as bar:
        result = optim_records(sizes, backends, repeat=args.repeat, stream_n=args.stream_n, progress=bar)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        triad = result["stream"]["triad"]["median_gbps"]
        print(f"one Adam step, float32, {os.cpu_count()} CPU cores; median of {args.repeat} rounds after "
              f"warm-up; GB/s counts 7 numbers (28 bytes) per parameter; STREAM triad {triad:.1f} GB/s")
        print(format_optim_table(result))
    return 0


def format_lstm_table(records: list[dict]) -> str:
    header = f"{'backend':<8} {'variant':<20} {'median':>11} {'x PyTorch':>9}"
    lines = [header, "-" * len(header)]
    for r in records:
        torch = "" if r["ratio_to_torch"] is None else f"{r['ratio_to_torch']:.2f}"
        lines.append(f"{r['backend']:<8} {r['variant']:<20} {r['median_s'] * 1e3:>8.2f} ms {torch:>9}")
    return "\n".join(lines)


def _run_lstm(args) -> int:
    from .lstm import CELLS, lstm_records
    shape = _positive_ints("--shape", args.shape)
    threads = None if args.threads is None else _positive_ints("--threads", str(args.threads))[0]
    if len(shape) != 4:
        raise ValueError(f"--shape must be four comma-separated positive integers T,N,D,H; got {args.shape!r}")
    if args.cell not in CELLS:
        raise ValueError(f"--cell must be one of {', '.join(CELLS)}; got {args.cell!r}")
    backends = _backends(args.backends, with_torch=True)
    _note_if_no_torch(backends)
    with tqdm(total=1, desc=f"bench {args.cell}", unit="run", file=sys.stderr, disable=args.quiet) as bar:
        records = lstm_records(args.cell, tuple(shape), backends, repeat=args.repeat,
                               input_grad=not args.no_input_grad, threads=threads, progress=bar)
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        print()
    else:
        t, n, d, h = shape
        grads = "weight and bias gradients" + ("" if args.no_input_grad else " and the input gradient")
        print(f"{args.cell.upper()} forward + backward through time, float32, x ({t}, {n}, {d}), hidden {h}; "
              f"{grads}; {records[0]['threads']} threads on {os.cpu_count()} CPU cores; median of "
              f"{args.repeat} rounds after warm-up; "
              "x PyTorch above 1 is faster than PyTorch")
        print(format_lstm_table(records))
    return 0


def format_attention_table(records: list[dict]) -> str:
    header = f"{'T':>6} {'backend':<8} {'variant':<10} {'median':>11} {'GFLOP/s':>8} {'x PyTorch':>9}"
    lines = [header, "-" * len(header)]
    for r in records:
        torch = "" if r["ratio_to_torch"] is None else f"{r['ratio_to_torch']:.2f}"
        lines.append(f"{r['T']:>6} {r['backend']:<8} {r['variant']:<10} {r['median_s'] * 1e3:>8.2f} ms "
                     f"{r['gflops']:>8.1f} {torch:>9}")
    return "\n".join(lines)


def _run_attention(args) -> int:
    from .attention import attention_records
    lengths = _positive_ints("--lengths", args.lengths)
    (batch,) = _positive_ints("--batch-heads", str(args.batch_heads))
    (d,) = _positive_ints("--head-dim", str(args.head_dim))
    backends = _backends(args.backends, with_torch=True)
    _note_if_no_torch(backends)
    with tqdm(total=len(lengths), desc="bench attention", unit="T", file=sys.stderr, disable=args.quiet) as bar:
        records = list(attention_records(lengths, backends, batch=batch, d=d, causal=args.causal,
                                         repeat=args.repeat, include_slow=args.include_slow, progress=bar))
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        print()
    else:
        print(f"attention forward + backward, float32, q, k, v ({batch}, T, {d}) (batch * heads, T, head dim)"
              f"{', causal' if args.causal else ''}; {os.cpu_count()} CPU cores; median of {args.repeat} rounds "
              "after warm-up; GFLOP/s counts 12 d flops per (query, key) pair; x PyTorch above 1 is faster")
        print(format_attention_table(records))
    return 0


def _run_machine(args) -> int:
    from ..hardware.measure import measure_all
    from ..hardware.report import format_summary
    result = measure_all(quick=args.quick, progress=not args.quiet)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(format_summary(result))
    return 0


def _timing_options(p, backends: str, repeat_help: str = "timed rounds (default: 5)") -> None:
    """--backends and --repeat, as every side-by-side benchmark takes them."""
    p.add_argument("--backends", default="", help=f"comma-separated subset of {backends} (default: all)")
    p.add_argument("--repeat", type=int, default=5, help=repeat_help)


def _output_options(p, what: str = "the records") -> None:
    """--json and --quiet: JSON on standard output, the progress bar (standard error) silenced."""
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON on standard output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time kernels side by side (GFLOP/s or GB/s, and ratios)",
        description="Time kernels on every backend as the median of repeated runs after a "
                    "warm-up, and report each as GFLOP/s (GB/s for the memory-bound stream and "
                    "optim) and as a ratio to NumPy, PyTorch or STREAM measured in the same run. "
                    "Progress goes to standard error, so --json output can be piped.")
    p.add_argument("--roofline", dest="bare_roofline", nargs="?", const="roofline.png", default=None,
                   metavar="FILE.png", help="with no KERNEL: bench kernels --roofline FILE.png (default "
                                            "roofline.png) over a default subset of kernels at medium size")
    p.set_defaults(func=run_bare)
    kinds = p.add_subparsers(dest="kernel", metavar="KERNEL")
    add_kernels_parser(kinds)
    g = kinds.add_parser("gemm", help="every GEMM version on every backend",
                         description="C = A @ B for square float32 matrices: every registered GEMM "
                                     "version on each backend, NumPy/OpenBLAS, and PyTorch on the "
                                     "CPU when it is installed.")
    g.add_argument("--sizes", default="256,512,1024", help="comma-separated n (default: 256,512,1024)")
    _timing_options(g, "numpy,numba,opencl", "timed runs per measurement (default: 5)")
    g.add_argument("--include-slow", action="store_true",
                   help="also time the naive versions above n=512 (minutes)")
    _output_options(g)
    g.set_defaults(func=_run_gemm)

    c = kinds.add_parser("conv2d", help="a convolution's forward + backward, every backend and variant",
                         description="One conv2d forward and backward (dx, dw, db), float32, on LeNet's two "
                                     "layer shapes and a larger 3x3 layer: every registered variant on each "
                                     "backend, and PyTorch's CPU convolution (with as many threads as Numba) "
                                     "when it is installed, timed round-robin in the same run.")
    c.add_argument("--shapes", default="lenet1,lenet2,large",
                   help="comma-separated subset of lenet1,lenet2,large (default: all three)")
    _timing_options(c, "numpy,numba,opencl")
    c.add_argument("--include-slow", action="store_true", help="also time the slowest versions on the large shape")
    _output_options(c)
    c.set_defaults(func=_run_conv2d)

    st = kinds.add_parser("stream", help="the machine's memory bandwidth (STREAM copy, scale, add, triad)",
                          description="McCalpin's STREAM kernels as Numba parallel loops on float64 arrays far "
                                      "larger than the caches: copy c=a, scale b=s*c, add c=a+b, triad "
                                      "a=b+s*c. GB/s counts each array read or written once per element, as "
                                      "STREAM does (a destination's write-allocate read is not counted).")
    st.add_argument("--n", type=int, default=20_000_000, help="elements per array (default: 20,000,000)")
    st.add_argument("--repeat", type=int, default=10, help="timed runs of each kernel (default: 10)")
    st.add_argument("--json", action="store_true", help="print the result as JSON on standard output")
    st.set_defaults(func=_run_stream)

    o = kinds.add_parser("optim", help="one Adam step, fused and unfused, as GB/s and fraction of STREAM",
                         description="One Adam update of n float32 parameters: NumPy's unfused reference, a "
                                     "three-pass Numba version, the fused Numba and OpenCL kernels, and "
                                     "PyTorch's for-loop and fused Adam when it is installed, timed "
                                     "round-robin. Achieved bandwidth counts the 7 numbers every Adam step "
                                     "must move per parameter (read p, g, m, v; write p, m, v), and is shown "
                                     "as a fraction of STREAM triad measured first in the same run.")
    o.add_argument("--sizes", default="1048576,4194304,16777216",
                   help="comma-separated parameter counts (default: 1M, 4M, 16M)")
    _timing_options(o, "numpy,numba,opencl,torch")
    o.add_argument("--stream-n", type=int, default=None,
                   help="elements per STREAM array (default: 20,000,000, far past the caches)")
    _output_options(o)
    o.set_defaults(func=_run_optim)

    r = kinds.add_parser("lstm", help="a recurrent layer's forward + backward through time, beside PyTorch",
                         description="One LSTM (or GRU, RNN) layer, float32, time-major x (T, N, D): forward "
                                     "over the T steps, then backward through time (input, weight and bias "
                                     "gradients), timed as one call, on NumPy, Numba, Numba cells with "
                                     "OpenBLAS GEMMs (a configuration of its own), the fused sequence "
                                     "(LSTM only: one Numba call per direction runs every step, its "
                                     "GEMMs and cells fused and the batch split over the threads; "
                                     "weight-gradient and dx GEMMs by OpenBLAS), OpenCL, and "
                                     "torch.nn.LSTM/GRU/RNN on the CPU with and without oneDNN when PyTorch "
                                     "is installed (as many threads as Numba), timed round-robin in the "
                                     "same run; x PyTorch is PyTorch's default time over each row's.")
    r.add_argument("--cell", default="lstm", help="lstm, gru or rnn (default: lstm)")
    r.add_argument("--shape", default="40,64,40,128",
                   help="T,N,D,H: sequence length, batch, input size, hidden size (default: 40,64,40,128)")
    _timing_options(r, "numpy,numba,opencl,torch")
    r.add_argument("--threads", type=int, default=None,
                   help="threads for Numba, PyTorch and OpenBLAS alike (default: Numba's count, "
                        "which PyTorch then follows)")
    r.add_argument("--no-input-grad", action="store_true",
                   help="skip the input gradient on both sides (a first layer's input needs none)")
    _output_options(r)
    r.set_defaults(func=_run_lstm)

    a = kinds.add_parser("attention", help="attention's forward + backward, plain and tiled, beside PyTorch",
                         description="One scaled dot-product attention forward (out, logsumexp) and backward "
                                     "(dq, dk, dv), float32 q, k, v of shape (batch * heads, T, head dim), "
                                     "causal or not, at each sequence length T: NumPy's reference, the plain "
                                     "(T x T scores materialised) and tiled (online softmax, blocked "
                                     "backward) versions on Numba and OpenCL, and "
                                     "torch.nn.functional.scaled_dot_product_attention + backward on the CPU "
                                     "when PyTorch is installed (as many threads as Numba), timed "
                                     "round-robin in the same run. GFLOP/s counts the six matrix products "
                                     "(2 forward, 4 backward) at 2 * head dim flops per visible (query, key) "
                                     "pair, no recomputation; x PyTorch is PyTorch's time over each row's.")
    a.add_argument("--lengths", default="256,1024", help="comma-separated sequence lengths T (default: 256,1024)")
    a.add_argument("--batch-heads", type=int, default=4, help="batch * heads, B (default: 4)")
    a.add_argument("--head-dim", type=int, default=64, help="head dim d of q, k and v (default: 64)")
    a.add_argument("--causal", action="store_true", help="mask the future: query i sees keys 0..i")
    _timing_options(a, "numpy,numba,opencl,torch")
    a.add_argument("--include-slow", action="store_true",
                   help="also time the plain versions where they take seconds (OpenCL from T=1024, Numba from 2048)")
    _output_options(a)
    a.set_defaults(func=_run_attention)

    m = kinds.add_parser("machine", help="the machine's limits: peak FLOP/s, bandwidths, caches, transfers, launches",
                         description="Measure what every other figure is read against, on NumPy, Numba and every "
                                     "usable OpenCL device: peak FLOP/s of FMA-bound kernels (float32 and "
                                     "float64, one thread and all), STREAM copy/scale/add/triad, read bandwidth "
                                     "against working-set size (the cache steps), host-device transfer latency "
                                     "and bandwidth (a fitted line), the cost of an empty call, parallel region "
                                     "and kernel launch, and Numba's and PoCL's compile times (fresh processes). "
                                     "About 30 s on an idle 2-core machine; benchmarks/machine.py records the "
                                     "same to benchmarks/results/. How each kernel is built: the modules of "
                                     "accel_edu/hardware/.")
    m.add_argument("--quick", action="store_true", help="tiny sizes, seconds: checks it runs, not the machine's limits")
    _output_options(m, "the whole result")
    m.set_defaults(func=_run_machine)
