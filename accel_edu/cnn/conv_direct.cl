/* conv_direct.cl: 2-D convolution without im2col, two steps up the ladder.
 *
 * x: (N, C, H, W), w: (C_out, C, kh, kw), bias: (C_out,) or NULL  ->  y: (N, C_out, OH, OW)
 *   y[n, o, oh, ow] = bias[o] + sum_{c,i,j} w[o, c, i, j] * x[n, c, oh*sh + i*dh - ph, ow*sw + j*dw - pw]
 * where pixels outside the image (the padding) read as 0. Output pixels are numbered
 * p = oh*OW + ow, P = OH*OW of them.
 *
 * Compiled with -D real=float|double and -D VW=8|4 (one 256-bit AVX2 register: 8 floats or
 * 4 doubles); every size is an int argument, so one program per dtype serves every geometry.
 *
 * Timings quoted are float32 device times on PoCL's CPU device (2 AMD Zen 3 cores, AVX2 with
 * FMA), on a shared machine: best of several runs, so compare ratios. The big case is
 * x (32, 64, 32, 32), w (64, 64, 3, 3), padding 1: 2.4 GFLOP.
 */

#define PASTE(x, y) x##y
#define VECTOR(x, y) PASTE(x, y)
#define realv VECTOR(real, VW)          /* float8 or double4 */
#define vstorev VECTOR(vstore, VW)


/* Step 1: naive. One work-item per output element, the loops straight from the formula.
 * Global size (P rounded up, C_out, N). Every multiply-add waits for the previous one (one
 * running sum), and every x value loaded feeds one multiply-add.
 * Measured 1.4 GFLOP/s on the big case (1.7 s). */
__kernel void conv2d_direct_naive(const int C, const int H, const int W, const int C_out,
                                  const int kh, const int kw, const int sh, const int sw,
                                  const int ph, const int pw, const int dh, const int dw,
                                  const int OH, const int OW,
                                  __global const real *x, __global const real *w,
                                  __global const real *bias, __global real *y)
{
    const int p = get_global_id(0), o = get_global_id(1), n = get_global_id(2);
    if (p >= OH * OW) return;
    const int oh = p / OW, ow = p % OW;

    real sum = bias ? bias[o] : 0;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < kh; i++) {
            const int r = oh * sh + i * dh - ph;
            if (r < 0 || r >= H) continue;              /* the whole kernel row is padding */
            for (int j = 0; j < kw; j++) {
                const int q = ow * sw + j * dw - pw;
                if (q >= 0 && q < W)
                    sum += w[((o * C + c) * kh + i) * kw + j] * x[((n * C + c) * H + r) * W + q];
            }
        }
    y[(n * C_out + o) * OH * OW + p] = sum;
}


/* Step 2: register tiles, the GEMM's micro-kernel with the image read in place.
 *
 * Each work-item computes a TILE_P x TILE_O block of y: 4 consecutive output pixels of one
 * image, times 16 output channels (float; 8 for double), held in 8 vector registers, one
 * vector of VW channels per pixel and half. At each (i, j, c) it loads two vectors of weights
 * and four x values, and does 8 vector multiply-adds: each x value feeds 16 multiply-adds,
 * each weight 4. That is gemm.cl's register tile, with op(A) the weights and op(B) the im2col
 * matrix, whose columns are read straight from the image instead of being unfolded first.
 * (6 pixels, gemm.cl's tile height, needs 12 accumulators; with the six x values the compiler
 * loads ahead of them that is more than AVX2's 16 registers, and the accumulators spilled to
 * the stack in the compiled loop. With 4 they all stay in registers.)
 *
 * The loop order puts c innermost. Where the four pixels read depends only on (i, j), so it
 * is worked out once per kernel offset, and the loop over channels only steps from plane to
 * plane. For that the weights are packed (pack_weights, below) into panels of TILE_O output
 * channels, stored (kh, kw, C, TILE_O), the order the loop reads them in.
 *
 * The padding test also leaves the inner loop: for most kernel offsets all four pixels read
 * inside the image, and accumulate() then runs with inside = true, a loop without a test.
 * Only offsets where some pixel reads the padding take the loop that tests.
 *
 * Pixels are tiled along the flattened p = oh*OW + ow, so a tile may wrap onto the next
 * output row: no tile is wasted at the end of each row, only at the end of the image.
 * Global size (ceil(P / TILE_P) rounded up to the work-group, N, ceil(C_out / TILE_O)).
 *
 * Measured 36-43 GFLOP/s on the big case (56-67 ms), 25-30x step 1; the 6-pixel tile ran at
 * 26. The same layer on 31 x 31 images ran at 58-76 GFLOP/s, most likely because at 32 x 32
 * a plane is exactly 4 KiB: the inner loop's reads, one per plane, then all map to the same
 * few L1 cache sets (as gemm.cl found for B read in place). With 6 or 16 output channels the tile's
 * 16 lanes are partly padding, and LeNet's layers run at 4-40 GFLOP/s.
 */
#define TILE_P 4
#define TILE_O (2 * VW)

/* acc[t] += x[c, at[t]] * w_c[c] over the input channels c, for one kernel offset: at[t] is
 * where pixel t reads each plane of `image`, or -1 in the padding (which reads as 0; only
 * tested when !inside). w_c holds (C, TILE_O) weights as 2*C vectors. Inlined twice by the
 * compiler, once for each value of `inside`, so each copy has the branches it needs. */
inline void accumulate(realv acc[TILE_P][2], const bool inside, const int at[TILE_P],
                       __global const real *image, const int C, const int plane_size,
                       __global const realv *w_c)
{
    for (int c = 0; c < C; c++) {
        const realv w0 = w_c[2 * c], w1 = w_c[2 * c + 1];
        __global const real *plane = image + c * plane_size;
        #pragma unroll
        for (int t = 0; t < TILE_P; t++) {
            const real v = (inside || at[t] >= 0) ? plane[at[t]] : 0;    /* in every lane */
            acc[t][0] += v * w0;
            acc[t][1] += v * w1;
        }
    }
}

__kernel void conv2d_direct_register_tiled(const int C, const int H, const int W, const int C_out,
                                           const int kh, const int kw, const int sh, const int sw,
                                           const int ph, const int pw, const int dh, const int dw,
                                           const int OH, const int OW,
                                           __global const real *x, __global const real *w_packed,
                                           __global const real *bias, __global real *y)
{
    const int P = OH * OW;
    const int p0 = get_global_id(0) * TILE_P, n = get_global_id(1), o0 = get_global_id(2) * TILE_O;
    if (p0 >= P) return;

    int oh[TILE_P], ow[TILE_P];
    realv acc[TILE_P][2];                   /* the tile of y, in registers */
    #pragma unroll
    for (int t = 0; t < TILE_P; t++) {
        const int p = min(p0 + t, P - 1);   /* past the end: recompute the last pixel */
        oh[t] = p / OW;
        ow[t] = p % OW;
        acc[t][0] = 0;
        acc[t][1] = 0;
    }

    __global const real *image = x + n * C * H * W;
    __global const realv *panel = (__global const realv *)(w_packed + o0 * kh * kw * C);
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            int at[TILE_P];
            bool inside = true;
            #pragma unroll
            for (int t = 0; t < TILE_P; t++) {
                const int r = oh[t] * sh + i * dh - ph, q = ow[t] * sw + j * dw - pw;
                const bool in_image = r >= 0 && r < H && q >= 0 && q < W;
                at[t] = in_image ? r * W + q : -1;
                inside = inside && in_image;
            }
            __global const realv *w_ij = panel + 2 * (i * kw + j) * C;     /* (C, TILE_O) */
            if (inside)
                accumulate(acc, true, at, image, C, H * W, w_ij);
            else
                accumulate(acc, false, at, image, C, H * W, w_ij);
        }

    /* Store: each channel of the tile goes to its own output plane, hence scalar stores. */
    /* Not unrolled: the last tile may stop early, and a loop with an exit cannot be fully
     * unrolled (PoCL's compiler said so in a warning when it was asked to). */
    for (int t = 0; t < TILE_P && p0 + t < P; t++) {
        real out[TILE_O];
        vstorev(acc[t][0], 0, out);
        vstorev(acc[t][1], 0, out + VW);
        for (int o = 0; o < TILE_O && o0 + o < C_out; o++)
            y[(n * C_out + o0 + o) * P + p0 + t] = out[o] + (bias ? bias[o0 + o] : 0);
    }
}

/* pack_weights: w (C_out, C, kh, kw) -> panels of TILE_O output channels, each (kh, kw, C, TILE_O):
 * w[o, c, i, j] goes to w_packed[(((o / TILE_O) * kh + i) * kw + j) * C * TILE_O + c * TILE_O + o % TILE_O],
 * zero past C_out, so the last panel's spare lanes add nothing.
 * Global size (C*kh*kw, C_out rounded up to TILE_O). */
__kernel void pack_weights(const int C_out, const int C, const int kh, const int kw,
                           __global const real *w, __global real *w_packed)
{
    const int k = get_global_id(0), o = get_global_id(1);     /* k = (c*kh + i)*kw + j */
    if (k >= C * kh * kw) return;
    const int c = k / (kh * kw), i = k / kw % kh, j = k % kw;
    w_packed[(((o / TILE_O) * kh + i) * kw + j) * C * TILE_O + c * TILE_O + o % TILE_O] =
        o < C_out ? w[o * C * kh * kw + k] : 0;
}
