/* Linux thread scheduling: policy, priority, affinity and the
 * sched_setattr() attributes (SCHED_DEADLINE). The changes below the
 * sched_setattr() wrapper are journaled: each records the old value (with
 * the thread's start time, against pid reuse) before changing it. */
#ifndef RTV_HOST_SCHED_H
#define RTV_HOST_SCHED_H

#include <sched.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define RTV_SCHED_FLAG_RESET_ON_FORK 0x01ULL
#define RTV_SCHED_FLAG_RECLAIM       0x02ULL
#define RTV_SCHED_FLAG_DL_OVERRUN    0x04ULL

/* The kernel's struct sched_attr (include/uapi/linux/sched/types.h, the
 * first version, 48 bytes). Times in ns. */
struct rtv_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/* syscall(SYS_sched_setattr/getattr), flags 0; 0 or -errno. Not journaled:
 * the caller journals (reserve/ does, as its "dl" entries). */
int rtv_sched_setattr(pid_t tid, const struct rtv_sched_attr *attr);
int rtv_sched_getattr(pid_t tid, struct rtv_sched_attr *attr);

/* The CPUs of a machine: those present (<root>/sys/devices/system/cpu/present)
 * and those online (.../online); root "" or NULL is this host, anything else a
 * fake tree (tests). On this host a file that cannot be read is replaced by
 * CPUs 0 to sysconf(_SC_NPROCESSORS_CONF or _ONLN) - 1, so both sets are
 * never empty; under a fake root it is an error. 0 or -errno. */
int rtv_cpus_read(const char *root, cpu_set_t *present, cpu_set_t *online);

/* Set one thread's policy (SCHED_OTHER/FIFO/RR) and priority. */
int rtv_sched_set(pid_t tid, int policy, int prio);
/* Set every thread of a process. */
int rtv_sched_set_process(pid_t pid, int policy, int prio);
int rtv_sched_set_affinity(pid_t tid, const cpu_set_t *set);
/* "other", "fifo", "rr" -> SCHED_*; -EINVAL for other names. */
int rtv_sched_policy_parse(const char *s, int *policy);
extern const char *const rtv_sched_policy_names[]; /* those names, NULL-terminated */

/* Move every thread that may move (not per-CPU kernel threads), except
 * those of processes in except_cgroup, off the `away` CPUs: each keeps the
 * rest of its affinity, or gets `to` when nothing is left. Journaled per
 * thread; and threads born from moved ones while the move lasts, which
 * inherit the narrowed mask, get the `away` CPUs back at undo. Returns the
 * number moved. */
int rtv_sched_move_others(const cpu_set_t *away, const cpu_set_t *to, const char *except_cgroup);

/* Kernel threads whose name matches an fnmatch pattern (for irq/N-DEV and
 * napi/DEV-ID threads). Fills up to max tids; returns the number found. */
int rtv_kthreads_find(const char *pattern, pid_t *tids, int max);

/* Kernel threads carrying a device's packets on their own: threaded IRQ
 * handlers (irq/N-DEV) and threaded NAPI (napi/DEV-ID). Returns the count. */
int rtv_kthreads_of_dev(const char *dev, pid_t *tids, int max);

#endif
