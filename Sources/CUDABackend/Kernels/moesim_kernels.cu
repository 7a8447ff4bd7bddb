// moesim's GPU kernels for `moesim gpu calibrate` and `moesim gpu validate`.
//
// Compiled once to PTX (moesim_kernels.ptx, committed beside this file) with
//     nvcc -ptx -arch=compute_80 -O3 moesim_kernels.cu -o moesim_kernels.ptx
// and loaded at run time with cuModuleLoadData, so that building moesim needs no CUDA
// toolkit. The driver JIT-compiles the PTX for the GPU it finds (sm_80 and later).
//
// The kernels are plain CUDA-core kernels, not tensor-core GEMMs: at decode batch sizes
// an expert sees a handful of tokens and its time is the time to stream its weights
// from HBM, which these kernels do with 16-byte loads. Their times at many tokens are
// those of these kernels, not of cuBLAS; calibrated profiles say so.
#include <cuda_bf16.h>

#define MOESIM_TOKEN_TILE 8
#define MOESIM_WARPS_PER_BLOCK 8

// out[t * rows + r] = dot(W[r, :], x[t, :]) for r < rows, t < tokens, the rows of this block.
// W: rows x cols bf16, row-major; x: tokens x cols fp32; cols a multiple of 8.
// One warp per row; each lane reads 8 weights (16 bytes) at a time and applies them to
// up to MOESIM_TOKEN_TILE tokens, so weights are read from HBM once per tile.
static __device__ __forceinline__ void rows_dot_block(const __nv_bfloat16 *__restrict__ W, int rows, int cols,
                                                      const float *__restrict__ x, int tokens, float *__restrict__ out) {
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    int row = blockIdx.x * MOESIM_WARPS_PER_BLOCK + warp;
    if (row >= rows) return;
    const __nv_bfloat16 *w = W + (size_t)row * cols;
    for (int t0 = 0; t0 < tokens; t0 += MOESIM_TOKEN_TILE) {
        int tile = min(MOESIM_TOKEN_TILE, tokens - t0);
        float acc[MOESIM_TOKEN_TILE];
#pragma unroll
        for (int j = 0; j < MOESIM_TOKEN_TILE; j++) acc[j] = 0.f;
        for (int c = lane * 8; c < cols; c += 32 * 8) {
            uint4 packed = *reinterpret_cast<const uint4 *>(w + c);
            const __nv_bfloat162 *pairs = reinterpret_cast<const __nv_bfloat162 *>(&packed);
            float wf[8];
#pragma unroll
            for (int k = 0; k < 4; k++) {
                float2 f = __bfloat1622float2(pairs[k]);
                wf[2 * k] = f.x;
                wf[2 * k + 1] = f.y;
            }
#pragma unroll
            for (int j = 0; j < MOESIM_TOKEN_TILE; j++) {
                if (j < tile) {
                    const float4 *xv = reinterpret_cast<const float4 *>(x + (size_t)(t0 + j) * cols + c);
                    float4 a = xv[0], b = xv[1];
                    acc[j] += wf[0] * a.x + wf[1] * a.y + wf[2] * a.z + wf[3] * a.w
                            + wf[4] * b.x + wf[5] * b.y + wf[6] * b.z + wf[7] * b.w;
                }
            }
        }
#pragma unroll
        for (int j = 0; j < MOESIM_TOKEN_TILE; j++) {
            float v = acc[j];
            for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
            if (lane == 0 && j < tile) out[(size_t)(t0 + j) * rows + row] = v;
        }
    }
}

// One weight matrix against tokens: a grid of ceil(rows / MOESIM_WARPS_PER_BLOCK) blocks.
extern "C" __global__ void moesim_rows_dot(const __nv_bfloat16 *__restrict__ W, int rows, int cols,
                                           const float *__restrict__ x, int tokens, float *__restrict__ out) {
    rows_dot_block(W, rows, cols, x, tokens, out);
}

// The same matrix product for a group of experts in one launch, as a grouped MoE kernel
// runs a layer's experts: grid.y picks expert e, whose rows x cols weights start at the
// device address experts[e] (experts need not be adjacent); it reads its tokens at
// x + e * x_stride (x_stride 0: every expert reads the same tokens) and writes
// out + e * tokens * rows. Every expert of the group takes `tokens` tokens.
extern "C" __global__ void moesim_grouped_rows_dot(const unsigned long long *__restrict__ experts, int rows, int cols,
                                                   const float *__restrict__ x, long long x_stride, int tokens,
                                                   float *__restrict__ out) {
    const __nv_bfloat16 *W = reinterpret_cast<const __nv_bfloat16 *>(experts[blockIdx.y]);
    rows_dot_block(W, rows, cols, x + (size_t)blockIdx.y * (size_t)x_stride, tokens, out + (size_t)blockIdx.y * tokens * rows);
}

// SwiGLU between an expert's projections: h[t, i] = silu(gu[t, i]) * gu[t, inter + i],
// where gu holds the gate projection's `inter` outputs then the up projection's.
extern "C" __global__ void moesim_swiglu(const float *__restrict__ gu, int inter, int tokens, float *__restrict__ h) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= inter * tokens) return;
    int t = i / inter, k = i % inter;
    float g = gu[(size_t)t * 2 * inter + k];
    float u = gu[(size_t)t * 2 * inter + inter + k];
    h[i] = g / (1.f + __expf(-g)) * u;
}

// An empty kernel: back-to-back launches of it measure the launch gap.
extern "C" __global__ void moesim_empty() {}

// The GPU's nanosecond clock (PTX's %globaltimer); the kernel emulator supplies its own.
static __device__ __forceinline__ unsigned long long moesim_now_ns() {
#ifdef __CUDA_ARCH__
    unsigned long long now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    return now;
#else
    return moesim_emulated_now_ns();
#endif
}

// Occupies the GPU for `ns` nanoseconds on one thread: a replay's stand-in for work the
// simulation times but moesim has no kernel for (a draft model's step), so that the rest of
// the schedule runs around it as it did in the simulation.
extern "C" __global__ void moesim_spin(unsigned long long ns) {
    unsigned long long start = moesim_now_ns();
    while (moesim_now_ns() - start < ns) {}
}
