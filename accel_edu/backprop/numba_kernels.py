"""Numba kernels of the backprop chapter: the NumPy reference rewritten as explicit loops.

Each public function has the name, signature, output shapes and dtypes of its twin in
``numpy_kernels.py``; ``kernels.py`` registers them by name. Loops are compiled with
``@njit(cache=True, fastmath=False)``: IEEE semantics, so the compiler may not reorder a sum
(no SIMD reductions, no fused multiply-add) and results stay close to NumPy's. Inputs arrive
C-contiguous, so ``x.reshape(-1)`` is a free view.

GEMM climbs a ladder, each step a registered variant that changes one thing (slowest first;
the last is the default): ``naive`` (i, j, p) -> ``loop_order`` (i, p, j: a unit-stride inner
loop, ``numba_gemm_loops.py``) -> ``parallel`` (+ threads over rows) -> ``cache_blocked``
(+ blocks of B in L2, ``numba_gemm_loops.py``) -> ``blocked`` (packed panels, a register tile,
cache blocks: the BLIS design) -> ``vector`` (the tile two vector registers wide,
``numba_gemm_vector.py``). ``accel-edu bench gemm`` times them all. Older timings in the
docstrings (marked Zen 3) come from a 2-core AVX2 AMD EPYC shared with other jobs, where NumPy
(OpenBLAS) ran at ~90 GFLOP/s on one core and 130-170 on two; the newer ones from a 2-core
AVX-512 Zen 5, loaded by other jobs, where OpenBLAS (pinned to its AVX2 kernels) ran at
50-170. Time NumPy and Numba in blocks or separate processes, not call by call: OpenBLAS's
threads spin on after each call and halved the speed of a Numba call that followed at once.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

LADDERS = {"gemm": ["naive", "loop_order", "parallel", "cache_blocked", "blocked", "vector"]}


# -- GEMM, step 1 and 2: loops over the whole matrices ---------------------------------------
def _materialise(a, b, trans_a, trans_b):
    """op(A), op(B) as C-contiguous arrays. A transposed copy costs O(n^2) against the O(n^3)
    product, and keeps the loops below to one memory layout (and one compilation)."""
    return (np.ascontiguousarray(a.T) if trans_a else a,
            np.ascontiguousarray(b.T) if trans_b else b)


@njit(cache=True, fastmath=False)
def _gemm_naive(a, b):
    m, k = a.shape
    c = np.zeros((m, b.shape[1]), a.dtype)
    for i in range(m):
        for j in range(b.shape[1]):
            s = c[i, j]  # a zero in c's dtype, so a float32 sum stays float32, as in NumPy
            for p in range(k):
                s += a[i, p] * b[p, j]
            c[i, j] = s
    return c


def gemm_naive(a, b, trans_a=False, trans_b=False):
    """Step 1, the textbook triple loop: c[i, j] = sum_p a[i, p] * b[p, j].

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)

    The inner loop walks down a column of B, a stride of N elements (4 KiB), so nearly every
    load misses the cache; and a sum may not be reordered (fastmath=False), so it cannot use
    SIMD either. Measured (Zen 3): 0.3 GFLOP/s, 0.2% of NumPy.
    """
    return _gemm_naive(*_materialise(a, b, trans_a, trans_b))


@njit(cache=True, fastmath=False, parallel=True)
def _gemm_parallel(a, b):
    m, k = a.shape
    c = np.zeros((m, b.shape[1]), a.dtype)
    for i in prange(m):  # rows of C are independent: each thread owns whole rows, no races
        c_row = c[i]
        for p in range(k):
            a_ip = a[i, p]
            b_row = b[p]
            for j in range(c_row.shape[0]):  # 1-D row views from 0: a plain, SIMD-able stream
                c_row[j] += a_ip * b_row[j]
    return c


def gemm_parallel(a, b, trans_a=False, trans_b=False):
    """Step 3, step 2's loop order i, p, j with prange over rows:  c[i, :] += a[i, p] * b[p, :].

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)

    Changed from step 2 (``gemm_loop_order``): the cores share the rows of C. As in step 2,
    the inner loop streams a row of B into a row of C, both contiguous and independent per
    j, so the compiler vectorises it (8 float32 per AVX instruction, 16 with AVX-512). Still, every multiply-add loads and
    stores C, and all of B (4 MiB, more than L2) is read again for each row of C.
    Measured (Zen 3): 45-60 GFLOP/s, 0.3-0.4x NumPy: 150x step 1. On the loaded Zen 5, 40-75:
    on two cores, barely more than step 2 on one, since both mostly wait on loads and stores.
    """
    return _gemm_parallel(*_materialise(a, b, trans_a, trans_b))


# -- GEMM, step 3: packing, cache blocks and a register tile --------------------------------
MR, NR = 4, 16     # register tile of C: 4 x 16 float32 = 8 AVX registers (float64 needs all
                   # 16 there are, spills, and ran at about half NumPy's float64 speed)
MC, KC = 64, 1024  # cache blocks: an MC x KC block of A (256 KiB) and a KC x NR panel of B
                   # (64 KiB) stay in L2 (512 KiB per core here) while they are reused.
# A long KC matters most: a C tile is read and written once per KC steps, and that access
# usually misses the caches and stalls the core. KC = 256 (B panel in L1) measured 10-15% slower.
_TILE = MR * NR


@intrinsic
def _stack_array(typingctx, size, dtype):
    """A buffer of `size` elements on the stack (an LLVM alloca); numba.carray views it.

    Why: np.zeros puts the accumulator tile on the heap, where LLVM cannot prove that it does
    not overlap the inputs, so it loads and stores the tile at every step (micro-kernel
    measured 25 GFLOP/s). A stack buffer whose address never escapes is split into scalars
    once the loops over it are unrolled, and those live in registers (75 GFLOP/s).
    """
    if not isinstance(size, types.IntegerLiteral):
        return None  # ask Numba for the literal value: an alloca needs a constant size

    def codegen(context, builder, signature, args):
        count = context.get_constant(types.intp, size.literal_value)
        return cgutils.alloca_once(builder, context.get_value_type(dtype.dtype), size=count)
    return types.CPointer(dtype.dtype)(types.intp, dtype), codegen


@njit(cache=True, fastmath=False)
def _op(x, i, j, trans):
    """op(x)[i, j] where op(x) = x.T if trans: packing reads the transpose for free."""
    return x[j, i] if trans else x[i, j]


@njit(cache=True, fastmath=False)
def _pack_b_panel(b, trans_b, j0, panel):
    """op(B)[:, j0:j0+width] -> panel: (K, width), zero-padded past the last column of op(B).

    One row of a panel is the `width` values the micro-kernel needs at one step, contiguous.
    Both branches read B along its rows, whole 1-D slices. Reading a stored-transposed B down
    its columns instead (32 rows 4 KiB apart at every step, all in one L1 set) took 10 ms at
    n = 1024 against 0.4 ms; element by element through ``_op`` took 3.9 ms (Zen 5).
    """
    k, width = panel.shape
    w = min(width, (b.shape[0] if trans_b else b.shape[1]) - j0)
    if trans_b:  # B stored (N, K): column j0 + q of op(B) is row j0 + q of B
        for q in range(w):
            src = b[j0 + q]
            for p in range(k):
                panel[p, q] = src[p]
    else:
        for p in range(k):
            src, dst = b[p, j0:j0 + w], panel[p]
            for q in range(w):
                dst[q] = src[q]
    for p in range(k):
        for q in range(w, width):
            panel[p, q] = 0


@njit(cache=True, fastmath=False)
def _pack_a(a, trans_a, i0, mc, p0, kc, height):
    """op(A)[i0:i0+mc, p0:p0+kc] -> panels: (ceil(mc/height), kc, height), zero-padded.
    Panel s holds rows i0+s*height.. interleaved, so one step of the micro-kernel reads
    `height` (MR) consecutive values."""
    panels = np.zeros(((mc + height - 1) // height, kc, height), a.dtype)
    for s in range(panels.shape[0]):
        for p in range(kc):
            for r in range(min(height, mc - s * height)):
                panels[s, p, r] = _op(a, i0 + s * height + r, p0 + p, trans_a)
    return panels


@njit(cache=True, fastmath=False)
def _micro_kernel(a_panel, b_panel, c, i0, j0):
    """c[i0:i0+MR, j0:j0+NR] += a_panel.T @ b_panel, clipped at the edges of c.

    a_panel: (kc, MR), b_panel: (kc, NR), c: (M, N). Per step p: 2 vector loads of B, 4
    broadcasts of A, 64 multiply-adds into a tile that stays in 8 registers for all kc steps.
    The four rows are written out by hand: as a loop over r, LLVM did not vectorise the
    tile and the whole GEMM ran 20x slower.
    """
    acc = numba.carray(_stack_array(_TILE, c.dtype), (MR, NR))
    acc[:] = 0
    for p in range(a_panel.shape[0]):
        a0, a1, a2, a3 = a_panel[p, 0], a_panel[p, 1], a_panel[p, 2], a_panel[p, 3]
        for q in range(NR):  # a constant trip count: unrolled, each acc[r, q] a register
            b = b_panel[p, q]
            acc[0, q] += a0 * b
            acc[1, q] += a1 * b
            acc[2, q] += a2 * b
            acc[3, q] += a3 * b
    for r in range(min(MR, c.shape[0] - i0)):  # an edge tile drops its padded rows...
        c_row = c[i0 + r, j0:j0 + NR]          # ...and slicing clips its padded columns
        for q in range(c_row.shape[0]):
            c_row[q] += acc[r, q]


@njit(cache=True, fastmath=False, parallel=True)
def _gemm_blocked(a, b, trans_a, trans_b, threads):
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    c = np.zeros((m, n), a.dtype)
    row_blocks, n_panels = (m + MC - 1) // MC, (n + NR - 1) // NR
    b_panels = np.empty((n_panels, k, NR), a.dtype)  # packed once, reused by every block of rows
    for t in range(n_panels):  # serial: 0.4 ms at n = 1024, less than a prange region costs
        _pack_b_panel(b, trans_b, t * NR, b_panels[t])  # on a loaded machine at small n
    # A thread owns whole blocks of C, so no two write the same element. Few rows (a small
    # batch)? Then split the columns too, so that every core gets work.
    col_groups = max(1, min(n_panels, threads // max(row_blocks, 1)))
    per_group = (n_panels + col_groups - 1) // col_groups
    for task in prange(row_blocks * col_groups):
        i0, t0 = task // col_groups * MC, task % col_groups * per_group
        mc = min(MC, m - i0)
        for p0 in range(0, k, KC):
            kc = min(KC, k - p0)
            a_panels = _pack_a(a, trans_a, i0, mc, p0, kc, MR)  # MC x KC: stays in L2
            for t in range(t0, min(t0 + per_group, n_panels)):
                b_panel = b_panels[t, p0:p0 + kc]  # KC x NR: met by all MC/MR panels of A
                for s in range(a_panels.shape[0]):
                    _micro_kernel(a_panels[s], b_panel, c, i0 + s * MR, t * NR)
    return c


def gemm_blocked(a, b, trans_a=False, trans_b=False):
    """Step 5, the BLIS/GotoBLAS design: pack, block for the caches, tile for the registers.

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)

    Changed from steps 3 and 4: C is computed in MR x NR tiles held in registers for KC steps
    (``_micro_kernel``), so C is loaded and stored once per KC multiply-adds, not once per
    multiply-add, and each value of B loaded is used MR times. A and B are first copied
    ("packed") into panels in the exact order the micro-kernel reads them (unit stride),
    and the transposes cost nothing, since packing reads op(A) and op(B) directly. Cache
    blocks (MC, KC) keep the panels in L2 while they are reused.
    Measured (Zen 3): the micro-kernel alone 75 GFLOP/s on one core, about 80% of its peak; the
    whole GEMM 50-75 GFLOP/s on one core (0.6-0.8x NumPy), 95-140 on two (0.6-0.8x).
    What is left: without fused multiply-add (fastmath=False) a multiply-add is two
    instructions, more than the core can issue per cycle (fastmath={"contract"} lifted the
    micro-kernel to 84). And prange splits the blocks evenly in advance: with another job
    on one core, two threads ran no faster than one, waiting for the thread that shared.
    """
    return _gemm_blocked(a, b, bool(trans_a), bool(trans_b), numba.get_num_threads())


# -- Linear layer: the GEMM above, plus a bias ------------------------------------------------
@njit(cache=True, fastmath=False)
def _add_bias(y, b):
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[i, j] += b[j]


def linear_forward(x, w, b):
    """y = x @ w.T + b.    x: (N, D_in), w: (D_out, D_in), b: (D_out,)  ->  y: (N, D_out)"""
    y = gemm_blocked(x, w, trans_b=True)
    _add_bias(y, b)
    return y


@njit(cache=True, fastmath=False)
def bias_grad(dy):
    """db = sum over the batch of dy.    dy: (N, D)  ->  (D,)"""
    db = np.zeros(dy.shape[1], dy.dtype)
    for i in range(dy.shape[0]):  # row by row, so the inner loop streams a contiguous row
        for j in range(dy.shape[1]):
            db[j] += dy[i, j]
    return db


def linear_backward(dy, x, w):
    """dy: (N, D_out), x: (N, D_in), w: (D_out, D_in)
    ->  dx = dy @ w: (N, D_in),  dw = dy.T @ x: (D_out, D_in),  db = sum_n dy: (D_out,)"""
    return gemm_blocked(dy, w), gemm_blocked(dy, x, trans_a=True), bias_grad(dy)


# -- Activations: a flat loop each over x.reshape(-1), forward beside backward -----------------
# x.dtype.type(1) is a 1 of the input's dtype: Numba, like C, would compute float32 + int in
# float64, where NumPy stays in float32.
def _elementwise(kernel, *arrays):
    """Run kernel(*flat inputs, flat output); return the output in the inputs' shape."""
    out = np.empty(arrays[0].shape, arrays[0].dtype)
    kernel(*[a.reshape(-1) for a in arrays], out.reshape(-1))
    return out


@njit(cache=True, fastmath=False)
def _relu_forward(x, y):
    for i in range(x.shape[0]):
        y[i] = 0 if x[i] < 0 else x[i]  # NaN is passed on, as np.maximum does


@njit(cache=True, fastmath=False)
def _relu_backward(dy, x, dx):
    for i in range(x.shape[0]):
        dx[i] = dy[i] if x[i] > 0 else 0  # the subgradient at 0 is taken as 0


def relu_forward(x):
    """max(x, 0), elementwise.    x: any shape -> same shape"""
    return _elementwise(_relu_forward, x)


def relu_backward(dy, x):
    """dx = dy where x > 0, else 0.    dy, x: same shape -> dx: same shape"""
    return _elementwise(_relu_backward, dy, x)


@njit(cache=True, fastmath=False)
def _sigmoid_forward(x, y):
    one = x.dtype.type(1)
    for i in range(x.shape[0]):
        e = math.exp(-abs(x[i]))  # the exponent is <= 0: no overflow for any x
        y[i] = one / (one + e) if x[i] >= 0 else e / (one + e)


@njit(cache=True, fastmath=False)
def _sigmoid_backward(dy, y, dx):
    one = y.dtype.type(1)
    for i in range(y.shape[0]):
        dx[i] = dy[i] * y[i] * (one - y[i])


def sigmoid_forward(x):
    """1 / (1 + exp(-x)), written e / (1 + e) with e = exp(x) when x < 0.  x: any shape"""
    return _elementwise(_sigmoid_forward, x)


def sigmoid_backward(dy, y):
    """dx = dy * y * (1 - y), from the forward output y.    dy, y: same shape"""
    return _elementwise(_sigmoid_backward, dy, y)


@njit(cache=True, fastmath=False)
def _tanh_forward(x, y):
    for i in range(x.shape[0]):
        y[i] = math.tanh(x[i])


@njit(cache=True, fastmath=False)
def _tanh_backward(dy, y, dx):
    one = y.dtype.type(1)
    for i in range(y.shape[0]):
        dx[i] = dy[i] * (one - y[i] * y[i])


def tanh_forward(x):
    """tanh(x), elementwise.    x: any shape -> same shape"""
    return _elementwise(_tanh_forward, x)


def tanh_backward(dy, y):
    """dx = dy * (1 - y**2), from the forward output y.    dy, y: same shape"""
    return _elementwise(_tanh_backward, dy, y)


# -- Losses ----------------------------------------------------------------------------------
@njit(cache=True, fastmath=False, parallel=True)
def _softmax_cross_entropy(logits, labels, dlogits, row_loss):
    n, classes = logits.shape
    for i in prange(n):  # rows are independent; each is finished while it sits in L1
        x, g = logits[i], dlogits[i]
        top = x[0]
        for j in range(1, classes):
            top = max(top, x[j])
        total = 0.0
        for j in range(classes):
            g[j] = math.exp(x[j] - top)  # exponent <= 0: no overflow; the max term is 1
            total += g[j]
        row_loss[i] = math.log(total) - (x[labels[i]] - top)  # -log softmax(x)[label]
        for j in range(classes):
            g[j] = g[j] / total / n
        g[labels[i]] -= 1 / n


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient, fused.

    logits: (N, C) float, labels: (N,) int in [0, C)  ->  loss: 0-d array, dlogits: (N, C)

    One visit per row, while it is in cache: its max, the sum of exp(x - max), the loss
    log(sum) - (x[label] - max) and the gradient (softmax - onehot) / N. Stable for logits
    of any size: every exponent is <= 0, so the sum lies in [1, C].
    """
    dlogits = np.empty(logits.shape, logits.dtype)
    row_loss = np.empty(logits.shape[0])  # float64, summed in order: the same on any core count
    _softmax_cross_entropy(logits, labels, dlogits, row_loss)
    return np.asarray(row_loss.sum() / logits.shape[0], dtype=logits.dtype), dlogits


@njit(cache=True, fastmath=False)
def _mse(pred, target, grad):
    two, size = pred.dtype.type(2), pred.dtype.type(pred.shape[0])
    total = 0.0  # a float64 sum: a long float32 one would lose digits
    for i in range(pred.shape[0]):
        d = pred[i] - target[i]
        total += d * d
        grad[i] = two * d / size
    return total / pred.shape[0]


def mse(pred, target):
    """Mean squared error over every element, and its gradient.

    pred, target: same shape  ->  loss: 0-d array, dpred = 2 (pred - target) / pred.size
    """
    grad = np.empty(pred.shape, pred.dtype)
    loss = _mse(pred.reshape(-1), target.reshape(-1), grad.reshape(-1))
    return np.asarray(loss, dtype=pred.dtype), grad


# -- Optimiser step --------------------------------------------------------------------------
@njit(cache=True, fastmath=False)
def _sgd_update(param, grad, lr):
    for i in range(param.shape[0]):
        param[i] -= lr * grad[i]


def sgd_update(param, grad, lr):
    """param -= lr * grad, in place.    param, grad: same shape;  returns param."""
    lr = param.dtype.type(lr)  # scale in param's dtype, as the reference does
    if param.flags.c_contiguous:
        _sgd_update(param.reshape(-1), grad.reshape(-1), lr)  # a view: param itself changes
    else:  # a strided param (a slice of a bigger buffer): update a copy, write it back
        flat = np.ascontiguousarray(param).reshape(-1)
        _sgd_update(flat, grad.reshape(-1), lr)
        param[...] = flat.reshape(param.shape)
    return param


# -- The other rungs of the GEMM ladder, in files of their own (they import from this one) ---
from .numba_gemm_loops import gemm_cache_blocked, gemm_loop_order  # noqa: E402
from .numba_gemm_vector import gemm_vector  # noqa: E402
