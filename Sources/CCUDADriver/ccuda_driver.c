#include "ccuda_driver.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// Each entry point with the exported names to try, newest first: cuda.h maps e.g.
// cuMemAlloc to cuMemAlloc_v2, and drivers keep exporting the older names.
struct binding {
    size_t offset;
    const char *names[3];
};

#define BIND(field, ...) { offsetof(moesim_cuda_api, field), { __VA_ARGS__ } }

static const struct binding bindings[] = {
    BIND(cuInit, "cuInit"),
    BIND(cuDriverGetVersion, "cuDriverGetVersion"),
    BIND(cuGetErrorString, "cuGetErrorString"),
    BIND(cuDeviceGetCount, "cuDeviceGetCount"),
    BIND(cuDeviceGet, "cuDeviceGet"),
    BIND(cuDeviceGetName, "cuDeviceGetName"),
    BIND(cuDeviceTotalMem, "cuDeviceTotalMem_v2", "cuDeviceTotalMem"),
    BIND(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
    BIND(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
    BIND(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"),
    BIND(cuCtxSetCurrent, "cuCtxSetCurrent"),
    BIND(cuCtxSynchronize, "cuCtxSynchronize"),
    BIND(cuStreamCreate, "cuStreamCreate"),
    BIND(cuStreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy"),
    BIND(cuStreamSynchronize, "cuStreamSynchronize"),
    BIND(cuStreamWaitEvent, "cuStreamWaitEvent"),
    BIND(cuEventCreate, "cuEventCreate"),
    BIND(cuEventDestroy, "cuEventDestroy_v2", "cuEventDestroy"),
    BIND(cuEventRecord, "cuEventRecord"),
    BIND(cuEventSynchronize, "cuEventSynchronize"),
    BIND(cuEventElapsedTime, "cuEventElapsedTime", "cuEventElapsedTime_v2"),
    BIND(cuMemAlloc, "cuMemAlloc_v2", "cuMemAlloc"),
    BIND(cuMemFree, "cuMemFree_v2", "cuMemFree"),
    BIND(cuMemAllocHost, "cuMemAllocHost_v2", "cuMemAllocHost"),
    BIND(cuMemFreeHost, "cuMemFreeHost"),
    BIND(cuMemsetD8, "cuMemsetD8_v2", "cuMemsetD8"),
    BIND(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", "cuMemcpyHtoDAsync"),
    BIND(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoHAsync"),
    BIND(cuModuleLoadData, "cuModuleLoadData"),
    BIND(cuModuleUnload, "cuModuleUnload"),
    BIND(cuModuleGetFunction, "cuModuleGetFunction"),
    BIND(cuLaunchKernel, "cuLaunchKernel"),
};

int moesim_cuda_load(const char *path, moesim_cuda_api *api, char *error, size_t error_size) {
    memset(api, 0, sizeof *api);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(error, error_size, "%s", reason ? reason : "dlopen failed");
        return 1;
    }
    for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++) {
        void *symbol = NULL;
        for (int k = 0; k < 3 && bindings[i].names[k] && !symbol; k++) symbol = dlsym(handle, bindings[i].names[k]);
        if (!symbol) {
            snprintf(error, error_size, "%s", bindings[i].names[0]);
            dlclose(handle);
            memset(api, 0, sizeof *api);
            return 2;
        }
        memcpy((char *)api + bindings[i].offset, &symbol, sizeof symbol);
    }
    api->handle = handle;
    return 0;
}

void moesim_cuda_unload(moesim_cuda_api *api) {
    if (api->handle) dlclose(api->handle);
    memset(api, 0, sizeof *api);
}

CUresult moesim_cuda_launch_grid(const moesim_cuda_api *api, CUfunction function, unsigned int grid, unsigned int grid_y,
                                 unsigned int block, CUstream stream, void **arguments) {
    return api->cuLaunchKernel(function, grid, grid_y, 1, block, 1, 1, 0, stream, arguments, NULL);
}
