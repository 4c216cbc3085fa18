/* Fused optimizer updates: one work-item per parameter, every array read once and written once.
 *
 * `real` is float or double (-D real=...). Hyper-parameters arrive already combined on the host
 * (1 - beta, lr / (1 - beta1^t), ...), so each work-item does only the per-element arithmetic:
 * plain * and + on registers, which PoCL vectorises across the work-group.
 *
 * PARAMETER(i) names this work-item's parameter. The host runs the bulk of the array as whole
 * work-groups that are all in range (-D BOUNDS=0: no test at all), and the last partial
 * work-group as a second launch from `offset` (-D BOUNDS=1). The usual `if (i >= n) return;`
 * in every work-item kept PoCL from vectorising: it halved Adam's speed on 16M parameters. */
#if BOUNDS
#define PARAMETER(i) const int i = offset + get_global_id(0); if (i >= n) return
#else
#define PARAMETER(i) const int i = offset + get_global_id(0)
#endif

/* SGD with momentum: d = g + wd*p;  buf = d (first step) or momentum*buf + (1-dampening)*d;
 * d = d + momentum*buf (Nesterov) or buf;  p -= lr*d.  momentum == 0: buf is not touched. */
__kernel void sgd_momentum_update(const int n, const int offset, const real lr, const real momentum,
                                  const real one_minus_dampening, const int nesterov,
                                  const real weight_decay, const int first_step,
                                  __global real *param, __global const real *grad,
                                  __global real *buf)
{
    PARAMETER(i);
    real d = grad[i] + weight_decay * param[i];
    if (momentum != 0) {
        const real b = first_step ? d : momentum * buf[i] + one_minus_dampening * d;
        buf[i] = b;
        d = nesterov ? d + momentum * b : b;
    }
    param[i] -= lr * d;
}

/* AdaGrad: g = grad + wd*p;  s += g*g;  p -= lr * g / (sqrt(s) + eps). */
__kernel void adagrad_update(const int n, const int offset, const real lr, const real eps, const real weight_decay,
                             __global real *param, __global const real *grad, __global real *sum_sq)
{
    PARAMETER(i);
    const real g = grad[i] + weight_decay * param[i];
    const real s = sum_sq[i] + g * g;
    sum_sq[i] = s;
    param[i] -= lr * g / (sqrt(s) + eps);
}

/* RMSprop: g = grad + wd*p;  sq = alpha*sq + (1-alpha)*g*g;  p -= lr * g / (sqrt(sq) + eps). */
__kernel void rmsprop_update(const int n, const int offset, const real lr, const real alpha, const real one_minus_alpha,
                             const real eps, const real weight_decay,
                             __global real *param, __global const real *grad, __global real *square_avg)
{
    PARAMETER(i);
    const real g = grad[i] + weight_decay * param[i];
    const real s = alpha * square_avg[i] + one_minus_alpha * g * g;
    square_avg[i] = s;
    param[i] -= lr * g / (sqrt(s) + eps);
}

/* Adam and AdamW in one kernel: p *= decay (AdamW: 1 - lr*wd; Adam: 1);  g = grad + l2*p
 * (Adam: wd; AdamW: 0);  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;
 * p -= step_size * m / (sqrt(v) / bc2_sqrt + eps), with step_size = lr / (1 - b1^t) and
 * bc2_sqrt = sqrt(1 - b2^t).  Per parameter: 4 reads and 3 writes, nothing else. */
__kernel void adam_update(const int n, const int offset, const real beta1, const real one_minus_beta1,
                          const real beta2, const real one_minus_beta2, const real step_size,
                          const real bc2_sqrt, const real eps, const real l2, const real decay,
                          __global real *param, __global const real *grad,
                          __global real *exp_avg, __global real *exp_avg_sq)
{
    PARAMETER(i);
    const real p = param[i] * decay;
    const real g = grad[i] + l2 * p;
    const real m = beta1 * exp_avg[i] + one_minus_beta1 * g;
    const real v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p - step_size * m / (sqrt(v) / bc2_sqrt + eps);
}

/* x *= factor (clipping's rescale). */
__kernel void scale_inplace(const int n, const int offset, const real factor, __global real *x)
{
    PARAMETER(i);
    x[i] *= factor;
}
