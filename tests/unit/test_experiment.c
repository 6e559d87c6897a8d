/* Unit tests for lib/experiment's engine and results, with a toy probe and
 * a toy method defined here as a new probe file and a new method file would
 * define them (one row each, no other change): the engine runs the plan
 * interleaved, starts the load (CPU hogs) only in loaded arms, reads the
 * toy's constant samples through its metric rows, and the summaries, the
 * checks, the JSON, the text table and the pictures all come from the rows.
 * Needs no root and no testbed: the toy's client runs here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "experiment/engine.h"
#include "experiment/taskrun.h"
#include "probe/taskset.h"
#include "util/time.h"

#define TOY_NS 5000 /* every sample: 5 us */

/* ---- the toy probe ---- */

struct toy_state {
	volatile sig_atomic_t stop;
	struct rtv_hist lat;
	double rate;
	double hogs_seen;
	bool started;
	double early; /* calls of poll or finish before start */
};

/* Whether a process named rtv-hog is running. */
static bool hog_running(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	bool seen = false;

	while (d && (de = readdir(d)) && !seen) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f))
			seen = !strcmp(comm, "rtv-hog\n");
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return seen;
}

static int toy_client(void *arg)
{
	struct rtv_pctx *c = arg;
	struct toy_state *st = c->state;
	int64_t end = rtv_now_ns() + c->warmup_ns + c->duration_ns;

	st->hogs_seen = hog_running();
	for (int i = 0; i < 100; i++)
		rtv_hist_record(&st->lat, TOY_NS);
	while (!st->stop && rtv_now_ns() < end)
		usleep(5000);
	return 0;
}

static int toy_start(struct rtv_pctx *c)
{
	struct toy_state *st = c->state;

	rtv_hist_init(&st->lat);
	st->rate = 42;
	st->started = true;
	return rtv_probe_spawn(c, NULL, RTV_ROLE_RT_CLIENT, toy_client, c, &c->client);
}

static void toy_stop(struct rtv_pctx *c)
{
	((struct toy_state *)c->state)->stop = 1;
}

static int toy_poll(struct rtv_pctx *c, int timeout_ms)
{
	struct toy_state *st = c->state;

	st->early += !st->started;
	usleep((useconds_t)timeout_ms * 1000);
	return 0;
}

static void toy_finish(struct rtv_pctx *c)
{
	struct toy_state *st = c->state;

	st->early += !st->started;
}

#define T(f) offsetof(struct toy_state, f)
static const struct rtv_metric toy_metrics[] = {
	{ .key = "lat", .run_key = "lat_us", .type = RTV_METRIC_HIST, .off = T(lat),
	  .per_unit = 1000, .label = "toy latency", .axis = "latency (us)", .plot = true },
	{ .key = "p99_us", .run_key = "", .type = RTV_METRIC_STAT, .from = "lat",
	  .stat = RTV_STAT_PCT, .arg = 99, .per_unit = 1000, .better = RTV_BETTER_LOWER,
	  .col = { { .table = 1, .pos = 30, .head = "p99", .width = 18, .spread = true } } },
	{ .key = "rate", .off = T(rate), .better = RTV_BETTER_HIGHER,
	  .col = { { .table = 1, .pos = 80, .head = "rate", .width = 6, .prec = 1 } } },
	{ .key = "hogs_seen", .off = T(hogs_seen) },
	{ .key = "early", .off = T(early) },
};
#undef T

static const struct rtv_probe toy_probe = {
	.name = "toy",
	.summary = "constant samples",
	.role = RTV_PROBE_SERVICE,
	.metrics = toy_metrics,
	.nmetrics = sizeof(toy_metrics) / sizeof(toy_metrics[0]),
	.size = sizeof(struct toy_state),
	.start = toy_start,
	.poll = toy_poll,
	.stop = toy_stop,
	.finish = toy_finish,
};

/* ---- the toy method ---- */

static int toy_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
		     struct rtv_method_run *run)
{
	(void)cfg, (void)tb;
	snprintf(run->note, sizeof(run->note), "toy method in force");
	return 0;
}

static const struct rtv_method toy_method = {
	.name = "toy",
	.summary = "notes that it ran",
	.setup = toy_setup,
	.expect = {
		{ "same tail", "p99_us", "idle", RTV_CMP_LE, 1 },
		{ "fast", "rate", NULL, RTV_CMP_GE, 100 },
		{ "absent", "nope_us", NULL, RTV_CMP_GE, 1 },
	},
};

/* ---- the experiment ---- */

static struct rtv_hogs_cfg hogs;

static void plan_of(struct rtv_plan *p, int repeats)
{
	const struct rtv_method *parts[] = { &toy_method };
	struct rtv_combo m;
	char err[128];

	rtv_plan_init(p);
	p->repeats = repeats;
	p->duration_ns = 150 * RTV_NS_PER_MS;
	p->warmup_ns = 50 * RTV_NS_PER_MS;
	p->cpu_dma_latency_us = -1;
	p->service = (struct rtv_plan_probe){ &toy_probe, NULL };
	CPU_ZERO(&hogs.cpus);
	CPU_SET(0, &hogs.cpus);
	p->load[p->nloads++] = (struct rtv_plan_probe){ &rtv_probe_hogs, &hogs };
	assert_int_equal(rtv_plan_add_arm(p, RTV_EXP_IDLE, NULL, false), 0);
	assert_int_equal(rtv_combo_of(parts, 1, &m, err, sizeof(err)), 0);
	assert_int_equal(rtv_plan_add_arm(p, NULL, &m, true), 0);
}

static char *table_of(struct rtv_exp *x, struct rtv_sum *s, int ns, int t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	rtv_exp_table_write(f, x, s, ns, t);
	fclose(f);
	return buf;
}

static void test_run(void **state)
{
	struct rtv_plan p;
	struct rtv_exp x;
	struct rtv_sum *s;
	struct rtv_check c[8];
	char err[256], *text;
	int ns, nc, k;

	(void)state;
	plan_of(&p, 2);
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), 0);
	assert_int_equal(x.nruns, 4);
	assert_int_equal(rtv_exp_run(&x, NULL, NULL, NULL), 0);
	assert_int_equal(x.done, 4);
	assert_false(hog_running()); /* the load ended with each run */

	/* interleaved: idle, toy, idle, toy */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(x.runs[i].arm, i % 2);
		assert_int_equal(x.runs[i].repeat, i / 2 + 1);
		assert_int_equal(x.runs[i].status, 0);
		k = rtv_exp_metric(&x, "p99_us");
		assert_true(rtv_exp_value(&x, &x.runs[i], 0, k) == TOY_NS / 1000.0);
		assert_true(rtv_exp_value(&x, &x.runs[i], 0, rtv_exp_metric(&x, "rate")) == 42);
		/* the hogs ran in the loaded arm only */
		assert_true(rtv_exp_value(&x, &x.runs[i], 0, rtv_exp_metric(&x, "hogs_seen")) == i % 2);
		/* not polled while the load settles, before the service started */
		assert_true(rtv_exp_value(&x, &x.runs[i], 0, rtv_exp_metric(&x, "early")) == 0);
	}
	assert_string_equal(x.runs[1].note, "toy method in force");
	assert_int_equal(rtv_exp_metric(&x, "nope_us"), -1);

	ns = rtv_exp_summarize(&x, &s);
	assert_int_equal(ns, 2);
	k = rtv_exp_metric(&x, "p99_us");
	assert_int_equal(s[1].nruns, 2);
	assert_true(s[1].m[k].mean == 5 && s[1].m[k].min == 5 && s[1].m[k].max == 5);

	/* the toy method's expected effects: a missing metric is left out */
	nc = rtv_exp_checks(&x, s, ns, c, 8);
	assert_int_equal(nc, 2);
	assert_string_equal(c[0].name, "same tail");
	assert_true(c[0].value == 1 && c[0].met);
	assert_string_equal(c[1].name, "fast");
	assert_true(c[1].value == 42 && !c[1].met);

	/* the JSON: runs, summary, checks, best */
	json_t *root = rtv_exp_json(&x, s, ns, c, nc, json_object());
	json_t *r1 = json_array_get(json_object_get(root, "runs"), 1);

	assert_string_equal(json_string_value(json_object_get(r1, "method")), "toy");
	assert_string_equal(json_string_value(json_object_get(r1, "load")), "hogs");
	assert_true(json_number_value(json_object_get(json_object_get(r1, "lat_us"), "p99")) == 5);
	assert_true(json_is_object(json_object_get(r1, "cpu")));
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(root, "runs"), 0), "load")), "none");
	json_t *s1 = json_array_get(json_object_get(root, "summary"), 1);

	assert_true(json_number_value(json_object_get(s1, "p99_us")) == 5);
	assert_true(json_number_value(json_object_get(s1, "p99_us_max")) == 5);
	assert_null(json_object_get(s1, "lat")); /* distributions are not summarised */
	/* the checks in the JSON, a failing one with met false: what a bench gates on */
	json_t *c0 = json_array_get(json_object_get(root, "checks"), 0);
	json_t *c1 = json_array_get(json_object_get(root, "checks"), 1);

	assert_int_equal(json_array_size(json_object_get(root, "checks")), 2);
	assert_true(json_is_true(json_object_get(c0, "met")));
	assert_string_equal(json_string_value(json_object_get(c1, "name")), "fast");
	assert_true(json_number_value(json_object_get(c1, "value")) == 42);
	assert_string_equal(json_string_value(json_object_get(c1, "expected")), ">= 100");
	assert_true(json_is_false(json_object_get(c1, "met")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "best"), "rate")),
			    "toy");
	json_decref(root);

	/* the text table: label columns, the rows' columns, spread over 2 repeats */
	text = table_of(&x, s, ns, 1);
	assert_non_null(strstr(text, "method     load"));
	assert_non_null(strstr(text, "p99   rate"));
	assert_non_null(strstr(text, "\ntoy        hogs            5 (5-5)   42.0"));
	assert_non_null(strstr(text, "\nidle       none            5 (5-5)   42.0"));
	free(text);
	text = table_of(&x, s, ns, 3); /* no column there */
	assert_string_equal(text, "");
	free(text);

	/* the pictures of the plotted distribution, a curve per arm */
	for (int kind = 0; kind < 2; kind++) {
		char *svg = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&svg, &len);

		assert_int_equal(rtv_exp_svg_write(f, &x, s, ns, NULL, kind, 0, NULL), 0);
		fclose(f);
		assert_true(!strncmp(svg, "<svg", 4));
		assert_non_null(strstr(svg, ">toy<"));
		assert_non_null(strstr(svg, ">idle<"));
		assert_non_null(strstr(svg, "toy latency"));
		free(svg);
	}
	rtv_exp_sums_free(s, ns);
	rtv_exp_release(&x);
}

static void test_stop(void **state)
{
	static volatile sig_atomic_t stop = 1;
	struct rtv_plan p;
	struct rtv_exp x;
	char err[256];

	(void)state;
	plan_of(&p, 1);
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), 0);
	assert_int_equal(rtv_exp_run(&x, &stop, NULL, NULL), -EINTR);
	assert_int_equal(x.done, 1);
	assert_int_equal(x.runs[0].status, -EINTR);
	assert_false(hog_running());
	rtv_exp_release(&x);
}

static void test_bad_plans(void **state)
{
	struct rtv_plan p;
	struct rtv_exp x;
	struct rtv_combo m;
	char err[256];

	(void)state;
	plan_of(&p, 1);
	p.service.probe = NULL;
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no service probe"));

	plan_of(&p, 1);
	p.repeats = 65;
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), -EINVAL);

	plan_of(&p, 1); /* a method that acts on the testbed, and none */
	assert_int_equal(rtv_combo_parse("dedicated", &m, err, sizeof(err)), 0);
	assert_int_equal(rtv_plan_add_arm(&p, NULL, &m, true), 0);
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'dedicated' acts on the testbed"));

	plan_of(&p, 1); /* an arm twice */
	assert_int_equal(rtv_plan_add_arm(&p, RTV_EXP_IDLE, NULL, false), 0);
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'idle' is listed twice"));

	plan_of(&p, 1); /* a load that cannot run */
	CPU_ZERO(&hogs.cpus);
	assert_int_equal(rtv_exp_init(&x, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "hogs: no CPU to load"));
}

/* The taskset probe's set-up requests: a child asks, the parent answers. */
static int answer(void *arg, int index, pid_t tid)
{
	int *calls = arg;

	(*calls)++;
	return tid > 0 ? -index : -EINVAL;
}

static void test_rpc(void **state)
{
	int sv[2], calls = 0, served = 0, status;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		/* the answers are the parent's setup()'s returns */
		_exit(rtv_taskset_rpc_ask(sv[1], 3, getpid()) == -3 &&
		      rtv_taskset_rpc_ask(sv[1], 0, getpid()) == 0 ? 0 : 1);
	}
	close(sv[1]);
	for (int i = 0; i < 100 && served < 2; i++) {
		int n = rtv_taskset_rpc_serve(sv[0], 100, answer, &calls);

		assert_true(n >= 0);
		served += n;
	}
	assert_int_equal(served, 2);
	assert_int_equal(calls, 2);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the child has gone: its end is closed */
	assert_int_equal(rtv_taskset_rpc_serve(sv[0], 100, answer, &calls), -EPIPE);
	close(sv[0]);
	/* a closed peer: the asker is told */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	close(sv[0]);
	assert_int_equal(rtv_taskset_rpc_ask(sv[1], 1, getpid()), -EPIPE);
	close(sv[1]);
}

/* The taskset experiment's plan, from a file; nothing runs. */
static void test_taskrun_plan(void **state)
{
	char path[] = "/tmp/rtv-test-taskrun-XXXXXX", err[512] = "";
	struct rtv_taskrun_cfg cfg;
	struct rtv_taskrun t;
	int fd;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("{\"tasks\":[{\"name\":\"a\",\"wcet_ms\":1,\"period_ms\":10}]}", f);
	fclose(f);

	/* a task with no CPU and no priority changes nothing on the host */
	rtv_taskrun_cfg_init(&cfg);
	cfg.path = path;
	cfg.duration_ns = RTV_NS_PER_S;
	assert_int_equal(rtv_taskrun_init(&t, &cfg, err, sizeof(err)), 0);
	assert_false(rtv_taskrun_changes_host(&t));
	assert_false(rtv_taskrun_measured(&t)); /* not run */
	rtv_taskrun_release(&t);

	/* pinned: it does */
	cfg.cpu = 0;
	assert_int_equal(rtv_taskrun_init(&t, &cfg, err, sizeof(err)), 0);
	assert_true(rtv_taskrun_changes_host(&t));
	rtv_taskrun_release(&t);

	/* a SCHED_DEADLINE thread cannot be pinned: refused by the library,
	 * not only by the command line */
	cfg.reserve = true;
	err[0] = '\0';
	assert_int_equal(rtv_taskrun_init(&t, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot be pinned"));
	rtv_taskrun_release(&t);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_bad_plans),
		cmocka_unit_test(test_rpc),
		cmocka_unit_test(test_taskrun_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
