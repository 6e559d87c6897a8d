/* The periodic resource model: supply, demand, tests, least budget and the
 * interface search. See prm.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/prm.h"
#include "analysis/prm_internal.h"
#include "util/banned.h"
#include "util/time.h"

/* α − U below this counts as α ≤ U: U is summed in doubles, and a margin
 * keeps t* finite; erring here only rejects. */
#define RTV_PRM_EPS 1e-12
/* EDF checks with more deadlines than this are not run; the resource is
 * rejected instead. */
#define RTV_PRM_MAX_POINTS 1e8

void rtv_prm_params_init(struct rtv_prm_params *p)
{
	p->sched = RTV_ALG_RM;
	p->supply = RTV_SUPPLY_EXACT;
	p->grid_ns = RTV_NS_PER_MS / 2;
	p->period_min_ns = 10 * RTV_NS_PER_MS;
	p->period_max_ns = 0;
	p->period_step_ns = RTV_NS_PER_MS;
	p->tie = RTV_TIE_LARGER_PERIOD;
}

double rtv_prm_bandwidth(const struct rtv_prm *r)
{
	if (r->period_ns <= 0 || r->budget_ns <= 0)
		return 0;
	return (double)r->budget_ns / (double)r->period_ns;
}

int64_t rtv_prm_sbf(int64_t period_ns, int64_t budget_ns, int64_t t_ns)
{
	int64_t bo, y, rest;

	if (t_ns <= 0 || budget_ns <= 0 || period_ns <= 0)
		return 0;
	if (budget_ns >= period_ns)
		return t_ns;
	bo = period_ns - budget_ns;
	if (t_ns <= bo)
		return 0;
	y = (t_ns - bo) / period_ns;
	rest = t_ns - 2 * bo - y * period_ns;
	return y * budget_ns + (rest > 0 ? rest : 0);
}

double rtv_prm_lsbf(int64_t period_ns, int64_t budget_ns, int64_t t_ns)
{
	if (period_ns <= 0 || budget_ns <= 0)
		return 0;
	if (budget_ns >= period_ns)
		return (double)t_ns;
	return (double)budget_ns / (double)period_ns *
	       ((double)t_ns - 2.0 * (double)(period_ns - budget_ns));
}

int64_t rtv_dbf(const struct rtv_task *tasks, int n, int64_t t_ns)
{
	int64_t d = 0;

	for (int i = 0; i < n; i++)
		if (t_ns >= tasks[i].deadline_ns)
			d += ((t_ns - tasks[i].deadline_ns) / tasks[i].period_ns + 1) * tasks[i].wcet_ns;
	return d;
}

int64_t rtv_rbf(const struct rtv_task *tasks, int i, int64_t t_ns)
{
	int64_t r = tasks[i].wcet_ns;

	for (int j = 0; j < i; j++)
		r += (t_ns + tasks[j].period_ns - 1) / tasks[j].period_ns * tasks[j].wcet_ns;
	return r;
}

double rtv_tasks_utilization(const struct rtv_task *tasks, int n)
{
	double u = 0;

	for (int i = 0; i < n; i++)
		u += (double)tasks[i].wcet_ns / (double)tasks[i].period_ns;
	return u;
}

struct order_key {
	int64_t key;
	int index;
};

static int cmp_order_key(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index - y->index;
}

void rtv_prm_order(const struct rtv_task *tasks, int n, enum rtv_alg sched,
		   struct rtv_task *out, int *index)
{
	struct order_key stack_keys[64], *keys = stack_keys;

	if (n > 64) {
		keys = malloc((size_t)n * sizeof(*keys));
		if (!keys) { /* fall back to a stable insertion sort in place */
			memcpy(out, tasks, (size_t)n * sizeof(*out));
			for (int i = 0; index && i < n; i++)
				index[i] = i;
			for (int i = 1; sched != RTV_ALG_EDF && i < n; i++)
				for (int j = i; j > 0; j--) {
					int64_t a = sched == RTV_ALG_RM ? out[j - 1].period_ns
									  : out[j - 1].deadline_ns;
					int64_t b = sched == RTV_ALG_RM ? out[j].period_ns
									  : out[j].deadline_ns;
					struct rtv_task tmp;
					int ti;

					if (a <= b)
						break;
					tmp = out[j - 1], out[j - 1] = out[j], out[j] = tmp;
					if (index)
						ti = index[j - 1], index[j - 1] = index[j], index[j] = ti;
				}
			return;
		}
	}
	for (int i = 0; i < n; i++) {
		keys[i].index = i;
		keys[i].key = sched == RTV_ALG_RM   ? tasks[i].period_ns
			      : sched == RTV_ALG_DM ? tasks[i].deadline_ns
						      : 0;
	}
	qsort(keys, (size_t)n, sizeof(*keys), cmp_order_key);
	for (int i = 0; i < n; i++) {
		out[i] = tasks[keys[i].index];
		if (index)
			index[i] = keys[i].index;
	}
	if (keys != stack_keys)
		free(keys);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void rtv_prm_ctx_release(struct rtv_prm_ctx *c)
{
	if (!c)
		return;
	free(c->task);
	free(c->start);
	free(c->pt_t);
	free(c->pt_rbf);
	memset(c, 0, sizeof(*c));
}

/* Build the scheduling points S_i and rbf_i at each once; they do not depend
 * on the resource. */
static int build_fp_points(struct rtv_prm_ctx *c)
{
	size_t cap = 0, used = 0;
	const struct rtv_task *tk = c->task;

	c->start = malloc(((size_t)c->n + 1) * sizeof(*c->start));
	if (!c->start)
		return -ENOMEM;
	for (int i = 0; i < c->n; i++) {
		size_t need = 1;

		for (int j = 0; j < i; j++)
			need += (size_t)((tk[i].deadline_ns - 1) / tk[j].period_ns);
		cap += need;
	}
	c->pt_t = malloc((cap ? cap : 1) * sizeof(*c->pt_t));
	c->pt_rbf = malloc((cap ? cap : 1) * sizeof(*c->pt_rbf));
	if (!c->pt_t || !c->pt_rbf)
		return -ENOMEM;
	for (int i = 0; i < c->n; i++) {
		size_t s = used, k;

		c->start[i] = used;
		for (int j = 0; j < i; j++)
			for (int64_t t = tk[j].period_ns; t < tk[i].deadline_ns; t += tk[j].period_ns)
				c->pt_t[used++] = t;
		c->pt_t[used++] = tk[i].deadline_ns;
		qsort(c->pt_t + s, used - s, sizeof(int64_t), cmp_i64);
		{ /* unique */
			size_t w = s + 1;

			for (size_t r = s + 1; r < used; r++)
				if (c->pt_t[r] != c->pt_t[w - 1])
					c->pt_t[w++] = c->pt_t[r];
			used = w;
		}
		for (k = s; k < used; k++)
			c->pt_rbf[k] = rtv_rbf(tk, i, c->pt_t[k]);
	}
	c->start[c->n] = used;
	return 0;
}

int rtv_prm_ctx_init(struct rtv_prm_ctx *c, const struct rtv_task *tasks, int n,
		     enum rtv_alg sched)
{
	int err;

	memset(c, 0, sizeof(*c));
	if (n < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (tasks[i].wcet_ns <= 0 || tasks[i].period_ns <= 0 || tasks[i].deadline_ns <= 0)
			return -EINVAL;
	c->n = n;
	c->sched = sched;
	c->task = malloc(((size_t)n + 1) * sizeof(*c->task));
	if (!c->task)
		return -ENOMEM;
	rtv_prm_order(tasks, n, sched, c->task, NULL);
	c->u = rtv_tasks_utilization(tasks, n);
	c->uprime = 0;
	c->max_period_ns = 0;
	c->implicit = true;
	for (int i = 0; i < n; i++) {
		c->uprime += (double)(tasks[i].period_ns - tasks[i].deadline_ns) *
			     ((double)tasks[i].wcet_ns / (double)tasks[i].period_ns);
		if (tasks[i].period_ns > c->max_period_ns)
			c->max_period_ns = tasks[i].period_ns;
		if (tasks[i].deadline_ns != tasks[i].period_ns)
			c->implicit = false;
	}
	if (sched != RTV_ALG_EDF) {
		err = build_fp_points(c);
		if (err < 0) {
			rtv_prm_ctx_release(c);
			return err;
		}
	}
	return 0;
}

/* demand ≤ supply(t) for the resource, exactly: the linear bound is
 * compared as demand·Π ≤ Θ·(t − 2(Π − Θ)) in 128-bit integers. */
static inline bool supplied(enum rtv_supply s, int64_t period_ns, int64_t budget_ns, int64_t t,
			    int64_t demand)
{
	if (s == RTV_SUPPLY_EXACT || budget_ns >= period_ns)
		return demand <= rtv_prm_sbf(period_ns, budget_ns, t);
	return (__int128)demand * period_ns <=
	       (__int128)budget_ns * (t - 2 * (period_ns - budget_ns));
}

static int test_fp(const struct rtv_prm_ctx *c, enum rtv_supply s, int64_t period_ns,
		   int64_t budget_ns)
{
	for (int i = 0; i < c->n; i++) {
		bool ok = false;

		for (size_t k = c->start[i]; k < c->start[i + 1] && !ok; k++)
			ok = supplied(s, period_ns, budget_ns, c->pt_t[k], c->pt_rbf[k]);
		if (!ok)
			return 0;
	}
	return 1;
}

static int64_t lcm_or_zero(int64_t a, int64_t b)
{
	int64_t x = a, y = b, r;

	while (y) {
		r = x % y;
		x = y;
		y = r;
	}
	if (a / x > INT64_MAX / b)
		return 0;
	return a / x * b;
}

/* A min-heap of (next absolute deadline, task) for walking the deadlines
 * in order while keeping dbf as a running sum. */
struct dl_heap {
	int64_t t;
	int i;
};

static void heap_down(struct dl_heap *h, int n, int k)
{
	for (;;) {
		int l = 2 * k + 1, r = l + 1, m = k;
		struct dl_heap tmp;

		if (l < n && h[l].t < h[m].t)
			m = l;
		if (r < n && h[r].t < h[m].t)
			m = r;
		if (m == k)
			return;
		tmp = h[k], h[k] = h[m], h[m] = tmp;
		k = m;
	}
}

/* dbf(t) ≤ supply(t) at every absolute deadline t ≤ limit, in increasing
 * order (a violation is usually found early). 1, 0 or -ENOMEM. */
static int edf_scan(const struct rtv_prm_ctx *c, enum rtv_supply s, int64_t period_ns,
		    int64_t budget_ns, int64_t limit)
{
	struct dl_heap stack_heap[64], *h = stack_heap;
	int n = c->n, ret = 1;
	int64_t dbf = 0;

	if (n > 64) {
		h = malloc((size_t)n * sizeof(*h));
		if (!h)
			return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		h[i].t = c->task[i].deadline_ns;
		h[i].i = i;
	}
	for (int k = n / 2 - 1; k >= 0; k--)
		heap_down(h, n, k);
	while (h[0].t <= limit) {
		int64_t t = h[0].t;

		while (h[0].t == t) { /* every job with this deadline */
			dbf += c->task[h[0].i].wcet_ns;
			h[0].t += c->task[h[0].i].period_ns;
			heap_down(h, n, 0);
		}
		if (!supplied(s, period_ns, budget_ns, t, dbf)) {
			ret = 0;
			break;
		}
	}
	if (h != stack_heap)
		free(h);
	return ret;
}

static int test_edf(const struct rtv_prm_ctx *c, enum rtv_supply s, int64_t period_ns,
		    int64_t budget_ns)
{
	double alpha, limit;

	if (c->n == 0)
		return 1;
	if (budget_ns <= 0)
		return 0;
	if (budget_ns >= period_ns) {
		/* a whole CPU: dbf(t) ≤ t up to t* = U′/(1 − U), or over one
		 * hyperperiod when U = 1 (Baruah et al.) */
		if (c->u > 1 + RTV_PRM_EPS)
			return 0;
		if (c->implicit)
			return 1; /* D = T: U ≤ 1 is exact */
		if (c->u < 1 - RTV_PRM_EPS) {
			limit = c->uprime / (1 - c->u);
		} else {
			int64_t h = c->task[0].period_ns;

			for (int i = 1; i < c->n && h; i++)
				h = lcm_or_zero(h, c->task[i].period_ns);
			if (!h)
				return 0; /* cannot bound the check: reject */
			limit = (double)h;
		}
		alpha = 1;
	} else {
		alpha = (double)budget_ns / (double)period_ns;
		if (alpha - c->u <= RTV_PRM_EPS)
			return 0;
		/* beyond t* the linear bound of the supply is above
		 * U·t + U′ ≥ dbf(t); rounded up when compared below */
		limit = (2.0 * (double)(period_ns - budget_ns) * alpha + c->uprime) / (alpha - c->u);
	}
	/* a check too long to run (α barely above U): reject, which is safe */
	{
		double points = 0;

		for (int i = 0; i < c->n; i++)
			points += limit / (double)c->task[i].period_ns;
		if (points > RTV_PRM_MAX_POINTS)
			return 0;
	}
	return edf_scan(c, s, period_ns, budget_ns, (int64_t)ceil(limit));
}

int rtv_prm_ctx_test(const struct rtv_prm_ctx *c, enum rtv_supply s, int64_t period_ns,
		     int64_t budget_ns)
{
	if (c->n == 0)
		return 1;
	if (period_ns <= 0 || budget_ns <= 0)
		return 0;
	if (c->sched == RTV_ALG_EDF)
		return test_edf(c, s, period_ns, budget_ns);
	return test_fp(c, s, period_ns, budget_ns);
}

int rtv_prm_schedulable(const struct rtv_task *tasks, int n, const struct rtv_prm_params *p,
			int64_t period_ns, int64_t budget_ns)
{
	struct rtv_prm_ctx c;
	int ret;

	if (period_ns <= 0)
		return -EINVAL;
	ret = rtv_prm_ctx_init(&c, tasks, n, p->sched);
	if (ret < 0)
		return ret;
	ret = rtv_prm_ctx_test(&c, p->supply, period_ns, budget_ns);
	rtv_prm_ctx_release(&c);
	return ret;
}

static inline int64_t budget_at(int64_t k, int64_t grid_ns, int64_t period_ns)
{
	return k * grid_ns > period_ns ? period_ns : k * grid_ns;
}

/* The least grid index k in (lower bound, khi] that passes, by bisection
 * (the test is monotone in Θ). khi must pass. */
static int64_t bisect(const struct rtv_prm_ctx *c, const struct rtv_prm_params *p,
		      int64_t period_ns, int64_t khi)
{
	/* below U·Π nothing passes: FP's lowest-priority task has
	 * rbf(t) ≥ U·t and sbf(t) ≤ (Θ/Π)·t; EDF needs Θ/Π > U */
	int64_t klo = (int64_t)floor(c->u * (double)period_ns / (double)p->grid_ns) - 1;

	if (klo < 0)
		klo = 0;
	if (klo >= khi)
		klo = khi - 1;
	while (khi - klo > 1) {
		int64_t mid = klo + (khi - klo) / 2;

		if (rtv_prm_ctx_test(c, p->supply, period_ns, budget_at(mid, p->grid_ns, period_ns)))
			khi = mid;
		else
			klo = mid;
	}
	return khi;
}

int rtv_prm_ctx_min_budget(const struct rtv_prm_ctx *c, const struct rtv_prm_params *p,
			   int64_t period_ns, int64_t *budget_ns)
{
	int64_t kmax;

	if (period_ns <= 0 || p->grid_ns <= 0)
		return -EINVAL;
	if (c->n == 0) {
		*budget_ns = 0;
		return 0;
	}
	kmax = (period_ns + p->grid_ns - 1) / p->grid_ns;
	if (!rtv_prm_ctx_test(c, p->supply, period_ns, period_ns))
		return -ENOSPC;
	*budget_ns = budget_at(bisect(c, p, period_ns, kmax), p->grid_ns, period_ns);
	return 0;
}

int rtv_prm_min_budget(const struct rtv_task *tasks, int n, const struct rtv_prm_params *p,
		       int64_t period_ns, int64_t *budget_ns)
{
	struct rtv_prm_ctx c;
	int ret;

	ret = rtv_prm_ctx_init(&c, tasks, n, p->sched);
	if (ret < 0)
		return ret;
	ret = rtv_prm_ctx_min_budget(&c, p, period_ns, budget_ns);
	rtv_prm_ctx_release(&c);
	return ret;
}

int rtv_prm_ctx_interface(const struct rtv_prm_ctx *c, const struct rtv_prm_params *p,
			  struct rtv_prm *out)
{
	int64_t lo = p->period_min_ns, hi = p->period_max_ns, step = p->period_step_ns;
	struct rtv_prm best = { 0, 0 };

	if (lo <= 0 || step <= 0 || p->grid_ns <= 0 || hi < 0)
		return -EINVAL;
	if (c->n == 0) {
		out->period_ns = lo;
		out->budget_ns = 0;
		return 0;
	}
	if (!hi) {
		hi = c->max_period_ns;
		if (hi < lo) {
			lo = hi / step * step;
			if (lo < step)
				lo = step;
		}
	}
	if (hi < lo)
		return -EINVAL;
	for (int64_t per = lo; per <= hi; per += step) {
		int64_t kmax = (per + p->grid_ns - 1) / p->grid_ns, khi = kmax;

		if (best.period_ns) {
			/* only budgets that would win: Θ·Πb ≤ Θb·Π (< for the
			 * smaller-period tie rule, periods rising) */
			__int128 num = (__int128)best.budget_ns * per;
			__int128 den = (__int128)best.period_ns * p->grid_ns;
			__int128 k = num / den;

			khi = k > kmax ? kmax : (int64_t)k;
			while (khi > 0) {
				__int128 lhs = (__int128)budget_at(khi, p->grid_ns, per) * best.period_ns;

				if (lhs < num || (lhs == num && p->tie == RTV_TIE_LARGER_PERIOD))
					break;
				khi--;
			}
			if (khi <= 0)
				continue;
		}
		if (!rtv_prm_ctx_test(c, p->supply, per, budget_at(khi, p->grid_ns, per)))
			continue;
		best.period_ns = per;
		best.budget_ns = budget_at(bisect(c, p, per, khi), p->grid_ns, per);
	}
	if (!best.period_ns)
		return -ENOSPC;
	*out = best;
	return 0;
}

int rtv_prm_interface(const struct rtv_task *tasks, int n, const struct rtv_prm_params *p,
		      struct rtv_prm *out)
{
	struct rtv_prm_ctx c;
	int ret;

	ret = rtv_prm_ctx_init(&c, tasks, n, p->sched);
	if (ret < 0)
		return ret;
	ret = rtv_prm_ctx_interface(&c, p, out);
	rtv_prm_ctx_release(&c);
	return ret;
}

const char *const rtv_alg_names[] = { "rm", "dm", "edf", NULL };
const char *const rtv_supply_names[] = { "exact", "linear", NULL };

const char *rtv_alg_name(enum rtv_alg s)
{
	return (unsigned)s < 3 ? rtv_alg_names[s] : "?";
}

int rtv_alg_parse(const char *name, enum rtv_alg *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, rtv_alg_names[i])) {
			*s = (enum rtv_alg)i;
			return 0;
		}
	return -EINVAL;
}

const char *rtv_supply_name(enum rtv_supply s)
{
	return (unsigned)s < 2 ? rtv_supply_names[s] : "?";
}

int rtv_supply_parse(const char *name, enum rtv_supply *s)
{
	for (int i = 0; i < 2; i++)
		if (!strcmp(name, rtv_supply_names[i])) {
			*s = (enum rtv_supply)i;
			return 0;
		}
	return -EINVAL;
}
