/* elementwise.cl: activations and their gradients, the bias add, and the SGD step.
 *
 * Compiled with -D real=float|double. One work-item per element; the global size is rounded
 * up to a whole number of work-groups, so every kernel first checks that its element exists.
 * These kernels do a few operations per element loaded, so memory speed, not arithmetic,
 * sets their pace.
 */

__kernel void relu_forward(const int n, __global const real *x, __global real *y)
{
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] > 0 ? x[i] : 0;
}

/* dx = dy where x > 0, else 0 (the subgradient at 0 is taken as 0). */
__kernel void relu_backward(const int n, __global const real *dy, __global const real *x,
                            __global real *dx)
{
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] > 0 ? dy[i] : 0;
}

/* 1 / (1 + exp(-x)) never overflows if exp only sees -|x|:
 * for x >= 0 it is 1 / (1 + e), for x < 0 it is e / (1 + e), with e = exp(-|x|) <= 1. */
__kernel void sigmoid_forward(const int n, __global const real *x, __global real *y)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const real e = exp(-fabs(x[i]));
    y[i] = x[i] >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/* d sigmoid / dx = y (1 - y), from the forward output y. */
__kernel void sigmoid_backward(const int n, __global const real *dy, __global const real *y,
                               __global real *dx)
{
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i] * y[i] * (1 - y[i]);
}

__kernel void tanh_forward(const int n, __global const real *x, __global real *y)
{
    const int i = get_global_id(0);
    if (i < n) y[i] = tanh(x[i]);
}

/* d tanh / dx = 1 - y^2, from the forward output y. */
__kernel void tanh_backward(const int n, __global const real *dy, __global const real *y,
                            __global real *dx)
{
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i] * (1 - y[i] * y[i]);
}

/* y[i, j] += bias[j] for y of shape (rows, cols): the "+ b" of a Linear layer, done in place
 * on the GEMM's output. Dimension 0 runs along a row, so neighbouring work-items touch
 * neighbouring memory. */
__kernel void add_bias(const int rows, const int cols,
                       __global real *y, __global const real *bias)
{
    const int j = get_global_id(0), i = get_global_id(1);
    if (i < rows && j < cols) y[i * cols + j] += bias[j];
}

/* param -= lr * grad, in place. */
__kernel void sgd_update(const int n, const real lr,
                         __global real *param, __global const real *grad)
{
    const int i = get_global_id(0);
    if (i < n) param[i] -= lr * grad[i];
}
