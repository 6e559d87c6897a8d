/* The open-loop clients' shared front end; see olclient.h. */
#include "olclient.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe/netrt.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/banned.h"

int rtv_cli_sched_check(const struct rtv_cli_sched *s, int *policy, int *prio)
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

int rtv_cli_sched_apply(const struct rtv_cli_sched *s, int policy, int prio)
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

static void fmt_dur(int64_t ns, char *buf, size_t len)
{
	if (rtv_duration_format(ns, buf, len) < 0)
		snprintf(buf, len, "%" PRId64 "ns", ns);
}

int rtv_cli_ol_cfg(const struct rtv_cli_ol *o, struct rtv_ol_cfg *cfg, int *policy, int *prio)
{
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
	err = rtv_cli_sched_check(&o->so, policy, prio);
	if (err)
		return err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = o->target;
	cfg->port = (uint16_t)o->port;
	cfg->nconn = (int)o->conns;
	cfg->window = (uint32_t)o->window;
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

static void print_summary(const struct rtv_ol_cfg *cfg, const char *what,
			  const struct rtv_ol_result *r, json_t *rtt, json_t *svc, bool interrupted)
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
	printf("%s, interval %s-%s %s, seed %" PRIu64 "\n", what, lo, hi,
	       rtv_dist_name(cfg->interval.dist), cfg->seed);
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
	if (cfg->window)
		printf(", window %u", cfg->window);
	printf(", ran %.3f s%s\n", (double)(r->end_ns - r->start_ns) / 1e9,
	       interrupted ? " (interrupted)" : "");
	if (r->end_ns - r->start_ns > cfg->warmup_ns)
		printf("answered %.0f/s after the warm-up\n", (double)r->received * 1e9 /
		       (double)(r->end_ns - r->start_ns - cfg->warmup_ns));
	printf("sent %" PRIu64 "  received %" PRIu64 "  lost %" PRIu64 " (%.3f%%)  warm-up discarded %"
	       PRIu64 "  late sends %" PRIu64 "  stray %" PRIu64 "\n",
	       r->sent, r->received, r->lost, r->sent ? 100.0 * (double)r->lost / (double)r->sent : 0.0,
	       r->warmup, r->late, r->stray);
	if (r->misses || r->errors || r->broken)
		printf("answered: misses %" PRIu64 "  errors %" PRIu64 "; connections broken %" PRIu64
		       "\n", r->misses, r->errors, r->broken);
	if (r->followed || r->ignored)
		printf("follow-ups sent %" PRIu64 "; replies taken that answer no measured request %"
		       PRIu64 "\n", r->followed, r->ignored);
	printf("%-13s", "(us)");
	for (i = 0; i < sizeof(stat_cols) / sizeof(stat_cols[0]); i++)
		printf(" %10s", stat_cols[i].head);
	printf(" %10s\n", "over 1ms");
	print_stats_row("rtt", rtt);
	print_stats_row("service", svc);
	printf("rtt: reply - intended send time (open loop); service: reply - actual send time\n");
}

static json_t *client_json(const struct rtv_ol_cfg *cfg, json_t *c, const struct rtv_ol_result *r,
			   json_t *rtt, json_t *svc, int64_t start_rt, int64_t end_rt,
			   bool interrupted)
{
	json_t *res = json_object();

	rtv_json_set_str(c, "target", cfg->addr);
	rtv_json_set_int(c, "port", cfg->port);
	rtv_json_set_int(c, "connections", cfg->nconn ? cfg->nconn : 1);
	rtv_json_set_int(c, "window", cfg->window);
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
	rtv_json_set_int(res, "misses", (int64_t)r->misses);
	rtv_json_set_int(res, "errors", (int64_t)r->errors);
	rtv_json_set_int(res, "warmup", (int64_t)r->warmup);
	rtv_json_set_int(res, "stray", (int64_t)r->stray);
	rtv_json_set_int(res, "broken_connections", (int64_t)r->broken);
	rtv_json_set_int(res, "followups", (int64_t)r->followed);
	rtv_json_set_int(res, "ignored", (int64_t)r->ignored);
	json_object_set_new(res, "interrupted", json_boolean(interrupted));
	json_object_set(res, "rtt_us", rtt);
	json_object_set(res, "service_us", svc);
	return rtv_json_doc(rtv_json_meta_new(rtv_argc, rtv_argv, start_rt, end_rt), c, "result", res, NULL);
}

int rtv_cli_ol_report(const struct rtv_cli_ol *o, const struct rtv_ol_cfg *cfg, const char *what,
		      json_t *conf, const struct rtv_ol_result *res, int err, int64_t start_rt,
		      int64_t end_rt)
{
	json_t *rtt, *svc, *root = NULL;
	int ret;

	rtt = rtv_netrt_hist_json(&res->rtt, res->lost);
	svc = rtv_netrt_hist_json(&res->service, res->lost);
	if (!rtt || !svc || !conf) {
		rtv_cli_error("cannot summarise the result: %s", strerror(ENOMEM));
		ret = RTV_EXIT_FAIL;
		json_decref(conf);
		goto out;
	}
	print_summary(cfg, what, res, rtt, svc, rtv_cli_stop != 0);
	if (res->sent >= 100 && res->late * 10 > res->sent)
		rtv_cli_warn("%.0f%% of the sends were more than %lldus late: this client wakes up slowly "
			     "(an idle CPU that halts?), and rtt includes it; try --spin 200us",
			     100.0 * (double)res->late / (double)res->sent,
			     (long long)(RTV_OL_LATE_NS / RTV_NS_PER_US));
	if (err < 0) {
		if (err == -EIO)
			rtv_cli_error("cannot write the samples to '%s': %s", cfg->samples_path,
				      strerror(-err));
		else
			rtv_cli_error("the client stopped early: %s", strerror(-err));
	}
	ret = err < 0 ? RTV_EXIT_FAIL : RTV_EXIT_OK;
	if (!o->json_path) {
		json_decref(conf);
		goto out;
	}
	root = client_json(cfg, conf, res, rtt, svc, start_rt, end_rt, rtv_cli_stop != 0);
	if (!root) {
		rtv_cli_error("cannot build the JSON result: %s", strerror(ENOMEM));
		ret = RTV_EXIT_FAIL;
		goto out;
	}
	err = rtv_json_write_file(root, o->json_path);
	if (err < 0) {
		rtv_cli_error("cannot write '%s': %s", o->json_path, strerror(-err));
		ret = RTV_EXIT_FAIL;
	}
out:
	json_decref(root);
	json_decref(rtt);
	json_decref(svc);
	return ret;
}

int rtv_cli_ol_run(const struct rtv_cli_ol *o, const struct rtv_ol_cfg *cfg, int policy, int prio,
		   const char *what, json_t *conf,
		   int (*fn)(const void *arg, const volatile sig_atomic_t *stop,
			     struct rtv_ol_result *res),
		   const void *arg)
{
	struct rtv_ol_result *res = NULL;
	int64_t start_rt, end_rt;
	int err, ret = RTV_EXIT_FAIL;

	err = rtv_cli_sched_apply(&o->so, policy, prio);
	if (!err)
		err = rtv_cli_catch_signals();
	if (err) {
		json_decref(conf);
		return err;
	}
	res = malloc(sizeof(*res));
	if (!res) {
		rtv_cli_error("cannot allocate the result: %s", strerror(ENOMEM));
		json_decref(conf);
		return RTV_EXIT_FAIL;
	}
	start_rt = rtv_realtime_ns();
	err = fn(arg, &rtv_cli_stop, res);
	end_rt = rtv_realtime_ns();
	if (err < 0 && !res->start_ns) { /* failed before the first send: the socket or the address */
		rtv_cli_error("cannot run the client to %s port %u: %s", cfg->addr, (unsigned)cfg->port,
			      strerror(-err));
		json_decref(conf);
	} else {
		ret = rtv_cli_ol_report(o, cfg, what, conf, res, err, start_rt, end_rt);
	}
	free(res);
	return ret;
}

int rtv_cli_ol_main(const struct rtv_cmd_mode *modes, int argc, char **argv,
		    int (*client)(int argc, char **argv))
{
	int ret;

	if (!rtv_cli_mode(modes, argc, argv, &ret))
		return ret;
	return client(argc - 1, argv + 1);
}
