/* The taskset probe: a periodic taskset (lib/taskset/runner.h) as the
 * service, each task a series of jobs, deadline misses, response times,
 * normalized response times and release latencies.
 *
 * The runner runs in a thread of this process, so that its task threads are
 * this process's (as rt-app's are rt-app's: `ps -L` shows them), or, in a
 * testbed container, in a child process in the container's cgroup and
 * network namespace. The threads' set-up changes the host (pinning,
 * SCHED_FIFO priorities, SCHED_DEADLINE reservations) and is journaled by
 * this process: a child asks for each thread over a socket pair and waits
 * for the answer (rtv_taskset_rpc_*, below) before the first release. The
 * results are in the shared state, written as the jobs run, so a stopped run
 * keeps what ran. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/probe.h"
#include "reserve/reserve.h"
#include "taskset/runner.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

struct ts_state {
	volatile sig_atomic_t stop;
	int result;               /* rtv_runner_run's */
	int ended;                /* the runner returned (atomic) */
	int sock;                 /* a child's runner: the parent's end of the socket pair, else -1 */
	bool thread;              /* the runner's thread here is running or not joined yet */
	pthread_t tid;
	struct rtv_runner_cfg rc; /* the thread's runner configuration */
	struct rtv_runner_stats st[]; /* per task: the series */
};

/* ---- the set-up requests ---- */

struct setup_req {
	int index;
	pid_t tid;
};

int rtv_taskset_rpc_ask(int sock, int index, pid_t tid)
{
	struct setup_req req = { .index = index, .tid = tid };
	int ret;

	if (send(sock, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
	    recv(sock, &ret, sizeof(ret), 0) != sizeof(ret))
		return -EPIPE;
	return ret;
}

int rtv_taskset_rpc_serve(int sock, int timeout_ms, rtv_taskset_setup_fn setup, void *arg)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct setup_req req;
	ssize_t n;
	int ret, served = 0;

	while (poll(&pfd, 1, served ? 0 : timeout_ms) > 0) {
		n = recv(sock, &req, sizeof(req), MSG_DONTWAIT);
		if (n == 0) /* the child has gone: said at the next call if not now */
			return served ? served : -EPIPE;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? served : -errno;
		if (n != sizeof(req) || req.index < 0 || req.tid <= 0)
			ret = -EPROTO;
		else
			ret = setup(arg, req.index, req.tid);
		if (send(sock, &ret, sizeof(ret), MSG_NOSIGNAL) != sizeof(ret))
			return -EPIPE;
		served++;
	}
	return served;
}

/* ---- the child ---- */

struct kid {
	const struct rtv_taskset_probe_cfg *cfg;
	struct ts_state *st;
	int sock; /* the child's end */
	int64_t duration_ns, warmup_ns;
};

static int ask_parent(void *p, int index, pid_t tid)
{
	const struct kid *k = p;

	return rtv_taskset_rpc_ask(k->sock, index, tid);
}

static int child_main(void *arg)
{
	const struct kid *k = arg;
	struct rtv_runner_cfg rc = k->cfg->runner;

	if (k->cfg->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		rtv_warn("cannot lock memory: %s (page faults may add latency)", strerror(errno));
	/* all set-up is the parent's: it holds the journal */
	rc.cpu = -1;
	rc.no_pin = rc.no_prio = true;
	rc.on_thread = ask_parent;
	rc.on_thread_arg = (void *)k;
	rc.stop = &k->st->stop;
	rc.duration_ns = rtv_ns_add_sat(k->warmup_ns, k->duration_ns); /* warm-up included */
	rc.warmup_ns = k->warmup_ns;
	k->st->result = rtv_runner_run(k->cfg->ts, &rc, k->st->st);
	return k->st->result < 0 && k->st->result != -EINTR ? 1 : 0;
}

/* ---- the parent ---- */

static const char *thread_name(const struct rtv_taskset_probe_cfg *cfg, int i, char *buf,
			       size_t len)
{
	if (cfg->runner.vcpu)
		snprintf(buf, len, "vCPU %d", i);
	else
		snprintf(buf, len, "task '%s'", cfg->ts->task[i].name);
	return buf;
}

/* runner.on_thread in the parent: the thread's reservation */
static int reserve_thread(void *p, int i, pid_t tid)
{
	const struct rtv_taskset_probe_cfg *cfg = p;
	char err[256], who[96];
	int ret;

	if (i >= cfg->nreserve)
		return -EINVAL;
	ret = rtv_reserve_thread(tid, &cfg->reserve[i], err, sizeof(err));
	if (ret < 0)
		rtv_err("cannot reserve %s: %s", thread_name(cfg, i, who, sizeof(who)), err);
	return ret;
}

struct parent_setup {
	const struct rtv_taskset_probe_cfg *cfg;
	struct rtv_runner_cfg rc;
};

static int setup_thread(void *p, int i, pid_t tid)
{
	const struct parent_setup *ps = p;

	return rtv_runner_setup_thread(ps->cfg->ts, &ps->rc, i, tid);
}

/* The runner in a thread of this process: its set-up straight through
 * rtv_runner_setup_thread, with the reservations as its hook. */
static void *thread_main(void *arg)
{
	const struct rtv_pctx *c = arg;
	struct ts_state *st = c->state;
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;

	st->result = rtv_runner_run(cfg->ts, &st->rc, st->st);
	__atomic_store_n(&st->ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int start_thread(struct rtv_pctx *c)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	struct ts_state *st = c->state;
	int err;

	if (cfg->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		rtv_warn("cannot lock memory: %s (page faults may add latency)", strerror(errno));
	st->rc = cfg->runner;
	st->rc.stop = &st->stop;
	st->rc.duration_ns = rtv_ns_add_sat(c->warmup_ns, c->duration_ns);
	st->rc.warmup_ns = c->warmup_ns;
	if (cfg->reserve) {
		st->rc.on_thread = reserve_thread;
		st->rc.on_thread_arg = (void *)cfg;
	}
	err = -pthread_create(&st->tid, NULL, thread_main, c);
	st->thread = !err;
	return err;
}

static void join_thread(struct ts_state *st)
{
	if (!st->thread)
		return;
	pthread_join(st->tid, NULL);
	st->thread = false;
}

static size_t ts_state_size(const void *cfgp)
{
	const struct rtv_taskset_probe_cfg *cfg = cfgp;

	return sizeof(struct ts_state) + (size_t)cfg->ts->n * sizeof(struct rtv_runner_stats);
}

static int ts_nseries(const void *cfgp)
{
	return ((const struct rtv_taskset_probe_cfg *)cfgp)->ts->n;
}

static const char *ts_series_name(const void *cfgp, int i)
{
	return ((const struct rtv_taskset_probe_cfg *)cfgp)->ts->task[i].name;
}

static int ts_prepare(void *cfgp)
{
	struct rtv_taskset_probe_cfg *cfg = cfgp;

	/* calibrate the work loop now, before a load could slow it */
	if (cfg->runner.work == RTV_RUNNER_WORK_LOOP && cfg->runner.ns_per_loop <= 0)
		cfg->runner.ns_per_loop = rtv_runner_calibrate(100000, 20);
	return 0;
}

static int ts_start(struct rtv_pctx *c)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	const struct rtv_testbed *tb = c->tb;
	const struct rtv_tb_host *h = NULL;
	struct ts_state *st = c->state;
	struct kid k = { .cfg = cfg, .st = st, .duration_ns = c->duration_ns,
			 .warmup_ns = c->warmup_ns };
	int sv[2], err;

	st->sock = -1;
	st->result = -ECHILD;
	if (!cfg->container)
		return start_thread(c);
	h = tb ? rtv_testbed_host(tb, cfg->container) : NULL;
	if (!h)
		return -ENOENT;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	k.sock = sv[1];
	err = rtv_probe_spawn(c, h, RTV_ROLE_RT_SERVER, child_main, &k, &c->client);
	close(sv[1]);
	if (err < 0 && c->client <= 0) {
		close(sv[0]);
		return err;
	}
	st->sock = sv[0];
	return err;
}

static int ts_done(struct rtv_pctx *c)
{
	struct ts_state *st = c->state;
	int status;

	if (!c->cfg || !((const struct rtv_taskset_probe_cfg *)c->cfg)->container) {
		if (!__atomic_load_n(&st->ended, __ATOMIC_ACQUIRE))
			return 0;
		join_thread(st);
		return st->result < 0 && st->result != -EINTR ? st->result : 1;
	}
	if (c->client <= 0)
		return 1;
	if (rtv_probe_wait(c, c->client, &status) != c->client)
		return 0;
	c->client = 0;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 1 : -ECHILD;
}

static int ts_poll(struct rtv_pctx *c, int timeout_ms)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	struct ts_state *st = c->state;
	struct parent_setup ps = { .cfg = cfg, .rc = cfg->runner };
	int n;

	if (st->sock < 0) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	if (cfg->reserve) {
		ps.rc.on_thread = reserve_thread;
		ps.rc.on_thread_arg = (void *)cfg;
	}
	n = rtv_taskset_rpc_serve(st->sock, timeout_ms, setup_thread, &ps);
	if (n == -EPIPE) { /* the child has gone: nothing more to serve */
		close(st->sock);
		st->sock = -1;
	}
	return n;
}

/* Stopped early: let the runner end its jobs and write what ran. */
static void ts_stop(struct rtv_pctx *c)
{
	struct ts_state *st = c->state;
	int64_t deadline = rtv_now_ns() + 2 * RTV_NS_PER_S;

	st->stop = 1;
	join_thread(st);
	while (c->client > 0 && rtv_probe_wait(c, c->client, NULL) == 0 && rtv_now_ns() < deadline)
		usleep(10000);
}

static void ts_finish(struct rtv_pctx *c)
{
	struct ts_state *st = c->state;

	if (st->sock >= 0)
		close(st->sock);
	st->sock = -1;
	if (st->result < 0 && st->result != -EINTR && st->result != -ECHILD)
		c->status = st->result;
}

static void ts_live(const struct rtv_pctx *c, char *buf, size_t len)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	const struct ts_state *st = c->state;
	uint64_t jobs = 0, misses = 0;

	for (int i = 0; i < cfg->ts->n; i++) {
		jobs += __atomic_load_n(&st->st[i].jobs, __ATOMIC_RELAXED);
		misses += __atomic_load_n(&st->st[i].misses, __ATOMIC_RELAXED);
	}
	snprintf(buf, len, "jobs %7llu  misses %5llu", (unsigned long long)jobs,
		 (unsigned long long)misses);
}

/* A task's parameters beside its metrics. */
static void ts_series_json(const struct rtv_pctx *c, int i, json_t *o)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	const struct rtv_task *t = &cfg->ts->task[i];
	const struct ts_state *st = c->state;

	rtv_json_set_str(o, "name", t->name);
	rtv_json_set_num(o, "wcet_ms", (double)t->wcet_ns / 1e6);
	rtv_json_set_num(o, "period_ms", (double)t->period_ns / 1e6);
	rtv_json_set_num(o, "deadline_ms", (double)t->deadline_ns / 1e6);
	rtv_json_set_int(o, "cpu", t->cpu);
	rtv_json_set_int(o, "prio", t->prio);
	rtv_json_set_num(o, "work_mean_us", st->st[i].jobs ?
			 (double)st->st[i].work_ns / (double)st->st[i].jobs / 1e3 : NAN);
	rtv_json_set_num(o, "ns_per_loop", st->st[i].ns_per_loop > 0 ? st->st[i].ns_per_loop : NAN);
	if (cfg->runner.vcpu)
		rtv_json_set_int(o, "vcpu", cfg->runner.vcpu[i]);
}

#define S(f) offsetof(struct rtv_runner_stats, f)
#define STAT(k_, h_, st_, a_, unit_, head_, w_, pos_, prec_, g_) \
	{ .key = k_, .run_key = "", .type = RTV_METRIC_STAT, .from = h_, .stat = st_, .arg = a_, \
	  .per_unit = unit_, .better = RTV_BETTER_LOWER, \
	  .col = { { .table = 1, .pos = pos_, .head = head_, .width = w_, .prec = prec_, \
		     .group = g_ } } }
static const struct rtv_metric ts_metrics[] = {
	{ .key = "response_us", .type = RTV_METRIC_HIST, .off = S(response), .per_unit = 1e3,
	  .label = "response time", .axis = "response time (us)" },
	{ .key = "response_norm", .type = RTV_METRIC_HIST, .off = S(norm),
	  .per_unit = RTV_RUNNER_NORM_SCALE, .plot = true,
	  .label = "normalized response time (response / period)",
	  .axis = "response / period (1 = one period)" },
	{ .key = "release_latency_us", .type = RTV_METRIC_HIST, .off = S(latency), .per_unit = 1e3,
	  .label = "release latency", .axis = "release latency (us)" },
	{ .key = "jobs", .type = RTV_METRIC_U64, .off = S(jobs), .agg = RTV_AGG_SUM,
	  .col = { { .table = 1, .pos = 10, .head = "jobs", .width = 8 } } },
	{ .key = "misses", .type = RTV_METRIC_U64, .off = S(misses), .agg = RTV_AGG_SUM,
	  .better = RTV_BETTER_LOWER,
	  .col = { { .table = 1, .pos = 20, .head = "misses", .width = 6 } } },
	{ .key = "warmup_jobs", .type = RTV_METRIC_U64, .off = S(warmup_jobs), .run_only = true },
	STAT("response_p50_ms", "response_us", RTV_STAT_PCT, 50, 1e6, "p50", 9, 30, 3, "response (ms)"),
	STAT("response_p99_ms", "response_us", RTV_STAT_PCT, 99, 1e6, "p99", 9, 40, 3, "response (ms)"),
	STAT("response_max_ms", "response_us", RTV_STAT_MAX, 0, 1e6, "max", 9, 50, 3, "response (ms)"),
	STAT("norm_p50", "response_norm", RTV_STAT_PCT, 50, RTV_RUNNER_NORM_SCALE, "p50", 6, 60, 3,
	     "norm."),
	STAT("norm_p99", "response_norm", RTV_STAT_PCT, 99, RTV_RUNNER_NORM_SCALE, "p99", 6, 70, 3,
	     "norm."),
	STAT("latency_p50_us", "release_latency_us", RTV_STAT_PCT, 50, 1e3, "p50", 8, 80, 1,
	     "rel.lat (us)"),
	STAT("latency_p99_us", "release_latency_us", RTV_STAT_PCT, 99, 1e3, "p99", 8, 90, 1,
	     "rel.lat (us)"),
};
#undef STAT
#undef S

const struct rtv_probe rtv_probe_taskset = {
	.name = "taskset",
	.summary = "a periodic taskset: per task jobs, misses, response and release latency",
	.role = RTV_PROBE_SERVICE,
	.metrics = ts_metrics,
	.nmetrics = sizeof(ts_metrics) / sizeof(ts_metrics[0]),
	.state_size = ts_state_size,
	.nseries = ts_nseries,
	.series_name = ts_series_name,
	.series_off = offsetof(struct ts_state, st),
	.series_size = sizeof(struct rtv_runner_stats),
	.series_head = "task",
	.prepare = ts_prepare,
	.start = ts_start,
	.done = ts_done,
	.poll = ts_poll,
	.stop = ts_stop,
	.finish = ts_finish,
	.live = ts_live,
	.series_json = ts_series_json,
};
