"""The limits on an untrusted process, and how the process applies them to itself.

The grader starts a worker with ``python -I -B -c <bootstrap>``; the bootstrap calls
:func:`apply_in_child` before it imports the worker, so every limit is in place before a line
of the submission runs.

Memory is bounded twice: ``RLIMIT_DATA`` makes a large allocation fail with ``MemoryError``
inside the submission (a message it can read), and the grader polls the resident set size and
kills the process group when it passes the limit anyway (shared memory, or allocations that
``RLIMIT_DATA`` does not count). ``RLIMIT_AS`` is not used: Numba's LLVM and PoCL reserve
large address ranges that they never touch, and an address-space limit breaks them.
"""
from __future__ import annotations

import os
import resource
import signal
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    timeout: float = 600.0
    """Seconds for the whole submission: every cell, every part, every restart."""
    part_timeout: float = 60.0
    """Seconds for one notebook cell, and for all the calls of one graded part."""
    memory_mb: int = 2048
    """Resident memory of the worker and everything it starts."""
    file_mb: int = 256
    """Largest file the submission may write (in its own directory)."""
    output_kb: int = 64
    """Printed output kept for the feedback (the first and last halves); the rest is counted."""

    def as_dict(self) -> dict:
        return asdict(self)


def apply_in_child(limits: dict, sandbox_dir: str, writable: tuple[str, ...] = ()) -> list[str]:
    """Limit this (child) process; returns a description of what was applied.

    ``writable``: more directories the process may write to (the trusted speed baseline's
    Numba cache, so that it is compiled once per machine, not once per submission)."""
    applied = []
    memory = int(limits["memory_mb"]) * 2**20
    _setrlimit(resource.RLIMIT_DATA, memory)
    applied.append(f"data {limits['memory_mb']} MB")
    _setrlimit(resource.RLIMIT_CORE, 0)
    # A backstop for processes that escape the grader's process group (a double fork): no
    # process of the submission outlives this much CPU time.
    _setrlimit(resource.RLIMIT_CPU, int(float(limits["timeout"]) * (os.cpu_count() or 1)) + 60)
    # A file bigger than file_mb fails to grow (EFBIG) instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _setrlimit(resource.RLIMIT_FSIZE, int(limits["file_mb"]) * 2**20)
    applied.append(f"files {limits['file_mb']} MB")
    from .landlock import restrict_writes
    landlock = restrict_writes([sandbox_dir, *writable])
    applied.append(landlock or "no landlock on this kernel: writes are not confined")
    return applied


def _setrlimit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard if hard != resource.RLIM_INFINITY else value))


def child_environment(sandbox_dir: str) -> dict[str, str]:
    """A small environment for the child: nothing secret (CI tokens stay in the grader),
    every cache and temporary file inside the sandbox directory."""
    keep = ("PATH", "LANG", "LC_ALL", "PYOPENCL_CTX", "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER",
            "OMP_NUM_THREADS", "POCL_DEVICES", "POCL_MAX_PTHREAD_COUNT", "ACCEL_EDU_BACKEND",
            "OCL_ICD_VENDORS", "OPENCL_VENDOR_PATH", "VIRTUAL_ENV", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    tmp = os.path.join(sandbox_dir, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env.update(HOME=sandbox_dir, TMPDIR=tmp, NUMBA_CACHE_DIR=os.path.join(sandbox_dir, "numba_cache"),
               POCL_CACHE_DIR=os.path.join(sandbox_dir, "pocl_cache"), PYTHONIOENCODING="utf-8",
               MPLBACKEND="Agg")
    env.setdefault("LANG", "C.UTF-8")
    return env
