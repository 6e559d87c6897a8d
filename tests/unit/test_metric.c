/* Unit tests for lib/stats/metric: values by row, statistics of a
 * distribution, summaries over repeats, table cells, table checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "stats/metric.h"

struct series {
	double d;
	uint64_t u;
	struct rtv_hist h;
};

#define S(f) offsetof(struct series, f)
static const struct rtv_metric table[] = {
	{ .key = "d", .off = S(d) },
	{ .key = "u_k", .type = RTV_METRIC_U64, .off = S(u), .per_unit = 1000 },
	{ .key = "lat", .type = RTV_METRIC_HIST, .off = S(h), .per_unit = 1000 },
	{ .key = "p50_us", .type = RTV_METRIC_STAT, .from = "lat", .stat = RTV_STAT_PCT, .arg = 50,
	  .per_unit = 1000 },
	{ .key = "max_us", .type = RTV_METRIC_STAT, .from = "lat", .stat = RTV_STAT_MAX,
	  .per_unit = 1000 },
	{ .key = "over_pct", .type = RTV_METRIC_STAT, .from = "lat", .stat = RTV_STAT_ABOVE_PCT,
	  .arg = 1500, .per_unit = 1000 },
	{ .key = "mean_us", .type = RTV_METRIC_STAT, .from = "lat", .stat = RTV_STAT_MEAN,
	  .per_unit = 1000 },
};
#define N ((int)(sizeof(table) / sizeof(table[0])))

static void test_values(void **state)
{
	struct series s = { .d = 2.5, .u = 7000 };

	(void)state;
	rtv_hist_init(&s.h);
	for (int i = 0; i < 4; i++)
		rtv_hist_record(&s.h, 1000); /* 1 us */
	rtv_hist_record(&s.h, 2000);         /* 2 us */
	assert_true(rtv_metric_value(&table[0], &s, table, N) == 2.5);
	assert_true(rtv_metric_value(&table[1], &s, table, N) == 7);
	assert_true(isnan(rtv_metric_value(&table[2], &s, table, N))); /* a distribution */
	/* a percentile is its bucket's midpoint: within 1/256 */
	assert_true(fabs(rtv_metric_value(&table[3], &s, table, N) - 1) < 1.0 / 256);
	assert_true(rtv_metric_value(&table[4], &s, table, N) == 2);
	assert_true(rtv_metric_value(&table[5], &s, table, N) == 20); /* a share, not in us */
	assert_true(fabs(rtv_metric_value(&table[6], &s, table, N) - 1.2) < 1e-12);
	/* an empty distribution has no statistics */
	rtv_hist_init(&s.h);
	assert_true(isnan(rtv_metric_value(&table[3], &s, table, N)));
	/* a statistic of a distribution the table lacks */
	assert_true(isnan(rtv_metric_value(&table[3], &s, table, 2)));
	assert_ptr_equal(rtv_metric_find(table, N, "max_us"), &table[4]);
	assert_null(rtv_metric_find(table, N, "nope"));
}

static void test_summaries(void **state)
{
	const double v[] = { 3, NAN, 1, 2 };
	struct rtv_metric m = { .key = "x" };
	struct rtv_summary s;

	(void)state;
	rtv_metric_summarize(&m, v, 4, &s);
	assert_int_equal(s.n, 3);
	assert_true(s.mean == 2 && s.min == 1 && s.max == 3);
	m.agg = RTV_AGG_MAX;
	rtv_metric_summarize(&m, v, 4, &s);
	assert_true(s.mean == 3 && s.min == 1 && s.max == 3);
	m.agg = RTV_AGG_SUM;
	rtv_metric_summarize(&m, v, 4, &s);
	assert_true(s.mean == 6);
	rtv_metric_summarize(&m, v + 1, 1, &s);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.mean));
}

static void test_cells(void **state)
{
	struct rtv_metric_col c = { .table = 1, .head = "p99", .width = 18, .spread = true };
	struct rtv_summary one = { .n = 1, .mean = 493.4, .min = 493.4, .max = 493.4 };
	struct rtv_summary three = { .n = 3, .mean = 493.4, .min = 236.2, .max = 1000.7 };
	struct rtv_summary none = { .n = 0, .mean = NAN };
	char buf[64];

	(void)state;
	rtv_metric_cell(&c, &three, buf, sizeof(buf));
	assert_string_equal(buf, "493 (236-1001)");
	rtv_metric_cell(&c, &one, buf, sizeof(buf));
	assert_string_equal(buf, "493"); /* one repeat: no spread */
	rtv_metric_cell(&c, &none, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	c = (struct rtv_metric_col){ .table = 1, .head = "foreign", .width = 9, .suffix = "%" };
	rtv_metric_cell(&c, &one, buf, sizeof(buf));
	assert_string_equal(buf, "493%");
	c.prec = 2;
	c.suffix = NULL;
	rtv_metric_cell(&c, &three, buf, sizeof(buf));
	assert_string_equal(buf, "493.40");
	/* truncated, still terminated */
	c.spread = true;
	rtv_metric_cell(&c, &three, buf, 8);
	assert_int_equal(strlen(buf), 7);
}

static void test_table_check(void **state)
{
	struct rtv_metric bad[2] = { { .key = "a" }, { .key = "a" } };
	char err[128];

	(void)state;
	assert_int_equal(rtv_metric_table_check(table, N, err, sizeof(err)), 0);
	assert_int_equal(rtv_metric_table_check(bad, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'a' is declared twice"));
	bad[1] = (struct rtv_metric){ .key = "b", .type = RTV_METRIC_STAT, .from = "d" };
	bad[0] = (struct rtv_metric){ .key = "d" };
	assert_int_equal(rtv_metric_table_check(bad, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a distribution"));
	bad[1] = (struct rtv_metric){ .key = "b", .col = { { .table = 9, .head = "b", .width = 3 } } };
	assert_int_equal(rtv_metric_table_check(bad, 2, err, sizeof(err)), -EINVAL);
	bad[1].key = NULL;
	assert_int_equal(rtv_metric_table_check(bad, 2, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_summaries),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_table_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
