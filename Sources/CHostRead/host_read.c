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
