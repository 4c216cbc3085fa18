/* csr.cl: a sparse matrix in CSR form times a dense vector or matrix.
 *
 * Row i of A stores data[indptr[i] .. indptr[i+1]-1] in columns indices[same]. Compiled with
 *   -D real=float|double
 *   -D BOUNDS=0|1   csr_spmm only: 1 for the last, partial group of columns
 */
#pragma OPENCL FP_CONTRACT OFF

/* y = A x: one work-item per row. Rows differ in length, so lanes wait for the longest row of
 * their group, and x is gathered: this kernel is bound by memory latency, not arithmetic. */
__kernel void csr_spmv(const int M, __global const int *indptr, __global const int *indices,
                       __global const real *data, __global const real *x, __global real *y)
{
    const int i = get_global_id(0);
    if (i >= M) return;
    real s = 0;
    for (int p = indptr[i]; p < indptr[i + 1]; p++)
        s += data[p] * x[indices[p]];
    y[i] = s;
}

/* C = A B: one work-item per (row i, column j); neighbouring work-items are neighbouring
 * columns, so each stored value of A meets a contiguous run of a row of B, one SIMD load. */
__kernel void csr_spmm(const int N, const int col0, __global const int *indptr,
                       __global const int *indices, __global const real *data,
                       __global const real *b, __global real *c)
{
    const int j = col0 + get_global_id(0);
#if BOUNDS
    if (j >= N) return;
#endif
    const int i = get_global_id(1);
    real s = 0;
    for (int p = indptr[i]; p < indptr[i + 1]; p++)
        s += data[p] * b[indices[p] * N + j];
    c[i * N + j] = s;
}
