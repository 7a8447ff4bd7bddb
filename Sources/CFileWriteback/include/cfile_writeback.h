#ifndef CFILE_WRITEBACK_H
#define CFILE_WRITEBACK_H

/// Starts the kernel's writeback of every dirty page of the open file `fd` without waiting
/// for it (Linux `sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)`), so that a later fsync
/// has little left to write. Returns 0, or -1 with errno set; on systems without the call
/// it does nothing and returns 0. Durability still comes from fsync: this only moves the
/// disk writes earlier.
int moesim_start_writeback(int fd);

#endif
