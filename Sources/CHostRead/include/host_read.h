#ifndef MOESIM_HOST_READ_H
#define MOESIM_HOST_READ_H
#include <stddef.h>
#include <stdint.h>

/// The wrapping sum of `count` 64-bit words from `words`: a read of memory at the widest
/// vector loads the CPU has (AVX-512, AVX2 or the baseline, chosen when the program loads),
/// as an inference engine built for the machine (llama.cpp's CPU kernels) reads its weights.
uint64_t moesim_host_read_sum(const uint64_t *words, size_t count);

#endif
