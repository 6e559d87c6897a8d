/* Unit tests for lib/stats/hist: percentiles against the sorted samples,
 * exact moments, range edges, merge, fraction_above, the CDF. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/hist.h"
#include "stats/interval.h"
#include "util/time.h"

#include "fixture.h"

#define NSAMPLES 200000

/* the contract of rtv_hist_percentile() and the bound the layout gives */
#define REL_CONTRACT 0.01
#define REL_DESIGN   (1.0 / 256)

static struct rtv_hist *hist_new(void)
{
	struct rtv_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	rtv_hist_init(h);
	return h;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void assert_rel(double got, double want, double tol, const char *what)
{
	double err = fabs(got - want) / (want != 0 ? fabs(want) : 1);

	if (!(err <= tol)) {
		print_error("%s: got %.17g, want %.17g (relative error %.3g > %.3g)\n",
			    what, got, want, err, tol);
		fail();
	}
}

/* ---- sample generators, all from rtv_rng so every run is the same ---- */

static double normal(struct rtv_rng *r)
{
	double u1 = 1 - rtv_rng_unit(r), u2 = rtv_rng_unit(r);

	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

enum shape { UNIFORM, EXPONENTIAL, BIMODAL, PARETO };

static void gen(enum shape shape, int64_t *v, int n, uint64_t seed)
{
	struct rtv_rng r;
	double x = 0;
	int i;

	rtv_rng_seed(&r, seed);
	for (i = 0; i < n; i++) {
		switch (shape) {
		case UNIFORM: /* 10 us .. 1 ms */
			x = 10e3 + rtv_rng_unit(&r) * (1e6 - 10e3);
			break;
		case EXPONENTIAL: /* 1 us + exp(mean 100 us) */
			x = 1e3 - log1p(-rtv_rng_unit(&r)) * 100e3;
			break;
		case BIMODAL: /* 99% around 50 us, 1% around 5 ms */
			if (rtv_rng_unit(&r) < 0.99)
				x = 50e3 + 2e3 * normal(&r);
			else
				x = 5e6 + 200e3 * normal(&r);
			break;
		case PARETO: /* x_m = 10 us, alpha = 1.2: infinite variance */
			x = 10e3 * pow(1 - rtv_rng_unit(&r), -1 / 1.2);
			break;
		}
		v[i] = (int64_t)llround(x);
	}
}

/* ---- percentiles against the sorted samples ---- */

/* percentiles in hundredths of a percent, so the reference rank is exact
 * integer arithmetic: rank = ceil(p * n / 10000) */
static const int64_t p_hundredths[] = {
	0, 1, 10, 100, 500, 1000, 2500, 5000, 7500, 9000, 9500, 9900, 9950, 9990, 9999, 10000,
};

static void check_against_sorted(const struct rtv_hist *h, const int64_t *v, int n)
{
	int64_t *s = malloc(n * sizeof(*s)), rank, want, got;
	long double sum = 0, ss = 0, mean, d;
	size_t k;
	char what[64];
	int i;

	assert_non_null(s);
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_i64);

	assert_int_equal(h->count, n);
	assert_int_equal(h->min_ns, s[0]);
	assert_int_equal(h->max_ns, s[n - 1]);

	for (i = 0; i < n; i++)
		sum += s[i];
	mean = sum / n;
	for (i = 0; i < n; i++) {
		d = s[i] - mean;
		ss += d * d;
	}
	assert_rel(rtv_hist_mean_ns(h), (double)mean, 1e-9, "mean");
	assert_rel(rtv_hist_sd_ns(h), (double)sqrtl(ss / n), 1e-9, "sd");

	for (k = 0; k < sizeof(p_hundredths) / sizeof(p_hundredths[0]); k++) {
		rank = (p_hundredths[k] * n + 9999) / 10000;
		want = s[rank < 1 ? 0 : rank - 1];
		got = rtv_hist_percentile(h, p_hundredths[k] / 100.0);
		snprintf(what, sizeof(what), "p%.2f", p_hundredths[k] / 100.0);
		assert_rel((double)got, (double)want, REL_CONTRACT, what);
		if (p_hundredths[k] == 0 || p_hundredths[k] == 10000)
			assert_int_equal(got, want); /* min and max exactly */
	}
	free(s);
}

static void run_shape(enum shape shape, uint64_t seed)
{
	int64_t *v = malloc(NSAMPLES * sizeof(*v));
	struct rtv_hist *h = hist_new();
	int i;

	assert_non_null(v);
	gen(shape, v, NSAMPLES, seed);
	for (i = 0; i < NSAMPLES; i++)
		rtv_hist_record(h, v[i]);
	check_against_sorted(h, v, NSAMPLES);
	free(v);
	free(h);
}

static void test_uniform(void **state)
{
	(void)state;
	run_shape(UNIFORM, 1);
}

static void test_exponential(void **state)
{
	(void)state;
	run_shape(EXPONENTIAL, 2);
}

static void test_bimodal(void **state)
{
	(void)state;
	run_shape(BIMODAL, 3);
}

static void test_pareto(void **state)
{
	(void)state;
	run_shape(PARETO, 4);
}

/* Nearest rank exactly where pct / 100 * n is a whole number but not in
 * binary floating point (99.9% of 1000 is rank 999, not 1000), on values
 * below 256 ns, where buckets are 1 ns wide and percentiles exact. */
static void test_rank_exact(void **state)
{
	static const struct { double pct; int rank; } cases[] = {
		{ 0.1, 1 }, { 0.15, 2 }, { 12.5, 125 }, { 33.3, 333 }, { 50, 500 },
		{ 70, 700 }, { 99.8, 998 }, { 99.9, 999 }, { 99.95, 1000 }, { 100, 1000 },
	};
	struct rtv_hist *h = hist_new();
	int64_t v[1000];
	size_t k;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		v[i] = 100 + (int64_t)i * 155 / 999; /* 100 .. 255, sorted */
	for (i = 999; i >= 0; i--)
		rtv_hist_record(h, v[i]);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		assert_int_equal(rtv_hist_percentile(h, cases[k].pct), v[cases[k].rank - 1]);
	free(h);
}

static void test_empty(void **state)
{
	struct rtv_hist *h = hist_new();
	double x[4], y[4];

	(void)state;
	assert_int_equal(h->count, 0);
	assert_int_equal(rtv_hist_percentile(h, 0), 0);
	assert_int_equal(rtv_hist_percentile(h, 50), 0);
	assert_int_equal(rtv_hist_percentile(h, 100), 0);
	assert_true(rtv_hist_mean_ns(h) == 0);
	assert_true(rtv_hist_sd_ns(h) == 0);
	assert_true(rtv_hist_fraction_above(h, 0) == 0);
	assert_int_equal(rtv_hist_cdf(h, x, y, 4), 0);
	free(h);
}

static void test_one_sample(void **state)
{
	struct rtv_hist *h = hist_new();

	(void)state;
	rtv_hist_record(h, 123456789);
	assert_int_equal(rtv_hist_percentile(h, 0), 123456789);
	assert_int_equal(rtv_hist_percentile(h, 50), 123456789); /* clamped to [min, max] */
	assert_int_equal(rtv_hist_percentile(h, 100), 123456789);
	assert_true(rtv_hist_mean_ns(h) == 123456789);
	assert_true(rtv_hist_sd_ns(h) == 0);
	free(h);
}

static void test_under_overflow(void **state)
{
	static const int64_t v[] = {
		-5, 0, 99, /* underflow */
		100, 200, RTV_HIST_MAX_NS, /* in buckets */
		RTV_HIST_MAX_NS + 1, INT64_C(500000000000), /* overflow */
	};
	struct rtv_hist *h = hist_new();
	long double sum = 0, ss = 0, mean;
	size_t i, n = sizeof(v) / sizeof(v[0]);
	uint64_t inb = 0;
	int k;

	(void)state;
	for (i = 0; i < n; i++) {
		rtv_hist_record(h, v[i]);
		sum += v[i];
	}
	mean = sum / n;
	for (i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);

	assert_int_equal(h->count, n);
	assert_int_equal(h->underflow, 3);
	assert_int_equal(h->overflow, 2);
	for (k = 0; k < RTV_HIST_NBUCKETS; k++)
		inb += h->buckets[k];
	assert_int_equal(inb, 3);
	assert_int_equal(h->buckets[0], 1);                     /* 100 ns */
	assert_int_equal(h->buckets[RTV_HIST_NBUCKETS - 1], 1); /* 100 s */
	assert_int_equal(h->min_ns, -5);
	assert_int_equal(h->max_ns, INT64_C(500000000000));
	assert_rel(rtv_hist_mean_ns(h), (double)mean, 1e-9, "mean");
	assert_rel(rtv_hist_sd_ns(h), (double)sqrtl(ss / n), 1e-9, "sd");

	/* ranks 1..3 are underflow (min), 4 is 100 ns, 5 200 ns, 7..8 overflow (max) */
	assert_int_equal(rtv_hist_percentile(h, 0), -5);
	assert_int_equal(rtv_hist_percentile(h, 37.5), -5);
	assert_int_equal(rtv_hist_percentile(h, 50), 100);
	assert_int_equal(rtv_hist_percentile(h, 62.5), 200);
	assert_rel((double)rtv_hist_percentile(h, 75), 1e11, REL_DESIGN, "p75");
	assert_int_equal(rtv_hist_percentile(h, 75.1), INT64_C(500000000000));
	assert_int_equal(rtv_hist_percentile(h, 100), INT64_C(500000000000));

	/* fraction_above at the range edges */
	assert_true(rtv_hist_fraction_above(h, -6) == 1);
	assert_true(rtv_hist_fraction_above(h, INT64_C(500000000000)) == 0);
	assert_true(rtv_hist_fraction_above(h, 99) == 5.0 / 8);
	assert_true(rtv_hist_fraction_above(h, 100) == 4.0 / 8);
	assert_true(rtv_hist_fraction_above(h, RTV_HIST_MAX_NS) == 2.0 / 8);
	/* past 100 s all overflow samples count as above, 1e11 + 1 too */
	assert_true(rtv_hist_fraction_above(h, RTV_HIST_MAX_NS + 1) == 2.0 / 8);
	free(h);
}

/* The layout: buckets tile [100 ns, 100 s] without gaps, index and bounds
 * agree, and every bucket is narrow enough for the error bound. */
static void test_bucket_layout(void **state)
{
	int64_t lo, hi;
	int i;

	(void)state;
	assert_int_equal(rtv_hist_bucket_lower(0), RTV_HIST_MIN_NS);
	assert_int_equal(rtv_hist_bucket_upper(RTV_HIST_NBUCKETS - 1), RTV_HIST_MAX_NS);
	assert_int_equal(rtv_hist_bucket_index(RTV_HIST_MAX_NS), RTV_HIST_NBUCKETS - 1);
	assert_int_equal(rtv_hist_bucket_lower(-1), -EINVAL);
	assert_int_equal(rtv_hist_bucket_upper(RTV_HIST_NBUCKETS), -EINVAL);
	for (i = 0; i < RTV_HIST_NBUCKETS; i++) {
		lo = rtv_hist_bucket_lower(i);
		hi = rtv_hist_bucket_upper(i);
		assert_true(lo <= hi);
		if (i > 0)
			assert_int_equal(lo, rtv_hist_bucket_upper(i - 1) + 1);
		assert_int_equal(rtv_hist_bucket_index(lo), i);
		assert_int_equal(rtv_hist_bucket_index(hi), i);
		if (lo < 256)
			assert_int_equal(hi, lo);
		else
			assert_true((hi - lo + 1) * 128 <= lo);
	}
}

/* The percentile of a sample at v, with v neither min nor max (so nothing
 * is clamped away): the middle of {100 ns, v, 100 s}. */
static double rel_error_at(struct rtv_hist *h, int64_t v)
{
	int64_t got;

	rtv_hist_init(h);
	rtv_hist_record(h, RTV_HIST_MIN_NS);
	rtv_hist_record(h, v);
	rtv_hist_record(h, RTV_HIST_MAX_NS);
	got = rtv_hist_percentile(h, 50);
	return fabs((double)(got - v)) / (double)v;
}

/* The relative error bound at both ends of every bucket across the whole
 * range, and at points between them. */
static void test_error_bound(void **state)
{
	struct rtv_hist *h = hist_new();
	double worst = 0, e, x;
	int64_t v;
	char what[64];
	int i;

	(void)state;
	for (i = 0; i < 2 * RTV_HIST_NBUCKETS; i++) {
		/* the lower and the upper end of bucket i / 2 */
		v = i % 2 ? rtv_hist_bucket_upper(i / 2) : rtv_hist_bucket_lower(i / 2);
		e = rel_error_at(h, v);
		if (!(e <= REL_DESIGN)) {
			snprintf(what, sizeof(what), "bucket %d at %lld ns", i / 2, (long long)v);
			assert_rel(e, 0, REL_DESIGN, what);
		}
		worst = e > worst ? e : worst;
	}
	for (x = RTV_HIST_MIN_NS; x <= RTV_HIST_MAX_NS; x *= 1.0007) {
		e = rel_error_at(h, (int64_t)x);
		worst = e > worst ? e : worst;
	}
	assert_true(worst <= REL_DESIGN);
	assert_true(worst > REL_DESIGN / 2); /* the sweep did reach wide buckets */
	free(h);
}

static void test_merge(void **state)
{
	struct rtv_hist *all = hist_new(), *a = hist_new(), *b = hist_new(), *c = hist_new();
	struct rtv_hist *sum = hist_new(), *before = hist_new();
	int64_t *v = malloc(3 * NSAMPLES * sizeof(*v));
	int i;

	(void)state;
	assert_non_null(v);
	gen(BIMODAL, v, NSAMPLES, 11);
	gen(PARETO, v + NSAMPLES, NSAMPLES, 12);
	gen(UNIFORM, v + 2 * NSAMPLES, NSAMPLES, 13);
	v[5] = 7;                    /* an underflow in a */
	v[NSAMPLES + 5] = INT64_MAX; /* an overflow in b */
	for (i = 0; i < 3 * NSAMPLES; i++) {
		rtv_hist_record(all, v[i]);
		rtv_hist_record(i < NSAMPLES ? a : i < 2 * NSAMPLES ? b : c, v[i]);
	}

	rtv_hist_merge(sum, a); /* into an empty one */
	rtv_hist_merge(sum, b);
	rtv_hist_merge(sum, c);
	assert_int_equal(sum->count, all->count);
	assert_int_equal(sum->min_ns, all->min_ns);
	assert_int_equal(sum->max_ns, all->max_ns);
	assert_int_equal(sum->underflow, 1);
	assert_int_equal(sum->overflow, 1);
	assert_int_equal(sum->underflow, all->underflow);
	assert_int_equal(sum->overflow, all->overflow);
	assert_memory_equal(sum->buckets, all->buckets, sizeof(all->buckets));
	assert_rel(sum->mean_ns, all->mean_ns, 1e-9, "merged mean");
	assert_rel(sum->m2, all->m2, 1e-9, "merged m2");
	check_against_sorted(sum, v, 3 * NSAMPLES);

	/* merging an empty histogram changes nothing */
	memcpy(before, sum, sizeof(*sum));
	rtv_hist_init(a);
	rtv_hist_merge(sum, a);
	assert_memory_equal(sum, before, sizeof(*sum));

	free(v);
	free(all);
	free(a);
	free(b);
	free(c);
	free(sum);
	free(before);
}

/* rtv_hist_record_n() is n rtv_hist_record()s: a few values (an underflow
 * and an overflow among them) with counts 1 to 100000. */
static void test_record_n(void **state)
{
	static const int64_t val[] = { 7, 100, 255, 256, 19000, 20000, 2661000, INT64_MAX };
	static const uint64_t cnt[] = { 3, 1, 0, 17, 9513, 100000, 1, 2 };
	struct rtv_hist *one = hist_new(), *bulk = hist_new();

	(void)state;
	for (size_t i = 0; i < sizeof(val) / sizeof(val[0]); i++) {
		for (uint64_t k = 0; k < cnt[i]; k++)
			rtv_hist_record(one, val[i]);
		rtv_hist_record_n(bulk, val[i], cnt[i]);
		assert_int_equal(bulk->count, one->count);
		assert_int_equal(bulk->min_ns, one->min_ns);
		assert_int_equal(bulk->max_ns, one->max_ns);
		assert_int_equal(bulk->underflow, one->underflow);
		assert_int_equal(bulk->overflow, one->overflow);
		assert_memory_equal(bulk->buckets, one->buckets, sizeof(one->buckets));
		assert_rel(bulk->mean_ns, one->mean_ns, 1e-9, "bulk mean");
		assert_rel(bulk->m2, one->m2, 1e-9, "bulk m2");
		assert_int_equal(bulk->seq % 2, 0);
	}
	assert_int_equal(bulk->count, 3 + 1 + 17 + 9513 + 100000 + 1 + 2);
	free(one);
	free(bulk);
}

static void test_fraction_above(void **state)
{
	int64_t *v = malloc(NSAMPLES * sizeof(*v)), *s = malloc(NSAMPLES * sizeof(*s));
	static const int64_t at[] = { 100, 200, 255, 256, 1000, 20000, 45000, 50000, 52000,
				      60000, 1000000, 4000000, 5000000, 6000000 };
	struct rtv_hist *h = hist_new();
	double got, want, tol;
	int64_t lo, hi;
	size_t k;
	int i, above, near;

	(void)state;
	assert_non_null(v);
	assert_non_null(s);
	gen(BIMODAL, v, NSAMPLES, 21);
	for (i = 0; i < NSAMPLES; i++)
		rtv_hist_record(h, v[i]);
	memcpy(s, v, NSAMPLES * sizeof(*s));
	qsort(s, NSAMPLES, sizeof(*s), cmp_i64);

	for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		i = rtv_hist_bucket_index(at[k]);
		lo = rtv_hist_bucket_lower(i);
		hi = rtv_hist_bucket_upper(i);
		above = near = 0;
		for (i = 0; i < NSAMPLES; i++) {
			above += s[i] > at[k];
			near += s[i] >= lo && s[i] <= hi;
		}
		want = (double)above / NSAMPLES;
		/* bucket resolution: only samples in at[k]'s bucket are in doubt */
		tol = (double)near / NSAMPLES + 1e-12;
		got = rtv_hist_fraction_above(h, at[k]);
		if (!(fabs(got - want) <= tol)) {
			print_error("fraction_above(%lld) = %g, want %g +- %g\n",
				    (long long)at[k], got, want, tol);
			fail();
		}
	}
	/* about 1% of the samples are in the 5 ms mode */
	assert_true(fabs(rtv_hist_fraction_above(h, 1000000) - 0.01) < 0.001);
	assert_true(rtv_hist_fraction_above(h, s[0] - 1) == 1);
	assert_true(rtv_hist_fraction_above(h, s[NSAMPLES - 1]) == 0);
	free(v);
	free(s);
	free(h);
}

/* Exact shares where buckets are 1 ns wide. */
static void test_fraction_above_exact(void **state)
{
	struct rtv_hist *h = hist_new();
	int64_t x;

	(void)state;
	for (x = 100; x < 200; x++)
		rtv_hist_record(h, x);
	for (x = 99; x < 200; x++)
		assert_true(rtv_hist_fraction_above(h, x) == (double)(199 - x) / 100);
	free(h);
}

/* Within one wide bucket the share above ns is interpolated linearly. */
static void test_fraction_above_interpolated(void **state)
{
	struct rtv_hist *h = hist_new();
	int i = rtv_hist_bucket_index(INT64_C(1) << 30);
	int64_t lo = rtv_hist_bucket_lower(i), w = rtv_hist_bucket_upper(i) - lo + 1, k;

	(void)state;
	assert_int_equal(w, INT64_C(1) << 23);
	for (k = 0; k < 1000; k++)
		rtv_hist_record(h, lo + k * w / 1000);
	rtv_hist_record(h, 10 * lo); /* so that nothing is clamped at max */
	assert_true(fabs(rtv_hist_fraction_above(h, lo + w / 4) - (0.75 * 1000 + 1) / 1001) < 1e-6);
	assert_true(fabs(rtv_hist_fraction_above(h, lo + w / 2) - (0.5 * 1000 + 1) / 1001) < 1e-6);
	free(h);
}

static void check_cdf_shape(const double *x, const double *y, int n, const struct rtv_hist *h)
{
	int k;

	assert_true(n > 0);
	for (k = 0; k < n; k++) {
		assert_true(y[k] > 0 && y[k] <= 1);
		assert_true(x[k] >= (double)h->min_ns || h->underflow);
		assert_true(x[k] <= (double)h->max_ns);
		if (k > 0) {
			assert_true(x[k] > x[k - 1]);
			assert_true(y[k] >= y[k - 1]);
		}
	}
	assert_true(y[n - 1] == 1.0);
	assert_true(x[n - 1] == (double)h->max_ns);
}

static void test_cdf(void **state)
{
	int64_t *v = malloc(NSAMPLES * sizeof(*v));
	struct rtv_hist *h = hist_new();
	double x[RTV_HIST_NBUCKETS + 2], y[RTV_HIST_NBUCKETS + 2], xs[10], ys[10];
	int i, k, j, n, nonempty = 0;

	(void)state;
	assert_non_null(v);
	gen(PARETO, v, NSAMPLES, 31);
	v[0] = 50;                       /* underflow */
	v[1] = RTV_HIST_MAX_NS + 12345;  /* overflow, the max */
	for (i = 0; i < NSAMPLES; i++)
		rtv_hist_record(h, v[i]);
	for (i = 0; i < RTV_HIST_NBUCKETS; i++)
		nonempty += h->buckets[i] > 0;

	n = rtv_hist_cdf(h, x, y, RTV_HIST_NBUCKETS + 2);
	assert_int_equal(n, nonempty + 2);
	check_cdf_shape(x, y, n, h);
	assert_true(x[0] == 99 && y[0] == 1.0 / NSAMPLES);
	assert_true(y[n - 2] == 1 - 1.0 / NSAMPLES);
	/* each point agrees with fraction_above at a bucket's upper end */
	for (k = 1; k < n - 1; k++)
		assert_true(fabs(y[k] - (1 - rtv_hist_fraction_above(h, (int64_t)x[k]))) < 1e-12);

	/* subsampled: 10 of the points, the last among them */
	assert_int_equal(rtv_hist_cdf(h, xs, ys, 10), 10);
	check_cdf_shape(xs, ys, 10, h);
	for (k = 0, j = 0; k < 10; k++) {
		while (j < n && x[j] != xs[k])
			j++;
		assert_true(j < n && y[j] == ys[k]);
	}
	assert_int_equal(rtv_hist_cdf(h, xs, ys, 1), 1);
	assert_true(xs[0] == (double)h->max_ns && ys[0] == 1.0);

	assert_int_equal(rtv_hist_cdf(h, xs, ys, 0), -EINVAL);
	assert_int_equal(rtv_hist_cdf(h, NULL, ys, 10), -EINVAL);
	assert_int_equal(rtv_hist_cdf(NULL, xs, ys, 10), -EINVAL);
	free(v);
	free(h);
}

/* ---- a reader copying while the writer records ---- */

struct writer {
	struct rtv_hist *h;
	int64_t gap_ns; /* between two records, spent spinning (no system call) */
	int stop;
	uint64_t n;     /* samples recorded so far */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t x = 1;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		int64_t until = rtv_now_ns() + w->gap_ns;

		/* values from 1 ns to about 275 s: underflow, buckets, overflow */
		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		rtv_hist_record(w->h, (int64_t)((x >> 24) >> (x >> 59)) + 1);
		__atomic_store_n(&w->n, w->n + 1, __ATOMIC_RELAXED);
		while (rtv_now_ns() < until)
			;
	}
	return NULL;
}

#define LOAD_CHANGES 200 /* the reader copies until it saw this many counts */

/* Every copy rtv_hist_load() returns while a record may be under way is a
 * state the histogram was in (count = underflow + overflow + buckets), and
 * the counts never go back. The writer records every ten copy-times, so
 * about one attempt in ten overlaps a record: a copy that ignored the
 * sequence count would be torn in a good share of those (it reads count
 * first, the buckets last). */
static void test_concurrent_load(void **state)
{
	struct rtv_hist *h = hist_new(), *c = hist_new();
	struct writer w = { .h = h };
	int64_t copy_ns = INT64_MAX, give_up;
	uint64_t last = 0, seen = 0, loads = 0;
	pthread_t th;

	(void)state;
	for (int i = 0; i < 20; i++) {
		int64_t t0 = rtv_now_ns();

		assert_int_equal(rtv_hist_load(c, h), 0);
		if (rtv_now_ns() - t0 < copy_ns)
			copy_ns = rtv_now_ns() - t0;
	}
	w.gap_ns = 10 * copy_ns;
	give_up = rtv_now_ns() + 20 * RTV_NS_PER_S;
	assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
	while (seen < LOAD_CHANGES && rtv_now_ns() < give_up) {
		assert_int_equal(rtv_hist_load(c, h), 0);
		if (!rtv_test_hist_whole(c))
			fail_msg("copy %llu torn: count %llu", (unsigned long long)loads,
				 (unsigned long long)c->count);
		assert_true(c->count >= last);
		seen += c->count != last;
		last = c->count;
		loads++;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("copy %lld ns; %llu samples, %llu copies, %llu counts seen\n",
		      (long long)copy_ns, (unsigned long long)w.n, (unsigned long long)loads,
		      (unsigned long long)seen);
	/* the copies followed the writer, and the last one is all of it */
	assert_true(seen >= LOAD_CHANGES);
	assert_int_equal(rtv_hist_load(c, h), 0);
	assert_int_equal(c->count, w.n);
	assert_true(rtv_test_hist_whole(c));
	assert_memory_equal(c->buckets, h->buckets, sizeof(h->buckets));
	assert_true(c->mean_ns == h->mean_ns && c->m2 == h->m2);
	free(c);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_pareto),
		cmocka_unit_test(test_rank_exact),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_sample),
		cmocka_unit_test(test_under_overflow),
		cmocka_unit_test(test_bucket_layout),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_record_n),
		cmocka_unit_test(test_fraction_above),
		cmocka_unit_test(test_fraction_above_exact),
		cmocka_unit_test(test_fraction_above_interpolated),
		cmocka_unit_test(test_cdf),
		cmocka_unit_test(test_concurrent_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
