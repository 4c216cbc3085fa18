"""The private channel between the trusted grader and an untrusted worker.

One message is one frame::

    b"AEG1" | u64 body length | u32 header length | header (UTF-8 JSON) | array bytes...

The header is a JSON value in which arrays are replaced by ``{"t": "array", "i": k, ...}``;
their raw bytes follow in order, each described in the header's ``"arrays"`` list by dtype
and shape. No pickle, ever: a frame from the worker is only data, and :func:`decode` checks
every length, dtype and shape before it builds a NumPy array from the bytes. Anything out of
line raises :class:`ProtocolError`, which the grader treats like a crash of the worker.

Values that cross: None, bool, int, float (NaN and inf included), str, list, tuple
(``{"t": "tuple"}``), dicts with string keys (``{"t": "dict"}``; requests and events are
dicts), NumPy arrays and scalars (as 0-d arrays). From the worker, anything else
arrives as ``Opaque(type_name, text)``, so the grader can say what a function returned without
ever holding the object. From the grader, ``{"t": "callable"}`` names a test function the
worker builds itself (for the numerical-gradient part).
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"AEG1"
_PREFIX = struct.Struct(">4sQ")
_HEADER_LEN = struct.Struct(">I")

MAX_FRAME_BYTES = 256 * 2**20   # bigger than any input or output of an exercise
MAX_HEADER_BYTES = 2**20
MAX_ARRAYS = 64
MAX_NDIM = 8
MAX_DEPTH = 16
MAX_TEXT = 20_000               # longest string kept from the worker

ALLOWED_DTYPES = {np.dtype(t).str for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128)}
LAYOUTS = ("C", "F", "strided")


class ProtocolError(Exception):
    """A frame that breaks the protocol: the worker is no longer trusted to talk."""


@dataclass(frozen=True)
class Opaque:
    """Something a function returned that is not data the grader accepts (a dict, a generator...)."""
    type_name: str
    text: str


@dataclass(frozen=True)
class Layout:
    """An input array the worker should rebuild with a given memory layout (an awkward case)."""
    array: np.ndarray
    layout: str = "C"


@dataclass(frozen=True)
class GraderCallable:
    """A test function, by name, that the worker builds from data (see worker.GRADER_FUNCTIONS)."""
    name: str
    args: tuple


# -- encoding ------------------------------------------------------------------------------
def encode(value) -> bytes:
    """One frame carrying ``value``, as bytes."""
    return b"".join(bytes(b) for b in encode_buffers(value))


def encode_buffers(value) -> list:
    """One frame as a list of buffers (the arrays are not copied), for os.writev."""
    arrays: list[np.ndarray] = []
    body = _to_json(value, arrays, 0)
    specs, blobs = [], []
    for a in arrays:
        a = np.ascontiguousarray(a)
        specs.append({"dtype": a.dtype.str, "shape": list(a.shape), "nbytes": int(a.nbytes)})
        blobs.append(memoryview(a.reshape(-1)).cast("B") if a.size else b"")
    header = json.dumps({"value": body, "arrays": specs}, allow_nan=True).encode()
    length = _HEADER_LEN.size + len(header) + sum(a.nbytes for a in arrays)
    return [_PREFIX.pack(MAGIC, length) + _HEADER_LEN.pack(len(header)) + header] + blobs


def _to_json(value, arrays: list, depth: int):
    if depth > MAX_DEPTH:
        return _opaque(value, "nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Layout):
        arrays.append(value.array)
        return {"t": "array", "i": len(arrays) - 1, "layout": value.layout}
    if isinstance(value, np.generic) and value.dtype.str in ALLOWED_DTYPES:
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.str in ALLOWED_DTYPES and type(value) is np.ndarray:
        arrays.append(value)
        return {"t": "array", "i": len(arrays) - 1, "layout": "C"}
    if isinstance(value, tuple) and type(value) is tuple:
        return {"t": "tuple", "v": [_to_json(v, arrays, depth + 1) for v in value]}
    if isinstance(value, list) and type(value) is list:
        return [_to_json(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict) and type(value) is dict and all(type(k) is str for k in value):
        return {"t": "dict", "v": {k: _to_json(v, arrays, depth + 1) for k, v in value.items()}}
    if isinstance(value, GraderCallable):
        return {"t": "callable", "name": value.name, "args": [_to_json(v, arrays, depth + 1) for v in value.args]}
    return _opaque(value)


def _opaque(value, why: str = "") -> dict:
    try:
        text = why or repr(value)
    except BaseException:  # a student's __repr__ may raise anything
        text = "<repr failed>"
    return {"t": "opaque", "type": type(value).__name__[:100], "text": text[:300]}


# -- decoding (strict: the bytes may come from a hostile process) ---------------------------
def decode(payload: bytes, *, allow_callables: bool = False):
    """The value in one frame's payload (the bytes after the 12-byte prefix)."""
    if len(payload) < _HEADER_LEN.size:
        raise ProtocolError("frame shorter than its header length field")
    (hlen,) = _HEADER_LEN.unpack_from(payload)
    if hlen > MAX_HEADER_BYTES or _HEADER_LEN.size + hlen > len(payload):
        raise ProtocolError(f"header length {hlen} out of range")
    try:
        header = json.loads(bytes(payload[_HEADER_LEN.size:_HEADER_LEN.size + hlen]).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"header is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or set(header) != {"value", "arrays"} or not isinstance(header["arrays"], list):
        raise ProtocolError("header must be an object with exactly 'value' and 'arrays'")
    arrays = _read_arrays(header["arrays"], memoryview(payload)[_HEADER_LEN.size + hlen:])
    used: set[int] = set()
    value = _from_json(header["value"], arrays, used, 0, allow_callables)
    if used != set(range(len(arrays))):
        raise ProtocolError("frame carries arrays that the value does not use")
    return value


def _read_arrays(specs: list, blob: memoryview) -> list[np.ndarray]:
    if len(specs) > MAX_ARRAYS:
        raise ProtocolError(f"more than {MAX_ARRAYS} arrays in one frame")
    out, offset = [], 0
    for spec in specs:
        if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "nbytes"}:
            raise ProtocolError("array spec must have exactly dtype, shape, nbytes")
        dtype, shape, nbytes = spec["dtype"], spec["shape"], spec["nbytes"]
        if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
            raise ProtocolError(f"array dtype {str(dtype)[:40]!r} is not allowed")
        if (not isinstance(shape, list) or len(shape) > MAX_NDIM
                or not all(type(s) is int and 0 <= s <= MAX_FRAME_BYTES for s in shape)):
            raise ProtocolError("array shape must be a list of at most 8 non-negative ints")
        dt = np.dtype(dtype)
        count = 1
        for s in shape:
            count *= s
        if type(nbytes) is not int or nbytes != count * dt.itemsize or offset + nbytes > len(blob):
            raise ProtocolError("array byte count does not match its dtype and shape")
        out.append(np.frombuffer(blob[offset:offset + nbytes], dtype=dt).reshape(shape).copy())
        offset += nbytes
    if offset != len(blob):
        raise ProtocolError("frame has bytes after its last array")
    return out


def _from_json(node, arrays, used: set, depth: int, allow_callables: bool):
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if node is None or isinstance(node, (bool, int, float)):
        return node
    if isinstance(node, str):
        return node[:MAX_TEXT]
    if isinstance(node, list):
        return [_from_json(v, arrays, used, depth + 1, allow_callables) for v in node]
    if not isinstance(node, dict):
        raise ProtocolError("unexpected JSON node")
    tag = node.get("t")
    if tag == "array" and set(node) == {"t", "i", "layout"}:
        i, layout = node["i"], node["layout"]
        if type(i) is not int or not 0 <= i < len(arrays) or i in used or layout not in LAYOUTS:
            raise ProtocolError("bad array reference")
        used.add(i)
        return arrays[i] if layout == "C" else Layout(arrays[i], layout)
    if tag == "tuple" and set(node) == {"t", "v"} and isinstance(node["v"], list):
        return tuple(_from_json(v, arrays, used, depth + 1, allow_callables) for v in node["v"])
    if tag == "opaque" and set(node) == {"t", "type", "text"}:
        if not isinstance(node["type"], str) or not isinstance(node["text"], str):
            raise ProtocolError("bad opaque value")
        return Opaque(node["type"][:100], node["text"][:300])
    if tag == "callable" and allow_callables and set(node) == {"t", "name", "args"}:
        return GraderCallable(str(node["name"]), tuple(_from_json(v, arrays, used, depth + 1, True)
                                                       for v in node["args"]))
    if tag == "dict" and set(node) == {"t", "v"} and isinstance(node["v"], dict):
        return {str(k)[:200]: _from_json(v, arrays, used, depth + 1, allow_callables)
                for k, v in node["v"].items()}
    raise ProtocolError(f"unknown value tag {str(tag)[:40]!r}")
