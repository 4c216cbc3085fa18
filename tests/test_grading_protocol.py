"""The private channel and the comparisons: strict with a hostile peer, clear with a student."""
from __future__ import annotations

import json
import os
import struct
import threading
import time

import numpy as np
import pytest

from accel_edu.grading import protocol as P
from accel_edu.grading.channel import Channel, Timeout
from accel_edu.grading.compare import check_array, check_outputs
from accel_edu.grading.sandbox import BoundedOutput


def _payload(value) -> bytes:
    return P.encode(value)[12:]


def _raw(header: dict, blob: bytes = b"") -> bytes:
    h = json.dumps(header).encode()
    return struct.pack(">I", len(h)) + h + blob


def test_values_round_trip():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    value = {"op": "call", "args": (a, 3, float("nan"), [True, "x", None], np.int64(7), {"k": a.T}),
             "layout": P.Layout(a, "strided"), "f": P.GraderCallable("sin_weighted", (a,))}
    out = P.decode(_payload(value), allow_callables=True)
    assert np.array_equal(out["args"][0], a) and out["args"][0].flags.writeable
    assert out["args"][1] == 3 and np.isnan(out["args"][2]) and out["args"][3] == [True, "x", None]
    assert np.array_equal(out["args"][5]["k"], a.T)
    assert out["layout"].layout == "strided" and out["f"].name == "sin_weighted"


def test_objects_arrive_as_descriptions_never_as_objects():
    class Sneaky(np.ndarray):
        pass

    out = P.decode(_payload({"value": {1, 2}, "array": np.array([object()]), "sub": np.zeros(2).view(Sneaky)}))
    assert isinstance(out["value"], P.Opaque) and out["value"].type_name == "set"
    assert isinstance(out["array"], P.Opaque) and out["sub"] == P.Opaque("Sneaky", "Sneaky([0., 0.])")


@pytest.mark.parametrize("payload, problem", [
    (b"\x00", "shorter"),
    (struct.pack(">I", 10**9), "out of range"),
    (_raw({"value": None}), "exactly 'value' and 'arrays'"),
    (_raw({"value": None, "arrays": [{"dtype": "|O", "shape": [1], "nbytes": 8}]}, b"\0" * 8), "not allowed"),
    (_raw({"value": {"t": "array", "i": 0, "layout": "C"},
           "arrays": [{"dtype": "<f4", "shape": [4], "nbytes": 8}]}, b"\0" * 8), "does not match"),
    (_raw({"value": None, "arrays": []}, b"extra"), "after its last array"),
    (_raw({"value": {"t": "array", "i": 3, "layout": "C"}, "arrays": []}), "bad array reference"),
    (_raw({"value": {"t": "pickle", "v": "..."}, "arrays": []}), "unknown value tag"),
    (_raw({"value": {"t": "callable", "name": "f", "args": []}, "arrays": []}), "unknown value tag"),
    (_raw({"value": None, "arrays": [{"dtype": "<f4", "shape": [1], "nbytes": 4}]}, b"\0" * 4), "does not use"),
])
def test_malformed_frames_are_refused(payload, problem):
    with pytest.raises(P.ProtocolError, match=problem):
        P.decode(payload)


def test_deep_nesting_is_refused():
    header = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b', "arrays": []}'
    with pytest.raises(P.ProtocolError):
        P.decode(struct.pack(">I", len(header)) + header)
    nested = {"t": "tuple", "v": []}
    for _ in range(40):
        nested = {"t": "tuple", "v": [nested]}
    with pytest.raises(P.ProtocolError, match="nested too deeply"):
        P.decode(_raw({"value": nested, "arrays": []}))


def test_channel_refuses_bad_magic_and_huge_frames_and_times_out():
    r, w = os.pipe()
    chan = Channel(r, os.dup(w), nonblocking=True)
    os.write(w, b"HELLO WORLD!")
    with pytest.raises(P.ProtocolError, match="magic"):
        chan.recv(time.monotonic() + 1)
    chan = Channel(r, os.dup(w), nonblocking=True, max_frame=1000)
    os.write(w, struct.pack(">4sQ", P.MAGIC, 10**12))
    with pytest.raises(P.ProtocolError, match="larger than the limit"):
        chan.recv(time.monotonic() + 1)
    with pytest.raises(Timeout):
        chan.recv(time.monotonic() + 0.05)
    os.close(w)


def test_large_arrays_cross_a_pipe_in_both_directions():
    (r1, w1), (r2, w2) = os.pipe(), os.pipe()
    grader, worker = Channel(r1, w2, nonblocking=True), Channel(r2, w1)
    big = np.random.default_rng(0).standard_normal((700, 900))

    def echo():
        worker.send(worker.recv())

    thread = threading.Thread(target=echo)
    thread.start()
    grader.send({"x": big}, time.monotonic() + 10)
    assert np.array_equal(grader.recv(time.monotonic() + 10)["x"], big)
    thread.join()


def test_bounded_output_keeps_head_and_tail_and_counts_the_rest():
    out = BoundedOutput(keep=10)
    mark = 0
    for i in range(1000):
        if i == 990:
            mark = out.total
        out.write(f"{i:04d}\n".encode())
    assert out.total == 5000
    text = out.text()
    assert text.startswith("0000\n0001") and text.endswith("0999\n") and "4,980 bytes" in text
    assert out.since(mark).endswith("0998\n0999\n")


def test_comparisons_say_what_is_wrong_and_where():
    want = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert check_array("dw", want.copy(), want, 1e-4) is None
    assert "transposed?" in check_array("dw", want.T.copy(), want, 1e-4)
    assert "dtype float64; expected float32" in check_array("dw", want.astype(np.float64), want, 1e-4)
    bad = want.copy()
    bad[1, 2] = 100
    assert "index (1, 2): got 100, expected 5" in check_array("dw", bad, want, 1e-4)
    bad[0, 0] = np.nan
    assert "NaN/inf" in check_array("dw", bad, want, 1e-4)
    assert "got a list" in check_array("dw", want.tolist(), want, 1e-4)
    assert "did you forget `return`" in check_outputs(None, (want,), ("c",), 1e-4)
    assert "should return 2 values" in check_outputs((want,), (want, want), ("a", "b"), 1e-4)
    assert check_outputs((np.float32(1.5), want), (np.asarray(1.5), want), ("loss", "d"), 1e-4,
                         scalars=("loss",)) is None
