"""The untrusted side: run a submission's cells, then call its functions for the grader.

This module runs inside the sandboxed child (see bootstrap.py). Everything here can be
undone by the submission itself, which runs in the same process (the corpus has a submission
that rewires :func:`call`), and that is fine: the grader never believes the child. It only
receives data, checks its shape, and makes up its own mind about it.

Requests (dicts) from the grader, one at a time:

- ``{"op": "run_cells", "cells": [{"index", "source"}, ...]}``: runs each cell in one shared
  namespace, catching every exception (``BaseException``: SystemExit and KeyboardInterrupt
  too). Sends ``cell_start`` before a cell, so that if the cell kills the process the grader
  knows which one; ``cell_end`` after it, with the error if any; then ``cells_done``.
- ``{"op": "call", "name", "args", "snapshot"}``: calls a function of the namespace.
- ``{"op": "get", "name"}``: the value of a global (an OpenCL source string).
"""
from __future__ import annotations

import builtins
import os
import sys
import time
import traceback
import types

import numpy as np

from .protocol import GraderCallable, Layout

CELL_DIR = "cells"


def serve(channel) -> None:
    os.makedirs(CELL_DIR, exist_ok=True)
    namespace = _fresh_namespace()
    send, recv = channel.send, channel.recv
    while True:
        request = recv()
        op = request.get("op") if isinstance(request, dict) else None
        if op == "run_cells":
            for cell in request["cells"]:
                send({"event": "cell_start", "index": cell["index"]})
                started = time.perf_counter()
                error = run_cell(cell["index"], cell["source"], namespace)
                send({"event": "cell_end", "index": cell["index"], "error": error,
                      "seconds": time.perf_counter() - started})
            send({"event": "cells_done", "names": _public_names(namespace)})
        elif op == "call":
            send(call(namespace, request["name"], request["args"], request.get("snapshot", True)))
        elif op == "get":
            name = request["name"]
            send({"ok": True, "value": namespace[name]} if name in namespace
                 else {"ok": False, "kind": "missing", "names": _public_names(namespace)})
        elif op == "exit":
            return
        else:
            send({"ok": False, "kind": "error", "error": {"type": "GraderError", "message": f"unknown op {op!r}"}})


def _fresh_namespace() -> dict:
    """A module of its own for the submission, registered as ``__main__`` as in Jupyter, so
    that pickle and multiprocessing find its functions; the worker's names stay out of it."""
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    return main.__dict__


def run_cell(index: int, source: str, namespace: dict):
    """Run one cell; None when it finished, else a description of what it raised."""
    path = os.path.abspath(os.path.join(CELL_DIR, f"cell_{index:03d}.py"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)  # a real file: tracebacks show the line, and Numba's cache=True works
    try:
        exec(compile(source, path, "exec"), namespace)
        return None
    except BaseException as exc:  # noqa: B036  (SystemExit and KeyboardInterrupt are the student's too)
        return describe(exc)
    finally:
        _flush()


def call(namespace: dict, name: str, args: list, snapshot: bool) -> dict:
    fn = namespace.get(name)
    if fn is None:
        return {"ok": False, "kind": "missing", "names": _public_names(namespace)}
    if not callable(fn):
        return {"ok": False, "kind": "error", "error": {
            "type": "TypeError", "message": f"{name} is a {type(fn).__name__}, not a function", "where": ""}}
    args = [_rebuild(a) for a in args]
    before = [a.copy() if snapshot and isinstance(a, np.ndarray) else None for a in args]
    try:
        value = fn(*args)
    except BaseException as exc:  # noqa: B036
        return {"ok": False, "kind": "error", "error": describe(exc)}
    finally:
        _flush()
    mutated = [[i, _largest_change(a, b)] for i, (a, b) in enumerate(zip(args, before))
               if b is not None and not np.array_equal(a, b, equal_nan=True)]
    return {"ok": True, "value": value, "mutated": mutated}


def _largest_change(after, before) -> float:
    try:
        return float(np.nanmax(np.abs(after.astype(np.float64) - before.astype(np.float64))))
    except (TypeError, ValueError):
        return float("inf")


def _rebuild(arg):
    """Inputs arrive C-contiguous; an awkward case asks for another memory layout."""
    if isinstance(arg, Layout):
        a = arg.array
        if arg.layout == "F":
            return np.asfortranarray(a)
        if arg.layout == "strided" and a.ndim >= 1:
            wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
            wide[..., ::2] = a
            return wide[..., ::2]
        return a
    if isinstance(arg, GraderCallable):
        return GRADER_FUNCTIONS[arg.name](*[_rebuild(a) for a in arg.args])
    if isinstance(arg, list):
        return [_rebuild(a) for a in arg]
    return arg


def _sin_weighted(c):
    """f(x) = sum(sin(x) * c); its gradient is cos(x) * c."""
    return lambda x: float(np.sum(np.sin(x) * c))


def _linear_loss(x, b, dy):
    """f(w) = sum((x @ w.T + b) * dy): a Linear layer's output, projected on dy; df/dw = dy.T @ x."""
    return lambda w: float(np.sum((x @ w.T + b) * dy))


def _philox_uniform(seed, offset):
    """uniform(n): the next n numbers in [0, 1) of the library's Philox stream of seed, from
    offset on (float64), the generator the regularization chapter's dropout uses on every backend."""
    from ..regularization.numpy_kernels import philox_uniform
    return lambda n: philox_uniform(int(n), int(seed), int(offset), np.float64)


GRADER_FUNCTIONS = {"sin_weighted": _sin_weighted, "linear_loss": _linear_loss,
                    "philox_uniform": _philox_uniform}


def describe(exc: BaseException) -> dict:
    """Type, message and the submission line that raised, robust to hostile exceptions."""
    try:
        message = str(exc)
    except BaseException:  # noqa: B036
        message = "<the exception's message could not be printed>"
    where, code = _where(exc)
    return {"type": type(exc).__name__[:80], "message": message[:2000], "where": where,
            "code": code, "traceback": _traceback(exc)}


def _traceback(exc: BaseException) -> str:
    """The traceback from the first submission frame on (the worker's own frames are noise)."""
    try:
        frames = traceback.extract_tb(exc.__traceback__)
        first = next((i for i, f in enumerate(frames) if _in_cell(f.filename)), 0)
        text = "".join(traceback.format_list(frames[first:][-8:]))
        text += "".join(traceback.format_exception_only(type(exc), exc))
    except BaseException:  # noqa: B036
        return ""
    return text.replace(os.path.abspath(CELL_DIR) + os.sep, "")[-3000:]


def _in_cell(filename: str) -> bool:
    return f"{os.sep}{CELL_DIR}{os.sep}cell_" in str(filename)


def _where(exc: BaseException) -> tuple[str, str]:
    """'cell 7, line 3' for the deepest frame in a submission cell, and that line's code."""
    if isinstance(exc, SyntaxError) and exc.filename and CELL_DIR in str(exc.filename):
        return f"{_cell_name(exc.filename)}, line {exc.lineno}", (exc.text or "").strip()[:200]
    found = ("", "")
    for frame in traceback.extract_tb(exc.__traceback__):
        if _in_cell(frame.filename):
            found = (f"{_cell_name(frame.filename)}, line {frame.lineno}", (frame.line or "").strip()[:200])
    return found


def _cell_name(filename: str) -> str:
    stem = os.path.basename(str(filename)).removesuffix(".py")
    try:
        return f"cell {int(stem.split('_')[1])}"
    except (IndexError, ValueError):
        return stem


def _public_names(namespace: dict) -> list[str]:
    return sorted(k for k, v in namespace.items() if not k.startswith("_")
                  and (callable(v) or isinstance(v, str)) and not isinstance(v, types.ModuleType))[:200]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036  (the submission may have replaced or closed them)
            pass
