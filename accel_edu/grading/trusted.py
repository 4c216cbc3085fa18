"""The grader's handle on a trusted-code process (the speed baseline, the OpenCL launcher).

Same sandbox and the same pipe as the student's worker: the baseline's timings then carry the
same overhead as the student's, and a student's OpenCL kernel that corrupts memory takes down
only this process. After a crash the next request starts a fresh one.

:meth:`TrustedRunner.prestart` starts the process and asks it to warm up (import Numba or
PyOpenCL, load the compiled baseline) while the grader does other work.
"""
from __future__ import annotations

import os
import tempfile
import time

from .channel import Timeout
from .limits import Limits
from .sandbox import Sandbox, WorkerDied
from .session import CallResult, _as_call_result

RUNNER = "accel_edu.grading.trusted_runner"


def numba_cache_dir() -> str:
    """Where the baseline's compiled code is kept between runs (trusted code only)."""
    path = os.path.join(tempfile.gettempdir(), f"accel_edu-baseline-cache-{os.getuid()}")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


class GraderSetupError(RuntimeError):
    """This machine cannot run the grader's own side of a part (no OpenCL device, say)."""


class TrustedRunner:
    def __init__(self, limits: Limits, label: str, *, numba_cache: bool = False):
        self.limits, self.label = limits, label
        self.cache = numba_cache_dir() if numba_cache else None
        self.sandbox: Sandbox | None = None
        self._greeted = False
        self._warming = False

    def prestart(self) -> None:
        """Start the process and queue a warm-up request; nothing here waits."""
        if self.sandbox is not None:
            return
        self.sandbox = Sandbox(RUNNER, self.limits, label=self.label,
                               env={"NUMBA_CACHE_DIR": self.cache} if self.cache else None,
                               writable=(self.cache,) if self.cache else ())
        self._greeted = False
        self.sandbox.spawn()
        try:
            self.sandbox.send({"op": "warm", "what": self.label}, time.monotonic() + 5)
            self._warming = True
        except WorkerDied:
            self._warming = False

    def request(self, message: dict, deadline: float, raw: bool = False):
        """Send one request; the reply as a CallResult (``raw=True``: the reply dict itself,
        or a CallResult when the process died or timed out)."""
        self.prestart()
        self._ready(deadline)
        started = time.perf_counter()
        try:
            self.sandbox.send(message, deadline)
            reply = self.sandbox.recv(deadline)
        except Timeout:
            self.close()
            return CallResult("timeout", seconds=time.perf_counter() - started)
        except WorkerDied as died:
            self.close()
            return CallResult("died", reason=died.reason)
        seconds = time.perf_counter() - started
        return reply if raw else _as_call_result(reply, seconds)

    def _ready(self, deadline: float) -> None:
        """Wait for the greeting and the warm-up; a failure there is the grader's, not the student's."""
        try:
            if not self._greeted:
                self.sandbox.await_hello(deadline)
                self._greeted = True
            if self._warming:
                warmed = self.sandbox.recv(deadline)
                self._warming = False
                if not (isinstance(warmed, dict) and warmed.get("ok")):
                    message = warmed.get("message") if isinstance(warmed, dict) else warmed
                    raise GraderSetupError(f"the grader's {self.label} process cannot work here: {message}")
        except (WorkerDied, Timeout) as exc:
            reason = exc.reason if isinstance(exc, WorkerDied) else "it did not start in time"
            output = self.sandbox.output.since(0)
            self.close()
            raise GraderSetupError(f"the grader's {self.label} process would not start: {reason}\n{output}") from None
        except GraderSetupError:
            self.close()
            raise

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None
