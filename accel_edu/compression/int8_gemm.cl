/* int8_gemm.cl: int8 A (M, K) x int8 B (K, N), summed in int32, optionally requantized to int8.
 *
 *   acc[i, j] = bias[j] + sum_k (a[i, k] - a_zero_point) * b[k, j]                (int32)
 *   out[i, j] = clamp(rint((float)acc[i, j] * multiplier[j]) + out_zero_point, -128, 127)
 *
 * the arithmetic of numpy_kernels.int8_gemm, step for step. One work-item computes TM rows of
 * one column j; the work-items of a group are neighbouring columns, so PoCL runs them in the
 * lanes of one SIMD register: b[k, j..j+lanes] is one contiguous load and a[i, k] the same
 * number in every lane (a broadcast). Compiled with
 *   -D TM=8|1              rows per work-item (the host sends the last M % 8 rows with TM=1)
 *   -D BOUNDS=0|1          1 only for the last, partial group of columns (see quantize.cl)
 *   -D REQUANTIZE=0|1      store int8 through the multiplier, or the int32 sums
 *   -D PER_CHANNEL=0|1     one multiplier per column j, or one for all
 *   -D HAS_BIAS=0|1        bias (int32, N) added to the sums, or none (bias may be NULL)
 *   -D real=float          unused: the launcher's type for float arguments
 * multiplier is NULL when REQUANTIZE=0.
 */
#pragma OPENCL FP_CONTRACT OFF

__kernel void int8_gemm(const int M, const int N, const int K, const int row0, const int col0,
                        const int a_zero_point, __global const char *a, __global const char *b,
                        __global const int *bias, __global const float *multiplier,
                        const int out_zero_point,
#if REQUANTIZE
                        __global char *out)
#else
                        __global int *out)
#endif
{
    const int j = col0 + get_global_id(0);
#if BOUNDS
    if (j >= N) return;
#endif
    const int i0 = row0 + get_global_id(1) * TM;

    int acc[TM];                         /* TM running sums, in registers */
    #pragma unroll
    for (int r = 0; r < TM; r++)
#if HAS_BIAS
        acc[r] = bias[j];
#else
        acc[r] = 0;
#endif
    for (int k = 0; k < K; k++) {
        const int b_kj = b[k * N + j];
        #pragma unroll
        for (int r = 0; r < TM; r++)
            acc[r] += ((int)a[(i0 + r) * K + k] - a_zero_point) * b_kj;
    }

    #pragma unroll
    for (int r = 0; r < TM; r++) {
#if REQUANTIZE
#if PER_CHANNEL
        const float mu = multiplier[j];
#else
        const float mu = multiplier[0];
#endif
        const float v = rint((float)acc[r] * mu) + (float)out_zero_point;
        out[(i0 + r) * N + j] = (char)fmin(fmax(v, -128.0f), 127.0f);
#else
        out[(i0 + r) * N + j] = acc[r];
#endif
    }
}
