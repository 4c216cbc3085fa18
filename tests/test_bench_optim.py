"""accel-edu bench stream / optim and benchmarks/optim.py: the shapes of their records and
their options (never their timings: speed lives in the recorded benchmarks)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from accel_edu.bench.optim import adam_three_passes
from accel_edu.cli import main
from accel_edu.optim import kernels as K


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "accel_edu.cli", *args], capture_output=True, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_bench_stream_json_has_every_kernel():
    code, out, err = run("bench", "stream", "--n", "100000", "--repeat", "2", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["n"] == 100000
    for kernel, words in (("copy", 2), ("scale", 2), ("add", 3), ("triad", 3)):
        r = result[kernel]
        assert r["bytes"] == words * 8 * 100000          # STREAM's byte count
        assert r["median_gbps"] > 0 and r["best_gbps"] >= r["median_gbps"]


def test_bench_optim_json_records_fused_and_unfused():
    code, out, err = run("bench", "optim", "--sizes", "1000,4099", "--backends", "numpy,numba",
                         "--repeat", "1", "--stream-n", "100000", "--json", "--quiet")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"stream", "records", "skipped"}
    rows = {(r["n"], r["backend"], r["variant"]) for r in result["records"]}
    assert rows == {(n, b, v) for n in (1000, 4099)
                    for b, v in (("numpy", "unfused"), ("numba", "three passes"), ("numba", "fused"))}
    triad = result["stream"]["triad"]["median_gbps"]
    for r in result["records"]:
        assert r["bytes"] == 7 * 4 * r["n"]
        assert r["gbps"] == pytest.approx(r["bytes"] / r["median_s"] / 1e9)
        assert r["fraction_of_stream"] == pytest.approx(r["gbps"] / triad)


@pytest.mark.parametrize("args, message", [
    (["bench", "optim", "--sizes", "0"], "--sizes must be comma-separated positive integers"),
    (["bench", "optim", "--sizes", "many"], "--sizes must be comma-separated positive integers"),
    (["bench", "optim", "--backends", "cuda"], "--backends must be a comma-separated subset"),
    (["bench", "stream", "--n", "0"], "--n must be comma-separated positive integers"),
])
def test_bench_optim_bad_options_are_explained(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bench_help_explains_what_is_measured(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "optim", "--help"])
    out = capsys.readouterr().out
    assert "7 numbers" in out and "STREAM triad" in out


def test_three_pass_adam_is_the_same_update():
    # The benchmark's unfused Numba version must compute what the registered kernel does, or
    # its bandwidth would compare different work.
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(1001).astype(np.float32), rng.standard_normal(1001).astype(np.float32)
    m, v = rng.standard_normal(1001).astype(np.float32), rng.random(1001).astype(np.float32)
    want = [x.copy() for x in (p, g, m, v)]
    K.adam_update(*want, 1e-3, step=10, backend="numpy")
    adam_three_passes(p, g, m, v, 10)
    for got, w in zip((p, m, v), (want[0], want[2], want[3])):
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-7)


def test_benchmark_script_writes_dated_json(tmp_path):
    proc = subprocess.run([sys.executable, "benchmarks/optim.py", "--sizes", "1000", "--repeat", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (path,) = tmp_path.glob("optim-*.json")
    result = json.loads(path.read_text())
    assert {"machine", "stream", "records", "skipped"} <= set(result)
    assert result["machine"]["cores"] >= 1
