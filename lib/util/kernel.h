/* The running kernel. */
#ifndef RTV_UTIL_KERNEL_H
#define RTV_UTIL_KERNEL_H

#include <stdbool.h>

/* Whether the running kernel's release (uname) is at least major.minor;
 * false when it cannot be read. */
bool rtv_kernel_at_least(int major, int minor);

#endif
