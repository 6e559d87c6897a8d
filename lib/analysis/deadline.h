/* From reservations to SCHED_DEADLINE: the parameters of each reserving
 * thread, and whether the host's admission test would accept them all.
 * Never prints. */
#ifndef RTV_ANALYSIS_DEADLINE_H
#define RTV_ANALYSIS_DEADLINE_H

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

struct rtv_dl_admission {
	int64_t rt_runtime_us; /* sched_rt_runtime_us; -1: no limit */
	int64_t rt_period_us;  /* sched_rt_period_us */
	int ncpus;
	bool unlimited;        /* rt_runtime_us = -1 */
	uint64_t total_bw;     /* Σ rtv_dl_ratio(period, runtime) */
	uint64_t cap_bw;       /* ncpus · rtv_dl_ratio(rt_period, rt_runtime) */
	double total, cap;     /* the same as reals: Σ runtime/period, ncpus·rt_runtime/rt_period */
	bool admissible;       /* unlimited or total_bw ≤ cap_bw */
};

/* The admission test of SCHED_DEADLINE (kernel/sched/deadline.c,
 * __dl_overflow) for the n reservations on a root domain of ncpus CPUs, as
 * if nothing else held deadline bandwidth: Σ runtime/period ≤
 * ncpus · rt_runtime/rt_period, both sides in the kernel's 20-bit fixed
 * point. The two limits are read from <root>/proc/sys/kernel/
 * sched_rt_runtime_us and sched_rt_period_us (root "" or NULL for the
 * host). Returns 0 with *out filled, or -errno (a file unreadable or not a
 * number: -EINVAL). */
int rtv_dl_admission_check(const char *root, int ncpus, const struct rtv_dl_params *dl, int n,
			   struct rtv_dl_admission *out);

#endif
