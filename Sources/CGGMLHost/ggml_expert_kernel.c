#include "ggml_expert_kernel.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ggml's C API as its header (ggml.h, ggml-backend.h, ggml-cpu.h) declares it, with its
// structs and handles as opaque pointers; only ggml_init_params crosses by value, and its
// layout has been { size_t, void *, bool } since ggml began.
struct ggml_init_params { size_t mem_size; void *mem_buffer; bool no_alloc; };

struct moesim_ggml {
    void *handle;
    void *(*init)(struct ggml_init_params);
    void (*free_context)(void *);
    size_t (*tensor_overhead)(void);
    size_t (*graph_overhead_custom)(size_t, bool);
    void *(*new_tensor_2d)(void *, int, int64_t, int64_t);
    void *(*new_tensor_3d)(void *, int, int64_t, int64_t, int64_t);
    void *(*mul_mat_id)(void *, void *, void *, void *);
    void *(*new_graph_custom)(void *, size_t, bool);
    void (*build_forward_expand)(void *, void *);
    size_t (*row_size)(int, int64_t);
    int64_t (*blck_size)(int);
    const char *(*type_name)(int);
    bool (*quantize_requires_imatrix)(int);
    size_t (*quantize_chunk)(int, const float *, void *, int64_t, int64_t, int64_t, const float *);
    int64_t (*time_us)(void);
    void *(*backend_cpu_init)(void);
    void (*backend_cpu_set_n_threads)(void *, int);
    void *(*backend_alloc_ctx_tensors)(void *, void *);
    void (*backend_tensor_set)(void *, const void *, size_t, size_t);
    int (*backend_graph_compute)(void *, void *);
    void (*backend_buffer_free)(void *);
    void (*backend_free)(void *);
};

static void say(char *error, size_t size, const char *format, ...) {
    if (!error || size == 0) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, size, format, arguments);
    va_end(arguments);
}

moesim_ggml *moesim_ggml_open(const char *path, char *error, size_t error_size) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        say(error, error_size, "cannot be loaded: %s", dlerror());
        return NULL;
    }
    moesim_ggml *ggml = calloc(1, sizeof *ggml);
    if (!ggml) {
        dlclose(handle);
        say(error, error_size, "out of memory");
        return NULL;
    }
    ggml->handle = handle;
    // dlsym on the handle also searches the libraries it depends on (libggml-base).
#define RESOLVE(field, symbol) \
    if (!(*(void **)&ggml->field = dlsym(handle, symbol))) { \
        say(error, error_size, "has no %s (not ggml's CPU backend, or a ggml older than its backend API)", symbol); \
        dlclose(handle); free(ggml); return NULL; }
    RESOLVE(init, "ggml_init")
    RESOLVE(free_context, "ggml_free")
    RESOLVE(tensor_overhead, "ggml_tensor_overhead")
    RESOLVE(graph_overhead_custom, "ggml_graph_overhead_custom")
    RESOLVE(new_tensor_2d, "ggml_new_tensor_2d")
    RESOLVE(new_tensor_3d, "ggml_new_tensor_3d")
    RESOLVE(mul_mat_id, "ggml_mul_mat_id")
    RESOLVE(new_graph_custom, "ggml_new_graph_custom")
    RESOLVE(build_forward_expand, "ggml_build_forward_expand")
    RESOLVE(row_size, "ggml_row_size")
    RESOLVE(blck_size, "ggml_blck_size")
    RESOLVE(type_name, "ggml_type_name")
    RESOLVE(quantize_requires_imatrix, "ggml_quantize_requires_imatrix")
    RESOLVE(quantize_chunk, "ggml_quantize_chunk")
    RESOLVE(time_us, "ggml_time_us")
    RESOLVE(backend_cpu_init, "ggml_backend_cpu_init")
    RESOLVE(backend_cpu_set_n_threads, "ggml_backend_cpu_set_n_threads")
    RESOLVE(backend_alloc_ctx_tensors, "ggml_backend_alloc_ctx_tensors")
    RESOLVE(backend_tensor_set, "ggml_backend_tensor_set")
    RESOLVE(backend_graph_compute, "ggml_backend_graph_compute")
    RESOLVE(backend_buffer_free, "ggml_backend_buffer_free")
    RESOLVE(backend_free, "ggml_backend_free")
#undef RESOLVE
    return ggml;
}

void moesim_ggml_close(moesim_ggml *ggml) {
    if (!ggml) return;
    dlclose(ggml->handle);
    free(ggml);
}

/// ggml's weight types and their numbers in `enum ggml_type` (ggml.h), which only grows: "always
/// add types at the end of the enum to keep backward compatibility". ggml_type_name reads its
/// table without a bounds check in a release build, so only these numbers are asked about.
static const struct { const char *name; int type; } weight_types[] = {
    {"f32", 0}, {"f16", 1}, {"q4_0", 2}, {"q4_1", 3}, {"q5_0", 6}, {"q5_1", 7}, {"q8_0", 8},
    {"q2_K", 10}, {"q3_K", 11}, {"q4_K", 12}, {"q5_K", 13}, {"q6_K", 14},
    {"iq2_xxs", 16}, {"iq2_xs", 17}, {"iq3_xxs", 18}, {"iq1_s", 19}, {"iq4_nl", 20}, {"iq3_s", 21}, {"iq2_s", 22},
    {"iq4_xs", 23}, {"iq1_m", 29}, {"bf16", 30}, {"tq1_0", 34}, {"tq2_0", 35}, {"mxfp4", 39},
};

int moesim_ggml_type(moesim_ggml *ggml, const char *name) {
    for (size_t i = 0; i < sizeof weight_types / sizeof weight_types[0]; i++) {
        if (strcmp(weight_types[i].name, name) != 0) continue;
        const int type = weight_types[i].type;
        // A library that names the number otherwise is not the ggml this table follows.
        const char *known = ggml->type_name(type);
        if (!known || strcmp(known, name) != 0) return -1;
        return ggml->quantize_requires_imatrix(type) ? -2 : type;
    }
    return -1;
}

size_t moesim_ggml_row_size(moesim_ggml *ggml, int type, int64_t count) { return ggml->row_size(type, count); }

/// A deterministic stream of values in [-1, 1) (xorshift64*), so that runs quantise the same weights.
static float next_value(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (float)((*state * 2685821657736338717ULL) >> 40) / (float)(1 << 23) - 1.0f;
}

/// Fills `matrix` (`experts` matrices of `rows` × `columns` values of `type`) with four
/// quantised random matrices in turn: the values do not change the kernel's speed.
static int fill_weights(moesim_ggml *ggml, void *matrix, int type, int64_t columns, int64_t rows, int experts) {
    const size_t bytes = ggml->row_size(type, columns) * (size_t)rows;
    float *values = malloc(sizeof(float) * (size_t)(columns * rows));
    unsigned char *quantised = malloc(bytes * 4);
    if (!values || !quantised) { free(values); free(quantised); return -1; }
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    for (int copy = 0; copy < 4; copy++) {
        for (int64_t i = 0; i < columns * rows; i++) values[i] = next_value(&state);
        ggml->quantize_chunk(type, values, quantised + bytes * copy, 0, rows, columns, NULL);
    }
    for (int expert = 0; expert < experts; expert++) {
        ggml->backend_tensor_set(matrix, quantised + bytes * (expert % 4), bytes * (size_t)expert, bytes);
    }
    free(values);
    free(quantised);
    return 0;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int moesim_ggml_time_expert(moesim_ggml *ggml, int gate_up_type, int down_type, int64_t hidden, int64_t intermediate,
                            int experts, int used, int tokens, int threads, size_t budget_bytes, int passes,
                            double *ns_per_expert, char *error, size_t error_size) {
    const int64_t gate_up_block = ggml->blck_size(gate_up_type), down_block = ggml->blck_size(down_type);
    if (hidden % gate_up_block != 0 || intermediate % down_block != 0) {
        say(error, error_size, "the expert's widths (%lld, %lld) are not multiples of the types' blocks (%lld, %lld)",
            (long long)hidden, (long long)intermediate, (long long)gate_up_block, (long long)down_block);
        return 1;
    }
    if (used < 1 || used > experts || tokens < 1 || passes < 1 || threads < 1) {
        say(error, error_size, "needs 1 <= used <= experts, and at least one token, pass and thread");
        return 1;
    }
    const size_t set_bytes = (size_t)experts * (2 * ggml->row_size(gate_up_type, hidden) * (size_t)intermediate
                                                + ggml->row_size(down_type, intermediate) * (size_t)hidden);
    const size_t whole_sets = (budget_bytes + set_bytes - 1) / set_bytes;
    const int sets = whole_sets > 0 ? (int)whole_sets : 1;
    const int groups = experts / used;
    const int nodes = sets * groups;
    const size_t graph_size = (size_t)nodes * 3 + (size_t)sets * 3 + (size_t)groups + 16;
    const size_t tensors = (size_t)sets * 3 + (size_t)groups + 2 + (size_t)nodes * 3 + 16;
    struct ggml_init_params parameters = {
        tensors * ggml->tensor_overhead() + ggml->graph_overhead_custom(graph_size, false), NULL, true };
    void *context = ggml->init(parameters);
    if (!context) { say(error, error_size, "ggml_init failed"); return 1; }
    void **matrices = calloc((size_t)sets * 3, sizeof(void *));
    void **ids = calloc((size_t)groups, sizeof(void *));
    void **outputs = calloc((size_t)nodes * 3, sizeof(void *));
    double *times = calloc((size_t)passes, sizeof(double));
    int status = 1;
    void *backend = NULL, *buffer = NULL;
    if (!matrices || !ids || !outputs || !times) { say(error, error_size, "out of memory"); goto done; }
    for (int set = 0; set < sets; set++) {
        matrices[set * 3] = ggml->new_tensor_3d(context, gate_up_type, hidden, intermediate, experts);
        matrices[set * 3 + 1] = ggml->new_tensor_3d(context, gate_up_type, hidden, intermediate, experts);
        matrices[set * 3 + 2] = ggml->new_tensor_3d(context, down_type, intermediate, hidden, experts);
    }
    for (int group = 0; group < groups; group++) ids[group] = ggml->new_tensor_2d(context, 26 /* GGML_TYPE_I32 */, used, tokens);
    void *input = ggml->new_tensor_3d(context, 0 /* GGML_TYPE_F32 */, hidden, used, tokens);
    void *down_input = ggml->new_tensor_3d(context, 0, intermediate, used, tokens);
    for (int node = 0; node < nodes; node++) {
        void **weights = matrices + (node % sets) * 3;
        void *routed = ids[node / sets];
        outputs[node * 3] = ggml->mul_mat_id(context, weights[0], input, routed);
        outputs[node * 3 + 1] = ggml->mul_mat_id(context, weights[1], input, routed);
        outputs[node * 3 + 2] = ggml->mul_mat_id(context, weights[2], down_input, routed);
    }
    void *graph = ggml->new_graph_custom(context, graph_size, false);
    for (int i = 0; i < nodes * 3; i++) ggml->build_forward_expand(graph, outputs[i]);
    backend = ggml->backend_cpu_init();
    if (!backend) { say(error, error_size, "ggml_backend_cpu_init failed"); goto done; }
    ggml->backend_cpu_set_n_threads(backend, threads);
    buffer = ggml->backend_alloc_ctx_tensors(context, backend);
    if (!buffer) {
        say(error, error_size, "could not allocate %.0f MiB of weights", (double)(set_bytes * (size_t)sets) / 1048576.0);
        goto done;
    }
    for (int set = 0; set < sets; set++) {
        if (fill_weights(ggml, matrices[set * 3], gate_up_type, hidden, intermediate, experts) != 0
            || fill_weights(ggml, matrices[set * 3 + 1], gate_up_type, hidden, intermediate, experts) != 0
            || fill_weights(ggml, matrices[set * 3 + 2], down_type, intermediate, hidden, experts) != 0) {
            say(error, error_size, "out of memory");
            goto done;
        }
    }
    {
        int32_t *routing = malloc(sizeof(int32_t) * (size_t)used * (size_t)tokens);
        const size_t activations = (size_t)(hidden > intermediate ? hidden : intermediate) * (size_t)used * (size_t)tokens;
        float *values = malloc(sizeof(float) * activations);
        if (!routing || !values) { free(routing); free(values); say(error, error_size, "out of memory"); goto done; }
        // Every token of a group's op goes to the same `used` experts, so each expert takes `tokens` tokens.
        for (int group = 0; group < groups; group++) {
            for (int token = 0; token < tokens; token++) {
                for (int slot = 0; slot < used; slot++) routing[token * used + slot] = group * used + slot;
            }
            ggml->backend_tensor_set(ids[group], routing, 0, sizeof(int32_t) * (size_t)used * (size_t)tokens);
        }
        uint64_t state = 0x2545F4914F6CDD1DULL;
        for (size_t i = 0; i < activations; i++) values[i] = next_value(&state);
        ggml->backend_tensor_set(input, values, 0, sizeof(float) * (size_t)(hidden * used * tokens));
        ggml->backend_tensor_set(down_input, values, 0, sizeof(float) * (size_t)(intermediate * used * tokens));
        free(routing);
        free(values);
    }
    if (ggml->backend_graph_compute(backend, graph) != 0) { say(error, error_size, "ggml_backend_graph_compute failed"); goto done; }
    for (int pass = 0; pass < passes; pass++) {
        const int64_t start = ggml->time_us();
        if (ggml->backend_graph_compute(backend, graph) != 0) { say(error, error_size, "ggml_backend_graph_compute failed"); goto done; }
        times[pass] = (double)(ggml->time_us() - start);
    }
    qsort(times, (size_t)passes, sizeof(double), compare_doubles);
    *ns_per_expert = times[passes / 2] * 1000.0 / ((double)nodes * (double)used);
    status = 0;
done:
    if (buffer) ggml->backend_buffer_free(buffer);
    if (backend) ggml->backend_free(backend);
    ggml->free_context(context);
    free(matrices);
    free(ids);
    free(outputs);
    free(times);
    return status;
}
