/* Unit tests for lib/taskset: both parsers with exact values, every kind of
 * bad input with its exact message, and a short run of the runner. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "taskset/runner.h"
#include "taskset/taskset.h"
#include "util/time.h"

static int parse(const char *text, int ncpus, struct rtv_taskset *ts, char *err)
{
	return rtv_taskset_parse(text, strlen(text), "t.json", ncpus, ts, err, 256);
}

static void expect_error(const char *text, int ncpus, const char *msg)
{
	struct rtv_taskset ts = { .n = 7, .task = NULL };
	char err[256];

	assert_int_equal(parse(text, ncpus, &ts, err), -EINVAL);
	assert_string_equal(err, msg);
	assert_int_equal(ts.n, 0);
	assert_null(ts.task);
}

static void test_own_format(void **state)
{
	struct rtv_taskset ts;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":10},"
			       "{\"name\":\"b\",\"wcet_ms\":2.5,\"period_ms\":20,"
			       "\"deadline_ms\":15,\"cpu\":1}]}",
			       2, &ts, err),
			 0);
	assert_int_equal(ts.n, 2);
	assert_string_equal(ts.task[0].name, "a");
	assert_int_equal(ts.task[0].wcet_ns, 1000000);
	assert_int_equal(ts.task[0].period_ns, 10000000);
	assert_int_equal(ts.task[0].deadline_ns, 10000000);
	assert_int_equal(ts.task[0].cpu, -1);
	assert_int_equal(ts.task[0].prio, -1);
	assert_string_equal(ts.task[1].name, "b");
	assert_int_equal(ts.task[1].wcet_ns, 2500000);
	assert_int_equal(ts.task[1].period_ns, 20000000);
	assert_int_equal(ts.task[1].deadline_ns, 15000000);
	assert_int_equal(ts.task[1].cpu, 1);
	assert_true(rtv_taskset_utilization(&ts) > 0.225 - 1e-12 &&
		    rtv_taskset_utilization(&ts) < 0.225 + 1e-12);
	rtv_taskset_release(&ts);
	rtv_taskset_release(&ts); /* idempotent */
	rtv_taskset_release(NULL);
	/* sub-ns rounds to the nearest ns */
	assert_int_equal(parse("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":0.0000006,\"period_ms\":1}]}",
			       0, &ts, err),
			 0);
	assert_int_equal(ts.task[0].wcet_ns, 1);
	rtv_taskset_release(&ts);
}

static void test_rtapp_format(void **state)
{
	struct rtv_taskset ts;
	char err[256];

	(void)state;
	assert_int_equal(
		parse("{\"global\":{\"duration\":5,\"default_policy\":\"SCHED_FIFO\",\"calibration\":\"CPU0\"},"
		      "\"tasks\":{"
		      "\"t1\":{\"loop\":-1,\"priority\":30,\"cpus\":[1],\"run\":2000,"
		      "\"timer\":{\"ref\":\"unique\",\"period\":10000,\"mode\":\"absolute\"}},"
		      "\"t2\":{\"policy\":\"SCHED_OTHER\",\"priority\":-5,\"cpus\":[0,1],"
		      "\"phases\":{\"p\":{\"runtime\":1500,\"run1\":500,\"timer0\":{\"ref\":\"x\",\"period\":40000}}}},"
		      "\"t3\":{\"instance\":2,\"run\":100,\"timer\":{\"ref\":\"unique\",\"period\":1000},"
		      "\"dl-deadline\":800}}}",
		      2, &ts, err),
		0);
	assert_int_equal(ts.n, 4);
	assert_string_equal(ts.task[0].name, "t1");
	assert_int_equal(ts.task[0].wcet_ns, 2000000);
	assert_int_equal(ts.task[0].period_ns, 10000000);
	assert_int_equal(ts.task[0].deadline_ns, 10000000);
	assert_int_equal(ts.task[0].cpu, 1);
	assert_int_equal(ts.task[0].prio, 30);
	assert_string_equal(ts.task[1].name, "t2");
	assert_int_equal(ts.task[1].wcet_ns, 2000000);
	assert_int_equal(ts.task[1].period_ns, 40000000);
	assert_int_equal(ts.task[1].cpu, -1); /* several CPUs: free */
	assert_int_equal(ts.task[1].prio, -1); /* SCHED_OTHER: priority is a nice value */
	assert_string_equal(ts.task[2].name, "t3-0");
	assert_string_equal(ts.task[3].name, "t3-1");
	assert_int_equal(ts.task[3].wcet_ns, 100000);
	assert_int_equal(ts.task[3].period_ns, 1000000);
	assert_int_equal(ts.task[3].deadline_ns, 800000);
	assert_int_equal(ts.task[3].prio, 10); /* rt-app's default for FIFO */
	rtv_taskset_release(&ts);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	/* truncated */
	expect_error("{\"tasks\":[{\"name\":\"a\",", 0,
		     "t.json: line 1, column 22: string or '}' expected near end of file");
	/* malformed, on line 2 */
	expect_error("{\"tasks\":\n[{\"name\" \"a\"}]}", 0,
		     "t.json: line 2, column 12: ':' expected near '\"a\"'");
	expect_error("", 0, "t.json: line 1, column 0: '[' or '{' expected near end of file");
	/* duplicate keys (rt-app's duplicate task names are this) */
	expect_error("{\"tasks\":{\"a\":{\"run\":1,\"timer\":{\"period\":2}},\n\"a\":{}}}", 0,
		     "t.json: line 2, column 3: duplicate object key near '\"a\"'");
	/* huge numbers */
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":99999999999999999999999}]}", 0,
		     "t.json: line 1, column 69: too big integer");
	expect_error("[1]", 0, "t.json: not a taskset: the top level is not an object");
	expect_error("{\"task\":[]}", 0,
		     "t.json: not a taskset: no 'tasks' array (rtvnet) or object (rt-app)");
	/* a NUL inside the text */
	{
		struct rtv_taskset ts;
		char err[256];

		assert_int_equal(rtv_taskset_parse("{\"tasks\":[]}\0x", 14, "t.json", 0, &ts, err,
						   sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, "t.json: line 1, column 13: NUL byte in the text");
	}
}

static void test_semantic_errors(void **state)
{
	(void)state;
	expect_error("{\"tasks\":[]}", 0, "t.json: no tasks");
	expect_error("{\"tasks\":[{\"wcet_ms\":1,\"period_ms\":2}]}", 0, "t.json: task 0: missing 'name'");
	expect_error("{\"tasks\":[{\"name\":\"\",\"wcet_ms\":1,\"period_ms\":2}]}", 0,
		     "t.json: task 0: empty name");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":2},"
		     "{\"name\":\"b\",\"period_ms\":2}]}",
		     0, "t.json: task 1 'b': missing 'wcet_ms'");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":\"1\",\"period_ms\":2}]}", 0,
		     "t.json: task 0 'a': 'wcet_ms' is not a number");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":0}]}", 0,
		     "t.json: task 0 'a': 'period_ms' must be positive (0)");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":-10}]}", 0,
		     "t.json: task 0 'a': 'period_ms' is negative (-10)");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":1e303}]}", 0,
		     "t.json: task 0 'a': 'period_ms' is not a finite number");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":4e6}]}", 0,
		     "t.json: task 0 'a': 'period_ms' is above one hour (4e+06)");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":2,\"wcet_us\":3}]}", 0,
		     "t.json: task 0 'a': unknown field 'wcet_us'");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":3,\"period_ms\":2}]}", 0,
		     "t.json: task 0 'a': WCET 3.000 ms is above its deadline 2.000 ms");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":2,\"deadline_ms\":3}]}", 0,
		     "t.json: task 0 'a': deadline 3.000 ms is above its period 2.000 ms");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":2,\"cpu\":-1}]}", 0,
		     "t.json: task 0 'a': 'cpu' is not a CPU number from 0 to 1023");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":2,\"cpu\":2}]}", 2,
		     "t.json: task 0 'a': CPU 2 does not exist (2 CPUs)");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":2},"
		     "{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":4}]}",
		     0, "t.json: task 1 'a': duplicate name (task 0 has it too)");
	/* utilization 0.9 * 3 > 2 CPUs */
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":9,\"period_ms\":10},"
		     "{\"name\":\"b\",\"wcet_ms\":9,\"period_ms\":10},"
		     "{\"name\":\"c\",\"wcet_ms\":9,\"period_ms\":10}]}",
		     2, "t.json: total utilization 2.700 is above the 2 CPUs");
	expect_error("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":6,\"period_ms\":10,\"cpu\":0},"
		     "{\"name\":\"b\",\"wcet_ms\":6,\"period_ms\":10,\"cpu\":0}]}",
		     2, "t.json: utilization 1.200 of the tasks pinned to CPU 0 is above 1");
	expect_error("{\"tasks\":[{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123\","
		     "\"wcet_ms\":1,\"period_ms\":2}]}",
		     0, "t.json: task 0 '01234567890123456789...': name longer than 63 bytes");
	/* rt-app */
	expect_error("{\"tasks\":{\"a\":{\"run\":10}}}", 0,
		     "t.json: task 0 'a': missing 'timer' (not a periodic task)");
	expect_error("{\"tasks\":{\"a\":{\"timer\":{\"ref\":\"a\",\"period\":10}}}}", 0,
		     "t.json: task 0 'a': missing 'run' or 'runtime'");
	expect_error("{\"tasks\":{\"a\":{\"run\":1,\"sleep\":5,\"timer\":{\"period\":10}}}}", 0,
		     "t.json: task 0 'a': event 'sleep' is not supported (periodic tasks: run or runtime, and timer)");
	expect_error("{\"tasks\":{\"a\":{\"run\":1,\"timer\":{\"ref\":\"a\"}}}}", 0,
		     "t.json: task 0 'a': 'timer' has no 'period'");
	expect_error("{\"tasks\":{\"a\":{\"run\":1,\"timer\":{\"period\":0}}}}", 0,
		     "t.json: task 0 'a': 'period' must be positive (0)");
	expect_error("{\"tasks\":{\"a\":{\"run\":-1,\"timer\":{\"period\":10}}}}", 0,
		     "t.json: task 0 'a': 'run' is negative (-1)");
	expect_error("{\"tasks\":{\"a\":{\"run\":1,\"timer\":{\"period\":10},\"timer1\":{\"period\":10}}}}", 0,
		     "t.json: task 0 'a': more than one timer");
	expect_error("{\"tasks\":{\"a\":{\"phases\":{\"p\":{\"run\":1,\"timer\":{\"period\":10}},"
		     "\"q\":{\"run\":1,\"timer\":{\"period\":10}}}}}}",
		     0, "t.json: task 0 'a': 2 phases, only single-phase periodic tasks are supported");
	expect_error("{\"tasks\":{\"a\":{\"policy\":\"SCHED_FIFO\",\"priority\":0,\"run\":1,"
		     "\"timer\":{\"period\":10}}}}",
		     0, "t.json: task 0 'a': 'priority' is not a real-time priority from 1 to 99");
	expect_error("{\"tasks\":{\"a\":{\"policy\":\"FIFO\",\"run\":1,\"timer\":{\"period\":10}}}}", 0,
		     "t.json: task 0 'a': 'policy' is not one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_IDLE, SCHED_DEADLINE");
	expect_error("{\"tasks\":{\"a\":{\"cpus\":[],\"run\":1,\"timer\":{\"period\":10}}}}", 0,
		     "t.json: task 0 'a': 'cpus' is not an array of CPU numbers");
	expect_error("{\"tasks\":{\"a\":{\"instance\":0,\"run\":1,\"timer\":{\"period\":10}}}}", 0,
		     "t.json: task 0 'a': 'instance' is not a count from 1 to 1024");
	expect_error("{\"tasks\":{\"a\":{\"instance\":1000,\"run\":1,\"timer\":{\"period\":10000}},"
		     "\"b\":{\"instance\":25,\"run\":1,\"timer\":{\"period\":10000}}}}",
		     0, "t.json: more than the 1024 tasks allowed");
	expect_error("{\"global\":[],\"tasks\":{\"a\":{\"run\":1,\"timer\":{\"period\":10}}}}", 0,
		     "t.json: 'global' is not an object");
	expect_error("{\"tasks\":{\"a\":{\"run\":9,\"timer\":{\"period\":10}},"
		     "\"b\":{\"run\":9,\"timer\":{\"period\":10}}}}",
		     1, "t.json: total utilization 1.800 is above the 1 CPU");
}

static void test_too_many(void **state)
{
	size_t cap = 64 * (RTV_TASKSET_MAX + 2), len = 0;
	char *buf = malloc(cap);

	(void)state;
	assert_non_null(buf);
	len += (size_t)snprintf(buf + len, cap - len, "{\"tasks\":[");
	for (int i = 0; i <= RTV_TASKSET_MAX; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"%s{\"name\":\"t%d\",\"wcet_ms\":1,\"period_ms\":10000}",
					i ? "," : "", i);
	len += (size_t)snprintf(buf + len, cap - len, "]}");
	expect_error(buf, 0, "t.json: 1025 tasks, more than the 1024 allowed");
	free(buf);
}

static void test_load(void **state)
{
	char dir[64], path[128], err[256];
	struct rtv_taskset ts;
	FILE *f;

	(void)state;
	assert_int_equal(rtv_test_mkdtemp(dir, sizeof(dir), "taskset"), 0);
	snprintf(path, sizeof(path), "%s/ts.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":10}]}\n", f);
	fclose(f);
	assert_int_equal(rtv_taskset_load(path, 2, &ts, err, sizeof(err)), 0);
	assert_int_equal(ts.n, 1);
	rtv_taskset_release(&ts);
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	assert_int_equal(rtv_taskset_load(path, 2, &ts, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing.json: cannot open: No such file or directory"));
	rtv_test_rmtree(dir);
}

/* A short real run: 2 tasks, no pinning or priority (no journal needed). */
static void test_runner(void **state)
{
	struct rtv_task task[2] = {
		{ .name = "fast", .wcet_ns = 200 * RTV_NS_PER_US, .period_ns = 5 * RTV_NS_PER_MS,
		  .deadline_ns = 5 * RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
		{ .name = "slow", .wcet_ns = 1 * RTV_NS_PER_MS, .period_ns = 20 * RTV_NS_PER_MS,
		  .deadline_ns = 20 * RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
	};
	struct rtv_taskset ts = { .n = 2, .task = task };
	struct rtv_runner_stats *st = calloc(2, sizeof(*st));
	struct rtv_runner_cfg cfg;

	(void)state;
	assert_non_null(st);
	rtv_runner_cfg_init(&cfg);
	cfg.duration_ns = 400 * RTV_NS_PER_MS;
	cfg.warmup_ns = 100 * RTV_NS_PER_MS;
	cfg.work = RTV_RUNNER_WORK_CPU_TIME;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), 0);
	assert_true(st[0].ns_per_loop == 0);
	/* releases at 0, 5, ..., 395 ms: 20 in the warm-up, 60 measured */
	assert_int_equal(st[0].warmup_jobs, 20);
	assert_int_equal(st[0].jobs, 60);
	assert_int_equal(st[1].warmup_jobs, 5);
	assert_int_equal(st[1].jobs, 15);
	assert_int_equal(st[0].response.count, 60);
	assert_int_equal(st[0].norm.count, 60);
	assert_int_equal(st[0].latency.count, 60);
	/* a job ends after at least its work */
	assert_true(st[0].response.min_ns >= 200 * RTV_NS_PER_US);
	assert_true(st[1].response.min_ns >= 1 * RTV_NS_PER_MS);
	assert_true(st[0].work_ns >= 60 * 200 * RTV_NS_PER_US);
	/* normalized = response / period, in millionths */
	assert_true(st[1].norm.min_ns >= 50000);
	assert_true(st[0].tid > 0 && st[1].tid > 0 && st[0].tid != st[1].tid);

	/* the calibrated loop: same job counts, and a calibration was made.
	 * How close its work comes to C depends on the machine's load at the
	 * moment: that is bench/bench_taskset.sh's business, not a unit test's
	 * (a bound here failed once under ASan on the shared machine). */
	cfg.work = RTV_RUNNER_WORK_LOOP;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), 0);
	assert_int_equal(st[0].jobs, 60);
	assert_int_equal(st[1].jobs, 15);
	assert_true(st[0].ns_per_loop > 0);
	assert_true(st[1].response.count == 15 && st[1].work_ns > 0);
	free(st);
}

static int hook_calls;
static int hook(void *arg, int i, pid_t tid)
{
	(void)arg, (void)tid;
	hook_calls++;
	return i == 1 ? -EXDEV : 0;
}

static void test_runner_hook_error(void **state)
{
	struct rtv_task task[2] = {
		{ .name = "a", .wcet_ns = 1000, .period_ns = RTV_NS_PER_MS, .deadline_ns = RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
		{ .name = "b", .wcet_ns = 1000, .period_ns = RTV_NS_PER_MS, .deadline_ns = RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
	};
	struct rtv_taskset ts = { .n = 2, .task = task };
	struct rtv_runner_stats *st = calloc(2, sizeof(*st));
	struct rtv_runner_cfg cfg;

	(void)state;
	rtv_runner_cfg_init(&cfg);
	cfg.duration_ns = 100 * RTV_NS_PER_MS;
	cfg.on_thread = hook;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), -EXDEV);
	assert_int_equal(hook_calls, 2);
	assert_int_equal(st[0].jobs + st[1].jobs, 0);
	cfg.on_thread = NULL;
	ts.n = 0;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), -EINVAL);
	free(st);
}

/* vCPU mode: two tasks in one thread, scheduled inside it. Work is CPU
 * time, so a job's wall-clock span is at least its own work plus the work
 * of every job that ran before or inside it on the same thread. */
static void test_runner_vcpu(void **state)
{
	struct rtv_task task[3] = {
		{ .name = "hi", .wcet_ns = 1 * RTV_NS_PER_MS, .period_ns = 5 * RTV_NS_PER_MS,
		  .deadline_ns = 5 * RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
		{ .name = "lo", .wcet_ns = 6 * RTV_NS_PER_MS, .period_ns = 20 * RTV_NS_PER_MS,
		  .deadline_ns = 20 * RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
		{ .name = "other", .wcet_ns = 1 * RTV_NS_PER_MS, .period_ns = 10 * RTV_NS_PER_MS,
		  .deadline_ns = 10 * RTV_NS_PER_MS, .cpu = -1, .prio = -1 },
	};
	struct rtv_taskset ts = { .n = 3, .task = task };
	struct rtv_runner_stats *st = calloc(3, sizeof(*st));
	int vcpu[3] = { 0, 0, 1 }, rm[3] = { 0, 1, 0 }, inverted[3] = { 1, 0, 0 };
	struct rtv_runner_cfg cfg;

	(void)state;
	assert_non_null(st);
	rtv_runner_cfg_init(&cfg);
	cfg.duration_ns = 400 * RTV_NS_PER_MS;
	cfg.work = RTV_RUNNER_WORK_CPU_TIME;
	cfg.vcpu = vcpu;
	cfg.nvcpus = 2;
	cfg.no_pin = true; /* pinning vCPUs is a journaled host change */
	cfg.vcpu_rank = rm;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), 0);
	assert_int_equal(st[0].jobs, 80);
	assert_int_equal(st[1].jobs, 20);
	assert_int_equal(st[2].jobs, 40);
	/* one thread per vCPU */
	assert_true(st[0].tid > 0 && st[0].tid == st[1].tid && st[2].tid != st[0].tid);
	/* RM: hi first at the critical instant, so lo waits at least hi's 1 ms
	 * each time they release together; lo is preempted by hi's release at 5
	 * and 15 ms into its window, so it ends after 6 + 2 x 1 ms of work */
	assert_true(st[1].latency.min_ns >= 1 * RTV_NS_PER_MS);
	assert_true(st[1].response.min_ns >= 8 * RTV_NS_PER_MS);
	/* preemption: hi never waits for lo's 6 ms (non-preemptive, its job at
	 * 5 ms would wait until 7 ms: a response of 3 ms). The median, so that a
	 * stolen moment of the shared machine does not decide it. */
	assert_true(rtv_hist_percentile(&st[0].response, 50) < 2500 * RTV_NS_PER_US);
	/* RM meets every deadline on a CPU of its own; on this shared machine
	 * (an unpinned SCHED_OTHER thread) a stolen moment may still make one
	 * job late, so the schedule is judged against the inverted one below,
	 * which misses by construction */
	uint64_t rm_misses = st[0].misses + st[1].misses;

	/* inverted fixed priorities: lo runs first, hi waits its 6 ms and,
	 * with D = 5 ms, misses every job released with lo */
	cfg.vcpu_rank = inverted;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), 0);
	assert_true(st[0].latency.max_ns >= 6 * RTV_NS_PER_MS);
	assert_true(st[0].misses >= 20);
	assert_true(rm_misses * 4 < st[0].misses);
	assert_true(st[1].latency.min_ns < st[0].latency.max_ns);

	/* EDF: hi's deadline (5 ms) is the earlier: the same order as RM here */
	cfg.vcpu_rank = NULL;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), 0);
	assert_true(st[1].latency.min_ns >= 1 * RTV_NS_PER_MS);
	assert_true(st[1].response.min_ns >= 7 * RTV_NS_PER_MS);

	/* bad vCPU maps */
	vcpu[2] = 2;
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), -EINVAL);
	vcpu[2] = 0; /* vCPU 1 left empty */
	assert_int_equal(rtv_runner_run(&ts, &cfg, st), -EINVAL);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_format),
		cmocka_unit_test(test_rtapp_format),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_semantic_errors),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_runner),
		cmocka_unit_test(test_runner_hook_error),
		cmocka_unit_test(test_runner_vcpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
