/* Partitioning a taskset over vCPUs, each served by a periodic resource,
 * greedily. Tasks pinned with `cpu` stay on that vCPU; the others are taken
 * by decreasing utilization (input order on ties) and placed by a heuristic.
 * A task fits a vCPU when the vCPU's tasks with it still pass the test on a
 * whole CPU (Θ = Π), so that an interface with Θ/Π ≤ 1 exists. No heuristic
 * reproduces the partition of Abeni 2024's Table 4: to check against the
 * paper, pin its partition and compare the reservations. Never prints. */
#ifndef RTV_ANALYSIS_PARTITION_H
#define RTV_ANALYSIS_PARTITION_H

#include "analysis/prm.h"
#include "taskset/taskset.h"

enum rtv_heuristic {
	RTV_FIT_FIRST,    /* "first-fit": the lowest-numbered vCPU that fits */
	RTV_FIT_BEST,     /* "best-fit": the fitting vCPU with the highest utilization */
	RTV_FIT_WORST,    /* "worst-fit": the fitting vCPU with the lowest utilization */
	RTV_FIT_LEAST_BW, /* "least-bw": the least added reserved bandwidth
			   * bw(S ∪ τ) − bw(S), bw = Θ/Π of the interface */
};
#define RTV_HEURISTIC_COUNT 4

/* first-fit and best-fit open a new vCPU only when no open one fits;
 * worst-fit and least-bw consider all max_vcpus from the start (an empty
 * vCPU has utilization and bandwidth 0). Ties go to the lowest number. */

struct rtv_partition {
	int nvcpus;            /* vCPUs 0..nvcpus-1 (the highest used + 1) */
	int *vcpu;             /* per task, in input order: its vCPU */
	struct rtv_prm *iface; /* per vCPU: its interface ((period_min, 0) when empty) */
	double *util;          /* per vCPU: Σ C/T of its tasks */
};

/* Place ts's tasks on at most max_vcpus vCPUs with heuristic h and compute
 * each vCPU's interface with p. Allocates out's arrays (release with
 * rtv_partition_release). Returns 0; -ENOSPC when a task fits nowhere (its
 * input index in *failed when failed is not NULL); -ERANGE when a task is
 * pinned to a vCPU ≥ max_vcpus or its pinned vCPU does not fit it (*failed
 * likewise); -EINVAL, -ENOMEM. */
int rtv_partition_run(const struct rtv_taskset *ts, int max_vcpus, enum rtv_heuristic h,
		      const struct rtv_prm_params *p, struct rtv_partition *out, int *failed);
void rtv_partition_release(struct rtv_partition *part); /* NULL-safe, idempotent */

/* Σ Θ/Π over the vCPUs. */
double rtv_partition_bandwidth(const struct rtv_partition *part);

/* The partition as a runner's vCPUs (taskset/runner.h): the vCPUs that
 * have tasks, numbered in order of their first task; of[i] task i's vCPU,
 * iface[k] vCPU k's interface (room for part->nvcpus), and, when rank is
 * not NULL (RM, DM), rank[i] task i's fixed priority inside its vCPU, 0 the
 * highest, in sched's order. Returns the number of vCPUs, or -EINVAL,
 * -ENOMEM. */
int rtv_partition_vcpus(const struct rtv_partition *part, const struct rtv_taskset *ts,
			enum rtv_alg sched, int *of, int *rank, struct rtv_prm *iface);

/* "first-fit", "best-fit", "worst-fit", "least-bw"; the array NULL-terminated. */
extern const char *const rtv_heuristic_names[RTV_HEURISTIC_COUNT + 1];
const char *rtv_heuristic_name(enum rtv_heuristic h);
int rtv_heuristic_parse(const char *name, enum rtv_heuristic *h); /* 0 or -EINVAL */

#endif
