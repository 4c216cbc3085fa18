/* embedding.cl: the embedding's gather (forward) and scatter-add (backward).
 *
 * Compiled with -D real=float|double and -D INDEX=<the indices' C integer type>.
 */

/* y[p, d] = weight[indices[p], d]: one work-item per output number (p * D + d). */
__kernel void embedding_forward(const int total, const int dim, __global const real *weight,
                                __global const INDEX *indices, __global real *y)
{
    const int k = get_global_id(0);
    if (k >= total) return;
    y[k] = weight[(long)indices[k / dim] * dim + k % dim];
}

/* dweight[v, d] = sum over positions p with indices[p] == v of dy[p, d].
 *
 * One work-item owns column d of dweight: it zeroes the column, then walks every position in
 * order, adding dy[p, d] to row indices[p]. A repeated index simply adds twice, and since no
 * two work-items ever write the same number there is no race (and no atomics, which OpenCL
 * lacks for floats): the price is parallelism D, not P * D. */
__kernel void embedding_backward(const int positions, const int dim, const int num_embeddings,
                                 __global const real *dy, __global const INDEX *indices,
                                 __global real *dweight)
{
    const int d = get_global_id(0);
    if (d >= dim) return;
    for (int v = 0; v < num_embeddings; v++)
        dweight[v * dim + d] = 0;
    for (int p = 0; p < positions; p++)
        dweight[(long)indices[p] * dim + d] += dy[p * dim + d];
}
