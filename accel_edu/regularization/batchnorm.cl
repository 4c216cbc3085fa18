/* batchnorm.cl: batch normalization, forward and backward. Compiled with -D real=float|double.
 *
 * x is read as (N, C, S): S = 1 for (N, F) features, S = H * W for (N, C, H, W) images, so
 * element (n, c, s) sits at (n * C + c) * S + s. Two kinds of kernel:
 *   - per channel (one work-item walks all N * S values of its channel): the statistics and
 *     the two sums of the backward pass. No two work-items write the same output, so there is
 *     no barrier and no local memory, which PoCL's CPU device runs slowly;
 *   - per element: normalise, and the input gradient.
 * The variance takes two passes (mean first, then squares of x - mean): one pass of
 * sum x^2 - (sum x)^2 / m would cancel catastrophically for activations of size 1e6.
 */

__kernel void channel_stats(const int n, const int c, const int s, __global const real *x,
                            __global real *mean, __global real *var)
{
    const int ch = get_global_id(0);
    if (ch >= c) return;
    const int count = n * s;
    real total = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s; j++)
            total += x[(i * c + ch) * s + j];
    const real mu = total / count;
    real squares = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s; j++) {
            const real d = x[(i * c + ch) * s + j] - mu;
            squares += d * d;
        }
    mean[ch] = mu;
    var[ch] = squares / count;
}

/* y = gamma * (x - mean) / sqrt(var + eps) + beta, with batch or running statistics. */
__kernel void batchnorm_normalize(const int total, const int c, const int s, const real eps,
                        __global const real *x, __global const real *mean,
                        __global const real *var, __global const real *gamma,
                        __global const real *beta, __global real *y)
{
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ch = (i / s) % c;
    const real inv_std = 1 / sqrt(var[ch] + eps);
    y[i] = gamma[ch] * ((x[i] - mean[ch]) * inv_std) + beta[ch];
}

/* dbeta = sum dy,  dgamma = sum dy * x_hat, per channel. */
__kernel void backward_sums(const int n, const int c, const int s, const real eps,
                            __global const real *dy, __global const real *x,
                            __global const real *mean, __global const real *var,
                            __global real *dgamma, __global real *dbeta)
{
    const int ch = get_global_id(0);
    if (ch >= c) return;
    const real inv_std = 1 / sqrt(var[ch] + eps), mu = mean[ch];
    real sum_dy = 0, sum_dy_xhat = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s; j++) {
            const int k = (i * c + ch) * s + j;
            sum_dy += dy[k];
            sum_dy_xhat += dy[k] * ((x[k] - mu) * inv_std);
        }
    dbeta[ch] = sum_dy;
    dgamma[ch] = sum_dy_xhat;
}

/* dx = gamma / (m sqrt(var + eps)) * (m dy - dbeta - x_hat dgamma),  m = N * S. */
__kernel void backward_dx(const int total, const int c, const int s, const int m, const real eps,
                          __global const real *dy, __global const real *x,
                          __global const real *mean, __global const real *var,
                          __global const real *gamma, __global const real *dgamma,
                          __global const real *dbeta, __global real *dx)
{
    const int i = get_global_id(0);
    if (i >= total) return;
    const int ch = (i / s) % c;
    const real inv_std = 1 / sqrt(var[ch] + eps);
    const real x_hat = (x[i] - mean[ch]) * inv_std;
    dx[i] = gamma[ch] * inv_std / m * (m * dy[i] - dbeta[ch] - x_hat * dgamma[ch]);
}

/* PyTorch's convention: the running variance is the unbiased one, var * count / (count - 1). */
__kernel void running_update(const int c, const real keep, const real take, const real unbias,
                             __global real *running_mean, __global real *running_var,
                             __global const real *mean, __global const real *var)
{
    const int ch = get_global_id(0);
    if (ch >= c) return;
    running_mean[ch] = keep * running_mean[ch] + take * mean[ch];
    running_var[ch] = keep * running_var[ch] + take * (var[ch] * unbias);
}
