"""``07_compression``: the rule against importing the chapter's library, and Part 8, a fast int8
GEMM in Numba timed against the naive loops (``baselines_compression.int8_gemm_naive``).

The timed product is (256, 512) x (512, 256): the naive loops took 21 ms and a single-threaded
row-sweeping Numba kernel 1.8 ms on the loaded two-core machine this was written on (11x, one
run), and the arrays cost the pipe about a millisecond each way, so the target of 4x leaves the
solution more than twice the margin it needs when the other core is busy. The expected output is
computed exactly in float64 (BLAS): every sum is an integer below 2^53. NumPy's own integer
matmul, the reference's, takes 35 ms there, too slow to repeat for every timed call.
"""
from __future__ import annotations

import ast

import numpy as np

from ...compression import numpy_kernels as ref
from ..integrity import _imported_module, _parse
from ..parts import Context
from ..speed import SpeedPart

FORBIDDEN = ("accel_edu.compression",)
TIMED_SHAPE = (256, 512, 256)   # (M, K, N)


def compression_imports(ctx: Context) -> str:
    """Why a submission that imports the chapter's library gets no points, or ''."""
    found = list(ctx.scan.reference_imports)
    for cell in ctx.session.cells:
        tree = _parse(cell.source)
        for node in ([] if tree is None else ast.walk(tree)):
            module = _imported_module(node)
            if module and module.startswith(FORBIDDEN):
                found.append(f"cell {cell.index}, line {node.lineno}: imports {module}")
    if not found:
        return ""
    return ("Your notebook imports the grader's reference code (" + "; ".join(found[:3]) + "). These "
            "exercises ask for your own code: remove that import and write the function yourself.")


class CompressionSpeedPart(SpeedPart):
    def blocked(self, ctx: Context) -> str:
        return compression_imports(ctx) or super().blocked(ctx)


def timed_input(rng):
    """Fresh (args, expected int8 output) for one timed call, zero points and bias included."""
    m, k, n = TIMED_SHAPE
    a = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    a_zero_point, out_zero_point = int(rng.integers(-20, 20)), int(rng.integers(-10, 10))
    bias = rng.integers(-5000, 5000, n).astype(np.int32)
    multiplier = (rng.uniform(0.8, 1.2, n) * 40 / (np.sqrt(k) * 75.0 * 75.0)).astype(np.float32)
    acc = ((a.astype(np.float64) - a_zero_point) @ b.astype(np.float64)).astype(np.int32) + bias
    want = ref.requantize(acc, multiplier, out_zero_point)
    return [a, b, a_zero_point, bias, multiplier, out_zero_point], want
