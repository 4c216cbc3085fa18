"""Fixtures shared by the test modules. Kept small: a fixture lives here once two modules need it."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Tests name their backend explicitly. A default exported in the developer's shell must not
# leak into them, nor into the notebook kernels nbval starts (they inherit this environment).
os.environ.pop("ACCEL_EDU_BACKEND", None)

# One Numba cache per pytest-xdist worker. Numba's on-disk cache is not safe for two processes
# that compile different signatures of one function at once: each reads the (empty) index,
# both name their entry "<function>-<line>.py311.1.nbc", and the index can end up pointing one
# signature at the other's machine code (numba/core/caching.py, IndexDataCacheFile.save). Two
# fresh-clone CI runs segfaulted in the fused LSTM's cached forward; the same tests on that
# cache crashed again alone, and passed on a cache of their own. Set before anything imports
# numba; notebook kernels and grader processes started by a worker inherit it.
if os.environ.get("PYTEST_XDIST_WORKER") and "NUMBA_CACHE_DIR" not in os.environ:
    import tempfile
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        tempfile.gettempdir(), f"accel_edu-numba-cache-{os.getuid()}-{os.environ['PYTEST_XDIST_WORKER']}")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder (where pyproject.toml and _toc.yml are)."""
    return REPO_ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with a fixed seed: every test run sees the same numbers."""
    return np.random.default_rng(0)
