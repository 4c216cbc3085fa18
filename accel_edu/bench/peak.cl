// The machine's peak: an FMA-bound kernel with no memory traffic in its loop.
//
// Each work-item keeps 12 independent realv accumulators, each one 256-bit AVX2 register
// (realv is float8 or double4, set by the host). An FMA has a latency of
// 4-5 cycles and a core issues two per cycle, so at least 10 independent chains are needed
// to keep both pipes busy: with 8 we measured about 10% less. 12 vectors plus the two
// constants still fit in the 16 AVX2 registers (16 accumulators spilled to memory and ran
// at a quarter of the speed). Nothing is loaded inside the loop, so arithmetic is the only
// limit. Written with plain * and +, which PoCL contracts into FMA instructions.
__kernel void fma_peak(__global realv* out, const int iterations, const real m, const real c)
{
    realv a0 = (realv)(get_global_id(0) * (real)1e-3), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3;
    realv a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7;
    realv a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11;
    for (int i = 0; i < iterations; i++) {
        a0 = a0 * m + c;  a1 = a1 * m + c;  a2 = a2 * m + c;  a3 = a3 * m + c;
        a4 = a4 * m + c;  a5 = a5 * m + c;  a6 = a6 * m + c;  a7 = a7 * m + c;
        a8 = a8 * m + c;  a9 = a9 * m + c;  a10 = a10 * m + c;  a11 = a11 * m + c;
    }
    realv s = (a0 + a1 + a2 + a3) + (a4 + a5 + a6 + a7) + (a8 + a9 + a10 + a11);
    out[get_global_id(0)] = s;  // storing every lane keeps the compiler from dropping the loop
}
