/* CPU use during a measurement window: the whole machine and each CPU from
 * /proc/stat, kernel threads, and the processes that are not the
 * experiment's (so that a run another tenant disturbed can be flagged). */
#ifndef RTV_HOST_CPULOAD_H
#define RTV_HOST_CPULOAD_H

#include <stdint.h>
#include <sys/types.h>

#define RTV_CPUS_MAX 64

enum { RTV_CPU_USER, RTV_CPU_NICE, RTV_CPU_SYSTEM, RTV_CPU_IDLE, RTV_CPU_IOWAIT,
       RTV_CPU_IRQ, RTV_CPU_SOFTIRQ, RTV_CPU_STEAL, RTV_CPU_NFIELDS };

struct rtv_task_ticks {
	pid_t pid;
	unsigned long long start, ticks;
	unsigned char kind; /* 0 foreign, 1 kernel thread, 2 ours */
};

struct rtv_cpuload_snap {
	int64_t t_ns;
	int ncpus;
	uint64_t cpu[RTV_CPUS_MAX][RTV_CPU_NFIELDS];
	struct rtv_task_ticks *tasks; /* sorted by pid */
	int ntasks, cap;
};

struct rtv_cpuload {
	double busy_pct;    /* of all CPUs: 100 = every CPU busy the whole time */
	double softirq_pct; /* of all CPUs */
	double cpu_busy_pct[RTV_CPUS_MAX]; /* each CPU, of that CPU */
	int ncpus;
	double kthread_pct; /* kernel threads (ksoftirqd, napi/, irq/), of one CPU */
	double foreign_pct; /* processes not the experiment's, of one CPU */
	double ours_pct;    /* the experiment's processes, of one CPU */
};

/* Take a snapshot. `ours_cgroup` marks tasks whose /proc/PID/cgroup
 * contains it (e.g. "/rtvnet") as ours, as is `self` and its children. */
int rtv_cpuload_snap(struct rtv_cpuload_snap *s, pid_t self, const char *ours_cgroup);
/* The CPUs' part alone (/proc/stat, no task: nothing allocated), for a
 * window's busy shares; its tasks' shares then come out 0. */
int rtv_cpuload_snap_cpus(struct rtv_cpuload_snap *s);
void rtv_cpuload_snap_release(struct rtv_cpuload_snap *s);
void rtv_cpuload_diff(const struct rtv_cpuload_snap *a, const struct rtv_cpuload_snap *b,
		      struct rtv_cpuload *out);


/* /proc/softirqs (path; "/proc/softirqs" on a real host): the counts of row
 * ("NET_RX", "NET_TX", "TIMER", ... without the colon) for each CPU, in the
 * order of the header line's CPU0 CPU1 ... columns, into
 * per_cpu[0..max-1]. Returns the number of CPUs in the file, which may be
 * more than max (only max are stored), or -errno: -ENOENT no such row,
 * -EINVAL a file not in that format (no CPU header, a row with fewer
 * numbers than the header has CPUs). */
int rtv_softirqs_read(const char *path, const char *row, uint64_t *per_cpu, int max);

#endif
