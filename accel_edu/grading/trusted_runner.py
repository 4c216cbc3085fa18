"""The grader's own code in a sandboxed process: the speed baseline, and a student's OpenCL C.

Nothing of the submission's Python runs here, so its monkeypatches cannot reach this host
code. Two jobs:

- ``{"op": "gemm_naive", "args": [a, b]}`` (or another name in ``BASELINES``): the naive
  Numba loops that a speed part is measured against. They run in a process of their own,
  reached over the same pipe as the student's worker, so both timings carry the same overhead.
- ``{"op": "opencl_launch", ...}``: build the student's OpenCL C source and launch one of
  its kernels with this host code. The source is native code once PoCL compiles it (an
  out-of-bounds write can corrupt this process), hence the sandbox.
"""
from __future__ import annotations

import re

import numpy as np

CANARY_BITS = np.uint32(0x7FC0DEAD)  # a NaN no arithmetic produces: "never written"
GROUP = 64
BASELINES = ("gemm_naive", "conv2d_naive", "attention_naive",  # functions of baselines.py
             "triad_sweeps", "opencl_triad_check", "opencl_triad_timing", "int8_gemm_naive")


def serve(channel) -> None:
    while True:
        request = channel.recv()
        op = request.get("op") if isinstance(request, dict) else None
        if op == "warm":
            try:
                channel.send({"ok": True, "value": warm(request.get("what"))})
            except Exception as exc:  # no OpenCL device, a broken Numba: the grader's problem
                channel.send({"ok": False, "kind": "setup", "message": f"{type(exc).__name__}: {exc}"[:2000]})
        elif op in BASELINES:
            from . import baselines
            channel.send({"ok": True, "value": getattr(baselines, op)(*request["args"]), "mutated": []})
        elif op == "opencl_launch":
            channel.send(opencl_launch(request["source"], request["kernel"], request["inputs"],
                                       tuple(request["out_shape"]), request["ints"]))
        elif op == "exit":
            return
        else:
            channel.send({"ok": False, "kind": "error", "error": {"type": "GraderError", "message": f"unknown op {op!r}"}})


def warm(what) -> str:
    """Do the slow imports now, while the grader is busy elsewhere."""
    if what == "baseline":
        from .baselines import attention_naive, conv2d_naive, gemm_naive
        tiny = np.ones((2, 2), dtype=np.float32)
        gemm_naive(tiny, tiny)  # loads the compiled code from the cache, or compiles it
        conv2d_naive(tiny.reshape(1, 1, 2, 2), tiny.reshape(1, 1, 2, 2), tiny[0, :1])
        attention_naive(tiny[None], tiny[None], tiny[None], True)
    elif what == "opencl":
        from ..runtime import opencl as ocl
        ocl.queue()  # creates the context: PoCL starts up
    return "warm"


def opencl_launch(source: str, kernel_name: str, inputs: list[np.ndarray], out_shape: tuple,
                  ints: list[int]) -> dict:
    """Launch ``kernel(in_0, ..., in_k, out, int ints[0], int ints[1], ...)`` over one work-item
    per element of ``out``: n = prod(out_shape) (an elementwise kernel passes ints = [n]).

    The global size is n rounded up to a multiple of 64, as a real launch with a fixed
    work-group size would do, so a kernel without an ``if (i < n)`` guard writes past the end.
    ``out`` is padded and filled with a canary, which shows both writes past the end and
    elements never written.
    """
    import pyopencl as cl
    from ..runtime import opencl as ocl
    n = int(np.prod(out_shape))
    try:
        program = ocl.build(source)
    except Exception as exc:
        return {"ok": False, "kind": "build", "message": _clean(str(exc))}
    try:
        kernel = getattr(program, kernel_name)
    except Exception:
        names = _kernel_names(program)
        return {"ok": False, "kind": "kernel_missing", "message": f"found kernels: {', '.join(names) or 'none'}"}
    want_args = len(inputs) + 1 + len(ints)
    if kernel.num_args != want_args:
        return {"ok": False, "kind": "signature",
                "message": f"{kernel_name} takes {kernel.num_args} arguments; the grader passes {want_args}"}
    global_size = ocl.round_up(max(n, 1), GROUP)
    padded = global_size + GROUP
    out_host = np.full(padded, CANARY_BITS, dtype=np.uint32).view(np.float32)
    buffers = [ocl.to_device(np.ascontiguousarray(a, dtype=np.float32).ravel()) for a in inputs]
    out = ocl.to_device(out_host)
    try:
        kernel(ocl.queue(), (global_size,), (GROUP,), *[b.buffer for b in buffers], out.buffer,
               *[np.int32(v) for v in ints])
        ocl.finish()
    except cl.Error as exc:
        return {"ok": False, "kind": "launch", "message": _clean(str(exc))}
    result = ocl.to_host(out)
    bits = result.view(np.uint32)
    return {"ok": True, "value": result[:n].reshape(out_shape).copy(),
            "overrun": int(np.count_nonzero(bits[n:] != CANARY_BITS)),
            "unwritten": int(np.count_nonzero(bits[:n] == CANARY_BITS))}


def _kernel_names(program) -> list[str]:
    try:
        return [k.function_name for k in program.all_kernels()]
    except Exception:
        return []


_SOURCE_POSITION = re.compile(r"\S*\.cl:(\d+):(\d+):")


def _clean(message: str) -> str:
    """The compiler's own lines from a build log, with PoCL's temporary file names replaced
    by positions in the student's source ('line 3, column 12:')."""
    lines = [line for line in message.splitlines()
             if line.strip() and not line.startswith(("clBuildProgram failed", "Build on <", "(options:"))]
    text = "\n".join(_SOURCE_POSITION.sub(r"line \1, column \2:", line) for line in lines)
    return text[:3000] or message[:3000]
