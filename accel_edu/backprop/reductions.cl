/* reductions.cl: sums that many work-items must agree on. Compiled with -D real=float|double. */

/* column_sum: out[j] = sum_i x[i, j] for x of shape (rows, cols), the bias gradient of a
 * Linear layer (db = dy summed over the batch).
 *
 * One work-item per column walks down it. No two work-items write the same output, so there
 * is no synchronisation at all, and at each step neighbouring work-items read neighbouring
 * elements of one row (coalesced on a GPU, vectorisable on a CPU).
 */
__kernel void column_sum(const int rows, const int cols, __global const real *x, __global real *out)
{
    const int j = get_global_id(0);
    if (j >= cols) return;
    real sum = 0;
    for (int i = 0; i < rows; i++)
        sum += x[i * cols + j];
    out[j] = sum;
}

/* mean: out[0] = sum_i x[i] / n, by one work-group of a power-of-two size.
 *
 * Every output depends on every input, so the work-items must combine their results, and
 * only work-items of one group can wait for each other (a barrier). Two phases:
 *   1. each work-item sums a strided share: x[lid], x[lid + size], ... (at each step
 *      neighbouring work-items read neighbouring elements);
 *   2. a tree in local memory: the lower half adds in the upper half, halving until one
 *      partial sum is left; log2(size) steps instead of size.
 * One group uses one compute unit. That is fine for a loss over a batch; summing a large array
 * fast would take a first pass over many groups, then this kernel over their partial sums.
 */
__kernel void mean(const int n, __global const real *x, __global real *out,
                   __local real *partial)
{
    const int lid = get_local_id(0), size = get_local_size(0);

    real sum = 0;
    for (int i = lid; i < n; i += size)
        sum += x[i];
    partial[lid] = sum;

    for (int width = size / 2; width > 0; width /= 2) {   /* (`half` is a type in OpenCL C) */
        barrier(CLK_LOCAL_MEM_FENCE);   /* the previous step's sums are written */
        if (lid < width)
            partial[lid] += partial[lid + width];
    }
    if (lid == 0)
        out[0] = partial[0] / n;
}
