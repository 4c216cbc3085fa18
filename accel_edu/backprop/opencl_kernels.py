"""OpenCL host code of the backprop chapter: pick the kernel, size the grid, launch.

The kernels themselves are OpenCL C in the ``*.cl`` files beside this one (``gemm.cl``,
``elementwise.cl``, ``reductions.cl``, ``losses.cl``). Arguments arrive as DeviceArrays and
results stay on the device: nothing here copies to the host. Each file is compiled once per
dtype (``-D real=float|double``) and options, by :func:`accel_edu.runtime.opencl.build`.
"""
from __future__ import annotations

from pathlib import Path


from ..runtime.opencl import DeviceArray, empty, launch, round_up

HERE = Path(__file__).parent

LADDERS = {"gemm": ["naive", "local_tiled", "register_tiled", "vector"]}

GROUP = 256       # 1-D kernels: the global size is rounded up to this, and it is the work-group
TILE = 16         # gemm.cl's TILE: the 16 x 16 work-group of the first two GEMM steps
TILE_M = 6        # gemm.cl's TILE_M: rows of C per work-item in the register tile
VECTOR_TILE_M = 8  # ... in the vector step: 8 rows x 2 vectors = 16 of AVX-512's 32 registers
ROWS_PER_GROUP = 16   # register tile: work-items stacked down the rows share a panel of B
REDUCE_GROUP = 64     # the one work-group of reductions.cl's mean

# numpy integer dtype -> OpenCL C type, for the labels of softmax_cross_entropy
LABEL_TYPES = {"int8": "char", "uint8": "uchar", "int16": "short", "uint16": "ushort",
               "int32": "int", "uint32": "uint", "int64": "long", "uint64": "ulong"}

def _run(source: str, name: str, global_size, local_size, args, dtype, **defines) -> None:
    """runtime.opencl.launch of kernel ``name`` in the ``.cl`` file ``source`` beside this one."""
    launch(HERE / source, name, global_size, local_size, args, dtype, **defines)


# -- GEMM: the optimisation ladder ---------------------------------------------------------

def _gemm_setup(a, b, trans_a, trans_b):
    """op(a) @ op(b)'s sizes, its output, and the options gemm.cl is compiled with."""
    m, k = a.shape[::-1] if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    options = dict(VW=32 // a.dtype.itemsize)  # one 256-bit register: 8 floats or 4 doubles
    if trans_a:
        options["TRANS_A"] = 1
    if trans_b:
        options["TRANS_B"] = 1
    return m, n, k, empty((m, n), a.dtype), options


def gemm_naive(a, b, trans_a=False, trans_b=False):
    """Step 1, one work-item per element of C, its loop over k straight from the formula.

    a: (M, K), or (K, M) with trans_a;  b: (K, N), or (N, K) with trans_b  ->  c: (M, N)
    """
    m, n, k, c, options = _gemm_setup(a, b, trans_a, trans_b)
    _run("gemm.cl", "gemm_naive", (round_up(n, TILE), round_up(m, TILE)), (TILE, TILE),
         [m, n, k, a, b, c], a.dtype, **options)
    return c


def gemm_local_tiled(a, b, trans_a=False, trans_b=False):
    """Step 2, 16 x 16 tiles of op(a) and op(b) staged in local memory, between barriers.

    Shapes as :func:`gemm_naive`. The textbook GPU kernel; why a CPU does not reward it: gemm.cl.
    """
    m, n, k, c, options = _gemm_setup(a, b, trans_a, trans_b)
    _run("gemm.cl", "gemm_local_tiled", (round_up(n, TILE), round_up(m, TILE)), (TILE, TILE),
         [m, n, k, a, b, c], a.dtype, **options)
    return c


def _register_tiles(a, b, trans_a, trans_b, vw, tile_m):
    """gemm.cl's gemm_register_tiled with vectors of ``vw`` reals and ``tile_m`` rows per tile.

    The kernel reads both operands in the order it uses them, so they are packed first, into
    zero-padded panels: op(a) as (ceil(M / tile_m), K, tile_m) and op(b) as
    (ceil(N / 2vw), K, 2vw). The packing also undoes the transposes.
    """
    m, n, k, c, options = _gemm_setup(a, b, trans_a, trans_b)
    options.update(VW=vw, TILE_M=tile_m)
    tile_n = 2 * vw
    m_padded, n_padded = round_up(m, tile_m), round_up(n, tile_n)
    a_packed = empty((m_padded // tile_m, k, tile_m), a.dtype)
    b_packed = empty((n_padded // tile_n, k, tile_n), b.dtype)
    # Explicit work-group sizes throughout: PoCL compiles a kernel once per work-group size, and
    # left to choose it picks a different one for nearly every grid (137 of 167 compiled
    # variants in one cold test run came from these two packing kernels).
    _run("gemm.cl", "pack_a", (round_up(k, TILE), round_up(m_padded, TILE)), (TILE, TILE),
         [m, k, a, a_packed], a.dtype, **options)
    _run("gemm.cl", "pack_b", (round_up(n_padded, TILE), round_up(k, TILE)), (TILE, TILE),
         [k, n, b, b_packed], b.dtype, **options)
    tiles = (n_padded // tile_n, round_up(m_padded // tile_m, ROWS_PER_GROUP))
    _run("gemm.cl", "gemm_register_tiled", tiles, (1, ROWS_PER_GROUP),
         [m, n, k, a_packed, b_packed, c], a.dtype, **options)
    return c


def gemm_register_tiled(a, b, trans_a=False, trans_b=False):
    """Step 3, a 6 x 16 (float) or 6 x 8 (double) tile of C per work-item, in registers.

    Twelve 256-bit (AVX2) vectors, float8 or double4, from packed panels (``_register_tiles``).
    Shapes as :func:`gemm_naive`.
    """
    return _register_tiles(a, b, trans_a, trans_b, 32 // a.dtype.itemsize, TILE_M)


def native_vector_width(dtype) -> int:
    """Reals of ``dtype`` in one of the device's native vector registers, as a valid OpenCL
    vector size: 16 floats on PoCL with AVX-512, 8 with AVX2. A GPU reports 1 (its lanes are
    work-items, not vectors); 4 is taken then, a size every device compiles."""
    from ..runtime.opencl import default_device
    device = default_device()
    width = device.native_vector_width_float if dtype.itemsize == 4 else device.native_vector_width_double
    return width if width in (2, 4, 8, 16) else 4


def gemm_vector(a, b, trans_a=False, trans_b=False):
    """Step 4, step 3's kernel with vectors as wide as the device's registers, 8 rows tall.

    Shapes as :func:`gemm_naive`.

    Nothing in gemm.cl changes, only two of its -D options: VW = the device's native vector
    width (float16 or double8 on PoCL with AVX-512, where register_tiled's float8 fills half
    of each register) and TILE_M = 8, so 8 x 2 = 16 accumulators of 32 registers.
    Measured on PoCL, n = 1024, 2-core Zen 5 shared with other jobs: 1.2-1.8x register_tiled
    side by side, 120 GFLOP/s at the quietest (VW = 16 with TILE_M 4, 6, 8 or 12 were within
    the noise of each other; mad() or fma() in place of `*` and `+` measured 0.5-1.5x, and
    1, 4 or 64 work-items per group instead of 16 0.7-1.5x: no clear difference at this load).
    """
    return _register_tiles(a, b, trans_a, trans_b, native_vector_width(a.dtype), VECTOR_TILE_M)


gemm = gemm_register_tiled  # used by the layers below (gemm_vector gives the same bits; its
                            # wider tile pads small layers more, and was not measured on them)


# -- Linear layer --------------------------------------------------------------------------

def linear_forward(x, w, b):
    """y = x @ w.T + b.    x: (N, D_in), w: (D_out, D_in), b: (D_out,)  ->  y: (N, D_out)"""
    y = gemm(x, w, trans_b=True)
    rows, cols = y.shape
    _run("elementwise.cl", "add_bias", (round_up(cols, TILE), round_up(rows, TILE)), (TILE, TILE),
         [rows, cols, y, b], y.dtype)
    return y


def linear_backward(dy, x, w):
    """Gradients of a Linear layer.

    dy: (N, D_out), x: (N, D_in), w: (D_out, D_in)
    ->  dx = dy @ w: (N, D_in),  dw = dy.T @ x: (D_out, D_in),  db = sum_n dy: (D_out,)
    """
    return gemm(dy, w), gemm(dy, x, trans_a=True), bias_grad(dy)


def bias_grad(dy):
    """db = sum over the batch of dy.    dy: (N, D)  ->  (D,)"""
    rows, cols = dy.shape
    db = empty((cols,), dy.dtype)
    _run("reductions.cl", "column_sum", (round_up(cols, GROUP),), (GROUP,), [rows, cols, dy, db], dy.dtype)
    return db


# -- Activations: one work-item per element ------------------------------------------------

def _map(name: str, *inputs):
    """Run the elementwise kernel ``name`` of elementwise.cl: one output, shaped like inputs[0]."""
    out = empty(inputs[0].shape, inputs[0].dtype)
    _run("elementwise.cl", name, (round_up(out.size, GROUP),), (GROUP,), [out.size, *inputs, out], out.dtype)
    return out


def relu_forward(x):
    """max(x, 0).    x: any shape -> same shape"""
    return _map("relu_forward", x)


def relu_backward(dy, x):
    """dx = dy where x > 0, else 0.    dy, x: same shape -> same shape"""
    return _map("relu_backward", dy, x)


def sigmoid_forward(x):
    """1 / (1 + exp(-x)), without overflow.    x: any shape -> same shape"""
    return _map("sigmoid_forward", x)


def sigmoid_backward(dy, y):
    """dx = dy * y * (1 - y), from the forward output y.    dy, y: same shape -> same shape"""
    return _map("sigmoid_backward", dy, y)


def tanh_forward(x):
    """tanh(x).    x: any shape -> same shape"""
    return _map("tanh_forward", x)


def tanh_backward(dy, y):
    """dx = dy * (1 - y**2), from the forward output y.    dy, y: same shape -> same shape"""
    return _map("tanh_backward", dy, y)


# -- Losses: per-row (or per-element) terms, then one mean ---------------------------------

def _mean(terms: DeviceArray) -> DeviceArray:
    """The mean of every element of ``terms``, as a 0-d DeviceArray."""
    import pyopencl as cl
    out = empty((), terms.dtype)
    scratch = cl.LocalMemory(REDUCE_GROUP * terms.dtype.itemsize)
    _run("reductions.cl", "mean", (REDUCE_GROUP,), (REDUCE_GROUP,), [terms.size, terms, out, scratch],
         terms.dtype)
    return out


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient, fused.

    logits: (N, C) float, labels: (N,) any integer dtype, in [0, C)
    ->  loss: 0-d DeviceArray,  dlogits = (softmax(logits) - onehot(labels)) / N: (N, C)
    """
    n, classes = logits.shape
    row_loss = empty((n,), logits.dtype)
    dlogits = empty((n, classes), logits.dtype)
    _run("losses.cl", "softmax_cross_entropy_rows", (round_up(n, GROUP),), (GROUP,),
         [n, classes, logits, labels, row_loss, dlogits], logits.dtype,
         label_t=LABEL_TYPES[labels.dtype.name])
    return _mean(row_loss), dlogits


def mse(pred, target):
    """Mean squared error over every element, and its gradient.

    pred, target: same shape  ->  loss: 0-d DeviceArray,  dpred = 2 (pred - target) / pred.size
    """
    squares = empty(pred.shape, pred.dtype)
    dpred = empty(pred.shape, pred.dtype)
    _run("losses.cl", "mse_terms", (round_up(pred.size, GROUP),), (GROUP,),
         [pred.size, pred, target, squares, dpred], pred.dtype)
    return _mean(squares), dpred


# -- Optimizer step ------------------------------------------------------------------------

def sgd_update(param, grad, lr):
    """param -= lr * grad, in place on the device.    param, grad: same shape;  returns param."""
    _run("elementwise.cl", "sgd_update", (round_up(param.size, GROUP),), (GROUP,),
         [param.size, float(lr), param, grad], param.dtype)
    return param
