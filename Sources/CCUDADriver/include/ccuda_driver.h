// The subset of the CUDA driver API (cuda.h) that moesim's GPU backend calls, declared
// here so that moesim builds without a CUDA toolkit, and a loader that binds it from
// libcuda.so.1 with dlopen at run time. Types and signatures follow the CUDA Driver
// API reference (docs.nvidia.com/cuda/cuda-driver-api); where the driver exports
// versioned entry points (the _v2 suffixes of cuda.h's #defines), the loader binds those.
#ifndef MOESIM_CCUDA_DRIVER_H
#define MOESIM_CCUDA_DRIVER_H

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;

enum {
    MOESIM_CUDA_SUCCESS = 0,
    MOESIM_CU_STREAM_NON_BLOCKING = 0x1,
    MOESIM_CU_EVENT_DEFAULT = 0x0,
    MOESIM_CU_EVENT_DISABLE_TIMING = 0x2,
    MOESIM_CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT = 40,
    MOESIM_CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33,
    MOESIM_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    MOESIM_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

/// The driver entry points moesim uses, bound by moesim_cuda_load.
typedef struct moesim_cuda_api {
    void *handle;
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int *version);
    CUresult (*cuGetErrorString)(CUresult error, const char **text);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
    CUresult (*cuDeviceTotalMem)(size_t *bytes, CUdevice device);
    CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
    CUresult (*cuCtxSetCurrent)(CUcontext context);
    CUresult (*cuCtxSynchronize)(void);
    CUresult (*cuStreamCreate)(CUstream *stream, unsigned int flags);
    CUresult (*cuStreamDestroy)(CUstream stream);
    CUresult (*cuStreamSynchronize)(CUstream stream);
    CUresult (*cuStreamWaitEvent)(CUstream stream, CUevent event, unsigned int flags);
    CUresult (*cuEventCreate)(CUevent *event, unsigned int flags);
    CUresult (*cuEventDestroy)(CUevent event);
    CUresult (*cuEventRecord)(CUevent event, CUstream stream);
    CUresult (*cuEventSynchronize)(CUevent event);
    CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start, CUevent end);
    CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
    CUresult (*cuMemFree)(CUdeviceptr pointer);
    CUresult (*cuMemAllocHost)(void **pointer, size_t bytes);
    CUresult (*cuMemFreeHost)(void *pointer);
    CUresult (*cuMemsetD8)(CUdeviceptr pointer, unsigned char value, size_t count);
    CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr destination, const void *source, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoHAsync)(void *destination, CUdeviceptr source, size_t bytes, CUstream stream);
    CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*cuModuleUnload)(CUmodule module);
    CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
    CUresult (*cuLaunchKernel)(CUfunction function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                               unsigned int blockX, unsigned int blockY, unsigned int blockZ,
                               unsigned int sharedBytes, CUstream stream, void **parameters, void **extra);
} moesim_cuda_api;

/// Opens `path` (e.g. "libcuda.so.1") and binds every entry point of `api`. Returns 0 on
/// success; otherwise 1 (the library did not open) or 2 (an entry point is missing), with
/// the reason in `error` (dlerror's text, or the missing symbol's name).
int moesim_cuda_load(const char *path, moesim_cuda_api *api, char *error, size_t error_size);

/// Closes the library opened by moesim_cuda_load.
void moesim_cuda_unload(moesim_cuda_api *api);

/// Launches `function` over a grid of `grid` × `grid_y` blocks of `block` threads with the
/// given arguments (an array of pointers to each argument), a convenience so that Swift need
/// not build a void** itself.
CUresult moesim_cuda_launch_grid(const moesim_cuda_api *api, CUfunction function, unsigned int grid, unsigned int grid_y,
                                 unsigned int block, CUstream stream, void **arguments);

#endif
