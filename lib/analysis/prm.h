/* The periodic resource model Γ = (Π, Θ): Θ of CPU time every Π (Shin & Lee,
 * RTSS 2003), the demand of a taskset inside it under fixed priority (RM/DM)
 * or EDF, the least budget for a period, and the interface (Π, Θ) chosen over
 * a period range. Each test is written out at its function below. The
 * defaults (rtv_prm_params_init()) are the rule that reproduces the
 * reservations of Abeni 2024's Table 4 (section 4.3), checked numerically:
 * (Q, P) = (7.5 ms, 11 ms) for {τ0, τ3, τ4, τ7} and (27.5 ms, 33 ms) for
 * {τ1, τ2, τ5, τ6, τ8, τ9}.
 *
 * Times are int64_t nanoseconds. sbf, dbf and rbf are computed exactly in
 * integers; only lsbf and bandwidths are reals. Nothing here allocates
 * unless it says so; nothing prints. */
#ifndef RTV_ANALYSIS_PRM_H
#define RTV_ANALYSIS_PRM_H

#include <stdbool.h>
#include <stdint.h>

#include "taskset/taskset.h"

/* The scheduling algorithm inside a vCPU (a reservation): how its tasks
 * share the CPU time the reservation supplies; not a Linux scheduling
 * policy (those are host/sched.h's). RM: shorter period first; DM: shorter
 * relative deadline first (both: input order on ties); EDF: earliest
 * absolute deadline first. */
enum rtv_alg { RTV_ALG_RM, RTV_ALG_DM, RTV_ALG_EDF };

/* The supply bound used by the tests: the exact sbf or its linear bound. */
enum rtv_supply { RTV_SUPPLY_EXACT, RTV_SUPPLY_LINEAR };

/* Which period wins when two give the same bandwidth Θ/Π. */
enum rtv_tie { RTV_TIE_LARGER_PERIOD, RTV_TIE_SMALLER_PERIOD };

/* Parameters of the interface search. rtv_prm_params_init() sets the
 * defaults given in the comments, which reproduce Abeni 2024's Table 4. */
struct rtv_prm_params {
	enum rtv_alg sched;     /* RM */
	enum rtv_supply supply; /* exact */
	int64_t grid_ns;        /* budget grid: Θ = g·⌈Θ* / g⌉; 0.5 ms */
	int64_t period_min_ns;  /* shortest period tried; 10 ms */
	int64_t period_max_ns;  /* longest period tried; 0: the longest task period */
	int64_t period_step_ns; /* periods tried are period_min + k·step; 1 ms */
	enum rtv_tie tie;       /* larger period */
};

void rtv_prm_params_init(struct rtv_prm_params *p);

/* A periodic resource: budget_ns every period_ns. */
struct rtv_prm {
	int64_t period_ns;
	int64_t budget_ns;
};

/* Θ/Π (0 for an empty resource). */
double rtv_prm_bandwidth(const struct rtv_prm *r);

/* The least CPU time Γ supplies in any interval of length t_ns (exact):
 * bo = Π − Θ; 0 for t ≤ bo; else y = ⌊(t − bo)/Π⌋ and
 * y·Θ + max(0, t − 2·bo − y·Π). Θ ≥ Π gives t; Θ ≤ 0 gives 0. */
int64_t rtv_prm_sbf(int64_t period_ns, int64_t budget_ns, int64_t t_ns);

/* The linear lower bound (Θ/Π)·(t − 2(Π − Θ)), in ns (may be negative). */
double rtv_prm_lsbf(int64_t period_ns, int64_t budget_ns, int64_t t_ns);

/* EDF demand bound of tasks[0..n-1] in an interval of length t_ns:
 * Σ max(0, ⌊(t − D_i)/T_i⌋ + 1)·C_i, which is Σ ⌊t/T_i⌋·C_i when D = T. */
int64_t rtv_dbf(const struct rtv_task *tasks, int n, int64_t t_ns);

/* Fixed-priority request bound of task i with tasks[0..i-1] the higher
 * priority ones (tasks in priority order, highest first):
 * C_i + Σ_{j<i} ⌈t/T_j⌉·C_j. */
int64_t rtv_rbf(const struct rtv_task *tasks, int i, int64_t t_ns);

/* Copy tasks[0..n-1] into out[0..n-1] in priority order for sched (RM by
 * period, DM by deadline, EDF keeps input order); ties keep input order.
 * If index is not NULL, index[k] is the input position of out[k]. */
void rtv_prm_order(const struct rtv_task *tasks, int n, enum rtv_alg sched,
		   struct rtv_task *out, int *index);

/* Whether tasks (any order; sorted internally for RM/DM) meet every
 * deadline inside (period_ns, budget_ns) under p->sched with p->supply.
 * FP: every task i has some t in S_i = {a·T_j < D_i : j < i} ∪ {D_i} with
 * rbf_i(t) ≤ supply(t). EDF: dbf(t) ≤ supply(t) at every absolute deadline
 * up to t* = (2(Π−Θ)·α + U′)/(α − U), α = Θ/Π (not cut at the hyperperiod:
 * the supply is not periodic in it; only a whole CPU with U = 1 uses it),
 * U′ = Σ (T_i − D_i)·U_i; needs α > U unless Θ = Π (a check of over 10^8
 * deadlines, α barely above U, counts as no). Returns 1 (yes), 0 (no)
 * or -ENOMEM / -EINVAL (bad tasks: C or T not positive). */
int rtv_prm_schedulable(const struct rtv_task *tasks, int n, const struct rtv_prm_params *p,
			int64_t period_ns, int64_t budget_ns);

/* The least budget on p->grid_ns (capped at period_ns, which means a whole
 * CPU) with which tasks pass the test for period_ns; rounding is up to the
 * grid: Θ = g·⌈Θ* / g⌉, as the test is monotone in Θ. 0 with *budget_ns set,
 * -ENOSPC when not even Θ = Π passes, -EINVAL, -ENOMEM. An empty set
 * needs 0. */
int rtv_prm_min_budget(const struct rtv_task *tasks, int n, const struct rtv_prm_params *p,
		       int64_t period_ns, int64_t *budget_ns);

/* The interface: over periods period_min, period_min + step, ... up to the
 * longest task period inclusive (or period_max_ns when set), the least
 * grid budget for each, keeping the smallest Θ/Π and on ties the period
 * p->tie says. When the longest task period is below period_min, the range
 * starts at the longest period rounded down to the step (at least one
 * step). 0 with *out set, -ENOSPC when no period passes (the set does not
 * fit on one CPU), -EINVAL, -ENOMEM. An empty set gives (period_min, 0). */
int rtv_prm_interface(const struct rtv_task *tasks, int n, const struct rtv_prm_params *p,
		      struct rtv_prm *out);

/* Names for options and output: "rm", "dm", "edf"; "exact", "linear". */
/* The names of rtv_alg and rtv_supply, in enum order, NULL-terminated. */
extern const char *const rtv_alg_names[];
extern const char *const rtv_supply_names[];
const char *rtv_alg_name(enum rtv_alg s);
int rtv_alg_parse(const char *name, enum rtv_alg *s); /* 0 or -EINVAL */
const char *rtv_supply_name(enum rtv_supply s);
int rtv_supply_parse(const char *name, enum rtv_supply *s);

/* Σ C/T of tasks[0..n-1]. */
double rtv_tasks_utilization(const struct rtv_task *tasks, int n);

#endif
