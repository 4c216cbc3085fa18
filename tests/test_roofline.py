"""accel_edu.hardware.roofline: the bound, the ceilings from a machine record, the points, the files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from accel_edu.hardware import roofline as R

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# A made-up machine record in measure_all's shape: what ceilings_from_machine reads.
MACHINE = {
    "peak": [
        {"backend": "numba", "device": "1 thread", "kernel": "fma_chains", "dtype": "float32", "best": 200.0},
        {"backend": "numba", "device": "2 threads", "kernel": "fma_chains", "dtype": "float32", "best": 400.0},
        {"backend": "numba", "device": "2 threads", "kernel": "fma_chains", "dtype": "float64", "best": 200.0},
        {"backend": "numpy", "device": "OpenBLAS", "kernel": "matmul", "dtype": "float32", "best": 210.0},
        {"backend": "opencl", "device": "[0:0] cpu", "kernel": "fma_peak", "dtype": "float32", "best": 340.0},
    ],
    "stream": [
        {"backend": "numba", "device": "2 threads", "kernel": "triad", "best": 41.0},
        {"backend": "numba", "device": "2 threads", "kernel": "copy", "best": 99.0},   # not the triad
        {"backend": "numpy", "device": "1 thread", "kernel": "triad", "best": 27.0},
        {"backend": "opencl", "device": "[0:0] cpu", "kernel": "triad", "best": 40.0},
    ],
}


def test_attainable_is_the_lower_of_the_two_roofs():
    assert R.attainable(0.25, 400.0, 40.0) == 10.0           # memory-bound: 0.25 * 40
    assert R.attainable(100.0, 400.0, 40.0) == 400.0         # compute-bound: the peak
    assert R.attainable(10.0, 400.0, 40.0) == 400.0          # exactly at the ridge, 400 / 40
    assert R.ridge({"peak_gflops": 400.0, "bandwidth_gbps": 40.0}) == 10.0
    np.testing.assert_allclose(R.attainable(np.array([0.0, 1.0, 20.0]), 400.0, 40.0), [0.0, 40.0, 400.0])


@pytest.mark.parametrize("bad", [{"peak_flops": 0.0}, {"bandwidth": -1.0}, {"intensity": -0.5}])
def test_attainable_rejects_bad_numbers_by_name(bad):
    kw = {"intensity": 1.0, "peak_flops": 400.0, "bandwidth": 40.0, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        R.attainable(kw["intensity"], kw["peak_flops"], kw["bandwidth"])


def test_ceilings_from_machine_take_the_best_of_each_backend():
    ceilings = {c["backend"]: c for c in R.ceilings_from_machine(MACHINE)}
    assert set(ceilings) == {"numba", "numpy", "opencl"}
    assert (ceilings["numba"]["peak_gflops"], ceilings["numba"]["bandwidth_gbps"]) == (400.0, 41.0)
    assert (ceilings["numpy"]["peak_gflops"], ceilings["numpy"]["bandwidth_gbps"]) == (210.0, 27.0)
    assert (ceilings["opencl"]["peak_gflops"], ceilings["opencl"]["bandwidth_gbps"]) == (340.0, 40.0)
    f64 = {c["backend"]: c for c in R.ceilings_from_machine(MACHINE, dtype="float64")}
    assert set(f64) == {"numba"} and f64["numba"]["peak_gflops"] == 200.0


def test_ceilings_from_machine_rejects_what_is_not_a_machine_record():
    with pytest.raises(ValueError, match="machine must be a measure_all"):
        R.ceilings_from_machine({"records": []})


def test_place_a_made_up_record():
    ceilings = R.ceilings_from_machine(MACHINE)
    record = {"kernel": "triad-like", "backend": "numba", "variant": "default", "size": "large",
              "flops": 2e6, "bytes": 12e6, "median_s": 1e-3}
    (p,) = R.place([record], ceilings)
    assert p["intensity"] == pytest.approx(2e6 / 12e6)
    assert p["gflops"] == pytest.approx(2.0) and p["gbps"] == pytest.approx(12.0)
    assert p["attainable_gflops"] == pytest.approx(41.0 * 2e6 / 12e6)     # memory-bound on Numba's triad
    assert p["fraction"] == pytest.approx(2.0 / (41.0 * 2e6 / 12e6))
    assert p["ceiling"] == "Numba" and p["size"] == "large"


def test_place_without_flops_uses_the_bandwidth_and_without_ceilings_gives_none():
    ceilings = R.ceilings_from_machine(MACHINE)
    copy = {"kernel": "im2col", "backend": "numpy", "flops": 0, "bytes": 13.5e6, "median_s": 1e-3}
    (p,) = R.place([copy], ceilings)
    assert p["intensity"] == 0 and p["fraction"] == pytest.approx(13.5 / 27.0)   # of NumPy's triad
    (q,) = R.place([copy])
    assert q["fraction"] is None and q["attainable_gflops"] is None


def test_place_names_a_missing_field():
    with pytest.raises(ValueError, match="'bytes'"):
        R.place([{"kernel": "k", "backend": "numba", "flops": 1.0, "median_s": 1.0}])


def test_write_roofline_writes_a_png_and_its_json(tmp_path):
    ceilings = R.ceilings_from_machine(MACHINE)
    points = R.place([{"kernel": "gemm", "backend": "numba", "flops": 2e9, "bytes": 12e6, "median_s": 0.01},
                      {"kernel": "flatten", "backend": "numpy", "flops": 0, "bytes": 8e6, "median_s": 1e-4}], ceilings)
    parts = [{"name": "a GPU", "backend": "gpu", "peak_gflops": 60_000.0, "bandwidth_gbps": 3_000.0}]
    png, js = R.write_roofline(tmp_path / "roof.png", ceilings, points, parts=parts, extra={"note": "test"})
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    saved = json.loads(js.read_text())
    assert js.name == "roof.json" and saved["note"] == "test"
    assert [c["name"] for c in saved["ceilings"]] == [c["name"] for c in ceilings]
    assert saved["parts"][0]["name"] == "a GPU" and len(saved["points"]) == 2
    with pytest.raises(ValueError, match="png_path must end in .png"):
        R.write_roofline(tmp_path / "roof.svg", ceilings, points)
