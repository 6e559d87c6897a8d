/* The multiprocessor periodic resource μ = (Π, Θ, m′): Θ of CPU time every
 * Π on at most m′ CPUs at once (Shin, Easwaran, Lee, ECRTS 2008), global EDF
 * inside it (Easwaran, Shin, Lee, Real-Time Systems 43(1), 2009; the test is
 * written out at the top of mpr.c), the interface search and the even split
 * into m′ SCHED_DEADLINE-style reservations. Times are int64_t ns; never
 * prints. */
#ifndef RTV_ANALYSIS_MPR_H
#define RTV_ANALYSIS_MPR_H

#include <stdint.h>

#include "analysis/prm.h"
#include "taskset/taskset.h"

struct rtv_mpr {
	int64_t period_ns; /* Π */
	int64_t budget_ns; /* Θ, total over the cpus; (cpus − 1)·Π < Θ ≤ cpus·Π */
	int cpus;          /* m′ */
};

/* The least supply of μ in any interval of length t_ns, continuous form:
 * m′·sbf_PRM(t; Π, Θ/m′), computed exactly as sbf_PRM(m′·t; m′·Π, Θ) (the
 * sbf is homogeneous of degree one). */
int64_t rtv_mpr_sbf(const struct rtv_mpr *r, int64_t t_ns);

/* Its linear bound (Θ/Π)·(t − 2(Π − Θ/m′)), in ns (may be negative). */
double rtv_mpr_lsbf(const struct rtv_mpr *r, int64_t t_ns);

/* Whether tasks meet every deadline under global EDF on μ: for each task k
 * and each A_k in [0, A_max,k), DEM(A_k + D_k) ≤ sbf(A_k + D_k), checked at
 * every point where a term of DEM or the sbf jumps or changes slope (between
 * two such points DEM − sbf is convex, so its maximum is at an end). Returns
 * 1 (yes), 0 (no: a violation, Θ/Π ≤ U, or an A_max too long to check, over
 * 10^4 s), -EINVAL (bad tasks or μ), -ENOMEM. */
int rtv_mpr_gedf_schedulable(const struct rtv_task *tasks, int n, const struct rtv_mpr *r);

/* The interface for period_ns: m′ from ⌈U⌉ up to max_cpus (≤ 0: n), and for
 * the first m′ that admits one, the least Θ on the grid_ns grid in
 * ((m′ − 1)·Π, m′·Π] (capped at m′·Π) that passes. 0 with *out set,
 * -ENOSPC when none up to max_cpus, -EINVAL, -ENOMEM. An empty set gives
 * (period_ns, 0, 0). */
int rtv_mpr_interface(const struct rtv_task *tasks, int n, int64_t period_ns, int64_t grid_ns,
		      int max_cpus, struct rtv_mpr *out);

/* The even split: out[0..m′−1] = (Θ/m′ rounded up to the ns, Π). Returns m′. */
int rtv_mpr_split(const struct rtv_mpr *r, struct rtv_prm *out);

#endif
