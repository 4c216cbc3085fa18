"""accel-edu bench attention and benchmarks/attention.py: the shapes of their records and their
options (never their timings: speed lives in the recorded benchmarks)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from accel_edu.bench.attention import attention_flops
from accel_edu.cli import main


def run(*args, timeout=300):
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def test_bench_attention_json_has_every_variant_and_torch():
    code, out, err = run("-m", "accel_edu.cli", "bench", "attention", "--lengths", "5,37", "--batch-heads", "2",
                         "--head-dim", "4", "--backends", "numpy,numba,torch", "--repeat", "1", "--causal",
                         "--json", "--quiet")
    assert code == 0, err
    records = json.loads(out)
    rows = {(r["T"], r["backend"], r["variant"]) for r in records}
    want = {(t, b, v) for t in (5, 37) for b, v in (("numpy", "reference"), ("numba", "plain"), ("numba", "tiled"))}
    try:
        import torch  # noqa: F401
        want |= {(5, "torch", "sdpa"), (37, "torch", "sdpa")}
    except ImportError:
        assert "PyTorch is not installed" in err
    assert rows == want
    torch_s = {r["T"]: r["median_s"] for r in records if r["backend"] == "torch"}
    for r in records:
        assert r["shape"] == [2, r["T"], r["T"], 4, 4] and r["causal"] is True
        assert r["gflops"] == pytest.approx(attention_flops(2, r["T"], 4, True) / r["median_s"] / 1e9)
        if torch_s:
            assert r["ratio_to_torch"] == pytest.approx(torch_s[r["T"]] / r["median_s"])
        else:
            assert r["ratio_to_torch"] is None


def test_attention_flops_count_six_products_per_visible_pair():
    # B=2, T=3, d=5: 9 pairs per batch entry, 6 when causal (1 + 2 + 3); 6 products * 2 d flops
    assert attention_flops(2, 3, 5, False) == 2 * 9 * 6 * 2 * 5
    assert attention_flops(2, 3, 5, True) == 2 * 6 * 6 * 2 * 5


@pytest.mark.parametrize("args, message", [
    (["bench", "attention", "--lengths", "0"], "--lengths must be comma-separated positive integers"),
    (["bench", "attention", "--lengths", "long"], "--lengths must be comma-separated positive integers"),
    (["bench", "attention", "--batch-heads", "0"], "--batch-heads must be comma-separated positive integers"),
    (["bench", "attention", "--backends", "cuda"], "--backends must be a comma-separated subset"),
])
def test_bench_attention_bad_options_are_explained(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bench_attention_help_explains_what_is_measured(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "attention", "--help"])
    out = capsys.readouterr().out
    assert "scaled_dot_product_attention" in out and "six matrix products" in out and "--causal" in out


def test_benchmark_script_writes_dated_json(tmp_path):
    code, out, err = run("benchmarks/attention.py", "--lengths", "33", "--batch-heads", "1", "--head-dim", "3",
                         "--repeat", "1", "--memory-lengths", "64", "--out", str(tmp_path))
    assert code == 0, err
    (path,) = tmp_path.glob("attention-*.json")
    result = json.loads(path.read_text())
    assert set(result) == {"machine", "records", "memory"}
    assert result["machine"]["cores"] >= 1
    assert {r["causal"] for r in result["records"]} == {False, True}
    assert {r["T"] for r in result["records"]} == {33}
    measured = [r for r in result["memory"] if "skipped" not in r]
    assert measured and {r["T"] for r in measured} == {64}
    assert all(r["expected_bytes"] > 0 for r in measured)
