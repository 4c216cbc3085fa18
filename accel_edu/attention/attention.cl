/* attention.cl: scaled dot-product attention, forward and backward, plain and tiled.
 *
 * Compiled once per dtype with -D real=float|double; every size is an int argument. Arrays
 * are C-contiguous: q[b, i, c] = q[(b * Tq + i) * D + c], k (B, Tk, D), v (B, Tk, E),
 * scores/P/dS (B, Tq, Tk), logsumexp and delta (B, Tq). Equations: numpy_kernels.py.
 * Query row i sees keys 0..i when causal, all Tk keys otherwise.
 *
 * The row kernels keep a row of the output (or of dq, dk, dv) in private registers, so the
 * head dims are bounded by MAX_HEAD_DIM; the host checks that. Plain * and + only: PoCL
 * vectorises them well, and local memory with barriers is slow on its CPU device.
 */
#pragma OPENCL FP_CONTRACT OFF
#define MAX_HEAD_DIM 128
#define BLOCK 32   /* keys per tile in attention_forward_tiled; rows per group in *_blocked */

static inline int visible_keys(const int i, const int Tk, const int causal)
{
    return causal ? i + 1 : Tk;
}

static inline real row_dot(__global const real *a, __global const real *b, const int n)
{
    real acc = 0;
    for (int c = 0; c < n; ++c) acc += a[c] * b[c];
    return acc;
}

/* -- plain forward: (1) every score, (2) each row's logsumexp and P, (3) out = P v ------- */

/* scores[b, i, j] = scale * q_i . k_j, or -INFINITY for a masked key. Work-item (j, i, b). */
__kernel void attention_scores(const int B, const int Tq, const int Tk, const int D,
                               __global const real *q, __global const real *k,
                               const real scale, const int causal, __global real *scores)
{
    const int j = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
    if (j >= Tk || i >= Tq || b >= B) return;
    scores[(b * Tq + i) * Tk + j] = j < visible_keys(i, Tk, causal)
        ? scale * row_dot(q + (b * Tq + i) * D, k + (b * Tk + j) * D, D) : -INFINITY;
}

/* lse[r] = m + log sum_j exp(s_rj - m), m the row max, then the row becomes P = exp(s - lse).
 * Work-item r = b * Tq + i: one row of scores. */
__kernel void attention_row_softmax(const int rows, const int Tk, __global real *scores,
                                    __global real *lse)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global real *s = scores + r * Tk;
    real m = s[0];                              /* key 0 is never masked */
    for (int j = 1; j < Tk; ++j) m = fmax(m, s[j]);
    real total = 0;
    for (int j = 0; j < Tk; ++j) total += exp(s[j] - m);
    const real L = m + log(total);
    lse[r] = L;
    for (int j = 0; j < Tk; ++j) s[j] = exp(s[j] - L);
}

/* -- tiled forward: one work-item per query row, online softmax over key blocks --------- */
__kernel void attention_forward_tiled(const int B, const int Tq, const int Tk, const int D,
                                      const int E, __global const real *q,
                                      __global const real *k, __global const real *v,
                                      const real scale, const int causal,
                                      __global real *out, __global real *lse)
{
    const int i = get_global_id(0), b = get_global_id(1);
    if (i >= Tq || b >= B) return;
    __global const real *qi = q + (b * Tq + i) * D;
    const int n = visible_keys(i, Tk, causal);
    real acc[MAX_HEAD_DIM];
    real s[BLOCK];
    for (int c = 0; c < E; ++c) acc[c] = 0;
    real m = scale * row_dot(qi, k + b * Tk * D, D), total = 0;
    for (int start = 0; start < n; start += BLOCK) {
        const int len = min(BLOCK, n - start);
        real block_max = m;
        for (int t = 0; t < len; ++t) {
            s[t] = scale * row_dot(qi, k + (b * Tk + start + t) * D, D);
            block_max = fmax(block_max, s[t]);
        }
        const real rescale = exp(m - block_max);   /* 1 when the max did not move */
        total *= rescale;
        for (int c = 0; c < E; ++c) acc[c] *= rescale;
        m = block_max;
        for (int t = 0; t < len; ++t) {
            const real w = exp(s[t] - m);
            __global const real *vj = v + (b * Tk + start + t) * E;
            total += w;
            for (int c = 0; c < E; ++c) acc[c] += w * vj[c];
        }
    }
    for (int c = 0; c < E; ++c) out[(b * Tq + i) * E + c] = acc[c] / total;
    lse[b * Tq + i] = m + log(total);
}

/* -- backward ------------------------------------------------------------------------------ */

/* plain: p[b, i, j] = exp(scores[b, i, j] - lse[b, i]), from the forward's saved lse
 * (a masked score is -INFINITY, so its P is 0). Work-item (j, r = b * Tq + i). */
__kernel void attention_probabilities(const int rows, const int Tk, __global real *scores,
                                      __global const real *lse)
{
    const int j = get_global_id(0), r = get_global_id(1);
    if (j >= Tk || r >= rows) return;
    scores[r * Tk + j] = exp(scores[r * Tk + j] - lse[r]);
}

/* delta[r] = dout_r . out_r. Work-item r = b * Tq + i. */
__kernel void attention_delta(const int rows, const int E, __global const real *dout,
                              __global const real *out, __global real *delta)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    delta[r] = row_dot(dout + r * E, out + r * E, E);
}

/* plain: dS[b, i, j] = P_ij (dout_i . v_j - delta_i), P already in p. Work-item (j, i, b). */
__kernel void attention_score_grad(const int B, const int Tq, const int Tk, const int E,
                                   __global const real *p, __global const real *dout,
                                   __global const real *v, __global const real *delta,
                                   __global real *ds)
{
    const int j = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
    if (j >= Tk || i >= Tq || b >= B) return;
    const int at = (b * Tq + i) * Tk + j;
    ds[at] = p[at] * (row_dot(dout + (b * Tq + i) * E, v + (b * Tk + j) * E, E) - delta[b * Tq + i]);
}

/* plain: out[b, r, c] = alpha * sum_t m[b, t, r] x[b, t, c] when transpose, else
 * alpha * sum_t m[b, r, t] x[b, t, c]; m is (B, Tq, Tk). out = P v, dq = s dS k,
 * dk = s dS^T q, dv = P^T dout. Work-item (c, r, b). */
__kernel void attention_batched_product(const int B, const int Tq, const int Tk, const int C,
                                        const int transpose, __global const real *mat,
                                        __global const real *x, const real alpha,
                                        __global real *out)
{
    const int c = get_global_id(0), r = get_global_id(1), b = get_global_id(2);
    const int rows = transpose ? Tk : Tq, inner = transpose ? Tq : Tk;
    if (c >= C || r >= rows || b >= B) return;
    __global const real *mb = mat + b * Tq * Tk;
    __global const real *xb = x + b * inner * C + c;
    real acc = 0;
    if (transpose) for (int t = 0; t < inner; ++t) acc += mb[t * Tk + r] * xb[t * C];
    else           for (int t = 0; t < inner; ++t) acc += mb[r * Tk + t] * xb[t * C];
    out[(b * rows + r) * C + c] = alpha * acc;
}

/* -- tiled backward: blocked, FlashAttention-2's structure ---------------------------------
 *
 * A work-group is a block of BLOCK keys (dk/dv) or BLOCK queries (dq), a work-item one row of
 * it, accumulating that row's gradient in registers. Every work-item of a group runs the same
 * loop over the other side's rows (q_i, dout_i; or k_j, v_j), so the group streams them once
 * from the cache for BLOCK rows: a masked pair (causal, key after query) gets P = 0 instead
 * of a shorter loop, and the grid's last, partly filled group reads a clamped row and skips
 * only its store. Each row of dq, dk, dv is written by one work-item, so no atomics, at the
 * price of recomputing P and dS once per pass. (Reading each work-item's own row from
 * transposed copies of k and v, so that neighbouring work-items read neighbouring numbers,
 * made it 3.5x slower here, at T = 1024, d = 64: PoCL's CPU device seems to run a group's
 * work-items one after another, and each then strode through memory Tk numbers at a time.) */

/* dv_j = sum_i P_ij dout_i, dk_j = s sum_i dS_ij q_i. Work-item (j, b), groups of BLOCK keys. */
__kernel void attention_dkdv_blocked(const int B, const int Tq, const int Tk, const int D,
                                     const int E, __global const real *dout,
                                     __global const real *q, __global const real *k,
                                     __global const real *v, __global const real *lse,
                                     __global const real *delta, const real scale,
                                     const int causal, __global real *dk, __global real *dv)
{
    const int j = get_global_id(0), b = get_global_id(1);
    const int jr = min(j, Tk - 1);                 /* a padding work-item reads row Tk-1 */
    const int first = causal ? get_group_id(0) * BLOCK : 0;   /* the block's first query */
    __global const real *kj = k + (b * Tk + jr) * D, *vj = v + (b * Tk + jr) * E;
    real acc_k[MAX_HEAD_DIM], acc_v[MAX_HEAD_DIM];
    for (int c = 0; c < D; ++c) acc_k[c] = 0;
    for (int c = 0; c < E; ++c) acc_v[c] = 0;
    for (int i = first; i < Tq; ++i) {
        const int r = b * Tq + i;
        __global const real *qi = q + r * D, *di = dout + r * E;
        real s = 0, dp = 0;
        for (int c = 0; c < D; ++c) s += qi[c] * kj[c];
        for (int c = 0; c < E; ++c) dp += di[c] * vj[c];
        const real p = (causal && j > i) ? 0 : exp(scale * s - lse[r]);
        const real ds = p * (dp - delta[r]);
        for (int c = 0; c < E; ++c) acc_v[c] += p * di[c];
        for (int c = 0; c < D; ++c) acc_k[c] += ds * qi[c];
    }
    if (j >= Tk) return;
    for (int c = 0; c < D; ++c) dk[(b * Tk + j) * D + c] = scale * acc_k[c];
    for (int c = 0; c < E; ++c) dv[(b * Tk + j) * E + c] = acc_v[c];
}

/* dq_i = s sum_j dS_ij k_j. Work-item (i, b), groups of BLOCK queries. */
__kernel void attention_dq_blocked(const int B, const int Tq, const int Tk, const int D,
                                   const int E, __global const real *dout,
                                   __global const real *q, __global const real *k,
                                   __global const real *v, __global const real *lse,
                                   __global const real *delta, const real scale,
                                   const int causal, __global real *dq)
{
    const int i = get_global_id(0), b = get_global_id(1);
    const int ir = min(i, Tq - 1), r = b * Tq + ir;
    const int last = causal ? min((int)(get_group_id(0) + 1) * BLOCK, Tq) : Tk;  /* keys seen */
    __global const real *qi = q + r * D, *di = dout + r * E;
    const real lse_i = lse[r], delta_i = delta[r];
    real acc[MAX_HEAD_DIM];
    for (int c = 0; c < D; ++c) acc[c] = 0;
    for (int j = 0; j < last; ++j) {
        __global const real *kj = k + (b * Tk + j) * D, *vj = v + (b * Tk + j) * E;
        real s = 0, dp = 0;
        for (int c = 0; c < D; ++c) s += qi[c] * kj[c];
        for (int c = 0; c < E; ++c) dp += di[c] * vj[c];
        const real p = (causal && j > i) ? 0 : exp(scale * s - lse_i);
        const real ds = p * (dp - delta_i);
        for (int c = 0; c < D; ++c) acc[c] += ds * kj[c];
    }
    if (i >= Tq) return;
    for (int c = 0; c < D; ++c) dq[r * D + c] = scale * acc[c];
}
