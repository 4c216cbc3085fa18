"""OpenCL host code of attention: size the grids, launch the kernels of ``attention.cl``.

Arguments arrive as DeviceArrays (the registry uploads NumPy ones) and results stay on the
device. The ladder:

* ``plain``: four launches through a (B, Tq, Tk) score buffer: scores, row softmax (which
  writes the logsumexp and turns the scores into P in place), out = P v. The backward stores
  P and dS, both (B, Tq, Tk).
* ``tiled``: one work-item per query row streams over key blocks with the online softmax;
  the backward is blocked as FlashAttention-2's: work-groups of BLOCK keys accumulate dk, dv
  and work-groups of BLOCK queries dq, each recomputing P_ij from the logsumexp. Nothing of
  size Tq * Tk is allocated.

Every launch names its work-group size: PoCL compiles a kernel once per size.
"""
from __future__ import annotations

from pathlib import Path

from ..runtime.opencl import empty, launch, round_up
from .numpy_kernels import default_scale

SOURCE = Path(__file__).with_name("attention.cl")
LADDERS = {"attention_forward": ["plain", "tiled"], "attention_backward": ["plain", "tiled"]}
ROW = 16          # work-items along the fastest grid axis
MAX_HEAD_DIM = 128  # the private row buffers in attention.cl
BLOCK = 32        # rows per work-group of the blocked backward (attention.cl's BLOCK)


def _head_dims_fit(d: int, e: int) -> None:
    """The tiled kernels hold a row of d (or e) numbers in registers, sized at compile time."""
    if max(d, e) > MAX_HEAD_DIM:
        raise ValueError(f"the OpenCL tiled attention kernels take head dims up to {MAX_HEAD_DIM}; "
                         f"got q's d={d} and v's e={e} (use variant='plain')")


def _product(mat, x, out_rows, transpose, alpha, bsz, tq, tk):
    """out[b] = alpha * (mat[b]^T if transpose else mat[b]) @ x[b];  mat (B, Tq, Tk)."""
    c = x.shape[2]
    out = empty((bsz, out_rows, c), x.dtype)
    launch(SOURCE, "attention_batched_product", (round_up(c, ROW), out_rows, bsz), (ROW, 1, 1),
           [bsz, tq, tk, c, int(transpose), mat, x, float(alpha), out], x.dtype)
    return out


def _scores(q, k, causal, scale):
    """(B, Tq, Tk) scale * q k^T, masked scores -inf."""
    bsz, tq, d = q.shape
    tk = k.shape[1]
    if bsz * tq * tk >= 2**31:  # attention.cl indexes the score buffer with 32-bit ints
        raise ValueError(f"the OpenCL plain attention kernels index B * Tq * Tk < 2**31 scores; got "
                         f"B={bsz}, Tq={tq}, Tk={tk} (use variant='tiled')")
    s = empty((bsz, tq, tk), q.dtype)
    launch(SOURCE, "attention_scores", (round_up(tk, ROW), tq, bsz), (ROW, 1, 1),
           [bsz, tq, tk, d, q, k, float(scale), int(causal), s], q.dtype)
    return s


def attention_forward_plain(q, k, v, causal=False, scale=None):
    """q (B, Tq, d), k (B, Tk, d), v (B, Tk, e) -> out (B, Tq, e), logsumexp (B, Tq)"""
    bsz, tq, d = q.shape
    tk = k.shape[1]
    p = _scores(q, k, causal, default_scale(d, scale))
    lse = empty((bsz, tq), q.dtype)
    launch(SOURCE, "attention_row_softmax", (round_up(bsz * tq, ROW),), (ROW,),
           [bsz * tq, tk, p, lse], q.dtype)
    return _product(p, v, tq, False, 1.0, bsz, tq, tk), lse


def attention_forward_tiled(q, k, v, causal=False, scale=None):
    """As ``attention_forward_plain``, with no (Tq, Tk) buffer: online softmax per query row."""
    bsz, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    _head_dims_fit(d, e)
    out, lse = empty((bsz, tq, e), q.dtype), empty((bsz, tq), q.dtype)
    launch(SOURCE, "attention_forward_tiled", (round_up(tq, ROW), bsz), (ROW, 1),
           [bsz, tq, tk, d, e, q, k, v, float(default_scale(d, scale)), int(causal), out, lse],
           q.dtype)
    return out, lse


def _delta(dout, out):
    """(B, Tq) D_i = dout_i . out_i"""
    bsz, tq, e = out.shape
    delta = empty((bsz, tq), out.dtype)
    launch(SOURCE, "attention_delta", (round_up(bsz * tq, ROW),), (ROW,),
           [bsz * tq, e, dout, out, delta], out.dtype)
    return delta


def attention_backward_plain(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """dout, out (B, Tq, e), q (B, Tq, d), k (B, Tk, d), v (B, Tk, e), logsumexp (B, Tq)
    -> dq (B, Tq, d), dk (B, Tk, d), dv (B, Tk, e), through stored (B, Tq, Tk) P and dS."""
    bsz, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    scale = default_scale(d, scale)
    p = _scores(q, k, causal, scale)
    launch(SOURCE, "attention_probabilities", (round_up(tk, ROW), bsz * tq), (ROW, 1),
           [bsz * tq, tk, p, logsumexp], q.dtype)
    ds = empty((bsz, tq, tk), q.dtype)
    launch(SOURCE, "attention_score_grad", (round_up(tk, ROW), tq, bsz), (ROW, 1, 1),
           [bsz, tq, tk, e, p, dout, v, _delta(dout, out), ds], q.dtype)
    return (_product(ds, k, tq, False, scale, bsz, tq, tk),
            _product(ds, q, tk, True, scale, bsz, tq, tk),
            _product(p, dout, tk, True, 1.0, bsz, tq, tk))


def attention_backward_tiled(dout, q, k, v, out, logsumexp, causal=False, scale=None):
    """As ``attention_backward_plain``, blocked (FlashAttention-2): P_ij recomputed from the
    logsumexp per pair, in work-groups of BLOCK keys (dk, dv) and of BLOCK queries (dq).
    Extra memory: the (B, Tq) D; never (Tq, Tk)."""
    bsz, tq, d = q.shape
    tk, e = k.shape[1], v.shape[2]
    _head_dims_fit(d, e)
    scale = float(default_scale(d, scale))
    delta = _delta(dout, out)
    dq, dk, dv = empty(q.shape, q.dtype), empty(k.shape, q.dtype), empty(v.shape, q.dtype)
    launch(SOURCE, "attention_dkdv_blocked", (round_up(tk, BLOCK), bsz), (BLOCK, 1),
           [bsz, tq, tk, d, e, dout, q, k, v, logsumexp, delta, scale, int(causal), dk, dv], q.dtype)
    launch(SOURCE, "attention_dq_blocked", (round_up(tq, BLOCK), bsz), (BLOCK, 1),
           [bsz, tq, tk, d, e, dout, q, k, v, logsumexp, delta, scale, int(causal), dq], q.dtype)
    return dq, dk, dv
