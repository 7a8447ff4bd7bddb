#ifndef MOESIM_CZSTD_SHIM_H
#define MOESIM_CZSTD_SHIM_H
#include <zstd.h>

/// ZSTD_CONTENTSIZE_* are macros over unsigned-long-long casts of -1 and -2.
static inline unsigned long long moesim_zstd_contentsize_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long moesim_zstd_contentsize_error(void) { return ZSTD_CONTENTSIZE_ERROR; }
#endif
