/* Inside lib/analysis: a taskset prepared once (sorted by priority, its FP
 * scheduling points and their rbf) so that the interface search and the
 * partitioning test many resources against it without redoing that work. */
#ifndef RTV_ANALYSIS_PRM_INTERNAL_H
#define RTV_ANALYSIS_PRM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/prm.h"

struct rtv_prm_ctx {
	int n;
	enum rtv_alg sched;
	struct rtv_task *task; /* n, in priority order (EDF: input order) */
	double u, uprime;      /* Σ C/T, Σ (T − D)·C/T */
	int64_t max_period_ns;
	bool implicit;         /* every D = T */
	size_t *start;         /* FP: task i's points are [start[i], start[i+1]) */
	int64_t *pt_t, *pt_rbf;
};

int rtv_prm_ctx_init(struct rtv_prm_ctx *c, const struct rtv_task *tasks, int n,
		     enum rtv_alg sched);
void rtv_prm_ctx_release(struct rtv_prm_ctx *c);
/* 1 passes, 0 fails */
int rtv_prm_ctx_test(const struct rtv_prm_ctx *c, enum rtv_supply s, int64_t period_ns,
		     int64_t budget_ns);
int rtv_prm_ctx_min_budget(const struct rtv_prm_ctx *c, const struct rtv_prm_params *p,
			   int64_t period_ns, int64_t *budget_ns);
int rtv_prm_ctx_interface(const struct rtv_prm_ctx *c, const struct rtv_prm_params *p,
			  struct rtv_prm *out);

#endif
