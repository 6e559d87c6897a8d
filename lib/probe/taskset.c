/* The taskset probe (taskset.h): a periodic taskset (lib/taskset/runner.h)
 * as the service, each task a series of jobs, deadline misses, response
 * times, normalized response times and release latencies.
 *
 * The runner runs in a thread of this process, so that its task threads are
 * this process's (as rt-app's are rt-app's: `ps -L` shows them), or, in a
 * testbed container, in a child process in the container's cgroup and
 * network namespace. Either way it asks for each thread's set-up (pinning,
 * SCHED_FIFO priorities, SCHED_DEADLINE reservations: host changes) over a
 * socket pair, and the engine's thread, which holds the journal, does it in
 * the probe's poll. The runner closes its end when it returns, which ends
 * the run at once. The results are in the shared state, written as the jobs
 * run, so a stopped run keeps what ran. */
#include "probe/taskset.h"

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
#include "util/json.h"
#include "util/log.h"
#include "util/stop.h"
#include "util/time.h"

struct ts_state;

/* What the runner needs, in this process's thread or in the child. */
struct runner_side {
	const struct rtv_taskset_probe_cfg *cfg;
	struct ts_state *st;
	int sock;                 /* its end of the socket pair */
	int64_t duration_ns, warmup_ns;
};

struct ts_state {
	volatile sig_atomic_t stop;
	int result;               /* rtv_runner_run's */
	int ended;                /* the runner's thread here returned (atomic) */
	int sock;                 /* the engine's end of the socket pair, -1 once the runner's closed */
	bool thread;              /* the runner's thread here is running or not joined yet */
	pthread_t tid;
	struct runner_side side;
	struct rtv_runner_cfg setup; /* what the engine's side does to each runner thread */
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
		if (n == 0) /* the runner has gone: said at the next call if not now */
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

/* ---- the runner's side ---- */

static int ask(void *p, int index, pid_t tid)
{
	const struct runner_side *r = p;

	return rtv_taskset_rpc_ask(r->sock, index, tid);
}

/* Run the taskset into the state, each thread's set-up asked for; closing
 * its end of the socket pair then tells the engine's side it has ended. */
static int run_runner(const struct runner_side *r)
{
	struct rtv_runner_cfg rc = r->cfg->runner;

	rc.cpu = -1;
	rc.no_pin = rc.no_prio = true;
	rc.on_thread = ask;
	rc.on_thread_arg = (void *)r;
	rc.stop = &r->st->stop;
	rc.duration_ns = rtv_ns_add_sat(r->warmup_ns, r->duration_ns); /* warm-up included */
	rc.warmup_ns = r->warmup_ns;
	r->st->result = rtv_runner_run(r->cfg->ts, &rc, r->st->st);
	close(r->sock);
	return r->st->result < 0 && r->st->result != -EINTR ? 1 : 0;
}

static void lock_memory(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		rtv_warn("cannot lock memory: %s (page faults may add latency)", strerror(errno));
}

/* In a testbed container: a child process of its own. */
static int child_main(void *arg)
{
	const struct runner_side *r = arg;

	if (r->cfg->lock_memory)
		lock_memory();
	return run_runner(r);
}

/* Here: a thread of this process (whose memory ts_prepare locked). */
static void *thread_main(void *arg)
{
	struct ts_state *st = arg;

	run_runner(&st->side);
	__atomic_store_n(&st->ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- the engine's side ---- */

/* A runner thread's reservation: the set-up's on_thread hook. */
static int reserve_thread(void *p, int i, pid_t tid)
{
	const struct rtv_taskset_probe_cfg *cfg = p;
	char err[256];
	int ret;

	if (i >= cfg->nreserve)
		return -EINVAL;
	ret = rtv_reserve_thread(tid, &cfg->reserve[i], err, sizeof(err));
	if (ret < 0 && cfg->runner.vcpu)
		rtv_err("cannot reserve vCPU %d: %s", i, err);
	else if (ret < 0)
		rtv_err("cannot reserve task '%s': %s", cfg->ts->task[i].name, err);
	return ret;
}

/* A set-up request: runner thread i, as the taskset and reservations say. */
static int setup_thread(void *p, int i, pid_t tid)
{
	const struct rtv_pctx *c = p;
	const struct ts_state *st = c->state;

	return rtv_runner_setup_thread(st->side.cfg->ts, &st->setup, i, tid);
}

/* After a stop: no more set-up; the runner ends before its first release. */
static int refuse(void *p, int i, pid_t tid)
{
	(void)p, (void)i, (void)tid;
	return -EINTR;
}

/* Serve set-up requests for up to timeout_ms with fn. */
static int serve(struct ts_state *st, int timeout_ms, rtv_taskset_setup_fn fn, void *arg)
{
	int n;

	if (st->sock < 0) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	n = rtv_taskset_rpc_serve(st->sock, timeout_ms, fn, arg);
	if (n == -EPIPE) { /* the runner has ended: nothing more to serve */
		close(st->sock);
		st->sock = -1;
	}
	return n;
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

	if (cfg->lock_memory && !cfg->container)
		lock_memory(); /* the runner's threads will be this process's */
	/* calibrate the work loop now, before a load could slow it */
	if (cfg->runner.work == RTV_RUNNER_WORK_LOOP && cfg->runner.ns_per_loop <= 0)
		cfg->runner.ns_per_loop = rtv_runner_calibrate(100000, 20);
	return 0;
}

static int ts_start(struct rtv_pctx *c)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	const struct rtv_tb_host *h = NULL;
	struct ts_state *st = c->state;
	int sv[2], err;

	st->sock = -1;
	st->result = -ECHILD;
	st->setup = cfg->runner;
	if (cfg->reserve) {
		st->setup.on_thread = reserve_thread;
		st->setup.on_thread_arg = (void *)cfg;
	}
	if (cfg->container && !(h = c->tb ? rtv_testbed_host(c->tb, cfg->container) : NULL))
		return -ENOENT;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	st->sock = sv[0];
	st->side = (struct runner_side){ .cfg = cfg, .st = st, .sock = sv[1],
					 .duration_ns = c->duration_ns, .warmup_ns = c->warmup_ns };
	if (!cfg->container) {
		err = -pthread_create(&st->tid, NULL, thread_main, st);
		st->thread = !err;
		if (err)
			close(sv[1]);
		return err;
	}
	err = rtv_probe_spawn(c, h, RTV_ROLE_RT_SERVER, child_main, &st->side, &c->client);
	close(sv[1]);
	return err;
}

static void join_thread(struct ts_state *st)
{
	if (st->thread)
		pthread_join(st->tid, NULL);
	st->thread = false;
}

static int ts_done(struct rtv_pctx *c)
{
	const struct rtv_taskset_probe_cfg *cfg = c->cfg;
	struct ts_state *st = c->state;
	int status;

	if (!cfg->container) {
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
	return serve(c->state, timeout_ms, setup_thread, c);
}

/* Stopped early: the runner ends its jobs and keeps what ran; set-up asked
 * for meanwhile is refused, so that it does not wait for an answer. */
static void ts_stop(struct rtv_pctx *c)
{
	struct ts_state *st = c->state;
	int64_t deadline = rtv_now_ns() + 2 * RTV_NS_PER_S;

	rtv_stop_set(&st->stop);
	while (rtv_now_ns() < deadline &&
	       (st->thread ? !__atomic_load_n(&st->ended, __ATOMIC_ACQUIRE) :
			     c->client > 0 && rtv_probe_wait(c, c->client, NULL) == 0))
		serve(st, 10, refuse, NULL);
	join_thread(st);
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
	.series_json = ts_series_json,
};
