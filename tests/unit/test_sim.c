/* Property tests of lib/analysis against the simulator (lib/analysis/sim):
 * over random tasksets (UUniFast utilizations, log-uniform periods, a fixed
 * seed so that every run is the same), whenever the analysis says a taskset
 * is schedulable in (Π, Θ), the worst-case supply pattern never lets a job
 * miss; and the supply functions keep their properties. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "analysis/mpr.h"
#include "analysis/prm.h"
#include "analysis/sim.h"
#include "util/time.h"

#define MS RTV_NS_PER_MS
#define NSETS 1200

static uint64_t rng_state;
static bool constrained; /* deadlines D in [C, T] instead of D = T */

static uint64_t rng_next(void) /* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static double rng_unit(void) /* [0, 1) */
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static int64_t rng_range(int64_t lo, int64_t hi) /* [lo, hi] */
{
	return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

/* UUniFast (Bini & Buttazzo): n utilizations summing to u; periods
 * log-uniform in [lo, hi] ns, rounded to the µs. */
static void random_set(struct rtv_task *t, int n, double u, int64_t lo_ns, int64_t hi_ns)
{
	double sum = u;

	for (int i = 0; i < n; i++) {
		double next = i < n - 1 ? sum * pow(rng_unit(), 1.0 / (double)(n - 1 - i)) : 0;
		double ui = sum - next;
		double per = exp(log((double)lo_ns) + rng_unit() * (log((double)hi_ns) - log((double)lo_ns)));

		sum = next;
		memset(&t[i], 0, sizeof(t[i]));
		t[i].period_ns = (int64_t)(per / 1000) * 1000;
		t[i].wcet_ns = (int64_t)llround(ui * (double)t[i].period_ns);
		if (t[i].wcet_ns < 1000)
			t[i].wcet_ns = 1000;
		if (t[i].wcet_ns > t[i].period_ns)
			t[i].wcet_ns = t[i].period_ns;
		t[i].deadline_ns = t[i].period_ns;
		if (constrained)
			t[i].deadline_ns = t[i].wcet_ns +
					   (int64_t)(rng_unit() * (double)(t[i].period_ns - t[i].wcet_ns));
		t[i].cpu = -1;
		t[i].prio = -1;
	}
}

static int64_t max_period(const struct rtv_task *t, int n)
{
	int64_t m = 0;

	for (int i = 0; i < n; i++)
		if (t[i].period_ns > m)
			m = t[i].period_ns;
	return m;
}

/* Analysis says yes ⇒ the simulation has no miss. Over NSETS tasksets for
 * each scheduler, at the least budget the analysis accepts (1 µs grid, the
 * tightest case) for a random period; with exact sbf and linear bound. */
static void check_sched(enum rtv_alg sched, uint64_t seed, int *accepted, int *tight_cases,
			int *tight_misses)
{
	struct rtv_prm_params p;

	rng_state = seed;
	rtv_prm_params_init(&p);
	p.sched = sched;
	p.grid_ns = 1000;
	for (int s = 0; s < NSETS; s++) {
		struct rtv_task t[10];
		int n = (int)rng_range(2, 8);
		double u = 0.1 + 0.8 * rng_unit();
		int64_t per = rng_range(2, 30) * MS, budget, horizon;
		struct rtv_sim_result res;
		int ret;

		random_set(t, n, u, 10 * MS, 200 * MS);
		p.supply = s % 4 == 3 ? RTV_SUPPLY_LINEAR : RTV_SUPPLY_EXACT;
		ret = rtv_prm_min_budget(t, n, &p, per, &budget);
		if (ret == -ENOSPC)
			continue;
		assert_int_equal(ret, 0);
		assert_int_equal(rtv_prm_schedulable(t, n, &p, per, budget), 1);
		(*accepted)++;
		/* FP: the first jobs see the worst case; EDF: run longer */
		if (constrained && sched != RTV_ALG_EDF)
			p.supply = RTV_SUPPLY_EXACT;
		horizon = 2 * (per - budget) + (sched == RTV_ALG_EDF ? 12 : 3) * max_period(t, n);
		assert_int_equal(rtv_sim_prm(t, n, sched, per, budget, horizon, NULL, &res), 0);
		if (res.misses) {
			fprintf(stderr, "set %d (%s, %s): n=%d Π=%lld Θ=%lld: %lld misses, first task %d\n", s,
				rtv_alg_name(sched), rtv_supply_name(p.supply), n, (long long)per,
				(long long)budget, (long long)res.misses, res.first_miss_task);
			for (int i = 0; i < n; i++)
				fprintf(stderr, "  C=%lld T=%lld\n", (long long)t[i].wcet_ns,
					(long long)t[i].period_ns);
		}
		assert_int_equal(res.misses, 0);
		assert_true(res.jobs >= n);
		/* FP with the exact sbf is exact for the synchronous release in
		 * the worst-case supply: 1 µs less, and some job is late */
		if (sched != RTV_ALG_EDF && p.supply == RTV_SUPPLY_EXACT && budget > 1000 &&
		    !rtv_prm_schedulable(t, n, &p, per, budget - 1000)) {
			assert_int_equal(rtv_sim_prm(t, n, sched, per, budget - 1000, horizon, NULL, &res),
					 0);
			(*tight_cases)++;
			if (res.misses)
				(*tight_misses)++;
		}
	}
}

static void test_rm_never_misses(void **state)
{
	int accepted = 0, cases = 0, tight = 0;

	(void)state;
	check_sched(RTV_ALG_RM, 42, &accepted, &cases, &tight);
	fprintf(stderr, "rm: %d of %d tasksets accepted; with 1 us less, %d of %d missed\n",
		accepted, NSETS, tight, cases);
	assert_true(accepted >= 1000);
	/* the FP analysis with the exact sbf is exact for the synchronous
	 * release in the worst-case supply: with 1 µs less than the least
	 * budget the simulation misses, every time */
	assert_true(cases >= 800);
	assert_int_equal(tight, cases);
}

static void test_edf_never_misses(void **state)
{
	int accepted = 0, cases = 0, tight = 0;

	(void)state;
	check_sched(RTV_ALG_EDF, 4242, &accepted, &cases, &tight);
	fprintf(stderr, "edf: %d of %d tasksets accepted\n", accepted, NSETS);
	assert_true(accepted >= 1000);
}

/* constrained deadlines: DM and EDF (U′ > 0 in EDF's t*) */
static void test_constrained_never_misses(void **state)
{
	int accepted = 0, cases = 0, tight = 0;

	(void)state;
	constrained = true;
	check_sched(RTV_ALG_DM, 99, &accepted, &cases, &tight);
	fprintf(stderr, "dm, D <= T: %d of %d accepted; with 1 us less, %d of %d missed\n", accepted,
		NSETS, tight, cases);
	assert_true(accepted >= 500);
	accepted = cases = tight = 0;
	check_sched(RTV_ALG_EDF, 999, &accepted, &cases, &tight);
	fprintf(stderr, "edf, D <= T: %d of %d accepted\n", accepted, NSETS);
	assert_true(accepted >= 500);
	constrained = false;
}

static void test_sim_known(void **state)
{
	/* one task C = 2, T = 10 in (Π 5, Θ 2): the supply starts at 2·3 = 6
	 * and gives [6, 8): done at 8 */
	struct rtv_task t = { .wcet_ns = 2 * MS, .period_ns = 10 * MS, .deadline_ns = 10 * MS,
			      .cpu = -1 };
	struct rtv_sim_result res;
	int64_t resp;

	(void)state;
	assert_int_equal(rtv_sim_prm(&t, 1, RTV_ALG_RM, 5 * MS, 2 * MS, 10 * MS, &resp, &res), 0);
	assert_int_equal(resp, 8 * MS);
	assert_int_equal(res.misses, 0);
	assert_int_equal(res.done, 1);
	/* C = 3: [6, 8) and [11, 12): done at 12 > 10 */
	t.wcet_ns = 3 * MS;
	assert_int_equal(rtv_sim_prm(&t, 1, RTV_ALG_RM, 5 * MS, 2 * MS, 20 * MS, &resp, &res), 0);
	assert_int_equal(res.misses, 1);
	assert_int_equal(resp, 12 * MS);
	assert_int_equal(res.first_miss_task, 0);
	assert_int_equal(res.first_miss_ns, 10 * MS);
}

/* sbf: monotone in Θ and t, never above t·Θ/Π + Θ nor t, and lsbf below
 * it; the same for the MPR's. */
static void test_supply_properties(void **state)
{
	(void)state;
	rng_state = 7;
	for (int k = 0; k < 20000; k++) {
		int64_t per = rng_range(1, 100) * 100000, bud = rng_range(0, per / 1000) * 1000;
		int64_t t = rng_range(0, 20 * per), d = rng_range(1, per);
		int64_t s = rtv_prm_sbf(per, bud, t);
		int m = (int)rng_range(1, 4);
		struct rtv_mpr r = { per, bud * m, m }, r2 = { per, bud * m + rng_range(0, per - bud), m };

		assert_true(s >= 0);
		assert_true(s <= t);
		assert_true((double)s <= (double)t * (double)bud / (double)per + (double)bud);
		assert_true((double)s <= (double)t * (double)bud / (double)per + 1e-6);
		assert_true(rtv_prm_sbf(per, bud + (bud + d <= per ? d : 0), t) >= s);
		assert_true(rtv_prm_sbf(per, bud, t + d) >= s);
		assert_true(rtv_prm_lsbf(per, bud, t) <= (double)s + 1e-6);
		assert_true(rtv_mpr_sbf(&r, t) <= m * t);
		assert_true(rtv_mpr_sbf(&r2, t) >= rtv_mpr_sbf(&r, t));
		assert_true(rtv_mpr_lsbf(&r, t) <= (double)rtv_mpr_sbf(&r, t) + 1e-6);
		assert_true((double)rtv_mpr_sbf(&r, t) <=
			    (double)t * (double)r.budget_ns / (double)per + 1e-6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_known),
		cmocka_unit_test(test_supply_properties),
		cmocka_unit_test(test_rm_never_misses),
		cmocka_unit_test(test_edf_never_misses),
		cmocka_unit_test(test_constrained_never_misses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
