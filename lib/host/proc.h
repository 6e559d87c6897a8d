/* Reading /proc: one parser of /proc/PID/stat for everything that needs a
 * task's name, parent, flags, CPU time or start time. */
#ifndef RTV_HOST_PROC_H
#define RTV_HOST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#define RTV_PF_KTHREAD          0x00200000UL /* a kernel thread */
#define RTV_PF_NO_SETAFFINITY   0x04000000UL /* bound to its CPU(s) */

struct rtv_proc_stat {
	char comm[32];
	char state;                       /* R, S, D, Z (zombie)... */
	pid_t ppid;
	unsigned long flags;              /* PF_* */
	unsigned long long utime, stime;  /* clock ticks */
	unsigned long long starttime;     /* clock ticks since boot */
};

/* Read /proc/PID/stat, or /proc/PID/task/TID/stat when tid is nonzero and
 * differs from pid. 0 or -errno (-ENOENT when the task is gone). */
int rtv_proc_stat_read(pid_t pid, pid_t tid, struct rtv_proc_stat *st);
/* The thread ids of process pid (/proc/PID/task) into tids[0..max-1].
 * Returns how many there are, which may be more than max (only max are
 * stored), or -errno (-ENOENT: no such process). */
int rtv_proc_threads(pid_t pid, pid_t *tids, int max);

/* CPU time of a task in ns from /proc/PID/schedstat (its first field; the
 * ticks of /proc/PID/stat are too coarse for a thread that runs a few µs at
 * a time), or 0 when it is gone or the kernel has no schedstats. */
long long rtv_proc_cpu_ns(pid_t pid);

/* Call fn(pid, tid, stat, arg) for every live thread of every process
 * (kernel threads too; not zombies); tasks that go meanwhile are skipped.
 * 0 or -errno. */
int rtv_proc_each_thread(void (*fn)(pid_t pid, pid_t tid, const struct rtv_proc_stat *st,
				    void *arg),
			 void *arg);

/* Whether pid is this process or one of its ancestors: a snapshot reader
 * leaves them out (their state is the caller's, a new pid each time). */
bool rtv_proc_is_self_or_ancestor(pid_t pid);

/* Journal a process started by rtvnet (kind "process": undo kills it if it
 * is still the same process). 0 or -errno. */
int rtv_proc_journal_add(pid_t pid);

/* Whether any line of /proc/PID/cgroup contains needle. */
bool rtv_proc_in_cgroup(pid_t pid, const char *needle);

#endif
