/* Unit tests for lib/methods' table and combination engine: needs add up,
 * the receive path is exclusive, names are parsed and refused with a
 * message naming the input; a toy method, defined here, combines with the
 * table's as any row would. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "methods/method.h"

static int toy_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
		     struct rtv_method_run *run)
{
	(void)cfg, (void)tb;
	snprintf(run->note, sizeof(run->note), "toy was here");
	return 0;
}

/* A method as a new file would define it: one row. */
static const struct rtv_method toy = {
	.name = "toy",
	.summary = "changes nothing but says so",
	.setup = toy_setup,
	.expect = { { "toy claim", "p99_us", "idle", RTV_CMP_LE, 1 } },
};

static void test_table(void **state)
{
	char buf[256];

	(void)state;
	for (int i = 0; rtv_methods[i]; i++) {
		assert_ptr_equal(rtv_method_find(rtv_methods[i]->name), rtv_methods[i]);
		assert_non_null(rtv_methods[i]->summary);
	}
	assert_null(rtv_method_find("frob"));
	assert_true(rtv_methods_default(buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "vanilla,prio,dedicated,separate,busypoll,hybrid,outsource");
	assert_true(rtv_methods_known(buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "vanilla, prio, dedicated, separate, busypoll, hybrid, outsource");
	assert_int_equal(rtv_methods_default(buf, 8), -ENOSPC);
	/* what each declares */
	assert_int_equal(rtv_method_dedicated.needs, RTV_NEED_PARTITION);
	assert_int_equal(rtv_method_busypoll.rx, RTV_RX_BUSYPOLL);
	assert_true(rtv_method_hybrid.needs & RTV_NEED_PARTITION);
	assert_int_equal(rtv_method_separate.needs & RTV_NEED_PARTITION, 0);
	assert_string_equal(rtv_method_vanilla.expect[0].name, "phenomenon");
}

static void test_combine(void **state)
{
	struct rtv_combo c;
	char err[256];

	(void)state;
	assert_int_equal(rtv_combo_parse("prio+dedicated", &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "prio+dedicated");
	assert_int_equal(c.nparts, 2);
	assert_int_equal(c.needs, RTV_NEED_RT_FIFO | RTV_NEED_PARTITION);
	assert_int_equal(c.rx, RTV_RX_NONE);
	assert_false(rtv_combo_host(&c));
	/* needs add up; the receive path comes from the one part that sets it */
	assert_int_equal(rtv_combo_parse("dedicated+separate", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rx, RTV_RX_SEPARATE);
	assert_int_equal(c.needs, RTV_NEED_PARTITION | RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN);
	assert_int_equal(rtv_combo_parse("busypoll", &c, err, sizeof(err)), 0);
	assert_true(rtv_combo_host(&c));
	assert_int_equal(rtv_combo_parse("vanilla", &c, err, sizeof(err)), 0);
	assert_int_equal(c.needs, 0);

	/* conflicts and bad names, each named */
	assert_int_equal(rtv_combo_parse("separate+busypoll", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'separate' and 'busypoll' both set the receive path"));
	assert_int_equal(rtv_combo_parse("vanilla+prio", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'vanilla' changes nothing"));
	assert_int_equal(rtv_combo_parse("prio+prio", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'prio' is combined with itself"));
	assert_int_equal(rtv_combo_parse("prio+frob", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown method 'frob' (known: vanilla, prio,"));
	assert_int_equal(rtv_combo_parse("prio+", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty method name"));
	assert_int_equal(rtv_combo_parse("prio+dedicated+separate+hybrid", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'separate' and 'hybrid'"));
	assert_int_equal(rtv_combo_parse("prio+dedicated+separate+prio+dedicated", &c, err,
					 sizeof(err)), -EINVAL);
}

static void test_toy(void **state)
{
	const struct rtv_method *parts[] = { &toy, &rtv_method_prio };
	struct rtv_method_cfg cfg = { .rt_prio = 80 };
	struct rtv_method_run run = { .rx = NULL };
	struct rtv_combo c;
	char err[256];

	(void)state;
	assert_int_equal(rtv_combo_of(parts, 2, &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "toy+prio");
	assert_int_equal(c.needs, RTV_NEED_RT_FIFO);
	/* on no testbed, only the parts' own setups run: prio's has nothing to do */
	assert_int_equal(rtv_combo_setup(&c, &cfg, NULL, &run), 0);
	assert_string_equal(run.note, "toy was here");
	assert_null(run.rx);
	/* other roles are never placed */
	assert_int_equal(rtv_combo_place(&c, &cfg, RTV_ROLE_STREAM_CLIENT, 1), 0);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), 0);
}

static void test_check_partition(void **state)
{
	struct rtv_method_cfg cfg = { .rt_prio = 80 };
	struct rtv_combo c;
	char err[256];

	(void)state;
	CPU_ZERO(&cfg.rt_cpus);
	CPU_ZERO(&cfg.nonrt_cpus);
	CPU_SET(0, &cfg.rt_cpus); /* no CPU left for the streams */
	assert_int_equal(rtv_combo_parse("dedicated", &c, err, sizeof(err)), 0);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'dedicated' partitions the CPUs"));
	CPU_SET(1, &cfg.nonrt_cpus);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_toy),
		cmocka_unit_test(test_check_partition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
