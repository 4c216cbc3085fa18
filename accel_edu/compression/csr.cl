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


/* Step 2 of csr_spmm, a register tile: one work-item computes 16 columns j0..j0+15 of row i.
 *
 * Changed from csr_spmm: each stored value of A, with its column index, is loaded once for 16
 * multiply-adds (not once per column), the 16 running sums stay in registers, and the compiler
 * vectorises them inside the work-item. Launched over whole tiles of 16 columns (the last
 * N % 16 go to csr_spmm); rows are padded to whole work-groups, hence the row test.
 */
#define TN 16

__kernel void csr_spmm_tiled(const int M, const int N, __global const int *indptr,
                             __global const int *indices, __global const real *data,
                             __global const real *b, __global real *c)
{
    const int j0 = get_global_id(0) * TN;
    const int i = get_global_id(1);
    if (i >= M) return;
    real acc[TN];
    #pragma unroll
    for (int q = 0; q < TN; q++)
        acc[q] = 0;
    for (int p = indptr[i]; p < indptr[i + 1]; p++) {
        const real v = data[p];
        __global const real *b_row = b + indices[p] * N + j0;
        #pragma unroll
        for (int q = 0; q < TN; q++)
            acc[q] += v * b_row[q];
    }
    #pragma unroll
    for (int q = 0; q < TN; q++)
        c[i * N + j0 + q] = acc[q];
}
