"""Build a Gradescope autograder zip: ``setup.sh``, ``run_autograder``, and accel_edu itself.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once to build the
image, then ``run_autograder`` for every submission, which must write
``/autograder/results/results.json``. The bundle carries this very accel_edu package (no
solutions: they are not part of it) and pins the versions of the grading dependencies that
this machine runs, and the same Python version (installed by uv), so students are graded by
the same code and libraries the instructor tested.
"""
from __future__ import annotations

import importlib.metadata
import shlex
import stat
import sys
import zipfile
from pathlib import Path

from . import assignments
from .limits import Limits

GRADING_REQUIREMENTS = ("numpy", "numba", "pyopencl", "pocl-binary-distribution", "nbformat", "tqdm")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get install -y curl ca-certificates >/dev/null
# uv brings the Python version the bundle was built with ({python}): the pinned NumPy may not
# support the older Python of Gradescope's Ubuntu image.
curl -LsSf https://astral.sh/uv/install.sh | env UV_UNMANAGED_INSTALL=/usr/local/bin sh
uv venv --python {python} /autograder/venv
uv pip install --python /autograder/venv/bin/python -r /autograder/source/requirements.txt
uv pip install --python /autograder/venv/bin/python --no-deps /autograder/source/accel_edu_src
/autograder/venv/bin/accel-edu --version  # fails the image build if the install is broken
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it must write /autograder/results/results.json.
set -u
cd /autograder
mkdir -p results
submission=""
for candidate in submission/{assignment}.ipynb submission/*.ipynb submission/*/*.ipynb; do
  if [ -f "$candidate" ]; then submission="$candidate"; break; fi
done
if [ -z "$submission" ]; then
  cat > results/results.json <<'EOF'
{{"score": 0, "output": "No .ipynb file was found in your submission. Upload your completed {assignment}.ipynb.", "tests": []}}
EOF
  exit 0
fi
/autograder/venv/bin/accel-edu grade "$submission" --assignment {assignment} --format gradescope \\
  --output results/results.json {limits}
"""


def _pinned_requirements() -> str:
    lines = []
    for name in GRADING_REQUIREMENTS:
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


def _pyproject(version: str) -> str:
    return f"""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "accel_edu"
version = "{version}"
requires-python = ">=3.10"

[project.scripts]
accel-edu = "accel_edu.cli:main"

[tool.setuptools.packages.find]
include = ["accel_edu*"]

[tool.setuptools.package-data]
"*" = ["*.cl"]
"""


def build_bundle(out: str | Path, assignment: str, limits: Limits) -> Path:
    """Write the zip; returns its path."""
    assignments.get(assignment)  # a clear error for an unknown name
    import accel_edu
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    package = Path(accel_edu.__file__).resolve().parent
    options = (f"--timeout {limits.timeout:g} --part-timeout {limits.part_timeout:g} "
               f"--memory-mb {limits.memory_mb}")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        _add(z, "setup.sh", SETUP_SH.format(python=python), executable=True)
        _add(z, "run_autograder", RUN_AUTOGRADER.format(assignment=shlex.quote(assignment), limits=options),
             executable=True)
        _add(z, "requirements.txt", _pinned_requirements())
        _add(z, "accel_edu_src/pyproject.toml", _pyproject(accel_edu.__version__))
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".nbi", ".nbc"):
                z.write(path, f"accel_edu_src/accel_edu/{path.relative_to(package).as_posix()}")
    return out


def _add(z: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, text)
