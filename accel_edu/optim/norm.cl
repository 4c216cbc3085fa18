/* Sum of squares over many tensors, as a tree of loop-free passes.
 *
 * PoCL runs a work-group by vectorising across its work-items; a loop inside a work-item, or a
 * barrier, stops that (a strided loop here ran at 0.6 GB/s on 16M floats). So no work-item
 * loops and no local memory: each pass has every work-item add 8 numbers that lie `m` apart
 * (neighbouring work-items read neighbouring numbers) and write one, shrinking the data 8-fold.
 *
 *   squares_pass  (SQUARE=1): out[out0 + k] = sum_j x[k + j*m]^2    over the bulk of a tensor
 *   squares_tail:             out[out0 + k] = x[start + k]^2, or 0 past the end
 *   squares_pass  (SQUARE=0): the same 8-fold sum of partials, until few enough remain
 *   sum_partials:             one work-item adds the last few hundred.
 */
#if SQUARE
#define TERM(v) ((v) * (v))
#else
#define TERM(v) (v)
#endif

__kernel void squares_pass(const int m, __global const real *x, __global real *out, const int out0)
{
    const int k = get_global_id(0);
    const real a = x[k], b = x[k + m], c = x[k + 2 * m], d = x[k + 3 * m];
    const real e = x[k + 4 * m], f = x[k + 5 * m], g = x[k + 6 * m], h = x[k + 7 * m];
    out[out0 + k] = ((TERM(a) + TERM(b)) + (TERM(c) + TERM(d))) + ((TERM(e) + TERM(f)) + (TERM(g) + TERM(h)));
}

__kernel void squares_tail(const int n, const int start, __global const real *x,
                           __global real *out, const int out0)
{
    const int i = start + get_global_id(0);
    out[out0 + get_global_id(0)] = i < n ? x[i] * x[i] : 0;
}

__kernel void sum_partials(const int count, __global const real *partials, __global real *out)
{
    real s = 0;
    for (int i = 0; i < count; i++) s += partials[i];
    out[0] = s;
}
