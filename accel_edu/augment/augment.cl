/* augment.cl: data augmentation as batch kernels, one work-item per output pixel.
 *
 * Compiled once per dtype with -D real=float|double; every size is an int argument, so one
 * build serves every batch and image size. Images are NCHW and C-contiguous:
 * x[n, c, i, j] = x[((n * C + c) * H + i) * W + j].
 *
 * The random parameters (theta, mask, z) were drawn on the host; these kernels are plain
 * functions of images and parameters, and do the reference's arithmetic in its order.
 */

/* OpenCL C may fuse a * b + c into one multiply-add, rounded once. The NumPy reference rounds
 * twice, so fusing would move a coordinate by an ulp; turning it off keeps them identical. */
#pragma OPENCL FP_CONTRACT OFF

/* affine_warp: bilinear resampling through one affine map per image.
 *
 * x, out: (N, C, H, W);  theta: (N, 2, 3), output -> source, in pixels from the image centre
 * (u = j - (W-1)/2 to the right, v = i - (H-1)/2 down). Work-item (j, i, n) computes the
 * source point of output pixel (i, j) of image n and its 4 bilinear weights once, then
 * writes that pixel in every channel. Neighbours outside the image read `fill`.
 */
__kernel void affine_warp(const int N, const int C, const int H, const int W,
                          __global const real *x, __global const real *theta,
                          const real fill, __global real *out)
{
    const int j = get_global_id(0), i = get_global_id(1), n = get_global_id(2);
    if (j >= W || i >= H || n >= N) return;
    __global const real *t = theta + n * 6;
    const real cx = (real)(W - 1) * (real)0.5, cy = (real)(H - 1) * (real)0.5;
    const real u = (real)j - cx, v = (real)i - cy;
    /* Clamped before the conversion to int: beyond [-2, size + 1] every neighbour is
     * outside anyway, and a float past int's range would make the conversion undefined. */
    const real sx = fmin(fmax(t[0] * u + t[1] * v + t[2] + cx, (real)-2), (real)(W + 1));
    const real sy = fmin(fmax(t[3] * u + t[4] * v + t[5] + cy, (real)-2), (real)(H + 1));
    const real x0f = floor(sx), y0f = floor(sy);
    const real fx = sx - x0f, fy = sy - y0f;
    const int x0 = (int)x0f, y0 = (int)y0f;
    const bool left = x0 >= 0 && x0 < W, right = x0 + 1 >= 0 && x0 + 1 < W;
    const bool upper = y0 >= 0 && y0 < H, lower = y0 + 1 >= 0 && y0 + 1 < H;
    for (int c = 0; c < C; ++c) {
        __global const real *img = x + (n * C + c) * H * W;
        const real a = upper && left  ? img[y0 * W + x0]           : fill;
        const real b = upper && right ? img[y0 * W + x0 + 1]       : fill;
        const real d = lower && left  ? img[(y0 + 1) * W + x0]     : fill;
        const real e = lower && right ? img[(y0 + 1) * W + x0 + 1] : fill;
        const real top = (1 - fx) * a + fx * b;
        const real bottom = (1 - fx) * d + fx * e;
        out[((n * C + c) * H + i) * W + j] = (1 - fy) * top + fy * bottom;
    }
}

/* flip_horizontal: out[n, c, i, j] = x[n, c, i, W-1-j] where mask[n], else x[n, c, i, j].
 * x, out: (N, C, H, W);  mask: (N,) one byte per image (NumPy's bool is a byte of 0 or 1).
 * Work-item (j, i, n*C + c) writes one pixel. */
__kernel void flip_horizontal(const int N, const int C, const int H, const int W,
                              __global const real *x, __global const uchar *mask,
                              __global real *out)
{
    const int j = get_global_id(0), i = get_global_id(1), plane = get_global_id(2);
    if (j >= W || i >= H || plane >= N * C) return;
    const int src_j = mask[plane / C] ? W - 1 - j : j;
    out[(plane * H + i) * W + j] = x[(plane * H + i) * W + src_j];
}

/* gaussian_noise: y = x + sigma * z, then clipped to [low, high] (+-inf when no clip).
 * Comparisons rather than fmin/fmax: fmax(NaN, low) would return low, but np.clip keeps a
 * NaN, and so does this. One work-item per element of the flat arrays. */
__kernel void gaussian_noise(const int size, __global const real *x, __global const real *z,
                             const real sigma, const real low, const real high,
                             __global real *out)
{
    const int k = get_global_id(0);
    if (k >= size) return;
    const real y = x[k] + sigma * z[k];
    out[k] = y < low ? low : (y > high ? high : y);
}
