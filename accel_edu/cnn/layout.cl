/* layout.cl: moving between NCHW images and the GEMM's matrices, the bias, and its gradient.
 *
 * Compiled with -D real=float|double. An image (N, C, H, W) is viewed as (N, C, P) with
 * P = H*W pixels; the GEMM of the im2col convolution wants the batch inside the columns,
 * (C, N*P), so that the whole batch is one product. These kernels only move data: memory
 * speed, not arithmetic, sets their pace. Each work-item moves one whole plane of P values
 * (one per element measured several times slower on PoCL, as in im2col.cl), so the global
 * size is N*C rounded up, and no two work-items ever write the same place.
 *
 * `bias` may be NULL (the host passes None for a layer without bias); it then adds nothing.
 */

/* batch_to_channels: a (N, C, P) -> out (C, N, P). */
__kernel void batch_to_channels(const int N, const int C, const int P,
                                __global const real *a, __global real *out)
{
    const int plane = get_global_id(0);     /* plane = n*C + c */
    if (plane >= N * C) return;
    const int n = plane / C, c = plane % C;
    __global const real *src = a + plane * P;
    __global real *dst = out + (c * N + n) * P;
    for (int p = 0; p < P; p++)
        dst[p] = src[p];
}

/* channels_to_batch: a (C, N, P) -> out (N, C, P), plus bias[c]: the GEMM's (C_out, N*OH*OW)
 * output back to NCHW, with the "+ b" done in the same pass. */
__kernel void channels_to_batch(const int N, const int C, const int P,
                                __global const real *a, __global const real *bias,
                                __global real *out)
{
    const int plane = get_global_id(0);
    if (plane >= N * C) return;
    const int n = plane / C, c = plane % C;
    const real b = bias ? bias[c] : 0;
    __global const real *src = a + (c * N + n) * P;
    __global real *dst = out + plane * P;
    for (int p = 0; p < P; p++)
        dst[p] = src[p] + b;
}

/* add_channel_bias: y (N, C, P) += bias[c], in place. */
__kernel void add_channel_bias(const int N, const int C, const int P,
                               __global real *y, __global const real *bias)
{
    const int plane = get_global_id(0);
    if (plane >= N * C) return;
    const real b = bias[plane % C];
    __global real *dst = y + plane * P;
    for (int p = 0; p < P; p++)
        dst[p] += b;
}

/* channel_sum: db[c] = sum over n and p of dy (N, C, P), the bias gradient.
 *
 * One work-item per channel. Each image's plane is summed on its own before it joins the
 * total: partial sums of similar size lose fewer digits in float32 than one running sum over
 * N*P terms. Global size C rounded up. */
__kernel void channel_sum(const int N, const int C, const int P,
                          __global const real *dy, __global real *db)
{
    const int c = get_global_id(0);
    if (c >= C) return;
    real total = 0;
    for (int n = 0; n < N; n++) {
        __global const real *plane = dy + (n * C + c) * P;
        real sum = 0;
        for (int p = 0; p < P; p++)
            sum += plane[p];
        total += sum;
    }
    db[c] = total;
}
