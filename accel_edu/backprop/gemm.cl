/* gemm.cl: C = op(A) @ op(B), four steps up the optimisation ladder (the fourth, `vector`, is
 * the third's kernel compiled with wider vectors and a taller tile: -D VW=16 -D TILE_M=8).
 *
 * Shapes: op(A) is (M, K), op(B) is (K, N), C is (M, N). Every buffer is row-major (C order).
 * The host compiles this one file per dtype and transpose combination, with
 *   -D real=float|double   the scalar type
 *   -D TRANS_A             when A is stored as (K, M), so that op(A) = A.T
 *   -D TRANS_B             when B is stored as (N, K), so that op(B) = B.T
 *   -D VW=8|4              lanes in one 256-bit AVX2 register: 8 floats or 4 doubles (or the
 *                          device's native width, 16|8 with AVX-512, in the vector step)
 *   -D TILE_M=6|8          rows of C per work-item in the register tile (6 unless set)
 * The transposes live only in the two index macros below, so every kernel handles all four
 * combinations without a branch at run time.
 *
 * Timings quoted are float32, M = N = K = 1024, on PoCL's CPU device (2 AMD Zen 3 cores, AVX2
 * with FMA), measured back to back with NumPy/OpenBLAS in one process; NumPy's best run was
 * 130-157 GFLOP/s. The machine was shared, so single timings swung by 2x: compare ratios.
 */

#ifdef TRANS_A
#define A_AT(i, k) a[(k) * M + (i)]     /* op(A)[i, k] when A is stored (K, M) */
#else
#define A_AT(i, k) a[(i) * K + (k)]     /* op(A)[i, k] when A is stored (M, K) */
#endif

#ifdef TRANS_B
#define B_AT(k, j) b[(j) * K + (k)]     /* op(B)[k, j] when B is stored (N, K) */
#else
#define B_AT(k, j) b[(k) * N + (j)]     /* op(B)[k, j] when B is stored (K, N) */
#endif

/* realv is a vector of VW reals: float8 or double4, one AVX2 register either way.
 * Two levels of macro, so that `real` and `VW` are expanded before ## pastes them. */
#define PASTE(x, y) x##y
#define VECTOR(x, y) PASTE(x, y)
#define realv VECTOR(real, VW)
#define vstorev VECTOR(vstore, VW)


/* Step 1: naive. One work-item per element of C, the loop over k straight from the formula.
 *
 * Global size (N, M) rounded up to the 16 x 16 work-group, so work-items past the edge return.
 * Measured 0.4-0.8 GFLOP/s. Every multiply-add waits for the one before it (a single running
 * sum), and B is read down a column: each step of k lands on a new cache line, and at
 * N = 1024 on a new 4 KiB page.
 */
__kernel void gemm_naive(const int M, const int N, const int K,
                         __global const real *a, __global const real *b, __global real *c)
{
    const int j = get_global_id(0);     /* column of C: neighbours in dim 0 share a row */
    const int i = get_global_id(1);     /* row of C */
    if (i >= M || j >= N) return;

    real sum = 0;
    for (int k = 0; k < K; k++)
        sum += A_AT(i, k) * B_AT(k, j);
    c[i * N + j] = sum;
}


/* Step 2: local-memory tiles, the textbook GPU kernel. Work-group 16 x 16, same grid as step 1.
 *
 * Changed: the work-group walks along k one 16 x 16 tile at a time. Each work-item copies one
 * element of A's tile and one of B's into __local memory, the group waits at a barrier, and then
 * each work-item does 16 multiply-adds from the tiles. Every global element is now read by one
 * work-item instead of sixteen. Edge tiles are padded with zeros, which add nothing to the sum.
 *
 * Why: on a GPU, __local memory is on-chip and the 16x cut in global reads is the whole game.
 * On PoCL's CPU device it measured 1.3-3.6 GFLOP/s: better than step 1, yet some 40x short of
 * step 3. A CPU has no on-chip scratchpad for __local to map to (its caches already hold the
 * tiles), and the compiled code shows what the barriers cost. PoCL runs a work-group on one
 * core as loops over its 256 work-items, cut at every barrier. Whatever a work-item needs on
 * both sides of a barrier (sum, i, j, k0) must survive while the other 255 run, so it lives
 * in per-work-item arrays in memory, not in registers, and the tile reads, indexed through
 * those arrays, become element-by-element gathers: about ten instructions per multiply-add.
 */
#define TILE 16

__kernel void gemm_local_tiled(const int M, const int N, const int K,
                               __global const real *a, __global const real *b, __global real *c)
{
    __local real a_tile[TILE][TILE];    /* op(A)[i0 .. i0+15, k0 .. k0+15] */
    __local real b_tile[TILE][TILE];    /* op(B)[k0 .. k0+15, j0 .. j0+15] */
    const int tj = get_local_id(0), ti = get_local_id(1);
    const int j = get_global_id(0), i = get_global_id(1);

    real sum = 0;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        /* Every work-item loads, even one outside C: the tiles must be complete. */
        a_tile[ti][tj] = (i < M && k0 + tj < K) ? A_AT(i, k0 + tj) : 0;
        b_tile[ti][tj] = (k0 + ti < K && j < N) ? B_AT(k0 + ti, j) : 0;
        barrier(CLK_LOCAL_MEM_FENCE);   /* the tiles are full */
        for (int kk = 0; kk < TILE; kk++)
            sum += a_tile[ti][kk] * b_tile[kk][tj];
        barrier(CLK_LOCAL_MEM_FENCE);   /* everyone is done with them before they are refilled */
    }
    if (i < M && j < N)
        c[i * N + j] = sum;
}


/* Step 3: register tiles. Each work-item computes a TILE_M x TILE_N block of C (6 x 16 floats,
 * or 6 x 8 doubles), with no local memory and no barrier.
 *
 * Changed: the tile moved from local memory into registers. At each k the work-item loads two
 * vectors of op(B)'s row k and six scalars of op(A)'s column k, and does 12 vector
 * multiply-adds (96 scalar ones, for floats) into 12 accumulator vectors: 12 of the 16 AVX2
 * registers, leaving room for the two B vectors and one A value. That is the shape of the
 * 6 x 16 micro-kernel BLIS uses on this CPU. Each value loaded now feeds 6 or 16 multiply-adds
 * instead of one. (4 x 16 measured slower; 8 x 16 needs more registers than AVX2 has.)
 *
 * Both operands arrive packed into panels (pack_a and pack_b, below), so the loop reads each
 * in order, 24 + 64 contiguous bytes per step of k. Reading B in place instead, a row apart
 * per step, ran at about 0.7x: at N = 1024 a row is 4 KiB, so every step of k touched a new
 * page, and all those addresses fell into the same few cache sets. Reading a transposed A in
 * place (six values from a new cache line at every k) ran at about 0.6x. The panels also took the
 * transposes and the ragged edges out of this kernel: rows past M and columns past N are
 * zeros, computed and then not stored.
 *
 * Measured: best runs 105-130 GFLOP/s, about 0.8x NumPy's best; median times 0.6-1.2x
 * NumPy's, measured back to back, as the load on the shared machine came and went (float64:
 * about 0.75x NumPy). Two details matter on PoCL: plain `*` and `+` (it calls built-ins
 * such as mad() and vload8() as functions, and the same kernel fell to ~10 GFLOP/s with them),
 * and a work-group of 16 work-items stacked down the rows. PoCL runs a group's work-items one
 * after another on one core, so they reuse one panel of B (K x 16 floats, 64 KiB at K = 1024)
 * from that core's cache.
 *
 * Step 4, `vector` (opencl_kernels.gemm_vector): this kernel again, with VW = the device's
 * native vector width and TILE_M = 8. On PoCL with AVX-512 a float8 fills half a register,
 * so step 3 ran twelve half-empty accumulators; float16 x 2 x 8 rows is 16 full ones (of 32)
 * and each B value loaded feeds 8 multiply-adds. Measured 1.2-1.8x step 3 side by side
 * (n = 1024, 2-core Zen 5 shared with other jobs, PoCL 3.1 targeting skylake-avx512), up to
 * 120 GFLOP/s. In this kernel, mad() and fma() in place of `*` and `+` measured 0.5-1.5x
 * of it, as noisy as the machine, not the tenfold loss above (vload8() was not retried).
 */
#ifndef TILE_M
#define TILE_M 6        /* rows of the tile; the host may set another (-D TILE_M) */
#endif
#define TILE_N (2 * VW)

__kernel void gemm_register_tiled(const int M, const int N, const int K,
                                  __global const real *a_packed, __global const real *b_packed,
                                  __global real *c)
{
    const int col = get_global_id(0) * TILE_N;     /* first column of this work-item's tile */
    const int row = get_global_id(1) * TILE_M;     /* first row */
    if (row >= M || col >= N) return;

    realv acc[TILE_M][2];                          /* the tile of C, in registers */
    #pragma unroll
    for (int r = 0; r < TILE_M; r++) {
        acc[r][0] = 0;
        acc[r][1] = 0;
    }

    __global const real *a_panel = a_packed + row * K;                     /* (K, TILE_M) */
    __global const realv *b_panel = (__global const realv *)(b_packed + col * K);  /* (K, TILE_N) */
    for (int k = 0; k < K; k++) {
        const realv b0 = b_panel[2 * k];           /* op(B)[k, col .. col+VW-1] */
        const realv b1 = b_panel[2 * k + 1];       /* op(B)[k, col+VW .. col+2VW-1] */
        #pragma unroll
        for (int r = 0; r < TILE_M; r++) {
            const real a_rk = a_panel[k * TILE_M + r];     /* op(A)[row+r, k], in every lane */
            acc[r][0] += a_rk * b0;
            acc[r][1] += a_rk * b1;
        }
    }

    /* Store the tile, element by element where it overhangs C: once per work-item, so cheap. */
    #pragma unroll
    for (int r = 0; r < TILE_M; r++) {
        if (row + r >= M) break;
        real out[TILE_N];
        vstorev(acc[r][0], 0, out);
        vstorev(acc[r][1], 0, out + VW);
        for (int j = 0; j < TILE_N && col + j < N; j++)
            c[(row + r) * N + col + j] = out[j];
    }
}

/* Packing, before step 3: copy each operand into panels that the loop above reads in order.
 * Each costs one pass over its operand, against the N / 16 passes over A and M / 6 over B
 * that the multiply makes; OpenBLAS and BLIS pack their operands for the same reasons.
 * The transposes are undone here, by the index macros, and the edges padded with zeros.
 * Global size: (K, M rounded up to TILE_M) for A, (N rounded up to TILE_N, K) for B, so
 * that neighbouring work-items read neighbouring elements of the unpacked operand.
 */

/* pack_a: op(A) (M, K) -> panels of TILE_M rows, each stored k-major, as (K, TILE_M):
 * op(A)[i, k] goes to a_packed[(i / TILE_M) * K * TILE_M + k * TILE_M + i % TILE_M]. */
__kernel void pack_a(const int M, const int K, __global const real *a, __global real *a_packed)
{
    const int k = get_global_id(0), i = get_global_id(1);
    const int padded_rows = (M + TILE_M - 1) / TILE_M * TILE_M;
    if (k >= K || i >= padded_rows) return;
    a_packed[(i / TILE_M) * K * TILE_M + k * TILE_M + i % TILE_M] = (i < M) ? A_AT(i, k) : 0;
}

/* pack_b: op(B) (K, N) -> panels of TILE_N columns, each stored k-major, as (K, TILE_N):
 * op(B)[k, j] goes to b_packed[(j / TILE_N) * K * TILE_N + k * TILE_N + j % TILE_N].
 * Each panel starts on a multiple of TILE_N elements, so the kernel's vector loads are aligned. */
__kernel void pack_b(const int K, const int N, __global const real *b, __global real *b_packed)
{
    const int j = get_global_id(0), k = get_global_id(1);
    const int padded_cols = (N + TILE_N - 1) / TILE_N * TILE_N;
    if (k >= K || j >= padded_cols) return;
    b_packed[(j / TILE_N) * K * TILE_N + k * TILE_N + j % TILE_N] = (j < N) ? B_AT(k, j) : 0;
}
