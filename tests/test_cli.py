"""The accel-edu command: devices and bench, as a user runs them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from accel_edu.cli import main


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "accel_edu.cli", *args], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_help_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("devices", "bench"):
        assert command in out


def test_devices_text_and_json(capsys):
    assert main(["devices"]) == 0
    text = capsys.readouterr().out
    assert "Backends:" in text and "numpy" in text and "opencl" in text
    assert main(["devices", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["backends"]) == {"numpy", "numba", "opencl"}
    for d in info["opencl_devices"]:
        for key in ("name", "type", "compute_units", "global_mem_bytes", "local_mem_bytes", "fp64"):
            assert key in d


def test_bench_gemm_json_records_every_version():
    code, out, err = run("bench", "gemm", "--sizes", "33", "--repeat", "1", "--json")
    assert code == 0, err
    records = json.loads(out)  # progress went to stderr, so stdout is pure JSON
    import accel_edu.chapters  # noqa: F401
    from accel_edu.runtime import REGISTRY, available_backends
    expected = {("numpy", "openblas")} | {
        (b, v) for b in ("numba", "opencl") if available_backends()[b] for v in REGISTRY["gemm"].variants(b)}
    assert {(r["backend"], r["variant"]) for r in records} >= expected
    for r in records:
        assert r["kernel"] == "gemm" and r["shape"] == [33, 33, 33]
        assert r["median_s"] > 0 and r["gflops"] > 0 and r["ratio_to_numpy"] > 0


@pytest.mark.parametrize("args, message", [
    (["bench", "gemm", "--backends", "cuda"], "--backends must be a comma-separated subset"),
    (["bench", "gemm", "--sizes", "0"], "--sizes must be positive integers"),
])
def test_bench_bad_options_are_explained(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bench_conv2d_json_records_every_variant_with_torch_ratio():
    code, out, err = run("bench", "conv2d", "--shapes", "lenet2", "--repeat", "1", "--json")
    assert code == 0, err
    records = json.loads(out)
    import accel_edu.chapters  # noqa: F401
    from accel_edu.runtime import REGISTRY, available_backends
    numba_steps = set(REGISTRY["conv2d_forward"].variants("numba")) if available_backends()["numba"] else set()
    got = {(r["backend"], r["variant"]) for r in records}
    assert ("numpy", "im2col") in got and {("numba", v) for v in numba_steps} <= got
    for r in records:
        assert r["kernel"] == "conv2d" and r["shape_name"] == "lenet2" and r["shape"] == [64, 6, 12, 12, 16, 5, 0]
        assert r["median_s"] > 0 and r["gflops"] > 0 and r["ratio_to_numpy"] > 0
        has_torch = any(t["backend"] == "torch" for t in records)
        assert (r["ratio_to_torch"] is not None) == has_torch


def test_bench_conv2d_rejects_an_unknown_shape(capsys):
    assert main(["bench", "conv2d", "--shapes", "lenet3"]) == 2
    assert "--shapes must be a comma-separated subset of lenet1,lenet2,large" in capsys.readouterr().err


def test_bench_machine_quick_json_holds_every_measurement():
    code, out, err = run("bench", "machine", "--quick", "--json", "--quiet")
    assert code == 0, err
    result = json.loads(out)
    for section in ("peak", "stream", "cache", "transfer", "launch", "machine", "errors"):
        assert section in result, section
    assert result["errors"] == [], result["errors"]
    assert all(r["best"] > 0 for r in result["peak"]), result["peak"]
    code, out, err = run("bench", "machine", "--quick", "--quiet")
    assert code == 0 and "Peak GFLOP/s" in out and "STREAM" in out, out + err
