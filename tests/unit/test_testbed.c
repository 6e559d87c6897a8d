/* Unit tests for lib/testbed's pure parts: the hosts' names, and finding a
 * host by its name (what `taskset run --container HOST` takes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "testbed/testbed.h"

static void test_host_names(void **state)
{
	struct rtv_testbed tb;

	(void)state;
	assert_int_equal(rtv_testbed_host_streams("rtc"), 0);
	assert_int_equal(rtv_testbed_host_streams("rts"), 0);
	assert_int_equal(rtv_testbed_host_streams("s1c"), 1);
	assert_int_equal(rtv_testbed_host_streams("s8s"), 8);
	assert_int_equal(rtv_testbed_host_streams("s9s"), -1);
	assert_int_equal(rtv_testbed_host_streams("s0c"), -1);
	assert_int_equal(rtv_testbed_host_streams("s1x"), -1);
	assert_int_equal(rtv_testbed_host_streams("nope"), -1);
	assert_int_equal(rtv_testbed_host_streams(""), -1);

	rtv_testbed_init(&tb, 2, NULL);
	assert_ptr_equal(rtv_testbed_host(&tb, "rts"), &tb.rt_server);
	assert_ptr_equal(rtv_testbed_host(&tb, "rtc"), &tb.rt_client);
	assert_ptr_equal(rtv_testbed_host(&tb, "s2s"), &tb.stream_server[1]);
	assert_string_equal(rtv_testbed_host(&tb, "s1c")->ns, "rtv-s1c");
	assert_null(rtv_testbed_host(&tb, "s3c")); /* this testbed has 2 pairs */
	assert_null(rtv_testbed_host(&tb, "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
