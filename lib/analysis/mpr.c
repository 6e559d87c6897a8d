/* Global EDF on a multiprocessor periodic resource (Easwaran-Shin-Lee). The
 * test: for every task k and every A_k in [0, A_max,k), with t = A_k + D_k,
 * DEM(t) ≤ sbf(t), where N_i = ⌊(t + T_i − D_i)/T_i⌋, CI_i = min(C_i,
 * max(0, t − N_i·T_i)), W_i = N_i·C_i + CI_i; for i ≠ k, Î_i = min(N_i·C_i,
 * t − C_k) and Ī_i = min(W_i, t − C_k); for i = k, Î_k = min(N_k·C_k − C_k,
 * A_k) and Ī_k = min(W_k − C_k, A_k); DEM = m′·C_k + Σ Î_i + the sum of the
 * m′ − 1 largest Ī_i − Î_i. A_max,k = (C_Σ + m′·C_k − D_k(α − U) + U′ + B) /
 * (α − U) with α = Θ/Π, C_Σ the sum of the m′ − 1 largest C_i,
 * U′ = Σ (T_i − D_i)·U_i and B = 2α(Π − Θ/m′) (the continuous form; with
 * −m′·C_k instead, as one public implementation has it, A_max is unsafe).
 *
 * All lengths are scaled by m′ inside the test so that Θ/m′ and every point
 * where the supply bends are integers: sbf_μ(t) = sbf_PRM(m′t; m′Π, Θ), and
 * in scaled time s = m′·t the supply is m′·sbf_PRM(s; m′Π, Θ) and the demand
 * m′·DEM(t). See mpr.h. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/mpr.h"
#include "util/banned.h"

#define RTV_MPR_EPS 1e-12
/* A_max beyond this (in scaled ns: 10^4 s of one CPU) is not checked; the
 * set is rejected instead. */
#define RTV_MPR_AMAX_LIMIT 1e13

int64_t rtv_mpr_sbf(const struct rtv_mpr *r, int64_t t_ns)
{
	if (r->cpus <= 0)
		return 0;
	return rtv_prm_sbf(r->cpus * r->period_ns, r->budget_ns, r->cpus * t_ns);
}

double rtv_mpr_lsbf(const struct rtv_mpr *r, int64_t t_ns)
{
	double alpha;

	if (r->cpus <= 0 || r->period_ns <= 0)
		return 0;
	alpha = (double)r->budget_ns / (double)r->period_ns;
	return alpha * ((double)t_ns -
			2.0 * ((double)r->period_ns - (double)r->budget_ns / (double)r->cpus));
}

struct gedf {
	int n, m;
	const int64_t *c, *t, *d; /* scaled by m */
	int64_t period, budget;   /* the PRM (m·Π, Θ) in scaled time */
	int64_t *top;             /* m − 1 largest Ī − Î so far */
};

/* DEM(t) for task k (scaled units), t ≥ D_k. */
static int64_t dem(const struct gedf *g, int k, int64_t t)
{
	int64_t a = t - g->d[k], sum = (int64_t)g->m * g->c[k];
	int ntop = 0;

	for (int i = 0; i < g->n; i++) {
		int64_t nj = (t + g->t[i] - g->d[i]) / g->t[i];
		int64_t ci = t - nj * g->t[i], w, ih, ib, diff;

		ci = ci < 0 ? 0 : ci > g->c[i] ? g->c[i] : ci;
		w = nj * g->c[i] + ci;
		if (i != k) {
			ih = nj * g->c[i];
			ib = w;
			if (ih > t - g->c[k])
				ih = t - g->c[k];
			if (ib > t - g->c[k])
				ib = t - g->c[k];
		} else {
			ih = nj * g->c[k] - g->c[k];
			ib = w - g->c[k];
			if (ih > a)
				ih = a;
			if (ib > a)
				ib = a;
		}
		sum += ih;
		diff = ib - ih;
		if (g->m > 1 && diff > 0) {
			/* keep top[0..ntop) sorted, largest first */
			int pos;

			if (ntop == g->m - 1 && diff <= g->top[ntop - 1])
				continue;
			if (ntop < g->m - 1)
				ntop++;
			for (pos = ntop - 1; pos > 0 && g->top[pos - 1] < diff; pos--)
				g->top[pos] = g->top[pos - 1];
			g->top[pos] = diff;
		}
	}
	for (int j = 0; j < ntop; j++)
		sum += g->top[j];
	return sum;
}

static inline bool ok_at(const struct gedf *g, int k, int64_t t)
{
	return dem(g, k, t) <= (int64_t)g->m * rtv_prm_sbf(g->period, g->budget, t);
}

/* Check t = first + j·step for j ≥ 0 inside [lo, hi]. */
static bool check_series(const struct gedf *g, int k, int64_t first, int64_t step, int64_t lo,
			 int64_t hi)
{
	int64_t t = first;

	if (t < lo)
		t += (lo - t + step - 1) / step * step;
	for (; t <= hi; t += step)
		if (!ok_at(g, k, t))
			return false;
	return true;
}

/* The points of task k's check in [lo, hi] (scaled). */
static bool check_task(const struct gedf *g, int k, int64_t lo, int64_t hi)
{
	int64_t bo = g->period - g->budget;

	if (!ok_at(g, k, lo) || !ok_at(g, k, hi))
		return false;
	/* the supply bends at bo + yP and 2bo + yP */
	if (bo > 0 && (!check_series(g, k, bo, g->period, lo, hi) ||
		       !check_series(g, k, 2 * bo, g->period, lo, hi)))
		return false;
	for (int i = 0; i < g->n; i++) {
		int64_t ti = g->t[i], ci = g->c[i], amax;

		/* N_i jumps; CI_i bends at N·T_i and N·T_i + C_i */
		if (!check_series(g, k, g->d[i], ti, lo, hi) || !check_series(g, k, ti, ti, lo, hi) ||
		    !check_series(g, k, ti + ci, ti, lo, hi))
			return false;
		/* min(·, t − C_k) and, for i = k, min(·, A_k) cross a flat
		 * level a·C_i: t = a·C_i + C_k or a·C_k + D_k; a flat level
		 * a·C_i is only reached while a·(T_i − C_i) stays below a
		 * few periods, which bounds a */
		if (ti > ci)
			amax = (2 * ti + 2 * g->c[k] + g->d[k]) / (ti - ci) + 2;
		else
			amax = hi / ci + 1;
		for (int64_t a = 0; a <= amax; a++) {
			int64_t x = a * ci + g->c[k], y = a * ci + g->d[k];

			if (x >= lo && x <= hi && !ok_at(g, k, x))
				return false;
			if (i == k && y >= lo && y <= hi && !ok_at(g, k, y))
				return false;
		}
	}
	return true;
}

int rtv_mpr_gedf_schedulable(const struct rtv_task *tasks, int n, const struct rtv_mpr *r)
{
	int m = r->cpus, ret = 1;
	int64_t *buf = NULL;
	double alpha, u = 0, uprime = 0, csum = 0, bterm;
	struct gedf g;

	if (n < 0 || r->period_ns <= 0 || r->budget_ns < 0 || m < 0 ||
	    r->budget_ns > (int64_t)m * r->period_ns)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (tasks[i].wcet_ns <= 0 || tasks[i].period_ns <= 0 || tasks[i].deadline_ns <= 0)
			return -EINVAL;
	if (n == 0)
		return 1;
	if (m == 0 || r->budget_ns == 0)
		return 0;
	buf = malloc((size_t)(3 * n + m) * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	g.n = n;
	g.m = m;
	g.c = buf;
	g.t = buf + n;
	g.d = buf + 2 * n;
	g.top = buf + 3 * n;
	for (int i = 0; i < n; i++) {
		buf[i] = m * tasks[i].wcet_ns;
		buf[n + i] = m * tasks[i].period_ns;
		buf[2 * n + i] = m * tasks[i].deadline_ns;
		u += (double)tasks[i].wcet_ns / (double)tasks[i].period_ns;
		uprime += (double)(buf[n + i] - buf[2 * n + i]) * (double)tasks[i].wcet_ns /
			  (double)tasks[i].period_ns;
	}
	g.period = (int64_t)m * r->period_ns;
	g.budget = r->budget_ns;
	alpha = (double)r->budget_ns / (double)r->period_ns;
	if (alpha - u <= RTV_MPR_EPS) {
		ret = 0;
		goto out;
	}
	/* C_Σ: the m − 1 largest C_i (scaled) */
	{
		int64_t *top = g.top;
		int ntop = 0;

		for (int i = 0; i < n; i++) {
			int pos;

			if (m == 1)
				break;
			if (ntop == m - 1 && g.c[i] <= top[ntop - 1])
				continue;
			if (ntop < m - 1)
				ntop++;
			for (pos = ntop - 1; pos > 0 && top[pos - 1] < g.c[i]; pos--)
				top[pos] = top[pos - 1];
			top[pos] = g.c[i];
		}
		for (int j = 0; j < ntop; j++)
			csum += (double)top[j];
	}
	/* B = 2α(Π − Θ/m′), scaled: 2α(m′Π − Θ) */
	bterm = 2.0 * alpha * (double)(g.period - g.budget);
	for (int k = 0; k < n && ret; k++) {
		double amax = (csum + (double)m * (double)g.c[k] - (double)g.d[k] * (alpha - u) +
			       uprime + bterm) / (alpha - u);
		int64_t hi;

		if (amax > RTV_MPR_AMAX_LIMIT) {
			ret = 0;
			break;
		}
		/* A_k in [0, A_max): every bend up to ⌈A_max⌉ and that end
		 * itself bound the convex pieces from above */
		hi = g.d[k] + (amax > 0 ? (int64_t)ceil(amax) : 0);
		ret = check_task(&g, k, g.d[k], hi);
	}
out:
	free(buf);
	return ret;
}

int rtv_mpr_interface(const struct rtv_task *tasks, int n, int64_t period_ns, int64_t grid_ns,
		      int max_cpus, struct rtv_mpr *out)
{
	double u = rtv_tasks_utilization(tasks, n);
	int mstart;

	if (period_ns <= 0 || grid_ns <= 0 || n < 0)
		return -EINVAL;
	if (n == 0) {
		*out = (struct rtv_mpr){ period_ns, 0, 0 };
		return 0;
	}
	if (max_cpus <= 0)
		max_cpus = n;
	mstart = (int)ceil(u - RTV_MPR_EPS);
	if (mstart < 1)
		mstart = 1;
	for (int m = mstart; m <= max_cpus; m++) {
		int64_t full = (int64_t)m * period_ns;
		int64_t khi = (full + grid_ns - 1) / grid_ns;
		/* below max((m−1)Π, UΠ) nothing is tried or passes */
		int64_t klo = (int64_t)(m - 1) * period_ns / grid_ns;
		int64_t ku = (int64_t)floor(u * (double)period_ns / (double)grid_ns) - 1;
		struct rtv_mpr r = { period_ns, full, m };
		int ret;

		if (ku > klo)
			klo = ku;
		ret = rtv_mpr_gedf_schedulable(tasks, n, &r);
		if (ret < 0)
			return ret;
		if (!ret)
			continue;
		if (klo >= khi)
			klo = khi - 1;
		while (khi - klo > 1) {
			int64_t mid = klo + (khi - klo) / 2;

			r.budget_ns = mid * grid_ns > full ? full : mid * grid_ns;
			ret = rtv_mpr_gedf_schedulable(tasks, n, &r);
			if (ret < 0)
				return ret;
			if (ret)
				khi = mid;
			else
				klo = mid;
		}
		r.budget_ns = khi * grid_ns > full ? full : khi * grid_ns;
		*out = r;
		return 0;
	}
	return -ENOSPC;
}

int rtv_mpr_split(const struct rtv_mpr *r, struct rtv_prm *out)
{
	for (int i = 0; i < r->cpus; i++) {
		out[i].period_ns = r->period_ns;
		/* rounded up: the reservations together supply at least Θ */
		out[i].budget_ns = (r->budget_ns + r->cpus - 1) / r->cpus;
	}
	return r->cpus;
}
