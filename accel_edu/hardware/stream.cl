/* STREAM's four kernels (McCalpin), one work-item per element.
 *
 * `real` is float or double (-D real=...). The host launches the bulk of the arrays as whole
 * work-groups with no bounds test (-D BOUNDS=0) and the last partial group as a second launch
 * from `offset` (-D BOUNDS=1): an `if (i >= n) return;` in every work-item kept PoCL from
 * vectorising across the work-group and halved the bandwidth of such loops
 * (accel_edu/optim/update.cl measured it). */
#if BOUNDS
#define ELEMENT(i) const int i = offset + get_global_id(0); if (i >= n) return
#else
#define ELEMENT(i) const int i = offset + get_global_id(0)
#endif

__kernel void stream_copy(const int n, const int offset, __global const real *a, __global real *c)
{
    ELEMENT(i);
    c[i] = a[i];
}

__kernel void stream_scale(const int n, const int offset, const real s, __global real *b, __global const real *c)
{
    ELEMENT(i);
    b[i] = s * c[i];
}

__kernel void stream_add(const int n, const int offset, __global const real *a, __global const real *b,
                         __global real *c)
{
    ELEMENT(i);
    c[i] = a[i] + b[i];
}

__kernel void stream_triad(const int n, const int offset, __global real *a, __global const real *b,
                           __global const real *c, const real s)
{
    ELEMENT(i);
    a[i] = b[i] + s * c[i];
}
