// Stands in for CUDA's headers when Fixtures/kernel_emulator.cpp compiles moesim_kernels.cu
// as host C++: the few types, built-ins and intrinsics the kernels use, with CUDA's
// semantics (bf16 is the top half of an fp32; a warp shuffle exchanges values between the
// 32 lanes of a warp, each lane a host thread of the emulator).
#ifndef MOESIM_EMULATED_CUDA_BF16_H
#define MOESIM_EMULATED_CUDA_BF16_H
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict

struct dim3 { unsigned x = 0, y = 0, z = 0; };
extern thread_local dim3 threadIdx;
extern thread_local dim3 blockIdx;
extern thread_local dim3 blockDim;

struct __nv_bfloat16 { uint16_t bits; };
struct __nv_bfloat162 { __nv_bfloat16 x, y; };
struct float2 { float x, y; };
struct float4 { float x, y, z, w; };
struct uint4 { unsigned x, y, z, w; };

inline float moesim_bf16_to_float(__nv_bfloat16 value) {
    uint32_t bits = uint32_t(value.bits) << 16;
    float result;
    std::memcpy(&result, &bits, sizeof result);
    return result;
}
inline float2 __bfloat1622float2(__nv_bfloat162 pair) { return {moesim_bf16_to_float(pair.x), moesim_bf16_to_float(pair.y)}; }
inline float __expf(float x) { return std::exp(x); }
using std::min;

// The value of lane + offset in this lane's warp (its own value past lane 31).
float __shfl_down_sync(unsigned mask, float value, int offset);

// The host's steady clock in nanoseconds, for the kernels that read the GPU's timer.
unsigned long long moesim_emulated_now_ns();

#endif
