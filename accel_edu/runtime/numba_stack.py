"""A fixed-size buffer on the stack, for Numba kernels that keep a tile of accumulators in
registers (the GEMM micro-kernels, the direct convolution's tile, the fused LSTM, the FMA peak).

    acc = numba.carray(stack_array(64, x.dtype), (4, 16))   # inside an @njit function

Why not ``np.zeros((4, 16))``: that puts the tile on the heap, where LLVM cannot prove that it
does not overlap the inputs, so it loads and stores the tile at every step (the GEMM
micro-kernel measured 25 GFLOP/s). A stack buffer whose address never escapes is split into
scalars once the loops over it are unrolled, and those live in registers (75 GFLOP/s).
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def stack_array(typingctx, size, dtype):
    """A pointer to ``size`` elements of ``dtype`` on the stack (an LLVM alloca); ``size``
    must be a compile-time constant (a module-level int or a literal). View it with
    ``numba.carray(pointer, shape)``."""
    if not isinstance(size, types.IntegerLiteral):
        return None  # ask Numba for the literal value: an alloca needs a constant size

    def codegen(context, builder, signature, args):
        count = context.get_constant(types.intp, size.literal_value)
        return cgutils.alloca_once(builder, context.get_value_type(dtype.dtype), size=count)
    return types.CPointer(dtype.dtype)(types.intp, dtype), codegen
