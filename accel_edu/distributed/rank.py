"""What every launched rank does besides its work: say where it is, and never hang silently.

:func:`accel_edu.distributed.launch.run_mpi` gives each run a status folder (the
``ACCEL_EDU_MPI_STATUS_DIR`` environment variable) and a time limit. Each rank then

- appends the phase it is in to ``rank<r>.status`` (:func:`phase`), and ``done`` at the end,
  so a launcher whose run timed out can say which rank was stuck, and where;
- arms a watchdog (:func:`start_watchdog`): Python's faulthandler writes every thread's
  stack to ``rank<r>.traceback`` and exits shortly before the launcher's limit, so a
  deadlocked ``Recv`` shows up as a stack trace rather than a silent hang;
- prints its result, rank 0 only, as one line ``ACCEL_EDU_RESULT {json}`` (:func:`report`),
  which the launcher parses.

The rank number comes from the launcher's environment (Open MPI's ``OMPI_COMM_WORLD_RANK``,
PMIx's ``PMIX_RANK``, MPICH's ``PMI_RANK``), so the status file exists even when MPI's own
start-up is what hangs.
"""
from __future__ import annotations

import faulthandler
import json
import os
import sys
from pathlib import Path

RESULT_MARKER = "ACCEL_EDU_RESULT "
STATUS_DIR_ENV = "ACCEL_EDU_MPI_STATUS_DIR"
WATCHDOG_ENV = "ACCEL_EDU_MPI_WATCHDOG_S"
_RANK_ENVS = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK")
_watchdog_file = None


def launched_rank() -> int | None:
    """This process's rank as its launcher set it, or None outside mpiexec."""
    for name in _RANK_ENVS:
        if name in os.environ:
            return int(os.environ[name])
    return None


def _status_path(suffix: str) -> Path | None:
    folder, rank = os.environ.get(STATUS_DIR_ENV), launched_rank()
    if not folder or rank is None:
        return None
    return Path(folder) / f"rank{rank}.{suffix}"


def phase(name: str) -> None:
    """Record that this rank is entering ``name`` (one line appended to its status file)."""
    path = _status_path("status")
    if path is not None:
        with open(path, "a") as f:
            f.write(name.replace("\n", " ") + "\n")


def start_watchdog() -> None:
    """Dump every thread's stack to ``rank<r>.traceback`` and exit if this rank outlives its limit."""
    global _watchdog_file
    path, limit = _status_path("traceback"), os.environ.get(WATCHDOG_ENV)
    if path is None or not limit or _watchdog_file is not None:
        return
    _watchdog_file = open(path, "w")
    faulthandler.dump_traceback_later(float(limit), exit=True, file=_watchdog_file)


def finish() -> None:
    """Cancel the watchdog and record ``done`` (MPI_Finalize may still wait for the others)."""
    faulthandler.cancel_dump_traceback_later()
    phase("done")


def report(result, comm=None) -> None:
    """Print ``result`` (JSON-serialisable) as the run's result, from rank 0 only."""
    rank = comm.Get_rank() if comm is not None else (launched_rank() or 0)
    if rank == 0:
        sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
        sys.stdout.flush()


def worker_main(work, argv=None) -> None:
    """Run ``work(comm, argv)`` on this rank with a watchdog and status; rank 0 reports its result.

    Every worker module ends with ``if __name__ == "__main__": worker_main(main)``.
    """
    start_watchdog()
    phase("MPI init")
    from mpi4py import MPI  # imported here: accel_edu itself never needs MPI

    comm = MPI.COMM_WORLD
    phase("running")
    result = work(comm, sys.argv[1:] if argv is None else argv)
    report(result, comm)
    finish()
