/* Read bandwidth against working-set size: sum x over and over.
 *
 * floatv is float16, float8, ... (-D floatv=..., the device's preferred width) and each step
 * reads four of them into four independent sums: one sum would be a chain of dependent adds
 * (a few cycles each) and measure the adder, not the cache.
 *
 * Work-item g reads its own per_item vectors: on a CPU (-D CONTIGUOUS=1) one contiguous share,
 * which the core's prefetcher follows; on a GPU (CONTIGUOUS=0) every items-th vector, so that
 * neighbouring work-items read neighbouring memory. Every pass reads the same vectors from the
 * same work-item, so a share that fits in a core's cache comes from that cache after the first
 * pass. The sum is stored, or the compiler could drop the loads. */
#if CONTIGUOUS
#define AT(j) x[g * per_item + (j)]
#else
#define AT(j) x[g + (j) * items]
#endif

__kernel void read_sum(__global const floatv *x, const int per_item, const int passes, __global floatv *out)
{
    const int g = get_global_id(0), items = get_global_size(0);
    floatv s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int p = 0; p < passes; p++)
        for (int j = 0; j < per_item; j += 4) {   /* per_item is a multiple of 4 */
            s0 += AT(j);  s1 += AT(j + 1);  s2 += AT(j + 2);  s3 += AT(j + 3);
        }
    out[g] = (s0 + s1) + (s2 + s3);
}
