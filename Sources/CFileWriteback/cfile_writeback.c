// sync_file_range is a GNU extension: its declaration needs _GNU_SOURCE before any header.
#define _GNU_SOURCE
#include "cfile_writeback.h"

#if defined(__linux__)
#include <fcntl.h>

int moesim_start_writeback(int fd) {
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}
#else
int moesim_start_writeback(int fd) {
    (void)fd;
    return 0;
}
#endif
