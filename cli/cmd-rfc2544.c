/* rtvnet rfc2544: RFC 2544's throughput and latency on the RT path, per
 * method (lib/experiment/rfc2544.h); and the reflector for a real host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "experiment/rfc2544.h"
#include "host/cpufreq.h"
#include "probe/udpgen.h"
#include "util/json.h"
#include "util/time.h"

static const char usage_str[] =
	"rtvnet rfc2544 run [--quick] [--methods LIST] [options]\n"
	"   or: rtvnet rfc2544 reflect [--bind ADDR] [--port P]\n\n"
	"RFC 2544 on the RT path, as the KBP and EE-KBP papers measure it: the highest\n"
	"rate with zero loss for each frame size, and every packet's round trip at fixed\n"
	"rates, with each method (NAPI, busy poll, hybrid by default), side by side.";
static const char run_usage[] =
	"rtvnet rfc2544 run [--quick] [--methods LIST] [--sizes LIST] [--rates LIST] [options]\n\n"
	"Brings up the testbed and, for each method (interleaved, repeated), runs a UDP\n"
	"generator in the RT client host (an external peer, on the peer CPUs) against a\n"
	"reflector in the RT container: per frame size the generator's limit and a binary\n"
	"search for the zero-loss throughput, then latency trials at fixed rates, each\n"
	"trial's losses located. Prints the throughput and latency tables and the papers'\n"
	"claims judged; writes results/rfc2544-<time>.json and two pictures (p99.9 and\n"
	"max RTT against the offered rate). With --target, measures a reflector on\n"
	"another host instead (rtvnet rfc2544 reflect there), changing nothing here.";
static const char reflect_usage[] =
	"rtvnet rfc2544 reflect [--bind ADDR] [--port P]\n\n"
	"Reflects every UDP datagram back to its sender until interrupted: the far end of\n"
	"'rtvnet rfc2544 run --target' on the host under test.";

static const char *const loads[] = { "none", "builtin", "iperf3", NULL };
static const char *const topologies[] = { "host", "direct", NULL };
static const char *methods, *json_path, *svg_path, *target, *peer_cpus;
static const char *sizes = "64,128,256,512,1024,1280,1518", *lat_sizes = "64,512,1518";
static const char *rates = "10%,50%,90%,100%,100k,1M", *sockperf_rate = "50%";
static const char *load = "none", *topology = "host";
static long long sockperf_rx = -1;
static long long repeats = 1, streams = 1, rt_prio = 80, dma = 0, port = RTV_RFC2544_DEFAULT_PORT;
static long long max_trials = 16, sirq_budget = RTV_SOFTIRQ_BUDGET, sirq_weight = RTV_BACKLOG_WEIGHT;
static int64_t trial = 2 * RTV_NS_PER_S, residual = 2 * RTV_NS_PER_S, settle = 5 * RTV_NS_PER_S;
static int64_t idle_phase = 2 * RTV_NS_PER_S, hybrid_idle = 10 * RTV_NS_PER_MS;
static const char *min_rate = "1000", *max_rate = "2M";
static double resolution = 2, foreign = 10, watts = 5;
static bool quick, sockperf, apart, shared;
static cpu_set_t rt_cpus;
static const struct rtv_opt run_opts[] = {
	RTV_OPT_FLAG_DEF("quick", 0, &quick, "smoke test: frames 64 and 1518, latency at 64 bytes and 50% and 100%, 1 s trials, 0.5 s and 1 s waits, 10% resolution (a few minutes per method)"),
	RTV_OPT_STRING_DEF("methods", 'm', &methods, "LIST", "methods to compare, comma-separated; A+B combines two; the default is the papers' NAPI, KBP and EE-KBP"),
	RTV_OPT_INT_DEF("repeats", 'r', &repeats, "N", 1, RTV_PLAN_MAX_REPEATS, "repeats of the interleaved sequence"),
	RTV_OPT_STRING_DEF("sizes", 0, &sizes, "LIST", "frame sizes searched, bytes with the FCS (RFC 2544's)"),
	RTV_OPT_STRING_DEF("latency-sizes", 0, &lat_sizes, "LIST", "frame sizes of the latency trials; the default is the papers'; 'none' for no latency trials"),
	RTV_OPT_STRING_DEF("rates", 0, &rates, "LIST", "latency trials' rates: N% of the size's zero-loss throughput, or packets per second (100k, 1M); those above the generator's limit are reported unreachable"),
	RTV_OPT_DURATION_DEF("trial", 't', &trial, "S", RTV_NS_PER_S, "each trial's sending time (the RFC's: 60 s; a shorter trial is said in the output)"),
	RTV_OPT_DURATION_DEF("residual-wait", 0, &residual, "S", RTV_NS_PER_S, "after each trial, late replies still count for S (the RFC's: 2 s)", .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_DURATION_DEF("settle-wait", 0, &settle, "S", RTV_NS_PER_S, "no traffic for S before each trial (the RFC's: 5 s)", .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_STRING_DEF("min-rate", 0, &min_rate, "PPS", "the search's lower bound, packets per second (1000, 10k)"),
	RTV_OPT_STRING_DEF("max-rate", 0, &max_rate, "PPS", "the most the generator is asked to offer (2M): the first trial of each size, and the search's upper bound"),
	RTV_OPT_DOUBLE_DEF("resolution", 0, &resolution, "PCT", 0.01, 50, "the search ends when the lowest failing rate is within PCT% above the highest passing one"),
	RTV_OPT_INT_DEF("max-trials", 0, &max_trials, "N", 1, RTV_RFC2544_MAX_TRIALS - 1, "trials per search at most"),
	RTV_OPT_FLAG_DEF("sockperf", 0, &sockperf, "cross-check: sockperf's under-load client at the --sockperf-rate point of the first latency size, against a sockperf server beside the reflector"),
	RTV_OPT_STRING_DEF("sockperf-rate", 0, &sockperf_rate, "RATE", "the rate (one of --rates) sockperf runs at"),
	RTV_OPT_INT_DEF("sockperf-rx-cpu", 0, &sockperf_rx, "CPU", -1, 1023, "sockperf's receiver thread on CPU, its sender on the generator's: its two threads share the peer CPUs otherwise, and its receiver then waits behind its busy-waiting sender (-1: not pinned)"),
	RTV_OPT_STRING_DEF("target", 0, &target, "ADDR:PORT", "a reflector on another host ('rtvnet rfc2544 reflect' there): no testbed, no method, nothing changed here"),
	RTV_OPT_INT_DEF("port", 'p', &port, "P", 1, 65534, "the reflector's UDP port on the testbed (sockperf's server on the next)"),
	RTV_OPT_CHOICE_DEF("load", 'l', &load, "GEN", loads, "co-located bulk streams during every trial (none: the trials are the load)"),
	RTV_OPT_INT_DEF("streams", 'n', &streams, "N", 1, RTV_TESTBED_MAX_STREAMS, "stream pairs with --load"),
	RTV_OPT_CHOICE_DEF("topology", 0, &topology, "SHAPE", topologies, "testbed shape (see rtvnet-compare(8))"),
	RTV_OPT_STRING_DEF("peer-cpus", 0, &peer_cpus, "CPUS", "CPUs of the external peers, the generator among them (default: the non-RT CPUs)"),
	RTV_OPT_INT_DEF("rt-prio", 0, &rt_prio, "PRIO", 1, 99, "SCHED_FIFO priority of the RT path"),
	RTV_OPT_CPUS_DEF("rt-cpu", 0, &rt_cpus, "CPUS", "RT CPU set, the last CPU unless given"),
	RTV_OPT_INT_DEF("cpu-dma-latency", 0, &dma, "US", -1, 100000, "hold /dev/cpu_dma_latency at US for every run (-1: leave)"),
	RTV_OPT_DOUBLE_DEF("foreign-limit", 0, &foreign, "PCT", 0, 10000, "flag runs where other processes used more CPU (% of one CPU)"),
	RTV_OPT_DURATION_DEF("idle-phase", 0, &idle_phase, "S", RTV_NS_PER_S, "per method run: its pollers' CPU with no traffic for S first (0: skip)", .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_DURATION_DEF("hybrid-idle", 0, &hybrid_idle, "MS", RTV_NS_PER_MS, "hybrid: the poller sleeps after MS without packets"),
	RTV_OPT_FLAG_DEF("poller-apart", 0, &apart, "busypoll, hybrid: the poller alone on the RT CPU"),
	RTV_OPT_FLAG_DEF("shared", 0, &shared, "busypoll, hybrid: keep the RT CPU shared, as separate does"),
	RTV_OPT_INT_DEF("softirq-budget", 0, &sirq_budget, "N", 1, 300, "separate (and --shared): net.core.netdev_budget"),
	RTV_OPT_INT_DEF("backlog-weight", 0, &sirq_weight, "N", 1, 64, "separate (and --shared): net.core.dev_weight"),
	RTV_OPT_DOUBLE_DEF("core-watts", 0, &watts, "W", 0, 1000, "the power estimate (no RAPL): W per busy CPU"),
	RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "results file (default: results/rfc2544-<time>.json)"),
	RTV_OPT_STRING_DEF("svg", 0, &svg_path, "FILE", "p99.9 picture (default: beside the JSON file); the max picture goes beside it as -max.svg"),
	RTV_OPT_END_DEF,
};

static const char *reflect_bind;
static long long reflect_port = RTV_RFC2544_DEFAULT_PORT;
static const struct rtv_opt reflect_opts[] = {
	RTV_OPT_ADDR_DEF("bind", 'b', &reflect_bind, "ADDR", "address to listen on (default: any)"),
	RTV_OPT_INT_DEF("port", 'p', &reflect_port, "P", 1, 65535, "UDP port to listen on"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_rfc2544_modes[] = {
	{ NULL, usage_str, NULL },
	{ "run", run_usage, run_opts },
	{ "reflect", reflect_usage, reflect_opts },
	{ NULL, NULL, NULL },
};

static void progress(void *arg, const struct rtv_exp *x, int index, double elapsed_s)
{
	const struct rtv_run *r = &x->runs[index];
	char live[96];

	(void)arg;
	if (rtv_verbosity < 1 || !isatty(2))
		return;
	rtv_exp_live(x, live, sizeof(live));
	fprintf(stderr, "\r[run %2d/%d] %-10s repeat %d  %6.0f s  %-40s", index + 1, x->nruns,
		x->plan.arm[r->arm].name, r->repeat, elapsed_s, live);
}

/* A packets-per-second option (250000, 100k, 1M): 0, or said. */
static int pps_option(const char *name, const char *s, double *out)
{
	struct rtv_rfc2544_rate r;
	char err[256];
	int n;

	if (rtv_rfc2544_rates_parse(s, &r, 1, &n, err, sizeof(err)) < 0 || r.pct) {
		rtv_cli_error("option '--%s': '%s' is not packets per second (250000, 100k, 1M)",
			      name, s);
		return -1;
	}
	*out = r.value;
	return 0;
}

/* The configuration from the options: 0, or exit 2 with the option named. */
static int run_cfg(struct rtv_rfc2544_cfg *cfg)
{
	struct rtv_rfc2544_probe_cfg *p = &cfg->probe;
	struct rtv_plan *pl = &cfg->plan;
	char err[256];
	int n;

	rtv_rfc2544_cfg_init(cfg);
	if (quick) {
		sizes = "64,1518";
		lat_sizes = "64";
		rates = "50%,100%";
		trial = RTV_NS_PER_S;
		residual = RTV_NS_PER_S / 2;
		settle = RTV_NS_PER_S;
		resolution = 10;
		idle_phase = RTV_NS_PER_S;
	}
	if (rtv_rfc2544_sizes_parse(sizes, p->sizes, RTV_RFC2544_MAX_SIZES, &p->nsizes, err,
				    sizeof(err)) < 0) {
		rtv_cli_error("option '--sizes': %s", err);
		return RTV_EXIT_USAGE;
	}
	if (!strcmp(lat_sizes, "none")) {
		p->nlat_sizes = 0;
	} else if (rtv_rfc2544_sizes_parse(lat_sizes, p->lat_sizes, RTV_RFC2544_MAX_SIZES,
					   &p->nlat_sizes, err, sizeof(err)) < 0) {
		rtv_cli_error("option '--latency-sizes': %s", err);
		return RTV_EXIT_USAGE;
	}
	if (rtv_rfc2544_rates_parse(rates, p->rates, RTV_RFC2544_MAX_RATES, &p->nrates, err,
				    sizeof(err)) < 0) {
		rtv_cli_error("option '--rates': %s", err);
		return RTV_EXIT_USAGE;
	}
	if (rtv_rfc2544_rates_parse(sockperf_rate, &p->sockperf_rate, 1, &n, err, sizeof(err)) < 0) {
		rtv_cli_error("option '--sockperf-rate': %s", err);
		return RTV_EXIT_USAGE;
	}
	p->trial_ns = trial;
	p->residual_ns = residual;
	p->settle_ns = settle;
	if (pps_option("min-rate", min_rate, &p->min_pps) || pps_option("max-rate", max_rate, &p->max_pps))
		return RTV_EXIT_USAGE;
	p->resolution_pct = resolution;
	p->max_trials = (int)max_trials;
	p->port = (uint16_t)port;
	p->sockperf = sockperf;
	p->sockperf_rx_cpu = (int)sockperf_rx;
	p->target = target;
	cfg->methods = methods;
	cfg->load = !strcmp(load, "none") ? NULL : !strcmp(load, "iperf3") ? "iperf3" : "stream";
	pl->repeats = (int)repeats;
	pl->idle_phase_ns = idle_phase;
	pl->nstreams = (int)streams;
	pl->topology = strcmp(topology, "direct") ? RTV_TB_HOST : RTV_TB_DIRECT;
	snprintf(pl->peer_cpus, sizeof(pl->peer_cpus), "%s", peer_cpus ? peer_cpus : "");
	pl->mcfg.rt_prio = (int)rt_prio;
	rtv_method_cfg_cpus(&pl->mcfg, &rt_cpus);
	pl->mcfg.idle_ns = hybrid_idle;
	pl->mcfg.poller_apart = apart;
	pl->mcfg.shared = shared;
	pl->mcfg.softirq_budget = (int)sirq_budget;
	pl->mcfg.backlog_weight = (int)sirq_weight;
	pl->mcfg.cpufreq_root = RTV_CPUFREQ_ROOT;
	pl->cpu_dma_latency_us = target ? -1 : (int)dma;
	pl->foreign_limit_pct = foreign;
	pl->core_watts = watts;
	return 0;
}

static int write_results(const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
			 const struct rtv_rfc2544_claim *c, int nc)
{
	char json[256], p999[300], max[300];
	json_t *root;
	int e[3];

	rtv_cli_results_path(json_path, "rfc2544", json, sizeof(json));
	if (svg_path)
		snprintf(p999, sizeof(p999), "%s", svg_path);
	else
		rtv_cli_path_beside(json, ".svg", p999, sizeof(p999));
	rtv_cli_path_beside(p999, "-max.svg", max, sizeof(max));
	root = rtv_rfc2544_json(r, s, ns, c, nc,
				rtv_json_meta_new(rtv_argc, rtv_argv, r->x.start_realtime_ns,
						  r->x.end_realtime_ns));
	e[0] = rtv_json_write_file(root, json);
	json_decref(root);
	e[1] = rtv_rfc2544_svg_write_file(p999, r, s, ns, "p999_us");
	e[2] = rtv_rfc2544_svg_write_file(max, r, s, ns, "max_us");
	for (int i = 0; i < 3; i++)
		if (e[i] < 0)
			rtv_cli_error("cannot write '%s': %s", i == 0 ? json : i == 1 ? p999 : max,
				      strerror(-e[i]));
	if (e[0] < 0 || e[1] < 0 || e[2] < 0)
		return -EIO;
	printf("\nresults: %s, %s, %s\n", json, p999, max);
	return 0;
}

static int rfc_run(int argc, char **argv)
{
	struct rtv_rfc2544_cfg cfg;
	struct rtv_rfc2544 r;
	struct rtv_rfc2544_claim claims[256];
	struct rtv_sum *s = NULL;
	char msg[512];
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), err, ns, nc = 0, done_runs;
	bool done;

	CPU_ZERO(&rt_cpus);
	CPU_SET(ncpus - 1, &rt_cpus);
	err = rtv_cli_parse_noargs(run_opts, run_usage, argc, argv, &done);
	if (err || done)
		return err;
	err = run_cfg(&cfg);
	if (err)
		return err;
	err = rtv_rfc2544_init(&r, &cfg, msg, sizeof(msg));
	if (err < 0) {
		rtv_cli_error("%s", msg);
		return err == -EINVAL ? RTV_EXIT_USAGE : RTV_EXIT_FAIL;
	}
	if (!target) { /* the testbed and the methods change the host */
		if (geteuid() != 0) {
			rtv_cli_error("needs root: it changes namespaces, cgroups and scheduling (run "
				      "as root), or measure a reflector elsewhere with --target");
			rtv_rfc2544_release(&r);
			return RTV_EXIT_USAGE;
		}
		if (rtv_cli_host_lock() < 0) {
			rtv_rfc2544_release(&r);
			return RTV_EXIT_FAIL;
		}
		if (rtv_testbed_exists(NULL)) {
			rtv_cli_error("a testbed is already up (see 'rtvnet testbed status'); rfc2544 "
				      "brings up its own: run 'rtvnet testbed down' first");
			rtv_rfc2544_release(&r);
			return RTV_EXIT_FAIL;
		}
	}
	if (rtv_cli_catch_signals()) {
		rtv_rfc2544_release(&r);
		return RTV_EXIT_FAIL;
	}
	rtv_cli_info("%d run%s (%s x %d repeat%s), about %.0f s each: %d frame size%s, %d latency "
		     "point%s, %.1f s trials", r.x.nruns, r.x.nruns == 1 ? "" : "s",
		     target ? "target" : methods ? methods : RTV_RFC2544_DEFAULT_METHODS,
		     r.x.plan.repeats, r.x.plan.repeats == 1 ? "" : "s",
		     (double)rtv_rfc2544_run_estimate_ns(&r.cfg.probe) / 1e9, r.cfg.probe.nsizes,
		     r.cfg.probe.nsizes == 1 ? "" : "s",
		     r.cfg.probe.nlat_sizes * r.cfg.probe.nrates,
		     r.cfg.probe.nlat_sizes * r.cfg.probe.nrates == 1 ? "" : "s",
		     (double)r.cfg.probe.trial_ns / 1e9);
	err = rtv_exp_run(&r.x, &rtv_cli_stop, progress, NULL);
	if (isatty(2) && rtv_verbosity >= 1)
		fprintf(stderr, "\r%90s\r", "");
	ns = rtv_exp_summarize(&r.x, &s);
	if (r.x.done && ns > 0) {
		nc = rtv_rfc2544_claims(&r, s, ns, claims, 256);
		printf("\n");
		rtv_rfc2544_write(stdout, &r, s, ns, claims, nc);
		if ((!err || err == -EINTR) && write_results(&r, s, ns, claims, nc) < 0 && !err)
			err = -EIO;
	}
	rtv_exp_sums_free(s, ns > 0 ? ns : 0);
	done_runs = r.x.done;
	rtv_rfc2544_release(&r);
	if (err == -EINTR) {
		rtv_cli_error("interrupted: stopped after %d run%s, the host is restored", done_runs,
			      done_runs == 1 ? "" : "s");
		return RTV_EXIT_FAIL;
	}
	if (err < 0) {
		rtv_cli_error("failed: %s; the host is restored", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}

static int rfc_reflect(int argc, char **argv)
{
	struct rtv_udpgen_refl_stats st = { 0 };
	bool done;
	int err, fd;

	err = rtv_cli_parse_noargs(reflect_opts, reflect_usage, argc, argv, &done);
	if (err || done)
		return err;
	fd = rtv_udpgen_reflect_open(reflect_bind, (uint16_t)reflect_port);
	if (fd == -EADDRNOTAVAIL) {
		rtv_cli_error("option '--bind': '%s' is not an address of this host", reflect_bind);
		return RTV_EXIT_USAGE;
	}
	if (fd < 0) {
		rtv_cli_error("cannot listen on UDP port %lld: %s", reflect_port, strerror(-fd));
		return RTV_EXIT_FAIL;
	}
	if (rtv_cli_catch_signals()) {
		close(fd);
		return RTV_EXIT_FAIL;
	}
	rtv_cli_info("reflecting UDP on %s port %lld", reflect_bind ? reflect_bind : "any",
		     reflect_port);
	err = rtv_udpgen_reflect(fd, &rtv_cli_stop, &st);
	close(fd);
	printf("rfc2544 reflect: %llu datagram%s reflected\n", (unsigned long long)st.reflected,
	       st.reflected == 1 ? "" : "s");
	if (err < 0) {
		rtv_cli_error("reflecting failed: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}

int cmd_rfc2544(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int ret;

	m = rtv_cli_mode(cmd_rfc2544_modes, argc, argv, &ret);
	if (!m)
		return ret;
	if (!strcmp(m->name, "reflect"))
		return rfc_reflect(argc - 1, argv + 1);
	return rfc_run(argc - 1, argv + 1);
}
