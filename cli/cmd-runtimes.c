/* rtvnet runtimes: hosting environments compared (lib/experiment/runtimes.h):
 * parses, runs, prints. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "experiment/runtimes.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet runtimes [--quick] [--envs LIST] [--repeats N] [--duration S] [options]\n\n"
	"Compares hosting environments for an RT workload on this machine, as Abeni et\n"
	"al. do: the timer latency cyclictest sees inside each (idle and under stress-ng\n"
	"CPU and memory hogs on every CPU), how fast an instance of /bin/true starts and\n"
	"is removed (cross-checked with hyperfine), and the memory the workload and the\n"
	"runtime's lasting processes use. Environments: native, netns (rtvnet's own\n"
	"container), crun, runc, podman (from a root filesystem made of host binaries)\n"
	"and vm (refused where no guest can run usefully). Runs are interleaved and\n"
	"repeated. Writes results/runtimes-<time>.json and CDF pictures beside it.";

static const char *const load_choices[] = { "both", "idle", "loaded", NULL };
static const char *envs_arg, *json_path, *svg_path, *reserve_arg, *load = "both";
static long long repeats = 3, startup = 50, prio = 90, hist = 10000, vm_mb = 64, dma = 0;
static long long threads = 1;
static int64_t duration = 30 * RTV_NS_PER_S, interval = 100 * RTV_NS_PER_US;
static bool quick, no_startup, no_hyperfine;
static const struct rtv_opt opts[] = {
	RTV_OPT_FLAG_DEF("quick", 0, &quick, "smoke test: 1 repeat of 5 s cyclictest runs, 10 startup runs"),
	RTV_OPT_STRING_DEF("envs", 'e', &envs_arg, "LIST", "environments, comma-separated (native, netns, crun, runc, podman, vm); unless given, every one, those that cannot run here reported and left out"),
	RTV_OPT_INT_DEF("repeats", 'r', &repeats, "N", 1, RTV_RT_MAX_REPEATS, "repeats of the interleaved cyclictest runs"),
	RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S, "length of each cyclictest run (Abeni: 30 s)"),
	RTV_OPT_DURATION_DEF("interval", 'i', &interval, "US", RTV_NS_PER_US, "cyclictest's period"),
	RTV_OPT_INT_DEF("prio", 'p', &prio, "PRIO", 1, 99, "cyclictest's SCHED_FIFO priority"),
	RTV_OPT_INT_DEF("threads", 't', &threads, "N", 1, 64, "cyclictest's measuring threads"),
	RTV_OPT_INT_DEF("hist", 0, &hist, "US", 10, 1000000, "cyclictest's histogram range (-h): latencies above it are counted as overflows"),
	RTV_OPT_CHOICE_DEF("load", 'l', &load, "WHICH", load_choices, "runs idle, under load (stress-ng --cpu N --vm N on every CPU), or both"),
	RTV_OPT_INT_DEF("vm-mb", 0, &vm_mb, "MB", 1, 65536, "stress-ng --vm-bytes of each memory hog, MiB"),
	RTV_OPT_STRING_DEF("reserve", 0, &reserve_arg, "R/P", "give the workload's threads a reservation: SCHED_DEADLINE runtime R every period P, in us (e.g. 50/100)"),
	RTV_OPT_INT_DEF("startup", 'n', &startup, "N", 1, 10000, "startup runs of /bin/true per environment"),
	RTV_OPT_FLAG_DEF("no-startup", 0, &no_startup, "skip the startup part"),
	RTV_OPT_FLAG_DEF("no-hyperfine", 0, &no_hyperfine, "skip the hyperfine cross-check of the startup times"),
	RTV_OPT_INT_DEF("cpu-dma-latency", 0, &dma, "US", -1, 100000, "hold /dev/cpu_dma_latency at US for every run (-1: leave)"),
	RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "results file (default: results/runtimes-<time>.json)"),
	RTV_OPT_STRING_DEF("svg", 0, &svg_path, "FILE", "CDF picture of the idle runs (default: beside the JSON file); the loaded and reserved runs' go beside it as -loaded.svg and -reserved.svg"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_runtimes_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

static void progress(void *arg, const char *what)
{
	(void)arg;
	if (rtv_verbosity < 1)
		return;
	if (isatty(2))
		fprintf(stderr, "\r%-78.78s", what);
	else
		fprintf(stderr, "%s\n", what);
}

/* "R/P" in us: 0, or a usage error printed. */
static int parse_reserve(const char *s, struct rtv_reserve *r)
{
	char *end;
	long long rt, per;

	errno = 0;
	rt = strtoll(s, &end, 10);
	if (errno || end == s || *end != '/')
		goto bad;
	s = end + 1;
	per = strtoll(s, &end, 10);
	if (errno || end == s || *end || rt <= 0 || per <= 0 || rt > per || per > 10000000)
		goto bad;
	memset(r, 0, sizeof(*r));
	r->runtime_ns = rt * RTV_NS_PER_US;
	r->deadline_ns = r->period_ns = per * RTV_NS_PER_US;
	return 0;
bad:
	rtv_cli_error("option '--reserve': '%s' is not RUNTIME/PERIOD in microseconds with 0 < "
		      "RUNTIME <= PERIOD <= 10000000 (e.g. 50/100)", reserve_arg);
	return RTV_EXIT_USAGE;
}

/* --envs: each known, none twice, each able to run here. */
static int parse_envs(struct rtv_rt_plan *p)
{
	char buf[256], *save = NULL, why[256];
	struct rtv_envs probe = { 0 };

	snprintf(buf, sizeof(buf), "%s", envs_arg);
	p->nenvs = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct rtv_env *e = rtv_env_find(t);
		int err;

		if (!e) {
			rtv_cli_error("option '--envs': '%s' is not an environment (native, netns, "
				      "crun, runc, podman, vm)", t);
			return RTV_EXIT_USAGE;
		}
		for (int i = 0; i < p->nenvs; i++)
			if (p->env[i] == e) {
				rtv_cli_error("option '--envs': '%s' is given twice", t);
				return RTV_EXIT_USAGE;
			}
		err = e->detect(&probe, why, sizeof(why));
		if (err < 0) {
			rtv_cli_error("option '--envs': '%s' cannot run here: %s", t, why);
			return RTV_EXIT_USAGE;
		}
		if (p->nenvs >= RTV_RT_MAX_ENVS) {
			rtv_cli_error("option '--envs': at most %d environments", RTV_RT_MAX_ENVS);
			return RTV_EXIT_USAGE;
		}
		p->env[p->nenvs++] = e;
	}
	if (!p->nenvs) {
		rtv_cli_error("option '--envs': no environment given");
		return RTV_EXIT_USAGE;
	}
	return 0;
}

static int write_results(struct rtv_rt *x)
{
	int err = 0;
	char json[256], svg[RTV_RT_LOADS][300];
	json_t *root;
	int e[1 + RTV_RT_LOADS] = { 0 };
	FILE *f;

	rtv_cli_results_path(json_path, "runtimes", json, sizeof(json));
	if (svg_path)
		snprintf(svg[0], sizeof(svg[0]), "%s", svg_path);
	else
		rtv_cli_path_beside(json, ".svg", svg[0], sizeof(svg[0]));
	rtv_cli_path_beside(svg[0], "-loaded.svg", svg[1], sizeof(svg[1]));
	rtv_cli_path_beside(svg[0], "-reserved.svg", svg[2], sizeof(svg[2]));
	root = rtv_json_doc(rtv_json_meta_new(rtv_argc, rtv_argv, x->start_realtime_ns,
					      x->end_realtime_ns),
			    rtv_rt_config_json(x), "environments", rtv_rt_json(x), NULL);
	e[0] = rtv_json_write_file(root, json);
	json_decref(root);
	for (int l = 0; l < RTV_RT_LOADS; l++) {
		if (!x->plan.load[l])
			continue;
		f = fopen(svg[l], "we");
		e[l + 1] = f ? rtv_rt_svg(f, x, l) : -errno;
		if (f && fclose(f) && !e[l + 1])
			e[l + 1] = -EIO;
	}
	for (int i = 0; i <= RTV_RT_LOADS; i++)
		if (e[i] < 0) {
			rtv_cli_error("cannot write '%s': %s", i == 0 ? json : svg[i - 1],
				      strerror(-e[i]));
			err = -EIO;
		}
	if (err)
		return err;
	printf("\nresults: %s", json);
	for (int l = 0; l < RTV_RT_LOADS; l++)
		if (x->plan.load[l])
			printf(", %s", svg[l]);
	printf("\n");
	return 0;
}

int cmd_runtimes(int argc, char **argv)
{
	struct rtv_rt_plan p;
	struct rtv_rt x;
	char msg[256];
	int err;
	bool done;

	err = rtv_cli_parse_noargs(opts, usage_str, argc, argv, &done);
	if (err || done)
		return err;
	rtv_rt_plan_init(&p);
	if (envs_arg && (err = parse_envs(&p)))
		return err;
	if (reserve_arg && (err = parse_reserve(reserve_arg, &p.res)))
		return err;
	p.repeats = quick ? 1 : (int)repeats;
	p.cyc.duration_ns = quick ? 5 * RTV_NS_PER_S : duration;
	p.cyc.interval_ns = interval;
	p.cyc.prio = (int)prio;
	p.cyc.threads = (int)threads;
	p.cyc.hist_max_us = (int)hist;
	p.load[0] = strcmp(load, "loaded") != 0;
	p.load[1] = strcmp(load, "idle") != 0;
	p.load[2] = reserve_arg != NULL;
	p.load_vm_mb = (int)vm_mb;
	p.startup_runs = no_startup ? 0 : quick ? 10 : (int)startup;
	p.hyperfine = !no_hyperfine;
	p.cpu_dma_latency_us = (int)dma;
	if (p.cyc.duration_ns < RTV_NS_PER_S) {
		rtv_cli_error("option '--duration': must be at least 1 s");
		return RTV_EXIT_USAGE;
	}
	if (p.cyc.interval_ns < 10 * RTV_NS_PER_US || p.cyc.interval_ns > RTV_NS_PER_S) {
		rtv_cli_error("option '--interval': must be 10 us to 1 s");
		return RTV_EXIT_USAGE;
	}
	if (p.load[2] && p.res.period_ns < p.cyc.interval_ns / 100) {
		rtv_cli_error("option '--reserve': the period is far shorter than cyclictest's");
		return RTV_EXIT_USAGE;
	}
	if (access("/usr/bin/cyclictest", X_OK) && access("/usr/sbin/cyclictest", X_OK)) {
		rtv_cli_error("cyclictest is not installed (Debian package rt-tests)");
		return RTV_EXIT_USAGE;
	}
	err = rtv_rt_init(&x, &p, msg, sizeof(msg));
	if (err < 0) {
		rtv_cli_error("%s", msg);
		return err == -EINVAL ? RTV_EXIT_USAGE : RTV_EXIT_FAIL;
	}
	if (rtv_cli_catch_signals()) {
		rtv_rt_release(&x);
		return RTV_EXIT_FAIL;
	}
	rtv_cli_info("%d cyclictest run(s) of %.0f s (%d environment(s) x %d condition(s) x %d "
		     "repeat(s)), then %d startup run(s) per environment",
		     x.nlat, (double)p.cyc.duration_ns / 1e9, p.nenvs,
		     p.load[0] + p.load[1] + p.load[2], p.repeats, p.startup_runs);
	err = rtv_rt_run(&x, &rtv_cli_stop, progress, NULL);
	if (isatty(2) && rtv_verbosity >= 1)
		fprintf(stderr, "\r%78s\r", "");
	if (!strcmp(x.cpuidle_driver, "none") && x.dma_latency_held)
		rtv_cli_info("note: this machine has no cpuidle driver: idle CPUs halt whatever "
			     "/dev/cpu_dma_latency says, in every environment alike");
	if (err != -ENOENT && err != -EEXIST) {
		rtv_rt_tables(stdout, &x);
		rtv_rt_findings(stdout, &x);
		if ((!err || err == -EINTR) && write_results(&x) < 0 && !err)
			err = -EIO;
	}
	rtv_rt_release(&x);
	if (err == -EINTR) {
		rtv_cli_error("interrupted: the results so far are above, the host is restored");
		return RTV_EXIT_FAIL;
	}
	if (err < 0) {
		rtv_cli_error("failed: %s; the host is restored", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}
