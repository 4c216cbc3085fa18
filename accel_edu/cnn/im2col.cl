/* im2col.cl: unfold receptive fields into columns (im2col), and its adjoint (col2im).
 *
 * Compiled with -D real=float|double. Every size arrives as an int argument, so one program
 * per dtype serves every geometry (a PoCL build costs about a second).
 *
 * The columns form a 3-D array cols[row, n, p] with row = (c*kh + i)*kw + j (the kernel
 * offset, c-major as in the reference) and p = oh*OW + ow (the output pixel), stored at
 *     cols + row*row_stride + n*batch_stride + p.
 * Two layouts use it:
 *   per image     (N, C*kh*kw, OH*OW):  row_stride = OH*OW,    batch_stride = C*kh*kw*OH*OW
 *   batch inside  (C*kh*kw, N*OH*OW):   row_stride = N*OH*OW,  batch_stride = OH*OW
 * The second is the conv's GEMM operand: the whole batch in one matrix, so one GEMM per call.
 *
 * Kernel offset (i, j) of output pixel (oh, ow) reads input pixel
 *     (oh*sh + i*dh - ph,  ow*sw + j*dw - pw),
 * which lies in the padding (reads as 0) when it falls outside [0, H) x [0, W).
 *
 * Each work-item handles a whole row of OW outputs, not one element: on PoCL's CPU device a
 * work-item costs dozens of instructions of bookkeeping (its ids, the index arithmetic with
 * its integer divisions), which one element cannot pay for. One element per work-item
 * measured 5-10x slower here. Along a row, the padding is a run at each end, found once.
 */

/* [first_inside, end_inside): the outputs o in [0, n_out) whose input o*s + off lies in
 * [0, size); those outside it read (or would write) the padding. */
int first_inside(const int off, const int s, const int n_out)
{
    return min(n_out, off >= 0 ? 0 : (-off + s - 1) / s);
}

int end_inside(const int off, const int s, const int size, const int n_out, const int first)
{
    return max(first, off >= size ? 0 : min(n_out, (size - 1 - off) / s + 1));
}

/* im2col: one work-item per output row (n, oh) of one kernel offset (c, i, j); it writes
 * cols[row, n, oh*OW .. oh*OW + OW-1], zeros where the input is padding.
 * Global size (N*OH rounded up, C*kh*kw): neighbours in dimension 0 write neighbouring rows. */
__kernel void im2col(const int N, const int C, const int H, const int W, const int kh, const int kw,
                     const int sh, const int sw, const int ph, const int pw,
                     const int dh, const int dw, const int OH, const int OW,
                     const int row_stride, const int batch_stride,
                     __global const real *x, __global real *cols)
{
    const int line = get_global_id(0), row = get_global_id(1);     /* line = n*OH + oh */
    if (line >= N * OH) return;
    const int n = line / OH, oh = line % OH;
    const int c = row / (kh * kw), i = row / kw % kh, j = row % kw;
    const int r = oh * sh + i * dh - ph, off = j * dw - pw;     /* input row; column of ow = 0 */

    int lo = 0, hi = 0;                     /* a row in the padding is all zeros */
    if (r >= 0 && r < H) {
        lo = first_inside(off, sw, OW);
        hi = end_inside(off, sw, W, OW, lo);
    }
    __global real *out = cols + row * row_stride + n * batch_stride + oh * OW;
    __global const real *in = x + ((n * C + c) * H + max(r, 0)) * W;
    int ow = 0;
    for (; ow < lo; ow++) out[ow] = 0;
    for (; ow < hi; ow++) out[ow] = in[ow * sw + off];
    for (; ow < OW; ow++) out[ow] = 0;
}

/* col2im: the adjoint, x[n, c, r, q] = the sum of every column entry that im2col copied
 * from it.
 *
 * The scatter form (each column entry adds itself to its pixel) races: overlapping windows
 * add into the same pixel at once, and OpenCL has no atomic add for floats. So this is a
 * gather: one work-item owns one input row (n, c, r), and only it ever writes there. It runs
 * over the kernel offsets (i, j) and inverts the formula above: offset i read row r from
 * output row
 *     oh = (r + ph - i*dh) / sh,   only if that division is exact and 0 <= oh < OH,
 * and adds the whole matching row of the columns into its row. Each pixel receives its
 * entries in (i, j) order, as in the reference. Global size (N*C*H rounded up). */
__kernel void col2im(const int N, const int C, const int H, const int W, const int kh, const int kw,
                     const int sh, const int sw, const int ph, const int pw,
                     const int dh, const int dw, const int OH, const int OW,
                     const int row_stride, const int batch_stride,
                     __global const real *cols, __global real *x)
{
    const int line = get_global_id(0);      /* line = (n*C + c)*H + r */
    if (line >= N * C * H) return;
    const int r = line % H, c = line / H % C, n = line / (C * H);

    __global real *out = x + line * W;
    for (int q = 0; q < W; q++)
        out[q] = 0;
    for (int i = 0; i < kh; i++) {
        const int t = r + ph - i * dh;              /* = oh*sh, if offset i read row r */
        if (t < 0 || t % sh != 0 || t / sh >= OH) continue;
        for (int j = 0; j < kw; j++) {
            const int off = j * dw - pw;
            const int lo = first_inside(off, sw, OW), hi = end_inside(off, sw, W, OW, lo);
            __global const real *in = cols + ((c * kh + i) * kw + j) * row_stride + n * batch_stride
                                      + (t / sh) * OW;
            for (int ow = lo; ow < hi; ow++)
                out[ow * sw + off] += in[ow];
        }
    }
}
