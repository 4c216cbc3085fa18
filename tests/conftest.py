"""Fixtures shared by the test modules. Kept small: a fixture lives here once two modules need it."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Tests name their backend explicitly. A default exported in the developer's shell must not
# leak into them, nor into the notebook kernels nbval starts (they inherit this environment).
os.environ.pop("ACCEL_EDU_BACKEND", None)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top folder (where pyproject.toml and _toc.yml are)."""
    return REPO_ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with a fixed seed: every test run sees the same numbers."""
    return np.random.default_rng(0)
