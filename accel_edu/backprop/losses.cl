/* losses.cl: each loss writes its gradient and one loss term per row (or per element); the
 * host then averages the terms with reductions.cl's mean. Compiled with -D real=float|double,
 * and -D label_t=<an OpenCL integer type> matching the labels' dtype (long by default).
 */

#ifndef label_t
#define label_t long
#endif

/* softmax_cross_entropy_rows: the loss and gradient of one row of logits per work-item.
 *
 * logits, dlogits: (N, C);  labels: (N,) in [0, C);  row_loss: (N,)
 *   row_loss[i] = log(sum_j exp(z_ij)) - z_iy        (y = labels[i])
 *   dlogits[i]  = (softmax(z_i) - onehot(y)) / N     (the 1/N of the mean is folded in)
 *
 * Stable for any magnitude: the row maximum m is subtracted first, so every exp() sees a
 * number <= 0 and sum_j exp(z_ij - m) lies in [1, C]: logits of 1e4 give a finite loss.
 * A label outside [0, C) gives NaNs (a loss the student will notice), never a write outside
 * the row.
 */
__kernel void softmax_cross_entropy_rows(const int N, const int C,
                                         __global const real *logits,
                                         __global const label_t *labels,
                                         __global real *row_loss, __global real *dlogits)
{
    const int i = get_global_id(0);
    if (i >= N) return;
    __global const real *z = logits + i * C;
    __global real *dz = dlogits + i * C;
    const long y = (long)labels[i];
    if (y < 0 || y >= C) {             /* poison this row's results; write nothing outside it */
        row_loss[i] = NAN;
        for (int j = 0; j < C; j++)
            dz[j] = NAN;
        return;
    }

    real m = z[0];
    for (int j = 1; j < C; j++)
        m = fmax(m, z[j]);
    real sum_exp = 0;
    for (int j = 0; j < C; j++)
        sum_exp += exp(z[j] - m);
    const real log_sum_exp = log(sum_exp);           /* of the shifted logits z - m */

    for (int j = 0; j < C; j++) {
        const real p = exp(z[j] - m - log_sum_exp);  /* softmax(z)_j */
        dz[j] = (j == y ? p - 1 : p) / N;
    }
    row_loss[i] = log_sum_exp - (z[y] - m);          /* -log softmax(z)_y */
}

/* mse_terms: for pred, target of n elements, sq[i] = (pred - target)^2 (the loss is their mean)
 * and dpred[i] = 2 (pred - target) / n. */
__kernel void mse_terms(const int n, __global const real *pred, __global const real *target,
                        __global real *sq, __global real *dpred)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const real d = pred[i] - target[i];
    sq[i] = d * d;
    dpred[i] = 2 * d / n;
}
