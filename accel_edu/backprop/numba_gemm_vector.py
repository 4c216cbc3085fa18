"""GEMM, the last Numba rung: the register tile sized to the machine's vector registers.

``gemm_blocked`` (``numba_kernels.py``) holds a 4 x 16 tile of C: eight AVX2 registers, the
tile BLIS uses on a 16-register AVX2 core. On an AVX-512 core (this Zen 5) 16 float32 fill one
register, so that tile is only four accumulators: too few to keep two multiply pipes and two
add pipes busy (an add's result is ready 3 cycles later, so each accumulator can take a new
sum only every third cycle), and each B value loaded feeds just four multiply-adds.
This step changes only the tile: MR x NR = 8 x (2 registers), sixteen accumulators of the 32
AVX-512 registers (8 x 32 float32, 8 x 16 float64). On AVX2, with 16 registers, it is 8 x (1
register), eight accumulators as in ``gemm_blocked`` (not measured: no AVX2 machine at hand).
The cache blocks and the packing are those of ``gemm_blocked``, with the wider panels; each
element of C is still summed in the same order (p = 0, 1, ... in blocks of KC), so the result
is bit for bit that of ``gemm_blocked`` (tests/test_gemm_ladder.py checks it).
Measured at n = 1024, float32, 2-core Zen 5, side by side: at quiet moments (load average
0.2-2.4) 136-177 GFLOP/s, 0.8-1.8x OpenBLAS (pinned to its AVX2 kernels, and the first to
suffer from load) and 1.1-1.3x ``gemm_blocked``; with the cores shared by other jobs (load
5-8) 40-56 GFLOP/s, 0.7-1.5x ``gemm_blocked``. Idle figures: ``benchmarks/results/gemm-*.json``.
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import binding as llvm
from numba import njit, prange
from numba.extending import overload

from .numba_kernels import KC, MC, _pack_a, _pack_b_panel, _stack_array

_AVX512 = "+avx512f" in llvm.get_host_cpu_features().flatten()  # what Numba compiles for
_LANES = 16 if _AVX512 else 8            # float32 in one vector register
MR_V, NR_V = 8, (2 if _AVX512 else 1) * _LANES   # the tile of C (float32): 8 rows, 32 or 8 columns
_TILE_V = MR_V * NR_V


def tile_width(x):
    """Columns of the tile for x's dtype: NR_V float32, or as many registers of float64."""
    return NR_V if x.dtype.itemsize == 4 else NR_V // 2


@overload(tile_width)
def _tile_width_compiled(x):
    """tile_width inside compiled code, decided while compiling, so LLVM sees a constant and
    unrolls the loop over the tile (``x.itemsize`` is read from the array at run time, and
    with it the tile stayed in memory and ran 2x slower). float64 needs its own width: eight
    rows of 32 doubles are 32 registers, all AVX-512 has, and spilled (0.5x gemm_blocked)."""
    width = NR_V if x.dtype.bitwidth == 32 else NR_V // 2
    return lambda x: width


@njit(cache=True, fastmath=False)
def _micro_kernel_wide(a_panel, b_panel, c, i0, j0):
    """c[i0:i0+8, j0:j0+NR_V] += a_panel.T @ b_panel, clipped at the edges of c.

    a_panel: (kc, 8), b_panel: (kc, NR_V), c: (M, N). Per step p: 2 vector loads of B,
    8 broadcasts of A, 16 vector multiplies and 16 vector adds into 16 registers. The rows
    are written out by hand, as in ``_micro_kernel``: a loop over them is not vectorised.
    """
    width = tile_width(c)  # a constant: the loop over q below unrolls
    acc = numba.carray(_stack_array(_TILE_V, c.dtype), (MR_V, NR_V))
    acc[:] = 0
    for p in range(a_panel.shape[0]):
        a0, a1, a2, a3 = a_panel[p, 0], a_panel[p, 1], a_panel[p, 2], a_panel[p, 3]
        a4, a5, a6, a7 = a_panel[p, 4], a_panel[p, 5], a_panel[p, 6], a_panel[p, 7]
        for q in range(width):  # constant trip count: unrolled, each acc[r, q] a register lane
            b = b_panel[p, q]
            acc[0, q] += a0 * b
            acc[1, q] += a1 * b
            acc[2, q] += a2 * b
            acc[3, q] += a3 * b
            acc[4, q] += a4 * b
            acc[5, q] += a5 * b
            acc[6, q] += a6 * b
            acc[7, q] += a7 * b
    for r in range(min(MR_V, c.shape[0] - i0)):
        c_row = c[i0 + r, j0:j0 + width]
        for q in range(c_row.shape[0]):
            c_row[q] += acc[r, q]


@njit(cache=True, fastmath=False, parallel=True)
def _gemm_vector(a, b, trans_a, trans_b, threads):
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    c = np.zeros((m, n), a.dtype)
    width = tile_width(a)
    row_blocks, n_panels = (m + MC - 1) // MC, (n + width - 1) // width
    b_panels = np.empty((n_panels, k, width), a.dtype)
    for t in range(n_panels):  # serially, as gemm_blocked
        _pack_b_panel(b, trans_b, t * width, b_panels[t])
    col_groups = max(1, min(n_panels, threads // max(row_blocks, 1)))
    per_group = (n_panels + col_groups - 1) // col_groups
    for task in prange(row_blocks * col_groups):  # as gemm_blocked: whole blocks of C per thread
        i0, t0 = task // col_groups * MC, task % col_groups * per_group
        mc = min(MC, m - i0)
        for p0 in range(0, k, KC):
            kc = min(KC, k - p0)
            a_panels = _pack_a(a, trans_a, i0, mc, p0, kc, MR_V)
            for t in range(t0, min(t0 + per_group, n_panels)):
                b_panel = b_panels[t, p0:p0 + kc]
                for s in range(a_panels.shape[0]):
                    _micro_kernel_wide(a_panels[s], b_panel, c, i0 + s * MR_V, t * width)
    return c


def gemm_vector(a, b, trans_a=False, trans_b=False):
    """Step 6, step 5 (``gemm_blocked``) with a tile two vector registers wide, 8 rows tall.

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)

    Why and measured: the module docstring.
    """
    return _gemm_vector(a, b, bool(trans_a), bool(trans_b), numba.get_num_threads())
