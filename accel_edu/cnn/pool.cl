/* pool.cl: max and average pooling, forward and backward.
 *
 * Compiled with -D real=float|double. Images are NCHW, viewed as N*C independent planes.
 * Window (oh, ow) covers input rows oh*sh - ph .. oh*sh - ph + kh - 1 (no dilation), and
 * likewise columns; rows and columns outside the image are padding.
 * Forward kernels: one work-item per output pixel, global size (OH*OW rounded up, N*C).
 */

/* maxpool2d_forward: y = the window's maximum, argmax = h*W + w of the first one in
 * row-major window order (PyTorch's convention, and the reference's).
 *
 * Padding reads as -INFINITY, so it never beats a real pixel. The update rule is np.argmax's:
 * the first element starts the search, a strictly greater one replaces it, and a NaN
 * replaces anything that is not already NaN (NaN != NaN is the test for it). */
__kernel void maxpool2d_forward(const int H, const int W, const int kh, const int kw,
                                const int sh, const int sw, const int ph, const int pw,
                                const int OH, const int OW, const int planes,
                                __global const real *x, __global real *y, __global long *argmax)
{
    const int p = get_global_id(0), plane = get_global_id(1);
    if (p >= OH * OW || plane >= planes) return;
    const int r0 = (p / OW) * sh - ph, q0 = (p % OW) * sw - pw;   /* the window's top left */
    __global const real *image = x + plane * H * W;

    real best = -INFINITY;
    long at = -1;
    for (int i = 0; i < kh; i++) {
        const int r = r0 + i;
        for (int j = 0; j < kw; j++) {
            const int q = q0 + j;
            const real v = (r >= 0 && r < H && q >= 0 && q < W) ? image[r * W + q] : -INFINITY;
            if (at < 0 || v > best || (v != v && best == best)) {
                best = v;
                at = (long)r * W + q;
            }
        }
    }
    y[plane * OH * OW + p] = best;
    argmax[plane * OH * OW + p] = at;
}

/* maxpool2d_backward: dx[plane].flat[argmax] += dy, for every output pixel of the plane.
 *
 * Overlapping windows can share a winner, so two output pixels may add into one input pixel:
 * run them in parallel and they race (and floats have no atomic add). A gather, one
 * work-item per input pixel, would need the window geometry to know which outputs to look
 * at, and this function gets only argmax. So one work-item owns a whole plane, zeroes it
 * and adds in its outputs one after another: N*C work-items, plenty for a CPU.
 * An index outside [0, H*W) (the checks reject those) is skipped, never written.
 * Global size (N*C rounded up). */
__kernel void maxpool2d_backward(const int HW, const int OHW, const int planes,
                                 __global const real *dy, __global const long *argmax,
                                 __global real *dx)
{
    const int plane = get_global_id(0);
    if (plane >= planes) return;
    __global real *out = dx + plane * HW;
    for (int k = 0; k < HW; k++)
        out[k] = 0;
    for (int p = plane * OHW; p < (plane + 1) * OHW; p++) {
        const long k = argmax[p];
        if (k >= 0 && k < HW)
            out[k] += dy[p];
    }
}

/* avgpool2d_forward: y = sum of the window / (kh*kw). Padding counts as zeros in the mean
 * (count_include_pad=True, PyTorch's default): the divisor is kh*kw for every window. */
__kernel void avgpool2d_forward(const int H, const int W, const int kh, const int kw,
                                const int sh, const int sw, const int ph, const int pw,
                                const int OH, const int OW, const int planes,
                                __global const real *x, __global real *y)
{
    const int p = get_global_id(0), plane = get_global_id(1);
    if (p >= OH * OW || plane >= planes) return;
    const int r0 = (p / OW) * sh - ph, q0 = (p % OW) * sw - pw;
    __global const real *image = x + plane * H * W;

    real sum = 0;
    for (int i = max(0, -r0); i < min(kh, H - r0); i++)        /* rows inside the image */
        for (int j = max(0, -q0); j < min(kw, W - q0); j++)    /* columns inside the image */
            sum += image[(r0 + i) * W + q0 + j];
    y[plane * OH * OW + p] = sum / (real)(kh * kw);
}

/* avgpool2d_backward: dx[r, q] = sum of dy / (kh*kw) over every window that covers (r, q).
 *
 * The gather form, as in col2im: one work-item per input pixel (it alone writes it), which
 * finds its windows by inverting r = oh*sh - ph + i: window row oh = (r + ph - i) / sh, when
 * exact and in [0, OH). Unlike maxpool's backward, the geometry is known here.
 * Global size (H*W rounded up, N*C). */
__kernel void avgpool2d_backward(const int H, const int W, const int kh, const int kw,
                                 const int sh, const int sw, const int ph, const int pw,
                                 const int OH, const int OW, const int planes,
                                 __global const real *dy, __global real *dx)
{
    const int pixel = get_global_id(0), plane = get_global_id(1);
    if (pixel >= H * W || plane >= planes) return;
    const int r = pixel / W, q = pixel % W;
    __global const real *grad = dy + plane * OH * OW;
    const real count = kh * kw;

    real sum = 0;
    for (int i = 0; i < kh; i++) {
        const int t = r + ph - i;                  /* = oh*sh, if window row oh covers r */
        if (t < 0 || t % sh != 0 || t / sh >= OH) continue;
        for (int j = 0; j < kw; j++) {
            const int u = q + pw - j;
            if (u < 0 || u % sw != 0 || u / sw >= OW) continue;
            sum += grad[(t / sh) * OW + u / sw] / count;
        }
    }
    dx[plane * H * W + pixel] = sum;
}
