"""The autograder: exercises generated from solutions, and a grader that cannot be fooled.

- :mod:`.exercises` writes ``exercises/NN_topic.ipynb`` from ``solutions/NN_topic.ipynb``.
- :func:`grade_notebook` grades one submission; :mod:`.batch` grades a folder of them.
- The submission runs in a sandboxed worker (:mod:`.sandbox`, :mod:`.worker`); the grader
  makes the inputs, computes the answers with the reference kernels, and compares
  (:mod:`.parts`, :mod:`.compare`, :mod:`.speed`, :mod:`.opencl_part`).
- :mod:`.formats` writes the table, JSON, Gradescope and JUnit outputs; :mod:`.bundle` builds
  the Gradescope autograder zip; :mod:`.cli` adds the ``accel-edu`` subcommands.

Names are imported on first use, so the sandboxed worker, which imports this package, loads
none of the grader.
"""
_EXPORTS = {"GradeOptions": ".grader", "grade_notebook": ".grader", "Limits": ".limits",
            "GradeResult": ".result", "PartResult": ".result"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
