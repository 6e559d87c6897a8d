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

#include "host/journal.h"
#include "methods/method.h"
#include "util/file.h"

#include "fixture.h"

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
	assert_string_equal(buf, "vanilla, prio, dedicated, separate, busypoll, hybrid, outsource, "
			    "steer");
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
	assert_int_equal(c.needs, RTV_NEED_PARTITION | RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN |
					  RTV_NEED_SHORT_SOFTIRQ | RTV_NEED_PREEMPT);
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

/* cfg's RT CPUs {rt}, no other CPU */
static void rt_cpu_only(struct rtv_method_cfg *cfg, int rt)
{
	CPU_ZERO(&cfg->rt_cpus);
	CPU_ZERO(&cfg->nonrt_cpus);
	CPU_SET(rt, &cfg->rt_cpus);
}

static void test_check_partition(void **state)
{
	struct rtv_method_cfg cfg = { .rt_prio = 80 };
	struct rtv_combo c;
	char err[256];

	(void)state;
	rt_cpu_only(&cfg, 0); /* no CPU left for the streams */
	assert_int_equal(rtv_combo_parse("dedicated", &c, err, sizeof(err)), 0);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'dedicated' partitions the CPUs"));
	CPU_SET(1, &cfg.nonrt_cpus);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), 0);
}

/* busypoll and hybrid with cfg.shared: no partition, separate's shared-CPU
 * needs instead; other methods unchanged. steer needs the other CPUs. */
static void test_shared_needs(void **state)
{
	struct rtv_method_cfg cfg = { .rt_prio = 80 };
	struct rtv_combo c;
	char err[256];

	(void)state;
	rt_cpu_only(&cfg, 0);
	assert_int_equal(rtv_combo_parse("busypoll", &c, err, sizeof(err)), 0);
	assert_true(rtv_combo_needs(&c, &cfg) & RTV_NEED_PARTITION);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), -EINVAL);
	cfg.shared = true;
	assert_int_equal(rtv_combo_needs(&c, &cfg), RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN |
					     RTV_NEED_SHORT_SOFTIRQ | RTV_NEED_PREEMPT);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), 0); /* one CPU will do */
	assert_int_equal(rtv_combo_parse("dedicated", &c, err, sizeof(err)), 0);
	assert_int_equal(rtv_combo_needs(&c, &cfg), RTV_NEED_PARTITION);
	assert_int_equal(rtv_combo_parse("separate+steer", &c, err, sizeof(err)), 0);
	assert_true(rtv_combo_host(&c));
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'separate+steer' steers the bulk work"));
	CPU_SET(1, &cfg.nonrt_cpus);
	assert_int_equal(rtv_combo_check(&c, &cfg, err, sizeof(err)), 0);
	/* steer alone sets no receive path: not for a host */
	assert_int_equal(rtv_combo_parse("steer", &c, err, sizeof(err)), 0);
	assert_false(rtv_combo_host(&c));
	assert_int_equal(rtv_combo_parse("prio+separate", &c, err, sizeof(err)), 0);
	assert_false(rtv_combo_host(&c)); /* prio places the testbed's processes */
}

/* What `apply --dry-run` adds to the receive path's plan. */
static void test_host_steps(void **state)
{
	struct rtv_method_cfg cfg = { .rt_prio = 80, .softirq_budget = 24 };
	struct rtv_combo c;
	char err[256], step[8][200];

	(void)state;
	CPU_ZERO(&cfg.nonrt_cpus);
	CPU_SET(0, &cfg.nonrt_cpus);
	snprintf(cfg.nonrt_dev[0].name, sizeof(cfg.nonrt_dev[0].name), "eth1");
	cfg.nnonrt_devs = 1;
	assert_int_equal(rtv_combo_parse("separate+steer", &c, err, sizeof(err)), 0);
	assert_int_equal(rtv_combo_host_steps(&c, &cfg, step, 8), 3);
	assert_non_null(strstr(step[0], "netdev_budget at most 24, net.core.dev_weight at most 16"));
	assert_non_null(strstr(step[1], "preemption model full"));
	assert_string_equal(step[2], "eth1: RPS to CPU 0 (its backlog work off the RT CPUs)");
	assert_int_equal(rtv_combo_host_steps(&c, &cfg, step, 1), 1);
	assert_int_equal(rtv_combo_parse("busypoll", &c, err, sizeof(err)), 0);
	assert_int_equal(rtv_combo_host_steps(&c, &cfg, step, 8), 0);
}

/* separate's short softirq rounds on a fake /proc/sys: lowered, journaled,
 * undone; a host already lower keeps its value; its preemption switch on a
 * fake debugfs; a kernel without the switch is reported, not an error. */
static void test_short_softirq(void **state)
{
	struct rtv_method_cfg cfg = { .rt_prio = 80 };
	struct rtv_method_run run = { .rx = NULL };
	struct rtv_test_tree t;
	struct rtv_combo c;
	char err[256], path[256], jdir[128], v[32];
	size_t mark;

	(void)state;
	assert_int_equal(rtv_test_mkdtemp(t.root, sizeof(t.root), "methods"), 0);
	snprintf(jdir, sizeof(jdir), "%s/journal.d", t.root);
	assert_int_equal(rtv_journal_open(jdir, NULL), 0);
	rtv_test_mkdir_in(t.root, "net");
	rtv_test_mkdir_in(t.root, "net/core");
	rtv_test_put_in(t.root, "net/core/netdev_budget", "300\n");
	rtv_test_put_in(t.root, "net/core/dev_weight", "8\n");
	rtv_test_mkdir_in(t.root, "sched");
	rtv_test_put_in(t.root, "sched/preempt", "(none) voluntary full lazy\n");
	cfg.sysctl_root = t.root;
	cfg.debugfs_root = t.root;
	/* no testbed, no receive path: the toy-free way to run the needs alone */
	c = (struct rtv_combo){ .name = "x", .needs = RTV_NEED_SHORT_SOFTIRQ | RTV_NEED_PREEMPT };
	mark = rtv_journal_mark();
	assert_int_equal(rtv_combo_setup(&c, &cfg, NULL, &run), 0);
	snprintf(path, sizeof(path), "%s/net/core/netdev_budget", t.root);
	assert_int_equal(rtv_file_read_line(path, v, sizeof(v)), 0);
	assert_string_equal(v, "32");
	snprintf(path, sizeof(path), "%s/net/core/dev_weight", t.root);
	assert_int_equal(rtv_file_read_line(path, v, sizeof(v)), 0);
	assert_string_equal(v, "8"); /* already lower: kept */
	assert_non_null(strstr(run.note, "netdev_budget 300->32, dev_weight 8"));
	assert_non_null(strstr(run.note, "preemption model full, was none"));
	assert_int_equal(rtv_journal_undo_to(mark), 2);
	snprintf(path, sizeof(path), "%s/net/core/netdev_budget", t.root);
	assert_int_equal(rtv_file_read_line(path, v, sizeof(v)), 0);
	assert_string_equal(v, "300");
	/* no switch in this kernel: said in the note, the rest goes on */
	snprintf(path, sizeof(path), "%s/sched/preempt", t.root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rtv_combo_setup(&c, &cfg, NULL, &run), 0);
	assert_non_null(strstr(run.note, "preemption model not switched to full: no debugfs"));
	/* a missing sysctl is an error */
	snprintf(path, sizeof(path), "%s/net/core/netdev_budget", t.root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rtv_combo_setup(&c, &cfg, NULL, &run), -ENOENT);
	(void)err;
	rtv_journal_close();
	rtv_test_rmtree(t.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_toy),
		cmocka_unit_test(test_check_partition),
		cmocka_unit_test(test_shared_needs),
		cmocka_unit_test(test_host_steps),
		cmocka_unit_test(test_short_softirq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
