"""What the grader learns by reading the submission's code, without running it.

- where each graded name is defined, so feedback can point at the cell to fix;
- whether a function uses what its part forbids (``gemm_fast`` must be loops, not ``@``);
- whether the notebook imports the grader's own reference kernels.

These are honour-code checks on the source, not a security boundary (that is the sandbox):
they catch the honest shortcut and say why it does not count.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .cells import CodeCell

REFERENCE_MODULES = ("accel_edu.backprop", "accel_edu.grading", "accel_edu.chapters", "accel_edu.optim",
                     "accel_edu.regularization", "accel_edu.rnn", "accel_edu.attention",
                     "accel_edu.hardware", "accel_edu.compression", "accel_edu.distributed")
GIVEN_MODULES = ("accel_edu.distributed.simulated", "accel_edu.distributed.launch")
"""Tools an exercise hands the student (08's simulated communicator and MPI launcher): inside a
reference package, with no answers in them, so importing them is allowed."""
_MATMUL_NAMES = {"dot", "matmul", "einsum", "tensordot", "inner", "vdot", "linalg", "blas", "gemm"}


@dataclass
class Scan:
    defined_in: dict[str, int] = field(default_factory=dict)
    """Graded name -> index of the (last) cell that defines it."""
    shortcuts: dict[str, list[str]] = field(default_factory=dict)
    """Function -> forbidden uses found in its body, as 'np.dot (cell 9, line 4)'."""
    reference_imports: list[str] = field(default_factory=list)


def scan(cells: list[CodeCell], names: list[str], no_matmul: tuple[str, ...] = ()) -> Scan:
    result = Scan()
    for cell in cells:
        for name in names:
            if re.search(rf"^\s*(def\s+{re.escape(name)}\b|{re.escape(name)}\s*=)", cell.source, re.M):
                result.defined_in[name] = cell.index
        tree = _parse(cell.source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            module = _imported_module(node)
            if module and module.startswith(REFERENCE_MODULES) and not module.startswith(GIVEN_MODULES):
                result.reference_imports.append(f"cell {cell.index}, line {node.lineno}: imports {module}")
            if isinstance(node, ast.FunctionDef) and node.name in no_matmul:
                found = _matmul_uses(node, cell.index)
                result.shortcuts[node.name] = found  # the last definition is the one that counts
    return result


def _parse(source: str):
    try:
        return ast.parse(source)
    except BaseException:  # SyntaxError, or MemoryError/RecursionError on pathological input
        return None


def _imported_module(node) -> str:
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module == "accel_edu":
            return "accel_edu." + ",".join(a.name for a in node.names)
        return node.module
    if isinstance(node, ast.Import):
        return ",".join(a.name for a in node.names if a.name.startswith("accel_edu."))
    return ""


def _matmul_uses(fn: ast.FunctionDef, cell: int) -> list[str]:
    found = []
    for node in ast.walk(fn):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.MatMult):
            found.append(f"the @ operator (cell {cell}, line {node.lineno})")
        elif isinstance(node, ast.Attribute) and node.attr in _MATMUL_NAMES:
            found.append(f".{node.attr} (cell {cell}, line {node.lineno})")
        elif isinstance(node, ast.Name) and node.id in _MATMUL_NAMES:
            found.append(f"{node.id} (cell {cell}, line {node.lineno})")
    return found
