/* Unit tests for lib/host/cpuload.c: exact arithmetic of the difference of
 * two made-up snapshots, and two snapshots of the live /proc around a busy
 * loop of this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/cpuload.h"
#include "util/time.h"

#include "fixture.h"

static void near(double got, double want)
{
	if (fabs(got - want) > 1e-9)
		fail_msg("%.12g != %.12g", got, want);
}

static void test_diff_exact(void **state)
{
	static struct rtv_cpuload_snap a, b; /* large: not on the stack */
	struct rtv_task_ticks ta[] = {
		{ .pid = 10, .start = 5, .ticks = 100, .kind = 0 },
		{ .pid = 20, .start = 7, .ticks = 50, .kind = 2 },
		{ .pid = 30, .start = 9, .ticks = 40, .kind = 1 },
		{ .pid = 40, .start = 9, .ticks = 70, .kind = 0 }, /* ends in between */
	};
	struct rtv_task_ticks tb[] = {
		{ .pid = 10, .start = 5, .ticks = 150, .kind = 0 }, /* +50 foreign */
		{ .pid = 20, .start = 8, .ticks = 30, .kind = 2 },  /* pid reused: all 30 ours */
		{ .pid = 30, .start = 9, .ticks = 60, .kind = 1 },  /* +20 kernel */
		{ .pid = 35, .start = 12, .ticks = 10, .kind = 0 }, /* new: +10 foreign */
	};
	double hz = (double)sysconf(_SC_CLK_TCK);
	struct rtv_cpuload out;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.t_ns = 5 * RTV_NS_PER_S;
	b.t_ns = 7 * RTV_NS_PER_S; /* 2 s */
	a.ncpus = b.ncpus = 2;
	a.cpu[0][RTV_CPU_USER] = 100;
	a.cpu[0][RTV_CPU_SYSTEM] = 50;
	a.cpu[0][RTV_CPU_IDLE] = 800;
	a.cpu[0][RTV_CPU_IOWAIT] = 10;
	a.cpu[0][RTV_CPU_SOFTIRQ] = 5;
	b.cpu[0][RTV_CPU_USER] = 180;    /* +80 */
	b.cpu[0][RTV_CPU_SYSTEM] = 70;   /* +20 */
	b.cpu[0][RTV_CPU_IDLE] = 860;    /* +60 */
	b.cpu[0][RTV_CPU_IOWAIT] = 30;   /* +20, counted idle */
	b.cpu[0][RTV_CPU_SOFTIRQ] = 25;  /* +20: 200 in all, 120 busy */
	a.cpu[1][RTV_CPU_IDLE] = 1000;
	b.cpu[1][RTV_CPU_IDLE] = 1150;   /* +150 */
	a.cpu[1][RTV_CPU_STEAL] = 3;
	b.cpu[1][RTV_CPU_STEAL] = 53;    /* +50 busy: 200 in all */
	a.tasks = ta;
	a.ntasks = 4;
	b.tasks = tb;
	b.ntasks = 4;

	rtv_cpuload_diff(&a, &b, &out);
	assert_int_equal(out.ncpus, 2);
	near(out.cpu_busy_pct[0], 60.0);
	near(out.cpu_busy_pct[1], 25.0);
	near(out.busy_pct, 42.5);   /* 170 of 400 */
	near(out.softirq_pct, 5.0); /* 20 of 400 */
	/* ticks / hz / 2 s, in % of one CPU */
	near(out.foreign_pct, 100.0 * 60 / hz / 2);
	near(out.kthread_pct, 100.0 * 20 / hz / 2);
	near(out.ours_pct, 100.0 * 30 / hz / 2);

	/* no time between the snapshots: no task percentages, no division */
	b.t_ns = a.t_ns;
	rtv_cpuload_diff(&a, &b, &out);
	near(out.ours_pct, 0);
	near(out.foreign_pct, 0);
	near(out.busy_pct, 42.5);

	/* an idle machine: nothing counted, nothing divided by zero */
	rtv_cpuload_diff(&a, &a, &out);
	near(out.busy_pct, 0);
	near(out.cpu_busy_pct[0], 0);
	near(out.softirq_pct, 0);
}

/* The online CPUs as /proc/stat lists them: count and highest number + 1. */
static void proc_stat_cpus(int *lines, int *span)
{
	char line[512];
	FILE *f = fopen("/proc/stat", "re");

	assert_non_null(f);
	*lines = *span = 0;
	while (fgets(line, sizeof(line), f)) {
		int cpu;

		/* "cpu  " is the sum of all; %d would skip its spaces */
		if (!strncmp(line, "cpu", 3) && isdigit((unsigned char)line[3]) &&
		    sscanf(line + 3, "%d", &cpu) == 1) {
			(*lines)++;
			if (cpu + 1 > *span)
				*span = cpu + 1;
		}
	}
	fclose(f);
}

static void spin_ms(int64_t ms)
{
	int64_t end = rtv_now_ns() + ms * RTV_NS_PER_MS;
	volatile uint64_t n = 0;

	while (rtv_now_ns() < end)
		n++;
}

static void test_live_busy_loop(void **state)
{
	static struct rtv_cpuload_snap a, b;
	struct rtv_cpuload out;
	int lines, span;
	double sum = 0;
	bool self_seen = false;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(rtv_cpuload_snap(&a, getpid(), NULL), 0);
	spin_ms(200);
	assert_int_equal(rtv_cpuload_snap(&b, getpid(), NULL), 0);
	proc_stat_cpus(&lines, &span);
	if (span > RTV_CPUS_MAX)
		span = RTV_CPUS_MAX;
	assert_int_equal(b.ncpus, span);
	if (lines == span) /* no offline CPU in between */
		assert_int_equal(b.ncpus, sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(b.t_ns - a.t_ns >= 200 * RTV_NS_PER_MS);

	assert_true(b.ntasks > 0);
	for (int i = 0; i < b.ntasks; i++) {
		if (i)
			assert_true(b.tasks[i - 1].pid < b.tasks[i].pid);
		if (b.tasks[i].pid == getpid()) {
			assert_int_equal(b.tasks[i].kind, 2);
			self_seen = true;
		}
	}
	assert_true(self_seen);

	rtv_cpuload_diff(&a, &b, &out);
	assert_int_equal(out.ncpus, b.ncpus);
	if (out.ours_pct <= 50 || out.ours_pct > 110)
		fail_msg("ours_pct %.1f not in (50, 110]", out.ours_pct);
	if (out.busy_pct < 0 || out.busy_pct > 100)
		fail_msg("busy_pct %.1f not in [0, 100]", out.busy_pct);
	for (int c = 0; c < out.ncpus; c++) {
		if (out.cpu_busy_pct[c] < 0 || out.cpu_busy_pct[c] > 100)
			fail_msg("cpu%d busy %.1f not in [0, 100]", c, out.cpu_busy_pct[c]);
		sum += out.cpu_busy_pct[c];
	}
	/* one CPU was busy with us the whole time, give or take ticks */
	if (sum < 40)
		fail_msg("CPUs busy %.1f%% in all, below the 40%% of one CPU expected", sum);
	assert_true(out.foreign_pct >= 0 && out.kthread_pct >= 0 && out.softirq_pct >= 0);

	rtv_cpuload_snap_release(&a);
	rtv_cpuload_snap_release(&b);
	assert_null(b.tasks);
	assert_int_equal(b.ntasks, 0);
	assert_int_equal(b.cap, 0);
	rtv_cpuload_snap_release(&b); /* twice is fine */
	rtv_cpuload_snap_release(NULL);
}

static void test_snap_reuse(void **state)
{
	static struct rtv_cpuload_snap s;
	struct rtv_task_ticks *first;
	int cap;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(rtv_cpuload_snap(&s, getpid(), NULL), 0);
	first = s.tasks;
	cap = s.cap;
	assert_non_null(first);
	assert_true(cap >= s.ntasks);
	/* a second snapshot into the same struct reuses its array */
	assert_int_equal(rtv_cpuload_snap(&s, getpid(), NULL), 0);
	assert_true(s.cap >= s.ntasks);
	if (s.cap == cap)
		assert_ptr_equal(s.tasks, first);
	rtv_cpuload_snap_release(&s);
}

/* ---- /proc/softirqs ---- */

static void softirqs_fake(void **state)
{
	struct rtv_test_tree *t = *state;
	char path[320];
	uint64_t v[4] = { 0 };

	snprintf(path, sizeof(path), "%s/softirqs", t->root);
	rtv_test_put(path, "                    CPU0       CPU1       CPU2       \n"
		  "          HI:          0          1          2\n"
		  "       TIMER:     462841     327548         11\n"
		  "      NET_TX:        672        631          0\n"
		  "      NET_RX:   60905410   50006979 18446744073709551615\n"
		  "     TASKLET:      79857     179129          3\n");
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", v, 4), 3);
	assert_int_equal(v[0], 60905410);
	assert_int_equal(v[1], 50006979);
	assert_int_equal(v[2], UINT64_MAX);
	assert_int_equal(v[3], 0); /* untouched */
	assert_int_equal(rtv_softirqs_read(path, "HI", v, 4), 3);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[2], 2);
	/* fewer slots than CPUs: the count of CPUs, the first ones stored */
	memset(v, 0, sizeof(v));
	assert_int_equal(rtv_softirqs_read(path, "NET_TX", v, 2), 3);
	assert_int_equal(v[0], 672);
	assert_int_equal(v[1], 631);
	assert_int_equal(v[2], 0);
	assert_int_equal(rtv_softirqs_read(path, "TIMER", NULL, 0), 3);
	/* a row's name is matched whole */
	assert_int_equal(rtv_softirqs_read(path, "NET", v, 4), -ENOENT);
	assert_int_equal(rtv_softirqs_read(path, "NET_RX:", v, 4), -ENOENT);
	assert_int_equal(rtv_softirqs_read(path, "RCU", v, 4), -ENOENT);
}

static void softirqs_bad(void **state)
{
	struct rtv_test_tree *t = *state;
	char path[320];
	uint64_t v[4];

	snprintf(path, sizeof(path), "%s/softirqs", t->root);
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", v, 4), -ENOENT); /* no file */
	rtv_test_put(path, "");
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", v, 4), -EINVAL);
	rtv_test_put(path, "      NET_RX:   1   2\n");
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", v, 4), -EINVAL); /* no header */
	rtv_test_put(path, "   CPU0   CPU1\n  NET_RX:   1\n");
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", v, 4), -EINVAL); /* short row */
	rtv_test_put(path, "   CPU0   CPU1\n  NET_RX:   1  x\n");
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", v, 4), -EINVAL);
	assert_int_equal(rtv_softirqs_read(path, "", v, 4), -EINVAL);
	assert_int_equal(rtv_softirqs_read(path, NULL, v, 4), -EINVAL);
	assert_int_equal(rtv_softirqs_read(path, "NET_RX", NULL, 4), -EINVAL);
}

static void softirqs_real(void **state)
{
	uint64_t v[64];
	int n;

	(void)state;
	n = rtv_softirqs_read("/proc/softirqs", "NET_RX", v, 64);
	assert_true(n >= 1);
	assert_true(n >= sysconf(_SC_NPROCESSORS_ONLN));
}

static int tree_setup(void **state)
{
	return rtv_test_tree_setup(state, "softirqs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_exact),
		cmocka_unit_test(test_live_busy_loop),
		cmocka_unit_test(test_snap_reuse),
		cmocka_unit_test_setup_teardown(softirqs_fake, tree_setup, rtv_test_tree_teardown),
		cmocka_unit_test_setup_teardown(softirqs_bad, tree_setup, rtv_test_tree_teardown),
		cmocka_unit_test(softirqs_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
