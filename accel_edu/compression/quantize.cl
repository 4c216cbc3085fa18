/* quantize.cl: int8 quantization, element by element, bit for bit as numpy_kernels.py does it.
 *
 * x is read as a flat array of n values; with PER_CHANNEL=1 value i belongs to channel
 * i / inner (a row of axis 0), else every value shares parameter 0. Compiled with
 *   -D real=float|double   x's and the scale's type
 *   -D PER_CHANNEL=0|1
 *   -D BOUNDS=0|1          1 for the last, partial work-group only: a bounds test in every
 *                          work-item stopped PoCL vectorising these kernels (2x slower)
 * The host passes `start`, where this launch's first work-item begins.
 */
#pragma OPENCL FP_CONTRACT OFF   /* no fused multiply-add: every backend rounds each step */

#if PER_CHANNEL
#define CHANNEL(i) ((i) / inner)
#else
#define CHANNEL(i) 0
#endif

#if BOUNDS
#define GUARD(i) if ((i) >= n) return
#else
#define GUARD(i)
#endif

/* rint(x * (1 / scale)) + zero_point, before the clamp; rint rounds half to even. */
inline real rounded(real v, real scale, int zero_point)
{
    return rint(v * ((real)1 / scale)) + (real)zero_point;
}

inline real clamp_int8(real r)
{
    return fmin(fmax(r, (real)-128), (real)127);
}

__kernel void quantize_int8(const int n, const int start, const int inner,
                            __global const real *x, __global const real *scale,
                            __global const int *zero_point, __global char *q)
{
    const int i = start + get_global_id(0);
    GUARD(i);
    const int c = CHANNEL(i);
    q[i] = (char)clamp_int8(rounded(x[i], scale[c], zero_point[c]));
}

__kernel void dequantize_int8(const int n, const int start, const int inner,
                              __global const char *q, __global const real *scale,
                              __global const int *zero_point, __global real *x)
{
    const int i = start + get_global_id(0);
    GUARD(i);
    const int c = CHANNEL(i);
    x[i] = (real)((int)q[i] - zero_point[c]) * scale[c];
}

__kernel void fake_quantize_forward(const int n, const int start, const int inner,
                                    __global const real *x, __global const real *scale,
                                    __global const int *zero_point, __global real *y)
{
    const int i = start + get_global_id(0);
    GUARD(i);
    const int c = CHANNEL(i);
    y[i] = (clamp_int8(rounded(x[i], scale[c], zero_point[c])) - (real)zero_point[c]) * scale[c];
}

/* The straight-through estimator: the gradient passes where x was inside the int8 range. */
__kernel void fake_quantize_backward(const int n, const int start, const int inner,
                                     __global const real *x, __global const real *scale,
                                     __global const int *zero_point, __global const real *dy,
                                     __global real *dx)
{
    const int i = start + get_global_id(0);
    GUARD(i);
    const int c = CHANNEL(i);
    const real r = rounded(x[i], scale[c], zero_point[c]);
    dx[i] = (r >= (real)-128 && r <= (real)127) ? dy[i] : (real)0;
}
