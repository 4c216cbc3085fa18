"""accel_edu.hardware: every measurement runs at tiny sizes and returns well-formed records, the
kernels compute what their FLOP and byte counts claim, the readers parse fixtures of what the OS
prints, and bad arguments are explained. Never a timing assertion: speed lives in
benchmarks/results/machine-*.json."""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from accel_edu.hardware import cache, cache_sizes, compile as compile_, launch, peak, stream, transfer
from accel_edu.hardware.measure import measure_all
from accel_edu.hardware.records import record
from accel_edu.hardware.simd import clock_mhz, cpu_flags, register_bytes
from accel_edu.runtime import available_backends

OPENCL = available_backends()["opencl"]
needs_opencl = pytest.mark.skipif(not OPENCL, reason=OPENCL.detail)


@pytest.fixture(scope="module")
def device():
    from accel_edu.hardware.opencl_devices import usable_devices
    return usable_devices()[0]


def assert_record(r: dict, unit: str | None = None) -> None:
    """A record has its quantity, unit, backend, device and size, and positive finite figures."""
    for key in ("quantity", "unit", "backend", "device", "size_unit"):
        assert isinstance(r[key], str) and r[key], key
    assert r["backend"] in ("python", "numpy", "numba", "opencl")
    assert unit is None or r["unit"] == unit
    assert isinstance(r["size"], int) and r["size"] >= 1
    for key in ("median", "best", "median_s", "best_s"):
        assert isinstance(r[key], float) and math.isfinite(r[key]) and r[key] > 0, key
    assert r["best_s"] <= r["median_s"]
    json.dumps(r)                                    # plain data, nothing NumPy-typed


# -- records --------------------------------------------------------------------------------------

def test_record_turns_seconds_into_rates_and_times():
    r = record("bandwidth", "GB/s", "numba", "2 threads", 10, "elements", [2.0, 1.0, 4.0], work=8.0)
    assert (r["median_s"], r["best_s"], r["median"], r["best"]) == (2.0, 1.0, 4.0, 8.0)
    t = record("launch_overhead", "us", "numba", "1 thread", 1, "call", [3e-6, 1e-6, 2e-6], work=None)
    assert t["median"] == pytest.approx(2.0) and t["best"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="samples must be positive finite seconds"):
        record("x", "us", "numba", "d", 1, "call", [0.0], work=None)


# -- peak ------------------------------------------------------------------------------------------

def _chains_reference(acc: int, iterations: int, m: float, c: float, seed: float) -> float:
    """What the FMA chains compute: a <- a m + c, iterations times, from a_q = seed + q/1000."""
    a = seed + np.arange(acc) * 1e-3
    for _ in range(iterations):
        a = a * m + c
    return float(a.sum())


@pytest.mark.parametrize("dtype, kernel, acc", [(np.float32, peak.fma_peak_float32, peak.ACC_FLOAT32),
                                                 (np.float64, peak.fma_peak_float64, peak.ACC_FLOAT64)])
def test_numba_fma_chains_do_the_counted_work(dtype, kernel, acc):
    # The FLOP count 2 * ACC * iterations is honest only if every chain really runs.
    out = np.zeros(3, dtype)
    m, c = dtype(0.5), dtype(0.25)
    kernel(7, m, c, out)
    for t in range(3):
        assert out[t] == pytest.approx(_chains_reference(acc, 7, 0.5, 0.25, t), rel=1e-5)


@pytest.mark.skipif("fma" not in cpu_flags() or "avx" not in cpu_flags(), reason="needs an x86 CPU with FMA")
def test_numba_peak_kernel_is_vector_fma_on_registers():
    # The peak is only a peak if LLVM emitted packed FMAs on full-width registers.
    register = "zmm" if register_bytes() == 64 else "ymm"
    found = peak.fma_instructions(np.float32)
    assert any(re.fullmatch(r"vfmadd\d+ps", op) and reg == register for op, reg in found), found


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_peak_records_on_numba_and_numpy(dtype):
    r = peak.numba_peak(dtype, iterations=1000, repeat=2)
    assert_record(r, "GFLOP/s")
    assert r["flops"] == 2 * r["accumulators"] * 1000 * int(r["device"].split()[0])
    one = peak.numba_peak(dtype, iterations=1000, repeat=2, threads=1)
    assert one["device"] == "1 thread" and one["flops"] == 2 * one["accumulators"] * 1000
    m = peak.numpy_peak(dtype, n=64, repeat=2)
    assert_record(m, "GFLOP/s")
    assert m["flops"] == 2 * 64 ** 3 and m["dtype"] == np.dtype(dtype).name


@needs_opencl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_opencl_peak_uses_the_preferred_vector_width(device, dtype):
    if dtype == np.float64 and not device.double_fp_config:
        pytest.skip("this OpenCL device has no float64")
    r = peak.opencl_peak(device, dtype, iterations=100, repeat=2)
    assert_record(r, "GFLOP/s")
    preferred = device.preferred_vector_width_float if dtype == np.float32 else device.preferred_vector_width_double
    assert r["lanes"] == (preferred if preferred in (1, 2, 4, 8, 16) else 1)
    assert r["flops"] == 12 * r["lanes"] * 2 * 100 * r["work_items"]


def test_theoretical_peak_is_cores_lanes_fma_units_and_clock():
    r = peak.theoretical_peak(np.float64, fma_units=2, mhz=1000.0)
    assert r["lanes"] == register_bytes() // 8
    assert r["value"] == pytest.approx(r["cores"] * r["lanes"] * 2 * 2 * 1000.0 / 1e3)
    assert "VM" in r["clock_source"]


def test_cpuinfo_readers_parse_a_fixture():
    text = ("processor\t: 0\ncpu MHz\t\t: 2596.120\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n"
            "processor\t: 1\ncpu MHz\t\t: 3100.5\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n")
    assert clock_mhz(text) == 3100.5
    assert clock_mhz("processor : 0\n") is None
    flags = cpu_flags(text)
    assert {"avx2", "fma", "avx512f"} <= flags
    assert register_bytes(flags) == 64 and register_bytes({"avx", "avx2"}) == 32 and register_bytes(set()) == 16


# -- STREAM ----------------------------------------------------------------------------------------

def test_stream_records_count_bytes_as_stream_does():
    for records in (stream.numpy_stream(1000, repeat=2), stream.numba_stream(1000, repeat=2)):
        assert [r["kernel"] for r in records] == list(stream.KERNELS)
        for r in records:
            assert_record(r, "GB/s")
            assert r["bytes"] == stream.WORDS[r["kernel"]] * 8 * 1000


def _stream_reference(n, dtype):
    a, b, c = np.full(n, 1.0, dtype), np.full(n, 2.0, dtype), np.zeros(n, dtype)
    c[:] = a
    b[:] = 3.0 * c
    c[:] = a + b
    a[:] = b + 3.0 * c
    return a, b, c


def test_numba_and_numpy_stream_kernels_compute_stream():
    n = 1001
    want = _stream_reference(n, np.float64)
    for kernels in (stream.NUMBA_KERNELS, stream.NUMPY_KERNELS):
        a, b, c = np.full(n, 1.0), np.full(n, 2.0), np.zeros(n)
        for k in stream.KERNELS:
            kernels[k](a, b, c, 3.0)
        for got, w in zip((a, b, c), want):
            np.testing.assert_array_equal(got, w)


@needs_opencl
def test_opencl_stream_kernels_cover_bulk_and_tail(device):
    import pyopencl as cl
    from accel_edu.hardware.opencl_devices import queue
    n = 2 * stream.GROUP + 37                       # two whole work-groups and a partial one
    dtype = np.float64 if device.double_fp_config else np.float32
    bufs, run = stream.opencl_stream_kernels(device, n, dtype)
    for k in stream.KERNELS:
        run[k]()
    for buf, want in zip(bufs, _stream_reference(n, dtype)):
        got = np.empty(n, dtype)
        cl.enqueue_copy(queue(device), got, buf)
        np.testing.assert_array_equal(got, want)
    records = stream.opencl_stream(device, n, repeat=2, dtype=dtype)
    for r in records:
        assert_record(r, "GB/s")


# -- cache -----------------------------------------------------------------------------------------

def test_default_cache_sizes_are_log_spaced_pages():
    sizes = cache.default_sizes()
    assert sizes[0] == 4 * 2 ** 10 and sizes[-1] == 256 * 2 ** 20
    assert all(s % 1024 == 0 for s in sizes) and sizes == sorted(set(sizes))
    ratios = np.array(sizes[1:]) / np.array(sizes[:-1])
    assert ratios.max() <= 2.0 and len(sizes) >= 2 * 16     # two per doubling over 16 doublings


def test_read_sum_reads_every_number_every_pass():
    x = np.arange(1, 4097, dtype=np.float32) / 4096
    assert cache.read_sum(x, 3) == pytest.approx(3 * float(x.sum()), rel=1e-5)
    out = np.zeros(2, np.float32)
    cache.read_sum_parallel(x, 2, out)
    np.testing.assert_allclose(out, [2 * x[:2048].sum(), 2 * x[2048:].sum()], rtol=1e-5)


def test_numba_cache_curve_one_thread_and_all():
    sizes = [4096, 65536]
    for threads in (1, None):
        records = cache.numba_cache_curve(sizes, repeat=2, threads=threads, bytes_per_sample=1 << 18)
        assert [r["size"] for r in records] == sizes
        for r in records:
            assert_record(r, "GB/s")
            assert r["passes"] == max(1, (1 << 18) // r["size"])


@needs_opencl
def test_opencl_cache_curve_reads_the_requested_working_set(device):
    records = cache.opencl_cache_curve(device, [4096, 65536], repeat=2, bytes_per_sample=1 << 18)
    for r, size in zip(records, (4096, 65536)):
        assert_record(r, "GB/s")
        assert 0 < r["size"] <= size
        if device.preferred_vector_width_float * 4 * 4 * device.max_compute_units <= 4096:
            assert r["size"] == size                 # a CPU device splits a page evenly


def test_sysfs_cache_reader_parses_a_fixture(tmp_path):
    for i, (level, kind, size, shared) in enumerate([(1, "Data", "48K", "0"), (1, "Instruction", "32K", "0"),
                                                     (2, "Unified", "1024K", "0"),
                                                     (3, "Unified", "32768K", "0-1")]):
        folder = tmp_path / f"index{i}"
        folder.mkdir()
        for name, value in (("level", level), ("type", kind), ("size", size), ("shared_cpu_list", shared)):
            (folder / name).write_text(f"{value}\n")
    caches = cache_sizes.read_sysfs_caches(tmp_path)
    assert [(c["level"], c["type"], c["size_bytes"]) for c in caches] == [
        (1, "Data", 49152), (1, "Instruction", 32768), (2, "Unified", 1 << 20), (3, "Unified", 32 << 20)]
    assert caches[-1]["shared_cpu_list"] == "0-1"
    assert cache_sizes.cache_levels(caches) == {"L1": 49152, "L2": 1 << 20, "L3": 32 << 20}
    assert cache_sizes.read_sysfs_caches(tmp_path / "missing") == []


def test_lscpu_reader_parses_a_fixture():
    text = ("Model name:   AMD EPYC\nL1d cache:                               96 KiB (2 instances)\n"
            "L1i cache:   64 KiB (2 instances)\nL2 cache:    2 MiB (2 instances)\n"
            "L3 cache:    32 MiB (1 instance)\n")
    assert cache_sizes.parse_lscpu(text) == {
        "L1d": {"total_bytes": 96 << 10, "instances": 2}, "L1i": {"total_bytes": 64 << 10, "instances": 2},
        "L2": {"total_bytes": 2 << 20, "instances": 2}, "L3": {"total_bytes": 32 << 20, "instances": 1}}
    assert cache_sizes.parse_size("1.5 MiB") == 3 << 19
    with pytest.raises(ValueError, match="text must be a size such as '48K'"):
        cache_sizes.parse_size("lots")


# -- transfer --------------------------------------------------------------------------------------

def test_transfer_fit_recovers_latency_and_bandwidth():
    sizes = np.array([64, 512, 4096, 1 << 15, 1 << 18, 1 << 21, 1 << 24], dtype=float)
    latency, bandwidth = 20e-6, 12e9
    exact = latency + sizes / bandwidth
    fit = transfer.fit_latency_bandwidth(sizes, exact)
    assert fit["latency_us"] == pytest.approx(20.0, rel=1e-9)
    assert fit["bandwidth_gbps"] == pytest.approx(12.0, rel=1e-9)
    assert fit["rms_relative_error"] < 1e-12
    noisy = exact * (1 + 0.03 * np.array([1, -1, 1, -1, 1, -1, 1]))    # +-3% per point
    fit = transfer.fit_latency_bandwidth(sizes, noisy)
    assert fit["latency_us"] == pytest.approx(20.0, rel=0.05)
    assert fit["bandwidth_gbps"] == pytest.approx(12.0, rel=0.05)
    flat = transfer.fit_latency_bandwidth([64, 128], [1e-5, 1e-5])      # all latency
    assert flat["bandwidth_gbps"] is None and flat["latency_us"] == pytest.approx(10.0)


@needs_opencl
def test_opencl_transfers_return_points_and_fits(device):
    result = transfer.opencl_transfers(device, [64, 4096, 1 << 16], repeat=2, min_seconds=0.001)
    assert len(result["points"]) == 2 * 2 * 3
    for p in result["points"]:
        assert_record(p, "GB/s")
        assert p["direction"] in transfer.DIRECTIONS and p["memory"] in transfer.MEMORY
    assert {(f["direction"], f["memory"]) for f in result["fits"]} == {
        (d, m) for d in transfer.DIRECTIONS for m in transfer.MEMORY}
    for f in result["fits"]:
        assert math.isfinite(f["latency_s"]) and math.isfinite(f["rms_relative_error"])


# -- launch and compile ----------------------------------------------------------------------------

def test_host_overheads_name_what_they_time():
    records = launch.host_overheads(repeat=2, min_seconds=0.002)
    assert [r["backend"] for r in records] == ["python", "numpy", "numba", "numba"]
    for r in records:
        assert_record(r, "us")
    assert records[-1]["threading_layer"] in ("workqueue", "omp", "tbb")


@needs_opencl
def test_opencl_launch_overhead(device):
    assert_record(launch.opencl_overhead(device, repeat=2, min_seconds=0.002), "us")


def test_compile_cases_run_the_library_kernels():
    # In this process (compiled, or loaded from the cache, once): each case's kernel imports and runs.
    for make in compile_._numba_cases().values():
        make()()


def test_compile_times_cold_and_cached_in_fresh_processes():
    # One cheap kernel: a cold compile of the blocked GEMM alone takes seconds on a busy machine.
    kinds = ("numba", "opencl") if OPENCL else ("numba",)
    triad = [n for n in compile_.numba_kernel_names() if n.startswith("stream_triad")]
    records = compile_.compile_times(kinds, numba_kernels=triad)
    assert not [r for r in records if "error" in r], records
    numba = [r for r in records if r["backend"] == "numba"]
    assert {r["phase"] for r in numba} == {"cold", "cached"}
    assert len({r["kernel"] for r in numba}) == 2       # Numba's start-up and the triad
    for r in records:
        assert r["unit"] == "s" and math.isfinite(r["value"]) and r["value"] >= 0
    for r in numba:
        assert r["first_call_s"] > 0 and r["run_s"] >= 0
    if OPENCL:
        assert {r["phase"] for r in records if r["backend"] == "opencl"} == {"cold", "cached"}


# -- everything ------------------------------------------------------------------------------------

def test_benchmark_script_records_every_measurement(tmp_path, repo_root):
    # benchmarks/machine.py --quick is measure_all(quick=True) written as JSON: one run checks both.
    proc = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "machine.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "STREAM" in proc.stdout and "Peak GFLOP/s" in proc.stdout
    (path,) = tmp_path.glob("machine-*-quick.json")
    result = json.loads(path.read_text())
    assert result["errors"] == []
    assert result["settings"]["quick"] is True
    for section, unit in (("peak", "GFLOP/s"), ("stream", "GB/s"), ("cache", "GB/s"), ("launch", "us")):
        assert result[section], section
        for r in result[section]:
            assert_record(r, unit)
    assert {r["backend"] for r in result["peak"]} >= {"numpy", "numba"}
    assert len(result["theoretical_peak"]) == 2
    machine = result["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["libraries"]["numpy"] == np.__version__
    assert machine["numba_threading_layer"] in ("workqueue", "omp", "tbb")
    if OPENCL:
        assert result["opencl_devices_measured"] and result["transfer"]
        assert {r["backend"] for r in result["stream"]} == {"numpy", "numba", "opencl"}


# -- bad arguments ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: peak.numba_peak(np.int32), "dtype must be float32 or float64"),
    (lambda: peak.numba_peak(iterations=0), "iterations must be a positive integer"),
    (lambda: peak.numpy_peak(n=2.5), "n must be a positive integer"),
    (lambda: peak.theoretical_peak(fma_units=0), "fma_units must be a positive integer"),
    (lambda: stream.numba_stream(0), "n must be a positive integer"),
    (lambda: stream.numpy_stream(10, repeat=0), "repeat must be a positive integer"),
    (lambda: cache.default_sizes(8192, 4096), r"largest must be >= smallest \(8192\)"),
    (lambda: cache.numba_cache_curve([1000]), "sizes must be a non-empty list of integers >= 4096"),
    (lambda: cache.numba_cache_curve([6000]), "sizes must be multiples of 1024 bytes"),
    (lambda: transfer.fit_latency_bandwidth([1, 2], [1.0]), "sizes and seconds must be 1-D of the same length"),
    (lambda: transfer.fit_latency_bandwidth([8, 8], [1.0, 2.0]), "at least two different sizes"),
    (lambda: transfer.fit_latency_bandwidth([8, 16], [1.0, -2.0]), "seconds must be positive finite"),
    (lambda: launch.host_overheads(min_seconds=0), "min_seconds must be a positive number"),
    (lambda: compile_.compile_times(("cuda",)), "kinds must name numba and/or opencl; got 'cuda'"),
    (lambda: compile_.compile_times(numba_kernels=["gemm"]), "numba_kernels must be among"),
    (lambda: measure_all(quick="yes"), "quick must be True or False"),
])
def test_bad_arguments_are_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@needs_opencl
def test_opencl_bad_arguments_are_explained(device):
    with pytest.raises(ValueError, match="sizes must be a non-empty list"):
        transfer.opencl_transfers(device, [])
    with pytest.raises(ValueError, match="repeat must be a positive integer"):
        peak.opencl_peak(device, repeat=0)
