/* Unit tests for lib/report/histjson: the statistics of a histogram as
 * JSON, compared as exact dumps (keys in order, values rounded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/histjson.h"
#include "stats/hist.h"
#include "util/json.h"

#include "fixture.h"

/* h as rtv_hist_json(h, per_unit) dumps it, compact; the caller frees it. */
static char *dump(const struct rtv_hist *h, double per_unit)
{
	json_t *o = rtv_hist_json(h, per_unit);
	char *s;

	assert_non_null(o);
	assert_true(json_is_integer(json_object_get(o, "count")));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | RTV_JSON_PRECISION);
	assert_non_null(s);
	json_decref(o);
	return s;
}

static void expect(const struct rtv_hist *h, double per_unit, const char *want)
{
	char *s = dump(h, per_unit);

	assert_string_equal(s, want);
	free(s);
}


static void test_empty(void **state)
{
	static const char want[] =
		"{\"count\":0,\"mean\":null,\"sd\":null,\"min\":null,\"p50\":null,"
		"\"p90\":null,\"p99\":null,\"p999\":null,\"p9999\":null,\"max\":null}";
	struct rtv_hist *h = rtv_test_hist_new();

	(void)state;
	expect(h, 1000, want);
	expect(h, 1, want);
	expect(NULL, 1000, want);
	free(h);
}

/* ns shown in µs: 990 samples of 10 µs, 9 of 1 ms, 1 of 5 ms. Mean
 * 23.9 µs, population sd 183.10595 µs. Percentiles are bucket midpoints:
 * 10000 ns lies in [9984, 10048) (width 64), midpoint 10016; 1 ms in
 * [999424, 1003520), midpoint 1001472; 5 ms in [4980736, 5013504),
 * midpoint 4997120. Nearest rank: p99 is the 990th sample (10 µs), p99.9
 * the 999th (1 ms), p99.99 the 1000th (5 ms). */
static void test_us(void **state)
{
	struct rtv_hist *h = rtv_test_hist_new();

	(void)state;
	rtv_test_hist_record(h, 10000, 990);
	rtv_test_hist_record(h, 1000000, 9);
	rtv_test_hist_record(h, 5000000, 1);
	expect(h, 1000,
	       "{\"count\":1000,\"mean\":23.9,\"sd\":183.106,\"min\":10,\"p50\":10.016,"
	       "\"p90\":10.016,\"p99\":10.016,\"p999\":1001.472,\"p9999\":4997.12,\"max\":5000}");
	/* the same in ns: integral values stay integers */
	expect(h, 1,
	       "{\"count\":1000,\"mean\":23900,\"sd\":183105.953,\"min\":10000,\"p50\":10016,"
	       "\"p90\":10016,\"p99\":10016,\"p999\":1001472,\"p9999\":4997120,\"max\":5000000}");
	free(h);
}

/* The taskset runner's normalized response, millionths of a period shown
 * in periods: 50 x 0.25, 45 x 0.5, 4 x 1, 1 x 1.2. Mean 0.402, sd
 * 0.19117. Midpoints 250368 (rounded to 0.25), 500736 (0.501), 1001472
 * (1.001); 1.2e6's midpoint 1200128 is clamped to the max. */
static void test_periods(void **state)
{
	struct rtv_hist *h = rtv_test_hist_new();

	(void)state;
	rtv_test_hist_record(h, 250000, 50);
	rtv_test_hist_record(h, 500000, 45);
	rtv_test_hist_record(h, 1000000, 4);
	rtv_test_hist_record(h, 1200000, 1);
	expect(h, 1e6,
	       "{\"count\":100,\"mean\":0.402,\"sd\":0.191,\"min\":0.25,\"p50\":0.25,"
	       "\"p90\":0.501,\"p99\":1.001,\"p999\":1.2,\"p9999\":1.2,\"max\":1.2}");
	free(h);
}

/* Underflow and overflow count everywhere: a rank among the underflow
 * samples gives min, among the overflow samples max. */
static void test_outside(void **state)
{
	struct rtv_hist *h = rtv_test_hist_new();

	(void)state;
	rtv_hist_record(h, 50);
	rtv_hist_record(h, 200 * INT64_C(1000000000));
	expect(h, 1000,
	       "{\"count\":2,\"mean\":100000000.025,\"sd\":99999999.975,\"min\":0.05,\"p50\":0.05,"
	       "\"p90\":200000000,\"p99\":200000000,\"p999\":200000000,\"p9999\":200000000,"
	       "\"max\":200000000}");
	free(h);
}

static void test_bad_unit(void **state)
{
	struct rtv_hist *h = rtv_test_hist_new();

	(void)state;
	rtv_hist_record(h, 1000);
	assert_null(rtv_hist_json(h, 0));
	assert_null(rtv_hist_json(h, -1000));
	assert_null(rtv_hist_json(h, NAN));
	assert_null(rtv_hist_json(h, INFINITY));
	assert_null(rtv_hist_json(NULL, 0));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_us),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_bad_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
