/* Speed of lib/analysis: a 100-task set partitioned on 8 vCPUs with every
 * heuristic (target: each finds a partition, in under 100 ms), the same
 * with U above 8 (target: each reports -ENOSPC, no feasible partition, in
 * under 100 ms), and the global MPR interface of a 20-task set (target: an
 * interface, in under 1 s).
 *
 * usage: bench_analysis [SEED]   (default 1)
 *
 * Tasksets are random but fixed by the seed: UUniFast utilizations, periods
 * log-uniform over 10 .. 200 ms rounded to the µs; 100 tasks with U = 5.6
 * (0.7 per vCPU; every heuristic fits it), 100 tasks with U = 8.4 (more than
 * 8 CPUs: infeasible by construction) and 20 tasks with U = 3. Each case runs
 * 3 times; the median is reported. One verdict line per target; exits with
 * the number of targets missed. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/mpr.h"
#include "analysis/partition.h"
#include "analysis/prm.h"
#include "util/time.h"

#define REPEATS 3

static uint64_t rng_state;

static double rng_unit(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static void random_set(struct rtv_task *t, int n, double u)
{
	double sum = u;

	for (int i = 0; i < n; i++) {
		double next = i < n - 1 ? sum * pow(rng_unit(), 1.0 / (double)(n - 1 - i)) : 0;
		double per = exp(log(10e6) + rng_unit() * (log(200e6) - log(10e6)));

		memset(&t[i], 0, sizeof(t[i]));
		snprintf(t[i].name, sizeof(t[i].name), "t%d", i);
		t[i].period_ns = (int64_t)(per / 1000) * 1000;
		t[i].wcet_ns = (int64_t)llround((sum - next) * (double)t[i].period_ns);
		if (t[i].wcet_ns < 1000)
			t[i].wcet_ns = 1000;
		t[i].deadline_ns = t[i].period_ns;
		t[i].cpu = -1;
		t[i].prio = -1;
		sum = next;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Partition ts on 8 vCPUs with every scheduler and heuristic; each must
 * return want (0: a partition, -ENOSPC: none) within 100 ms. Prints one line
 * per case and the verdict; returns 1 when the target is missed. */
static int partition_cases(const char *what, const struct rtv_taskset *ts, int want)
{
	struct rtv_prm_params p;
	int64_t worst = 0;
	int wrong = 0;

	rtv_prm_params_init(&p);
	printf("partitioned, %s: %d tasks, U = %.3f, 8 vCPUs, exact sbf, 0.5 ms grid, periods "
	       "10 ms..longest\n", what, ts->n, rtv_tasks_utilization(ts->task, ts->n));
	for (int sch = 0; sch < 2; sch++) {
		p.sched = sch ? RTV_ALG_EDF : RTV_ALG_RM;
		for (int h = 0; h < RTV_HEURISTIC_COUNT; h++) {
			int64_t ns[REPEATS];
			double bw = 0;
			int nv = 0, err = 0;

			for (int r = 0; r < REPEATS; r++) {
				struct rtv_partition part;
				int64_t t0 = rtv_now_ns();

				err = rtv_partition_run(ts, 8, (enum rtv_heuristic)h, &p, &part, NULL);
				ns[r] = rtv_now_ns() - t0;
				if (!err) {
					bw = rtv_partition_bandwidth(&part);
					nv = part.nvcpus;
				}
				rtv_partition_release(&part);
			}
			qsort(ns, REPEATS, sizeof(ns[0]), cmp_i64);
			printf("  %-4s %-10s %8.2f ms  %s", rtv_alg_name(p.sched),
			       rtv_heuristic_name((enum rtv_heuristic)h), (double)ns[REPEATS / 2] / 1e6,
			       err ? strerror(-err) : "ok");
			if (!err)
				printf("  %d vCPUs, bandwidth %.3f", nv, bw);
			printf("%s\n", err != want ? "  (not the expected outcome)" : "");
			wrong += err != want;
			if (ns[REPEATS / 2] > worst)
				worst = ns[REPEATS / 2];
		}
	}
	bool ok = !wrong && worst <= 100 * RTV_NS_PER_MS;

	printf("%s bench_analysis %s: target every case %s in < 100 ms: measured %d of %d "
	       "otherwise, slowest %.2f ms\n", ok ? "PASS" : "FAIL", what,
	       want ? "reports no feasible partition (ENOSPC)" : "finds a partition", wrong,
	       2 * RTV_HEURISTIC_COUNT, (double)worst / 1e6);
	return !ok;
}

int main(int argc, char **argv)
{
	struct rtv_task t100[100], t20[20];
	struct rtv_taskset ts = { .n = 100, .task = t100 };
	int missed = 0;

	rng_state = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	if (!rng_state)
		rng_state = 1;
	random_set(t100, 100, 5.6);
	random_set(t20, 20, 3.0);
	missed += partition_cases("feasible", &ts, 0);
	{
		int64_t ns[REPEATS];
		struct rtv_mpr r = { 0, 0, 0 };
		int err = 0;
		bool ok;

		for (int k = 0; k < REPEATS; k++) {
			int64_t t0 = rtv_now_ns();

			err = rtv_mpr_interface(t20, 20, 10 * RTV_NS_PER_MS, RTV_NS_PER_MS / 2, 0, &r);
			ns[k] = rtv_now_ns() - t0;
		}
		qsort(ns, REPEATS, sizeof(ns[0]), cmp_i64);
		printf("global: 20 tasks, U = %.3f, Π = 10 ms: Θ = %g ms, m′ = %d in %.2f ms (%s)\n",
		       rtv_tasks_utilization(t20, 20), (double)r.budget_ns / 1e6, r.cpus,
		       (double)ns[REPEATS / 2] / 1e6, err ? strerror(-err) : "ok");
		ok = !err && ns[REPEATS / 2] <= RTV_NS_PER_S;
		printf("%s bench_analysis global: target an MPR interface in < 1 s: measured %s in "
		       "%.2f ms\n", ok ? "PASS" : "FAIL", err ? strerror(-err) : "found",
		       (double)ns[REPEATS / 2] / 1e6);
		missed += !ok;
	}
	random_set(t100, 100, 8.4);
	missed += partition_cases("infeasible", &ts, -ENOSPC);
	return missed;
}
