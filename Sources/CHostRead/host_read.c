#include "host_read.h"

// One clone per instruction set; the loader picks the widest the CPU runs (GNU ifunc).
#if defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
uint64_t moesim_host_read_sum(const uint64_t *words, size_t count) {
    // Eight independent lanes, so that the loads are not chained on one addition.
    uint64_t lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t index = 0;
    for (; index + 8 <= count; index += 8) {
        for (int lane = 0; lane < 8; lane++) lanes[lane] += words[index + lane];
    }
    uint64_t total = 0;
    for (int lane = 0; lane < 8; lane++) total += lanes[lane];
    for (; index < count; index++) total += words[index];
    return total;
}

// 16 lanes as one value: each clone lowers it to one AVX-512 register, two AVX2 ones or four SSE ones.
typedef float moesim_lanes __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "arch=haswell", "default")))
#endif
float moesim_host_fma(size_t iterations) {
    // Eight independent chains, so that a multiply-add never waits for the one before it.
    moesim_lanes a0, a1, a2, a3, a4, a5, a6, a7;
    for (int lane = 0; lane < 16; lane++) {
        a0[lane] = 0.001f * (float)lane; a1[lane] = a0[lane] + 0.01f; a2[lane] = a0[lane] + 0.02f; a3[lane] = a0[lane] + 0.03f;
        a4[lane] = a0[lane] + 0.04f; a5[lane] = a0[lane] + 0.05f; a6[lane] = a0[lane] + 0.06f; a7[lane] = a0[lane] + 0.07f;
    }
    // x → 0.9999 x + 0.0001 stays near 1 whatever the number of rounds.
    const float scale = 0.9999f, shift = 0.0001f;
    for (size_t round = 0; round < iterations; round++) {
        a0 = a0 * scale + shift; a1 = a1 * scale + shift; a2 = a2 * scale + shift; a3 = a3 * scale + shift;
        a4 = a4 * scale + shift; a5 = a5 * scale + shift; a6 = a6 * scale + shift; a7 = a7 * scale + shift;
    }
    moesim_lanes all = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    float total = 0;
    for (int lane = 0; lane < 16; lane++) total += all[lane];
    return total;
}
