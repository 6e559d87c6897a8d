/* Unit tests for lib/stats/interval: the generator against reference
 * values, moments and shapes of the three distributions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/interval.h"

#define NDRAWS 100000
#define SIGMAS 5.0
/* Kolmogorov-Smirnov: P(sqrt(n) D > 1.9495) = 0.001 for large n */
#define KS_CRIT (1.9495 / sqrt(NDRAWS))

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void assert_near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("%s: got %.10g, want %.10g +- %.3g\n", what, got, want, tol);
		fail();
	}
}

/* Reference outputs computed from Vigna's splitmix64.c and
 * xoshiro256starstar.c (independently, in Python). */
static void test_rng_reference(void **state)
{
	static const struct { uint64_t seed, out[3]; } ref[] = {
		{ 0, { UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
		       UINT64_C(0x1a5f849d4933e6e0) } },
		{ 42, { UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
			UINT64_C(0xae17533239e499a1) } },
	};
	struct rtv_rng r;
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		rtv_rng_seed(&r, ref[i].seed);
		for (k = 0; k < 3; k++)
			assert_int_equal(rtv_rng_next(&r), ref[i].out[k]);
	}
}

static void test_rng_repeatable(void **state)
{
	struct rtv_rng a, b, c;
	int i, same = 0;

	(void)state;
	rtv_rng_seed(&a, 12345);
	rtv_rng_seed(&b, 12345);
	rtv_rng_seed(&c, 12346);
	for (i = 0; i < 1000; i++) {
		uint64_t x = rtv_rng_next(&a);

		assert_int_equal(x, rtv_rng_next(&b));
		same += x == rtv_rng_next(&c);
	}
	assert_int_equal(same, 0);

	/* the same through the interval generator */
	{
		struct rtv_interval iv = { RTV_DIST_EXP, 1000, 50000 };

		rtv_rng_seed(&a, 7);
		rtv_rng_seed(&b, 7);
		for (i = 0; i < 1000; i++)
			assert_int_equal(rtv_interval_next(&iv, &a), rtv_interval_next(&iv, &b));
	}
}

static void test_rng_unit(void **state)
{
	struct rtv_rng r;
	double u, sum = 0;
	int i;

	(void)state;
	rtv_rng_seed(&r, 99);
	for (i = 0; i < NDRAWS; i++) {
		u = rtv_rng_unit(&r);
		assert_true(u >= 0 && u < 1);
		/* 53 bits: u * 2^53 is a whole number */
		assert_true(u * 0x1p53 == floor(u * 0x1p53));
		sum += u;
	}
	/* variance of U(0,1) is 1/12 */
	assert_near(sum / NDRAWS, 0.5, SIGMAS * sqrt(1.0 / 12 / NDRAWS), "mean of unit");
}

/* Draw NDRAWS intervals into v (sorted on return) and check mean and
 * variance against theory within SIGMAS standard errors; mu4_ratio is the
 * fourth central moment over sigma^4 (9/5 uniform, 9 exponential), which
 * sets the standard error of the sample variance. */
static void check_moments(const struct rtv_interval *iv, uint64_t seed, int64_t *v,
			  double mean, double var, double mu4_ratio)
{
	long double sum = 0, ss = 0, m, d;
	struct rtv_rng r;
	int i;

	rtv_rng_seed(&r, seed);
	for (i = 0; i < NDRAWS; i++) {
		v[i] = rtv_interval_next(iv, &r);
		sum += v[i];
	}
	m = sum / NDRAWS;
	for (i = 0; i < NDRAWS; i++) {
		d = v[i] - m;
		ss += d * d;
	}
	assert_near((double)m, mean, SIGMAS * sqrt(var / NDRAWS), "sample mean");
	assert_near((double)(ss / (NDRAWS - 1)), var,
		    SIGMAS * var * sqrt((mu4_ratio - 1) / NDRAWS), "sample variance");
	qsort(v, NDRAWS, sizeof(*v), cmp_i64);
}

/* KS statistic of the sorted sample v against cdf(x; a, b). */
static double ks_stat(const int64_t *v, double (*cdf)(double x, double a, double b),
		      double a, double b)
{
	double d = 0, f, lo, hi;
	int i;

	for (i = 0; i < NDRAWS; i++) {
		f = cdf((double)v[i], a, b);
		lo = f - (double)i / NDRAWS;
		hi = (double)(i + 1) / NDRAWS - f;
		d = fmax(d, fmax(lo, hi));
	}
	return d;
}

/* uniform on the integers [a, b]: continuity-corrected */
static double cdf_uniform(double x, double a, double b)
{
	return (x - a + 0.5) / (b - a + 1);
}

/* a + exponential with mean b, rounded to the nearest integer */
static double cdf_exp(double x, double a, double b)
{
	return x < a ? 0 : 1 - exp(-(x - a + 0.5) / b);
}

static void test_uniform(void **state)
{
	struct rtv_interval iv = { RTV_DIST_UNIFORM, 10000, 1010000 };
	int64_t *v = malloc(NDRAWS * sizeof(*v));
	double span = 1000000, d;

	(void)state;
	assert_non_null(v);
	/* discrete uniform: variance ((span + 1)^2 - 1) / 12 */
	check_moments(&iv, 1, v, 510000, ((span + 1) * (span + 1) - 1) / 12, 9.0 / 5);
	assert_true(v[0] >= iv.min_ns);
	assert_true(v[NDRAWS - 1] <= iv.max_ns);

	d = ks_stat(v, cdf_uniform, 10000, 1010000);
	if (!(d < KS_CRIT)) {
		print_error("KS uniform: D = %g >= %g\n", d, KS_CRIT);
		fail();
	}
	/* the test has power: the same sample is not uniform on a shifted range */
	assert_true(ks_stat(v, cdf_uniform, 20000, 1020000) > KS_CRIT);
	free(v);
}

/* Both ends included, each value equally likely: chi-square over [5, 9]. */
static void test_uniform_small(void **state)
{
	struct rtv_interval iv = { RTV_DIST_UNIFORM, 5, 9 };
	int counts[5] = { 0 }, i;
	struct rtv_rng r;
	double chi2 = 0, e = NDRAWS / 5.0;
	int64_t x;

	(void)state;
	rtv_rng_seed(&r, 5);
	for (i = 0; i < NDRAWS; i++) {
		x = rtv_interval_next(&iv, &r);
		assert_true(x >= 5 && x <= 9);
		counts[x - 5]++;
	}
	for (i = 0; i < 5; i++)
		chi2 += (counts[i] - e) * (counts[i] - e) / e;
	/* chi-square, 4 degrees of freedom: P(> 18.467) = 0.001 */
	if (!(chi2 < 18.467)) {
		print_error("chi-square %g: %d %d %d %d %d\n", chi2, counts[0], counts[1],
			    counts[2], counts[3], counts[4]);
		fail();
	}

	/* a range of one value */
	iv.min_ns = iv.max_ns = 777;
	for (i = 0; i < 100; i++)
		assert_int_equal(rtv_interval_next(&iv, &r), 777);
}

static void test_exp(void **state)
{
	struct rtv_interval iv = { RTV_DIST_EXP, 10000, 210000 };
	int64_t *v = malloc(NDRAWS * sizeof(*v));
	double mu = 100000, d;

	(void)state;
	assert_non_null(v);
	check_moments(&iv, 2, v, 110000, mu * mu, 9);
	assert_true(v[0] >= iv.min_ns);
	assert_true(v[NDRAWS - 1] > iv.max_ns); /* unbounded: P(all <= max) = (1-e^-2)^n */

	d = ks_stat(v, cdf_exp, 10000, mu);
	if (!(d < KS_CRIT)) {
		print_error("KS exp: D = %g >= %g\n", d, KS_CRIT);
		fail();
	}
	/* the test has power: an exponential sample is not uniform */
	assert_true(ks_stat(v, cdf_uniform, 10000, 210000) > KS_CRIT);
	free(v);

	/* min == max: constant */
	{
		struct rtv_interval c = { RTV_DIST_EXP, 5000, 5000 };
		struct rtv_rng r;
		int i;

		rtv_rng_seed(&r, 3);
		for (i = 0; i < 100; i++)
			assert_int_equal(rtv_interval_next(&c, &r), 5000);
	}
}

/* Exponential never goes below min, even with min 0, and clamps instead of
 * overflowing. */
static void test_exp_edges(void **state)
{
	struct rtv_interval iv = { RTV_DIST_EXP, 0, 2 };
	struct rtv_interval big = { RTV_DIST_EXP, 0, INT64_MAX };
	struct rtv_rng r;
	int i, zeros = 0;
	int64_t x;

	(void)state;
	rtv_rng_seed(&r, 4);
	for (i = 0; i < NDRAWS; i++) {
		x = rtv_interval_next(&iv, &r);
		assert_true(x >= 0);
		zeros += x == 0;
	}
	/* mean 1, rounded to nearest: P(0) = P(X < 0.5) = 1 - e^-0.5 */
	assert_near((double)zeros / NDRAWS, 1 - exp(-0.5),
		    SIGMAS * sqrt(0.4 * 0.6 / NDRAWS), "share of zeros");
	for (i = 0; i < 10000; i++)
		assert_true(rtv_interval_next(&big, &r) >= 0);
}

static void test_const(void **state)
{
	struct rtv_interval iv = { RTV_DIST_CONST, 1000, 3000 };
	struct rtv_rng r, before;
	int i;

	(void)state;
	rtv_rng_seed(&r, 6);
	for (i = 0; i < 100; i++)
		assert_int_equal(rtv_interval_next(&iv, &r), 2000);
	iv.max_ns = 3001; /* (min + max) / 2 rounded down */
	assert_int_equal(rtv_interval_next(&iv, &r), 2000);
	iv.min_ns = iv.max_ns = 0;
	assert_int_equal(rtv_interval_next(&iv, &r), 0);
	iv.min_ns = iv.max_ns = INT64_MAX;
	assert_int_equal(rtv_interval_next(&iv, &r), INT64_MAX);
	/* const draws no random numbers */
	before = r;
	rtv_interval_next(&iv, &r);
	assert_memory_equal(&before, &r, sizeof(r));
}

static void test_check(void **state)
{
	struct rtv_interval ok = { RTV_DIST_UNIFORM, 0, 10 };
	struct rtv_interval swapped = { RTV_DIST_UNIFORM, 10, 5 };
	struct rtv_interval negative = { RTV_DIST_EXP, -10, 5 };
	struct rtv_interval baddist = { (enum rtv_dist)7, 1, 5 };
	struct rtv_rng r;

	(void)state;
	rtv_rng_seed(&r, 1);
	assert_int_equal(rtv_interval_check(&ok), 0);
	assert_int_equal(rtv_interval_check(&swapped), -EINVAL);
	assert_int_equal(rtv_interval_check(&negative), -EINVAL);
	assert_int_equal(rtv_interval_check(&baddist), -EINVAL);
	assert_int_equal(rtv_interval_next(&swapped, &r), 10);
	assert_int_equal(rtv_interval_next(&negative, &r), 0);
	assert_int_equal(rtv_interval_next(&baddist, &r), 1);
}

static void test_names(void **state)
{
	static const enum rtv_dist all[] = { RTV_DIST_UNIFORM, RTV_DIST_EXP, RTV_DIST_CONST };
	enum rtv_dist d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		d = (enum rtv_dist)99;
		assert_int_equal(rtv_dist_parse(rtv_dist_name(all[i]), &d), 0);
		assert_int_equal(d, all[i]);
	}
	assert_string_equal(rtv_dist_name(RTV_DIST_UNIFORM), "uniform");
	assert_string_equal(rtv_dist_name(RTV_DIST_EXP), "exp");
	assert_string_equal(rtv_dist_name(RTV_DIST_CONST), "const");
	assert_string_equal(rtv_dist_name((enum rtv_dist)42), "unknown");

	d = RTV_DIST_CONST;
	assert_int_equal(rtv_dist_parse("Uniform", &d), -EINVAL);
	assert_int_equal(rtv_dist_parse("exp ", &d), -EINVAL);
	assert_int_equal(rtv_dist_parse("ex", &d), -EINVAL);
	assert_int_equal(rtv_dist_parse("", &d), -EINVAL);
	assert_int_equal(rtv_dist_parse("unknown", &d), -EINVAL);
	assert_int_equal(rtv_dist_parse(NULL, &d), -EINVAL);
	assert_int_equal(d, RTV_DIST_CONST); /* untouched on error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_reference),
		cmocka_unit_test(test_rng_repeatable),
		cmocka_unit_test(test_rng_unit),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_uniform_small),
		cmocka_unit_test(test_exp),
		cmocka_unit_test(test_exp_edges),
		cmocka_unit_test(test_const),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
