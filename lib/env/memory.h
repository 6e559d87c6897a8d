/* The memory a hosting environment costs: a process's resident, proportional
 * and unique set sizes (from smaps_rollup), the memory its cgroup is charged,
 * and the processes below it. The procfs and cgroupfs roots are parameters
 * ("/proc", "/sys/fs/cgroup", or fake trees in tests). Nothing here changes
 * the host; reading another user's smaps_rollup needs root (ptrace access). */
#ifndef RTV_ENV_MEMORY_H
#define RTV_ENV_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sums over the processes added, in bytes. Start from all zero. */
struct rtv_mem {
	uint64_t rss; /* resident: Rss (the kernel leaves hugetlb pages out) */
	uint64_t pss; /* proportional: each shared page divided among its users */
	uint64_t uss; /* unique: Private_Clean + Private_Dirty + Private_Hugetlb,
		       * so with private hugetlb mappings uss may exceed rss */
	int nprocs;   /* processes added */
};

/* Add PID's figures from PROC/PID/smaps_rollup (Linux 4.14 or later) to m,
 * and count it in m->nprocs. m is unchanged on error. 0; -ENOENT when the
 * process is gone (no such directory, or a zombie: the kernel answers
 * ESRCH, as it does for a kernel thread, which has no memory of its own);
 * -EPROTO when the file lacks Rss, Pss, Private_Clean or Private_Dirty or
 * has a line that is not "Key: N kB"; other -errno as open/read fail
 * (-EACCES reading another user's process without root). */
int rtv_mem_add_pid(const char *proc, pid_t pid, struct rtv_mem *m);

/* The memory PID's cgroup is charged, in bytes, and that cgroup's directory
 * in path (len bytes; -ENAMETOOLONG when it does not fit). Where it comes
 * from:
 *  - cgroup v2 (CGROOT/cgroup.controllers lists memory; or, on a hybrid
 *    host, CGROOT/unified/cgroup.controllers does): memory.current of the
 *    "0::" path of PROC/PID/cgroup under that tree. When the memory
 *    controller is not enabled for that cgroup (no memory.current), the
 *    nearest ancestor that has it is used: the kernel charges that one.
 *  - cgroup v1: memory.usage_in_bytes of the path on the line of
 *    PROC/PID/cgroup whose controllers include "memory", under
 *    CGROOT/memory.
 * -ENOENT when the process is in the root cgroup of the memory controller
 * (the root has no usage of its own to report: the caller prints "none"),
 * path then naming the hierarchy's root; -ENOTSUP when there is no memory
 * controller (neither tree has it, or PROC/PID/cgroup names none); -ESRCH
 * when the process is gone; -EPROTO when a file is malformed; other
 * -errno as reads fail. Paths in PROC/PID/cgroup are relative to the
 * reader's cgroup namespace: call from the host's. */
int rtv_mem_cgroup_of(const char *proc, const char *cgroot, pid_t pid, uint64_t *bytes,
		      char *path, size_t len);

/* The processes whose parent chain leads to pid (its descendants, not pid
 * itself), from PROC/(*)/stat, in no particular order, into pids[0..max).
 * A snapshot: processes that fork or exit meanwhile may be missed, and an
 * orphan's chain (reparented to init or a subreaper) no longer leads to pid.
 * Returns how many; -ENOENT when pid itself is not there; -ENOSPC when there
 * are more than max; -ENOMEM; other -errno when PROC cannot be read. */
int rtv_mem_descendants(const char *proc, pid_t pid, pid_t *pids, int max);

#endif
