"""What every ``build_NN_topic.py`` shares: cells collected in order, then one notebook written.

    from chapter import code, md, write
    md(r"# A chapter ...")
    code(r"print(1 + 1)")
    code(r"timings()", ignore_output=True)      # nbval does not compare this cell's output
    write("02_cnn.ipynb")

The notebooks are generated so that their prose and code can be reviewed as one Python file
each; edit the build script, regenerate, re-execute (``book/_src/execute.py``), commit both.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

BOOK = Path(__file__).resolve().parents[1]
cells = []


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text, ignore_output=False, hide=False):
    """A code cell; ``ignore_output`` for timings (nbval skips it), ``hide`` to fold the input."""
    tags = (["nbval-ignore-output"] if ignore_output else []) + (["hide-input"] if hide else [])
    cells.append(new_code_cell(text.strip("\n"), metadata={"tags": tags}))


def write(name: str) -> None:
    """Write the cells so far as ``book/<name>`` (unexecuted: run execute.py next)."""
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    BOOK.joinpath(name).write_text(nbformat.writes(nb))
