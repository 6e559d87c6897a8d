/* rtvnet compare: the main job. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "experiment/compare.h"
#include "host/cpufreq.h"
#include "report/svg.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/time.h"

static const char usage_str[] =
	"rtvnet compare [--quick] [--methods LIST] [--repeats N] [--duration S] [options]\n\n"
	"Brings up the testbed, then measures the RT UDP service's round trips with no\n"
	"load (idle) and under co-located bulk streams with each method, interleaved and\n"
	"repeated, and prints them side by side in the shape of the outsourcing paper's\n"
	"Table 2. Writes results/compare-<time>.json and .svg (RTT CDF per method).";

static void progress(void *arg, const struct rtv_compare *c, int index, double elapsed_s,
		     const struct rtv_netrt_result *live)
{
	const struct rtv_compare_run *r = &c->runs[index];
	double total = (double)(c->cfg.warmup_ns + c->cfg.duration_ns) / 1e9;

	(void)arg;
	if (rtv_verbosity < 1 || !isatty(2))
		return;
	fprintf(stderr, "\r[run %2d/%d] %-10s repeat %d  %5.1f/%.0f s  sent %6llu  lost %4llu ",
		index + 1, c->nruns, r->method, r->repeat, elapsed_s, total,
		(unsigned long long)__atomic_load_n(&live->sent, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&live->lost, __ATOMIC_RELAXED));
}

static int parse_methods(const char *list, struct rtv_compare_cfg *cfg)
{
	char buf[256], *save = NULL, *tok, known[256] = "";
	size_t off = 0;

	for (int i = 0; rtv_methods[i]; i++)
		off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "",
					rtv_methods[i]->name);
	snprintf(buf, sizeof(buf), "%s", list);
	cfg->nmethods = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct rtv_method *m = rtv_method_find(tok);

		if (!m) {
			rtv_cli_error("option '--methods': unknown method '%s' (known: %s)", tok, known);
			return -EINVAL;
		}
		for (int i = 0; i < cfg->nmethods; i++)
			if (cfg->methods[i] == m) {
				rtv_cli_error("option '--methods': '%s' is listed twice", tok);
				return -EINVAL;
			}
		if (cfg->nmethods == RTV_COMPARE_MAX_METHODS)
			return -E2BIG;
		cfg->methods[cfg->nmethods++] = m;
	}
	if (!cfg->nmethods) {
		rtv_cli_error("option '--methods': no method given (known: %s)", known);
		return -EINVAL;
	}
	return 0;
}

static void cell(char *buf, size_t len, const struct rtv_summary *s, bool spread)
{
	if (!s->n || isnan(s->mean))
		snprintf(buf, len, "-");
	else if (spread && s->n > 1)
		snprintf(buf, len, "%.0f (%.0f-%.0f)", s->mean, s->min, s->max);
	else
		snprintf(buf, len, "%.0f", s->mean);
}

static const struct rtv_compare_summary *find(const struct rtv_compare_summary *s, int n,
					      const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s[i].method, name) && s[i].nruns)
			return &s[i];
	return NULL;
}

static void print_table(const struct rtv_compare *c, const struct rtv_compare_summary *s, int n)
{
	char a[6][48];

	printf("\nNetRT round-trip time in us (mean over %d repeat%s, (min-max) across repeats)\n",
	       c->cfg.repeats, c->cfg.repeats == 1 ? "" : "s");
	printf("%-10s %-6s %8s %18s %18s %18s %8s %8s %7s %10s %12s %9s\n", "method", "load", "mean",
	       "p50", "p99", "p99.9", "max", "sd", ">1ms %", "Gbit/s", "CPU % (sirq)", "foreign");
	for (int i = 0; i < n; i++) {
		const struct rtv_compare_summary *x = &s[i];
		char gb[32], cpu[32];

		cell(a[0], sizeof(a[0]), &x->mean_us, false);
		cell(a[1], sizeof(a[1]), &x->p50_us, true);
		cell(a[2], sizeof(a[2]), &x->p99_us, true);
		cell(a[3], sizeof(a[3]), &x->p999_us, true);
		cell(a[4], sizeof(a[4]), &x->max_us, false);
		cell(a[5], sizeof(a[5]), &x->sd_us, false);
		if (x->gbit_s.n && !isnan(x->gbit_s.mean))
			snprintf(gb, sizeof(gb), "%.2f", x->gbit_s.mean);
		else
			snprintf(gb, sizeof(gb), "-");
		snprintf(cpu, sizeof(cpu), "%.0f (%.0f)", x->cpu_pct.mean, x->softirq_pct.mean);
		printf("%-10s %-6s %8s %18s %18s %18s %8s %8s %7.2f %10s %12s %8.0f%%%s\n", x->method,
		       strcmp(x->method, RTV_COMPARE_IDLE) ? rtv_load_name(c->cfg.load) : "none", a[0],
		       a[1], a[2], a[3], a[4], a[5], x->over_1ms_pct.mean, gb, cpu, x->foreign_pct.mean,
		       x->disturbed ? " *" : "");
	}
	printf("CPU %% is of all %d CPUs (softirq share in brackets); foreign is CPU used by other "
	       "processes, in %% of one CPU; * marks methods with runs that other load disturbed\n",
	       c->runs[0].cpu.ncpus);
	for (int m = 1; m <= c->cfg.nmethods && m < c->done; m++)
		if (c->runs[m].note[0])
			printf("  %s: %s\n", c->runs[m].method, c->runs[m].note);

	printf("\nCost (mean over repeats): pollers and RT NAPI kthreads in %% of one CPU, under "
	       "load and with no traffic; energy per run%s\n",
	       c->rapl ? " (RAPL)" : " (ESTIMATE: no RAPL here, busy CPU-seconds x W per CPU)");
	printf("RT NET_RX/s: NET_RX softirqs on the RT CPUs; NAPI path %%: RT requests that came "
	       "through a NAPI (SO_INCOMING_NAPI_ID), not the backlog\n");
	if (c->tracefs)
		printf("RT polls: napi_poll with work on the RT devices, %% made in softirq / by a "
		       "poller thread / by a NAPI kthread\n");
	printf("%-10s %8s %14s %14s %12s %14s %10s %11s %16s\n", "method", "CPU %", "poller load %",
	       "poller idle %", c->rapl ? "energy J" : "energy est J", "RT NET_RX/s", "wakeups/s",
	       "NAPI path %", c->tracefs ? "RT polls s/p/k %" : "");
	for (int i = 0; i < n; i++) {
		const struct rtv_compare_summary *x = &s[i];

		if (!x->nruns)
			continue;
		char polls[48] = "";

		if (c->tracefs && !isnan(x->polls_softirq_pct.mean))
			snprintf(polls, sizeof(polls), "%.0f/%.0f/%.0f", x->polls_softirq_pct.mean,
				 x->polls_poller_pct.mean, x->polls_kthread_pct.mean);
		else if (c->tracefs)
			snprintf(polls, sizeof(polls), "-");
		printf("%-10s %8.1f %14.1f %14.1f %12.1f %14.0f %10.1f %11.0f %16s\n", x->method,
		       x->cpu_pct.mean, x->poller_load_cpu_pct.mean, x->poller_idle_cpu_pct.mean,
		       x->energy_j.mean, x->rt_net_rx_per_s.mean, x->wakeups_per_s.mean,
		       x->napi_path_pct.mean, polls);
	}
}

static void print_sanity(const struct rtv_compare_summary *s, int n)
{
	const struct rtv_compare_summary *idle = find(s, n, RTV_COMPARE_IDLE),
					 *van = find(s, n, "vanilla"), *ded = find(s, n, "dedicated");

	if (!idle || idle->p99_us.mean <= 0)
		return;
	printf("\n");
	if (van) {
		double r = van->p99_us.mean / idle->p99_us.mean;

		printf("phenomenon: vanilla p99 under load is %.1fx idle p99 (expected >= 5x): %s\n", r,
		       r >= 5 ? "visible" : "NOT visible");
	}
	if (ded) {
		double r = ded->p99_us.mean / idle->p99_us.mean;
		double t = van && van->gbit_s.mean > 0 ? ded->gbit_s.mean / van->gbit_s.mean : NAN;

		printf("cure: dedicated p99 under load is %.2fx idle p99 (expected <= 1.5x)", r);
		if (!isnan(t))
			printf(", stream at %.0f%% of vanilla's (expected >= 90%%)", 100 * t);
		printf(": %s\n", r <= 1.5 && (isnan(t) || t >= 0.9) ? "visible" : "NOT visible");
	}
	const struct rtv_compare_summary *bp = find(s, n, "busypoll"), *hy = find(s, n, "hybrid");

	if (bp)
		printf("busypoll: poller %.0f%% of a core under load, %.0f%% idle (expected ~100%%); "
		       "NET_RX on the RT CPU %.0f/s\n", bp->poller_load_cpu_pct.mean,
		       bp->poller_idle_cpu_pct.mean, bp->rt_net_rx_per_s.mean);
	if (hy) {
		printf("hybrid: poller %.1f%% of a core with no traffic (expected <= 2%%)",
		       hy->poller_idle_cpu_pct.mean);
		if (bp && bp->p99_us.mean > 0) {
			double r = hy->p99_us.mean / bp->p99_us.mean;

			printf(", p99 %.2fx busypoll's (expected <= 1.3x)", r);
			printf(": %s\n", r <= 1.3 && hy->poller_idle_cpu_pct.mean <= 2 ? "met" : "NOT met");
		} else {
			printf(": %s\n", hy->poller_idle_cpu_pct.mean <= 2 ? "met" : "NOT met");
		}
	}
	for (int i = 0; i < n; i++) {
		const struct rtv_compare_summary *x = &s[i], *pr = find(s, n, "prio");

		if (!strcmp(x->method, RTV_COMPARE_IDLE) || !strcmp(x->method, "vanilla") ||
		    !strcmp(x->method, "prio") || !strcmp(x->method, "dedicated") || !pr || !ded)
			continue;
		printf("%s: p99 %.0f us vs prio %.0f, dedicated %.0f: %s\n", x->method, x->p99_us.mean,
		       pr->p99_us.mean, ded->p99_us.mean,
		       x->p99_us.mean < ded->p99_us.mean ? "beats both" :
		       x->p99_us.mean < pr->p99_us.mean ? "beats prio, not dedicated" : "beats neither");
	}
}

static int write_svg(const char *path, const struct rtv_compare_summary *s, int n)
{
	static double xs[RTV_COMPARE_MAX_METHODS + 1][512], ys[RTV_COMPARE_MAX_METHODS + 1][512];
	struct rtv_svg_series series[RTV_COMPARE_MAX_METHODS + 1];
	FILE *f = fopen(path, "w");
	int err, k = 0;

	if (!f)
		return -errno;
	for (int i = 0; i < n && i <= RTV_COMPARE_MAX_METHODS; i++) {
		if (!s[i].nruns)
			continue;
		series[k].name = s[i].method;
		series[k].x_ns = xs[k];
		series[k].y = ys[k];
		series[k].n = rtv_hist_cdf(&s[i].rtt, xs[k], ys[k], 512);
		k++;
	}
	err = rtv_svg_cdf_write(f, "NetRT round-trip time CDF under co-located streams", series, k);
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* The options, at file scope so that the man page is made from them. */
static const char *const loads[] = { "builtin", "iperf3", NULL };
static const char *const dists[] = { "uniform", "exp", "const", NULL };
static const char *methods = "vanilla,prio,dedicated,separate,busypoll,hybrid", *json_path = NULL, *svg_path = NULL;
static const char *load = "builtin", *dist = "uniform";
static long long repeats = 3, streams = 1, size = 64, rt_prio = 80, dma = 0, seed = 1;
static int64_t duration = 20 * RTV_NS_PER_S, warmup = RTV_NS_PER_S;
static int64_t interval[2] = { RTV_NS_PER_MS, 10 * RTV_NS_PER_MS };
static double foreign = 10, watts = 5;
static int64_t idle_phase = 2 * RTV_NS_PER_S, hybrid_idle = 10 * RTV_NS_PER_MS;
static bool quick = false, apart = false;
static cpu_set_t rt_cpus; /* default set in cmd_compare: the last CPU */
static const struct rtv_opt opts[] = {
	RTV_OPT_FLAG_DEF("quick", 0, &quick, "smoke test: 1 repeat of 5 s runs, 1 s idle phase (about 60 s)"),
	RTV_OPT_STRING_DEF("methods", 'm', &methods, "LIST", "methods to compare, comma-separated"),
	RTV_OPT_INT_DEF("repeats", 'r', &repeats, "N", 1, RTV_COMPARE_MAX_REPEATS, "repeats of the interleaved sequence"),
	RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S, "measured length of each run"),
	RTV_OPT_DURATION_DEF("warmup", 0, &warmup, "S", RTV_NS_PER_S, "discarded start of each run"),
	RTV_OPT_RANGE_DEF("interval", 'i', interval, "MIN-MAX", RTV_NS_PER_MS, "request interval range"),
	RTV_OPT_CHOICE_DEF("dist", 0, &dist, "DIST", dists, "interval distribution"),
	RTV_OPT_INT_DEF("size", 's', &size, "BYTES", 32, 65000, "NetRT payload size"),
	RTV_OPT_INT_DEF("streams", 'n', &streams, "N", 1, RTV_TESTBED_MAX_STREAMS, "stream pairs (non-RT links); 2 is the paper's setup"),
	RTV_OPT_CHOICE_DEF("load", 'l', &load, "GEN", loads, "stream generator"),
	RTV_OPT_INT_DEF("rt-prio", 0, &rt_prio, "PRIO", 1, 99, "SCHED_FIFO priority of the RT path"),
	RTV_OPT_CPUS_DEF("rt-cpu", 0, &rt_cpus, "CPUS", "RT CPU set for dedicated (default: the last CPU)"),
	RTV_OPT_INT_DEF("cpu-dma-latency", 0, &dma, "US", -1, 100000, "hold /dev/cpu_dma_latency at US for every run (-1: leave)"),
	RTV_OPT_DOUBLE_DEF("foreign-limit", 0, &foreign, "PCT", 0, 10000, "flag runs where other processes used more CPU (% of one CPU)"),
	RTV_OPT_DURATION_DEF("idle-phase", 0, &idle_phase, "S", RTV_NS_PER_S, "per method run: measure its pollers' CPU with no traffic for S first (0: skip)",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_DURATION_DEF("hybrid-idle", 0, &hybrid_idle, "MS", RTV_NS_PER_MS, "hybrid: the poller sleeps after MS without packets"),
	RTV_OPT_FLAG_DEF("poller-apart", 0, &apart, "busypoll, hybrid: the poller alone on the RT CPU, the RT hosts with the streams (default: RT hosts on the poller's CPU)"),
	RTV_OPT_DOUBLE_DEF("core-watts", 0, &watts, "W", 0, 1000, "energy estimate without RAPL: W per busy CPU"),
	RTV_OPT_INT_DEF("seed", 0, &seed, "N", 0, INT64_MAX, "seed of the request schedule"),
	RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "results file (default: results/compare-<time>.json)"),
	RTV_OPT_STRING_DEF("svg", 0, &svg_path, "FILE", "CDF picture (default: beside the JSON file)"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_compare_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

int cmd_compare(int argc, char **argv)
{
	bool done;
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), nargs, err, ns;
	struct rtv_compare_cfg cfg = { 0 };
	struct rtv_compare_summary sum[RTV_COMPARE_MAX_METHODS + 1];
	struct rtv_compare c;
	char jbuf[256], sbuf[256];
	json_t *root;
	int64_t t0 = rtv_now_ns();

	CPU_ZERO(&rt_cpus);
	CPU_SET(ncpus - 1, &rt_cpus);
	err = rtv_cli_parse(opts, usage_str, argc, argv, &nargs, &done);
	if (err || done)
		return err;
	if (nargs) {
		rtv_cli_error("unexpected argument '%s'", argv[1]);
		return RTV_EXIT_USAGE;
	}
	if (parse_methods(methods, &cfg) < 0)
		return RTV_EXIT_USAGE;
	if (quick) {
		repeats = 1;
		duration = 5 * RTV_NS_PER_S;
		idle_phase = RTV_NS_PER_S;
	}
	if (warmup >= duration) {
		rtv_cli_error("option '--warmup': must be shorter than --duration");
		return RTV_EXIT_USAGE;
	}
	cfg.repeats = (int)repeats;
	cfg.duration_ns = duration;
	cfg.warmup_ns = warmup;
	cfg.interval.min_ns = interval[0];
	cfg.interval.max_ns = interval[1];
	rtv_dist_parse(dist, &cfg.interval.dist);
	cfg.payload = (size_t)size;
	cfg.nstreams = (int)streams;
	cfg.load = strcmp(load, "iperf3") ? RTV_LOAD_BUILTIN : RTV_LOAD_IPERF3;
	cfg.mcfg.rt_prio = (int)rt_prio;
	cfg.mcfg.rt_cpus = rt_cpus;
	CPU_ZERO(&cfg.mcfg.nonrt_cpus);
	for (int i = 0; i < ncpus; i++)
		if (!CPU_ISSET(i, &rt_cpus))
			CPU_SET(i, &cfg.mcfg.nonrt_cpus);
	for (int i = 0; i < cfg.nmethods && !CPU_COUNT(&cfg.mcfg.nonrt_cpus); i++)
		if (cfg.methods[i] == &rtv_method_dedicated || cfg.methods[i] == &rtv_method_busypoll ||
		    cfg.methods[i] == &rtv_method_hybrid) {
			rtv_cli_error("option '--rt-cpu': leaves no CPU for the streams (this machine "
				      "has %d CPU%s)", ncpus, ncpus == 1 ? "" : "s");
			return RTV_EXIT_USAGE;
		}
	cfg.seed = (uint64_t)seed;
	cfg.cpu_dma_latency_us = (int)dma;
	cfg.foreign_limit_pct = foreign;
	cfg.idle_phase_ns = idle_phase;
	cfg.core_watts = watts;
	cfg.mcfg.idle_ns = hybrid_idle;
	cfg.mcfg.poller_apart = apart;
	cfg.mcfg.cpufreq_root = RTV_CPUFREQ_ROOT;
	if (cfg.load == RTV_LOAD_IPERF3 && system("command -v iperf3 >/dev/null 2>&1")) {
		rtv_cli_error("option '--load': iperf3 is not installed (apt-get install iperf3)");
		return RTV_EXIT_USAGE;
	}
	if (!json_path) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(jbuf, sizeof(jbuf), "results/compare-%Y%m%d-%H%M%S.json", &tm);
		json_path = jbuf;
	}
	if (!svg_path) {
		const char *dot = strrchr(json_path, '.');
		int len = dot && !strchr(dot, '/') ? (int)(dot - json_path) : (int)strlen(json_path);

		snprintf(sbuf, sizeof(sbuf), "%.*s.svg", len, json_path);
		svg_path = sbuf;
	}
	/* Ctrl-C and kill end the current run cleanly; the journal undoes the rest */
	if (rtv_cli_catch_signals())
		return RTV_EXIT_FAIL;

	if (rtv_testbed_exists(NULL)) {
		rtv_cli_error("a testbed is already up (see 'rtvnet testbed status'); compare brings up "
			      "its own: run 'rtvnet testbed down' first");
		return RTV_EXIT_FAIL;
	}
	err = rtv_compare_init(&c, &cfg);
	if (err < 0) {
		rtv_cli_error("cannot set up the runs: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	rtv_cli_info("%d runs: idle + %d method%s x %d repeat%s, %.0f s each (+%.0f s warm-up), %d %s stream%s",
		     c.nruns, cfg.nmethods, cfg.nmethods == 1 ? "" : "s", cfg.repeats,
		     cfg.repeats == 1 ? "" : "s", (double)cfg.duration_ns / 1e9,
		     (double)cfg.warmup_ns / 1e9, cfg.nstreams, load, cfg.nstreams == 1 ? "" : "s");
	err = rtv_compare_run(&c, &rtv_cli_stop, progress, NULL);
	if (c.done && !strcmp(c.cpuidle_driver, "none") && c.dma_latency_held)
		rtv_cli_info("note: this machine has no cpuidle driver: idle CPUs halt whatever "
			     "/dev/cpu_dma_latency says, in every run alike");
	if (isatty(2) && rtv_verbosity >= 1)
		fprintf(stderr, "\r%78s\r", "");
	ns = rtv_compare_summarize(&c, sum, RTV_COMPARE_MAX_METHODS + 1);
	if (c.done) {
		print_table(&c, sum, ns);
		print_sanity(sum, ns);
		root = rtv_compare_json(&c, sum, ns,
					rtv_json_meta_new(rtv_argc, rtv_argv, c.start_realtime_ns,
							  c.end_realtime_ns));
		if (!err || err == -EINTR) {
			int e1 = rtv_json_write_file(root, json_path), e2 = write_svg(svg_path, sum, ns);

			if (e1 < 0)
				rtv_cli_error("cannot write '%s': %s", json_path, strerror(-e1));
			if (e2 < 0)
				rtv_cli_error("cannot write '%s': %s", svg_path, strerror(-e2));
			if (!e1 && !e2)
				printf("\nresults: %s, %s (%.0f s)\n", json_path, svg_path,
				       (double)(rtv_now_ns() - t0) / 1e9);
		}
		json_decref(root);
	}
	rtv_compare_release(&c);
	if (err == -EINTR) {
		rtv_cli_error("interrupted: stopped after %d run%s, the host is restored", c.done,
			      c.done == 1 ? "" : "s");
		return RTV_EXIT_FAIL;
	}
	if (err < 0) {
		rtv_cli_error("failed: %s; the host is restored", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}
