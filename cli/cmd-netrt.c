/* rtvnet netrt server|client: the RT UDP echo service and its open-loop
 * latency client (lib/probe/netrt.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "builtin.h"
#include "host/sched.h"
#include "probe/netrt.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/time.h"
#include "util/banned.h"

#define DEFAULT_PRIO 50
/* why bind() says EADDRNOTAVAIL for an address that is there */
#define ADDR_HINT " (or an IPv6 one still in duplicate address detection)"

static const char usage_str[] =
	"rtvnet netrt server [OPTIONS] | client --target ADDR [OPTIONS]\n\n"
	"  server  echo UDP datagrams back to their sender\n"
	"  client  send requests on a schedule fixed in advance (open loop) and report\n"
	"          latency from the intended send time (rtt) and from the actual send\n"
	"          (service)\n\n"
	"run 'rtvnet netrt server -h' or 'rtvnet netrt client -h' for the options";

static const char server_usage[] =
	"rtvnet netrt server [--port P] [--bind ADDR] [--cpu CPUS] [--policy other|fifo|rr] [--prio N]";

static const char client_usage[] =
	"rtvnet netrt client --target ADDR [--port P] [--size BYTES] [--duration S | --count N]\n"
	"       [--interval MIN-MAX] [--dist uniform|exp|const] [--seed N] [--timeout T] [--warmup T]\n"
	"       [--cpu CPUS] [--policy other|fifo|rr] [--prio N] [--samples FILE] [--json FILE]\n\n"
	"Bare numbers are seconds, but milliseconds for --interval. Requests sent during the\n"
	"warm-up are not measured; --duration includes the warm-up and --count excludes it.";


/* --cpu, --policy and --prio, shared by both sides. */
struct sched_opts {
	cpu_set_t cpus;     /* empty: leave the affinity alone */
	const char *policy; /* NULL: leave the policy alone */
	long long prio;
	bool prio_set;      /* --prio given */
};

#define SCHED_OPT_ROWS(s)                                                                        \
	RTV_OPT_CPUS_DEF("cpu", 'c', &(s)->cpus, "CPUS", "run on these CPUs, e.g. 1 or 0-2,5"),  \
	RTV_OPT_CHOICE_DEF("policy", 0, &(s)->policy, "POLICY", rtv_sched_policy_names,                    \
			   "scheduling policy, left as inherited when not given"),                         \
	RTV_OPT_INT_DEF("prio", 0, &(s)->prio, "N", 1, 99,                                       \
			"real-time priority 1-99 with --policy fifo or rr",                           \
			.set = &(s)->prio_set, .what = "a priority from 1 to 99")

static struct server_values {
	long long port;
	int64_t reply_delay;
	const char *bind_addr;
	struct sched_opts so;
} server_opt = {
	.port = RTV_NETRT_DEFAULT_PORT,
	.so = { .prio = DEFAULT_PRIO },
};

static const struct rtv_opt server_opts[] = {
	RTV_OPT_INT_DEF("port", 'p', &server_opt.port, "P", 1, 65535, "UDP port to listen on"),
	RTV_OPT_ADDR_DEF("bind", 'b', &server_opt.bind_addr, "ADDR",
			 "numeric address to listen on (default: any, IPv6 and IPv4)"),
	SCHED_OPT_ROWS(&server_opt.so),
	RTV_OPT_DURATION_DEF("reply-delay", 0, &server_opt.reply_delay, "US", RTV_NS_PER_US,
			     "for tests: sleep this long before each reply (a known delay in one stage)",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_END_DEF,
};

static struct client_values {
	const char *target, *dist, *samples, *json_path;
	long long port, size, count, seed;
	int64_t duration_ns, interval_ns[2], timeout_ns, warmup_ns, spin_ns;
	struct sched_opts so;
} client_opt = {
	.dist = "uniform",
	.port = RTV_NETRT_DEFAULT_PORT,
	.size = RTV_NETRT_DEFAULT_PAYLOAD,
	.seed = 1,
	.interval_ns = { 1 * RTV_NS_PER_MS, 10 * RTV_NS_PER_MS },
	.timeout_ns = RTV_NETRT_DEFAULT_TIMEOUT_NS,
	.warmup_ns = RTV_NS_PER_S,
	.so = { .prio = DEFAULT_PRIO },
};

static const struct rtv_opt client_opts[] = {
	RTV_OPT_ADDR_DEF("target", 't', &client_opt.target, "ADDR",
			 "the server's numeric IPv4 or IPv6 address (link-local: fe80::1%eth0)"),
	RTV_OPT_INT_DEF("port", 'p', &client_opt.port, "P", 1, 65535, "the server's UDP port"),
	RTV_OPT_INT_DEF("size", 's', &client_opt.size, "BYTES", RTV_NETRT_MIN_PAYLOAD,
			RTV_NETRT_MAX_PAYLOAD, "UDP payload per request"),
	RTV_OPT_DURATION_DEF("duration", 'd', &client_opt.duration_ns, "S", RTV_NS_PER_S,
			     "send for this long, warm-up included (default: 10s unless --count)"),
	RTV_OPT_INT_DEF("count", 'n', &client_opt.count, "N", 0, LLONG_MAX,
			"or stop after N measured requests, whichever comes first; 0: no limit"),
	RTV_OPT_RANGE_DEF("interval", 'i', client_opt.interval_ns, "MIN-MAX", RTV_NS_PER_MS,
			  "time between sends, drawn from --dist (bare numbers in ms)"),
	RTV_OPT_CHOICE_DEF("dist", 0, &client_opt.dist, "DIST", rtv_dist_names,
			   "interval distribution, all with mean (MIN+MAX)/2"),
	RTV_OPT_INT_DEF("seed", 0, &client_opt.seed, "N", 0, LLONG_MAX,
			"random seed of the intervals: the same seed, the same schedule"),
	RTV_OPT_DURATION_DEF("timeout", 0, &client_opt.timeout_ns, "T", RTV_NS_PER_S,
			     "a request not answered this long after it was sent is lost"),
	RTV_OPT_DURATION_DEF("warmup", 'w', &client_opt.warmup_ns, "T", RTV_NS_PER_S,
			     "requests sent this early are not measured (0 for none)",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_DURATION_DEF("spin", 0, &client_opt.spin_ns, "T", RTV_NS_PER_S,
			     "busy-wait this long before each send instead of sleeping",
			     .flags = RTV_OPT_ZERO_OK),
	SCHED_OPT_ROWS(&client_opt.so),
	RTV_OPT_STRING_DEF("samples", 0, &client_opt.samples, "FILE",
			   "write every sample: \"seq intended_ns latency_ns service_ns\" or \"seq intended_ns lost\""),
	RTV_OPT_STRING_DEF("json", 'j', &client_opt.json_path, "FILE", "write the summary as JSON"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_netrt_modes[] = {
	{ NULL, usage_str, NULL },
	{ "server", server_usage, server_opts },
	{ "client", client_usage, client_opts },
	{ NULL, NULL, NULL },
};

/* Check --prio against --policy; 0 or RTV_EXIT_USAGE. */
static int sched_check(const struct sched_opts *s, int *policy, int *prio)
{
	int rt;

	*policy = -1;
	*prio = 0;
	rt = s->policy && strcmp(s->policy, "other");
	if (s->prio_set && !rt) {
		rtv_cli_error("option '--prio': needs --policy fifo or rr");
		return RTV_EXIT_USAGE;
	}
	if (!s->policy)
		return 0;
	rtv_sched_policy_parse(s->policy, policy); /* one of the choices */
	*prio = rt ? (int)s->prio : 0;
	return 0;
}

/* Apply affinity and policy to this (single-threaded) process; 0 or RTV_EXIT_FAIL. */
static int sched_apply(const struct sched_opts *s, int policy, int prio)
{
	static const char *const names[] = { [SCHED_OTHER] = "SCHED_OTHER", [SCHED_FIFO] = "SCHED_FIFO",
					      [SCHED_RR] = "SCHED_RR" };
	struct sched_param sp = { .sched_priority = prio };
	char cpus[256];
	int e;

	if (CPU_COUNT(&s->cpus) > 0 && sched_setaffinity(0, sizeof(s->cpus), &s->cpus) < 0) {
		e = errno;
		if (rtv_cpulist_format(&s->cpus, cpus, sizeof(cpus)) < 0)
			snprintf(cpus, sizeof(cpus), "?");
		rtv_cli_error("cannot run on CPUs '%s': %s%s", cpus, strerror(e),
			      e == EINVAL ? " (outside this cpuset or offline?)" : "");
		return RTV_EXIT_FAIL;
	}
	if (policy < 0)
		return 0;
	if (sched_setscheduler(0, policy, &sp) < 0) {
		e = errno;
		if (policy == SCHED_OTHER)
			rtv_cli_error("cannot set %s: %s", names[policy], strerror(e));
		else
			rtv_cli_error("cannot set %s priority %d: %s%s", names[policy], prio, strerror(e),
				      e != EPERM ? "" : geteuid() ? " (run as root)"
							  : " (no real-time runtime in this cgroup?)");
		return RTV_EXIT_FAIL;
	}
	/* an RT process that page-faults is not RT: lock its memory if allowed */
	if (policy != SCHED_OTHER && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		rtv_cli_warn("cannot lock memory: %s (page faults may add latency)", strerror(errno));
	return 0;
}

static int netrt_server(int argc, char **argv)
{
	const struct sched_opts *so = &server_opt.so;
	const char *bind_addr;
	long long port;
	struct rtv_netrt_server_cfg cfg;
	struct rtv_netrt_server_stats st = { 0 };
	int err, fd, policy, prio;
	bool done;

	err = rtv_cli_parse_noargs(server_opts, server_usage, argc, argv, &done);
	if (err || done)
		return err;
	bind_addr = server_opt.bind_addr;
	port = server_opt.port;
	err = sched_check(so, &policy, &prio);
	if (err)
		return err;

	/* bound before anything else is done, so that an address that is not
	 * this host's is refused as bad input */
	cfg.bind_addr = bind_addr;
	cfg.port = (uint16_t)port;
	fd = rtv_netrt_server_open(&cfg);
	if (fd == -EADDRNOTAVAIL) {
		rtv_cli_error("option '--bind': '%s' is not an address of this host%s", bind_addr,
			      ADDR_HINT);
		return RTV_EXIT_USAGE;
	}
	if (fd < 0) {
		rtv_cli_error("cannot listen on UDP port %lld%s%s: %s", port, bind_addr ? " of " : "",
			      bind_addr ? bind_addr : "", strerror(-fd));
		return RTV_EXIT_FAIL;
	}
	err = sched_apply(so, policy, prio);
	if (!err)
		err = rtv_cli_catch_signals();
	if (err) {
		close(fd);
		return err;
	}
	rtv_cli_info("listening on UDP %s port %lld", bind_addr ? bind_addr : "any", port);
	err = rtv_netrt_server_serve_delayed(fd, &rtv_cli_stop, &st, server_opt.reply_delay);
	close(fd);
	printf("netrt server: %" PRIu64 " request%s echoed\n", st.requests,
	       st.requests == 1 ? "" : "s");
	if (err < 0) {
		rtv_cli_error("cannot receive on UDP port %lld: %s", port, strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}

/* The statistics printed and written, in order: JSON key and column head. */
static const struct {
	const char *key;
	const char *head;
} stat_cols[] = {
	{ "mean", "mean" }, { "sd", "sd" },       { "min", "min" },       { "p50", "p50" },
	{ "p90", "p90" },   { "p99", "p99" },     { "p999", "p99.9" },    { "p9999", "p99.99" },
	{ "max", "max" },
};

/* One row of the table, from the same JSON object --json writes. */
static void print_stats_row(const char *label, json_t *o)
{
	json_t *v;
	size_t i;

	printf("%-13s", label);
	for (i = 0; i < sizeof(stat_cols) / sizeof(stat_cols[0]); i++) {
		v = json_object_get(o, stat_cols[i].key);
		if (json_is_number(v))
			printf(" %10.3f", json_number_value(v));
		else
			printf(" %10s", "-");
	}
	v = json_object_get(o, "over_1ms_pct");
	if (json_is_number(v))
		printf(" %9.3f%%\n", json_number_value(v));
	else
		printf(" %10s\n", "-");
}

static void fmt_dur(int64_t ns, char *buf, size_t len)
{
	if (rtv_duration_format(ns, buf, len) < 0)
		snprintf(buf, len, "%" PRId64 "ns", ns);
}

static void print_summary(const struct rtv_netrt_client_cfg *cfg, const struct rtv_ol_result *r,
			  json_t *rtt, json_t *svc, bool interrupted)
{
	char lo[32], hi[32], dur[32], warm[32], tmo[32], spin[32];
	size_t i;

	fmt_dur(cfg->interval.min_ns, lo, sizeof(lo));
	fmt_dur(cfg->interval.max_ns, hi, sizeof(hi));
	if (cfg->warmup_ns)
		fmt_dur(cfg->warmup_ns, warm, sizeof(warm));
	else
		snprintf(warm, sizeof(warm), "none");
	fmt_dur(cfg->timeout_ns, tmo, sizeof(tmo));
	if (cfg->duration_ns)
		fmt_dur(cfg->duration_ns, dur, sizeof(dur));
	printf("netrt client: %s port %u, %zu B, interval %s-%s %s, seed %" PRIu64 "\n", cfg->addr,
	       (unsigned)cfg->port, cfg->payload, lo, hi, rtv_dist_name(cfg->interval.dist), cfg->seed);
	printf("  ");
	if (cfg->duration_ns)
		printf("duration %s", dur);
	if (cfg->duration_ns && cfg->count)
		printf(" or ");
	if (cfg->count)
		printf("count %" PRIu64, cfg->count);
	printf(", warm-up %s, timeout %s", warm, tmo);
	if (cfg->spin_ns) {
		fmt_dur(cfg->spin_ns, spin, sizeof(spin));
		printf(", spin %s", spin);
	}
	printf(", ran %.3f s%s\n", (double)(r->end_ns - r->start_ns) / 1e9,
	       interrupted ? " (interrupted)" : "");
	printf("sent %" PRIu64 "  received %" PRIu64 "  lost %" PRIu64 " (%.3f%%)  warm-up discarded %"
	       PRIu64 "  late sends %" PRIu64 "  stray %" PRIu64 "\n",
	       r->sent, r->received, r->lost, r->sent ? 100.0 * (double)r->lost / (double)r->sent : 0.0,
	       r->warmup, r->late, r->stray);
	printf("%-13s", "(us)");
	for (i = 0; i < sizeof(stat_cols) / sizeof(stat_cols[0]); i++)
		printf(" %10s", stat_cols[i].head);
	printf(" %10s\n", "over 1ms");
	print_stats_row("rtt", rtt);
	print_stats_row("service", svc);
	printf("rtt: reply - intended send time (open loop); service: reply - actual send time\n");
}

static json_t *client_json(const struct rtv_netrt_client_cfg *cfg,
			   const struct rtv_ol_result *r, json_t *rtt, json_t *svc,
			   int64_t start_rt, int64_t end_rt, bool interrupted)
{
	json_t *c = json_object(), *res = json_object();

	rtv_json_set_str(c, "target", cfg->addr);
	rtv_json_set_int(c, "port", cfg->port);
	rtv_json_set_int(c, "size", (int64_t)cfg->payload);
	rtv_json_set_num(c, "interval_min_us", (double)cfg->interval.min_ns / 1e3);
	rtv_json_set_num(c, "interval_max_us", (double)cfg->interval.max_ns / 1e3);
	rtv_json_set_str(c, "dist", rtv_dist_name(cfg->interval.dist));
	rtv_json_set_num(c, "duration_s", cfg->duration_ns ? (double)cfg->duration_ns / 1e9 : NAN);
	rtv_json_set_num(c, "count", cfg->count ? (double)cfg->count : NAN);
	rtv_json_set_num(c, "warmup_s", (double)cfg->warmup_ns / 1e9);
	rtv_json_set_num(c, "timeout_ms", (double)cfg->timeout_ns / 1e6);
	rtv_json_set_int(c, "seed", (int64_t)cfg->seed);
	rtv_json_set_num(c, "spin_us", (double)cfg->spin_ns / 1e3);
	rtv_json_set_int(res, "sent", (int64_t)r->sent);
	rtv_json_set_int(res, "received", (int64_t)r->received);
	rtv_json_set_int(res, "lost", (int64_t)r->lost);
	rtv_json_set_int(res, "late", (int64_t)r->late);
	rtv_json_set_int(res, "warmup", (int64_t)r->warmup);
	rtv_json_set_int(res, "stray", (int64_t)r->stray);
	json_object_set_new(res, "interrupted", json_boolean(interrupted));
	json_object_set(res, "rtt_us", rtt);
	json_object_set(res, "service_us", svc);
	return rtv_json_doc(rtv_json_meta_new(rtv_argc, rtv_argv, start_rt, end_rt), c, "result", res, NULL);
}

/* Check the client's options that depend on each other and fill cfg, policy
 * and prio; 0, RTV_EXIT_USAGE or RTV_EXIT_FAIL (the samples file). */
static int client_cfg(struct rtv_netrt_client_cfg *cfg, int *policy, int *prio)
{
	const struct client_values *o = &client_opt;
	int64_t duration_ns = o->duration_ns;
	char a[32], b[32];
	int err;

	if (!o->target) {
		rtv_cli_error("option '--target' is required: the server's address");
		return RTV_EXIT_USAGE;
	}
	if (!duration_ns && !o->count)
		duration_ns = 10 * RTV_NS_PER_S;
	if (duration_ns && o->warmup_ns >= duration_ns) {
		fmt_dur(o->warmup_ns, a, sizeof(a));
		fmt_dur(duration_ns, b, sizeof(b));
		rtv_cli_error("option '--warmup': %s is not below --duration %s", a, b);
		return RTV_EXIT_USAGE;
	}
	err = sched_check(&o->so, policy, prio);
	if (err)
		return err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = o->target;
	cfg->port = (uint16_t)o->port;
	cfg->payload = (size_t)o->size;
	cfg->duration_ns = duration_ns;
	cfg->count = (uint64_t)o->count;
	rtv_dist_parse(o->dist, &cfg->interval.dist);
	cfg->interval.min_ns = o->interval_ns[0];
	cfg->interval.max_ns = o->interval_ns[1];
	cfg->seed = (uint64_t)o->seed;
	cfg->timeout_ns = o->timeout_ns;
	cfg->warmup_ns = o->warmup_ns;
	cfg->spin_ns = o->spin_ns;
	cfg->samples_path = o->samples;
	if (o->samples) {
		/* find out now, not after the run; the client truncates it again */
		FILE *f = fopen(o->samples, "we");

		if (!f) {
			rtv_cli_error("cannot write the samples to '%s': %s", o->samples, strerror(errno));
			return RTV_EXIT_FAIL;
		}
		fclose(f);
	}
	return 0;
}

/* Print the result of a run that started and write --json; err is the
 * run's. RTV_EXIT_OK or RTV_EXIT_FAIL. */
static int client_report(const struct rtv_netrt_client_cfg *cfg, const struct rtv_ol_result *res,
			 int err, int64_t start_rt, int64_t end_rt)
{
	json_t *rtt, *svc, *root = NULL;
	int ret;

	rtt = rtv_netrt_hist_json(&res->rtt, res->lost);
	svc = rtv_netrt_hist_json(&res->service, res->lost);
	if (!rtt || !svc) {
		rtv_cli_error("cannot summarise the result: %s", strerror(ENOMEM));
		ret = RTV_EXIT_FAIL;
		goto out;
	}
	print_summary(cfg, res, rtt, svc, rtv_cli_stop != 0);
	if (res->sent >= 100 && res->late * 10 > res->sent)
		rtv_cli_warn("%.0f%% of the sends were more than %lldus late: this client wakes up slowly "
			     "(an idle CPU that halts?), and rtt includes it; try --spin 200us",
			     100.0 * (double)res->late / (double)res->sent,
			     (long long)(RTV_NETRT_LATE_NS / RTV_NS_PER_US));
	if (err < 0) {
		if (err == -EIO)
			rtv_cli_error("cannot write the samples to '%s': %s", cfg->samples_path,
				      strerror(-err));
		else
			rtv_cli_error("the client stopped early: %s", strerror(-err));
	}
	ret = err < 0 ? RTV_EXIT_FAIL : RTV_EXIT_OK;
	if (!client_opt.json_path)
		goto out;
	root = client_json(cfg, res, rtt, svc, start_rt, end_rt,
			   rtv_cli_stop != 0);
	if (!root) {
		rtv_cli_error("cannot build the JSON result: %s", strerror(ENOMEM));
		ret = RTV_EXIT_FAIL;
		goto out;
	}
	err = rtv_json_write_file(root, client_opt.json_path);
	if (err < 0) {
		rtv_cli_error("cannot write '%s': %s", client_opt.json_path, strerror(-err));
		ret = RTV_EXIT_FAIL;
	}
out:
	json_decref(root);
	json_decref(rtt);
	json_decref(svc);
	return ret;
}

static int netrt_client(int argc, char **argv)
{
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *res = NULL;
	int64_t start_rt, end_rt;
	int err, policy, prio, ret = RTV_EXIT_FAIL;
	bool done;

	err = rtv_cli_parse_noargs(client_opts, client_usage, argc, argv, &done);
	if (err || done)
		return err;
	err = client_cfg(&cfg, &policy, &prio);
	if (err)
		return err;
	err = sched_apply(&client_opt.so, policy, prio);
	if (err)
		return err;
	err = rtv_cli_catch_signals();
	if (err)
		return err;
	res = malloc(sizeof(*res));
	if (!res) {
		rtv_cli_error("cannot allocate the result: %s", strerror(ENOMEM));
		return RTV_EXIT_FAIL;
	}
	start_rt = rtv_realtime_ns();
	err = rtv_netrt_client_run(&cfg, &rtv_cli_stop, res);
	end_rt = rtv_realtime_ns();
	if (err < 0 && !res->start_ns) /* failed before the first send: the socket or the address */
		rtv_cli_error("cannot run the client to %s port %u: %s", cfg.addr, (unsigned)cfg.port,
			      strerror(-err));
	else
		ret = client_report(&cfg, res, err, start_rt, end_rt);
	free(res);
	return ret;
}

int cmd_netrt(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int ret;

	m = rtv_cli_mode(cmd_netrt_modes, argc, argv, &ret);
	if (!m)
		return ret;
	if (!strcmp(m->name, "server"))
		return netrt_server(argc - 1, argv + 1);
	return netrt_client(argc - 1, argv + 1);
}
