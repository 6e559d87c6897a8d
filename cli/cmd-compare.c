/* rtvnet compare: the main job. Parses, runs the compare experiment
 * (lib/experiment/compare.h) and prints what it measured. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "experiment/compare.h"
#include "host/cpufreq.h"
#include "util/json.h"
#include "util/time.h"

static const char usage_str[] =
	"rtvnet compare [--quick] [--methods LIST] [--repeats N] [--duration S] [options]\n\n"
	"Brings up the testbed, then measures the RT service's round trips (NetRT's UDP\n"
	"echo, or with --service a real one: memcached, a SIP proxy) with no\n"
	"load (idle) and under co-located bulk streams with each method, interleaved and\n"
	"repeated, and prints them side by side in the shape of the outsourcing paper's\n"
	"Table 2, with each method's cost and its expected effect checked. A method may\n"
	"be a combination, A+B. Writes results/compare-<time>.json, .svg (RTT CDF per\n"
	"method) and -percentiles.svg (the tail, percentile by percentile).";

/* The options, at file scope so that the man page is made from them. */
static const char *const loads[] = { "builtin", "iperf3", NULL };
static const char *const topologies[] = { "host", "direct", NULL };
static const char *topology = "host", *peer_cpus = NULL;
static bool nat = false;
static const char *methods, *json_path = NULL, *svg_path = NULL;
static const char *load = "builtin", *dist = "uniform";
static long long repeats = 3, streams = 1, size = 64, rt_prio = 80, dma = 0, seed = 1;
static long long sirq_budget = RTV_SOFTIRQ_BUDGET, sirq_weight = RTV_BACKLOG_WEIGHT;
static int64_t duration = 20 * RTV_NS_PER_S, warmup = RTV_NS_PER_S;
static int64_t interval[2] = { RTV_NS_PER_MS, 10 * RTV_NS_PER_MS };
static double foreign = 10, watts = 5;
static int64_t idle_phase = 2 * RTV_NS_PER_S, hybrid_idle = 10 * RTV_NS_PER_MS;
static bool quick = false, apart = false, shared = false, stages = false;
static const char *const services[] = { "netrt", "memcached", "sip", NULL };
static const char *const mc_protocols[] = { "ascii", "meta", NULL };
static const char *service = "netrt", *mc_protocol = "ascii";
static bool mc_udp = false, sipp = false, sip_calls = false;
static long long mc_keys = RTV_MC_DEFAULT_KEYS, mc_value = RTV_MC_DEFAULT_VALUE, conns = 1;
static double mc_zipf = 0, mc_get = 0.9;
static cpu_set_t rt_cpus; /* default set in cmd_compare: the last CPU */
static const struct rtv_opt opts[] = {
	RTV_OPT_FLAG_DEF("quick", 0, &quick, "smoke test: 1 repeat of 5 s runs, 1 s idle phase (about 60 s)"),
	RTV_OPT_STRING_DEF("methods", 'm', &methods, "LIST", "methods to compare, comma-separated; A+B combines two; unless given, every method marked for the default run"),
	RTV_OPT_INT_DEF("repeats", 'r', &repeats, "N", 1, RTV_PLAN_MAX_REPEATS, "repeats of the interleaved sequence"),
	RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S, "measured length of each run"),
	RTV_OPT_DURATION_DEF("warmup", 0, &warmup, "S", RTV_NS_PER_S, "discarded start of each run"),
	RTV_OPT_RANGE_DEF("interval", 'i', interval, "MIN-MAX", RTV_NS_PER_MS, "request interval range"),
	RTV_OPT_CHOICE_DEF("dist", 0, &dist, "DIST", rtv_dist_names, "interval distribution"),
	RTV_OPT_CHOICE_DEF("service", 0, &service, "NAME", services, "the RT service: NetRT's UDP echo, memcached, or a SIP proxy (Kamailio) with a UAS behind it"),
	RTV_OPT_INT_DEF("size", 's', &size, "BYTES", 32, 65000, "NetRT payload size"),
	RTV_OPT_INT_DEF("conns", 0, &conns, "N", 1, RTV_OL_MAX_CONN, "memcached, sip: the client's connections (UDP sockets), requests round-robin"),
	RTV_OPT_CHOICE_DEF("protocol", 0, &mc_protocol, "PROTO", mc_protocols, "memcached: ASCII (get, set) or meta (mg, ms) commands"),
	RTV_OPT_FLAG_DEF("udp", 0, &mc_udp, "memcached: over UDP in memcached's frame instead of TCP"),
	RTV_OPT_INT_DEF("keys", 0, &mc_keys, "N", 1, RTV_MC_KEYS_MAX, "memcached: distinct keys, all set before each run"),
	RTV_OPT_DOUBLE_DEF("zipf", 0, &mc_zipf, "S", 0, 10, "memcached: key popularity Zipf with exponent S (0: uniform)"),
	RTV_OPT_DOUBLE_DEF("get-ratio", 0, &mc_get, "R", 0, 1, "memcached: share of gets; the rest are sets"),
	RTV_OPT_INT_DEF("value-size", 0, &mc_value, "BYTES", 1, RTV_MC_CLIENT_VALUE_MAX, "memcached: bytes per value (UDP: at most 1200)"),
	RTV_OPT_FLAG_DEF("calls", 0, &sip_calls, "sip: calls (INVITE measured to its 200, then ACK and BYE) instead of OPTIONS"),
	RTV_OPT_FLAG_DEF("sipp", 0, &sipp, "sip: SIPp drives the same proxy in every run too (OPTIONS at the same mean rate); its response times (-trace_rtt, ms resolution) are reported beside rtvnet's"),
	RTV_OPT_INT_DEF("streams", 'n', &streams, "N", 1, RTV_TESTBED_MAX_STREAMS, "stream pairs (non-RT links); 2 is the paper's setup"),
	RTV_OPT_CHOICE_DEF("load", 'l', &load, "GEN", loads, "stream generator"),
	RTV_OPT_CHOICE_DEF("topology", 0, &topology, "SHAPE", topologies, "testbed shape: host (peers reach containers on a bridge through rtv-host's NICs) or direct (a veth pair from each client to its server)"),
	RTV_OPT_FLAG_DEF("nat", 0, &nat, "host topology: publish the containers by DNAT on rtv-host, as podman run -p does"),
	RTV_OPT_STRING_DEF("peer-cpus", 0, &peer_cpus, "CPUS", "CPUs of the external peers (stream sources, the RT client unless a method steers it), the same for every method; 'any' lets them float (default: the non-RT CPUs)"),
	RTV_OPT_INT_DEF("rt-prio", 0, &rt_prio, "PRIO", 1, 99, "SCHED_FIFO priority of the RT path"),
	RTV_OPT_CPUS_DEF("rt-cpu", 0, &rt_cpus, "CPUS", "RT CPU set for dedicated, the last CPU unless given"),
	RTV_OPT_INT_DEF("cpu-dma-latency", 0, &dma, "US", -1, 100000, "hold /dev/cpu_dma_latency at US for every run (-1: leave)"),
	RTV_OPT_DOUBLE_DEF("foreign-limit", 0, &foreign, "PCT", 0, 10000, "flag runs where other processes used more CPU (% of one CPU)"),
	RTV_OPT_DURATION_DEF("idle-phase", 0, &idle_phase, "S", RTV_NS_PER_S, "per method run: measure its pollers' CPU with no traffic for S first (0: skip)",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_DURATION_DEF("hybrid-idle", 0, &hybrid_idle, "MS", RTV_NS_PER_MS, "hybrid: the poller sleeps after MS without packets"),
	RTV_OPT_FLAG_DEF("poller-apart", 0, &apart, "busypoll, hybrid: the poller alone on the RT CPU, the RT hosts with the streams (default: RT hosts on the poller's CPU)"),
	RTV_OPT_FLAG_DEF("shared", 0, &shared, "busypoll, hybrid: keep the RT CPU shared with the streams, as separate does (no partition; short softirq rounds, full preemption where allowed)"),
	RTV_OPT_INT_DEF("softirq-budget", 0, &sirq_budget, "N", 1, 300, "separate (and --shared): net.core.netdev_budget at most N packets per NET_RX round"),
	RTV_OPT_INT_DEF("backlog-weight", 0, &sirq_weight, "N", 1, 64, "separate (and --shared): net.core.dev_weight at most N packets per backlog poll"),
	RTV_OPT_DOUBLE_DEF("core-watts", 0, &watts, "W", 0, 1000, "energy estimate without RAPL: W per busy CPU"),
	RTV_OPT_FLAG_DEF("stages", 0, &stages, "trace where each RT request's and reply's latency is spent, stage by stage, and what held the RT CPU for the slowest (BPF; see rtvnet-trace(8))"),
	RTV_OPT_INT_DEF("seed", 0, &seed, "N", 0, INT64_MAX, "seed of the request schedule"),
	RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "results file (default: results/compare-<time>.json)"),
	RTV_OPT_STRING_DEF("svg", 0, &svg_path, "FILE", "CDF picture (default: beside the JSON file); the percentile picture goes beside it as -percentiles.svg"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_compare_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

static void progress(void *arg, const struct rtv_exp *x, int index, double elapsed_s)
{
	const struct rtv_run *r = &x->runs[index];
	double total = (double)(x->plan.warmup_ns + x->plan.duration_ns) / 1e9;
	char live[96];

	(void)arg;
	if (rtv_verbosity < 1 || !isatty(2))
		return;
	rtv_exp_live(x, live, sizeof(live));
	fprintf(stderr, "\r[run %2d/%d] %-10s repeat %d  %5.1f/%.0f s  %s ", index + 1, x->nruns,
		x->plan.arm[r->arm].name, r->repeat, elapsed_s, total, live);
}

/* The experiment's configuration from the options. */
static void compare_cfg(struct rtv_compare_cfg *cfg)
{
	struct rtv_plan *p = &cfg->plan;

	rtv_compare_cfg_init(cfg);
	cfg->methods = methods;
	cfg->stages = stages;
	cfg->load = strcmp(load, "iperf3") ? "stream" : "iperf3";
	cfg->service = service;
	rtv_dist_parse(dist, &cfg->interval.dist);
	cfg->interval.min_ns = interval[0];
	cfg->interval.max_ns = interval[1];
	cfg->netrt.payload = (size_t)size;
	cfg->memcached.client.ol.nconn = (int)conns;
	cfg->memcached.client.proto = strcmp(mc_protocol, "meta") ? RTV_MC_ASCII : RTV_MC_META;
	cfg->memcached.client.udp = mc_udp;
	cfg->memcached.client.keys = (uint32_t)mc_keys;
	cfg->memcached.client.zipf = mc_zipf;
	cfg->memcached.client.get_ratio = mc_get;
	cfg->memcached.client.value_size = (size_t)mc_value;
	cfg->sip.client.ol.nconn = (int)conns;
	cfg->sip.sipp = sipp;
	cfg->sip.client.calls = sip_calls;
	p->repeats = quick ? 1 : (int)repeats;
	p->duration_ns = quick ? 5 * RTV_NS_PER_S : duration;
	p->warmup_ns = warmup;
	p->idle_phase_ns = quick ? RTV_NS_PER_S : idle_phase;
	p->nstreams = (int)streams;
	p->topology = strcmp(topology, "direct") ? RTV_TB_HOST : RTV_TB_DIRECT;
	p->nat = nat;
	snprintf(p->peer_cpus, sizeof(p->peer_cpus), "%s", peer_cpus ? peer_cpus : "");
	p->mcfg.rt_prio = (int)rt_prio;
	rtv_method_cfg_cpus(&p->mcfg, &rt_cpus);
	p->mcfg.idle_ns = hybrid_idle;
	p->mcfg.poller_apart = apart;
	p->mcfg.shared = shared;
	p->mcfg.softirq_budget = (int)sirq_budget;
	p->mcfg.backlog_weight = (int)sirq_weight;
	p->mcfg.cpufreq_root = RTV_CPUFREQ_ROOT;
	p->seed = (uint64_t)seed;
	p->cpu_dma_latency_us = (int)dma;
	p->foreign_limit_pct = foreign;
	p->core_watts = watts;
}

/* results/compare-<time>.json, and the pictures beside it. */
static void result_paths(char *json, size_t jlen, char *cdf, char *pct, size_t len)
{
	rtv_cli_results_path(json_path, "compare", json, jlen);
	if (svg_path)
		snprintf(cdf, len, "%s", svg_path);
	else
		rtv_cli_path_beside(json, ".svg", cdf, len);
	rtv_cli_path_beside(cdf, "-percentiles.svg", pct, len);
}

static void print_results(const struct rtv_compare *c, const struct rtv_sum *s, int ns,
			  const struct rtv_check *chk, int nc)
{
	const struct rtv_exp *x = &c->x;

	printf("\n%s in us (mean over %d repeat%s, (min-max) across repeats)\n",
	       x->probe[0].probe->metrics[0].label, x->plan.repeats, x->plan.repeats == 1 ? "" : "s");
	rtv_exp_table_write(stdout, x, s, ns, 1);
	printf("CPU %% is of all %d CPUs (softirq share in brackets); foreign is CPU used by other "
	       "processes, in %% of one CPU; * marks methods with runs that other load disturbed\n",
	       (int)sysconf(_SC_NPROCESSORS_ONLN));
	for (int a = 1; a < x->plan.narms && a < x->done; a++) /* each method's first run */
		if (x->runs[a].note[0])
			printf("  %s: %s\n", x->plan.arm[x->runs[a].arm].name, x->runs[a].note);
	printf("\nCost (mean over repeats): pollers and RT NAPI kthreads in %% of one CPU, under "
	       "load and with no traffic; energy per run%s\n",
	       x->rapl ? " (RAPL)" : " (ESTIMATE: no RAPL here, busy CPU-seconds x W per CPU)");
	printf("RT NET_RX/s: NET_RX softirqs on the RT CPUs; NAPI path %%: RT requests that came "
	       "through a NAPI (SO_INCOMING_NAPI_ID), not the backlog\n");
	if (c->tracefs)
		printf("RT polls: napi_poll with work on the RT devices, %% made in softirq / by a "
		       "poller thread / by a NAPI kthread\n");
	rtv_exp_table_write(stdout, x, s, ns, 2);
	if (nc) {
		printf("\nExpected effects (each method's claims, on the means over repeats):\n");
		rtv_exp_checks_write(stdout, x, chk, nc);
	}
	if (c->cfg.stages) {
		printf("\nStages of the RT datagrams in us, per method over its runs' measured windows "
		       "(req: to the server, rep: back; A>B: from point A to point B)\n");
		if (c->stages.err)
			printf("  (not traced in every run: %s)\n", c->stages.why);
		rtv_stages_probe_write(stdout, &c->stages);
	}
}

/* The JSON document and the pictures; 0 when all were written. */
static int write_results(const struct rtv_compare *c, const struct rtv_sum *s, int ns,
			 const struct rtv_check *chk, int nc, int64_t t0)
{
	const struct rtv_exp *x = &c->x;
	char json[256], cdf[300], pct[300];
	json_t *root;
	int e[3];

	result_paths(json, sizeof(json), cdf, pct, sizeof(cdf));
	root = rtv_exp_json(x, s, ns, chk, nc,
			    rtv_json_meta_new(rtv_argc, rtv_argv, x->start_realtime_ns,
					      x->end_realtime_ns));
	if (root && c->cfg.stages) {
		json_t *st = json_array(), *bl = json_array(), *po = json_array();

		rtv_stages_probe_json(&c->stages, st, bl, po);
		json_object_set_new(root, "stages", st);
		json_object_set_new(root, "blockers", bl);
		json_object_set_new(root, "polls", po);
	}
	e[0] = rtv_json_write_file(root, json);
	json_decref(root);
	e[1] = rtv_exp_svg_write_file(cdf, x, s, ns, "rtt", RTV_PICTURE_CDF, 0, NULL);
	e[2] = rtv_exp_svg_write_file(pct, x, s, ns, "rtt", RTV_PICTURE_PERCENTILES, 0, NULL);
	for (int i = 0; i < 3; i++)
		if (e[i] < 0)
			rtv_cli_error("cannot write '%s': %s", i == 0 ? json : i == 1 ? cdf : pct,
				      strerror(-e[i]));
	if (e[0] < 0 || e[1] < 0 || e[2] < 0)
		return -EIO;
	printf("\nresults: %s, %s, %s (%.0f s)\n", json, cdf, pct,
	       (double)(rtv_now_ns() - t0) / 1e9);
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	static char defaults[256];
	struct rtv_compare_cfg cfg;
	struct rtv_compare c;
	struct rtv_check chk[64];
	struct rtv_sum *s = NULL;
	char msg[512];
	int64_t t0 = rtv_now_ns();
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), err, ns, nc;
	bool done;

	CPU_ZERO(&rt_cpus);
	CPU_SET(ncpus - 1, &rt_cpus);
	rtv_methods_default(defaults, sizeof(defaults));
	methods = defaults;
	err = rtv_cli_parse_noargs(opts, usage_str, argc, argv, &done);
	if (err || done)
		return err;
	compare_cfg(&cfg);
	if (cfg.plan.warmup_ns >= cfg.plan.duration_ns) {
		rtv_cli_error("option '--warmup': must be shorter than --duration");
		return RTV_EXIT_USAGE;
	}
	err = rtv_compare_init(&c, &cfg, msg, sizeof(msg));
	if (err < 0) {
		rtv_cli_error("%s", msg);
		return err == -EINVAL ? RTV_EXIT_USAGE : RTV_EXIT_FAIL;
	}
	/* Ctrl-C and kill end the current run cleanly; the journal undoes the rest */
	if (rtv_cli_catch_signals()) {
		rtv_compare_release(&c);
		return RTV_EXIT_FAIL;
	}
	if (rtv_testbed_exists(NULL)) {
		rtv_cli_error("a testbed is already up (see 'rtvnet testbed status'); compare brings up "
			      "its own: run 'rtvnet testbed down' first");
		rtv_compare_release(&c);
		return RTV_EXIT_FAIL;
	}
	rtv_cli_info("%d runs: idle + %d method%s x %d repeat%s, %.0f s each (+%.0f s warm-up), %d %s stream%s",
		     c.x.nruns, c.x.plan.narms - 1, c.x.plan.narms == 2 ? "" : "s", c.x.plan.repeats,
		     c.x.plan.repeats == 1 ? "" : "s", (double)c.x.plan.duration_ns / 1e9,
		     (double)c.x.plan.warmup_ns / 1e9, c.x.plan.nstreams, load,
		     c.x.plan.nstreams == 1 ? "" : "s");
	err = rtv_exp_run(&c.x, &rtv_cli_stop, progress, NULL);
	if (c.x.done && !strcmp(c.x.cpuidle_driver, "none") && c.x.dma_latency_held)
		rtv_cli_info("note: this machine has no cpuidle driver: idle CPUs halt whatever "
			     "/dev/cpu_dma_latency says, in every run alike");
	if (isatty(2) && rtv_verbosity >= 1)
		fprintf(stderr, "\r%78s\r", "");
	ns = rtv_exp_summarize(&c.x, &s);
	if (c.x.done && ns > 0) {
		nc = rtv_exp_checks(&c.x, s, ns, chk, 64);
		print_results(&c, s, ns, chk, nc);
		if ((!err || err == -EINTR) && write_results(&c, s, ns, chk, nc, t0) < 0 && !err)
			err = -EIO;
	}
	rtv_exp_sums_free(s, ns > 0 ? ns : 0);
	ns = c.x.done;
	rtv_compare_release(&c);
	if (err == -EINTR) {
		rtv_cli_error("interrupted: stopped after %d run%s, the host is restored", ns,
			      ns == 1 ? "" : "s");
		return RTV_EXIT_FAIL;
	}
	if (err < 0) {
		rtv_cli_error("failed: %s; the host is restored", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}
