/* CPU reservations: SCHED_DEADLINE for threads, CFS bandwidth (cgroup v2
 * cpu.max, v1 cpu.cfs_quota_us/cpu.cfs_period_us) for groups, and exclusive
 * cpusets (v2 cpuset.cpus.partition=root, v1 cpuset.cpu_exclusive) where a
 * group's reservation must be pinned. The admission test runs before any
 * change; every change is journaled before it is made (a thread's old
 * scheduling attributes as a "dl" entry, undone with sched_setattr), so
 * rtv_journal_undo_to() and `rtvnet revert` undo it.
 *
 * Errors are -errno, and each function that can fail for a reason a user
 * must act on also writes that reason in words to err (lowercase, no full
 * stop): EINVAL for parameters the kernel refuses, EBUSY for admission,
 * EPERM for affinity or privileges. Never prints. */
#ifndef RTV_RESERVE_RESERVE_H
#define RTV_RESERVE_RESERVE_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "analysis/deadline.h"
#include "host/cgroup.h"
#include "host/sched.h"

/* One reservation: runtime every period, due deadline after each period's
 * start (0: = period). cpus, when nonempty, pins a group's reservation to
 * those CPUs with an exclusive cpuset (groups only). */
struct rtv_reserve {
	int64_t runtime_ns;
	int64_t deadline_ns;
	int64_t period_ns;
	cpu_set_t cpus;
};

/* A runner thread's reservation: runtime_ns x (1 + margin), rounded to the
 * ns (6.5 ms + 10% is 7.15 ms) and never above the deadline; cpus empty. */
void rtv_reserve_sized(struct rtv_reserve *r, int64_t runtime_ns, int64_t deadline_ns,
		       int64_t period_ns, double margin);

/* Where the admission test reads the host: /proc/sys/kernel/sched_rt_*,
 * /proc/sys/kernel/sched_deadline_period_*_us, /sys/devices/system/cpu/online
 * and, when debugfs is mounted, /sys/kernel/debug/sched/fair_server. ""
 * is the real host; tests pass a fake tree. */
#define RTV_RESERVE_ROOT ""

/* What the admission test found (bandwidths as fractions of one CPU). */
struct rtv_reserve_admission {
	int ncpus;          /* CPUs of the root domain checked */
	double limit;       /* ncpus × sched_rt_runtime_us / sched_rt_period_us (ncpus when -1) */
	double fair_server; /* reserved by the fair servers (rtv_dl_fair_servers_read) */
	enum rtv_dl_fair_source fair_source; /* where that figure came from */
	double request;     /* nthreads × runtime / period */
	long long period_min_us, period_max_us;
};

/* The parameter checks (EINVAL: 1024 ns ≤ runtime ≤ deadline ≤ period,
 * period within sched_deadline_period_{min,max}_us) and the admission test
 * (EBUSY: nthreads × runtime/period + fair servers ≤ limit, computed by
 * rtv_dl_admission_check() in the kernel's fixed point, as `rtvnet
 * analyze` does) for nthreads threads on the CPUs of r->cpus (all online
 * CPUs when empty). Bandwidth
 * already held by other SCHED_DEADLINE threads is not visible here: the
 * kernel's own test at sched_setattr() may still refuse (EBUSY), and the
 * message says so. adm may be NULL. Changes nothing. */
int rtv_reserve_admit(const char *root, const struct rtv_reserve *r, int nthreads,
		      struct rtv_reserve_admission *adm, char *err, size_t errlen);
/* The same for n different reservations r[0..n-1], one thread each, all on
 * the same CPUs (e.g. a taskset's threads or a VM's vCPUs): each one's
 * parameters, then all of them together in one admission test. *failed
 * (when not NULL) is the index whose parameters were refused, else -1. */
int rtv_reserve_admit_set(const char *root, const struct rtv_reserve *r, int n,
			  struct rtv_reserve_admission *adm, int *failed, char *err, size_t errlen);

/* The reservation `rtvnet analyze --json` wrote for vCPU k, to be given
 * to that vCPU's thread (Abeni's use: one (Q, P) per vCPU of a VM):
 * vcpus[k]'s runtime_ns, deadline_ns and period_ns. A partitioned analysis
 * has vCPU k's own (Q, P); a global one the k-th reservation of its even
 * split. path "-" is standard input. Fills *r (r->cpus empty) and returns
 * 0, or -errno with the reason in err, naming the file: unreadable (the
 * open's or read's errno), not JSON or not analyze's output (no "vcpus",
 * a field missing or not a whole number: -EINVAL), k out of range
 * (-ERANGE), a vCPU without tasks, whose runtime is 0 (-ENODATA). Checks
 * nothing about the host (rtv_reserve_admit does) and changes nothing. */
int rtv_reserve_from_analysis(const char *path, int k, struct rtv_reserve *r, char *err,
			      size_t errlen);

/* Journal tid's scheduling attributes ("dl": tid, start time, policy, flags,
 * nice, priority, runtime, deadline, period), then give it SCHED_DEADLINE.
 * Undo restores the old attributes exactly, and does nothing when the
 * thread is gone or its id was reused. r->cpus must be empty. */
int rtv_reserve_thread(pid_t tid, const struct rtv_reserve *r, char *err, size_t errlen);
/* Every thread of process pid; admission for all of them first. On error
 * the threads already done stay done: undo to a mark taken before. */
int rtv_reserve_process(pid_t pid, const struct rtv_reserve *r, char *err, size_t errlen);
/* Kernel threads matching an fnmatch pattern (rtv_kthreads_find), each with
 * its own reservation r. Returns how many (0 when none match). */
int rtv_reserve_kthreads(const char *pattern, const struct rtv_reserve *r, char *err,
			 size_t errlen);

/* A cgroup NAME (relative to the hierarchy: "rtvnet/rts"): CFS bandwidth
 * runtime every period (v2 cpu.max "QUOTA PERIOD" in µs, v1 cpu/NAME's
 * cpu.cfs_period_us then cpu.cfs_quota_us; the quota is for all CPUs
 * together). On v1 with RT group scheduling (CONFIG_RT_GROUP_SCHED: the
 * group has cpu.rt_runtime_us) also the RT bandwidth of its SCHED_FIFO/RR
 * threads: cpu.rt_runtime_us every cpu.rt_period_us, the same runtime and
 * period (the kernel applies it on each CPU), after raising the RT runtime
 * of ancestors below the root that lack room for it (the kernel admits a
 * group only while its children's runtime/period ratios add up to no more
 * than its own). When r->cpus is nonempty, an exclusive cpuset on them (v2:
 * cpuset.cpus, then cpuset.cpus.partition = "root"; v1: cpuset/NAME's
 * cpuset.cpus, cpuset.cpu_exclusive = 1, its cpuset.sched_load_balance = 1
 * and every ancestor's = 0 up to the root cpuset, which makes it a root
 * domain: a SCHED_DEADLINE thread in it may then have exactly those CPUs).
 * Deadline is not used (CFS has none). Each file is journaled. */
int rtv_reserve_cgroup(const struct rtv_cgroups *cg, const char *name, const struct rtv_reserve *r,
		       char *err, size_t errlen);

/* A testbed container (cgroup rtvnet/HOST) and, when pattern is non-NULL,
 * the kernel threads matching it (e.g. "napi/rtvs0-*"), each given r as
 * SCHED_DEADLINE. v2: rtv_reserve_cgroup() on rtvnet/HOST. v1, where the
 * testbed keeps its containers in the root cpu cgroup: the cpu cgroups
 * rtvnet and rtvnet/HOST are made (journaled) when missing, reserved with
 * rtv_reserve_cgroup(), and the processes of the container's cpuset cgroup
 * are moved into it ("cgmove" entry: its undo moves whatever is in it back
 * to the root cpu cgroup, before the directory is removed); processes
 * started in the container later join it too (rtv_cgroup_attach). -ENOENT
 * when the container does not exist. Returns the number of kernel threads
 * reserved. */
int rtv_reserve_container(const struct rtv_cgroups *cg, const char *host, const char *pattern,
			  const struct rtv_reserve *r, char *err, size_t errlen);

#endif
