/* rtvnet taskset run FILE: run a periodic taskset (lib/experiment/taskrun.h)
 * and report per task jobs, deadline misses, response times, normalized
 * response times and release latency. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "builtin.h"
#include "experiment/taskrun.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet taskset run FILE [--duration S] [--warmup S] [--load] [--net-load] [--cpu N]\n"
	"       [--container HOST] [--vcpus N [--sched rm|dm|edf] [--heuristic NAME] [--period MS]]\n"
	"       [--reserve [--reserve-margin PCT]] [--work loop|cpu-time] [--ns-per-loop NS] [--no-prio]\n"
	"       [--cpu-dma-latency US] [--json FILE] [--svg FILE]\n\n"
	"FILE is an rt-app 1.0 JSON taskset (periodic tasks: run/runtime and timer) or\n"
	"{\"tasks\":[{\"name\",\"wcet_ms\",\"period_ms\",\"deadline_ms\"?,\"cpu\"?}]}; \"-\" reads\n"
	"standard input. Each task is a thread releasing a job every period on an absolute\n"
	"timeline; a job is a loop calibrated at start to take WCET (or, with --work cpu-time,\n"
	"a spin until it used WCET of CPU time). Bare durations are seconds, a bare --period\n"
	"milliseconds.";

/* The options, at file scope so that the man page is made from them. */
static int64_t duration_ns = 10 * RTV_NS_PER_S, warmup_ns = 0, period_ns = 0;
static long long dma = 0, nvcpus = 0;
static int cpu = -1;
static bool load = false, no_prio = false, reserve = false, net = false;
static double margin_pct = 10, ns_per_loop = 0;
static const char *const works[] = { "loop", "cpu-time", NULL };
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
	RTV_OPT_CHOICE_DEF("sched", 's', &sched, "SCHED", rtv_alg_names,
			   "--vcpus: the scheduler inside each vCPU"),
	RTV_OPT_CHOICE_DEF("heuristic", 'H', &heuristic, "NAME", rtv_heuristic_names,
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
			   "write the CDF of normalized response times as SVG (and their percentile "
			   "plot beside it, as -percentiles.svg)"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_taskset_modes[] = {
	{ NULL, usage_str, NULL },
	{ "run", usage_str, opts },
	{ NULL, NULL, NULL },
};

/* The run's configuration from the options; 0 or RTV_EXIT_USAGE with the
 * option named. */
static int taskrun_cfg(const char *path, struct rtv_taskrun_cfg *cfg)
{
	rtv_taskrun_cfg_init(cfg);
	if (warmup_ns >= duration_ns) {
		rtv_cli_error("option '--warmup': not shorter than --duration");
		return RTV_EXIT_USAGE;
	}
	if (container && rtv_testbed_host_streams(container) < 0) {
		rtv_cli_error("option '--container': '%s' is not a testbed host name (rtc, rts, or "
			      "sNc, sNs for stream pair N from 1 to %d)", container,
			      RTV_TESTBED_MAX_STREAMS);
		return RTV_EXIT_USAGE;
	}
	if (reserve && cpu >= 0) {
		rtv_cli_error("option '--cpu': a SCHED_DEADLINE thread cannot be pinned to one CPU "
			      "(its affinity must span its root domain): leave --cpu out with --reserve");
		return RTV_EXIT_USAGE;
	}
	cfg->path = path;
	cfg->duration_ns = duration_ns;
	cfg->warmup_ns = warmup_ns;
	cfg->cpu = cpu;
	cfg->load = load;
	cfg->net_load = net;
	cfg->container = container;
	cfg->nvcpus = (int)nvcpus;
	rtv_alg_parse(sched, &cfg->sched);
	rtv_heuristic_parse(heuristic, &cfg->heuristic);
	cfg->period_ns = period_ns;
	cfg->reserve = reserve;
	cfg->margin_pct = margin_pct;
	cfg->work = strcmp(work, "loop") ? RTV_RUNNER_WORK_CPU_TIME : RTV_RUNNER_WORK_LOOP;
	cfg->ns_per_loop = ns_per_loop;
	cfg->no_prio = no_prio;
	cfg->cpu_dma_latency_us = (int)dma;
	return 0;
}

static void print_vcpus(const struct rtv_taskrun *t)
{
	for (int k = 0; k < t->nvcpus; k++) {
		printf("vCPU %d: (Q, P) = (%.3f ms, %.3f ms)", k, (double)t->iface[k].budget_ns / 1e6,
		       (double)t->iface[k].period_ns / 1e6);
		if (t->cfg.reserve)
			printf(", SCHED_DEADLINE runtime %.3f ms", (double)t->res[k].runtime_ns / 1e6);
		printf(";");
		for (int i = 0; i < t->ts.n; i++)
			if (t->of[i] == k)
				printf(" %s", t->ts.task[i].name);
		printf("\n");
	}
}

/* The table, the JSON and the pictures; RTV_EXIT_OK or RTV_EXIT_FAIL. */
static int report(struct rtv_taskrun *t)
{
	struct rtv_sum *s = NULL;
	int ns = rtv_exp_summarize(&t->x, &s), ret = RTV_EXIT_OK, err;
	char pct[512];

	if (ns < 0) {
		rtv_cli_error("cannot summarize the run: %s", strerror(-ns));
		return RTV_EXIT_FAIL;
	}
	rtv_exp_table_write(stdout, &t->x, s, ns, 1);
	printf("response: job end - release; norm.: response / period; rel.lat: job start - release\n");
	if (t->cfg.net_load)
		printf("network load: %.2f Gbit/s across the testbed\n", rtv_taskrun_net_gbit_s(t));
	if (json_path) {
		json_t *root = rtv_taskrun_json(t, rtv_json_meta_new(rtv_argc, rtv_argv,
								     t->x.start_realtime_ns,
								     t->x.end_realtime_ns));

		err = rtv_json_write_file(root, json_path);
		json_decref(root);
		if (err < 0) {
			rtv_cli_error("cannot write '%s': %s", json_path, strerror(-err));
			ret = RTV_EXIT_FAIL;
		}
	}
	if (svg_path) {
		double dl = rtv_taskrun_deadline(t);
		const char *label = dl < 1 ? "tightest deadline" : "deadline";

		rtv_cli_path_beside(svg_path, "-percentiles.svg", pct, sizeof(pct));
		if ((err = rtv_exp_svg_write_file(svg_path, &t->x, s, ns, "response_norm",
						  RTV_PICTURE_CDF, dl, label)) < 0 ||
		    (err = rtv_exp_svg_write_file(pct, &t->x, s, ns, "response_norm",
						  RTV_PICTURE_PERCENTILES, dl, label)) < 0) {
			rtv_cli_error("cannot write the pictures '%s', '%s': %s", svg_path, pct,
				      strerror(-err));
			ret = RTV_EXIT_FAIL;
		}
	}
	rtv_exp_sums_free(s, ns);
	return ret;
}

/* Run it: root and the host lock when it changes the host. */
static int run(struct rtv_taskrun *t)
{
	int err;

	if (rtv_taskrun_changes_host(t)) {
		if (geteuid() != 0) {
			rtv_cli_error("pinning, priorities, reservations, --load, --net-load and "
				      "--container change the host: run as root (or use a taskset "
				      "without cpu/priority and --no-prio)");
			return RTV_EXIT_USAGE;
		}
		if (rtv_cli_host_lock() < 0)
			return RTV_EXIT_FAIL;
	}
	if (rtv_cli_catch_signals())
		return RTV_EXIT_FAIL;
	print_vcpus(t);
	rtv_cli_info("running %d task%s (utilization %.3f) for %.1f s%s%s%s%s%s", t->ts.n,
		     t->ts.n == 1 ? "" : "s", rtv_taskset_utilization(&t->ts),
		     (double)t->cfg.duration_ns / 1e9, t->nvcpus ? " on vCPUs" : "",
		     container ? " in container " : "", container ? container : "",
		     load ? " with a CPU hog on each CPU" : "",
		     net ? " with a TCP stream across the testbed" : "");
	err = rtv_exp_run(&t->x, &rtv_cli_stop, NULL, NULL);
	if (err == -EINTR && !rtv_taskrun_measured(t)) {
		rtv_cli_error("interrupted during the warm-up: no job was measured");
		return RTV_EXIT_FAIL;
	}
	if (err == -EINTR) {
		rtv_cli_warn("interrupted: results cover the jobs run so far");
	} else if (err < 0) {
		rtv_cli_error("cannot run the taskset: %s%s", strerror(-err),
			      err == -EPERM ? " (no real-time runtime in this cgroup?)" : "");
		return RTV_EXIT_FAIL;
	}
	return report(t);
}

static int taskset_run(int argc, char **argv)
{
	struct rtv_taskrun_cfg cfg;
	struct rtv_taskrun t;
	char msg[512] = "";
	int nargs, err, ret;
	bool done;

	err = rtv_cli_parse(opts, usage_str, argc, argv, &nargs, &done);
	if (err || done)
		return err;
	if (nargs != 1) {
		rtv_cli_error(nargs ? "unexpected argument '%s'" : "a taskset FILE is needed%s",
			      nargs ? argv[2] : "");
		return RTV_EXIT_USAGE;
	}
	ret = taskrun_cfg(argv[1], &cfg);
	if (ret)
		return ret;
	err = rtv_taskrun_init(&t, &cfg, msg, sizeof(msg));
	if (err == -ENOSPC)
		rtv_cli_error("option '--vcpus': %s", msg);
	else if (err < 0)
		rtv_cli_error("%s", msg[0] ? msg : strerror(-err));
	if (err < 0) {
		rtv_taskrun_release(&t);
		return err == -EINVAL || err == -ENOSPC ? RTV_EXIT_USAGE : RTV_EXIT_FAIL;
	}
	ret = run(&t);
	rtv_taskrun_release(&t);
	return ret;
}

int cmd_taskset(int argc, char **argv)
{
	int ret;

	if (!rtv_cli_mode(cmd_taskset_modes, argc, argv, &ret))
		return ret;
	return taskset_run(argc - 1, argv + 1);
}
