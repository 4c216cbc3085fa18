"""One untrusted process, seen from the trusted grader.

A :class:`Sandbox` starts ``python`` in a fresh temporary directory, in its own process
group, with a small environment and the limits of :mod:`.limits`. It talks to it over two
private pipes (never stdout, which the submission owns). A monitor thread drains the child's
stdout and stderr into a bounded buffer, so megabytes of prints cost nothing, and kills the
process group when its resident memory passes the limit. Every wait has a deadline.

When the child dies, :meth:`Sandbox.death` says how, in words a student can act on.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

from . import protocol
from .channel import Channel, ChannelClosed, Timeout
from .bootstrap import BOOT
from .limits import Limits, child_environment

_ROOT = str(Path(__file__).resolve().parents[2])  # the directory that holds accel_edu/
_PAGE = os.sysconf("SC_PAGE_SIZE")
_LIVE: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()


_stopping = threading.Event()


@atexit.register
def stop_all() -> None:
    """The grader is being interrupted (Ctrl-C, SIGTERM): its sandboxes live in sessions of
    their own, so the signal did not reach them. Stop them all, and start no new one."""
    _stopping.set()
    for sandbox in list(_LIVE):
        sandbox.close()


class WorkerDied(Exception):
    """The untrusted process exited, was killed, or broke the protocol."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BoundedOutput:
    """The first and last ``keep`` bytes of a stream, and how many bytes it had in all."""

    def __init__(self, keep: int):
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            self.total += len(chunk)
            room = self.keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[:max(0, len(self.tail) - self.keep)]

    def text(self, limit: int | None = None) -> str:
        with self._lock:
            head, tail, total = bytes(self.head), bytes(self.tail), self.total
        cut = total - len(head) - len(tail)
        out = head.decode("utf-8", "replace")
        if cut > 0:
            out += f"\n[... {cut:,} bytes of output not kept ...]\n"
        out += tail.decode("utf-8", "replace")
        if limit is not None and len(out) > limit:
            out = "[...]" + out[-limit:]
        return out

    def since(self, mark: int, limit: int = 1500) -> str:
        """What was written after byte ``mark`` (a past ``total``), as far as it was kept."""
        with self._lock:
            head, tail, total = bytes(self.head), bytes(self.tail), self.total
        tail_start = total - len(tail)
        out = head[mark:] if mark < len(head) else b""
        if tail_start > max(mark, len(head)):
            out += b"\n[...]\n"
        out += tail[max(0, mark - tail_start, len(head) - tail_start):]
        text = out.decode("utf-8", "replace")
        return text if len(text) <= limit else "[...]" + text[-limit:]


class Sandbox:
    """``python -m``-like server ``module`` (see bootstrap.SERVERS) under ``limits``."""

    def __init__(self, module: str, limits: Limits, label: str = "worker", *,
                 env: dict[str, str] | None = None, writable: tuple[str, ...] = ()):
        self.module, self.limits, self.label = module, limits, label
        self.extra_env, self.writable = env or {}, writable
        self.output = BoundedOutput(limits.output_kb * 1024 // 2)
        self.dir = ""  # a fresh temporary folder, made when the process starts
        self.proc: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.sandbox_info: list[str] = []
        self._killed_for: str | None = None
        self._monitor: threading.Thread | None = None
        self._closed = threading.Event()

    # -- life cycle ---------------------------------------------------------------------
    def start(self, deadline: float) -> None:
        """Start the process and wait for its greeting (its limits are in place by then)."""
        self.spawn()
        self.await_hello(deadline)

    def spawn(self) -> None:
        """Start the process without waiting for it: requests sent now queue in the pipe."""
        if _stopping.is_set():
            raise RuntimeError("the grader is stopping")
        self.dir = tempfile.mkdtemp(prefix=f"accel_edu_{self.label}_")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        out_r, out_w = os.pipe()
        config = json.dumps({"limits": self.limits.as_dict(), "writable": list(self.writable)})
        env = {**child_environment(self.dir), **self.extra_env}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", BOOT, _ROOT, str(to_child_r), str(from_child_w),
                 self.module, config],
                cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                stdout=out_w, stderr=out_w, pass_fds=(to_child_r, from_child_w),
                start_new_session=True)
        finally:
            for fd in (to_child_r, from_child_w, out_w):
                os.close(fd)
        _LIVE.add(self)
        self.channel = Channel(from_child_r, to_child_w, nonblocking=True)
        self._monitor = threading.Thread(target=self._watch, args=(out_r,), daemon=True,
                                         name=f"accel_edu-{self.label}-monitor")
        self._monitor.start()

    def await_hello(self, deadline: float) -> None:
        hello = self.recv(deadline)
        if not isinstance(hello, dict) or hello.get("event") != "hello":
            raise self._died("sent something other than its greeting")
        self.sandbox_info = [str(s) for s in hello.get("sandbox", [])][:8]

    def send(self, value, deadline: float) -> None:
        try:
            self.channel.send(value, deadline)
        except Timeout:
            raise self._died("stopped reading its input for longer than the time limit") from None
        except ChannelClosed:
            raise self._died() from None

    def recv(self, deadline: float):
        """The next message, or WorkerDied (exit, crash, memory, garbage) or channel.Timeout."""
        try:
            return self.channel.recv(deadline)
        except Timeout:
            raise
        except ChannelClosed:
            raise self._died() from None
        except protocol.ProtocolError as exc:
            raise self._died(f"wrote something that is not a grader message on the grader's "
                             f"private channel ({exc})") from None

    def pause(self) -> None:
        """Freeze the whole process group (while the grader times something else)."""
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_group(signal.SIGCONT)

    def kill(self, why: str | None = None) -> None:
        if why and not self._killed_for:
            self._killed_for = why
        self._signal_group(signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        self._closed.set()  # the monitor stops even if an escaped grandchild holds stdout open
        self.kill()
        if self.channel is not None:
            self.channel.close()
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        _LIVE.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what happened ------------------------------------------------------------------
    def death(self) -> str:
        """How the process ended, for a student: '... was killed by SIGSEGV (segmentation fault)'."""
        if self._killed_for:
            return self._killed_for
        code = self.proc.poll() if self.proc else None
        if code is None:
            return "stopped answering"
        if code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
            what = {signal.SIGSEGV: "segmentation fault: a bad memory access, such as an index "
                                    "out of bounds in compiled code", signal.SIGABRT: "abort",
                    signal.SIGBUS: "bus error", signal.SIGFPE: "arithmetic error",
                    signal.SIGKILL: "killed, perhaps for using too much memory"}.get(sig, "")
            return f"crashed: killed by {name}" + (f" ({what})" if what else "")
        return f"exited with code {code} (os._exit or a fatal error)"

    def _died(self, why: str | None = None) -> WorkerDied:
        self.kill(why)
        return WorkerDied(self.death())

    # -- internals -------------------------------------------------------------------------
    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        leader = [self.proc.pid] if self.proc.returncode is None else []  # once reaped, its pid is free
        for pid in leader + _descendants(self.proc.pid):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _watch(self, out_fd: int) -> None:
        """Drain stdout/stderr; kill the group if it uses more memory than allowed."""
        limit = self.limits.memory_mb * 2**20
        poller = select.poll()
        poller.register(out_fd, select.POLLIN | select.POLLHUP)
        next_check = 0.0
        try:
            while not self._closed.is_set():
                if poller.poll(100):
                    chunk = os.read(out_fd, 1 << 16)
                    if not chunk:
                        break
                    self.output.write(chunk)
                now = time.monotonic()
                if now >= next_check and self.proc and self.proc.poll() is None:
                    next_check = now + 0.1
                    if _resident_bytes(self.proc.pid) > limit:
                        self.kill(f"used more than its {self.limits.memory_mb} MB of memory and was stopped")
        finally:
            os.close(out_fd)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                kids = Path(f"/proc/{p}/task/{t}/children").read_text().split()
            except OSError:
                continue
            for k in kids:
                out.append(int(k))
                todo.append(int(k))
    return out


def _resident_bytes(pid: int) -> int:
    total = 0
    for p in [pid] + _descendants(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total
