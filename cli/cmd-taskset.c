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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "host/journal.h"
#include "report/svg.h"
#include "reserve/reserve.h"
#include "taskset/runner.h"
#include "taskset/taskset.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

#define MAX_HOGS 64
#define CDF_POINTS 512

static const char usage_str[] =
	"rtvnet taskset run FILE [--duration S] [--warmup S] [--load] [--cpu N]\n"
	"       [--work loop|cpu-time] [--no-prio] [--cpu-dma-latency US] [--json FILE] [--svg FILE]\n\n"
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
	err = rtv_svg_cdf_write(f,
				"normalized response time (response / period; on the axis 1 = one period)",
				s, ts->n);
	if (fclose(f) && !err)
		err = -errno;
out:
	free(s);
	free(xs);
	free(ys);
	return err;
}

/* --reserve: each task's thread gets its own SCHED_DEADLINE reservation,
 * runtime C x (1 + margin), deadline D, period T (IRMOS's reservation per
 * thread; a server that starts with each job needs no compositional
 * analysis). */
struct reserve_arg {
	const struct rtv_taskset *ts;
	double margin;
};

static void task_reserve(const struct reserve_arg *a, int i, struct rtv_reserve *r)
{
	const struct rtv_task *t = &a->ts->task[i];

	memset(r, 0, sizeof(*r));
	r->runtime_ns = (int64_t)ceil((double)t->wcet_ns * (1.0 + a->margin));
	r->deadline_ns = t->deadline_ns;
	r->period_ns = t->period_ns;
	if (r->runtime_ns > r->deadline_ns)
		r->runtime_ns = r->deadline_ns;
}

static int reserve_thread(void *p, int i, pid_t tid)
{
	const struct reserve_arg *a = p;
	struct rtv_reserve r;
	char err[256];
	int ret;

	task_reserve(a, i, &r);
	ret = rtv_reserve_thread(tid, &r, err, sizeof(err));
	if (ret < 0)
		rtv_cli_error("cannot reserve task '%s': %s", a->ts->task[i].name, err);
	return ret;
}

/* The admission test for every task's reservation together, before the run. */
static int reserve_admit(const struct reserve_arg *a)
{
	struct rtv_reserve_admission adm;
	double sum = 0;
	char err[512];

	for (int i = 0; i < a->ts->n; i++) {
		struct rtv_reserve r;

		task_reserve(a, i, &r);
		if (rtv_reserve_admit(RTV_RESERVE_ROOT, &r, 1, &adm, err, sizeof(err)) < 0) {
			rtv_cli_error("task '%s': %s", a->ts->task[i].name, err);
			return -EINVAL;
		}
		sum += (double)r.runtime_ns / (double)r.period_ns;
	}
	if (sum + adm.fair_server > adm.limit) {
		rtv_cli_error("the reservations need %.3f CPUs, above the %.3f this host admits "
			      "(%d CPUs x sched_rt_runtime_us/sched_rt_period_us, less %.3f for the "
			      "fair servers): lower --reserve-margin or the taskset's load",
			      sum, adm.limit - adm.fair_server, adm.ncpus, adm.fair_server);
		return -EBUSY;
	}
	return 0;
}

static int taskset_run(int argc, char **argv)
{
	int64_t duration_ns = 10 * RTV_NS_PER_S, warmup_ns = 0;
	long long cpu = -1, dma = 0;
	bool load = false, no_prio = false, reserve = false;
	double margin_pct = 10;
	struct reserve_arg rarg = { 0 };
	static const char *const works[] = { "loop", "cpu-time", NULL };
	const char *work = "loop";
	const char *json_path = NULL, *svg_path = NULL;
	const struct rtv_opt opts[] = {
		RTV_OPT_DURATION_DEF("duration", 'd', &duration_ns, "S", RTV_NS_PER_S,
				     "how long tasks release jobs"),
		{ .long_name = "warmup", .type = RTV_OPT_DURATION, .value = &warmup_ns,
		  .arg_name = "S", .unit_ns = RTV_NS_PER_S,
		  .help = "jobs released this long after the start are not measured (default: none)" },
		RTV_OPT_FLAG_DEF("load", 'l', &load,
				 "add a SCHED_OTHER CPU hog on each CPU the tasks may use"),
		RTV_OPT_INT_DEF("cpu", 'c', &cpu, "N", -1, CPU_SETSIZE - 1,
				"run every task on CPU N, whatever the taskset says (-1: as it says)"),
		RTV_OPT_CHOICE_DEF("work", 'w', &work, "KIND", works,
				   "a job's work: a loop calibrated at start to take WCET (fixed work), "
				   "or spinning until WCET of CPU time was used"),
		RTV_OPT_FLAG_DEF("no-prio", 0, &no_prio,
				 "ignore the taskset's priorities: every task SCHED_OTHER"),
		RTV_OPT_FLAG_DEF("reserve", 'r', &reserve,
				 "give each task's thread a SCHED_DEADLINE reservation: runtime WCET "
				 "plus the margin, deadline, period (instead of priorities; tasks unpinned)"),
		RTV_OPT_DOUBLE_DEF("reserve-margin", 0, &margin_pct, "PCT", 0, 100,
				   "--reserve: runtime above the WCET, in %"),
		RTV_OPT_INT_DEF("cpu-dma-latency", 0, &dma, "US", -1, 100000,
				"hold /dev/cpu_dma_latency at US during the run (-1: leave)"),
		RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "write the results as JSON"),
		RTV_OPT_STRING_DEF("svg", 0, &svg_path, "FILE",
				   "write the CDF of normalized response times as SVG"),
		RTV_OPT_END_DEF,
	};
	struct rtv_taskset ts = { 0 };
	struct rtv_runner_cfg cfg;
	struct rtv_runner_stats *st = NULL;
	struct hogs hogs = { .n = 0 };
	json_t *root = NULL, *tasks = NULL, *conf = NULL, *meta;
	char err_msg[512];
	size_t mark = 0;
	int64_t start_rt, end_rt;
	int nargs, err, ret = RTV_EXIT_FAIL, dma_fd = -1, ncpus;
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
	if (cpu >= ncpus) {
		rtv_cli_error("option '--cpu': CPU %lld does not exist (%d CPUs)", cpu, ncpus);
		return RTV_EXIT_USAGE;
	}
	/* with --cpu every task shares one CPU: check against that */
	err = rtv_taskset_load(argv[1], cpu >= 0 ? 1 : ncpus, &ts, err_msg, sizeof(err_msg));
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
	if (reserve) {
		for (int i = 0; i < ts.n; i++)
			ts.task[i].cpu = -1; /* a pinned DEADLINE thread gets EPERM */
		no_prio = true;
		needs_host = true;
		rarg.ts = &ts;
		rarg.margin = margin_pct / 100.0;
		if (reserve_admit(&rarg) < 0) {
			ret = RTV_EXIT_FAIL;
			goto out;
		}
	}

	rtv_runner_cfg_init(&cfg);
	cfg.duration_ns = duration_ns;
	cfg.warmup_ns = warmup_ns;
	cfg.cpu = (int)cpu;
	cfg.no_prio = no_prio;
	cfg.work = strcmp(work, "loop") ? RTV_RUNNER_WORK_CPU_TIME : RTV_RUNNER_WORK_LOOP;
	cfg.stop = &rtv_cli_stop;
	if (reserve) {
		cfg.no_pin = true;
		cfg.on_thread = reserve_thread;
		cfg.on_thread_arg = &rarg;
	}
	for (int i = 0; i < ts.n; i++)
		if (ts.task[i].cpu >= 0 || (ts.task[i].prio >= 0 && !no_prio))
			needs_host = true;
	if (needs_host || load) {
		if (geteuid() != 0) {
			rtv_cli_error("pinning, priorities and --load change the host: run as root "
				      "(or use a taskset without cpu/priority and --no-prio)");
			ret = RTV_EXIT_USAGE;
			goto out;
		}
		if (rtv_cli_host_lock() < 0)
			goto out;
		mark = rtv_journal_mark();
	}
	st = mmap(NULL, (size_t)ts.n * sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		st = NULL;
		rtv_cli_error("cannot allocate results for %d tasks: %s", ts.n, strerror(errno));
		goto out;
	}
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
	if (rtv_cli_catch_signals())
		goto out;
	/* calibrate the work loop now, before the load could slow it */
	if (cfg.work == RTV_RUNNER_WORK_LOOP)
		cfg.ns_per_loop = rtv_runner_calibrate(100000, 20);
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
	rtv_cli_info("running %d task%s (utilization %.3f) for %.1f s%s", ts.n, ts.n == 1 ? "" : "s",
		     rtv_taskset_utilization(&ts), (double)duration_ns / 1e9,
		     load ? " with a CPU hog on each CPU" : "");
	start_rt = rtv_realtime_ns();
	err = rtv_runner_run(&ts, &cfg, st);
	end_rt = rtv_realtime_ns();
	hogs_stop(&hogs);
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
	rtv_json_set_int(conf, "cpu", cpu);
	json_object_set_new(conf, "prio", json_boolean(!no_prio && !reserve));
	json_object_set_new(conf, "reserve", json_boolean(reserve));
	if (reserve)
		rtv_json_set_num(conf, "reserve_margin_pct", margin_pct);
	if (dma_held)
		rtv_json_set_int(conf, "cpu_dma_latency_us", dma);
	else
		json_object_set_new(conf, "cpu_dma_latency_us", json_null());
	rtv_json_set_str(conf, "work", work);
	rtv_json_set_num(conf, "utilization", rtv_taskset_utilization(&ts));
	json_object_set_new(conf, "interrupted", json_boolean(err == -EINTR));
	json_object_set_new(root, "config", conf);
	conf = NULL;
	for (int i = 0; i < ts.n; i++) {
		json_t *t = task_json(&ts.task[i], &st[i]);

		if (!t || json_array_append_new(tasks, t)) {
			rtv_cli_error("out of memory");
			goto out;
		}
	}
	json_object_set_new(root, "tasks", tasks);
	print_table(tasks);
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
	if (rtv_journal_is_open() && rtv_journal_undo_to(mark) < 0) {
		rtv_cli_error("cannot undo every scheduling change (see 'rtvnet revert')");
		ret = RTV_EXIT_FAIL;
	}
	if (dma_fd >= 0)
		close(dma_fd);
	json_decref(root);
	json_decref(conf);
	json_decref(tasks);
	if (st)
		munmap(st, (size_t)ts.n * sizeof(*st));
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
