/* Unit tests for lib/net/dropstat: procfs drop counters read from files in
 * tests/unit/data/dropstat/:
 *   host/net/{dev,snmp}, softnet_stat   copied verbatim from this project's
 *       test machine (kernel 6.18): lo, ifb0, ifb1, eth0 all with 0 drops;
 *       Udp: NoPorts 4501, InErrors 2905342, RcvbufErrors 2905342,
 *       SndbufErrors 0; softnet_stat: 2 CPUs, dropped 0 and 0, time_squeeze
 *       0x19 and 0xd (38)
 *   drops/net/{dev,snmp}   host's with the drop columns set by hand (lo
 *       1000/2000, ifb0 3/5, eth0 7/11, and a device "rtv-veth-c0123" of 14
 *       characters with 13/17 and counters above 2^32), the Udp row's
 *       RcvbufErrors 2905341 and SndbufErrors 12, and UdpLite's values
 *       999/998 (which must not be read as Udp's)
 *   bad-dev (a device line with 15 counters), no-udp (net/snmp without its
 *       Udp rows, UdpLite kept), short-udp (a Udp value row shorter than its
 *       names), no-snmp (no net/snmp at all)
 *   swapped (net/dev holding net/snmp's text and the reverse), swapped2
 *       (net/snmp holding net/dev's text)
 *   drops-softnet_stat (0x10 + 0x1f dropped, 0xa + 0x1 squeezed),
 *       bad-softnet_stat ("zz"), short-softnet_stat (2 columns),
 *       empty-softnet_stat */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/dropstat.h"

#ifndef RTV_TEST_DATA_DIR
#error "RTV_TEST_DATA_DIR: tests/unit/meson.build passes it"
#endif

static const char *data(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/dropstat/%s", RTV_TEST_DATA_DIR, name);
	return path;
}

static void test_host_files(void **state)
{
	struct rtv_dropstat d;

	(void)state;
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(rtv_dropstat_read(data("host"), &d), 0);
	assert_int_equal(d.rx_dropped, 0);
	assert_int_equal(d.tx_dropped, 0);
	assert_int_equal(d.udp_no_ports, 4501);
	assert_int_equal(d.udp_in_errors, 2905342);
	assert_int_equal(d.udp_rcvbuf_errors, 2905342);
	assert_int_equal(d.udp_sndbuf_errors, 0);
}

static void test_drops_summed_lo_excluded(void **state)
{
	struct rtv_dropstat d;

	(void)state;
	assert_int_equal(rtv_dropstat_read(data("drops"), &d), 0);
	assert_int_equal(d.rx_dropped, 3 + 7 + 13); /* lo's 1000 left out */
	assert_int_equal(d.tx_dropped, 5 + 11 + 17); /* lo's 2000 left out */
	assert_int_equal(d.udp_no_ports, 4501);
	assert_int_equal(d.udp_in_errors, 2905342);
	assert_int_equal(d.udp_rcvbuf_errors, 2905341);
	assert_int_equal(d.udp_sndbuf_errors, 12);
}

static void test_devs(void **state)
{
	struct rtv_dropdev dev[8];

	(void)state;
	assert_int_equal(rtv_dropstat_devs(data("drops"), dev, 8), 5);
	assert_string_equal(dev[0].name, "lo");
	assert_int_equal(dev[0].rx_dropped, 1000);
	assert_int_equal(dev[0].tx_dropped, 2000);
	assert_string_equal(dev[1].name, "ifb0");
	assert_int_equal(dev[1].rx_dropped, 3);
	assert_int_equal(dev[1].tx_dropped, 5);
	assert_string_equal(dev[2].name, "ifb1");
	assert_int_equal(dev[2].rx_dropped, 0);
	assert_string_equal(dev[3].name, "eth0");
	assert_int_equal(dev[3].rx_dropped, 7);
	assert_int_equal(dev[3].tx_dropped, 11);
	assert_string_equal(dev[4].name, "rtv-veth-c0123");
	assert_int_equal(dev[4].rx_dropped, 13);
	assert_int_equal(dev[4].tx_dropped, 17);

	/* fewer slots than devices: the first ones, the count stored */
	memset(dev, 0, sizeof(dev));
	assert_int_equal(rtv_dropstat_devs(data("drops"), dev, 2), 2);
	assert_string_equal(dev[1].name, "ifb0");
	assert_string_equal(dev[2].name, "");
	assert_int_equal(rtv_dropstat_devs(data("drops"), NULL, 0), 0);
	assert_int_equal(rtv_dropstat_devs(data("host"), dev, 8), 4);
	assert_int_equal(rtv_dropstat_devs(data("drops"), NULL, 1), -EINVAL);
	assert_int_equal(rtv_dropstat_devs(data("drops"), dev, -1), -EINVAL);
	assert_int_equal(rtv_dropstat_devs(data("bad-dev"), dev, 8), -EINVAL);
	assert_int_equal(rtv_dropstat_devs(data("nothing-here"), dev, 8), -ENOENT);
}

static void test_malformed(void **state)
{
	struct rtv_dropstat d = { .rx_dropped = 42 };

	(void)state;
	assert_int_equal(rtv_dropstat_read(data("bad-dev"), &d), -EINVAL);
	assert_int_equal(rtv_dropstat_read(data("no-udp"), &d), -EINVAL);
	assert_int_equal(rtv_dropstat_read(data("short-udp"), &d), -EINVAL);
	/* a file of another format in the place of each */
	assert_int_equal(rtv_dropstat_read(data("swapped"), &d), -EINVAL);
	/* net/dev right, net/snmp another copy of net/dev: no Udp rows */
	assert_int_equal(rtv_dropstat_read(data("swapped2"), &d), -EINVAL);
	assert_int_equal(d.rx_dropped, 42); /* untouched on failure */
	assert_int_equal(rtv_dropstat_read(NULL, &d), -EINVAL);
	assert_int_equal(rtv_dropstat_read(data("host"), NULL), -EINVAL);
}

static void test_missing(void **state)
{
	struct rtv_dropstat d;

	(void)state;
	assert_int_equal(rtv_dropstat_read(data("no-snmp"), &d), -ENOENT);
	assert_int_equal(rtv_dropstat_read(data("nothing-here"), &d), -ENOENT);
}

static void test_softnet(void **state)
{
	uint64_t dropped = 99, squeezed = 99;

	(void)state;
	assert_int_equal(rtv_softnet_read(data("softnet_stat"), &dropped, &squeezed), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(squeezed, 0x19 + 0xd);
	assert_int_equal(rtv_softnet_read(data("drops-softnet_stat"), &dropped, &squeezed), 0);
	assert_int_equal(dropped, 0x10 + 0x1f);
	assert_int_equal(squeezed, 0xa + 0x1);
	assert_int_equal(rtv_softnet_read(data("bad-softnet_stat"), &dropped, &squeezed), -EINVAL);
	assert_int_equal(rtv_softnet_read(data("short-softnet_stat"), &dropped, &squeezed), -EINVAL);
	assert_int_equal(rtv_softnet_read(data("empty-softnet_stat"), &dropped, &squeezed), -EINVAL);
	/* net/dev is not softnet_stat */
	assert_int_equal(rtv_softnet_read(data("host/net/dev"), &dropped, &squeezed), -EINVAL);
	assert_int_equal(rtv_softnet_read(data("nothing-here"), &dropped, &squeezed), -ENOENT);
	assert_int_equal(dropped, 0x10 + 0x1f); /* untouched on failure */
	assert_int_equal(rtv_softnet_read(NULL, &dropped, &squeezed), -EINVAL);
}

/* This process's namespace and this machine's CPUs, as they are. */
static void test_live(void **state)
{
	struct rtv_dropstat d, d2;
	struct rtv_dropdev dev[64];
	uint64_t dropped, squeezed;
	int n, lo = 0;

	(void)state;
	assert_int_equal(rtv_dropstat_read("/proc/self", &d), 0);
	n = rtv_dropstat_devs("/proc/self", dev, 64);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		assert_true(dev[i].name[0] != '\0');
		lo += !strcmp(dev[i].name, "lo");
	}
	assert_int_equal(lo, 1); /* every namespace has its lo */
	/* counters only grow */
	assert_int_equal(rtv_dropstat_read("/proc/self", &d2), 0);
	assert_true(d2.udp_in_errors >= d.udp_in_errors);
	assert_true(d2.udp_rcvbuf_errors >= d.udp_rcvbuf_errors);
	assert_true(d2.udp_in_errors >= d2.udp_rcvbuf_errors); /* RcvbufErrors are InErrors too */
	assert_int_equal(rtv_dropstat_read("/proc/thread-self", &d2), 0);
	assert_int_equal(rtv_softnet_read("/proc/net/softnet_stat", &dropped, &squeezed), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_files),
		cmocka_unit_test(test_drops_summed_lo_excluded),
		cmocka_unit_test(test_devs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_softnet),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
