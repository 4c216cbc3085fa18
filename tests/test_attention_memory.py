"""The tiled attention kernels' extra memory does not grow as Tq * Tk; the plain ones' does.

Reported, not timed: ``accel_edu.attention.memory.measure_memory`` measures one forward +
backward per variant (Numba: peak resident memory in a fresh process; OpenCL: an allocation
spy on the host code), and ``bytes_expected`` counts the same on paper. The plain variant is
the control: the measurement must see its (T, T) arrays.
"""
from __future__ import annotations

import pytest

from accel_edu.attention.memory import bytes_expected, measure_memory
from accel_edu.runtime import available_backends

AVAILABLE = available_backends()


def _measured(backend, lengths, **kwargs):
    if not AVAILABLE[backend]:
        pytest.skip(f"{backend} unavailable: {AVAILABLE[backend].detail}")
    records = measure_memory(lengths, backends=[backend], causal=True, **kwargs)
    if "skipped" in records[0]:
        pytest.skip(records[0]["skipped"])
    return {(r["variant"], r["T"]): r for r in records}


def test_opencl_tiled_allocates_nothing_of_size_t_squared():
    t, d = 96, 4
    got = _measured("opencl", [t], d=d)
    plain, tiled = got[("plain", t)]["measured_bytes"], got[("tiled", t)]["measured_bytes"]
    print(f"OpenCL peak live bytes at T={t}, d={d}: plain {plain}, tiled {tiled}")
    assert plain >= 2 * t * t * 4                 # the control: the spy sees P and dS
    assert tiled < t * t * 4                      # less than one (T, T) float32 array
    for variant in ("plain", "tiled"):            # the host code allocates what the count says
        assert got[(variant, t)]["measured_bytes"] == bytes_expected(variant, t, d=d, backend="opencl")


def test_numba_tiled_peak_memory_does_not_grow_as_t_squared():
    t = 3072                                      # one (T, T) float32 array: 36 MiB
    square = t * t * 4
    got = _measured("numba", [t], d=4)
    plain, tiled = got[("plain", t)]["measured_bytes"], got[("tiled", t)]["measured_bytes"]
    print(f"Numba peak RSS growth at T={t}: tiled {tiled / 2**20:.1f} MiB, plain {plain / 2**20:.1f} MiB "
          f"(one T x T float32 array is {square / 2**20:.0f} MiB)")
    assert plain >= 2 * square * 0.95             # the control: the measurement sees P and dS
    assert tiled < square / 4
    assert plain == pytest.approx(bytes_expected("plain", t, d=4), rel=0.05)


def test_expected_bytes_grow_as_t_squared_only_for_plain():
    plain = [bytes_expected("plain", t) for t in (1024, 2048)]
    tiled = [bytes_expected("tiled", t) for t in (1024, 2048)]
    assert plain[1] / plain[0] == pytest.approx(4, rel=0.02)
    assert tiled[1] / tiled[0] == pytest.approx(2)
    # B=1, T=4, d=e=1, float32: held out, lse, dq, dk, dv = 4 * 5 numbers; P, dS = 2 * 16
    assert bytes_expected("plain", 4, d=1) == (20 + 32) * 4
    assert bytes_expected("tiled", 4, d=1, backend="opencl") == (20 + 4) * 4


@pytest.mark.parametrize("call, match", [
    (lambda: bytes_expected("flash", 8), "variant must be one of plain, tiled; got 'flash'"),
    (lambda: bytes_expected("plain", 8, backend="cuda"), "backend must be 'numba' or 'opencl'"),
    (lambda: measure_memory([0]), "lengths must be positive integers"),
    (lambda: measure_memory([8], backends=["numpy"]), "backends must be a subset of numba, opencl"),
])
def test_memory_rejects_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
