/* Unit tests for lib/methods/rxpath.c: the pure parts (poller assignment,
 * names) and the checks rtv_rx_plan() makes before it looks at the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "methods/rxpath.h"

static void test_assign_round_robin(void **state)
{
	cpu_set_t set;
	int cpus[8], owner[5];

	(void)state;
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	CPU_SET(3, &set);
	assert_int_equal(rtv_rx_assign(&set, 5, cpus, owner), 2);
	assert_int_equal(cpus[0], 1);
	assert_int_equal(cpus[1], 3);
	assert_int_equal(owner[0], 0);
	assert_int_equal(owner[1], 1);
	assert_int_equal(owner[2], 0);
	assert_int_equal(owner[3], 1);
	assert_int_equal(owner[4], 0);
}

static void test_assign_one_cpu(void **state)
{
	cpu_set_t set;
	int cpus[8], owner[3];

	(void)state;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	assert_int_equal(rtv_rx_assign(&set, 3, cpus, owner), 1);
	assert_int_equal(cpus[0], 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(owner[i], 0);
	CPU_ZERO(&set);
	assert_int_equal(rtv_rx_assign(&set, 0, cpus, owner), 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(rtv_rx_mode_name(RTV_RX_SEPARATE), "separate");
	assert_string_equal(rtv_rx_mode_name(RTV_RX_BUSYPOLL), "busypoll");
	assert_string_equal(rtv_rx_mode_name(RTV_RX_HYBRID), "hybrid");
	assert_string_equal(rtv_rx_variant_name(RTV_RX_IOURING), "io_uring-napi");
	assert_string_equal(rtv_rx_variant_name(RTV_RX_KTHREAD_BUSY), "threaded-busy-poll");
	assert_string_equal(rtv_rx_variant_name((enum rtv_rx_variant)9), "?");
}

static void test_plan_refuses_bad_config(void **state)
{
	static struct rtv_rx_plan plan;
	struct rtv_method_cfg cfg;
	char why[256];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	CPU_SET(0, &cfg.rt_cpus);
	assert_int_equal(rtv_rx_plan(&cfg, RTV_RX_SEPARATE, &plan, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no RT device given");
	assert_int_equal(plan.nsteps, 0);
	cfg.nrt_devs = 1;
	strcpy(cfg.rt_dev[0].name, "lo");
	CPU_ZERO(&cfg.rt_cpus);
	assert_int_equal(rtv_rx_plan(&cfg, RTV_RX_BUSYPOLL, &plan, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no RT CPU");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_round_robin),
		cmocka_unit_test(test_assign_one_cpu),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_plan_refuses_bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
