/* The periodic-resource simulator; see sim.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/sim.h"
#include "util/banned.h"

struct simtask {
	int64_t c, t, d;
	int64_t next_release;
	int64_t pending;     /* released, unfinished jobs */
	int64_t cur_release; /* release of the oldest pending job */
	int64_t remaining;   /* its remaining execution */
	int rank;            /* FP: 0 is the highest priority */
};

/* The worst-case supply: whether it is on at t, and when that changes. */
static bool supply_on(int64_t per, int64_t bud, int64_t t)
{
	int64_t bo2 = 2 * (per - bud);

	if (bud >= per)
		return true;
	if (bud <= 0 || t < bo2)
		return false;
	return (t - bo2) % per < bud;
}

static int64_t supply_next(int64_t per, int64_t bud, int64_t t)
{
	int64_t bo2 = 2 * (per - bud), start;

	if (bud >= per || bud <= 0)
		return INT64_MAX;
	if (t < bo2)
		return bo2;
	start = bo2 + (t - bo2) / per * per;
	return t < start + bud ? start + bud : start + per;
}

static bool higher(const struct simtask *a, int ia, const struct simtask *b, int ib,
		   enum rtv_alg sched)
{
	if (sched == RTV_ALG_EDF) {
		int64_t da = a->cur_release + a->d, db = b->cur_release + b->d;

		if (da != db)
			return da < db;
		if (a->cur_release != b->cur_release)
			return a->cur_release < b->cur_release;
		return ia < ib;
	}
	return a->rank < b->rank;
}

int rtv_sim_prm(const struct rtv_task *tasks, int n, enum rtv_alg sched, int64_t period_ns,
		int64_t budget_ns, int64_t horizon_ns, int64_t *max_response_ns,
		struct rtv_sim_result *res)
{
	struct simtask *st;
	int *index;
	struct rtv_task *sorted;
	int64_t now = 0;

	memset(res, 0, sizeof(*res));
	res->first_miss_task = -1;
	if (n < 0 || period_ns <= 0 || horizon_ns <= 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (tasks[i].wcet_ns <= 0 || tasks[i].period_ns <= 0 || tasks[i].deadline_ns <= 0)
			return -EINVAL;
	st = calloc((size_t)n + 1, sizeof(*st));
	index = malloc(((size_t)n + 1) * sizeof(*index));
	sorted = malloc(((size_t)n + 1) * sizeof(*sorted));
	if (!st || !index || !sorted) {
		free(st);
		free(index);
		free(sorted);
		return -ENOMEM;
	}
	rtv_prm_order(tasks, n, sched, sorted, index);
	for (int k = 0; k < n; k++)
		st[index[k]].rank = k;
	for (int i = 0; i < n; i++) {
		st[i].c = tasks[i].wcet_ns;
		st[i].t = tasks[i].period_ns;
		st[i].d = tasks[i].deadline_ns;
		if (max_response_ns)
			max_response_ns[i] = 0;
	}
	while (now < horizon_ns) {
		int run = -1;
		int64_t next = horizon_ns, dt;
		bool on;

		for (int i = 0; i < n; i++) {
			struct simtask *s = &st[i];

			if (s->next_release <= now) {
				if (!s->pending++) {
					s->cur_release = s->next_release;
					s->remaining = s->c;
				}
				s->next_release += s->t;
				res->jobs++;
			}
			if (s->next_release < next)
				next = s->next_release;
			if (s->pending && (run < 0 || higher(s, i, &st[run], run, sched)))
				run = i;
		}
		on = supply_on(period_ns, budget_ns, now);
		dt = supply_next(period_ns, budget_ns, now);
		if (dt < next)
			next = dt;
		if (on && run >= 0 && now + st[run].remaining < next)
			next = now + st[run].remaining;
		if (on && run >= 0)
			st[run].remaining -= next - now;
		now = next;
		res->events++;
		if (on && run >= 0 && !st[run].remaining) {
			struct simtask *s = &st[run];
			int64_t resp = now - s->cur_release;

			res->done++;
			if (max_response_ns && resp > max_response_ns[run])
				max_response_ns[run] = resp;
			if (resp > s->d) {
				if (!res->misses++) {
					res->first_miss_task = run;
					res->first_miss_ns = s->cur_release + s->d;
				}
			}
			if (--s->pending) {
				s->cur_release += s->t;
				s->remaining = s->c;
			}
		}
	}
	/* unfinished jobs whose deadline has passed */
	for (int i = 0; i < n; i++)
		for (int64_t j = 0; j < st[i].pending; j++) {
			int64_t dl = st[i].cur_release + j * st[i].t + st[i].d;

			if (dl > horizon_ns)
				break;
			if (!res->misses++ || dl < res->first_miss_ns) {
				res->first_miss_task = i;
				res->first_miss_ns = dl;
			}
		}
	free(st);
	free(index);
	free(sorted);
	return 0;
}
