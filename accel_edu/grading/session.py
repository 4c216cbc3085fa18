"""A submission's notebook, alive in a worker, for as long as grading needs it.

The session runs the code cells one by one. When a cell kills the worker (``os._exit``, a
segfault, the memory limit) or runs past the time limit, the session starts a fresh worker
and runs the notebook again *without that cell*, so only the parts that needed it lose
points. When a graded call kills the worker, the next call gets a fresh one the same way.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from .channel import Timeout
from .cells import CodeCell
from .limits import Limits
from .sandbox import Sandbox, WorkerDied

WORKER = "accel_edu.grading.worker"


@dataclass
class CellReport:
    """What happened to one cell, the last time it ran (or why it was left out)."""
    cell: CodeCell
    error: dict | None = None     # from worker.describe: type, message, where, code, traceback
    skipped: str = ""             # why the cell is no longer run
    output: str = ""              # what it printed before it stopped the process
    seconds: float = 0.0

    def summary(self) -> str:
        label = f"cell {self.cell.index}" + (f" (`{self.cell.first_line}`)" if self.cell.first_line else "")
        if self.skipped:
            text = f"{label} {self.skipped}; it was skipped so the rest could be graded"
            return text + (f"\n    its last output:\n{_indent(self.output, 6)}" if self.output else "")
        if self.error:
            e = self.error
            where = f" at {e['where']}" if e.get("where") else ""
            return f"{label} raised {e['type']}{where}: {_one_line(e['message'])}"
        return f"{label} ran"


@dataclass
class CallResult:
    kind: str                     # ok | error | missing | died | timeout | unavailable
    value: object = None
    mutated: list = field(default_factory=list)   # (argument index, largest change)
    error: dict | None = None
    names: list = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0


class NotebookSession:
    def __init__(self, cells: list[CodeCell], limits: Limits, deadline: float):
        self.cells = cells
        self.limits = limits
        self.deadline = deadline          # for the whole submission
        self.reports = {c.index: CellReport(c) for c in cells}
        self.sandbox: Sandbox | None = None
        self.names: list[str] = []
        self.starts = 0
        self.failure = ""                 # set when the notebook cannot be brought up at all
        self.broken = False               # ... because the worker itself would not start (not the student)
        self.sandbox_info: list[str] = []
        self.output_total = 0

    # -- bringing the notebook up ---------------------------------------------------------
    def ensure_running(self) -> bool:
        while self.sandbox is None and not self.failure:
            if time.monotonic() >= self.deadline:
                self.failure = f"the submission used up its {self.limits.timeout:g} s time limit"
                break
            if self.starts > 2 * len(self.cells) + 12:  # cells skip once each; calls restart twice a part
                self.failure = "the worker kept dying; grading stopped restarting it"
                break
            self._start_once()
        return self.sandbox is not None

    def restart_if_needed(self) -> float:
        """Bring the worker back after a crash; the seconds that took (not the part's time)."""
        if self.sandbox is not None or self.failure:
            return 0.0
        started = time.monotonic()
        self.ensure_running()
        return time.monotonic() - started

    def _start_once(self) -> None:
        self.starts += 1
        sandbox = Sandbox(WORKER, self.limits, label="worker")
        running: CodeCell | None = None
        mark = 0
        try:
            sandbox.start(min(self.deadline, time.monotonic() + 60))
        except (WorkerDied, Timeout) as exc:  # nothing of the submission has run yet
            reason = exc.reason if isinstance(exc, WorkerDied) else "did not start within 60 s"
            self.failure = f"the grader's worker could not start: {reason}\n{sandbox.output.since(0)}"
            self.broken = True
            self._retire(sandbox)
            return
        try:
            self.sandbox_info = sandbox.sandbox_info
            todo = [c for c in self.cells if not self.reports[c.index].skipped]
            sandbox.send({"op": "run_cells", "cells": [{"index": c.index, "source": c.source} for c in todo]},
                         self._cell_deadline())
            by_index = {c.index: c for c in todo}
            while True:
                event = sandbox.recv(self._cell_deadline() if running else min(self.deadline, time.monotonic() + 30))
                kind = event.get("event") if isinstance(event, dict) else None
                index = event.get("index") if isinstance(event, dict) else None
                if kind == "cell_start" and type(index) is int and index in by_index and running is None:
                    running = by_index[index]
                    mark = sandbox.output.total
                elif kind == "cell_end" and running is not None and index == running.index:
                    report = self.reports[running.index]
                    report.error = clean_error(event["error"]) if isinstance(event.get("error"), dict) else None
                    seconds = event.get("seconds")
                    report.seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
                    running = None
                elif kind == "cells_done" and running is None:
                    names = event.get("names")
                    self.names = [n for n in names if isinstance(n, str)][:500] if isinstance(names, list) else []
                    self.sandbox = sandbox
                    return
                else:
                    sandbox.kill("sent a message out of turn on the grader's private channel")
                    raise WorkerDied(sandbox.death())
        except Timeout:
            out_of_time = time.monotonic() >= self.deadline
            if out_of_time or running is None:
                self.failure = f"the submission used up its {self.limits.timeout:g} s time limit"
            if running is not None:
                self.reports[running.index].skipped = (
                    f"was still running when the submission's {self.limits.timeout:g} s time limit ran out"
                    if out_of_time else f"ran longer than the {self.limits.part_timeout:g} s limit for one cell")
        except WorkerDied as died:
            if running is None:  # between cells: a thread the submission started
                self.failure = f"the worker stopped between cells: it {died.reason}"
            else:
                self.reports[running.index].skipped = f"stopped the Python process: it {died.reason}"
                self.reports[running.index].output = crash_output(sandbox.output.since(mark))
        except BaseException:  # Ctrl-C, a bug: leave no process behind
            self._retire(sandbox)
            raise
        self._retire(sandbox)

    def _cell_deadline(self) -> float:
        return min(self.deadline, time.monotonic() + self.limits.part_timeout)

    # -- calling the submission ---------------------------------------------------------------
    def call(self, name: str, args: list, deadline: float, snapshot: bool = True) -> CallResult:
        return self._request({"op": "call", "name": name, "args": args, "snapshot": snapshot}, deadline)

    def get(self, name: str, deadline: float) -> CallResult:
        return self._request({"op": "get", "name": name}, deadline)

    def _request(self, request: dict, deadline: float) -> CallResult:
        if not self.ensure_running():
            return CallResult("unavailable", reason=self.failure)
        deadline = min(deadline, self.deadline)
        sandbox = self.sandbox
        mark = sandbox.output.total
        started = time.perf_counter()
        try:
            sandbox.send(request, deadline)
            reply = sandbox.recv(deadline)
        except Timeout:
            sandbox.kill()
            self._retire(sandbox)
            return CallResult("timeout", seconds=time.perf_counter() - started)
        except WorkerDied as died:
            printed = crash_output(sandbox.output.since(mark))
            self._retire(sandbox)
            return CallResult("died", reason=died.reason + (f"\n    its last output:\n{_indent(printed, 6)}" if printed else ""))
        result = _as_call_result(reply, time.perf_counter() - started)
        if result.kind == "died":  # a reply out of shape: the worker is out of step, start afresh
            sandbox.kill()
            self._retire(sandbox)
        return result

    def pause(self) -> None:
        if self.sandbox:
            self.sandbox.pause()

    def resume(self) -> None:
        if self.sandbox:
            self.sandbox.resume()

    def close(self) -> None:
        if self.sandbox:
            self._retire(self.sandbox)

    def _retire(self, sandbox: Sandbox) -> None:
        self.output_total += sandbox.output.total
        sandbox.close()
        if self.sandbox is sandbox:
            self.sandbox = None


def _as_call_result(reply, seconds: float) -> CallResult:
    """Validate the shape of a reply; a malformed one is the submission's doing."""
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return CallResult("died", reason="sent a reply the grader cannot read")
    if reply["ok"]:
        mutated = reply.get("mutated", [])
        mutated = [(m[0], float(m[1])) for m in mutated if isinstance(m, list) and len(m) == 2
                   and type(m[0]) is int and isinstance(m[1], (int, float))] if isinstance(mutated, list) else []
        return CallResult("ok", value=reply.get("value"), mutated=mutated, seconds=seconds)
    if reply.get("kind") == "missing":
        names = reply.get("names", [])
        names = [n for n in names if isinstance(n, str)][:500] if isinstance(names, list) else []
        return CallResult("missing", names=names)
    error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    return CallResult("error", error=clean_error(error), seconds=seconds)


def clean_error(error: dict) -> dict:
    """An exception description from the worker, with exactly the expected fields, as text."""
    return {k: str(error.get(k, "") if not isinstance(error.get(k), (dict, list)) else "")[:3000]
            for k in ("type", "message", "where", "code", "traceback")}


_CELL_FILE = re.compile(r'File "[^"]*/cells/cell_0*(\d+)\.py", line (\d+)')


def crash_output(text: str, limit: int = 800) -> str:
    """What a process printed as it died, without the grader's own frames: Python's fault
    handler names the submission's cell files, shown here as 'cell N, line L'."""
    keep = []
    for line in text.splitlines():
        if (line.startswith("Extension modules:") or "/accel_edu/grading/" in line
                or 'File "<string>"' in line or not line.strip()):
            continue
        keep.append(_CELL_FILE.sub(r"cell \1, line \2", line))
    text = "\n".join(keep)
    return text if len(text) <= limit else "[...]" + text[-limit:]


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())
