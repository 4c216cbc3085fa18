/* Sum of squares over many tensors, in two launches and no local memory (PoCL is slow with
 * barriers): first each of PARTIALS work-items sums a strided slice of one tensor into its own
 * slot of a partials buffer (work-item k adds x[k], x[k + PARTIALS], ...: neighbouring
 * work-items read neighbouring numbers, so the loads vectorise across the work-group); then
 * one work-item adds all the slots. -D PARTIALS=... is fixed per build. */

__kernel void sum_squares_partial(const int n, __global const real *x,
                                  __global real *partials, const int slot0)
{
    const int k = get_global_id(0);
    real s = 0;
    for (int i = k; i < n; i += PARTIALS) s += x[i] * x[i];
    partials[slot0 + k] = s;
}

__kernel void sum_partials(const int count, __global const real *partials, __global real *out)
{
    real s = 0;
    for (int i = 0; i < count; i++) s += partials[i];
    out[0] = s;
}
