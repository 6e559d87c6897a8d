/* rtvnet taskset run FILE: run a periodic taskset (lib/taskset/runner.h) and
 * report per task jobs, deadline misses, response times, normalized
 * response times and release latency. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/partition.h"
#include "analysis/prm.h"
#include "builtin.h"
#include "host/journal.h"
#include "probe/stream.h"
#include "report/svg.h"
#include "reserve/reserve.h"
#include "taskset/runner.h"
#include "taskset/taskset.h"
#include "testbed/testbed.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

#define MAX_HOGS 64
#define CDF_POINTS 512

static const char usage_str[] =
	"rtvnet taskset run FILE [--duration S] [--warmup S] [--load] [--net-load] [--cpu N]\n"
	"       [--container HOST] [--vcpus N [--sched rm|dm|edf] [--heuristic NAME] [--period MS]]\n"
	"       [--reserve [--reserve-margin PCT]] [--work loop|cpu-time] [--ns-per-loop NS] [--no-prio]\n"
	"       [--cpu-dma-latency US] [--json FILE] [--svg FILE]\n\n"
	"FILE is an rt-app 1.0 JSON taskset (periodic tasks: run/runtime and timer) or\n"
	"{\"tasks\":[{\"name\",\"wcet_ms\",\"period_ms\",\"deadline_ms\"?,\"cpu\"?}]}; \"-\" reads\n"
	"standard input. Each task is a thread releasing a job every period on an absolute\n"
	"timeline; a job is a loop calibrated at start to take WCET (or, with --work cpu-time,\n"
	"a spin until it used WCET of CPU time). Bare numbers are seconds.";

/* ---- the competing load: one busy process per CPU ---- */

struct hogs {
	pid_t pid[MAX_HOGS];
	int n;
};

static void hogs_stop(struct hogs *h)
{
	for (int i = 0; i < h->n; i++)
		kill(h->pid[i], SIGKILL);
	for (int i = 0; i < h->n; i++)
		waitpid(h->pid[i], NULL, 0);
	h->n = 0;
}

/* A SCHED_OTHER busy loop on each CPU of `cpus` (nice 0, as any tenant's
 * batch job): it takes its fair share from SCHED_OTHER tasks and nothing from
 * SCHED_FIFO ones, so that the protection priorities give is visible. */
static int hogs_start(struct hogs *h, const cpu_set_t *cpus)
{
	pid_t parent = getpid();

	h->n = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE && h->n < MAX_HOGS; cpu++) {
		if (!CPU_ISSET(cpu, cpus))
			continue;
		pid_t pid = fork();

		if (pid < 0) {
			int e = errno;

			hogs_stop(h);
			return -e;
		}
		if (pid == 0) {
			cpu_set_t one;
			struct sched_param sp = { .sched_priority = 0 };

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
			sched_setscheduler(0, SCHED_OTHER, &sp);
			prctl(PR_SET_NAME, "rtv-hog");
			for (;;)
				__asm__ volatile("" ::: "memory");
		}
		h->pid[h->n++] = pid;
		if (rtv_journal_is_open() && rtv_journal_add_proc(pid) < 0)
			rtv_cli_warn("cannot journal load process %d: a crash may leave it running", pid);
	}
	return 0;
}

/* ---- results: one JSON tree, printed as a table and written as --json ---- */

static json_t *hist_json(const struct rtv_hist *h, double scale)
{
	json_t *o = json_object();
	static const struct {
		const char *key;
		double pct;
	} pcts[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 } };
	int err = 0;

	if (!o)
		return NULL;
	err |= rtv_json_set_num(o, "mean", h->count ? rtv_hist_mean_ns(h) / scale : NAN);
	err |= rtv_json_set_num(o, "sd", h->count ? rtv_hist_sd_ns(h) / scale : NAN);
	err |= rtv_json_set_num(o, "min", h->count ? (double)h->min_ns / scale : NAN);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		err |= rtv_json_set_num(o, pcts[i].key,
					h->count ? (double)rtv_hist_percentile(h, pcts[i].pct) / scale : NAN);
	err |= rtv_json_set_num(o, "max", h->count ? (double)h->max_ns / scale : NAN);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *task_json(const struct rtv_task *t, const struct rtv_runner_stats *st)
{
	json_t *o = json_object(), *r, *n, *l;
	int err = 0;

	r = hist_json(&st->response, 1e3);
	n = hist_json(&st->norm, RTV_RUNNER_NORM_SCALE);
	l = hist_json(&st->latency, 1e3);
	if (!o || !r || !n || !l) {
		json_decref(o);
		json_decref(r);
		json_decref(n);
		json_decref(l);
		return NULL;
	}
	err |= rtv_json_set_str(o, "name", t->name);
	err |= rtv_json_set_num(o, "wcet_ms", (double)t->wcet_ns / 1e6);
	err |= rtv_json_set_num(o, "period_ms", (double)t->period_ns / 1e6);
	err |= rtv_json_set_num(o, "deadline_ms", (double)t->deadline_ns / 1e6);
	err |= rtv_json_set_int(o, "cpu", t->cpu);
	err |= rtv_json_set_int(o, "prio", t->prio);
	err |= rtv_json_set_int(o, "jobs", (int64_t)st->jobs);
	err |= rtv_json_set_int(o, "misses", (int64_t)st->misses);
	err |= rtv_json_set_int(o, "warmup_jobs", (int64_t)st->warmup_jobs);
	err |= rtv_json_set_num(o, "work_mean_us",
				st->jobs ? (double)st->work_ns / (double)st->jobs / 1e3 : NAN);
	err |= rtv_json_set_num(o, "ns_per_loop", st->ns_per_loop > 0 ? st->ns_per_loop : NAN);
	err |= json_object_set_new(o, "response_us", r);
	err |= json_object_set_new(o, "response_norm", n);
	err |= json_object_set_new(o, "release_latency_us", l);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static double num(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void print_table(json_t *tasks)
{
	size_t i;
	json_t *t;

	printf("%-16s %8s %6s | %9s %9s %9s | %6s %6s | %8s %8s\n", "", "", "",
	       "response", "(ms)", "", "norm.", "", "rel.lat", "(us)");
	printf("%-16s %8s %6s | %9s %9s %9s | %6s %6s | %8s %8s\n", "task", "jobs", "misses", "p50",
	       "p99", "max", "p50", "p99", "p50", "p99");
	json_array_foreach(tasks, i, t) {
		printf("%-16.16s %8.0f %6.0f | %9.3f %9.3f %9.3f | %6.3f %6.3f | %8.1f %8.1f\n",
		       json_string_value(json_object_get(t, "name")), num(t, "jobs", NULL),
		       num(t, "misses", NULL), num(t, "response_us", "p50") / 1e3,
		       num(t, "response_us", "p99") / 1e3, num(t, "response_us", "max") / 1e3,
		       num(t, "response_norm", "p50"), num(t, "response_norm", "p99"),
		       num(t, "release_latency_us", "p50"), num(t, "release_latency_us", "p99"));
	}
	printf("response: job end - release; norm.: response / period; rel.lat: job start - release\n");
}

/* The CDF of each task's normalized response time. svg.h draws x as µs on a
 * log axis, so x is passed as response/period * 1000 ns: the axis's "1"
 * is one period, "0.1" a tenth of it. */
static int write_svg(const char *path, const struct rtv_taskset *ts,
		     const struct rtv_runner_stats *st)
{
	struct rtv_svg_series *s = calloc((size_t)ts->n, sizeof(*s));
	double *xs = calloc((size_t)ts->n * CDF_POINTS, sizeof(double));
	double *ys = calloc((size_t)ts->n * CDF_POINTS, sizeof(double));
	FILE *f = NULL;
	int err = -ENOMEM;

	if (!s || !xs || !ys)
		goto out;
	for (int i = 0; i < ts->n; i++) {
		double *x = xs + (size_t)i * CDF_POINTS, *y = ys + (size_t)i * CDF_POINTS;
		int n = rtv_hist_cdf(&st[i].norm, x, y, CDF_POINTS);

		for (int k = 0; k < n; k++)
			x[k] = x[k] / RTV_RUNNER_NORM_SCALE * 1e3;
		s[i] = (struct rtv_svg_series){ .name = ts->task[i].name, .x_ns = x, .y = y,
						.n = n > 0 ? n : 0 };
	}
	f = fopen(path, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	/* the deadline line: where normalized responses reach D / T (1 when every
	 * D = T, else the tightest task's) */
	double dl = 1;

	for (int i = 0; i < ts->n; i++)
		if ((double)ts->task[i].deadline_ns / (double)ts->task[i].period_ns < dl)
			dl = (double)ts->task[i].deadline_ns / (double)ts->task[i].period_ns;
	err = rtv_svg_cdf_write_marked(f,
				       "normalized response time (response / period; on the axis 1 = one period)",
				       s, ts->n, dl * 1e3, dl < 1 ? "tightest deadline" : "deadline");
	if (fclose(f) && !err)
		err = -errno;
out:
	free(s);
	free(xs);
	free(ys);
	return err;
}

/* ---- reservations: one SCHED_DEADLINE reservation per runner thread ----
 *
 * Threads mode (IRMOS's reservation per thread): task i's thread gets runtime
 * C x (1 + margin), deadline D, period T; a server that starts with each job
 * needs no compositional analysis. vCPU mode (Abeni): vCPU v's thread gets
 * the interface the analysis computed for it, runtime Q x (1 + margin),
 * deadline = period = P, and its tasks are scheduled inside it. The runtime
 * never exceeds the deadline. */
struct reserve_arg {
	const struct rtv_taskset *ts;
	struct rtv_reserve *r; /* per runner thread */
	int n;
	bool vcpus;
};

static void reserve_fill(struct rtv_reserve *r, int64_t runtime, int64_t deadline, int64_t period,
			 double margin)
{
	memset(r, 0, sizeof(*r));
	r->runtime_ns = llround((double)runtime * (1.0 + margin)); /* to the ns: 6.5 ms + 10% is 7.15 ms */
	r->deadline_ns = deadline;
	r->period_ns = period;
	if (r->runtime_ns > r->deadline_ns)
		r->runtime_ns = r->deadline_ns;
}

static const char *thread_name(const struct reserve_arg *a, int i, char *buf, size_t len)
{
	if (a->vcpus)
		snprintf(buf, len, "vCPU %d", i);
	else
		snprintf(buf, len, "task '%s'", a->ts->task[i].name);
	return buf;
}

static int reserve_thread(void *p, int i, pid_t tid)
{
	const struct reserve_arg *a = p;
	char err[256], who[96];
	int ret = rtv_reserve_thread(tid, &a->r[i], err, sizeof(err));

	if (ret < 0)
		rtv_cli_error("cannot reserve %s: %s", thread_name(a, i, who, sizeof(who)), err);
	return ret;
}

/* The admission test for every reservation together, before the run. */
static int reserve_admit(const struct reserve_arg *a)
{
	struct rtv_reserve_admission adm;
	char err[512], who[96];
	int failed, e;

	e = rtv_reserve_admit_set(RTV_RESERVE_ROOT, a->r, a->n, &adm, &failed, err, sizeof(err));
	if (e == -EBUSY)
		rtv_cli_error("the reservations need %.3f CPUs, above the %.3f this host admits "
			      "(%d CPUs x sched_rt_runtime_us/sched_rt_period_us, less %.3f for the "
			      "fair servers): lower --reserve-margin or the taskset's load",
			      adm.request, adm.limit - adm.fair_server, adm.ncpus, adm.fair_server);
	else if (e < 0 && failed >= 0)
		rtv_cli_error("%s: %s", thread_name(a, failed, who, sizeof(who)), err);
	else if (e < 0)
		rtv_cli_error("%s", err);
	return e;
}

/* ---- vCPU mode: the analysis's partition, compacted to the vCPUs used ---- */

struct vcpus {
	int n;
	int *of;            /* per task: its vCPU */
	int *rank;          /* per task: fixed priority inside its vCPU (NULL: EDF) */
	struct rtv_prm *iface; /* per vCPU */
	enum rtv_alg sched;
	enum rtv_heuristic heuristic;
};

static void vcpus_release(struct vcpus *v)
{
	free(v->of);
	free(v->rank);
	free(v->iface);
	memset(v, 0, sizeof(*v));
}

/* Partition ts over at most max vCPUs as `rtvnet analyze` does. 0, or
 * RTV_EXIT_USAGE / RTV_EXIT_FAIL with the message printed. */
static int vcpus_plan(const struct rtv_taskset *ts, int max, const struct rtv_prm_params *p,
		      enum rtv_heuristic h, struct vcpus *v)
{
	struct rtv_partition part;
	struct rtv_task *sorted = NULL;
	int *index = NULL, *map = NULL, failed = -1, err;

	memset(v, 0, sizeof(*v));
	v->sched = p->sched;
	v->heuristic = h;
	err = rtv_partition_run(ts, max, h, p, &part, &failed);
	if (err == -ENOSPC || err == -ERANGE) {
		rtv_cli_error("option '--vcpus': the taskset does not fit on %d vCPU%s with %s under "
			      "%s (task '%s'); see 'rtvnet analyze'", max, max == 1 ? "" : "s",
			      rtv_heuristic_name(h), rtv_alg_name(p->sched),
			      failed >= 0 ? ts->task[failed].name : "?");
		return RTV_EXIT_USAGE;
	}
	if (err < 0) {
		rtv_cli_error("cannot partition the taskset: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	v->of = calloc((size_t)ts->n, sizeof(int));
	v->iface = calloc((size_t)part.nvcpus, sizeof(*v->iface));
	map = calloc((size_t)part.nvcpus, sizeof(int));
	if (p->sched != RTV_ALG_EDF) {
		v->rank = calloc((size_t)ts->n, sizeof(int));
		sorted = calloc((size_t)ts->n, sizeof(*sorted));
		index = calloc((size_t)ts->n, sizeof(int));
	}
	if (!v->of || !v->iface || !map || (p->sched != RTV_ALG_EDF && (!v->rank || !sorted || !index))) {
		rtv_cli_error("out of memory");
		err = RTV_EXIT_FAIL;
		goto out;
	}
	for (int k = 0; k < part.nvcpus; k++)
		map[k] = -1;
	for (int i = 0; i < ts->n; i++) { /* vCPUs numbered in order of use, none empty */
		int k = part.vcpu[i];

		if (map[k] < 0) {
			map[k] = v->n;
			v->iface[v->n++] = part.iface[k];
		}
		v->of[i] = map[k];
	}
	if (v->rank) {
		rtv_prm_order(ts->task, ts->n, p->sched, sorted, index);
		for (int k = 0; k < ts->n; k++)
			v->rank[index[k]] = k;
	}
	err = 0;
out:
	rtv_partition_release(&part);
	free(map);
	free(sorted);
	free(index);
	if (err)
		vcpus_release(v);
	return err;
}

/* ---- a testbed container: the runner in a child inside it ----
 *
 * The child (in the container's cgroup and network namespace) runs the
 * runner; the journal stays in this process, so the child asks this one,
 * over a socket pair, to set up each of its threads (pinning, priority,
 * reservation: rtv_runner_setup_thread) and waits for the answer. */
struct setup_req {
	int index;
	pid_t tid;
};

struct child_arg {
	const struct rtv_taskset *ts;
	struct rtv_runner_cfg cfg; /* the child's: set-up left to the hook */
	struct rtv_runner_stats *st;
	int *result;               /* shared: rtv_runner_run's return */
	int sock;
	bool lock_memory;
};

static int ask_parent(void *p, int index, pid_t tid)
{
	const struct child_arg *a = p;
	struct setup_req req = { .index = index, .tid = tid };
	int ret;

	if (send(a->sock, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
	    recv(a->sock, &ret, sizeof(ret), 0) != sizeof(ret))
		return -EPIPE;
	return ret;
}

static int child_main(void *p)
{
	struct child_arg *a = p;

	if (a->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		rtv_cli_warn("cannot lock memory: %s (page faults may add latency)", strerror(errno));
	*a->result = rtv_runner_run(a->ts, &a->cfg, a->st);
	return *a->result < 0 && *a->result != -EINTR ? 1 : 0;
}

/* Serve the child's set-up requests until it exits; forward a stop. */
static int serve_child(pid_t pid, int sock, const struct rtv_taskset *ts,
		       const struct rtv_runner_cfg *cfg)
{
	bool forwarded = false;
	int status = 0;

	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		struct setup_req req;
		ssize_t n;
		int ret, r;

		if (rtv_cli_stop && !forwarded) {
			kill(pid, SIGTERM);
			forwarded = true;
		}
		r = poll(&pfd, 1, 100);
		if (r <= 0)
			continue; /* a timeout to check the stop, or EINTR */
		n = recv(sock, &req, sizeof(req), 0);
		if (n <= 0)
			break; /* the child exited */
		if (n != sizeof(req) || req.index < 0 || req.tid <= 0)
			ret = -EPROTO;
		else
			ret = rtv_runner_setup_thread(ts, cfg, req.index, req.tid);
		if (send(sock, &ret, sizeof(ret), MSG_NOSIGNAL) != sizeof(ret))
			break;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* A testbed host's name: rtc, rts, or sNc / sNs for stream pair N (1-8);
 * returns how many stream pairs the testbed needs for it, or -1. */
static int tb_host_streams(const char *name)
{
	if (!strcmp(name, "rtc") || !strcmp(name, "rts"))
		return 0;
	if (strlen(name) == 3 && name[0] == 's' && name[1] >= '1' &&
	    name[1] <= '0' + RTV_TESTBED_MAX_STREAMS && (name[2] == 'c' || name[2] == 's'))
		return name[1] - '0';
	return -1;
}

static const struct rtv_tb_host *tb_host(const struct rtv_testbed *tb, const char *name)
{
	int k = tb_host_streams(name);

	if (k < 0 || k > tb->nstreams)
		return NULL;
	if (k == 0)
		return name[2] == 'c' ? &tb->rt_client : &tb->rt_server;
	return name[2] == 'c' ? &tb->stream_client[k - 1] : &tb->stream_server[k - 1];
}

/* The testbed: the one that is up, or one brought up for this run (its
 * entries are after the caller's mark, so undone with the run). */
static int testbed_get(struct rtv_testbed *tb, int need_streams)
{
	struct rtv_cgroups cg;
	int n = 0, err;

	err = rtv_cgroup_detect(RTV_CGROUP_ROOT, &cg);
	if (err < 0) {
		rtv_cli_error("no usable cgroup hierarchy under '%s' (cgroup v2, or v1 with cpuset "
			      "and cpuacct, is needed)", RTV_CGROUP_ROOT);
		return err;
	}
	if (rtv_testbed_exists(&n)) {
		rtv_testbed_init(tb, n, &cg);
		if (n < need_streams) {
			rtv_cli_error("the testbed that is up has %d stream pair%s, and this run needs %d "
				      "(bring it down, or up with --streams %d)", n, n == 1 ? "" : "s",
				      need_streams, need_streams);
			return -ENOENT;
		}
		return 0;
	}
	rtv_testbed_init(tb, need_streams, &cg);
	rtv_cli_info("bringing up a testbed for the run (%d stream pair%s)", need_streams,
		     need_streams == 1 ? "" : "s");
	err = rtv_testbed_up(tb);
	if (err < 0)
		rtv_cli_error("cannot bring the testbed up: %s", strerror(-err));
	return err;
}

/* ---- --net-load: a bulk TCP stream across the testbed's stream pair 1 ---- */

struct net_load {
	const struct rtv_testbed *tb;
	volatile sig_atomic_t stop;
	struct rtv_stream_result sink, src;
	pid_t pid[2];
	int n;
};

static int net_sink(void *p)
{
	struct net_load *l = p;
	struct rtv_stream_cfg cfg = { .proto = IPPROTO_TCP, .addr = l->tb->stream_server[0].addr,
				      .port = RTV_STREAM_DEFAULT_PORT };

	return rtv_stream_sink_run(&cfg, &l->stop, NULL, NULL, &l->sink);
}

static int net_source(void *p)
{
	struct net_load *l = p;
	struct rtv_stream_cfg cfg = { .proto = IPPROTO_TCP, .addr = l->tb->stream_client[0].peer,
				      .port = RTV_STREAM_DEFAULT_PORT };

	return rtv_stream_source_run(&cfg, &l->stop, NULL, NULL, &l->src);
}

static void net_load_stop(struct net_load *l)
{
	if (!l)
		return;
	l->stop = 1;
	for (int i = 0; i < l->n; i++) {
		pid_t r;

		do
			r = waitpid(l->pid[i], NULL, 0);
		while (r < 0 && errno == EINTR);
	}
	l->n = 0;
}

static int net_load_start(struct net_load *l)
{
	int err = rtv_testbed_spawn(l->tb, &l->tb->stream_server[0], net_sink, l, &l->pid[0]);

	if (!err)
		l->n = 1;
	if (!err)
		err = rtv_testbed_spawn(l->tb, &l->tb->stream_client[0], net_source, l, &l->pid[1]);
	if (!err)
		l->n = 2;
	if (err < 0) {
		net_load_stop(l);
		return err;
	}
	usleep(300000); /* at full speed before the first release */
	return 0;
}

/* ---- the command ---- */

static json_t *vcpus_json(const struct rtv_taskset *ts, const struct vcpus *v,
			  const struct reserve_arg *ra)
{
	json_t *a = json_array();

	for (int k = 0; a && k < v->n; k++) {
		json_t *o = json_object(), *names = json_array();
		int err = !o || !names;

		for (int i = 0; !err && i < ts->n; i++)
			if (v->of[i] == k)
				err |= json_array_append_new(names, json_string(ts->task[i].name));
		if (!err) {
			err |= json_object_set_new(o, "tasks", names);
			names = NULL;
			err |= rtv_json_set_num(o, "budget_ms", (double)v->iface[k].budget_ns / 1e6);
			err |= rtv_json_set_num(o, "period_ms", (double)v->iface[k].period_ns / 1e6);
			err |= rtv_json_set_num(o, "bandwidth", rtv_prm_bandwidth(&v->iface[k]));
			if (ra && ra->vcpus)
				err |= rtv_json_set_int(o, "reserved_runtime_ns", ra->r[k].runtime_ns);
		}
		json_decref(names);
		if (err || json_array_append_new(a, o)) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static void print_vcpus(const struct rtv_taskset *ts, const struct vcpus *v,
			const struct reserve_arg *ra)
{
	for (int k = 0; k < v->n; k++) {
		printf("vCPU %d: (Q, P) = (%.3f ms, %.3f ms)", k, (double)v->iface[k].budget_ns / 1e6,
		       (double)v->iface[k].period_ns / 1e6);
		if (ra && ra->vcpus)
			printf(", SCHED_DEADLINE runtime %.3f ms", (double)ra->r[k].runtime_ns / 1e6);
		printf(";");
		for (int i = 0; i < ts->n; i++)
			if (v->of[i] == k)
				printf(" %s", ts->task[i].name);
		printf("\n");
	}
}

/* The options, at file scope so that the man page is made from them. */
static int64_t duration_ns = 10 * RTV_NS_PER_S, warmup_ns = 0, period_ns = 0;
static long long dma = 0, nvcpus = 0;
static int cpu = -1;
static bool load = false, no_prio = false, reserve = false, net = false;
static double margin_pct = 10, ns_per_loop = 0;
static const char *const works[] = { "loop", "cpu-time", NULL };
static const char *const scheds[] = { "rm", "dm", "edf", NULL };
static const char *const heuristics[] = { "first-fit", "best-fit", "worst-fit", "least-bw", NULL };
static const char *work = "loop", *sched = "rm", *heuristic = "least-bw";
static const char *json_path = NULL, *svg_path = NULL, *container = NULL;
static const struct rtv_opt opts[] = {
	RTV_OPT_DURATION_DEF("duration", 'd', &duration_ns, "S", RTV_NS_PER_S,
			     "how long tasks release jobs"),
	RTV_OPT_DURATION_DEF("warmup", 0, &warmup_ns, "S", RTV_NS_PER_S,
			     "jobs released this long after the start are not measured",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_FLAG_DEF("load", 'l', &load,
			 "add a SCHED_OTHER CPU hog on each CPU the tasks may use"),
	RTV_OPT_FLAG_DEF("net-load", 0, &net,
			 "add a bulk TCP stream across the testbed's stream pair 1 (brought up if needed)"),
	RTV_OPT_CPU_DEF("cpu", 'c', &cpu, "N", "run every task on CPU N, whatever the taskset says"),
	RTV_OPT_STRING_DEF("container", 0, &container, "HOST",
			   "run inside the testbed container HOST (rts, rtc, s1s, ...: its cgroup "
			   "and network namespace; a testbed is brought up if none is)"),
	RTV_OPT_INT_DEF("vcpus", 'V', &nvcpus, "N", 0, RTV_TASKSET_MAX,
			"partition the tasks over at most N vCPUs as 'rtvnet analyze' does and "
			"run each vCPU as one thread that schedules its tasks (0: a thread per task)"),
	RTV_OPT_CHOICE_DEF("sched", 's', &sched, "SCHED", scheds,
			   "--vcpus: the scheduler inside each vCPU"),
	RTV_OPT_CHOICE_DEF("heuristic", 'H', &heuristic, "NAME", heuristics,
			   "--vcpus: how tasks are placed on vCPUs"),
	RTV_OPT_DURATION_DEF("period", 'p', &period_ns, "MS", RTV_NS_PER_MS,
			     "--vcpus: fix the reservation period (default: searched as analyze does)"),
	RTV_OPT_CHOICE_DEF("work", 'w', &work, "KIND", works,
			   "a job's work: a loop calibrated at start to take WCET (fixed work), "
			   "or spinning until WCET of CPU time was used"),
	RTV_OPT_DOUBLE_DEF("ns-per-loop", 0, &ns_per_loop, "NS", 0, 1000000,
			   "--work loop: the loop's ns per iteration, instead of calibrating at "
			   "start (as rt-app's \"calibration\": N; 0: calibrate)"),
	RTV_OPT_FLAG_DEF("no-prio", 0, &no_prio,
			 "ignore the taskset's priorities: every task SCHED_OTHER"),
	RTV_OPT_FLAG_DEF("reserve", 'r', &reserve,
			 "SCHED_DEADLINE reservations: per task thread (runtime WCET plus the margin, "
			 "deadline, period), or with --vcpus per vCPU (the analysis's (Q, P), Q plus "
			 "the margin); instead of priorities, threads unpinned"),
	RTV_OPT_DOUBLE_DEF("reserve-margin", 0, &margin_pct, "PCT", 0, 100,
			   "--reserve: runtime above the WCET or budget, in %"),
	RTV_OPT_INT_DEF("cpu-dma-latency", 0, &dma, "US", -1, 100000,
			"hold /dev/cpu_dma_latency at US during the run (-1: leave)"),
	RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "write the results as JSON"),
	RTV_OPT_STRING_DEF("svg", 0, &svg_path, "FILE",
			   "write the CDF of normalized response times as SVG"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_taskset_modes[] = {
	{ NULL, usage_str, NULL },
	{ "run", usage_str, opts },
	{ NULL, NULL, NULL },
};

static int taskset_run(int argc, char **argv)
{
	struct reserve_arg rarg = { 0 };
	struct rtv_taskset ts = { 0 };
	struct rtv_runner_cfg cfg;
	struct rtv_runner_stats *st = NULL;
	struct hogs hogs = { .n = 0 };
	struct vcpus vc = { 0 };
	struct rtv_testbed tb;
	struct net_load *nl = NULL;
	const struct rtv_tb_host *host = NULL;
	json_t *root = NULL, *tasks = NULL, *conf = NULL, *meta;
	char err_msg[512];
	size_t mark = 0, st_len = 0;
	int64_t start_rt, end_rt;
	int nargs, err, ret = RTV_EXIT_FAIL, dma_fd = -1, ncpus, *result = NULL;
	bool done, needs_host = false, dma_held = false;

	err = rtv_cli_parse(opts, usage_str, argc, argv, &nargs, &done);
	if (err || done)
		return err;
	if (nargs != 1) {
		rtv_cli_error(nargs ? "unexpected argument '%s'" : "a taskset FILE is needed%s",
			      nargs ? argv[2] : "");
		return RTV_EXIT_USAGE;
	}
	if (warmup_ns >= duration_ns) {
		rtv_cli_error("option '--warmup': not shorter than --duration");
		return RTV_EXIT_USAGE;
	}
	ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (container && tb_host_streams(container) < 0) {
		rtv_cli_error("option '--container': '%s' is not a testbed host name (rtc, rts, or "
			      "sNc, sNs for stream pair N from 1 to %d)", container,
			      RTV_TESTBED_MAX_STREAMS);
		return RTV_EXIT_USAGE;
	}
	/* with --cpu every task shares one CPU, with --vcpus N they share N */
	err = rtv_taskset_load(argv[1], cpu >= 0 ? 1 : nvcpus > 0 ? (int)nvcpus : ncpus, &ts,
			       err_msg, sizeof(err_msg));
	if (err < 0) { /* bad input, unreadable included, is a usage error; not memory */
		rtv_cli_error("%s", err_msg[0] ? err_msg : strerror(-err));
		return err == -ENOMEM ? RTV_EXIT_FAIL : RTV_EXIT_USAGE;
	}
	if (reserve && cpu >= 0) {
		rtv_cli_error("option '--cpu': a SCHED_DEADLINE thread cannot be pinned to one CPU "
			      "(its affinity must span its root domain): leave --cpu out with --reserve");
		ret = RTV_EXIT_USAGE;
		goto out;
	}
	if (cpu >= 0)
		for (int i = 0; i < ts.n; i++)
			ts.task[i].cpu = (int)cpu;
	if (nvcpus > 0) {
		struct rtv_prm_params p;
		enum rtv_heuristic h;

		rtv_prm_params_init(&p);
		rtv_alg_parse(sched, &p.sched);
		rtv_heuristic_parse(heuristic, &h);
		if (period_ns > 0)
			p.period_min_ns = p.period_max_ns = period_ns;
		if (cpu >= 0) /* the taskset's pins are vCPU numbers to the analysis */
			for (int i = 0; i < ts.n; i++)
				ts.task[i].cpu = -1;
		ret = vcpus_plan(&ts, (int)nvcpus, &p, h, &vc);
		if (ret)
			goto out;
		ret = RTV_EXIT_FAIL;
		no_prio = true; /* priorities are the vCPU's business */
	}
	if (reserve) {
		rarg.ts = &ts;
		rarg.vcpus = nvcpus > 0;
		rarg.n = rarg.vcpus ? vc.n : ts.n;
		rarg.r = calloc((size_t)rarg.n, sizeof(*rarg.r));
		if (!rarg.r) {
			rtv_cli_error("out of memory");
			goto out;
		}
		for (int i = 0; i < rarg.n; i++) {
			if (rarg.vcpus)
				reserve_fill(&rarg.r[i], vc.iface[i].budget_ns, vc.iface[i].period_ns,
					     vc.iface[i].period_ns, margin_pct / 100.0);
			else
				reserve_fill(&rarg.r[i], ts.task[i].wcet_ns, ts.task[i].deadline_ns,
					     ts.task[i].period_ns, margin_pct / 100.0);
		}
		for (int i = 0; i < ts.n; i++)
			ts.task[i].cpu = -1; /* a pinned DEADLINE thread gets EPERM */
		no_prio = true;
		needs_host = true;
		if (reserve_admit(&rarg) < 0)
			goto out;
	}

	rtv_runner_cfg_init(&cfg);
	cfg.duration_ns = duration_ns;
	cfg.warmup_ns = warmup_ns;
	cfg.cpu = (int)cpu;
	cfg.no_prio = no_prio;
	cfg.work = strcmp(work, "loop") ? RTV_RUNNER_WORK_CPU_TIME : RTV_RUNNER_WORK_LOOP;
	cfg.stop = &rtv_cli_stop;
	if (nvcpus > 0) {
		cfg.vcpu = vc.of;
		cfg.nvcpus = vc.n;
		cfg.vcpu_rank = vc.rank;
	}
	if (reserve) {
		cfg.no_pin = true;
		cfg.on_thread = reserve_thread;
		cfg.on_thread_arg = &rarg;
	}
	for (int i = 0; i < ts.n; i++)
		if ((ts.task[i].cpu >= 0 && !cfg.no_pin) || (ts.task[i].prio >= 0 && !no_prio))
			needs_host = true;
	if (cpu >= 0 || nvcpus > 0) /* vCPU threads are pinned (or reserved) */
		needs_host = true;
	if (needs_host || load || net || container) {
		if (geteuid() != 0) {
			rtv_cli_error("pinning, priorities, reservations, --load, --net-load and "
				      "--container change the host: run as root (or use a taskset "
				      "without cpu/priority and --no-prio)");
			ret = RTV_EXIT_USAGE;
			goto out;
		}
		if (rtv_cli_host_lock() < 0)
			goto out;
		mark = rtv_journal_mark();
	}
	if (rtv_cli_catch_signals())
		goto out;
	if (container || net) {
		int need = container ? tb_host_streams(container) : 0;

		if (testbed_get(&tb, net && need < 1 ? 1 : need) < 0)
			goto out;
		host = container ? tb_host(&tb, container) : NULL;
	}
	/* shared: a child in a container writes them */
	st_len = (size_t)ts.n * sizeof(*st) + sizeof(int) + sizeof(*nl);
	st = mmap(NULL, st_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		st = NULL;
		rtv_cli_error("cannot allocate results for %d tasks: %s", ts.n, strerror(errno));
		goto out;
	}
	nl = (struct net_load *)(st + ts.n);
	result = (int *)(nl + 1);
	if (!no_prio && needs_host && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		rtv_cli_warn("cannot lock memory: %s (page faults may add latency)", strerror(errno));
	if (dma >= 0) {
		int32_t us = (int32_t)dma;

		dma_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
		dma_held = dma_fd >= 0 && write(dma_fd, &us, sizeof(us)) == sizeof(us);
		if (!dma_held)
			rtv_cli_warn("cannot hold /dev/cpu_dma_latency at %lld us: idle states may add wake-up latency",
				     dma);
	}
	/* calibrate the work loop now, before the load could slow it */
	if (cfg.work == RTV_RUNNER_WORK_LOOP)
		cfg.ns_per_loop = ns_per_loop > 0 ? ns_per_loop : rtv_runner_calibrate(100000, 20);
	if (load) {
		cpu_set_t set;

		CPU_ZERO(&set);
		if (cpu >= 0) {
			CPU_SET((int)cpu, &set);
		} else if (sched_getaffinity(0, sizeof(set), &set) < 0) {
			rtv_cli_error("cannot read this process's CPUs: %s", strerror(errno));
			goto out;
		}
		err = hogs_start(&hogs, &set);
		if (err < 0) {
			rtv_cli_error("cannot start the CPU load: %s", strerror(-err));
			goto out;
		}
	}
	if (net) {
		nl->tb = &tb;
		err = net_load_start(nl);
		if (err < 0) {
			rtv_cli_error("cannot start the network load: %s", strerror(-err));
			goto out;
		}
	}
	if (nvcpus > 0)
		print_vcpus(&ts, &vc, reserve ? &rarg : NULL);
	rtv_cli_info("running %d task%s (utilization %.3f) for %.1f s%s%s%s%s%s", ts.n,
		     ts.n == 1 ? "" : "s", rtv_taskset_utilization(&ts), (double)duration_ns / 1e9,
		     nvcpus > 0 ? " on vCPUs" : "", host ? " in container " : "",
		     host ? host->name : "", load ? " with a CPU hog on each CPU" : "",
		     net ? " with a TCP stream across the testbed" : "");
	start_rt = rtv_realtime_ns();
	if (host) {
		struct child_arg ca = { .ts = &ts, .cfg = cfg, .st = st, .result = result,
					.lock_memory = !no_prio };
		int sv[2];
		pid_t pid;

		ca.cfg.cpu = -1; /* all set-up is the parent's */
		ca.cfg.no_pin = ca.cfg.no_prio = true;
		ca.cfg.on_thread = ask_parent;
		ca.cfg.on_thread_arg = &ca;
		*result = -ECHILD;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			rtv_cli_error("cannot make a socket pair: %s", strerror(errno));
			goto out;
		}
		ca.sock = sv[1];
		err = rtv_testbed_spawn(&tb, host, child_main, &ca, &pid);
		close(sv[1]);
		if (err < 0) {
			close(sv[0]);
			rtv_cli_error("cannot start the runner in container %s: %s", host->name,
				      strerror(-err));
			goto out;
		}
		serve_child(pid, sv[0], &ts, &cfg);
		close(sv[0]);
		err = *result;
	} else {
		err = rtv_runner_run(&ts, &cfg, st);
	}
	end_rt = rtv_realtime_ns();
	hogs_stop(&hogs);
	net_load_stop(nl);
	if (err == -EINTR) {
		rtv_cli_warn("interrupted: results cover the jobs run so far");
	} else if (err < 0) {
		rtv_cli_error("cannot run the taskset: %s%s", strerror(-err),
			      err == -EPERM ? " (no real-time runtime in this cgroup?)" : "");
		goto out;
	}

	root = json_object();
	conf = json_object();
	tasks = json_array();
	meta = rtv_json_meta_new(rtv_argc, rtv_argv, start_rt, end_rt);
	if (!root || !conf || !tasks || !meta) {
		json_decref(meta);
		rtv_cli_error("out of memory");
		goto out;
	}
	json_object_set_new(root, "meta", meta);
	rtv_json_set_str(conf, "taskset", argv[1]);
	rtv_json_set_num(conf, "duration_s", (double)duration_ns / 1e9);
	rtv_json_set_num(conf, "warmup_s", (double)warmup_ns / 1e9);
	json_object_set_new(conf, "load", json_boolean(load));
	if (net)
		rtv_json_set_num(conf, "net_load_gbit_s", rtv_stream_gbit_s(&nl->sink));
	else
		json_object_set_new(conf, "net_load_gbit_s", json_null());
	if (host)
		rtv_json_set_str(conf, "container", host->name);
	else
		json_object_set_new(conf, "container", json_null());
	rtv_json_set_int(conf, "cpu", cpu);
	json_object_set_new(conf, "prio", json_boolean(!no_prio && !reserve));
	json_object_set_new(conf, "reserve", json_boolean(reserve));
	if (reserve)
		rtv_json_set_num(conf, "reserve_margin_pct", margin_pct);
	if (nvcpus > 0) {
		json_t *v = vcpus_json(&ts, &vc, reserve ? &rarg : NULL);

		rtv_json_set_str(conf, "sched", rtv_alg_name(vc.sched));
		rtv_json_set_str(conf, "heuristic", rtv_heuristic_name(vc.heuristic));
		if (!v || json_object_set_new(conf, "vcpus", v)) {
			rtv_cli_error("out of memory");
			goto out;
		}
	}
	if (dma_held)
		rtv_json_set_int(conf, "cpu_dma_latency_us", dma);
	else
		json_object_set_new(conf, "cpu_dma_latency_us", json_null());
	rtv_json_set_str(conf, "work", work);
	if (cfg.work == RTV_RUNNER_WORK_LOOP) {
		rtv_json_set_num(conf, "ns_per_loop", cfg.ns_per_loop);
		json_object_set_new(conf, "ns_per_loop_given", json_boolean(ns_per_loop > 0));
	}
	rtv_json_set_num(conf, "utilization", rtv_taskset_utilization(&ts));
	json_object_set_new(conf, "interrupted", json_boolean(err == -EINTR));
	json_object_set_new(root, "config", conf);
	conf = NULL;
	for (int i = 0; i < ts.n; i++) {
		json_t *t = task_json(&ts.task[i], &st[i]);

		if (t && nvcpus > 0)
			rtv_json_set_int(t, "vcpu", vc.of[i]);
		if (!t || json_array_append_new(tasks, t)) {
			rtv_cli_error("out of memory");
			goto out;
		}
	}
	json_object_set_new(root, "tasks", tasks);
	print_table(tasks);
	if (net)
		printf("network load: %.2f Gbit/s across the testbed\n", rtv_stream_gbit_s(&nl->sink));
	tasks = NULL;
	ret = RTV_EXIT_OK;
	if (json_path && (err = rtv_json_write_file(root, json_path)) < 0) {
		rtv_cli_error("cannot write '%s': %s", json_path, strerror(-err));
		ret = RTV_EXIT_FAIL;
	}
	if (svg_path && (err = write_svg(svg_path, &ts, st)) < 0) {
		rtv_cli_error("cannot write '%s': %s", svg_path, strerror(-err));
		ret = RTV_EXIT_FAIL;
	}
out:
	hogs_stop(&hogs);
	net_load_stop(nl);
	if (rtv_journal_is_open() && rtv_journal_undo_to(mark) < 0) {
		rtv_cli_error("cannot undo every change (see 'rtvnet revert')");
		ret = RTV_EXIT_FAIL;
	}
	if (dma_fd >= 0)
		close(dma_fd);
	json_decref(root);
	json_decref(conf);
	json_decref(tasks);
	if (st)
		munmap(st, st_len);
	free(rarg.r);
	vcpus_release(&vc);
	rtv_taskset_release(&ts);
	return ret;
}

int cmd_taskset(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return taskset_run(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: %s\n", usage_str);
		return RTV_EXIT_OK;
	}
	if (argc < 2)
		rtv_cli_error("a subcommand is needed: run");
	else
		rtv_cli_error("'%s' is not a taskset subcommand (run)", argv[1]);
	return RTV_EXIT_USAGE;
}
