/* Small files of /proc, /sys and cgroupfs; pseudo-filesystems of our own. */
#ifndef RTV_UTIL_FILE_H
#define RTV_UTIL_FILE_H

#include <sched.h>
#include <stddef.h>

/* The first line of a file, without its newline (empty for an empty file).
 * 0 or -errno; -EIO on a read error. */
int rtv_file_read_line(const char *path, char *buf, size_t len);
/* The path of prog, an executable found on PATH (or, with no PATH, in
 * /usr/sbin:/usr/bin:/sbin:/bin), into buf: 0, or -ENOENT. Looks only:
 * runs nothing. */
int rtv_path_find(const char *prog, char *buf, size_t len);

/* A CPU list file ("0-2,5": sysfs's online, present, a cpuset's cpus) into
 * set. 0 or -errno; -EINVAL when it is not a CPU list. */
int rtv_file_read_cpulist(const char *path, cpu_set_t *set);

/* A new mount of the pseudo-filesystem fstype ("sysfs", "debugfs"),
 * attached nowhere (fsopen/fsmount): an fd for openat(), the mount gone with
 * the last fd into it. sysfs shows the network namespace of the calling
 * thread. The host's mounts are not touched. An fd or -errno. */
int rtv_fs_detached(const char *fstype);

#endif
