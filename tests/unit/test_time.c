/* Unit tests for lib/util/time.h: saturating deadline arithmetic, exact at
 * the edges of int64_t. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/parse.h"
#include "util/time.h"

static void test_ns_add_sat(void **state)
{
	(void)state;
	/* in range: the plain sum */
	assert_int_equal(rtv_ns_add_sat(0, 0), 0);
	assert_int_equal(rtv_ns_add_sat(5, 7), 12);
	assert_int_equal(rtv_ns_add_sat(5, -7), -2);
	assert_int_equal(rtv_ns_add_sat(INT64_MAX, 0), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN, 0), INT64_MIN);
	assert_int_equal(rtv_ns_add_sat(INT64_MAX, -1), INT64_MAX - 1);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN, 1), INT64_MIN + 1);
	assert_int_equal(rtv_ns_add_sat(INT64_MAX, INT64_MIN), -1);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN, INT64_MAX), -1);
	/* exactly at the top and the bottom */
	assert_int_equal(rtv_ns_add_sat(INT64_MAX - 10, 10), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN + 10, -10), INT64_MIN);
	/* one past: saturated */
	assert_int_equal(rtv_ns_add_sat(INT64_MAX - 10, 11), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN + 10, -11), INT64_MIN);
	assert_int_equal(rtv_ns_add_sat(1, INT64_MAX), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(INT64_MAX, INT64_MAX), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(-1, INT64_MIN), INT64_MIN);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN, INT64_MIN), INT64_MIN);
	/* the order of the operands does not matter */
	assert_int_equal(rtv_ns_add_sat(INT64_MAX, 1), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(INT64_MIN, -1), INT64_MIN);
}

/* The case that needs it: now + the longest duration an option takes. */
static void test_deadline_from_option(void **state)
{
	int64_t d, now = rtv_now_ns();

	(void)state;
	assert_int_equal(rtv_parse_duration("9223372036s", RTV_NS_PER_S, &d), 0);
	assert_int_equal(d, INT64_C(9223372036000000000));
	assert_true(now > INT64_MAX - d); /* the plain sum would overflow */
	assert_int_equal(rtv_ns_add_sat(now, d), INT64_MAX);
	assert_int_equal(rtv_ns_add_sat(now, RTV_NS_PER_S), now + RTV_NS_PER_S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_add_sat),
		cmocka_unit_test(test_deadline_from_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
