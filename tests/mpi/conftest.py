"""Per-rank tests: collected only under mpiexec (tests/test_distributed_mpi.py launches them).

Run by hand with ``mpiexec -n 2 python -m pytest tests/mpi -q -p no:cacheprovider``
(tests/test_distributed_mpi.py also leaves out the plugins they do not use). Every
rank runs every test; a test communicates first and asserts after, so a failure on one rank
cannot leave the other waiting in a collective. At the end rank 0 prints each rank's counts
as the run's result line (accel_edu.distributed.rank.report), which the launcher checks.
"""
from __future__ import annotations

import pytest

from accel_edu.distributed import rank as rank_status

UNDER_MPI = rank_status.launched_rank() is not None

if not UNDER_MPI:  # a plain `pytest tests` run: these need ranks to talk to
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def comm():
    """MPI.COMM_WORLD (mpi4py is imported here, inside the launched job, never by accel_edu)."""
    from mpi4py import MPI
    return MPI.COMM_WORLD


def pytest_configure(config):
    if UNDER_MPI:
        rank_status.start_watchdog()


def pytest_runtest_logstart(nodeid, location):
    if UNDER_MPI:
        rank_status.phase(nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not UNDER_MPI:
        return
    from mpi4py import MPI

    stats = terminalreporter.stats
    counts = {kind: len([r for r in stats.get(kind, []) if getattr(r, "when", "call") in ("call", "setup")])
              for kind in ("passed", "failed", "error", "skipped")}
    comm = MPI.COMM_WORLD
    counts.update(rank=comm.Get_rank(), exitstatus=int(exitstatus))
    every_rank = comm.gather(counts, root=0)
    rank_status.report({"ranks": every_rank}, comm)
    rank_status.finish()
