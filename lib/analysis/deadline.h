/* From reservations to SCHED_DEADLINE: the parameters of each reserving
 * thread, and whether the host's admission test would accept them all.
 * Never prints. */
#ifndef RTV_ANALYSIS_DEADLINE_H
#define RTV_ANALYSIS_DEADLINE_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "analysis/prm.h"

/* sched_attr's sched_runtime, sched_deadline, sched_period, in ns. */
struct rtv_dl_params {
	uint64_t runtime_ns;
	uint64_t deadline_ns;
	uint64_t period_ns;
};

/* runtime = Θ, deadline = period = Π. */
void rtv_dl_from_prm(const struct rtv_prm *r, struct rtv_dl_params *dl);

/* The kernel's fixed-point bandwidth, to_ratio(): (runtime << 20) / period,
 * truncated; 0 when period is 0. */
uint64_t rtv_dl_ratio(uint64_t period_ns, uint64_t runtime_ns);

/* The CPUs a host has online: <root>/sys/devices/system/cpu/online (root
 * "" or NULL for the host). Returns 0, or -errno (not a CPU list: -EINVAL). */
int rtv_dl_online_cpus(const char *root, cpu_set_t *cpus);

/* The fair servers: from Linux 6.12 every CPU has a SCHED_DEADLINE server
 * for its CFS tasks, whose bandwidth the kernel counts in the admission
 * test like any deadline task's (50 ms every 1 s unless tuned in debugfs). */
enum rtv_dl_fair_source {
	RTV_DL_FAIR_NONE,    /* none: <root>/proc/sys/kernel/osrelease older than 6.12, or unreadable */
	RTV_DL_FAIR_DEBUGFS, /* <root>/sys/kernel/debug/sched/fair_server/cpuN/{runtime,period} */
	RTV_DL_FAIR_DEFAULT, /* 6.12 or later but debugfs not visible: the default on each CPU */
};

#define RTV_DL_FAIR_DEFAULT_RUNTIME_NS 50000000ULL   /* the kernel's default: 50 ms */
#define RTV_DL_FAIR_DEFAULT_PERIOD_NS  1000000000ULL /* every 1 s */

struct rtv_dl_fair_servers {
	enum rtv_dl_fair_source source;
	uint64_t bw; /* Σ over the CPUs of rtv_dl_ratio(period, runtime) */
	double cpus; /* the same as a real: Σ runtime/period, in CPUs */
};

/* The fair servers' bandwidth on the CPUs of cpus. From debugfs when any of
 * those CPUs shows both files there (ns; a CPU whose files are missing,
 * unreadable or not numbers, or whose period is 0, counts 0); else the
 * default on each CPU when the kernel is 6.12 or later; else none. Never
 * fails: a host where nothing is visible has none. */
void rtv_dl_fair_servers_read(const char *root, const cpu_set_t *cpus,
			      struct rtv_dl_fair_servers *out);

/* The words for out->source: "debugfs", "default", "none". */
const char *rtv_dl_fair_source_name(enum rtv_dl_fair_source source);

struct rtv_dl_admission {
	int64_t rt_runtime_us; /* sched_rt_runtime_us; -1: no limit */
	int64_t rt_period_us;  /* sched_rt_period_us */
	int ncpus;
	bool unlimited;        /* rt_runtime_us = -1 */
	uint64_t total_bw;     /* Σ rtv_dl_ratio(period, runtime) of the reservations */
	uint64_t cap_bw;       /* ncpus · rtv_dl_ratio(rt_period, rt_runtime) */
	struct rtv_dl_fair_servers fair; /* held already by the fair servers */
	double total, cap;     /* as reals: Σ runtime/period, ncpus·rt_runtime/rt_period */
	bool admissible;       /* unlimited or total_bw + fair.bw ≤ cap_bw */
};

/* The admission test of SCHED_DEADLINE (kernel/sched/deadline.c,
 * __dl_overflow) for the n reservations on a root domain made of the CPUs
 * of cpus, as if nothing but the fair servers held deadline bandwidth:
 * Σ runtime/period + fair servers ≤ ncpus · rt_runtime/rt_period, all in
 * the kernel's 20-bit fixed point (rtv_dl_ratio, each term truncated), as
 * the kernel compares. The two limits are read from <root>/proc/sys/kernel/
 * sched_rt_runtime_us and sched_rt_period_us, the fair servers with
 * rtv_dl_fair_servers_read() (root "" or NULL for the host). Returns 0 with
 * *out filled, or -errno (a file unreadable or not a number: -EINVAL; no
 * CPU in cpus: -EINVAL). */
int rtv_dl_admission_check(const char *root, const cpu_set_t *cpus, const struct rtv_dl_params *dl,
			   int n, struct rtv_dl_admission *out);

#endif
