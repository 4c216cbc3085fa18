/* philox.cl: the counter-based generator Philox4x32-10, uniforms from it, and dropout.
 *
 * Compiled with -D real=float|double. A 64-bit number (a seed, a counter offset) arrives as
 * two ints, low word then high word, reinterpreted here as uint: OpenCL kernel arguments of
 * the host's launch() are 32-bit.
 *
 * Word e of the stream of a seed is lane e % 4 of philox4x32_10((e / 4) as a 64-bit counter
 * in c.x, c.y, then 0, 0; key = the seed). One work-item per output element computes its own
 * block: 4x the arithmetic of sharing one, but no work-item waits for another. The arithmetic
 * is plain integer multiply and xor, which PoCL's CPU device runs as vector code.
 */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Ten rounds of:  (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2,
 *                 c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0),  then k += (W0, W1).
 * c is a private array of 4 words, updated in place: plain scalar registers. */
void philox4x32_10(uint c[4], uint k0, uint k1)
{
    for (int r = 0; r < 10; r++) {
        const uint hi0 = mul_hi(PHILOX_M0, c[0]), lo0 = PHILOX_M0 * c[0];
        const uint hi1 = mul_hi(PHILOX_M1, c[2]), lo1 = PHILOX_M1 * c[2];
        const uint c0 = hi1 ^ c[1] ^ k0, c2 = hi0 ^ c[3] ^ k1;
        c[0] = c0;
        c[1] = lo1;
        c[2] = c2;
        c[3] = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
}

uint philox_word(const ulong e, const uint k0, const uint k1)
{
    const ulong block = e >> 2;
    uint c[4] = {(uint)block, (uint)(block >> 32), 0u, 0u};
    philox4x32_10(c, k0, k1);
    return c[e & 3];
}

ulong join64(const int lo, const int hi) { return ((ulong)(uint)hi << 32) | (ulong)(uint)lo; }

/* counters: (B, 4) uint, key: (2,) uint -> out: (B, 4) uint. One work-item per counter. */
__kernel void philox4x32(const int blocks, __global const uint *counters,
                         __global const uint *key, __global uint *out)
{
    const int i = get_global_id(0);
    if (i >= blocks) return;
    uint c[4] = {counters[4 * i], counters[4 * i + 1], counters[4 * i + 2], counters[4 * i + 3]};
    philox4x32_10(c, key[0], key[1]);
    for (int j = 0; j < 4; j++)
        out[4 * i + j] = c[j];
}

/* out[i] = (word(offset + i) >> 8) / 2^24: exact in float and double. */
__kernel void philox_uniform(const int n, const int seed_lo, const int seed_hi,
                             const int offset_lo, const int offset_hi, __global real *out)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const uint bits = philox_word(join64(offset_lo, offset_hi) + (ulong)i, (uint)seed_lo, (uint)seed_hi) >> 8;
    out[i] = (real)bits * (real)(1.0f / 16777216.0f);
}

/* Inverted dropout: keep where bits >= threshold = ceil(p * 2^24) (that is, u >= p, decided
 * in integers so no rounding of p moves a unit), and scale a kept unit by 1 / (1 - p). */
__kernel void dropout_forward(const int n, const int seed_lo, const int seed_hi,
                              const int offset_lo, const int offset_hi, const int threshold,
                              const real scale, __global const real *x, __global real *y,
                              __global uchar *mask)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const uint bits = philox_word(join64(offset_lo, offset_hi) + (ulong)i, (uint)seed_lo, (uint)seed_hi) >> 8;
    const int keep = bits >= (uint)threshold;
    mask[i] = (uchar)keep;
    y[i] = keep ? x[i] * scale : (real)0;
}

/* dx = dy * scale where the unit was kept, else 0: the forward's own mask and scale. */
__kernel void dropout_backward(const int n, const real scale, __global const real *dy,
                               __global const uchar *mask, __global real *dx)
{
    const int i = get_global_id(0);
    if (i < n) dx[i] = mask[i] ? dy[i] * scale : (real)0;
}
