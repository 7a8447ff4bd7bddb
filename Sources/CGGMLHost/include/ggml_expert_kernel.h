#ifndef MOESIM_GGML_EXPERT_KERNEL_H
#define MOESIM_GGML_EXPERT_KERNEL_H
#include <stddef.h>
#include <stdint.h>

/// ggml's CPU backend (llama.cpp's `libggml-cpu`), opened at run time with dlopen, as
/// CCUDADriver opens libcuda: moesim neither links ggml nor ships it.
typedef struct moesim_ggml moesim_ggml;

/// Opens the library at `path` and resolves the functions the expert timing calls; NULL with
/// the reason in `error` when the file cannot be loaded or lacks one of them.
moesim_ggml *moesim_ggml_open(const char *path, char *error, size_t error_size);

/// Closes a library from ``moesim_ggml_open``.
void moesim_ggml_close(moesim_ggml *ggml);

/// ggml's number for the type named `name` as ggml names it (`q4_K`, `q6_K`, `q8_0`, `f16`);
/// -1 when the library has no such type, -2 when quantising to it needs an importance matrix.
int moesim_ggml_type(moesim_ggml *ggml, const char *name);

/// Bytes of one row of `count` values of `type`.
size_t moesim_ggml_row_size(moesim_ggml *ggml, int type, int64_t count);

/// Times one routed expert's FFN as llama.cpp's CPU path computes it: `MUL_MAT_ID` over the
/// gate and the up matrices (`hidden` → `intermediate`, of `gate_up_type`) and the down matrix
/// (`intermediate` → `hidden`, of `down_type`), `used` experts of `experts` per op, each with
/// `tokens` tokens, on `threads` threads. The ops cycle over weight tensors of at least
/// `budget_bytes` in all, so that experts are read from memory rather than the caches; the
/// graph runs once untimed, then `passes` times, timed with ggml's own clock. Writes the
/// median pass's time per expert (three matrices), ns, and returns 0; nonzero with the
/// reason in `error`.
int moesim_ggml_time_expert(moesim_ggml *ggml, int gate_up_type, int down_type, int64_t hidden, int64_t intermediate,
                            int experts, int used, int tokens, int threads, size_t budget_bytes, int passes,
                            double *ns_per_expert, char *error, size_t error_size);

#endif
