"""``accel-edu bench kernels`` end to end: it runs, writes JSON with the machine, a real PNG
roofline and bar chart; bad options exit nonzero naming the option. Nothing asserts a speed."""
from __future__ import annotations

import json

import pytest

from accel_edu.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """One run as the README gives it (ceilings measured in the run, quick), for every check
    below: Numba's compiles and PoCL's builds are paid once."""
    out = tmp_path_factory.mktemp("bench")
    argv = ["bench", "kernels", "--kernel", "relu_forward,gemm", "--size", "small", "--repeat", "1",
            "--json", str(out / "F.json"), "--roofline", str(out / "P.png"), "--plot", str(out / "bars.png"),
            "--quiet"]
    return main(argv), out


def test_bench_kernels_runs_and_writes_json_with_the_machine(bench_run, capsys):
    rc, out = bench_run
    assert rc == 0
    data = json.loads((out / "F.json").read_text())
    assert data["machine"]["cpu"] and data["machine"]["cores"] >= 1 and "libraries" in data["machine"]
    assert "opencl_devices" in data["machine"]
    points = data["points"]
    assert {p["kernel"] for p in points} == {"relu_forward", "gemm"}
    assert {p["size"] for p in points} == {"small"}
    for p in points:
        assert p["median_s"] > 0 and p["bytes"] > 0 and p["workload_source"] == "workloads.py"
        assert p["intensity"] == pytest.approx(p["flops"] / p["bytes"])
    gemm = next(p for p in points if p["kernel"] == "gemm")
    assert gemm["flops"] == 2 * 128 ** 3                 # the small GEMM is 128 x 128 x 128
    assert data["ceilings"], "the roofline needs ceilings, measured in the run"
    assert all(p["fraction"] is not None for p in points if p["backend"] in {c["backend"] for c in data["ceilings"]})


def test_bench_kernels_writes_real_pngs_and_the_roofline_json(bench_run):
    _, out = bench_run
    for name in ("P.png", "bars.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5_000, name
    roof = json.loads((out / "P.json").read_text())
    assert roof["ceilings"] and roof["points"] and roof["machine"]["cpu"]


def test_a_fallback_workload_is_flagged(tmp_path, monkeypatch, capsys):
    import accel_edu.bench.kernels as bench
    monkeypatch.setattr(bench, "workload_table", lambda: {})     # as for a chapter without workloads.py
    rc = main(["bench", "kernels", "--kernel", "relu_forward", "--backends", "numpy", "--size", "small",
               "--repeat", "1", "--json", str(tmp_path / "f.json"), "--quiet"])
    assert rc == 0
    (p,) = json.loads((tmp_path / "f.json").read_text())["points"]
    assert p["workload_source"] == bench.FALLBACK
    assert "* largest case" in capsys.readouterr().out


def test_float64_through_a_fallback_case(tmp_path, monkeypatch):
    import accel_edu.bench.kernels as bench
    monkeypatch.setattr(bench, "workload_table", lambda: {})     # cases are built with np.float64 too
    rc = main(["bench", "kernels", "--kernel", "tanh_forward", "--backends", "numpy", "--size", "small",
               "--dtype", "float64", "--repeat", "1", "--json", str(tmp_path / "f.json"), "--quiet"])
    assert rc == 0
    (p,) = json.loads((tmp_path / "f.json").read_text())["points"]
    assert p["dtype"] == "float64" and p["bytes"] % 8 == 0


@pytest.mark.parametrize("argv, option", [
    (["--kernel", "no_such_kernel"], "--kernel"),
    (["--kernel", "gemm", "--size", "huge"], "--size"),
    (["--kernel", "gemm", "--backends", "cuda"], "--backends"),
    (["--chapter", "astronomy"], "--chapter"),
    (["--kernel", "gemm", "--roofline", "roof.svg"], "--roofline"),
    (["--kernel", "gemm", "--dtype", "float16"], "--dtype"),
    (["--kernel", "gemm", "--repeat", "0"], "--repeat"),
    ([], "--kernel"),
])
def test_bad_input_exits_nonzero_naming_the_option(argv, option, capsys):
    assert main(["bench", "kernels", *argv, "--quiet"]) != 0
    assert option in capsys.readouterr().err


def test_bare_bench_without_roofline_says_what_to_choose(capsys):
    assert main(["bench"]) != 0
    assert "--roofline" in capsys.readouterr().err


def test_variants_all_takes_every_rung_of_the_ladder():
    from accel_edu.bench.kernels import variants_to_time
    from accel_edu.runtime import REGISTRY
    gemm = REGISTRY["gemm"]
    assert variants_to_time(gemm, "numba", "all") == gemm.variants("numba")
    assert len(gemm.variants("numba")) > 1, "gemm has a ladder on Numba"
    assert variants_to_time(gemm, "numba", "default") == [gemm.defaults["numba"]]
    assert variants_to_time(gemm, "numba", ["naive", "no_such_rung"]) == ["naive"]


def test_bare_roofline_runs_the_default_subset(tmp_path, monkeypatch, capsys):
    """`accel-edu bench --roofline FILE.png` is bench kernels --roofline over DEFAULT_ROOFLINE;
    the timing is replaced by made-up records here (the real run takes a minute)."""
    import accel_edu.bench.kernels_cli as cli
    from accel_edu.bench.kernels import DEFAULT_ROOFLINE, DEFAULT_ROOFLINE_SIZE
    asked = {}

    def fake_records(names, sizes, backends, variants, **kw):
        asked.update(names=names, sizes=sizes, variants=variants)
        return {"records": [{"kernel": n, "backend": "numba", "variant": "default", "size": sizes[0],
                             "workload": "made up", "workload_source": "workloads.py", "flops": 1e6,
                             "bytes": 1e6, "median_s": 1e-3} for n in names], "skipped": []}

    ceilings = [{"name": "Numba", "backend": "numba", "peak_gflops": 400.0, "bandwidth_gbps": 40.0, "source": "test"}]
    monkeypatch.setattr(cli, "kernel_records", fake_records)
    monkeypatch.setattr(cli, "_ceilings", lambda *a: (ceilings, "test"))
    assert main(["bench", "--roofline", str(tmp_path / "r.png")]) == 0
    assert asked == {"names": DEFAULT_ROOFLINE, "sizes": [DEFAULT_ROOFLINE_SIZE], "variants": "default"}
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG_MAGIC
    roof = json.loads((tmp_path / "r.json").read_text())
    assert [p["kernel"] for p in roof["points"]] == DEFAULT_ROOFLINE
    assert roof["points"][0]["fraction"] == pytest.approx(1.0 / 40.0)   # 1 GFLOP/s at I = 1 under 40 GB/s
