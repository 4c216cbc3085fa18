"""The hardware chapter's own modules: the guard demonstration computes what the reference
does with both launches, the parts table is well-formed and cited, the GPU-results reader
works with and without a recorded GPU (tiny fixture JSONs), and the training-step profile
accounts for the whole step. No timing assertion: the figures are the book's to show."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import accel_edu.chapters  # noqa: F401  registers every kernel
from accel_edu.hardware import gpu_records, parts, step_profile
from accel_edu.runtime import REGISTRY, available_backends

OPENCL = available_backends()["opencl"]
needs_opencl = pytest.mark.skipif(not OPENCL, reason=OPENCL.detail if not OPENCL else "")
BIB = Path(__file__).parents[1] / "book" / "references.bib"


# -- guard: both launches give the reference's numbers --------------------------------------------

@needs_opencl
@pytest.mark.parametrize("n", [1, 255, 256, 257, 1000])
@pytest.mark.parametrize("variant", ["guarded", "whole_groups"])
def test_scaled_step_matches_reference_at_group_edges(n, variant):
    from accel_edu.hardware import guard
    from accel_edu.runtime.opencl import empty, to_device, to_host
    p, g, v = guard.guard_inputs(n, seed=n)
    out = empty((n,), np.float32)
    guard.scaled_step(*(to_device(a) for a in (p, g, v)), out, 0.01, variant=variant)
    np.testing.assert_allclose(to_host(out), guard.scaled_step_reference(p, g, v, 0.01), rtol=1e-5, atol=1e-6)


@needs_opencl
def test_scaled_step_rejects_bad_arguments():
    from accel_edu.hardware import guard
    from accel_edu.runtime.opencl import empty, to_device
    p, g, v = (to_device(a) for a in guard.guard_inputs(8))
    with pytest.raises(ValueError, match="variant must be one of guarded, whole_groups; got 'fast'"):
        guard.scaled_step(p, g, v, empty((8,)), 0.1, variant="fast")
    with pytest.raises(ValueError, match="out must have p's shape"):
        guard.scaled_step(p, g, v, empty((9,)), 0.1)
    with pytest.raises(ValueError, match="g must be a DeviceArray"):
        guard.scaled_step(p, np.zeros(8, np.float32), v, empty((8,)), 0.1)


@needs_opencl
def test_guard_comparison_records_both_variants():
    from accel_edu.hardware import guard
    records = guard.guard_comparison(n=4096 + 3, repeat=2)
    assert [r["variant"] for r in records] == list(guard.VARIANTS)
    assert all(r["median_s"] > 0 and r["n"] == 4099 for r in records)
    assert records[1]["ratio_to_whole_groups"] == 1.0
    assert records[0]["ratio_to_whole_groups"] == pytest.approx(records[0]["median_s"] / records[1]["median_s"])


# -- parts: published peaks, each with its source --------------------------------------------------

def test_every_part_names_its_source_and_a_bibliography_entry():
    keys = set(re.findall(r"@\w+\{([^,]+),", BIB.read_text()))
    for p in parts.PARTS:
        assert p.source and p.kind in ("GPU", "ASIC", "FPGA")
        assert set(p.cite.split(",")) <= keys, p.cite
        assert p.memory_gbps > 0
        assert any(p.peak(x) for x in parts.PRECISIONS), p.name


def test_ridge_is_peak_over_bandwidth_and_ceilings_fit_the_roofline():
    from accel_edu.hardware.roofline import attainable, ridge
    h100 = parts.part("NVIDIA H100 SXM")
    assert h100.peak("bf16") == pytest.approx(h100.bf16_tflops * 1e3)
    assert h100.ridge("bf16") == pytest.approx(h100.peak("bf16") / h100.memory_gbps)
    for precision in parts.PRECISIONS:
        for c in parts.part_ceilings(precision):
            assert ridge(c) > 0
            assert attainable(1e6, c["peak_gflops"], c["bandwidth_gbps"]) == c["peak_gflops"]
    table = parts.parts_table("int8")
    assert [r["peak_gflops"] for r in table] == sorted(r["peak_gflops"] for r in table)
    assert all(r["name"] != "AMD Instinct MI300X" for r in table)      # no checked INT8 figure


def test_parts_reject_unknown_names_and_precisions():
    with pytest.raises(ValueError, match="precision must be one of fp32, bf16, int8; got 'fp8'"):
        parts.PARTS[0].peak("fp8")
    with pytest.raises(ValueError, match="name must be one of"):
        parts.part("a GPU I made up")


# -- recorded GPU results: both ways, from fixtures ------------------------------------------------

def _machine(device_type: str, peak: float = 20000.0) -> dict:
    label = "[1:0] Some GPU" if device_type == "GPU" else "[0:0] pthread-cpu"
    dev = {"backend": "opencl", "device": label}
    return {"machine": {"date": "2027-01-05T10:00:00",
                        "opencl_devices": [{"id": label[1:4], "type": device_type, "name": label[6:]}]},
            "opencl_devices_measured": [label],
            "peak": [{**dev, "dtype": "float32", "best": peak}, {**dev, "dtype": "float32", "best": peak / 2}],
            "stream": [{**dev, "kernel": "triad", "best": 900.0}, {**dev, "kernel": "copy", "best": 950.0}],
            "launch": [{**dev, "median": 6.0}],
            "transfer": [{"points": [], "fits": [{"device": label, "direction": "host_to_device",
                                                  "bandwidth_gbps": 25.0, "latency_us": 9.0}]}]}


def test_gpu_reader_says_how_to_record_when_none_is_there(tmp_path):
    (tmp_path / "machine-2027-01-01.json").write_text(json.dumps(_machine("CPU")))
    (tmp_path / "conv2d-2027-01-01.json").write_text("[1, 2]")       # another benchmark's file
    assert gpu_records.gpu_records(tmp_path) == []
    assert gpu_records.gpu_report(tmp_path) == gpu_records.HOW_TO_RECORD


def test_gpu_reader_summarises_a_recorded_gpu(tmp_path):
    (tmp_path / "machine-2027-01-05-gpu.json").write_text(json.dumps(_machine("GPU")))
    (tmp_path / "machine-2027-01-06-broken.json").write_text("{not json")
    [g] = gpu_records.gpu_records(tmp_path)
    assert (g["device"], g["file"], g["date"]) == ("[1:0] Some GPU", "machine-2027-01-05-gpu.json", "2027-01-05T10:00:00")
    assert (g["peak_float32_gflops"], g["peak_float64_gflops"], g["triad_gbps"]) == (20000.0, None, 900.0)
    assert (g["launch_us"], g["host_to_device_gbps"], g["host_to_device_latency_us"]) == (6.0, 25.0, 9.0)
    report = gpu_records.gpu_report(tmp_path)
    assert "[1:0] Some GPU  (recorded 2027-01-05T10:00:00" in report and "20,000 GFLOP/s" in report


def test_gpu_reader_reads_the_committed_results_and_rejects_a_missing_folder(tmp_path):
    results = Path(__file__).parents[1] / "benchmarks" / "results"
    assert isinstance(gpu_records.gpu_report(results), str)
    with pytest.raises(ValueError, match="results_dir must be a folder"):
        gpu_records.gpu_records(tmp_path / "absent")


# -- where a training step's time goes -------------------------------------------------------------

def _assert_accounts_for_the_step(r: dict) -> None:
    assert set(r["parts"]) == set(step_profile.PARTS)
    assert sum(r["parts"].values()) == pytest.approx(r["step_s"], rel=1e-9)
    assert r["parts"]["compute"] > 0 and r["parts"]["memory-bound"] > 0
    assert r["step_s"] > 0 and r["uninstrumented_s"] > 0
    assert any(step_profile.is_compute_kernel(k) for k in r["kernels"])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_host_backends_have_no_launches_or_transfers(backend):
    if not available_backends()[backend]:
        pytest.skip(f"{backend} not available")
    impls = {k: dict(v.impls) for k, v in REGISTRY.items()}
    r = step_profile.profile_step("mlp", backend, batch_size=8, steps=2, warmup=1)
    _assert_accounts_for_the_step(r)
    assert r["parts"]["launches"] == 0 and r["parts"]["transfers"] == 0
    # forward: 2 Linear + ReLU; loss; backward: 2 Linear + ReLU; 4 parameter updates
    assert r["calls_per_step"] == 11
    assert {k: dict(v.impls) for k, v in REGISTRY.items()} == impls      # the timers are gone


@needs_opencl
def test_opencl_step_counts_its_launches_and_transfers():
    from accel_edu.runtime import opencl
    cache = opencl._kernels
    r = step_profile.profile_step("lenet", "opencl", batch_size=4, steps=2, warmup=1)
    _assert_accounts_for_the_step(r)
    assert r["launches_per_step"] >= r["calls_per_step"] == 23
    assert r["parts"]["launches"] > 0
    # one upload of the batch and one of the labels; nothing comes back
    assert (r["transfers_per_step"]["h2d_count"], r["transfers_per_step"]["d2h_count"]) == (2, 0)
    assert r["transfers_per_step"]["h2d_bytes"] == 4 * 64 * 4 + 4 * 8
    assert opencl._kernels is cache


def test_profile_step_rejects_bad_arguments():
    assert step_profile.is_compute_kernel("conv2d_backward") and not step_profile.is_compute_kernel("relu_forward")
    with pytest.raises(ValueError, match="model must be one of lenet, mlp; got 'resnet'"):
        step_profile.profile_step("resnet", "numpy")
    with pytest.raises(ValueError, match="backend must be an available backend"):
        step_profile.profile_step("mlp", "cuda")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        step_profile.build_model("mlp", "numpy", 0)
