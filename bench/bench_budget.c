/* Over-reservation check of the reservations bench_protection.sh runs: a
 * taskset partitioned on N vCPUs as `taskset run --vcpus N` does (the
 * analysis's defaults: RM inside, least added bandwidth, exact sbf, 0.5 ms
 * grid), then each vCPU's tasks simulated (analysis/sim.h) inside its
 * periodic resource supplying in its worst-case pattern, over the
 * hyperperiod plus 2 periods of the resource:
 *  - with the analysis's budget Q: no miss (the budget is enough);
 *  - with Q minus one grid step: a miss (the budget is not a grid step or
 *    more too large).
 * A budget sized twice too large passes the protection run and fails here.
 *
 * usage: bench_budget FILE [NVCPUS]   (default 2)
 * Prints one line per vCPU and a verdict; exits 0 when both hold for every
 * vCPU, 1 when not, 2 on bad input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/partition.h"
#include "analysis/sim.h"
#include "taskset/taskset.h"

static int64_t gcd(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Least common multiple of the periods and the resource's, capped at 60 s. */
static int64_t horizon_of(const struct rtv_task *t, int n, int64_t period_ns)
{
	int64_t h = period_ns, cap = 60LL * 1000000000LL;

	for (int i = 0; i < n && h < cap; i++)
		h = h / gcd(h, t[i].period_ns) * t[i].period_ns;
	return (h < cap ? h : cap) + 2 * period_ns;
}

int main(int argc, char **argv)
{
	struct rtv_task sub[RTV_TASKSET_MAX];
	struct rtv_taskset ts = { 0 };
	struct rtv_prm_params p;
	struct rtv_partition part = { 0 };
	char err[256] = "";
	int nvcpus = 2, e, failed = -1, bad = 0;
	char *end;

	if (argc < 2 || argc > 3 || (argc == 3 && ((nvcpus = (int)strtol(argv[2], &end, 10)) < 1 ||
						   *end))) {
		fprintf(stderr, "usage: bench_budget FILE [NVCPUS]\n");
		return 2;
	}
	if ((e = rtv_taskset_load(argv[1], nvcpus, &ts, err, sizeof(err))) < 0) {
		fprintf(stderr, "bench_budget: %s\n", err[0] ? err : strerror(-e));
		return 2;
	}
	rtv_prm_params_init(&p);
	e = rtv_partition_run(&ts, nvcpus, RTV_FIT_LEAST_BW, &p, &part, &failed);
	if (e < 0) {
		fprintf(stderr, "bench_budget: cannot partition '%s' on %d vCPUs: %s\n", argv[1],
			nvcpus, strerror(-e));
		rtv_taskset_release(&ts);
		return 1;
	}
	printf("bench_budget: %s on %d vCPUs, %s, grid %.1f ms; simulated in the worst-case supply\n",
	       argv[1], part.nvcpus, rtv_alg_name(p.sched), (double)p.grid_ns / 1e6);
	for (int v = 0; v < part.nvcpus; v++) {
		const struct rtv_prm *r = &part.iface[v];
		struct rtv_sim_result at, below;
		int n = 0;

		for (int i = 0; i < ts.n; i++)
			if (part.vcpu[i] == v)
				sub[n++] = ts.task[i];
		if (!n)
			continue;
		int64_t h = horizon_of(sub, n, r->period_ns);

		e = rtv_sim_prm(sub, n, p.sched, r->period_ns, r->budget_ns, h, NULL, &at);
		if (!e)
			e = rtv_sim_prm(sub, n, p.sched, r->period_ns, r->budget_ns - p.grid_ns, h,
					NULL, &below);
		if (e < 0) {
			fprintf(stderr, "bench_budget: cannot simulate vCPU %d: %s\n", v, strerror(-e));
			bad = 1;
			continue;
		}
		printf("  vCPU %d: %d tasks, (Q, P) = (%.1f ms, %.1f ms): misses %lld of %lld jobs; "
		       "with Q - %.1f ms: %lld of %lld\n", v, n, (double)r->budget_ns / 1e6,
		       (double)r->period_ns / 1e6, (long long)at.misses, (long long)at.jobs,
		       (double)p.grid_ns / 1e6, (long long)below.misses, (long long)below.jobs);
		if (at.misses || !below.misses)
			bad = 1;
	}
	printf("%s bench_budget: target every vCPU's Q misses nothing and Q - one grid step misses, "
	       "measured above\n", bad ? "FAIL" : "PASS");
	rtv_partition_release(&part);
	rtv_taskset_release(&ts);
	return bad;
}
