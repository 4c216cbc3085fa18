"""How ``solutions/02_cnn.ipynb`` is graded: five parts, 60 points.

Inputs come from the chapter's own awkward cases (``accel_edu.cnn.cases``: batch 1, prime
sizes, stride 2 with padding 1, dilation 2, non-square kernels, non-contiguous views) drawn
from a fresh seed, in float32 and float64. Expected outputs come from the reference kernels in
``accel_edu.cnn.numpy_kernels``, computed here and never sent to the submission.

Part 2 may use the library's ``im2col`` and ``col2im`` (the notebook imports them), so a slip
in Part 1 does not cost Part 2 too. Nothing else of ``accel_edu.cnn`` may be imported, and
Part 1's ``im2col`` must be the student's own: :func:`library_shortcut` reads the source for that.
"""
from __future__ import annotations

import ast

import numpy as np

from ...cnn import cases as chapter_cases
from ...cnn import numpy_kernels as ref
from ..opencl_part import OpenCLCase, OpenCLPart
from ..parts import Case, FunctionPart
from ..protocol import Layout
from ..speed import SpeedPart
from . import Assignment
from .backprop import RTOL, _send  # Chapter 1's tolerances and awkward layouts

CONV_RTOL = 2e-4       # float32 sums of up to C_in*kh*kw products, in another order than the reference
CONV_TIMED = (4, 8, 64, 64, 16, 5, 5)   # (N, C_in, H, W, C_out, kh, kw): the naive loops take 50-100 ms;
# the solution (prange over planes, rows innermost) ran 10-16x faster on 2 busy cores: full credit from 4x
GIVEN = ("im2col", "col2im")            # what the notebook may import from accel_edu.cnn (for Part 2)


def _stride_padding_dilation(kwargs) -> tuple:
    """A chapter case's keyword arguments, as the grader's positional ones."""
    return kwargs.get("stride", 1), kwargs.get("padding", 0), kwargs.get("dilation", 1)


def _dtypes(make, dtypes=(np.float32, np.float64)):
    """Cases from ``make(rng, dtype) -> [(label, args, reference)]`` in each dtype; the expected
    outputs are the reference's on the same arguments."""
    def cases(rng):
        out = []
        for dtype in dtypes:
            for label, args, reference in make(rng, dtype):
                want = reference(*[a.array if isinstance(a, Layout) else a for a in args])
                want = want if isinstance(want, tuple) else (want,)
                out.append(Case(f"{label}, {np.dtype(dtype).name}", [_send(a) for a in args],
                                tuple(np.asarray(w) for w in want), RTOL[np.dtype(dtype)]))
        return out
    return cases


def _shape(label: str, x_shape, kh: int, kw: int) -> str:
    return f"{label}: x {tuple(x_shape)}, {kh}x{kw} kernel"


# -- Part 1: im2col -----------------------------------------------------------------------------
def _im2col_cases(rng, dtype):
    for c in chapter_cases.im2col(rng, dtype):
        x, kh, kw = c.args
        args = [x, kh, kw, *_stride_padding_dilation(c.kwargs)]
        yield _shape(c.label, x.shape, kh, kw), args, ref.im2col


# -- Part 2: conv2d backward --------------------------------------------------------------------
def _conv2d_backward_cases(rng, dtype):
    for c in chapter_cases.conv2d_backward(rng, dtype):
        dy, x, w = c.args
        args = [dy, x, w, *_stride_padding_dilation(c.kwargs)]
        yield _shape(c.label, x.shape, *w.shape[2:]), args, ref.conv2d_backward


# -- Part 3: max-pool backward ------------------------------------------------------------------
def _maxpool_backward_cases(rng, dtype):
    # First, as its failure says the most: one pixel far above its neighbours wins all nine
    # 3x3 stride-1 windows that hold it, and must receive the sum of their nine gradients.
    x = rng.standard_normal((2, 3, 6, 7)).astype(dtype)
    x[:, :, 2, 3] = 10.0
    y, argmax = ref.maxpool2d_forward(x, 3, 1)
    dy = rng.standard_normal(y.shape).astype(dtype)
    yield "one pixel wins 9 overlapping windows", [dy, argmax, x.shape], ref.maxpool2d_backward
    for c in chapter_cases.maxpool2d_backward(rng, dtype):
        dy, argmax, x_shape = c.args
        if c.label.endswith("non-contiguous x"):  # x is not an argument here: make dy the awkward one
            label = c.label.replace("non-contiguous x", "non-contiguous dy")
            yield label, [Layout(dy, "strided"), argmax, x_shape], ref.maxpool2d_backward
        else:
            yield c.label, [dy, argmax, x_shape], ref.maxpool2d_backward


# -- Parts 4 and 5: direct convolution, stride 1, no padding ----------------------------------------
def _valid_convolutions():
    """(label, N, C_in, C_out, H, W, kh, kw): the chapter's stride-1 unpadded geometries, and more."""
    chapter = [(label, *sizes) for label, *sizes, s, p, d in chapter_cases.CONV if (s, p, d) == (1, 0, 1)]
    return chapter + [("non-square kernel, odd sizes", 2, 3, 2, 7, 9, 2, 5),
                      ("a wide image (rows longer than a vector register)", 1, 2, 3, 6, 71, 3, 3)]


def _conv_inputs(rng, n, c_in, c_out, h, w, kh, kw):
    x = rng.standard_normal((n, c_in, h, w)).astype(np.float32)
    weight = rng.standard_normal((c_out, c_in, kh, kw)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    return x, weight, b


def _conv_cases(rng):
    cases = []
    for label, n, c_in, c_out, h, w, kh, kw in _valid_convolutions():
        x, weight, b = _conv_inputs(rng, n, c_in, c_out, h, w, kh, kw)
        cases.append(Case(_shape(label, x.shape, kh, kw), [x, weight, b],
                          (ref.conv2d_forward(x, weight, b),), CONV_RTOL))
    return cases


def _conv_timed_input(rng):
    n, c_in, h, w, c_out, kh, kw = CONV_TIMED
    x, weight, b = _conv_inputs(rng, n, c_in, c_out, h, w, kh, kw)
    return [x, weight, b], ref.conv2d_forward(x, weight, b)


def _opencl_conv_cases(rng):
    cases = []
    for label, n, c_in, c_out, h, w, kh, kw in _valid_convolutions():
        x, weight, b = _conv_inputs(rng, n, c_in, c_out, h, w, kh, kw)
        cases.append(OpenCLCase(_shape(label, x.shape, kh, kw), [x, weight, b], ref.conv2d_forward(x, weight, b),
                                rtol=CONV_RTOL, sizes=(c_in, h, w, c_out, kh, kw)))
    return cases


# -- the library's answers are not the student's --------------------------------------------------
def library_shortcut(cells, function: str) -> str:
    """Why ``function`` gets no points because it comes from ``accel_edu.cnn``, or ''.

    The notebook may import ``im2col`` and ``col2im`` from the chapter's library (Part 2 uses
    them); any other import from it would answer a part. Part 1's ``im2col`` must be a ``def``
    of the student's that does not call the library's."""
    banned, given = [], {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except BaseException:  # SyntaxError, or MemoryError/RecursionError on pathological input
            continue
        for node in ast.walk(tree):
            for module, name, alias in _imports(node):
                where = f"cell {cell.index}, line {node.lineno}"
                if not module.startswith("accel_edu.cnn"):
                    continue
                if name in GIVEN:
                    given[alias] = where
                else:
                    banned.append(f"{where}: {module}" + (f".{name}" if name else ""))
    if banned:
        return ("Your notebook imports from the chapter's library (" + "; ".join(banned[:3]) + "). Only "
                "im2col and col2im may be imported from accel_edu.cnn (for Part 2); write the rest yourself.")
    if function == "im2col" and given:
        if "im2col" in given:
            return (f"`im2col` is the library's, imported at {given['im2col']}. Part 1 asks for your own; "
                    "import the library's under another name (given_im2col) for Part 2.")
        for cell in cells:
            uses = _names_used_in(cell.source, "im2col") & set(given)
            if uses:
                return (f"Your im2col (cell {cell.index}) calls the library's {', '.join(sorted(uses))}. "
                        "Part 1 asks for your own unfolding; the library's is for Part 2.")
    return ""


def _imports(node):
    """(module, name, local alias) for each name an import binds; name '' for a whole module."""
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for a in node.names:
            if node.module == "accel_edu":  # from accel_edu import cnn
                yield f"accel_edu.{a.name}", "", a.asname or a.name
            else:
                yield node.module, a.name, a.asname or a.name
    elif isinstance(node, ast.Import):
        for a in node.names:
            yield a.name, "", a.asname or a.name.split(".")[0]


def _names_used_in(source: str, function: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except BaseException:
        return set()
    return {n.id for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef) and fn.name == function
            for n in ast.walk(fn) if isinstance(n, ast.Name)}


class _OwnCode:
    def blocked(self, ctx) -> str:
        return library_shortcut(ctx.session.cells, self.function) or super().blocked(ctx)


class CNNFunctionPart(_OwnCode, FunctionPart):
    pass


class CNNSpeedPart(_OwnCode, SpeedPart):
    pass


PARTS = [
    CNNFunctionPart(
        name="Part 1: im2col", points=10, function="im2col",
        signature="im2col(x, kh, kw, stride=1, padding=0, dilation=1) -> cols",
        make_cases=_dtypes(_im2col_cases), outputs=("cols",)),
    CNNFunctionPart(
        name="Part 2: Conv2d backward", points=10, function="conv2d_backward",
        signature="conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1) -> (dx, dw, db)",
        make_cases=_dtypes(_conv2d_backward_cases), outputs=("dx", "dw", "db")),
    CNNFunctionPart(
        name="Part 3: Max-pool backward", points=10, function="maxpool2d_backward",
        signature="maxpool2d_backward(dy, argmax, x_shape) -> dx",
        make_cases=_dtypes(_maxpool_backward_cases), outputs=("dx",)),
    CNNSpeedPart(
        name="Part 4: Fast Numba convolution", points=20, function="conv2d_direct",
        signature="conv2d_direct(x, w, b) -> y", make_cases=_conv_cases, outputs=("y",),
        baseline_op="conv2d_naive", make_timed_input=_conv_timed_input, target=4.0,
        timed_label="x {0} * w {1}".format(CONV_TIMED[:4], (CONV_TIMED[4], CONV_TIMED[1], *CONV_TIMED[5:])),
        shortcut_rule="conv2d_direct must convolve with its own loops (no @, np.dot, einsum, "
                      "tensordot or BLAS)."),
    OpenCLPart(
        name="Part 5: OpenCL convolution", points=10, source_name="CONV2D_SRC", kernel="conv2d",
        signature="__kernel void conv2d(__global const float *x, __global const float *w, "
                  "__global const float *b, __global float *y, const int n, const int c_in, "
                  "const int height, const int width, const int c_out, const int kh, const int kw)",
        make_cases=_opencl_conv_cases, output="y"),
]

ASSIGNMENT = Assignment("02_cnn", "Convolutional networks, fast", PARTS)
