/* Unit tests for lib/stats/summary. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "stats/summary.h"

static void test_known(void **state)
{
	static const double v[] = { 4, 1, 3, 2 };
	struct rtv_summary s;

	(void)state;
	rtv_summary_of(v, 4, &s);
	assert_int_equal(s.n, 4);
	assert_true(s.mean == 2.5);
	assert_true(s.min == 1);
	assert_true(s.max == 4);
	/* sample sd: sum of squared deviations 5, over n - 1 = 3 */
	assert_true(fabs(s.sd - sqrt(5.0 / 3)) < 1e-15);
}

static void test_nan_ignored(void **state)
{
	const double v[] = { NAN, 10, INFINITY, 20, NAN, -INFINITY, 30 };
	struct rtv_summary s;

	(void)state;
	rtv_summary_of(v, 7, &s);
	assert_int_equal(s.n, 3);
	assert_true(s.mean == 20);
	assert_true(s.min == 10);
	assert_true(s.max == 30);
	assert_true(s.sd == 10);

	/* a NaN first does not poison min and max */
	rtv_summary_of(v, 2, &s);
	assert_int_equal(s.n, 1);
	assert_true(s.mean == 10 && s.min == 10 && s.max == 10);
	assert_true(s.sd == 0); /* one value: no spread */
}

static void test_none(void **state)
{
	const double v[] = { NAN, NAN };
	struct rtv_summary s = { 99, 1, 2, 3, 4 };

	(void)state;
	rtv_summary_of(v, 2, &s);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.mean) && isnan(s.min) && isnan(s.max) && isnan(s.sd));

	s.n = 99;
	rtv_summary_of(NULL, 0, &s);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.mean) && isnan(s.min) && isnan(s.max) && isnan(s.sd));
}

/* Large values close together: a sum-of-squares formula would lose the
 * spread, the two-pass one keeps it. */
static void test_precision(void **state)
{
	const double v[] = { 1e9 + 1, 1e9 + 2, 1e9 + 3 };
	struct rtv_summary s;

	(void)state;
	rtv_summary_of(v, 3, &s);
	assert_true(s.mean == 1e9 + 2);
	assert_true(s.sd == 1);
	assert_true(s.min == 1e9 + 1 && s.max == 1e9 + 3);
}

static void test_negative(void **state)
{
	const double v[] = { -1.5, -0.5 };
	struct rtv_summary s;

	(void)state;
	rtv_summary_of(v, 2, &s);
	assert_int_equal(s.n, 2);
	assert_true(s.mean == -1 && s.min == -1.5 && s.max == -0.5);
	assert_true(fabs(s.sd - sqrt(0.5)) < 1e-15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_nan_ignored),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_negative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
