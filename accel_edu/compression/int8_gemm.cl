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


/* Step 2, a register tile: one work-item computes TM rows x TN = 16 columns of the output.
 *
 * Changed from step 1: each b[k, j0..j0+15] loaded is used TM times and each a[i, k] 16 times,
 * from registers (TM x 16 int32 sums: eight AVX-512 registers at TM = 8); the compiler
 * vectorises the 16 columns inside the work-item, so it no longer relies on PoCL packing
 * neighbouring work-items into SIMD lanes. Launched only over whole tiles of 16 columns
 * (the last N % 16 columns go to step 1), so nothing here is bounds-checked.
 */
#define TN 16

__kernel void int8_gemm_tiled(const int M, const int N, const int K, const int row0,
                              const int a_zero_point, __global const char *a, __global const char *b,
                              __global const int *bias, __global const float *multiplier,
                              const int out_zero_point,
#if REQUANTIZE
                              __global char *out)
#else
                              __global int *out)
#endif
{
    const int j0 = get_global_id(0) * TN;
    const int i0 = row0 + get_global_id(1) * TM;

    int acc[TM][TN];
    #pragma unroll
    for (int q = 0; q < TN; q++) {
#if HAS_BIAS
        const int start = bias[j0 + q];
#else
        const int start = 0;
#endif
        #pragma unroll
        for (int r = 0; r < TM; r++)
            acc[r][q] = start;
    }
    for (int k = 0; k < K; k++) {
        int b_k[TN];                                   /* b[k, j0 .. j0+15], widened once */
        #pragma unroll
        for (int q = 0; q < TN; q++)
            b_k[q] = b[k * N + j0 + q];
        #pragma unroll
        for (int r = 0; r < TM; r++) {
            const int a_rk = (int)a[(i0 + r) * K + k] - a_zero_point;
            #pragma unroll
            for (int q = 0; q < TN; q++)
                acc[r][q] += a_rk * b_k[q];
        }
    }

    #pragma unroll
    for (int r = 0; r < TM; r++) {
        #pragma unroll
        for (int q = 0; q < TN; q++) {
            const int j = j0 + q;
#if REQUANTIZE
#if PER_CHANNEL
            const float mu = multiplier[j];
#else
            const float mu = multiplier[0];
#endif
            const float v = rint((float)acc[r][q] * mu) + (float)out_zero_point;
            out[(i0 + r) * N + j] = (char)fmin(fmax(v, -128.0f), 127.0f);
#else
            out[(i0 + r) * N + j] = acc[r][q];
#endif
        }
    }
}


/* Step 3, int8 products in float32 lanes: the tile of step 2, summed in float32 in blocks of
 * KB = 512 steps of k, each block's sums then added into the int32 tile.
 *
 * Why it is exact: an int8 product (a - a_zero_point) * b is an integer of magnitude at most
 * 255 * 128 = 32,640, and a sum of 512 of them at most 16,711,680 < 2^24, below which float32
 * holds every integer exactly. So every float multiply and add here is exact (the pragma at
 * the top keeps them apart), and the int32 result is bit for bit step 2's.
 * Why it is faster (measured 1.4-5x step 2 on the loaded machine; the reason is our reading):
 * the float units are this CPU's widest path, while a 32-bit integer vector multiply
 * (vpmulld) is one of its slower instructions. Global size: tiles rounded up to the work-group,
 * so a work-item past the last whole tile returns.
 */
#define KB 512

__kernel void int8_gemm_float_lanes(const int M, const int N, const int K, const int row0,
                                    const int tiles, const int a_zero_point,
                                    __global const char *a, __global const char *b,
                                    __global const int *bias, __global const float *multiplier,
                                    const int out_zero_point,
#if REQUANTIZE
                                    __global char *out)
#else
                                    __global int *out)
#endif
{
    if (get_global_id(0) >= tiles) return;
    const int j0 = get_global_id(0) * TN;
    const int i0 = row0 + get_global_id(1) * TM;

    int acc[TM][TN];
    #pragma unroll
    for (int q = 0; q < TN; q++) {
#if HAS_BIAS
        const int start = bias[j0 + q];
#else
        const int start = 0;
#endif
        #pragma unroll
        for (int r = 0; r < TM; r++)
            acc[r][q] = start;
    }
    for (int k0 = 0; k0 < K; k0 += KB) {
        float block[TM][TN];                           /* exact integers below 2^24 */
        #pragma unroll
        for (int r = 0; r < TM; r++)
            #pragma unroll
            for (int q = 0; q < TN; q++)
                block[r][q] = 0.0f;
        const int k1 = min(K, k0 + KB);
        for (int k = k0; k < k1; k++) {
            float b_k[TN];
            #pragma unroll
            for (int q = 0; q < TN; q++)
                b_k[q] = (float)b[k * N + j0 + q];
            #pragma unroll
            for (int r = 0; r < TM; r++) {
                const float a_rk = (float)((int)a[(i0 + r) * K + k] - a_zero_point);
                #pragma unroll
                for (int q = 0; q < TN; q++)
                    block[r][q] += a_rk * b_k[q];
            }
        }
        #pragma unroll
        for (int r = 0; r < TM; r++)
            #pragma unroll
            for (int q = 0; q < TN; q++)
                acc[r][q] += (int)block[r][q];
    }

    #pragma unroll
    for (int r = 0; r < TM; r++) {
        #pragma unroll
        for (int q = 0; q < TN; q++) {
            const int j = j0 + q;
#if REQUANTIZE
#if PER_CHANNEL
            const float mu = multiplier[j];
#else
            const float mu = multiplier[0];
#endif
            const float v = rint((float)acc[r][q] * mu) + (float)out_zero_point;
            out[(i0 + r) * N + j] = (char)fmin(fmax(v, -128.0f), 127.0f);
#else
            out[(i0 + r) * N + j] = acc[r][q];
#endif
        }
    }
}
