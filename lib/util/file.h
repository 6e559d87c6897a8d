/* Small files of /proc, /sys and cgroupfs. */
#ifndef RTV_UTIL_FILE_H
#define RTV_UTIL_FILE_H

#include <stddef.h>

/* The first line of a file, without its newline (empty for an empty file).
 * 0 or -errno; -EIO on a read error. */
int rtv_file_read_line(const char *path, char *buf, size_t len);

#endif
