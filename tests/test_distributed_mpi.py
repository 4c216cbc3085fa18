"""The per-rank tests in tests/mpi, run under mpiexec from this one process (so xdist and
`make test` need nothing special): both ranks must collect and pass every test."""
import os
import subprocess
import sys

from accel_edu.distributed import run_mpi

# Each rank is a whole pytest: leave out the plugins these tests do not use (hypothesis's alone
# took 6 s to import per rank on the loaded machine), and the cache both ranks would write.
PYTEST = ["-q", "--color=no", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist",
          "-p", "no:nbval"]


def run_rank_tests(repo_root, n, paths):
    result = run_mpi("pytest", n=n, args=[*paths, *PYTEST], timeout=300, cwd=repo_root)
    assert result is not None, "rank 0 printed no result line: tests/mpi/conftest.py did not run"
    ranks = result["ranks"]
    assert [r["rank"] for r in ranks] == list(range(n))
    for r in ranks:
        assert r["failed"] == 0 and r["error"] == 0 and r["exitstatus"] == 0, r
    assert len({r["passed"] for r in ranks}) == 1  # every rank ran the same tests
    return ranks[0]["passed"]


def test_every_per_rank_test_passes_on_two_ranks(repo_root):
    passed = run_rank_tests(repo_root, 2, ["tests/mpi"])
    assert passed >= 50


def test_ring_allreduce_and_pipeline_on_three_ranks(repo_root):
    # Three ranks: chunks of unequal size, a ring where each rank's two neighbours differ, and
    # a pipeline with a middle stage (it receives from both sides and sends to both).
    passed = run_rank_tests(repo_root, 3, ["tests/mpi/test_mpi_allreduce.py", "tests/mpi/test_mpi_pipeline.py"])
    assert passed >= 47


def test_per_rank_tests_are_not_collected_without_mpi(repo_root):
    # A plain `pytest tests` must skip tests/mpi, whose tests need ranks to talk to.
    env = {k: v for k, v in os.environ.items() if k not in ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK")}
    out = subprocess.run([sys.executable, "-m", "pytest", "tests/mpi", "--collect-only", "-q", *PYTEST],
                         cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 5, out.stdout + out.stderr  # 5: no tests collected
