// Runs moesim's CUDA kernels (Sources/CUDABackend/Kernels/moesim_kernels.cu, the same source
// the committed PTX is compiled from) on the CPU, so that the tests can check what they
// compute on machines without a GPU: every block in turn, each of its CUDA threads a host
// thread, warp shuffles exchanged through a barrier per warp. Built by the tests with
//     c++ -std=c++20 -shared -fPIC -I Fixtures/emulator kernel_emulator.cpp
// Pointers are host pointers; a kernel's device addresses are host addresses.
#include <barrier>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "cuda_bf16.h"

thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
thread_local dim3 blockDim;

namespace {
struct Warp {
    std::barrier<> lanes{32};
    float values[32];
};
thread_local Warp *currentWarp;
}

float __shfl_down_sync(unsigned, float value, int offset) {
    int lane = threadIdx.x % 32;
    currentWarp->values[lane] = value;
    currentWarp->lanes.arrive_and_wait();
    float result = lane + offset < 32 ? currentWarp->values[lane + offset] : value;
    currentWarp->lanes.arrive_and_wait();
    return result;
}

unsigned long long moesim_emulated_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#include "../../../Sources/CUDABackend/Kernels/moesim_kernels.cu"

namespace {
// Runs `kernel` over grid.x × grid.y blocks of `threads` threads (a multiple of 32).
template <typename Kernel> void launch(unsigned gridX, unsigned gridY, unsigned threads, Kernel kernel) {
    for (unsigned by = 0; by < gridY; by++) {
        for (unsigned bx = 0; bx < gridX; bx++) {
            std::vector<std::unique_ptr<Warp>> warps;
            for (unsigned w = 0; w < threads / 32; w++) warps.push_back(std::make_unique<Warp>());
            std::vector<std::thread> running;
            for (unsigned t = 0; t < threads; t++) {
                running.emplace_back([&, t] {
                    threadIdx = {t, 0, 0};
                    blockIdx = {bx, by, 0};
                    blockDim = {threads, 1, 1};
                    currentWarp = warps[t / 32].get();
                    kernel();
                });
            }
            for (auto &thread : running) thread.join();
        }
    }
}
}

extern "C" void moesim_emulate_rows_dot(const uint16_t *weights, int rows, int cols, const float *x, int tokens, float *out) {
    launch((rows + MOESIM_WARPS_PER_BLOCK - 1) / MOESIM_WARPS_PER_BLOCK, 1, MOESIM_WARPS_PER_BLOCK * 32, [&] {
        moesim_rows_dot(reinterpret_cast<const __nv_bfloat16 *>(weights), rows, cols, x, tokens, out);
    });
}

extern "C" void moesim_emulate_grouped_rows_dot(const unsigned long long *experts, int count, int rows, int cols, const float *x,
                                                long long xStride, int tokens, float *out) {
    launch((rows + MOESIM_WARPS_PER_BLOCK - 1) / MOESIM_WARPS_PER_BLOCK, count, MOESIM_WARPS_PER_BLOCK * 32, [&] {
        moesim_grouped_rows_dot(experts, rows, cols, x, xStride, tokens, out);
    });
}

extern "C" void moesim_emulate_swiglu(const float *gateUp, int intermediate, int tokens, float *h) {
    launch((intermediate * tokens + 255) / 256, 1, 256, [&] { moesim_swiglu(gateUp, intermediate, tokens, h); });
}

extern "C" void moesim_emulate_spin(unsigned long long ns) {
    launch(1, 1, 32, [&] { moesim_spin(ns); });
}
