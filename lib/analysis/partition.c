/* Greedy partitioning over vCPUs; see partition.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/partition.h"
#include "analysis/prm_internal.h"
#include "util/banned.h"

const char *const rtv_heuristic_names[RTV_HEURISTIC_COUNT + 1] = {
	"first-fit", "best-fit", "worst-fit", "least-bw", NULL,
};

const char *rtv_heuristic_name(enum rtv_heuristic h)
{
	return (unsigned)h < RTV_HEURISTIC_COUNT ? rtv_heuristic_names[h] : "?";
}

int rtv_heuristic_parse(const char *name, enum rtv_heuristic *h)
{
	for (int i = 0; i < RTV_HEURISTIC_COUNT; i++)
		if (!strcmp(name, rtv_heuristic_names[i])) {
			*h = (enum rtv_heuristic)i;
			return 0;
		}
	return -EINVAL;
}

void rtv_partition_release(struct rtv_partition *part)
{
	if (!part)
		return;
	free(part->vcpu);
	free(part->iface);
	free(part->util);
	memset(part, 0, sizeof(*part));
}

double rtv_partition_bandwidth(const struct rtv_partition *part)
{
	double bw = 0;

	for (int v = 0; v < part->nvcpus; v++)
		bw += rtv_prm_bandwidth(&part->iface[v]);
	return bw;
}

struct state {
	const struct rtv_taskset *ts;
	const struct rtv_prm_params *p;
	int m;
	int *count;           /* per vCPU */
	int *members;         /* per vCPU, ts->n slots */
	struct rtv_task *tmp; /* scratch: one vCPU's tasks plus one */
	double *bw;           /* per vCPU: Θ/Π of its current interface */
};

/* vCPU v's tasks, plus task extra when ≥ 0, into s->tmp. */
static int gather(const struct state *s, int v, int extra)
{
	int k = 0;

	for (int j = 0; j < s->count[v]; j++)
		s->tmp[k++] = s->ts->task[s->members[v * s->ts->n + j]];
	if (extra >= 0)
		s->tmp[k++] = s->ts->task[extra];
	return k;
}

/* 1 when task i fits vCPU v (a whole CPU schedules them), 0, or -errno. */
static int fits(const struct state *s, int v, int i)
{
	int k = gather(s, v, i);

	return rtv_prm_schedulable(s->tmp, k, s->p, s->p->period_min_ns, s->p->period_min_ns);
}

/* Θ/Π of the interface of vCPU v with task i added (i < 0: as it is), or
 * -ENOSPC when there is none, or -errno. */
static int iface_of(const struct state *s, int v, int i, struct rtv_prm *r)
{
	return rtv_prm_interface(s->tmp, gather(s, v, i), s->p, r);
}

static void place(struct state *s, struct rtv_partition *out, int v, int i)
{
	s->members[v * s->ts->n + s->count[v]++] = i;
	out->vcpu[i] = v;
	out->util[v] += (double)s->ts->task[i].wcet_ns / (double)s->ts->task[i].period_ns;
}

struct ukey {
	double u;
	int i;
};

static int cmp_ukey(const void *a, const void *b)
{
	const struct ukey *x = a, *y = b;

	if (x->u != y->u)
		return x->u > y->u ? -1 : 1;
	return x->i - y->i;
}

int rtv_partition_run(const struct rtv_taskset *ts, int max_vcpus, enum rtv_heuristic h,
		      const struct rtv_prm_params *p, struct rtv_partition *out, int *failed)
{
	int n = ts->n, m = max_vcpus, err = 0, opened = 0, used = 0;
	struct state s = { .ts = ts, .p = p, .m = m };
	struct ukey *order = NULL;

	memset(out, 0, sizeof(*out));
	if (n < 0 || m <= 0 || (unsigned)h >= RTV_HEURISTIC_COUNT)
		return -EINVAL;
	s.count = calloc((size_t)m, sizeof(*s.count));
	s.members = malloc((size_t)m * (size_t)(n ? n : 1) * sizeof(*s.members));
	s.tmp = malloc(((size_t)n + 1) * sizeof(*s.tmp));
	s.bw = calloc((size_t)m, sizeof(*s.bw));
	order = malloc(((size_t)n + 1) * sizeof(*order));
	out->vcpu = malloc(((size_t)n + 1) * sizeof(*out->vcpu));
	out->iface = calloc((size_t)m, sizeof(*out->iface));
	out->util = calloc((size_t)m, sizeof(*out->util));
	if (!s.count || !s.members || !s.tmp || !s.bw || !order || !out->vcpu || !out->iface ||
	    !out->util) {
		err = -ENOMEM;
		goto out;
	}
	/* pinned tasks first, where they are pinned */
	for (int i = 0; i < n; i++) {
		int v = ts->task[i].cpu;

		out->vcpu[i] = -1;
		if (v < 0)
			continue;
		if (v >= m) {
			err = -ERANGE;
		} else {
			err = fits(&s, v, i);
			if (err == 0)
				err = -ERANGE;
		}
		if (err < 0) {
			if (failed)
				*failed = i;
			goto out;
		}
		place(&s, out, v, i);
		if (v + 1 > opened)
			opened = v + 1;
	}
	if (h == RTV_FIT_LEAST_BW)
		for (int v = 0; v < m; v++) {
			struct rtv_prm r;

			if (!s.count[v])
				continue;
			err = iface_of(&s, v, -1, &r);
			if (err < 0)
				goto out;
			s.bw[v] = rtv_prm_bandwidth(&r);
		}
	if (h == RTV_FIT_WORST || h == RTV_FIT_LEAST_BW)
		opened = m;
	{
		int k = 0;

		for (int i = 0; i < n; i++)
			if (ts->task[i].cpu < 0) {
				order[k].u = (double)ts->task[i].wcet_ns / (double)ts->task[i].period_ns;
				order[k++].i = i;
			}
		qsort(order, (size_t)k, sizeof(*order), cmp_ukey);
		for (int o = 0; o < k; o++) {
			int i = order[o].i, best = -1;
			double best_key = 0;

			for (int v = 0; v < opened; v++) {
				double key;

				if (h == RTV_FIT_LEAST_BW) {
					struct rtv_prm r;

					err = iface_of(&s, v, i, &r);
					if (err == -ENOSPC)
						continue;
					if (err < 0)
						goto out;
					key = rtv_prm_bandwidth(&r) - s.bw[v];
				} else {
					err = fits(&s, v, i);
					if (err < 0)
						goto out;
					if (!err)
						continue;
					key = h == RTV_FIT_BEST ? -out->util[v] : out->util[v];
				}
				/* ties within rounding go to the lower number */
				if (best < 0 || key < best_key - 1e-12) {
					best = v;
					best_key = key;
				}
				if (h == RTV_FIT_FIRST)
					break;
			}
			if (best < 0 && opened < m) { /* first-fit, best-fit: open one */
				best = opened++;
				err = fits(&s, best, i);
				if (err < 0)
					goto out;
				if (!err)
					best = -1;
			}
			if (best < 0) {
				if (failed)
					*failed = i;
				err = -ENOSPC;
				goto out;
			}
			if (h == RTV_FIT_LEAST_BW)
				s.bw[best] += best_key;
			place(&s, out, best, i);
		}
	}
	for (int v = 0; v < m; v++) {
		if (s.count[v])
			used = v + 1;
		err = iface_of(&s, v, -1, &out->iface[v]);
		if (err < 0) {
			if (failed)
				*failed = s.members[v * n];
			goto out;
		}
	}
	out->nvcpus = used;
	err = 0;
out:
	free(s.count);
	free(s.members);
	free(s.tmp);
	free(s.bw);
	free(order);
	if (err < 0)
		rtv_partition_release(out);
	return err;
}

int rtv_partition_vcpus(const struct rtv_partition *part, const struct rtv_taskset *ts,
			enum rtv_alg sched, int *of, int *rank, struct rtv_prm *iface)
{
	int *map = malloc((size_t)(part->nvcpus > 0 ? part->nvcpus : 1) * sizeof(int)), n = 0;
	struct rtv_task *sorted = NULL;
	int *index = NULL;

	if (!map)
		return -ENOMEM;
	for (int k = 0; k < part->nvcpus; k++)
		map[k] = -1;
	for (int i = 0; i < ts->n; i++) { /* numbered in order of first use, none empty */
		int k = part->vcpu[i];

		if (k < 0 || k >= part->nvcpus) {
			free(map);
			return -EINVAL;
		}
		if (map[k] < 0) {
			map[k] = n;
			iface[n++] = part->iface[k];
		}
		of[i] = map[k];
	}
	free(map);
	if (!rank)
		return n;
	sorted = calloc((size_t)ts->n, sizeof(*sorted));
	index = calloc((size_t)ts->n, sizeof(int));
	if (!sorted || !index) {
		free(sorted);
		free(index);
		return -ENOMEM;
	}
	/* one order for all tasks: within a vCPU it is the vCPU's own */
	rtv_prm_order(ts->task, ts->n, sched, sorted, index);
	for (int k = 0; k < ts->n; k++)
		rank[index[k]] = k;
	free(sorted);
	free(index);
	return n;
}
