/* penalties.cl: L1 and L2 weight penalties and their gradients. Compiled with -D real=float|double. */

/* grad += lam * w, in place: the gradient of (lam / 2) sum w^2. One work-item per weight. */
__kernel void l2_penalty_grad(const int n, const real lam, __global real *grad,
                              __global const real *w)
{
    const int i = get_global_id(0);
    if (i < n) grad[i] += lam * w[i];
}

/* grad += lam * sign(w), in place, with sign(0) = 0 (OpenCL's sign() agrees). */
__kernel void l1_penalty_grad(const int n, const real lam, __global real *grad,
                              __global const real *w)
{
    const int i = get_global_id(0);
    if (i < n) grad[i] += lam * sign(w[i]);
}

/* out[0] = scale * sum w^2 (l1 = 0) or scale * sum |w| (l1 = 1), by one work-item walking every weight.
 * A penalty's value is wanted once an epoch, for the record, so a serial sum is enough here;
 * it saves the barrier tree of a parallel reduction (see backprop's reductions.cl). */
__kernel void weight_penalty(const int n, const int l1, const real scale, __global const real *w,
                             __global real *out)
{
    if (get_global_id(0) != 0) return;
    real total = 0;
    for (int i = 0; i < n; i++)
        total += l1 ? fabs(w[i]) : w[i] * w[i];
    out[0] = scale * total;
}
