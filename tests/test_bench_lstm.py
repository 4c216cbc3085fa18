"""accel-edu bench lstm and benchmarks/lstm.py: the shapes of their records and their options
(never their timings: speed lives in the recorded benchmarks)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from accel_edu.bench.lstm import lstm_candidates, openblas_kernels
from accel_edu.cli import main
from accel_edu.runtime import available_backends

TINY = "3,2,5,4"            # T, N, D, H


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "accel_edu.cli", *args], capture_output=True, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def _torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def test_bench_lstm_json_records_every_row():
    code, out, err = run("bench", "lstm", "--shape", TINY, "--backends", "numpy,numba,torch",
                         "--repeat", "1", "--json", "--quiet")
    assert code == 0, err
    records = json.loads(out)
    rows = {(r["backend"], r["variant"]) for r in records}
    want = {("numpy", "reference"), ("numba", "numba"), ("numba", "cells+OpenBLAS GEMM"),
            ("numba", "fused sequence")}
    if _torch():
        want |= {("torch", "cpu"), ("torch", "cpu, no oneDNN")}
    assert rows == want
    torch_s = {r["variant"]: r["median_s"] for r in records if r["backend"] == "torch"}.get("cpu")
    for r in records:
        assert r["kernel"] == "lstm" and r["shape"] == [3, 2, 5, 4] and r["input_grad"] is True
        assert r["median_s"] > 0 and r["threads"] >= 1
        assert r["openblas_kernels"] == openblas_kernels()     # the same environment, the same pick
        if torch_s is None:
            assert r["ratio_to_torch"] is None
        else:
            assert r["ratio_to_torch"] == pytest.approx(torch_s / r["median_s"])


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_bench_other_cells_and_no_input_grad(cell):
    code, out, err = run("bench", "lstm", "--cell", cell, "--shape", TINY, "--backends", "numpy",
                         "--repeat", "1", "--no-input-grad", "--threads", "1", "--json", "--quiet")
    assert code == 0, err
    (record,) = json.loads(out)
    assert record["kernel"] == cell and record["input_grad"] is False and record["threads"] == 1


def test_bench_lstm_table_says_what_was_measured():
    code, out, err = run("bench", "lstm", "--shape", TINY, "--backends", "numpy", "--repeat", "1", "--quiet")
    assert code == 0, err
    assert "LSTM forward + backward through time" in out and "input gradient" in out
    assert "reference" in out


@pytest.mark.parametrize("args, message", [
    (["bench", "lstm", "--shape", "3,2,5"], "--shape must be four comma-separated positive integers"),
    (["bench", "lstm", "--shape", "3,0,5,4"], "--shape must be comma-separated positive integers"),
    (["bench", "lstm", "--cell", "transformer"], "--cell must be one of lstm, gru, rnn"),
    (["bench", "lstm", "--backends", "cuda"], "--backends must be a comma-separated subset"),
    (["bench", "lstm", "--threads", "0"], "--threads must be comma-separated positive integers"),
])
def test_bench_lstm_bad_options_are_explained(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bench_lstm_help_explains_what_is_measured(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "lstm", "--help"])
    out = capsys.readouterr().out
    assert "backward through time" in out and "OpenBLAS" in out and "oneDNN" in out
    assert "fused sequence" in out


@pytest.mark.skipif(not _torch(), reason="PyTorch is not installed")
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_torch_row_is_the_same_layer(cell):
    """The torch row times the same computation: its twin holds the same weights and gives the
    same outputs and input gradient."""
    import torch

    from accel_edu.bench.lstm import _layer_class, torch_twin
    layer = _layer_class(cell)(5, 4, seed=0, backend="numpy")
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((3, 2, 5)).astype(np.float32), rng.standard_normal((3, 2, 4)).astype(np.float32)
    y = layer.forward(x)
    dx = layer.backward(dy)
    tx = torch.from_numpy(x).requires_grad_()
    ty, _ = torch_twin(cell, layer)(tx)
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(ty.detach().numpy(), y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not available_backends()["numba"], reason="Numba is not available")
def test_candidates_skip_backends_not_asked_for():
    candidates = lstm_candidates("lstm", (2, 1, 3, 2), ["numba"], include_torch=False)
    assert set(candidates) == {("numba", "numba"), ("numba", "cells+OpenBLAS GEMM"), ("numba", "fused sequence")}
    gru = lstm_candidates("gru", (2, 1, 3, 2), ["numba"], include_torch=False)
    assert set(gru) == {("numba", "numba"), ("numba", "cells+OpenBLAS GEMM")}     # fused: LSTM only


def test_benchmark_script_writes_dated_json(tmp_path):
    proc = subprocess.run([sys.executable, "benchmarks/lstm.py", "--shape", TINY, "--repeat", "1",
                           "--cells", "lstm,gru", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (path,) = tmp_path.glob("lstm-*.json")
    result = json.loads(path.read_text())
    assert {"machine", "records", "breakdown"} <= set(result)
    assert result["machine"]["cores"] >= 1
    assert {r["kernel"] for r in result["records"]} == {"lstm", "gru"}
    assert {r["input_grad"] for r in result["records"]} == {True, False}
    assert ("numba", "fused sequence") in {(b["backend"], b["variant"]) for b in result["breakdown"]}
    for b in result["breakdown"]:
        seconds = b["seconds"]
        if b["variant"] == "fused sequence":
            assert {"forward sequence (input projection, GEMMs, cells)", "backward sequence (cells, GEMMs)",
                    "weight-gradient GEMMs", "dx GEMM", "total"} <= set(seconds)
        else:
            assert {"GEMM per step", "cells", "weight-gradient GEMMs", "total"} <= set(seconds)
        assert all(v >= 0 for v in seconds.values())


@pytest.mark.parametrize("options", [{}, {"gemm_backend": "numpy"}])
def test_time_breakdown_names_every_category(options):
    from accel_edu.bench.lstm import time_breakdown
    from accel_edu.rnn import layers
    before = layers.take_step
    seconds = time_breakdown("lstm", (3, 2, 5, 4), "numba" if options else "numpy", repeat=1, **options)
    assert layers.take_step is before                # every timer removed afterwards
    want = {"GEMM per step", "input projection GEMM", "weight-gradient GEMMs", "dx GEMM", "cells",
            "bias gradient", "step copies", "Python and the rest", "total"}
    assert want <= set(seconds)
    measured = [k for k in want if k not in ("Python and the rest", "total")]
    assert all(seconds[k] > 0 for k in measured), seconds     # each category's calls were caught


@pytest.mark.skipif(not available_backends()["numba"], reason="Numba is not available")
def test_time_breakdown_of_the_fused_lstm():
    from accel_edu.bench.lstm import FUSED_CATEGORIES, time_breakdown
    from accel_edu.rnn import numba_sequence
    before = numba_sequence.lstm_sequence_forward
    seconds = time_breakdown("lstm", (3, 2, 5, 4), "numba", repeat=1, fused=True)
    assert numba_sequence.lstm_sequence_forward is before
    assert set(FUSED_CATEGORIES.values()) | {"Python and the rest", "total"} == set(seconds)
    assert all(seconds[k] > 0 for k in FUSED_CATEGORIES.values()), seconds
