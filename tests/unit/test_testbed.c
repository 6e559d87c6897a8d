/* Unit tests for lib/testbed's pure parts: the hosts' names, and finding a
 * host by its name (what `taskset run --container HOST` takes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
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

	struct rtv_tb_shape sh;

	rtv_testbed_shape_default(&sh, 2);
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), 0);
	assert_ptr_equal(rtv_testbed_host(&tb, "rts"), &tb.rt_server);
	assert_ptr_equal(rtv_testbed_host(&tb, "rtc"), &tb.rt_client);
	assert_ptr_equal(rtv_testbed_host(&tb, "s2s"), &tb.stream_server[1]);
	assert_string_equal(rtv_testbed_host(&tb, "s1c")->ns, "rtv-s1c");
	assert_null(rtv_testbed_host(&tb, "s3c")); /* this testbed has 2 pairs */
	assert_null(rtv_testbed_host(&tb, "x"));
}

/* The host topology: peers reach containers through rtv-host's NIC and
 * bridge; nat sends them to the NIC's address instead. */
static void test_host_shape(void **state)
{
	struct rtv_testbed tb;
	struct rtv_tb_shape sh;
	struct rtv_tb_dev d[4];

	(void)state;
	rtv_testbed_shape_default(&sh, 2);
	assert_int_equal(sh.topology, RTV_TB_HOST);
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), 0);
	assert_string_equal(tb.host.ns, "rtv-host");
	assert_string_equal(tb.rt_client.addr, "198.18.0.1");
	assert_string_equal(tb.rt_client.gw, "198.18.0.254");
	assert_string_equal(tb.rt_client.hdev, "rtvh0");
	assert_string_equal(tb.rt_server.hdev, "rtvb0");
	assert_string_equal(tb.rt_server.addr, "198.19.0.2");
	assert_string_equal(tb.rt_client.peer, "198.19.0.2"); /* routed to the container */
	assert_string_equal(tb.stream_server[1].addr, "198.19.0.4");
	assert_string_equal(tb.stream_client[1].gw, "198.18.2.254");
	assert_true(tb.rt_client.external);
	assert_false(tb.rt_server.external);
	assert_int_equal(rtv_testbed_path_devs(&tb, 0, d), 4);
	assert_string_equal(d[0].name, "rtvc0");
	assert_string_equal(d[0].ns, "rtv-rtc");
	assert_string_equal(d[1].name, "rtvh0");
	assert_string_equal(d[1].ns, "rtv-host");
	assert_string_equal(d[2].name, "rtvb0");
	assert_string_equal(d[3].name, "rtvs0");
	assert_string_equal(d[3].ns, "rtv-rts");
	assert_int_equal(rtv_testbed_path_devs(&tb, 2, d), 4);
	assert_string_equal(d[1].name, "rtvh2");
	assert_int_equal(rtv_testbed_path_devs(&tb, 3, d), 0);

	sh.nat = true;
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), 0);
	assert_string_equal(tb.rt_client.peer, "198.18.0.254"); /* published on the NIC */
	assert_string_equal(tb.stream_client[0].peer, "198.18.1.254");
}

static void test_direct_shape(void **state)
{
	struct rtv_testbed tb;
	struct rtv_tb_shape sh;
	struct rtv_tb_dev d[4];
	char text[160];

	(void)state;
	rtv_testbed_shape_default(&sh, 1);
	sh.topology = RTV_TB_DIRECT;
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), 0);
	assert_string_equal(tb.rt_client.peer, "198.18.0.2");
	assert_string_equal(tb.rt_server.addr, "198.18.0.2");
	assert_string_equal(tb.rt_client.hdev, "");
	assert_int_equal(rtv_testbed_path_devs(&tb, 0, d), 2);
	assert_string_equal(d[1].name, "rtvs0");
	sh.nat = true; /* nothing to publish on */
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), -EINVAL);
	sh.nat = false;
	snprintf(sh.peer_cpus, sizeof(sh.peer_cpus), "0-");
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), -EINVAL);
	snprintf(sh.peer_cpus, sizeof(sh.peer_cpus), "0");
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), 0);
	rtv_testbed_shape_describe(&sh, text, sizeof(text));
	assert_string_equal(text, "direct topology, 1 stream pair, peers on CPU 0");
	sh.nstreams = RTV_TESTBED_MAX_STREAMS + 1;
	assert_int_equal(rtv_testbed_init(&tb, &sh, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_host_shape),
		cmocka_unit_test(test_direct_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
