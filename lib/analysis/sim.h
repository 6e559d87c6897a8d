/* A discrete-event simulator of a taskset inside one periodic resource
 * (Π, Θ) that supplies in its worst-case pattern, the one behind the sbf:
 * nothing for 2(Π − Θ), then Θ at the end of every period, i.e. the supply
 * is on in [2(Π − Θ) + y·Π, 2(Π − Θ) + y·Π + Θ) for y ≥ 0. Tasks are
 * released together at 0 and then periodically; RM, DM (fixed priorities,
 * input order on ties) or EDF (earliest absolute deadline; on ties the
 * earlier released job, then input order) chooses the job. Jobs of a task
 * run in order; a late job keeps running. Integer ns throughout, so the
 * schedule is exact. It is the independent check of prm.h: when the
 * analysis says schedulable, no job here may miss. Never prints. */
#ifndef RTV_ANALYSIS_SIM_H
#define RTV_ANALYSIS_SIM_H

#include <stdint.h>

#include "analysis/prm.h"
#include "taskset/taskset.h"

struct rtv_sim_result {
	int64_t jobs;          /* released before the horizon */
	int64_t done;          /* finished by the horizon */
	int64_t misses;        /* finished after their deadline, or unfinished at a deadline ≤ horizon */
	int first_miss_task;   /* input index of the first miss found, -1 none */
	int64_t first_miss_ns; /* its absolute deadline */
	int64_t events;        /* simulation steps taken */
};

/* Simulate over [0, horizon_ns). max_response_ns, when not NULL, gets per
 * task (input order) the longest response time of a finished job (0 none).
 * Returns 0 or -EINVAL (bad tasks, period or horizon), -ENOMEM. */
int rtv_sim_prm(const struct rtv_task *tasks, int n, enum rtv_alg sched, int64_t period_ns,
		int64_t budget_ns, int64_t horizon_ns, int64_t *max_response_ns,
		struct rtv_sim_result *res);

#endif
