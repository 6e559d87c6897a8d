/* Unit tests for lib/util/parse.c: exact values for every unit, fractions,
 * each error case, the CPU list round trip, rates and their format. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/parse.h"

static int64_t dur(const char *s, int64_t unit_ns)
{
	int64_t ns = -12345;

	assert_int_equal(rtv_parse_duration(s, unit_ns, &ns), 0);
	return ns;
}

static int dur_err(const char *s, int64_t unit_ns)
{
	int64_t ns = -12345;
	int ret = rtv_parse_duration(s, unit_ns, &ns);

	assert_int_equal(ns, -12345); /* untouched on failure */
	return ret;
}

static void test_duration_units(void **state)
{
	(void)state;
	assert_int_equal(dur("250ns", 1), 250);
	assert_int_equal(dur("100us", 1), 100000);
	assert_int_equal(dur("100\xc2\xb5s", 1), 100000); /* micro sign */
	assert_int_equal(dur("100\xce\xbcs", 1), 100000); /* greek mu */
	assert_int_equal(dur("500ms", 1), 500000000);
	assert_int_equal(dur("20s", 1), INT64_C(20000000000));
	/* a bare number is in the caller's unit */
	assert_int_equal(dur("5", 1), 5);
	assert_int_equal(dur("5", 1000000), 5000000);
	assert_int_equal(dur("5", 1000000000), INT64_C(5000000000));
	/* zero is the caller's business */
	assert_int_equal(dur("0", 1000), 0);
	assert_int_equal(dur("0s", 1), 0);
	assert_int_equal(dur("0.0ms", 1), 0);
	assert_int_equal(dur("007ms", 1), 7000000);
}

static void test_duration_fractions(void **state)
{
	(void)state;
	assert_int_equal(dur("1.5ms", 1), 1500000);
	assert_int_equal(dur("0.25s", 1), 250000000);
	assert_int_equal(dur(".5us", 1), 500);
	assert_int_equal(dur("1.25us", 1), 1250);
	assert_int_equal(dur("2.5", 1000000), 2500000);
	assert_int_equal(dur("1.000000001s", 1), 1000000001);
	assert_int_equal(dur("3.", 1000), 3000);
	/* to the nearest nanosecond, halves up */
	assert_int_equal(dur("0.4ns", 1), 0);
	assert_int_equal(dur("0.5ns", 1), 1);
	assert_int_equal(dur("1.5ns", 1), 2);
	assert_int_equal(dur("1.0004us", 1), 1000);
	assert_int_equal(dur("1.0005us", 1), 1001);
	/* the largest value there is */
	assert_int_equal(dur("9223372036854775807ns", 1), INT64_MAX);
	assert_int_equal(dur("9223372036.854775807s", 1), INT64_MAX);
	assert_int_equal(dur("9223372036s", 1), INT64_C(9223372036000000000));
}

static void test_duration_errors(void **state)
{
	int64_t ns;

	(void)state;
	assert_int_equal(rtv_parse_duration(NULL, 1, &ns), -EINVAL);
	assert_int_equal(dur_err("", 1), -EINVAL);
	assert_int_equal(dur_err("-5ms", 1), -EINVAL);
	assert_int_equal(dur_err("-0", 1), -EINVAL);
	assert_int_equal(dur_err("+5ms", 1), -EINVAL);
	assert_int_equal(dur_err(" 5ms", 1), -EINVAL);
	assert_int_equal(dur_err("5ms ", 1), -EINVAL);
	assert_int_equal(dur_err("5 ms", 1), -EINVAL);
	assert_int_equal(dur_err("5m", 1), -EINVAL);
	assert_int_equal(dur_err("5h", 1), -EINVAL);
	assert_int_equal(dur_err("5mss", 1), -EINVAL);
	assert_int_equal(dur_err("5MS", 1), -EINVAL);
	assert_int_equal(dur_err("ms", 1), -EINVAL);
	assert_int_equal(dur_err(".", 1), -EINVAL);
	assert_int_equal(dur_err(".s", 1), -EINVAL);
	assert_int_equal(dur_err("1.2.3s", 1), -EINVAL);
	assert_int_equal(dur_err("1e3ns", 1), -EINVAL);
	assert_int_equal(dur_err("0x10", 1), -EINVAL);
	assert_int_equal(dur_err("abc", 1), -EINVAL);
	assert_int_equal(dur_err("5\xc2", 1), -EINVAL);
	/* a bare number needs a unit to be in */
	assert_int_equal(dur_err("5", 0), -EINVAL);
	/* overflow */
	assert_int_equal(dur_err("9223372036854775808ns", 1), -ERANGE);
	assert_int_equal(dur_err("99999999999999999999999ns", 1), -ERANGE);
	assert_int_equal(dur_err("9223372037s", 1), -ERANGE);
	assert_int_equal(dur_err("9223372036.854775808s", 1), -ERANGE);
	assert_int_equal(dur_err("9223372036854775807us", 1), -ERANGE);
	assert_int_equal(dur_err("9223372036854775807.5ns", 1), -ERANGE);
}

static void test_range(void **state)
{
	int64_t lo = -1, hi = -1;

	(void)state;
	assert_int_equal(rtv_parse_range("1ms-10ms", 1, &lo, &hi), 0);
	assert_int_equal(lo, 1000000);
	assert_int_equal(hi, 10000000);
	assert_int_equal(rtv_parse_range("5ms", 1, &lo, &hi), 0);
	assert_int_equal(lo, 5000000);
	assert_int_equal(hi, 5000000);
	assert_int_equal(rtv_parse_range("1-2", 1000, &lo, &hi), 0);
	assert_int_equal(lo, 1000);
	assert_int_equal(hi, 2000);
	assert_int_equal(rtv_parse_range("1.5us-1500ns", 1, &lo, &hi), 0);
	assert_int_equal(lo, 1500);
	assert_int_equal(hi, 1500);
	assert_int_equal(rtv_parse_range("0-1ms", 1, &lo, &hi), 0);
	assert_int_equal(lo, 0);

	lo = hi = -1;
	assert_int_equal(rtv_parse_range("10ms-1ms", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range(NULL, 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("-1ms", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("1ms-", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("-", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("1ms--2ms", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("1ms-2ms-3ms", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("1ms - 2ms", 1, &lo, &hi), -EINVAL);
	assert_int_equal(rtv_parse_range("1ms-99999999999s", 1, &lo, &hi), -ERANGE);
	assert_int_equal(lo, -1);
	assert_int_equal(hi, -1);
}

static void expect_cpus(const char *s, int ncpus, const int *cpus, int n)
{
	cpu_set_t set;
	int i;

	assert_int_equal(rtv_parse_cpulist(s, ncpus, &set), 0);
	assert_int_equal(CPU_COUNT(&set), n);
	for (i = 0; i < n; i++)
		assert_true(CPU_ISSET(cpus[i], &set));
}

static void test_cpulist(void **state)
{
	cpu_set_t set, before;

	(void)state;
	expect_cpus("0", 4, (const int[]){ 0 }, 1);
	expect_cpus("0-3", 4, (const int[]){ 0, 1, 2, 3 }, 4);
	expect_cpus("0,2-3", 4, (const int[]){ 0, 2, 3 }, 3);
	expect_cpus("3,1", 4, (const int[]){ 1, 3 }, 2);
	expect_cpus("1-1", 4, (const int[]){ 1 }, 1);
	expect_cpus("0-1,1-2", 4, (const int[]){ 0, 1, 2 }, 3);
	expect_cpus("1023", CPU_SETSIZE, (const int[]){ 1023 }, 1);

	CPU_ZERO(&before);
	CPU_SET(7, &before);
	set = before;
	assert_int_equal(rtv_parse_cpulist("3-1", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("4", 4, &set), -ERANGE);
	assert_int_equal(rtv_parse_cpulist("0-4", 4, &set), -ERANGE);
	assert_int_equal(rtv_parse_cpulist("0,2,9", 4, &set), -ERANGE);
	assert_int_equal(rtv_parse_cpulist("1024", CPU_SETSIZE, &set), -ERANGE);
	assert_int_equal(rtv_parse_cpulist("99999999999999999999999", 4, &set), -ERANGE);
	assert_int_equal(rtv_parse_cpulist("0", 0, &set), -ERANGE);
	assert_int_equal(rtv_parse_cpulist("", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist(NULL, 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist(",", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("0,", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist(",0", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("0,,1", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("0-", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("-1", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("0-1-2", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("0 ,1", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist(" 0", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("1;2", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("a", 4, &set), -EINVAL);
	assert_int_equal(rtv_parse_cpulist("+1", 4, &set), -EINVAL);
	/* a failed parse leaves set as it was */
	assert_true(CPU_EQUAL(&set, &before));
}

static void round_trip(const char *in, const char *out)
{
	char buf[256];
	cpu_set_t set;

	assert_int_equal(rtv_parse_cpulist(in, CPU_SETSIZE, &set), 0);
	assert_int_equal(rtv_cpulist_format(&set, buf, sizeof(buf)), (int)strlen(out));
	assert_string_equal(buf, out);
}

static void test_cpulist_format(void **state)
{
	char buf[8];
	cpu_set_t set;

	(void)state;
	round_trip("0", "0");
	round_trip("0-2,5", "0-2,5");
	round_trip("0-2,5,7-9", "0-2,5,7-9");
	round_trip("1,3", "1,3");
	round_trip("0,1", "0-1");
	round_trip("5,0-2", "0-2,5");
	round_trip("0-1,1-3,9", "0-3,9");
	round_trip("1020-1023", "1020-1023");

	CPU_ZERO(&set);
	assert_int_equal(rtv_cpulist_format(&set, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* "0-2" needs 4 bytes */
	assert_int_equal(rtv_parse_cpulist("0-2", 4, &set), 0);
	assert_int_equal(rtv_cpulist_format(&set, buf, 4), 3);
	assert_string_equal(buf, "0-2");
	assert_int_equal(rtv_cpulist_format(&set, buf, 3), -ENOSPC);
	assert_int_equal(rtv_cpulist_format(&set, buf, 0), -ENOSPC);
	assert_int_equal(rtv_parse_cpulist("0,2,4,6", 8, &set), 0);
	assert_int_equal(rtv_cpulist_format(&set, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "0,2,4,6");
	assert_int_equal(rtv_parse_cpulist("0,2,4,6,7", 8, &set), 0);
	assert_int_equal(rtv_cpulist_format(&set, buf, sizeof(buf)), -ENOSPC);
	assert_string_equal(buf, "");
}

static void test_parse_ll(void **state)
{
	long long v = 5;

	(void)state;
	assert_int_equal(rtv_parse_ll("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(rtv_parse_ll("-7", -10, 10, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(rtv_parse_ll("+3", 0, 10, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(rtv_parse_ll("1", 1, 1, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rtv_parse_ll("9223372036854775807", LLONG_MIN, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(rtv_parse_ll("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MIN);

	v = 5;
	assert_int_equal(rtv_parse_ll("100", 1, 99, &v), -ERANGE);
	assert_int_equal(rtv_parse_ll("0", 1, 99, &v), -ERANGE);
	assert_int_equal(rtv_parse_ll("9223372036854775808", LLONG_MIN, LLONG_MAX, &v), -ERANGE);
	assert_int_equal(rtv_parse_ll("-99999999999999999999", LLONG_MIN, LLONG_MAX, &v), -ERANGE);
	assert_int_equal(rtv_parse_ll("", 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll("-", 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll("1x", 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll("1.0", 0, 10, &v), -EINVAL);
	assert_int_equal(rtv_parse_ll("0x1", 0, 10, &v), -EINVAL);
	assert_int_equal(v, 5);
}

static void expect_fmt(int64_t ns, const char *want)
{
	char buf[32];

	assert_int_equal(rtv_duration_format(ns, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void test_duration_format(void **state)
{
	char buf[8];

	(void)state;
	expect_fmt(0, "0ns");
	expect_fmt(1, "1ns");
	expect_fmt(733, "733ns");
	expect_fmt(999, "999ns");
	expect_fmt(1000, "1us");
	expect_fmt(1001, "1.00us");
	expect_fmt(1005, "1.01us");
	expect_fmt(1500, "1.50us");
	expect_fmt(733000, "733us");
	expect_fmt(733400, "733us");
	expect_fmt(733500, "734us");
	expect_fmt(1500000, "1.50ms");
	expect_fmt(1234567, "1.23ms");
	expect_fmt(12345678, "12.3ms");
	expect_fmt(123456789, "123ms");
	expect_fmt(500000000, "500ms");
	expect_fmt(INT64_C(20000000000), "20s");
	expect_fmt(INT64_C(1500000000), "1.50s");
	expect_fmt(INT64_C(3600000000000), "3600s");
	expect_fmt(INT64_C(3600400000000), "3600s");
	/* rounding carries into the next digit or unit */
	expect_fmt(9996000, "10.0ms");
	expect_fmt(99960000, "100ms");
	expect_fmt(999999, "1.00ms");
	expect_fmt(999600, "1.00ms");
	expect_fmt(999999999, "1.00s");
	expect_fmt(-1500000, "-1.50ms");
	expect_fmt(-733, "-733ns");
	expect_fmt(INT64_MAX, "9223372037s");
	expect_fmt(INT64_MIN, "-9223372037s");

	assert_int_equal(rtv_duration_format(1500000, buf, 7), 6);
	assert_string_equal(buf, "1.50ms");
	assert_int_equal(rtv_duration_format(1500000, buf, 6), -ENOSPC);
	assert_int_equal(rtv_duration_format(20, buf, 0), -ENOSPC);
}

static double rate(const char *s)
{
	double v = -1;

	assert_int_equal(rtv_parse_rate(s, &v), 0);
	return v;
}

static int rate_err(const char *s)
{
	double v = -1;
	int ret = rtv_parse_rate(s, &v);

	assert_true(v == -1); /* untouched on failure */
	return ret;
}

static void test_rate(void **state)
{
	(void)state;
	/* decimal SI suffixes, either case; products of exact doubles */
	assert_true(rate("500M") == 500e6);
	assert_true(rate("500m") == 500e6);
	assert_true(rate("1.5G") == 1.5e9);
	assert_true(rate("1.5g") == 1.5e9);
	assert_true(rate("800k") == 800e3);
	assert_true(rate("800K") == 800e3);
	assert_true(rate("2T") == 2e12);
	assert_true(rate("2t") == 2e12);
	assert_true(rate("2000000") == 2e6);
	assert_true(rate("0") == 0);
	assert_true(rate("0k") == 0);
	assert_true(rate(".5G") == 0.5e9);
	assert_true(rate("1e9") == 1e9);
	assert_true(rate("007M") == 7e6);

	assert_int_equal(rate_err(""), -EINVAL);
	assert_int_equal(rate_err(NULL), -EINVAL);
	assert_int_equal(rate_err("M"), -EINVAL);
	assert_int_equal(rate_err("."), -EINVAL);
	assert_int_equal(rate_err(".k"), -EINVAL);
	assert_int_equal(rate_err("-5M"), -EINVAL);
	assert_int_equal(rate_err("+5M"), -EINVAL);
	assert_int_equal(rate_err(" 5M"), -EINVAL);
	assert_int_equal(rate_err("5M "), -EINVAL);
	assert_int_equal(rate_err("5Mb"), -EINVAL);
	assert_int_equal(rate_err("5MM"), -EINVAL);
	assert_int_equal(rate_err("5x"), -EINVAL);
	assert_int_equal(rate_err("5Mi"), -EINVAL);
	assert_int_equal(rate_err("0x10"), -EINVAL);
	assert_int_equal(rate_err("inf"), -EINVAL);
	assert_int_equal(rate_err("nan"), -EINVAL);
	assert_int_equal(rate_err("1e999"), -ERANGE);
	assert_int_equal(rate_err("1e308T"), -ERANGE);
}

static void expect_rate_fmt(double bit_s, const char *want)
{
	char buf[32];
	double back = -1;

	assert_int_equal(rtv_rate_format(bit_s, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(rtv_parse_rate(buf, &back), 0);
	assert_true(fabs(back - bit_s) <= 5e-6 * bit_s); /* six significant digits */
}

static void test_rate_format(void **state)
{
	char buf[5];

	(void)state;
	expect_rate_fmt(0, "0");
	expect_rate_fmt(999, "999");
	expect_rate_fmt(1000, "1k");
	expect_rate_fmt(800e3, "800k");
	expect_rate_fmt(500e6, "500M");
	expect_rate_fmt(1.5e9, "1.5G");
	expect_rate_fmt(2e12, "2T");
	expect_rate_fmt(2.5e15, "2500T");
	expect_rate_fmt(1234567, "1.23457M");
	assert_int_equal(rtv_rate_format(500e6, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "500M");
	assert_int_equal(rtv_rate_format(1.5e9, buf, 4), -ENOSPC);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_fractions),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_cpulist_format),
		cmocka_unit_test(test_parse_ll),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
