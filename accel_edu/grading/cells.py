"""A submitted notebook as the list of code cells the worker will run.

Read with :mod:`json` only (no execution, no nbformat validation that a broken file could
trip), and with limits, because the file comes from a student. Cells are numbered as Jupyter
shows them, counting every cell from 1, so "cell 7" means the seventh cell on the page.

IPython syntax is not Python: a line magic (``%timeit f()``) or shell line (``!pip install``)
becomes ``pass`` with the same indentation, so line numbers stay right, and a cell magic
(``%%time``) is left out with a note.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELL_CHARS = 200_000
_MAGIC = re.compile(r"^(\s*)([%!]|\?\?|\?)(.*)$")


class NotANotebook(ValueError):
    """The file cannot be read as a Jupyter notebook; the message says why, for a student."""


@dataclass(frozen=True)
class CodeCell:
    index: int          # 1-based position among all cells
    source: str         # Python, with IPython magics neutralised
    note: str = ""      # what was changed, if anything

    @property
    def first_line(self) -> str:
        for line in self.source.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                return line.strip()[:60]
        return ""


def read_notebook(path: str | Path) -> tuple[dict, list[CodeCell]]:
    """The notebook's metadata and its code cells; NotANotebook when it is not one."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotANotebook(f"the file is {size / 2**20:.0f} MB; a notebook for this course should "
                           f"be far below {MAX_NOTEBOOK_BYTES // 2**20} MB (clear large outputs and resubmit)")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise NotANotebook("the file is not text (is it a notebook saved as .ipynb?)") from None
    except (ValueError, RecursionError) as exc:
        raise NotANotebook(f"the file is not valid notebook JSON ({str(exc)[:120]}); "
                           "open it in Jupyter, save it, and resubmit") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotANotebook("the file is JSON but not a Jupyter notebook (it has no list of cells)")
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    cells = []
    for i, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        cells.append(neutralise_magics(i, source[:MAX_CELL_CHARS]))
    return metadata, cells


def neutralise_magics(index: int, source: str) -> CodeCell:
    if _compiles(source):
        return CodeCell(index, source)  # plain Python: leave every line alone
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        return CodeCell(index, "", f"left out: cell magic {lines[0].strip()[:40]!r}")
    changed = 0
    for n, line in enumerate(lines):
        m = _MAGIC.match(line)
        if m and not _is_python(line):
            lines[n] = f"{m.group(1)}pass  # IPython: {line.strip()[:60]}"
            changed += 1
    note = f"{changed} IPython magic line(s) skipped" if changed else ""
    return CodeCell(index, "\n".join(lines), note)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", dont_inherit=True, flags=0x400)  # PyCF_ONLY_AST: parse only
    except BaseException:  # SyntaxError, or MemoryError/RecursionError on pathological input
        return False
    return True


def _is_python(line: str) -> bool:
    """'!=' and '%' inside an expression are Python; only a line that starts with them is magic."""
    stripped = line.lstrip()
    return stripped.startswith("!=") or stripped.startswith("%=")
