// A stand-in for llama.cpp's libggml-cpu.so, for the tests of `host calibrate --ggml` on
// machines without ggml: the functions moesim's CGGMLHost resolves, with ggml's signatures.
// It checks what a real ggml would assert (shapes, ids in range, writes inside tensors,
// weights written before use, the context's size) and times each MUL_MAT_ID on a virtual
// clock (ggml_time_us) at FAKE_BASE_NS + FAKE_PER_TOKEN_NS × tokens per expert, so that a
// test knows the exact table a correct timing yields. Built by the tests with `cc -shared`;
// with -DFAKE_OMIT_TIME it lacks ggml_time_us, as a library that is not ggml's would.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_BASE_NS 20000
#define FAKE_PER_TOKEN_NS 10000

struct ggml_init_params { size_t mem_size; void *mem_buffer; bool no_alloc; };

struct tensor {
    int type;
    int64_t ne[3];
    int op;  // 0: leaf, 1: MUL_MAT_ID
    struct tensor *src[3];
    unsigned char *data;
    size_t written;
};
struct context { struct tensor **tensors; size_t count, capacity; size_t budget, used; };
struct graph { struct tensor **nodes; size_t count, size; };
struct buffer { struct context *context; };

static int64_t clock_ns = 1000000;
static long long ops = 0;
static char failure[256] = "";

static void fail(const char *reason) { if (!failure[0]) snprintf(failure, sizeof failure, "%s", reason); }

/// What the fake found wrong ("" when nothing), and the MUL_MAT_IDs it has computed.
const char *fake_ggml_failure(void) { return failure; }
long long fake_ggml_ops(void) { return ops; }

static const struct { const char *name; int64_t block; size_t bytes; bool imatrix; } types[] = {
    [0] = {"f32", 1, 4, false}, [1] = {"f16", 1, 2, false}, [2] = {"q4_0", 32, 18, false}, [8] = {"q8_0", 32, 34, false},
    [12] = {"q4_K", 256, 144, false}, [14] = {"q6_K", 256, 210, false}, [16] = {"iq2_xxs", 256, 66, true}, [26] = {"i32", 1, 4, false},
};
#define TYPE_COUNT 27

const char *ggml_type_name(int type) {
    // ggml's own reads past its table for a number it does not have: the fake says so.
    if (type < 0 || type >= TYPE_COUNT) { fail("ggml_type_name of a number past the library's types"); return "NONE"; }
    return types[type].name;
}
int64_t ggml_blck_size(int type) { return type < 27 && types[type].name ? types[type].block : 1; }
bool ggml_quantize_requires_imatrix(int type) { return type < 27 && types[type].imatrix; }
size_t ggml_row_size(int type, int64_t count) {
    if (type >= 27 || !types[type].name || count % types[type].block != 0) { fail("ggml_row_size of a count that is not whole blocks"); return 0; }
    return types[type].bytes * (size_t)(count / types[type].block);
}
#ifndef FAKE_OMIT_TIME
int64_t ggml_time_us(void) { return clock_ns / 1000; }
#endif

size_t ggml_tensor_overhead(void) { return 368; }
size_t ggml_graph_overhead_custom(size_t size, bool grads) { (void)grads; return 64 + size * 3 * sizeof(void *); }

void *ggml_init(struct ggml_init_params parameters) {
    struct context *context = calloc(1, sizeof *context);
    context->budget = parameters.mem_size;
    if (!parameters.no_alloc) fail("ggml_init without no_alloc: the backend allocates the tensors");
    return context;
}

void ggml_free(void *opaque) {
    struct context *context = opaque;
    for (size_t i = 0; i < context->count; i++) free(context->tensors[i]);
    free(context->tensors);
    free(context);
}

static size_t tensor_bytes(const struct tensor *t) { return ggml_row_size(t->type, t->ne[0]) * (size_t)(t->ne[1] * t->ne[2]); }

static struct tensor *new_tensor(struct context *context, int type, int64_t a, int64_t b, int64_t c) {
    context->used += ggml_tensor_overhead();
    if (context->used > context->budget) fail("the context's mem_size is too small for its tensors");
    struct tensor *t = calloc(1, sizeof *t);
    t->type = type; t->ne[0] = a; t->ne[1] = b; t->ne[2] = c;
    if (context->count == context->capacity) {
        context->capacity = context->capacity ? context->capacity * 2 : 64;
        context->tensors = realloc(context->tensors, context->capacity * sizeof(void *));
    }
    context->tensors[context->count++] = t;
    return t;
}

void *ggml_new_tensor_2d(void *context, int type, int64_t a, int64_t b) { return new_tensor(context, type, a, b, 1); }
void *ggml_new_tensor_3d(void *context, int type, int64_t a, int64_t b, int64_t c) { return new_tensor(context, type, a, b, c); }

void *ggml_mul_mat_id(void *context, void *as_opaque, void *b_opaque, void *ids_opaque) {
    struct tensor *as = as_opaque, *b = b_opaque, *ids = ids_opaque;
    if (as->ne[0] != b->ne[0] || ids->ne[0] != b->ne[1] || ids->ne[1] != b->ne[2] || ids->type != 26 || b->type != 0) {
        fail("ggml_mul_mat_id with shapes ggml would refuse");
    }
    struct tensor *out = new_tensor(context, 0, as->ne[1], ids->ne[0], ids->ne[1]);
    out->op = 1; out->src[0] = as; out->src[1] = b; out->src[2] = ids;
    return out;
}

void *ggml_new_graph_custom(void *opaque, size_t size, bool grads) {
    struct context *context = opaque;
    (void)grads;
    context->used += ggml_graph_overhead_custom(size, false);
    if (context->used > context->budget) fail("the context's mem_size is too small for its graph");
    struct graph *graph = calloc(1, sizeof *graph);
    graph->nodes = calloc(size, sizeof(void *));
    graph->size = size;
    // The graph lives in the context, as ggml's does: freed with it (kept simple: leaked by the fake).
    return graph;
}

void ggml_build_forward_expand(void *opaque, void *tensor) {
    struct graph *graph = opaque;
    if (graph->count == graph->size) { fail("more nodes than the graph's size"); return; }
    graph->nodes[graph->count++] = tensor;
}

size_t ggml_quantize_chunk(int type, const float *source, void *destination, int64_t start, int64_t rows, int64_t per_row, const float *imatrix) {
    (void)source; (void)imatrix;
    if (start != 0) fail("ggml_quantize_chunk from a start the timing does not use");
    size_t bytes = ggml_row_size(type, per_row) * (size_t)rows;
    memset(destination, 0x11, bytes);
    return bytes;
}

void *ggml_backend_cpu_init(void) { return calloc(1, 16); }
void ggml_backend_cpu_set_n_threads(void *backend, int threads) { (void)backend; if (threads < 1) fail("threads below 1"); }
void ggml_backend_free(void *backend) { free(backend); }

void *ggml_backend_alloc_ctx_tensors(void *opaque, void *backend) {
    struct context *context = opaque;
    (void)backend;
    for (size_t i = 0; i < context->count; i++) {
        struct tensor *t = context->tensors[i];
        // Weights need no memory of their own here: only the writes into them are checked.
        t->data = t->op == 0 && t->type != 0 && t->type != 26 ? NULL : calloc(1, tensor_bytes(t));
    }
    struct buffer *buffer = calloc(1, sizeof *buffer);
    buffer->context = context;
    return buffer;
}

void ggml_backend_buffer_free(void *opaque) {
    struct buffer *buffer = opaque;
    for (size_t i = 0; i < buffer->context->count; i++) { free(buffer->context->tensors[i]->data); buffer->context->tensors[i]->data = NULL; }
    free(buffer);
}

void ggml_backend_tensor_set(void *opaque, const void *data, size_t offset, size_t size) {
    struct tensor *t = opaque;
    if (offset + size > tensor_bytes(t)) { fail("ggml_backend_tensor_set past the end of a tensor"); return; }
    if (t->data) memcpy(t->data + offset, data, size);
    t->written += size;
}

int ggml_backend_graph_compute(void *backend, void *opaque) {
    struct graph *graph = opaque;
    (void)backend;
    for (size_t i = 0; i < graph->count; i++) {
        struct tensor *node = graph->nodes[i], *as = node->src[0], *ids = node->src[2];
        if (node->op != 1) continue;
        if (as->written < tensor_bytes(as)) fail("a MUL_MAT_ID read weights never written");
        const int32_t *routed = (const int32_t *)ids->data;
        for (int64_t j = 0; j < ids->ne[0] * ids->ne[1]; j++) {
            if (routed[j] < 0 || routed[j] >= as->ne[2]) fail("an expert id outside the weights");
        }
        // Each of the op's experts takes the tokens routed to it (ids counted per expert).
        for (int64_t slot = 0; slot < ids->ne[0]; slot++) {
            int64_t tokens = 0;
            for (int64_t j = 0; j < ids->ne[0] * ids->ne[1]; j++) tokens += routed[j] == routed[slot];
            clock_ns += FAKE_BASE_NS + FAKE_PER_TOKEN_NS * tokens;
        }
        ops++;
    }
    return failure[0] ? -1 : 0;
}
