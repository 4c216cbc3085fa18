"""Solution markers: what the student writes, marked in the solution notebook.

In Python code (nbgrader's convention)::

    def relu(x):
        ### BEGIN SOLUTION
        return np.maximum(x, 0)
        ### END SOLUTION

becomes ``raise NotImplementedError("Part 1: ReLU")`` at the indentation of the BEGIN line.
Inside OpenCL C held in a Python string, the markers are C comments, ``// BEGIN SOLUTION`` /
``// END SOLUTION``, and the block becomes ``// Part 5: ...: your code here``, so the
kernel's given signature still compiles.
"""
from __future__ import annotations

import json
import re

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)(?P<comment>#+|//)[ \t]*BEGIN SOLUTION[ \t]*$")
_END = re.compile(r"^[ \t]*(#+|//)[ \t]*END SOLUTION[ \t]*$")


class MarkerError(ValueError):
    """A BEGIN without END, an END without BEGIN, or a block inside a block."""


def has_markers(source: str) -> bool:
    return any(_BEGIN.match(line) for line in source.splitlines())


def strip_solutions(source: str, part: str) -> str:
    """``source`` with every marked block replaced by its stub for ``part`` ("Part 1: ...")."""
    out: list[str] = []
    opened = 0
    for lineno, line in enumerate(source.splitlines(keepends=True), start=1):
        text = line.rstrip("\r\n")
        begin = _BEGIN.match(text)
        if begin:
            if opened:
                raise MarkerError(f"line {lineno}: BEGIN SOLUTION inside the block opened at line {opened}")
            opened = lineno
            indent = begin.group("indent")
            if begin.group("comment") == "//":
                out.append(f"{indent}// {part}: your code here\n")
            else:
                out.append(f"{indent}raise NotImplementedError({json.dumps(part)})\n")
        elif _END.match(text):
            if not opened:
                raise MarkerError(f"line {lineno}: END SOLUTION without a BEGIN SOLUTION before it")
            opened = 0
        elif not opened:
            out.append(line)
    if opened:
        raise MarkerError(f"line {opened}: BEGIN SOLUTION is never closed by END SOLUTION")
    result = "".join(out)
    return result if source.endswith("\n") else result.rstrip("\n")
