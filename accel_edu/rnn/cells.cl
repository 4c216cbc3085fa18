/* cells.cl: the fused per-step gate math of the RNN, LSTM and GRU cells (PyTorch's gate order).
 *
 * Compiled with -D real=float|double and -D BOUNDS=0|1. One work-item per (row b, unit j) of the
 * (N, H) hidden state, numbered k = b * H + j; it reads its unit's G pre-activations (columns
 * j, H + j, ..., of a row of width G * H) and writes its outputs: one pass over memory per step,
 * plain register arithmetic. The host launches whole work-groups with BOUNDS=0 (no test, so
 * PoCL vectorises across work-items) and the last partial group with BOUNDS=1.
 * The equations are in numpy_kernels.py.
 */

#if BOUNDS
#define GUARD if (k >= total) return;
#else
#define GUARD
#endif

/* 1 / (1 + exp(-u)) with exp only seeing -|u|, so it cannot overflow. */
inline real sigmoid_of(const real u)
{
    const real e = exp(-fabs(u));
    return u >= 0 ? 1 / (1 + e) : e / (1 + e);
}

__kernel void rnn_cell_forward(const int total, const int offset, const int hidden,
                               __global const real *x_gates, __global const real *h_gates,
                               __global real *h)
{
    const int k = offset + get_global_id(0);
    GUARD
    h[k] = tanh(x_gates[k] + h_gates[k]);
}

__kernel void rnn_cell_backward(const int total, const int offset, const int hidden,
                                __global const real *dh, __global const real *h,
                                __global real *dgates)
{
    const int k = offset + get_global_id(0);
    GUARD
    dgates[k] = dh[k] * (1 - h[k] * h[k]);
}

__kernel void lstm_cell_forward(const int total, const int offset, const int hidden,
                                __global const real *x_gates, __global const real *h_gates,
                                __global const real *c_prev, __global real *h, __global real *c,
                                __global real *gates)
{
    const int k = offset + get_global_id(0);
    GUARD
    const int row = (k / hidden) * 4 * hidden + k % hidden;    /* gate i of this unit */
    const real i = sigmoid_of(x_gates[row] + h_gates[row]);
    const real f = sigmoid_of(x_gates[row + hidden] + h_gates[row + hidden]);
    const real g = tanh(x_gates[row + 2 * hidden] + h_gates[row + 2 * hidden]);
    const real o = sigmoid_of(x_gates[row + 3 * hidden] + h_gates[row + 3 * hidden]);
    const real cell = f * c_prev[k] + i * g;
    c[k] = cell;
    h[k] = o * tanh(cell);
    gates[row] = i;
    gates[row + hidden] = f;
    gates[row + 2 * hidden] = g;
    gates[row + 3 * hidden] = o;
}

__kernel void lstm_cell_backward(const int total, const int offset, const int hidden,
                                 __global const real *dh, __global const real *dc,
                                 __global const real *gates, __global const real *c_prev,
                                 __global const real *c, __global real *dgates,
                                 __global real *dc_prev)
{
    const int k = offset + get_global_id(0);
    GUARD
    const int row = (k / hidden) * 4 * hidden + k % hidden;
    const real i = gates[row], f = gates[row + hidden];
    const real g = gates[row + 2 * hidden], o = gates[row + 3 * hidden];
    const real tc = tanh(c[k]);
    const real dc_total = dc[k] + dh[k] * o * (1 - tc * tc);
    dgates[row] = dc_total * g * i * (1 - i);
    dgates[row + hidden] = dc_total * c_prev[k] * f * (1 - f);
    dgates[row + 2 * hidden] = dc_total * i * (1 - g * g);
    dgates[row + 3 * hidden] = dh[k] * tc * o * (1 - o);
    dc_prev[k] = dc_total * f;
}

__kernel void gru_cell_forward(const int total, const int offset, const int hidden,
                               __global const real *x_gates, __global const real *h_gates,
                               __global const real *b_hh, __global const real *h_prev,
                               __global real *h, __global real *saved)
{
    const int k = offset + get_global_id(0);
    GUARD
    const int j = k % hidden;
    const int row3 = (k / hidden) * 3 * hidden + j;          /* gate r of this unit, width 3H */
    const int row4 = (k / hidden) * 4 * hidden + j;          /* in saved, width 4H */
    const real r = sigmoid_of(x_gates[row3] + h_gates[row3] + b_hh[j]);
    const real z = sigmoid_of(x_gates[row3 + hidden] + h_gates[row3 + hidden] + b_hh[hidden + j]);
    const real hn = h_gates[row3 + 2 * hidden] + b_hh[2 * hidden + j];
    const real cand = tanh(x_gates[row3 + 2 * hidden] + r * hn);
    h[k] = (1 - z) * cand + z * h_prev[k];
    saved[row4] = r;
    saved[row4 + hidden] = z;
    saved[row4 + 2 * hidden] = cand;
    saved[row4 + 3 * hidden] = hn;
}

__kernel void gru_cell_backward(const int total, const int offset, const int hidden,
                                __global const real *dh, __global const real *saved,
                                __global const real *h_prev, __global real *dx_gates,
                                __global real *dh_gates, __global real *dh_direct)
{
    const int k = offset + get_global_id(0);
    GUARD
    const int j = k % hidden;
    const int row3 = (k / hidden) * 3 * hidden + j;
    const int row4 = (k / hidden) * 4 * hidden + j;
    const real r = saved[row4], z = saved[row4 + hidden];
    const real cand = saved[row4 + 2 * hidden], hn = saved[row4 + 3 * hidden];
    const real g = dh[k];
    const real da_n = g * (1 - z) * (1 - cand * cand);
    const real da_z = g * (h_prev[k] - cand) * z * (1 - z);
    const real da_r = da_n * hn * r * (1 - r);
    dx_gates[row3] = da_r;
    dx_gates[row3 + hidden] = da_z;
    dx_gates[row3 + 2 * hidden] = da_n;
    dh_gates[row3] = da_r;
    dh_gates[row3 + hidden] = da_z;
    dh_gates[row3 + 2 * hidden] = da_n * r;
    dh_direct[k] = g * z;
}

/* a + b: a state that feeds two paths gets the sum of their gradients. */
__kernel void gradient_sum(const int total, const int offset, const int hidden,
                           __global const real *a, __global const real *b, __global real *out)
{
    const int k = offset + get_global_id(0);
    GUARD
    out[k] = a[k] + b[k];
}
