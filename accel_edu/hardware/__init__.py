"""The machine's limits, measured per backend: the hardware chapter's library.

One module per measurement, each returning plain records (see :mod:`.records`):

    peak.py        FMA-bound kernels, float32 and float64; NumPy's large matmul; the theoretical peak
    stream.py      STREAM copy, scale, add, triad (memory bandwidth)
    cache.py       read bandwidth against working-set size (the L1/L2/L3/DRAM steps)
    cache_sizes.py the cache sizes the OS reports (sysfs, lscpu)
    transfer.py    host<->device copies: bandwidth and latency against size, and their fit
    launch.py      the fixed cost of a call on each backend
    compile.py     Numba's JIT and PoCL's build time, cold and cached, against run time
    machine.py     what it all ran on
    measure.py     measure_all(): everything, as one JSON-able dict
    report.py      a terminal summary of that dict
    roofline.py    attainable FLOP/s, ceilings from measured peaks, kernels placed, the plot
    gemm_ladder.py every rung of the GEMM ladder timed at one size, ready for the roofline
    guard.py       an elementwise OpenCL kernel with and without a bound check per work-item
    step_profile.py one training step split into compute, memory, launches, transfers, Python
    parts.py       vendors' published peaks of real GPUs, TPUs and FPGAs, with their sources
    gpu_records.py recorded results from machines with an OpenCL GPU, when any are committed

and the plumbing they share: records.py (records, timing samples, argument checks), simd.py
(what /proc/cpuinfo says: SIMD width, clock), opencl_devices.py (a context per device).

Each runs on NumPy, Numba and every usable OpenCL device (:mod:`.opencl_devices`).
Modules are imported on use: ``from accel_edu.hardware import peak``.
"""


def measure_all(quick: bool = False, progress: bool = True) -> dict:
    """See :func:`accel_edu.hardware.measure.measure_all`."""
    from .measure import measure_all as run
    return run(quick=quick, progress=progress)
