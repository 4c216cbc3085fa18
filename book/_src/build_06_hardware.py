"""Writes book/06_hardware.ipynb from the cells below (then execute it with
`python book/_src/execute.py book/06_hardware.ipynb`).

The notebook is generated so that its prose and code can be reviewed as one Python file;
edit here, regenerate, re-execute, and commit both. Live measurements are small (quick mode)
and their cells are output-ignored; the large figures are read from benchmarks/results/,
recorded on an idle machine, and are deterministic.
"""
from chapter import code, md, write

md(r"""
# The machine's limits: peaks, bandwidth, the roofline, and where the time goes

Every chapter so far ran the same kernel three ways and compared their speed. This one asks
how fast they *could* go. A processor has two limits that matter to deep learning: how many
floating-point operations it can do per second, and how many bytes per second its memory can
deliver. We measure both on this machine, on every backend, then use them to draw a
**roofline** that tells, for any kernel, which limit it is up against and how far below it
it runs. Then we climb the GEMM optimisation ladder against that roof, watch one line of
OpenCL halve a kernel's speed, split a training step into where its time really goes, and put
this 2-core CPU beside the GPUs, TPUs and FPGAs that deep learning is trained on.

**You will learn to**

- say what SIMD lanes, cores, threads, warps and work-groups are, and how a CPU and a GPU
  spend their transistors differently;
- measure a peak FLOP rate and set it beside the theoretical one (clock x lanes x FMA units x 2);
- measure memory bandwidth (STREAM), the cache hierarchy's steps, host-device transfers,
  launch overheads and JIT compile times;
- derive the roofline, compute a kernel's arithmetic intensity, and place measured kernels on it;
- read the GEMM ladder rung by rung, and say what PoCL on a CPU rewards and what a GPU would;
- profile a training step into compute, memory-bound kernels, launches, transfers and Python;
- read vendors' peak figures for what they are.

Two kinds of number appear below. **Recorded** figures come from `benchmarks/results/`,
measured by `python benchmarks/machine.py` on this machine while it was otherwise idle; each
is printed with its file and date. **Live** figures are measured as this page is built, in
quick mode and at small sizes, on a machine that may be busy; their cells' outputs vary from
run to run and are not compared by the notebook tests. This virtual machine itself varies:
two idle runs on the same night measured 410 and 512 GFLOP/s, 40 and 77 GB/s. Read every
figure as "about".
""")

code(r"""
import inspect
import json
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt

import accel_edu
import accel_edu.chapters  # noqa: F401  registers every chapter's kernels
from accel_edu.hardware import guard, parts, roofline, simd, step_profile
from accel_edu.hardware.cache_sizes import cache_levels
from accel_edu.hardware.gpu_records import gpu_report
from accel_edu.runtime import REGISTRY

BACKENDS = [name for name, a in accel_edu.available_backends().items() if a]
RESULTS = Path(accel_edu.__file__).parents[1] / "benchmarks" / "results"
MACHINE_FILE = sorted(p for p in RESULTS.glob("machine-????-??-??.json"))[-1]
RECORDED = json.loads(MACHINE_FILE.read_text())
print(f"recorded machine limits: {MACHINE_FILE.name} "
      f"({RECORDED['machine']['cores']} cores, Numba {RECORDED['machine']['numba_threads']} threads)")
BACKENDS
""")

md(r"""
## How a CPU and a GPU differ

**SIMD lanes.** One instruction of a modern CPU core works on a whole register of numbers at
once. This CPU has AVX-512: a 64-byte register holds 16 float32 numbers (8 float64), and one
*fused multiply-add* instruction (`vfmadd`, $a \leftarrow a \cdot b + c$) does 16
multiplications and 16 additions. Each core can issue two of them per cycle (two FMA units).
A kernel that is not vectorised uses one lane of 16: at best 1/16 of the core.

**Cores and threads.** Each core runs its own instruction stream. Numba's `prange` and
PoCL's work-groups both spread work over the cores with one thread per core; this machine has
2. Starting those threads for a parallel region is not free (measured below: about 100 µs).

**Warps and work-groups.** A GPU takes the SIMD idea much further. An NVIDIA GPU runs threads
in *warps* of 32 that execute one instruction together (AMD: *wavefronts* of 64); a streaming
multiprocessor keeps dozens of warps resident and switches between them every cycle, so while
one warp waits for memory others compute. An H100 has 132 such multiprocessors. OpenCL's
*work-group* is the unit that maps onto one of them (onto one core, on a CPU) and shares its
fast *local memory*. PoCL runs a work-group on one CPU core as a loop over its work-items, and
vectorises that loop across the SIMD lanes: the work-items of a group become the lanes.

**The memory hierarchy.** Registers feed the FMA units every cycle. Behind them sit caches,
each larger and slower than the last, then main memory (DRAM). A CPU spends much of its chip
on large caches and on running one thread fast; a GPU spends it on arithmetic units and
registers, with small caches, and hides memory's latency with many threads in flight instead.
What this CPU says about itself (read live from `/proc/cpuinfo` and sysfs):
""")

code(r"""
flags = simd.cpu_flags()
width = simd.register_bytes(flags)
print(f"SIMD register: {width} bytes = {width // 4} float32 lanes = {width // 8} float64 lanes")
print("vector extensions:", " ".join(sorted(f for f in flags if f.startswith(("avx", "fma", "sse4")))))
print(f"cores this process may use: {simd.cores()}; clock reported: {simd.clock_mhz()} MHz")
for level, size in cache_levels().items():
    print(f"  {level}: {size // 1024:>6} KiB per core" if level != "L3" else f"  {level}: {size // 1024:>6} KiB shared")
""", ignore_output=True)

md(r"""
and what the recorded run saw, with the OpenCL device PoCL builds for this CPU:
""")

code(r"""
m = RECORDED["machine"]
print(f"{m['cpu']}, {m['cores']} cores, SIMD register {m['simd_register_bytes']} bytes, "
      f"clock reported {m['clock_mhz']:.0f} MHz, recorded {m['date'][:10]}")
print("caches:", ", ".join(f"{k} {v // 1024} KiB" for k, v in m["caches"]["levels"].items()))
for d in m["opencl_devices"]:
    print(f"OpenCL [{d['id']}] {d['type']}: {d['compute_units']} compute units, "
          f"max work-group {d['max_work_group_size']}, local memory {d['local_mem_bytes'] // 1024} KiB, "
          f"fp64 {d['fp64']}" + (f"  (not used: {d['compiler_problem']})" if d["compiler_problem"] else ""))
""")

md(r"""
PoCL's CPU device reports one *compute unit* per core and a "local memory" of 1 MiB: on a CPU
that is ordinary memory (the L2 cache, if it fits), not a separate fast scratchpad as on a
GPU. That difference decides much of what follows.

Every measurement of this chapter, in quick mode (tiny sizes, a few seconds; they check that
each measurement runs and show its order of magnitude, not the machine's limits):
""")

code(r"""
from accel_edu.hardware import measure_all
from accel_edu.hardware.report import format_summary

quick = measure_all(quick=True, progress=False)
print(format_summary(quick))
""", ignore_output=True)

md(r"""
## Peaks and bandwidth

**The theoretical peak.** A core that issues two 16-lane FMAs per cycle does
$2 \times 16 \times 2 = 64$ float32 FLOPs per cycle (an FMA counts as two). At the clock the
VM reports, on all its cores:

$$
P_{\text{theory}} = \text{cores} \times \text{clock} \times \text{lanes} \times \text{FMA units} \times 2 .
$$

**The measured peak** comes from a kernel that does nothing but FMAs on values kept in
registers: many independent chains $a \leftarrow a m + c$, enough of them to hide the FMA's
latency (4 cycles) behind the two units (`accel_edu/hardware/peak.py`; the compiled loop is
48 `vfmadd213ps` on `zmm` registers with no memory operand). NumPy's peak is the largest
matrix product OpenBLAS runs, a real kernel rather than a synthetic one.
""")

code(r"""
theory = {t["dtype"]: t for t in RECORDED["theoretical_peak"]}
for dtype in ("float32", "float64"):
    t = theory[dtype]
    print(f"{dtype}: theoretical {t['value']:.0f} GFLOP/s = {t['cores']} cores x {t['clock_mhz'] / 1e3:.2f} GHz "
          f"x {t['lanes']} lanes x {t['fma_units']} FMA units x 2")
    for r in RECORDED["peak"]:
        if r["dtype"] == dtype:
            print(f"   {r['backend']:<7} {r['kernel']:<26} {r['device'][:24]:<24} {r['best']:6.0f} GFLOP/s "
                  f"({r['best'] / t['value']:.2f} of theoretical)")
""")

code(r"""
def bar_by_backend(ax, records, key="best", label=lambda r: f"{r['backend']}\n{r['device'][:14]}"):
    colours = [roofline.COLOURS.get(r["backend"], "0.5") for r in records]
    ax.bar(range(len(records)), [r[key] for r in records], color=colours)
    ax.set_xticks(range(len(records)), [label(r) for r in records], fontsize=7)


fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
for ax, dtype in zip(axes, ("float32", "float64")):
    bar_by_backend(ax, [r for r in RECORDED["peak"] if r["dtype"] == dtype])
    ax.axhline(theory[dtype]["value"], color="black", ls="--", lw=1,
               label=f"theoretical at the reported {theory[dtype]['clock_mhz'] / 1e3:.1f} GHz")
    ax.set(ylabel="GFLOP/s", title=f"peak {dtype} (recorded {RECORDED['machine']['date'][:10]})")
    ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
""")

md(r"""
The measured float32 peak on two threads *exceeds* the theoretical one: the "cpu MHz" a VM
reports is its nominal clock, and the cores run faster (410 GFLOP/s over 2 cores x 64 FLOPs a
cycle is 3.2 GHz). On one thread the kernel reaches about 226 GFLOP/s, so two threads give
1.8 times one. OpenCL's FMA kernel on PoCL gets about 340, and OpenBLAS's float32 matmul
about 210: a real GEMM must also load its operands. float64 halves the lanes and the peaks.

**Memory bandwidth: STREAM.** McCalpin's STREAM {cite:p}`mccalpin1995stream` times four
loops over arrays far larger than any cache: copy $c = a$, scale $b = s c$, add $c = a + b$
and triad $a = b + s c$. Each counts the bytes it must move (triad: read two arrays, write
one, 24 bytes per float64 element) and divides by the time.
""")

code(r"""
stream_records = RECORDED["stream"]
fig, ax = plt.subplots(figsize=(9, 3.2))
kernels = ["copy", "scale", "add", "triad"]
backends = sorted({r["backend"] for r in stream_records}, key=["numpy", "numba", "opencl"].index)
for j, backend in enumerate(backends):
    values = [max(r["best"] for r in stream_records if r["backend"] == backend and r["kernel"] == k) for k in kernels]
    ax.bar(np.arange(4) + 0.27 * (j - 1), values, width=0.27, color=roofline.COLOURS[backend], label=backend)
ax.set_xticks(range(4), kernels)
ax.set(ylabel="GB/s", title=f"STREAM, 20M float64 per array (recorded {RECORDED['machine']['date'][:10]})")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
for backend in backends:
    triad = max(r["best"] for r in stream_records if r["backend"] == backend and r["kernel"] == "triad")
    print(f"{backend:<7} triad {triad:5.1f} GB/s")
""")

md(r"""
Numba and OpenCL reach the same 40 GB/s on all four: DRAM's limit, which no code can pass.
NumPy's triad is lower because `a = b + s * c` is two passes (a temporary `s * c`, then the
sum), moving five arrays' worth of bytes while STREAM credits three. The same effect is why
fused kernels pay throughout this book.

**The cache curve.** Read one array again and again and time it, for working sets from 4 KiB
to 256 MiB: while the array fits in a cache, reads come from that cache, and the bandwidth
steps down each time the working set outgrows one. The vertical lines are the sizes the OS
reports (per core for L1 and L2, shared for L3).
""")

code(r"""
fig, ax = plt.subplots(figsize=(9, 4))
curves = {}
for r in RECORDED["cache"]:
    curves.setdefault((r["backend"], r["device"]), []).append((r["size"], r["best"]))
for (backend, device), points in curves.items():
    sizes, gbps = zip(*sorted(points))
    ax.plot(sizes, gbps, marker=".", label=f"{backend} {device[:20]}",
            color=roofline.COLOURS[backend], ls="-" if "1 thread" in device or backend == "opencl" else "--")
for level, size in RECORDED["machine"]["caches"]["levels"].items():
    ax.axvline(size, color="0.4", lw=0.8, ls=":")
    ax.annotate(level, (size, ax.get_ylim()[1] * 0.95), fontsize=8, ha="right")
ax.set_xscale("log", base=2)
ax.set(xlabel="working set (bytes)", ylabel="read GB/s", title=f"read bandwidth against working set "
       f"(recorded {RECORDED['machine']['date'][:10]})")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
one = dict(curves[("numba", "1 thread")])
for label, size in [("16 KiB, in L1", 1 << 14), ("512 KiB, in L2", 1 << 19), ("8 MiB, in L3", 1 << 23), ("256 MiB, DRAM", 1 << 28)]:
    print(f"one thread, {label:<15} {one[size]:6.0f} GB/s")
""")

md(r"""
One thread reads about 150-230 GB/s from L1 and L2, about 95 from L3, and 38 from DRAM: a
factor of five to six between the top of the hierarchy and the bottom. (Per cycle that is 40-60
bytes from L1 at 4 GHz, about one 64-byte line a cycle.) The curves are not clean steps on
this VM: another guest's use of the shared L3 moves them, and the working sets just below a
cache's size already miss a little. A kernel whose data stays in L1/L2 can be fed several
times faster than one that streams from DRAM: that is what *blocking for cache* (below) buys.

**Host to device, and launching a kernel.** On a GPU, data must cross PCIe to reach the
device's memory. Each copy costs a fixed latency plus its size over the bandwidth,
$t(s) = t_0 + s / W$, fitted here to copies from 64 bytes to 64 MiB. On PoCL's CPU device the
"device" memory is the same DRAM, so a transfer is a `memcpy` with a driver call in front.
""")

code(r"""
transfer = RECORDED["transfer"][0]
fig, ax = plt.subplots(figsize=(8, 3.6))
for (direction, memory), ls in zip([("host_to_device", "pageable"), ("device_to_host", "pageable"),
                                     ("host_to_device", "pinned")], ["-", "--", ":"]):
    pts = sorted((p["size"], p["best_s"]) for p in transfer["points"]
                 if p["direction"] == direction and p["memory"] == memory)
    sizes, seconds = map(np.array, zip(*pts))
    fit = next(f for f in transfer["fits"] if f["direction"] == direction and f["memory"] == memory)
    ax.loglog(sizes, seconds * 1e6, "o", ms=3)
    ax.loglog(sizes, (fit["latency_s"] + sizes / (fit["bandwidth_gbps"] * 1e9)) * 1e6, ls, color="0.3",
              label=f"{direction} {memory}: {fit['latency_us']:.0f} us + size / {fit['bandwidth_gbps']:.0f} GB/s")
ax.set(xlabel="bytes copied", ylabel="µs", title=f"transfers, {transfer['points'][0]['device'][:30]}")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
for r in RECORDED["launch"]:
    print(f"{r['backend']:<7} {r['what']:<34} {r['median']:9.2f} us")
""")

md(r"""
A copy costs about 35-40 µs before its first byte moves, so a 4 KiB copy runs at about
0.1 GB/s and only copies of megabytes approach the 28-35 GB/s of the fits. The same shape,
with PCIe's 10-25 µs and 25-60 GB/s, holds on a real GPU. The launch costs say the same about
calls: a Python function call is 0.1 µs and an `@njit` call 0.16 µs, but a parallel region
(`prange`) costs about 130 µs to start its threads and an empty OpenCL kernel about 85 µs to
enqueue and finish. A kernel that does less work than that is dominated by its launch.

**Compiling.** Numba compiles a function the first time it is called with new types; PoCL
builds an OpenCL program the first time it is used on a device. Both cache the result
(Numba's `cache=True` writes it beside the source), measured in a fresh process each time:
""")

code(r"""
rows = {}
for c in RECORDED["compile"]:
    rows.setdefault((c["backend"], c["kernel"]), {})[c["phase"]] = c
for (backend, kernel), phases in rows.items():
    run = phases["cold"].get("run_s")
    print(f"{backend:<7} {kernel:<55} cold {phases['cold']['value']:6.3f} s   cached {phases['cached']['value']:6.3f} s"
          + (f"   one run {run * 1e3:7.3f} ms" if run else ""))
""")

md(r"""
The blocked Numba GEMM takes 3.2 s to compile and 0.4 ms to run at 128 x 128: the first call
costs as much as eight thousand later ones. Cached, it loads in 10 ms. (Importing Numba and
starting it costs about 0.3-0.45 s in every process, cached or not.) That is why every test
module of this project pays its compiles once, and why the book's notebooks warm up each
kernel before timing it.

## The roofline

A kernel performs $F$ FLOPs and must move at least $B$ bytes between memory and the
processor. Its **arithmetic intensity** is $I = F / B$ (FLOP/byte). On a machine with peak
$P$ (GFLOP/s) and bandwidth $W$ (GB/s), the time it takes is at least the larger of the time
to compute and the time to move its data:

$$
t \ge \max\!\left(\frac{F}{P}, \frac{B}{W}\right)
\quad\Longrightarrow\quad
\frac{F}{t} \le \min\!\left(P,\; I \cdot W\right).
$$

Plotted on log-log axes against $I$, that bound is a slanted roof of slope 1 (memory-bound:
the rate rises with intensity) meeting a flat one at the **ridge point** $I^* = P / W$
(compute-bound) {cite:p}`williams2009roofline`. A kernel left of the ridge cannot reach the
peak however well it is written; only raising its intensity (fusing passes, reusing data from
cache or registers) can move it right. On this machine, from the recorded peaks and triads:
""")

code(r"""
ceilings = roofline.ceilings_from_machine(RECORDED, "float32")
for c in ceilings:
    print(f"{c['name']:<48} P = {c['peak_gflops']:5.0f} GFLOP/s, W = {c['bandwidth_gbps']:4.1f} GB/s, "
          f"ridge at {roofline.ridge(c):4.1f} FLOP/byte")
""")

md(r"""
A kernel must do 8 to 10 FLOPs for every byte it reads from DRAM to be compute-bound here.
Every registered kernel declares its FLOPs and its compulsory bytes (`Kernel.flops`,
`Kernel.bytes`: every input read once, every output written once), so its intensity needs no
measurement: an elementwise ReLU does 1 FLOP per 8 bytes ($I = 0.125$); Adam about 13 FLOPs
per parameter for 28 bytes (it reads the parameter, its gradient and both moments, and writes
three of them back: $I \approx 0.46$); an $n \times n$ GEMM $2n^3$ FLOPs over $3 \cdot 4 n^2$
bytes, $I = n/6$, growing with $n$; a convolution and attention likewise grow with their
sizes. `accel-edu bench kernels` times any of them at the chapters' benchmark sizes (`small`:
arrays of about 256 KiB, in L2; `medium`: 4 MiB, in L3; `large`: 64 MiB, DRAM). A record of it
made on the idle machine, where one has been committed:
""")

code(r"""
def latest(pattern):
    "The newest recorded file matching pattern in benchmarks/results, or None."
    found = sorted(RESULTS.glob(pattern))
    return found[-1] if found else None


kernels_file = latest("kernels-????-??-??.json")
if kernels_file is None:
    recorded_points = []
    print("No `accel-edu bench kernels` record in benchmarks/results yet; benchmarks/README.md gives "
          "the command that records one (kernels-<date>.json) on an idle machine.")
else:
    bench = json.loads(kernels_file.read_text())
    recorded_points = roofline.place(bench["points"], ceilings)   # re-placed under this page's ceilings
    print(f"{kernels_file.name}: {len(recorded_points)} measurements; those at size medium:")
    for p in recorded_points:
        if p["size"] != "medium":
            continue
        print(f"  {p['kernel']:<22} {p['backend']:<7} {p['size']:<7} I = {p['intensity']:7.2f} FLOP/byte "
              f"{p['gflops']:7.1f} GFLOP/s  {p['fraction']:.2f} of its roof")
""")

md(r"""
And live, as this page is built, at the `small` size (five kernels: elementwise, Adam, GEMM,
convolution, attention; the default variant of each backend, inputs already on the OpenCL
device, all backends round-robin), placed on the recorded ceilings:
""")

code(r"""
from accel_edu.bench.kernels import kernel_records

ROOFLINE_KERNELS = ["relu_forward", "adam_update", "gemm", "conv2d_forward", "attention_forward"]
live = kernel_records(ROOFLINE_KERNELS, ["small"], BACKENDS, repeat=3, min_seconds=0.02)
points = roofline.place(live["records"], ceilings)
for p in points:
    print(f"{p['kernel']:<18} {p['backend']:<7} {p['workload'][:30]:<30} I = {p['intensity']:7.3f} FLOP/byte "
          f"{p['gflops']:7.1f} GFLOP/s {p['gbps']:6.1f} GB/s  {p['fraction']:.2f} of its roof")
""", ignore_output=True)

code(r"""
fig, axes = plt.subplots(1, 2 if recorded_points else 1, figsize=(15 if recorded_points else 9, 5.5), squeeze=False)
roofline.plot_roofline(axes[0, 0], ceilings, points)
axes[0, 0].set_title("live, small sizes, against the recorded ceilings", fontsize=10)
if recorded_points:
    medium = [p for p in recorded_points if p["size"] == "medium"]   # 30 labelled points; all 90 would be a blur
    roofline.plot_roofline(axes[0, 1], ceilings, medium)
    axes[0, 1].set_title(f"recorded ({kernels_file.name}), size medium", fontsize=10)
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
The elementwise kernels and Adam sit under the slanted roof, far left of the ridge: they are
memory-bound, and nothing in their arithmetic could be made faster that would show. At the
`small` size their arrays fit in L2, where bandwidth is several times DRAM's, so a fast one can
even pass the DRAM roof; there its fixed costs (a parallel region's start, a launch) show
too. GEMM, convolution and attention sit right of the ridge, where only the FLOP rate limits:
their distance below the flat roof is what the code itself loses, and what the ladder below
climbs.

## The GEMM ladder

A GEMM $C = AB$ of $n \times n$ matrices does $2n^3$ FLOPs on $3n^2$ numbers, so with enough
reuse it is compute-bound. The naive triple loop reuses nothing: each multiply-add loads
$A_{ik}$ and $B_{kj}$, 8 bytes for 2 FLOPs, $I = 0.25$, deep in the memory-bound region.
Each rung of the ladder raises the reuse:

| rung | what changes | why it is faster |
|---|---|---|
| loop order $i, k, j$ | the inner loop walks rows of $B$ and $C$ | contiguous, vectorisable loads |
| parallel threads | rows of $C$ split over the cores (`prange`) | all cores work |
| blocking for cache | $C$ computed in blocks whose $A$ and $B$ panels stay in L1/L2 | each loaded number is used many times from cache |
| register tiling | each inner loop (work-item) keeps a small tile of $C$ in registers | each loaded number is used many times from registers |
| vector types | tiles as wide as the SIMD registers (on OpenCL here `float16`: 16 floats) | full-width loads and FMAs, fewer instructions |
| local memory (OpenCL) | tiles of $A$ and $B$ staged in `__local` memory between barriers | on a GPU, on-chip reuse; on a CPU, see below |

Every rung is a variant of the registered `gemm` kernel (`accel_edu/backprop/`), in ladder
order, each with its docstring's first line:
""")

code(r"""
from accel_edu.bench.gemm import ladder

gemm = REGISTRY["gemm"]
for backend in ("numba", "opencl"):
    for i, variant in enumerate(ladder(backend)):
        doc = (gemm.implementation(backend, variant).__doc__ or "").strip().splitlines()
        print(f"{backend:<7} {i}  {variant:<15} {doc[0] if doc else ''}")
""")

md(r"""
`accel_edu.hardware.gemm_ladder.ladder_records` times every rung the registry has, with
OpenBLAS beside them, round-robin so that the machine's load falls on all alike (rungs added
later appear here without a change). Live, at $n = 256$:
""")

code(r"""
from accel_edu.hardware.gemm_ladder import ladder_records

ladder_live = ladder_records(256, backends=[b for b in ("numba", "opencl") if b in BACKENDS], repeat=3)
for r in ladder_live:
    print(f"{r['label']:<22} {r['median_s'] * 1e3:8.3f} ms  {r['gflops']:6.1f} GFLOP/s  x OpenBLAS {r['ratio_to_numpy']:.2f}")
""", ignore_output=True)

code(r"""
def ladder_chart(records, title):
    timed = [r for r in records if r["median_s"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw=dict(width_ratios=[1.2, 1]))
    axes[0].barh(range(len(timed)), [r["gflops"] for r in timed],
                 color=[roofline.COLOURS.get(r["backend"], "0.5") for r in timed])
    axes[0].set_yticks(range(len(timed)), [r["label"] for r in timed], fontsize=8)
    axes[0].set(xlabel="GFLOP/s", title=title)
    axes[0].invert_yaxis()
    roofline.plot_roofline(axes[1], ceilings, roofline.place(timed, ceilings), label_points=False)
    axes[1].set_title("the same rungs on the roofline (I = n/6 for every rung)", fontsize=9)
    plt.tight_layout()
    plt.show()


ladder_chart(ladder_live, "GEMM ladder, n = 256 (live)")
""", ignore_output=True)

md(r"""
On the roofline every rung sits at the same intensity: $n/6$ counts the bytes a perfect
kernel must move, not what each rung actually moves. The rungs differ in how close to the
flat roof their reuse lets them climb. The newest record of `accel-edu bench gemm`
(`benchmarks/gemm.py`, on this machine, each version timed round-robin with OpenBLAS; the
date is in the file's name; rungs added after it appear only in the live run above):
""")

code(r"""
gemm_file = latest("gemm-????-??-??.json")
gemm_bench = json.loads(gemm_file.read_text())
print(f"{gemm_file.name}: recorded on {gemm_bench['machine'].get('cpu', '?')}")
by_size = {}
for r in gemm_bench["records"]:
    if r["backend"] != "torch":
        by_size.setdefault(r["shape"][0], {})[(r["backend"], r["variant"])] = r
for size, rungs in sorted(by_size.items()):
    print(f"n = {size}")
    for (backend, variant), r in rungs.items():
        print(f"   {backend:<7} {variant:<16} {r['gflops']:6.1f} GFLOP/s   x OpenBLAS {r['ratio_to_numpy']:.2f}")
    if ("opencl", "local_tiled") in rungs and ("opencl", "register_tiled") in rungs:
        naive, local, tiled = (rungs[("opencl", v)]["gflops"] for v in ("naive", "local_tiled", "register_tiled"))
        print(f"   OpenCL: local-memory tiles {local / naive:.2f} x naive; register tiles {tiled / local:.0f} x local tiles")
""")

md(r"""
**What PoCL on a CPU rewards.** The OpenCL rungs tell a story a GPU programmer would not
expect. The *local-memory* version, which copies tiles of $A$ and $B$ into `__local` memory
behind barriers, is no faster than the naive one (the recorded ratios above): on a CPU,
local memory is ordinary memory, so the copy is pure overhead, and each `barrier()` makes
PoCL split the work-group's loop into pieces and lose vectorisation across work-items. The
*register-tiled* version, where each work-item computes a small tile of $C$ with plain `*`
and `+` on private variables, is more than an order of magnitude faster than both: PoCL turns
the work-group's work-items into SIMD lanes, and the private accumulators stay in `zmm`
registers. Vectors as wide as the registers help again: the `vector` rung, the same kernel
with `float16` (this PoCL's preferred width), was 1.2-1.8 times `register_tiled` in every
run. Built-ins are a mixed story: when the register tile was first written, `mad()` and
`vload8()` in place of plain `a * b + c` and scalar loads made it fall from 64-100 to about
10 GFLOP/s (this PoCL called them as functions); a retry while building this ladder, on a busy
machine, saw anywhere from 0.5 to 1.5 times, no clear effect either way. Plain arithmetic,
which LLVM fuses and vectorises itself, is never worse.

**What a GPU would reward instead** (reasoning, not measurement: no GPU ran for this book).
There local memory *is* a separate on-chip scratchpad, about 100 times faster to reach than
the device's DRAM, so the local-tile rung is the classic big step; barriers cost a few cycles.
Reads must be *coalesced*: the 32 threads of a warp should read 32 consecutive words, which
the hardware merges into one transaction (our naive kernel's column walk through $B$ would
read 32 separate lines). And *occupancy* matters: enough warps resident per multiprocessor,
each using few enough registers, to hide memory latency; a register tile too large lowers it.
The tensor cores of the parts at the end of this chapter add a rung past all of these, a
matrix instruction that multiplies small tiles in one step.

## What PoCL rewards, shown as a failure and its cure

The usual way to launch an elementwise kernel over $n$ elements rounds the global size up to
whole work-groups and guards every work-item: `if (i >= n) return;`. On PoCL's CPU device
that one line costs dearly. PoCL runs a work-group as a loop over its work-items, vectorised
across the SIMD lanes, and the early return makes that loop's body conditional. The
optimizers chapter found it halved Adam's speed (24 ms against 11 ms on 16M parameters). The
cure is to launch only the whole work-groups that are all in range, with no test, then the
last partial group as a second, guarded launch. `accel_edu/hardware/guard.cl`, both kernels:
""")

code(r"""
print((Path(guard.__file__).parent / "guard.cl").read_text().split("*/", 1)[1].strip())
""")

md(r"""
Both give identical results (the tests check it at sizes 1, 255, 256, 257 and 1000). Timed
side by side, live, at 1M float32 (16 MiB in all: in L3) and at 4M (64 MiB: DRAM):
""")

code(r"""
if "opencl" in BACKENDS:
    for n_guard in (1 << 20, 1 << 22):
        for r in guard.guard_comparison(n_guard, repeat=5):
            print(f"n = {r['n']:>8}  {r['variant']:<13} {r['median_s'] * 1e3:6.3f} ms  {r['gbytes_per_s']:5.1f} GB/s  "
                  f"x whole groups {r['ratio_to_whole_groups']:.2f}")
""", ignore_output=True)

md(r"""
In the runs made while this chapter was written, on a machine shared with other work (load
average 2 to 7 on its two cores), the guarded kernel took 1.1 to 3.4 times as long as the
whole-groups one at 1M elements (1.04 ms against 0.44 ms in the quietest run), and never less;
at 4M the ratio moved between 1.35 and 3.4. The output above is this build's run; on a busy
machine the faster kernel loses most to sharing the cores, so the ratio shrinks. At 64K and
256K elements, where a launch's fixed cost (about 85 µs) is most of the time, the two ran
alike (0.9-1.4 times).

What PoCL made of the two is in its kernel cache (`~/.cache/pocl/kcache`), as shared objects
that `objdump -d` disassembles. Both are vectorised, 8 lanes wide (`vsqrtps`, `vdivps` on
256-bit `ymm` registers, half of what AVX-512 allows): the guard did not make PoCL give up
vector code here, as one might guess.
What it changed is the body: the guarded kernel compares each chunk of 8 indices with $n$
(`vpcmpgtd` into an AVX-512 mask register) and masks every load and store with the result,
where the unguarded one loads, computes and stores plainly. Which part of that costs the
time we have not pinned down; the measurement is what the chapter's advice rests on. On a
GPU the same guard costs almost nothing: a warp whose threads disagree runs both paths with
some lanes masked off, and only the last warp of the grid disagrees.

## Where the time goes in a training step

`accel_edu.hardware.step_profile` runs training steps (forward, loss, backward, SGD update,
as `accel_edu.backprop.train` does) of the CNN chapter's LeNet for 8x8 digits, batch 64,
with every registered kernel wrapped in a timer, and splits each step's wall-clock time into:
the **compute** kernels (GEMMs, Linear layers, convolutions), the **memory-bound** kernels
(ReLU, pooling, the loss, the SGD update), OpenCL's **launches** (a kernel call's wall time
minus the device's own time for it, from the queue's profiling events), host-device
**transfers** (counted by the runtime, and timed by replaying the same copies), and
**Python**, the remainder: the layers' and the loop's own code.
""")

code(r"""
profiles = [step_profile.profile_step("lenet", backend, batch_size=64, steps=10) for backend in BACKENDS]
for r in profiles:
    print(f"{r['backend']:<7} {r['step_s'] * 1e3:6.2f} ms a step ({r['uninstrumented_s'] * 1e3:6.2f} without timers), "
          f"{r['calls_per_step']:.0f} kernel calls, {r['launches_per_step']:.0f} OpenCL launches, "
          f"{r['transfers_per_step']['h2d_count']:.0f} uploads of {r['transfers_per_step']['h2d_bytes'] / 1024:.1f} KiB")
    print("        " + ", ".join(f"{part} {s * 1e3:.2f} ms" for part, s in r["parts"].items()))
""", ignore_output=True)

code(r"""
fig, ax = plt.subplots(figsize=(9, 3.2))
left = np.zeros(len(profiles))
for part, colour in zip(step_profile.PARTS, plt.cm.tab10.colors):
    widths = np.array([1e3 * r["parts"][part] for r in profiles])
    ax.barh(range(len(profiles)), widths, left=left, color=colour, label=part)
    left += widths
ax.set_yticks(range(len(profiles)), [r["backend"] for r in profiles])
ax.set(xlabel="ms per training step (live)", title="LeNet on 8x8 digits, batch 64: where a step's time goes")
ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.3))
plt.tight_layout()
plt.show()
""", ignore_output=True)

md(r"""
The step is small: 64 images of 8 x 8, about 12 MFLOP forward and backward. On NumPy and
Numba the compute kernels (the convolutions, as im2col plus GEMM) take the largest share,
the memory-bound kernels most of the rest, and Python about a tenth. (NumPy's share moves most
with the machine's load: OpenBLAS's threads wait on busy cores, and the same convolutions took
3.4 ms a step in one run and 53 ms in another while other work shared the two cores.) On OpenCL the same
23 kernel calls become 57 launches, and their host-side cost takes more time than the
work itself: in three runs made while the chapter was written (machine loaded), launches took
8.6 ms of a 15 ms step, 5.5 of 10.4 ms and 58 of 78 ms, against 3.6, 2.9 and 6.3 ms of compute. Transfers are small (the batch and its labels go up once a step, and the
loss stays on the device until the end of the epoch). On a GPU, launches cost 5-10 µs rather
than 85-150, but the lesson is the same: at small batch sizes a training step is bound by
its launches, and the cures are larger batches, fusing kernels, or capturing the whole step
as one graph (CUDA graphs, `torch.compile`).

## Specialised hardware

A CPU core is built to run one instruction stream fast, whatever it does: branch predictors,
out-of-order execution, large caches. Deep learning needs something narrower, dense linear
algebra at low precision, and each family of accelerators trades generality for it:

- **GPUs** keep programmability (any kernel, in CUDA, HIP or OpenCL) and spend their chip on
  thousands of simple lanes, huge register files and *tensor cores* that multiply small
  matrices in one instruction at 16- and 8-bit precision; memory is HBM stacked beside the
  die. They trade single-thread speed and large caches for throughput.
- **TPUs and other ASICs** go further: a TPU's *matrix units* are systolic arrays (128 x 128
  multiply-accumulators that pass operands to their neighbours, so each number read from
  memory is used 128 times) driven by a compiler (XLA) rather than by hand-written kernels
  {cite:p}`jouppi2023tpuv4`. They trade flexibility (what the compiler and the array shape
  handle well) for efficiency.
- **FPGAs** are arrays of configurable logic and DSP blocks: the circuit itself is the
  program. They trade peak throughput and ease of programming for custom datapaths, any
  precision, and low, predictable latency. Their "peak" is the peak of whatever engine is
  loaded onto them.

The vendors' published peaks (dense, no sparsity), each from the vendor's own document:
""")

code(r"""
print(f"{'part':<28} {'kind':<5} {'FP32':>8} {'BF16':>8} {'INT8':>8} {'memory':>9}  source")
print(f"{'':<28} {'':<5} {'TFLOP/s':>8} {'TFLOP/s':>8} {'TOPS':>8} {'GB/s':>9}")
fmt = lambda v: "-" if v is None else f"{v:,.1f}"   # noqa: E731
for p in parts.PARTS:
    print(f"{p.name:<28} {p.kind:<5} {fmt(p.fp32_tflops):>8} {fmt(p.bf16_tflops):>8} {fmt(p.int8_tops):>8} "
          f"{p.memory_gbps:>9,.0f}  {p.source}")
""")

md(r"""
These are vendors' peak figures: the clock times every unit, with nothing waiting on memory.
Measured programs reach a fraction of them, just as our kernels reach a fraction of this
CPU's; a dash means a figure we could not check against the vendor's document, left out
rather than guessed. Sources: {cite:p}`nvidia2022h100,nvidia2020a100,amd2023mi300x,google2023tpuv4,amd2021dpucahx8h,amd2021ug1393`.
Drawn on one roofline with this machine's measured float32 ceilings (their BF16 and INT8
peaks are at lower precision, which is much of how they get there; for INT8 read the axis as
integer operations per second):
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(16, 5))
for ax, precision in zip(axes, parts.PRECISIONS):
    roofline.plot_roofline(ax, ceilings, [], parts=parts.part_ceilings(precision))
    ax.set_title(f"this machine (measured float32) against published {precision.upper()} peaks", fontsize=9)
plt.tight_layout()
plt.show()
for r in parts.parts_table("bf16"):
    print(f"{r['name']:<28} BF16 ridge at {r['ridge_flop_per_byte']:5.0f} FLOP/byte "
          f"({r['peak_gflops'] / ceilings[0]['peak_gflops']:,.0f} x this CPU's float32 peak)")
""")

md(r"""
Two things stand out. The accelerators' roofs are 160 (H100, FP32) to 3,200 (MI300X, BF16)
times this CPU's measured float32 peak, and their memory 11 to 130 times faster. And their ridge points are
far to the right: an H100 needs about 300 FLOPs per byte from HBM to be compute-bound at
BF16, against 10 here. Every elementwise kernel, optimizer step and normalisation in this book
is therefore *more* memory-bound on an accelerator than on a CPU, which is why fusing them
matters most there (FlashAttention's whole point {cite:p}`dao2022flashattention`).

## A GPU section

Nothing in `accel_edu` is specific to the CPU: the `opencl` backend runs on whichever device
pyopencl's `PYOPENCL_CTX` convention picks (the first one that compiles a kernel when it is
unset), and `accel-edu devices` lists every device with the reason any is unusable. On a
machine with an OpenCL GPU the same kernels, tests and benchmarks run unchanged, and
`python benchmarks/machine.py` records the GPU's limits beside the CPU's. Results recorded on
a GPU and committed to `benchmarks/results/` are shown here, named and dated:
""")

code(r"""
print(gpu_report(RESULTS))
""")

md(r"""
## Summary

- A CPU core does 16 float32 FMAs per instruction with AVX-512 and two instructions a cycle;
  measured, this 2-core VM reaches about 410 GFLOP/s float32 (Numba, all FMAs in registers),
  above its theoretical peak at the nominal clock, and 340 on PoCL's OpenCL. A GPU spreads the
  same idea over warps of 32 lanes and a hundred multiprocessors.
- Memory: about 40 GB/s from DRAM on every backend (STREAM triad), 95 from L3 and 150-230 from
  L1/L2 on one thread. A transfer costs about 35-40 µs before its first byte; an OpenCL launch
  about 85 µs and a parallel region 130 µs; a Numba compile seconds, cached milliseconds.
- The roofline $\min(P, I \cdot W)$ says which limit a kernel meets: here the ridge is at 8-10
  FLOP/byte. Elementwise kernels and optimizer steps sit far left of it (memory-bound);
  GEMM, convolution and attention right of it.
- The GEMM ladder climbs by reuse: loop order, threads, cache blocks, register tiles. PoCL on a
  CPU rewards register tiles of plain `*` and `+`, and punishes local memory, barriers, and
  a bounds guard in every work-item (1.1-3.4x slower at 1M elements, measured on the loaded
  machine); a GPU rewards local-memory tiles,
  coalesced reads and occupancy.
- A small training step is bound by launches and Python, not by FLOPs: on OpenCL, launches
  took more than half of LeNet's step at batch 64.
- Accelerators' vendor peaks are 160-3,200 times this CPU's measured one (much of it from lower
  precision), with ridge points near 150-300 FLOP/byte: on them memory-bound kernels are even
  more so.

**Exercises.** `exercises/06_hardware.ipynb` asks you to find the cache steps in a bandwidth
curve, write a STREAM triad on Numba and on OpenCL that reaches a graded fraction of the
grader's own, count a kernel's FLOPs and bytes, and place it on the roofline; `accel-edu grade`
scores them (see {doc}`exercises_and_grading`).
""")

write("06_hardware.ipynb")
