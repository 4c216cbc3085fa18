/* One elementwise kernel written two ways, to show what PoCL on a CPU rewards.
 *
 *   out[i] = p[i] - lr * g[i] / (sqrt(v[i]) + eps)        (the heart of an Adam step)
 *
 * `real` is float or double (-D real=...). PoCL runs a work-group on one CPU core as a loop
 * over its work-items, vectorised across SIMD lanes. An early `return` for the work-items
 * past the end makes that loop's body conditional: PoCL 3.1 on this CPU still vectorises it,
 * but with every load and store masked by a per-chunk range test (vpcmpgtd into a mask
 * register, in the code in PoCL's kernel cache), and the guarded kernel measured 1.1-3.4x
 * slower at 1M elements. */

/* The usual way: one launch rounded up to whole work-groups, each work-item tests its index. */
__kernel void scaled_step_guarded(const int n, const int offset, const real lr, const real eps,
                                  __global const real *p, __global const real *g,
                                  __global const real *v, __global real *out)
{
    const int i = offset + get_global_id(0);
    if (i >= n) return;
    out[i] = p[i] - lr * g[i] / (sqrt(v[i]) + eps);
}

/* The cure: the host launches only whole work-groups that are all in range, so no test is
 * needed; the last partial group runs as a second, small launch of the guarded kernel. */
__kernel void scaled_step_unguarded(const int n, const int offset, const real lr, const real eps,
                                    __global const real *p, __global const real *g,
                                    __global const real *v, __global real *out)
{
    const int i = offset + get_global_id(0);
    out[i] = p[i] - lr * g[i] / (sqrt(v[i]) + eps);
}
