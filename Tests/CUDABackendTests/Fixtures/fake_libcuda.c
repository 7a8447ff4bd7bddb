// A stand-in for libcuda.so.1, built by the tests with the system C compiler, so that the
// CUDA backend's loading, call order and error paths run on machines without a GPU.
//
// It keeps a log of the calls made ("name" or "cuLaunchKernel:kernel"), can be told to fail
// one named call with a given code (fake_cuda_fail), and runs a GPU clock: a copy either way
// takes 2,000 ns + bytes / 25 (25 GB/s), moesim_rows_dot 3,000 ns + weight bytes / 1,000
// (1,000 GB/s), moesim_grouped_rows_dot 3,000 ns + every expert's weight bytes / 1,000,
// moesim_swiglu 1,000 ns, moesim_spin its parameter's ns and moesim_empty 3,000 ns. Each
// stream runs its work in order; copies share one copy engine and kernels one compute engine,
// each doing one thing at a time, and the two engines run side by side (so a copy overlaps a
// kernel on another stream, two kernels never overlap); a stream waiting for an event starts
// its next work no earlier than the event, which records when its stream's earlier work ends;
// nothing queued after the host waited for GPU time t runs (or records) before t. A
// host-to-device copy from memory cuMemAllocHost did not give (pageable memory) moves at 12.5
// GB/s and holds the host, as the driver API's "API synchronization behavior" says of pageable
// copies: the stream is synchronised first, and the call returns once the data is staged
// (here: once it has landed).
// Its host clock (fake_cuda_host_ns) takes 1,000 ns per driver call and, at a synchronising
// call (stream, event or context), advances by the GPU time since its last wait. Its GPU has
// 80 GiB (fake_cuda_set_total_memory changes it, before a context reads it) and cuMemAlloc
// fails with CUDA_ERROR_OUT_OF_MEMORY past that. Built with -DFAKE_OMIT_LAUNCH it lacks
// cuLaunchKernel.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static char call_log[1 << 20];
static size_t log_used;
static char fail_name[128];
static int fail_code;
static int initialised;
static void *current_context;
static double host_ns;
static double synced_clock_ns;
struct fake_stream { double ready; };
static struct fake_stream default_stream;
static double copy_engine_free;
static double compute_engine_free;
static double latest_ns;
static CUdeviceptr next_address = 0x10000;
static size_t total_memory = (size_t)80 << 30;
static size_t allocated_memory;
struct fake_allocation { CUdeviceptr at; size_t bytes; };
static struct fake_allocation allocations[4096];
static int allocation_count;
static void *pinned[4096];
static size_t pinned_bytes[4096];
static int pinned_count;

// Whether `pointer` lies in memory cuMemAllocHost gave.
static int is_pinned(const void *pointer) {
    for (int i = 0; i < pinned_count; i++) {
        if ((const char *)pointer >= (const char *)pinned[i] && (const char *)pointer < (const char *)pinned[i] + pinned_bytes[i]) return 1;
    }
    return 0;
}

struct fake_event { int timing; int recorded; double at; };
struct fake_function { char name[64]; };
struct fake_module { char *image; };

void fake_cuda_fail(const char *name, int code) {
    snprintf(fail_name, sizeof fail_name, "%s", name ? name : "");
    fail_code = code;
}
void fake_cuda_set_total_memory(size_t bytes) { total_memory = bytes; }
const char *fake_cuda_log(void) { return call_log; }
double fake_cuda_host_ns(void) { return host_ns; }

static struct fake_stream *stream_of(void *stream) { return stream ? (struct fake_stream *)stream : &default_stream; }

// When `stream` can next do something: after its earlier work, and not before the GPU time
// the host last waited for (work queued after a wait cannot run before it).
static double stream_now(void *stream) {
    struct fake_stream *queue = stream_of(stream);
    return queue->ready > synced_clock_ns ? queue->ready : synced_clock_ns;
}

// Runs `ns` of work on `stream` and `engine`: after the stream's earlier work and the engine's.
static void run_on(void *stream, double *engine, double ns) {
    struct fake_stream *queue = stream_of(stream);
    double start = stream_now(stream) > *engine ? stream_now(stream) : *engine;
    queue->ready = *engine = start + ns;
    if (queue->ready > latest_ns) latest_ns = queue->ready;
}

// The host waits until GPU time `t`: its clock advances by the GPU time since the last wait.
static void wait_until(double t) {
    if (t <= synced_clock_ns) return;
    host_ns += t - synced_clock_ns;
    synced_clock_ns = t;
}

static CUresult enter(const char *name) {
    size_t length = strlen(name);
    if (strncmp(name, "cuLaunchKernel:", 15) != 0) host_ns += 1000.0;
    if (log_used + length + 2 < sizeof call_log) {
        memcpy(call_log + log_used, name, length);
        log_used += length;
        call_log[log_used++] = '\n';
        call_log[log_used] = 0;
    }
    if (fail_name[0] && strcmp(fail_name, name) == 0) return fail_code;
    if (strcmp(name, "cuInit") != 0 && strcmp(name, "cuGetErrorString") != 0 && strcmp(name, "cuDriverGetVersion") != 0 && !initialised)
        return 3; /* CUDA_ERROR_NOT_INITIALIZED */
    return 0;
}

static CUresult need_context(void) { return current_context ? 0 : 201; /* CUDA_ERROR_INVALID_CONTEXT */ }

CUresult cuInit(unsigned int flags) {
    CUresult r = enter("cuInit");
    if (r) return r;
    if (flags != 0) return 1;
    initialised = 1;
    return 0;
}
CUresult cuDriverGetVersion(int *version) { CUresult r = enter("cuDriverGetVersion"); if (!r) *version = 13000; return r; }
CUresult cuGetErrorString(CUresult error, const char **text) {
    switch (error) {
    case 1: *text = "invalid argument"; break;
    case 2: *text = "out of memory"; break;
    case 3: *text = "initialization error"; break;
    case 201: *text = "invalid device context"; break;
    case 400: *text = "invalid resource handle"; break;
    case 500: *text = "named symbol not found"; break;
    case 999: *text = "unknown error"; break;
    default: *text = "fake error"; break;
    }
    return 0;
}
CUresult cuDeviceGetCount(int *count) { CUresult r = enter("cuDeviceGetCount"); if (!r) *count = 1; return r; }
CUresult cuDeviceGet(int *device, int ordinal) {
    CUresult r = enter("cuDeviceGet");
    if (r) return r;
    if (ordinal != 0) return 101;
    *device = 0;
    return 0;
}
CUresult cuDeviceGetName(char *name, int length, int device) {
    CUresult r = enter("cuDeviceGetName");
    if (!r) snprintf(name, (size_t)length, "Fake NVIDIA H100 PCIe");
    return r;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int device) { CUresult r = enter("cuDeviceTotalMem_v2"); if (!r) *bytes = total_memory; return r; }
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
    CUresult r = enter("cuDeviceGetAttribute");
    if (r) return r;
    switch (attribute) {
    case 40: *value = 2; break;
    case 75: *value = 9; break;
    case 76: *value = 0; break;
    default: return 1;
    }
    return 0;
}
static int primary_context;
CUresult cuDevicePrimaryCtxRetain(void **context, int device) { CUresult r = enter("cuDevicePrimaryCtxRetain"); if (!r) *context = &primary_context; return r; }
CUresult cuDevicePrimaryCtxRelease_v2(int device) { return enter("cuDevicePrimaryCtxRelease_v2"); }
CUresult cuCtxSetCurrent(void *context) { CUresult r = enter("cuCtxSetCurrent"); if (!r) current_context = context; return r; }
CUresult cuCtxSynchronize(void) {
    CUresult r = enter("cuCtxSynchronize");
    if (r || (r = need_context())) return r;
    wait_until(latest_ns);
    return 0;
}
CUresult cuStreamCreate(void **stream, unsigned int flags) {
    CUresult r = enter("cuStreamCreate");
    if (r || (r = need_context())) return r;
    *stream = calloc(1, sizeof(struct fake_stream));
    return 0;
}
CUresult cuStreamDestroy_v2(void *stream) { CUresult r = enter("cuStreamDestroy_v2"); free(stream); return r; }
CUresult cuStreamSynchronize(void *stream) {
    CUresult r = enter("cuStreamSynchronize");
    if (!r) wait_until(stream_of(stream)->ready);
    return r;
}
CUresult cuStreamWaitEvent(void *stream, struct fake_event *event, unsigned int flags) {
    CUresult r = enter("cuStreamWaitEvent");
    if (r) return r;
    if (!event || !event->recorded) return 400;
    if (event->at > stream_of(stream)->ready) stream_of(stream)->ready = event->at;
    return 0;
}
CUresult cuEventCreate(struct fake_event **event, unsigned int flags) {
    CUresult r = enter("cuEventCreate");
    if (r || (r = need_context())) return r;
    *event = calloc(1, sizeof **event);
    (*event)->timing = !(flags & 2);
    return 0;
}
CUresult cuEventDestroy_v2(struct fake_event *event) { CUresult r = enter("cuEventDestroy_v2"); free(event); return r; }
CUresult cuEventRecord(struct fake_event *event, void *stream) {
    CUresult r = enter("cuEventRecord");
    if (r) return r;
    event->recorded = 1;
    event->at = stream_now(stream);
    return 0;
}
CUresult cuEventSynchronize(struct fake_event *event) {
    CUresult r = enter("cuEventSynchronize");
    if (r) return r;
    if (!event->recorded) return 400;
    wait_until(event->at);
    return 0;
}
CUresult cuEventElapsedTime(float *milliseconds, struct fake_event *start, struct fake_event *end) {
    CUresult r = enter("cuEventElapsedTime");
    if (r) return r;
    if (!start->recorded || !end->recorded || !start->timing || !end->timing) return 400;
    *milliseconds = (float)((end->at - start->at) / 1e6);
    return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
    CUresult r = enter("cuMemAlloc_v2");
    if (r || (r = need_context())) return r;
    if (bytes == 0) return 1;
    if (bytes > total_memory - allocated_memory) return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
    if (allocation_count == (int)(sizeof allocations / sizeof allocations[0])) return 2;
    *pointer = next_address;
    next_address += (bytes + 0xffff) & ~(CUdeviceptr)0xffff;
    allocations[allocation_count++] = (struct fake_allocation){ *pointer, bytes };
    allocated_memory += bytes;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr pointer) {
    CUresult r = enter("cuMemFree_v2");
    for (int i = 0; i < allocation_count; i++) {
        if (allocations[i].at != pointer) continue;
        allocated_memory -= allocations[i].bytes;
        allocations[i] = allocations[--allocation_count];
        break;
    }
    return r;
}
CUresult cuMemAllocHost_v2(void **pointer, size_t bytes) {
    CUresult r = enter("cuMemAllocHost_v2");
    if (r || (r = need_context())) return r;
    *pointer = malloc(bytes);
    if (!*pointer) return 2;
    if (pinned_count < (int)(sizeof pinned / sizeof pinned[0])) {
        pinned[pinned_count] = *pointer;
        pinned_bytes[pinned_count++] = bytes;
    }
    return 0;
}
CUresult cuMemFreeHost(void *pointer) {
    CUresult r = enter("cuMemFreeHost");
    for (int i = 0; i < pinned_count; i++) {
        if (pinned[i] != pointer) continue;
        pinned[i] = pinned[--pinned_count];
        pinned_bytes[i] = pinned_bytes[pinned_count];
        break;
    }
    free(pointer);
    return r;
}
CUresult cuMemsetD8_v2(CUdeviceptr pointer, unsigned char value, size_t count) { return enter("cuMemsetD8_v2"); }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void *source, size_t bytes, void *stream) {
    CUresult r = enter("cuMemcpyHtoDAsync_v2");
    if (r) return r;
    if (!source || !destination) return 1;
    if (is_pinned(source)) {
        run_on(stream, &copy_engine_free, 2000.0 + (double)bytes / 25.0);
        return 0;
    }
    wait_until(stream_now(stream));
    run_on(stream, &copy_engine_free, 2000.0 + (double)bytes / 12.5);
    wait_until(stream_of(stream)->ready);
    return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *destination, CUdeviceptr source, size_t bytes, void *stream) {
    CUresult r = enter("cuMemcpyDtoHAsync_v2");
    if (r) return r;
    if (!source || !destination) return 1;
    run_on(stream, &copy_engine_free, 2000.0 + (double)bytes / 25.0);
    return 0;
}
CUresult cuModuleLoadData(struct fake_module **module, const void *image) {
    CUresult r = enter("cuModuleLoadData");
    if (r || (r = need_context())) return r;
    if (!strstr((const char *)image, ".version") || !strstr((const char *)image, ".entry")) return 218; /* CUDA_ERROR_INVALID_PTX */
    *module = calloc(1, sizeof **module);
    (*module)->image = strdup((const char *)image);
    return 0;
}
CUresult cuModuleUnload(struct fake_module *module) { CUresult r = enter("cuModuleUnload"); free(module->image); free(module); return r; }
CUresult cuModuleGetFunction(struct fake_function **function, struct fake_module *module, const char *name) {
    CUresult r = enter("cuModuleGetFunction");
    if (r) return r;
    char entry[96];
    snprintf(entry, sizeof entry, ".entry %s(", name);
    if (!strstr(module->image, entry)) return 500;
    *function = calloc(1, sizeof **function);
    snprintf((*function)->name, sizeof (*function)->name, "%s", name);
    return 0;
}
#ifndef FAKE_OMIT_LAUNCH
CUresult cuLaunchKernel(struct fake_function *function, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared, void *stream,
                        void **parameters, void **extra) {
    char name[96];
    snprintf(name, sizeof name, "cuLaunchKernel:%s", function->name);
    CUresult r = enter(name);
    if (r || (r = enter("cuLaunchKernel"))) return r;
    double ns = 3000.0;
    if (strcmp(function->name, "moesim_rows_dot") == 0) {
        int rows = *(int *)parameters[1], columns = *(int *)parameters[2];
        ns = 3000.0 + (double)rows * columns * 2 / 1000.0;
    } else if (strcmp(function->name, "moesim_grouped_rows_dot") == 0) {
        int rows = *(int *)parameters[1], columns = *(int *)parameters[2];
        ns = 3000.0 + (double)gy * rows * columns * 2 / 1000.0;
    } else if (strcmp(function->name, "moesim_swiglu") == 0) {
        ns = 1000.0;
    } else if (strcmp(function->name, "moesim_spin") == 0) {
        ns = (double)*(unsigned long long *)parameters[0];
    }
    run_on(stream, &compute_engine_free, ns);
    return 0;
}
#endif
