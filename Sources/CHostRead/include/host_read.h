#ifndef MOESIM_HOST_READ_H
#define MOESIM_HOST_READ_H
#include <stddef.h>
#include <stdint.h>

/// The wrapping sum of `count` 64-bit words from `words`: a read of memory at the widest
/// vector loads the CPU has (AVX-512, AVX2 or the baseline, chosen when the program loads),
/// as an inference engine built for the machine (llama.cpp's CPU kernels) reads its weights.
uint64_t moesim_host_read_sum(const uint64_t *words, size_t count);

/// The floating-point operations one call of `moesim_host_fma` makes per iteration.
#define MOESIM_HOST_FMA_FLOPS_PER_ITERATION 256

/// `iterations` rounds of fused multiply-adds on 128 single-precision values held in
/// registers, in 8 independent chains of 16 lanes (AVX-512, AVX2 with FMA, or the baseline,
/// chosen when the program loads): a core's peak FMA rate, with no memory traffic. Returns a
/// sum of the values so that no round can be left out.
float moesim_host_fma(size_t iterations);

#endif
