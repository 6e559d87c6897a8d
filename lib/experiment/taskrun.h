/* The taskset experiment (`rtvnet taskset run`): a periodic taskset run by
 * the engine (engine.h) as its service (probe/taskset.c), one arm, one run,
 * under optional CPU hogs and a TCP stream across the testbed, here or in a
 * testbed container; with --vcpus the analysis's partition as vCPU threads,
 * with --reserve each runner thread's SCHED_DEADLINE reservation (IRMOS's
 * per-thread reservations, or Abeni's per-vCPU ones from the analysis). */
#ifndef RTV_EXPERIMENT_TASKRUN_H
#define RTV_EXPERIMENT_TASKRUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/partition.h"
#include "experiment/engine.h"
#include "probe/stream.h"
#include "reserve/reserve.h"
#include "probe/taskset.h"
#include "taskset/runner.h"
#include "taskset/taskset.h"

struct rtv_taskrun_cfg {
	const char *path;          /* the taskset file, "-" standard input */
	int64_t duration_ns;       /* releases happen for this long, warm-up included */
	int64_t warmup_ns;         /* jobs released this early are not measured */
	int cpu;                   /* >= 0: every task on this CPU; -1: as the taskset says */
	bool load;                 /* a SCHED_OTHER hog on each CPU the tasks may use */
	bool net_load;             /* a TCP stream across the testbed's stream pair 1 */
	const char *container;     /* a testbed host's name (rts, s1c, ...), NULL: here */
	int nvcpus;                /* > 0: the analysis's partition on at most nvcpus vCPUs */
	enum rtv_alg sched;        /* nvcpus: the scheduler inside each vCPU */
	enum rtv_heuristic heuristic;
	int64_t period_ns;         /* nvcpus: the reservation period, 0: searched */
	bool reserve;              /* SCHED_DEADLINE per runner thread */
	double margin_pct;         /* runtime above the WCET or budget, % */
	enum rtv_runner_work work;
	double ns_per_loop;        /* 0: calibrate */
	bool no_prio;              /* every task SCHED_OTHER */
	int cpu_dma_latency_us;    /* -1: leave */
};

struct rtv_taskrun {
	struct rtv_taskrun_cfg cfg;
	struct rtv_taskset ts;
	/* vCPU mode: of[i] task i's vCPU, rank[i] its priority inside (NULL:
	 * EDF), iface[k] vCPU k's interface */
	int nvcpus;
	int *of, *rank;
	struct rtv_prm *iface;
	struct rtv_reserve *res;   /* per runner thread, with cfg.reserve */
	int nres;
	bool needs_host;           /* pinning, priorities or reservations: root and the journal */
	struct rtv_taskset_probe_cfg probe;
	struct rtv_hogs_cfg hogs;
	struct rtv_stream_probe_cfg net;
	struct rtv_exp x;
}; /* points into itself (the plan's probe configurations): not to be copied */

/* Defaults: 10 s, no warm-up, the taskset's CPUs and priorities, least-bw
 * partitioning with RM inside, a 10% reservation margin, loop work,
 * cpu_dma_latency 0. */
void rtv_taskrun_cfg_init(struct rtv_taskrun_cfg *cfg);
/* Load the taskset, partition it, size and admit the reservations, build
 * the plan; changes nothing on the host. -EINVAL for bad input (a message
 * in err naming it: the file and position, --vcpus that do not fit, --cpu
 * with --reserve, a container that is no testbed host), -EBUSY when the
 * reservations are above what the host admits, other -errno otherwise. */
int rtv_taskrun_init(struct rtv_taskrun *t, const struct rtv_taskrun_cfg *cfg, char *err,
		     size_t errlen);
void rtv_taskrun_release(struct rtv_taskrun *t);
/* Whether the run changes the host (root and the journal needed). */
bool rtv_taskrun_changes_host(const struct rtv_taskrun *t);
/* Whether the run got as far as its measured window (a run stopped during
 * the warm-up did not: it has no results). */
bool rtv_taskrun_measured(const struct rtv_taskrun *t);
/* {meta, config, tasks}: the run's results. Takes meta. */
json_t *rtv_taskrun_json(const struct rtv_taskrun *t, json_t *meta);
/* The deadline line of the pictures: the tightest D/T (1 when every D = T). */
double rtv_taskrun_deadline(const struct rtv_taskrun *t);
/* The network load's throughput in Gbit/s, NaN without. */
double rtv_taskrun_net_gbit_s(const struct rtv_taskrun *t);

#endif
