"""The GEMM ladder's rungs beyond the registry's cross-check (tests/test_registry.py -k gemm
checks every rung against NumPy): what their docstrings promise, the records that
hardware.gemm_ladder and bench gemm make of them, and their argument checks. No timings are
asserted: speed is measured in benchmarks/gemm.py."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import accel_edu.chapters  # noqa: F401  (registers the kernels)
from accel_edu.runtime import REGISTRY, available_backends, to_device, to_numpy

AVAILABLE = available_backends()
BACKENDS = [b for b in ("numba", "opencl") if AVAILABLE[b]]
# (M, K, N) with ragged edges against every tile (4 x 16, 8 x 32, 6 x 16, 8 x 32) and
# K past the cache block (KC = 1024).
SHAPES = [(1, 1, 1), (9, 17, 33), (67, 129, 71), (13, 1030, 40)]


@pytest.fixture(scope="module")
def records():
    """One small ladder, timed once for the whole module (n = 24: a few seconds, most of it
    Numba loading its cached code and PoCL building its programs)."""
    from accel_edu.hardware.gemm_ladder import ladder_records
    return ladder_records(n=24, backends=("numba", "opencl"), repeat=1, slow_limit=16)


def _cases(dtype):
    rng = np.random.default_rng(7)
    for m, k, n in SHAPES:
        for ta in (False, True):
            for tb in (False, True):
                a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
                b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
                yield f"M={m} K={k} N={n} trans_a={ta} trans_b={tb}", a, b, ta, tb


@pytest.mark.skipif(not AVAILABLE["numba"], reason="numba unavailable")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_vector_gives_the_bits_of_blocked(dtype):
    """The vector rung changes the tile, not the order of any sum (its docstring's claim)."""
    from accel_edu.backprop.numba_kernels import gemm_blocked, gemm_vector
    for label, a, b, ta, tb in _cases(dtype):
        np.testing.assert_array_equal(gemm_vector(a, b, ta, tb), gemm_blocked(a, b, ta, tb), err_msg=label)


@pytest.mark.skipif(not AVAILABLE["numba"], reason="numba unavailable")
def test_numba_loop_rungs_give_the_bits_of_parallel():
    """loop_order, parallel and cache_blocked sum each element in the order p = 0, 1, ..."""
    from accel_edu.backprop import numba_kernels as nk
    for label, a, b, ta, tb in _cases(np.float32):
        want = nk.gemm_parallel(a, b, ta, tb)
        np.testing.assert_array_equal(nk.gemm_loop_order(a, b, ta, tb), want, err_msg=label)
        np.testing.assert_array_equal(nk.gemm_cache_blocked(a, b, ta, tb), want, err_msg=label)


@pytest.mark.skipif(not AVAILABLE["numba"], reason="numba unavailable")
def test_packed_b_panel_is_the_same_from_either_layout():
    from accel_edu.backprop.numba_kernels import _pack_b_panel
    b = np.random.default_rng(3).standard_normal((19, 37)).astype(np.float32)  # op(B): (K, N)
    bt = np.ascontiguousarray(b.T)
    for j0 in (0, 16, 32):  # the last panel overhangs N = 37 and must be zero-padded
        plain, from_t = np.full((19, 16), np.nan, np.float32), np.full((19, 16), np.nan, np.float32)
        _pack_b_panel(b, False, j0, plain)
        _pack_b_panel(bt, True, j0, from_t)
        want = np.zeros((19, 16), np.float32)
        want[:, :min(16, 37 - j0)] = b[:, j0:j0 + 16]
        np.testing.assert_array_equal(plain, want)
        np.testing.assert_array_equal(from_t, want)


@pytest.mark.skipif(not AVAILABLE["opencl"], reason="opencl unavailable")
def test_opencl_vector_gives_the_bits_of_register_tiled():
    """Wider vectors and a taller tile; each element's sum over k is the same chain."""
    from accel_edu.backprop.opencl_kernels import gemm_register_tiled, gemm_vector
    for label, a, b, ta, tb in _cases(np.float32):
        da, db = to_device(a), to_device(b)
        np.testing.assert_array_equal(to_numpy(gemm_vector(da, db, ta, tb)),
                                      to_numpy(gemm_register_tiled(da, db, ta, tb)), err_msg=label)


def test_ladder_is_ordered_and_ends_on_the_default():
    gemm = REGISTRY["gemm"]
    assert gemm.variants("numba")[:2] == ["naive", "loop_order"]
    assert gemm.variants("opencl")[:3] == ["naive", "local_tiled", "register_tiled"]
    for backend in ("numba", "opencl"):
        assert gemm.defaults[backend] == gemm.variants(backend)[-1]
        # chapter 1 names these rungs; they must keep working
        for variant in {"numba": ("naive", "parallel", "blocked"),
                        "opencl": ("naive", "local_tiled", "register_tiled")}[backend]:
            assert variant in gemm.variants(backend)


def test_ladder_records_every_rung_in_order(records):
    got = [(r["backend"], r["variant"]) for r in records]
    want = [("numpy", "openblas")] + [(b, v) for b in BACKENDS for v in REGISTRY["gemm"].variants(b)]
    assert got == want
    for r in records:
        assert r["kernel"] == "gemm" and r["n"] == r["size"] == 24 and r["shape"] == [24, 24, 24]
        assert r["flops"] == 2 * 24 ** 3 and r["bytes_min"] == r["bytes"] == 4 * 3 * 24 ** 2
        assert r["intensity"] == pytest.approx(r["flops"] / r["bytes"])
        assert r["label"] == f"{r['backend']}/{r['variant']}" and r["summary"]
    for b in BACKENDS:
        assert [r["rung"] for r in records if r["backend"] == b] == list(range(len(REGISTRY["gemm"].variants(b))))


def test_ladder_records_skip_the_slowest_rungs_with_a_note(records):
    from accel_edu.bench.gemm import SLOW_VARIANTS
    for r in records:
        if (r["backend"], r["variant"]) in SLOW_VARIANTS:  # n = 24 > slow_limit = 16
            assert r["median_s"] is None and r["gflops"] is None and r["ratio_to_numpy"] is None
            assert "above n = 16" in r["skipped"]
        else:
            assert r["skipped"] is None
            assert r["median_s"] > 0 and r["gflops"] == pytest.approx(r["flops"] / r["median_s"] / 1e9)
    assert any(r["skipped"] for r in records if r["backend"] != "numpy") == bool(BACKENDS)
    json.dumps(records)  # a notebook may save them as they are


def test_ladder_records_go_on_the_roofline(records):
    from accel_edu.hardware.roofline import place
    points = place([r for r in records if r["median_s"]])
    assert points and all(p["intensity"] == pytest.approx(24 / 6) for p in points)  # 2n^3 / 12n^2


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0), "n must be a positive integer"),
    (dict(repeat=0), "repeat must be a positive integer"),
    (dict(backends=["cuda"]), "backends must be a non-empty list drawn from"),
    (dict(backends=[]), "backends must be a non-empty list drawn from"),
    (dict(dtype=np.int32), "dtype must be float32 or float64"),
])
def test_ladder_records_bad_input(kwargs, message):
    from accel_edu.hardware.gemm_ladder import ladder_records
    with pytest.raises(ValueError, match=message):
        ladder_records(**kwargs)


def test_bench_gemm_table_lists_every_rung():
    proc = subprocess.run([sys.executable, "-m", "accel_edu.cli", "bench", "gemm", "--sizes", "20",
                           "--repeat", "1", "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = {tuple(line.split()[:2]) for line in proc.stdout.splitlines()[3:]}
    for b in BACKENDS:
        for v in REGISTRY["gemm"].variants(b):
            assert (b, v) in rows, f"bench gemm's table has no row for {b}/{v}:\n{proc.stdout}"


def test_gemm_record_carries_the_roofline_counts():
    from accel_edu.bench.gemm import gemm_record
    r = gemm_record("numba", "vector", 12, seconds=2e-6, numpy_seconds=1e-6, itemsize=8)
    assert r["flops"] == 2 * 12 ** 3 and r["bytes_min"] == 8 * 3 * 12 ** 2
    assert r["rung"] == REGISTRY["gemm"].variants("numba").index("vector")
    assert r["gflops"] == pytest.approx(2 * 12 ** 3 / 2e-6 / 1e9) and r["ratio_to_numpy"] == 0.5
