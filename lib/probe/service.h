/* What the RT service probes share (NetRT's echo, memcached, a SIP proxy):
 * each is measured by the open-loop client (probe/openloop.h) from the
 * testbed's RT client host against a server in its RT server host, so each
 * has the same state head, the same metrics (the methods' expected effects
 * name them: p99_us, sd_us, ...), the same progress line and JSON, and
 * starts a real server program the same way.
 *
 * A service probe's state begins with struct rtv_svc_state; its metric
 * table begins with RTV_SVC_METRICS(name). */
#ifndef RTV_PROBE_SERVICE_H
#define RTV_PROBE_SERVICE_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/openloop.h"
#include "probe/probe.h"

struct rtv_svc_state {
	volatile sig_atomic_t stop;   /* the run's processes end */
	volatile sig_atomic_t placed; /* the server's process was placed by the method */
	struct rtv_ol_result rt;      /* the open-loop client's */
};

/* The metric rows of an open-loop service; name_ ("NetRT", "memcached")
 * labels its distributions. */
#define RTV_SVC_S(f) offsetof(struct rtv_svc_state, f)
#define RTV_SVC_RTT(k_, st_, a_, head_, w_, pos_, sp_)                                           \
	{ .key = k_, .run_key = "", .type = RTV_METRIC_STAT, .from = "rtt", .stat = st_,          \
	  .arg = a_, .per_unit = 1000, .better = RTV_BETTER_LOWER,                                \
	  .col = { { .table = 1, .pos = pos_, .head = head_, .width = w_, .spread = sp_ } } }
#define RTV_SVC_METRICS(name_)                                                                     \
	{ .key = "rtt", .run_key = "", .type = RTV_METRIC_HIST, .off = RTV_SVC_S(rt.rtt),          \
	  .per_unit = 1000, .label = name_ " round-trip time", .axis = "latency (us)",             \
	  .plot = true },                                                                          \
	{ .key = "service", .run_key = "", .type = RTV_METRIC_HIST, .off = RTV_SVC_S(rt.service), \
	  .per_unit = 1000, .label = name_ " service time (from the actual send)",               \
	  .axis = "latency (us)" },                                                                \
	{ .key = "sent", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.sent), .run_only = true },   \
	{ .key = "lost", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.lost), .run_only = true },   \
	{ .key = "late_sends", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.late),                  \
	  .run_only = true },                                                                      \
	{ .key = "misses", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.misses), .run_only = true }, \
	{ .key = "errors", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.errors), .run_only = true }, \
	{ .key = "broken", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.broken), .run_only = true }, \
	{ .key = "followups", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.followed),               \
	  .run_only = true },                                                                      \
	{ .key = "ignored", .type = RTV_METRIC_U64, .off = RTV_SVC_S(rt.ignored), .run_only = true }, \
	RTV_SVC_RTT("mean_us", RTV_STAT_MEAN, 0, "mean", 8, 10, false),                            \
	RTV_SVC_RTT("p50_us", RTV_STAT_PCT, 50, "p50", 18, 20, true),                              \
	RTV_SVC_RTT("p99_us", RTV_STAT_PCT, 99, "p99", 18, 30, true),                              \
	RTV_SVC_RTT("p999_us", RTV_STAT_PCT, 99.9, "p99.9", 18, 40, true),                         \
	RTV_SVC_RTT("max_us", RTV_STAT_MAX, 0, "max", 8, 50, false),                               \
	RTV_SVC_RTT("sd_us", RTV_STAT_SD, 0, "sd", 8, 60, false),                                  \
	{ .key = "over_1ms_pct", .run_key = "", .type = RTV_METRIC_STAT, .from = "rtt",            \
	  .stat = RTV_STAT_ABOVE_PCT, .arg = 1e6, .better = RTV_BETTER_LOWER,                     \
	  .col = { { .table = 1, .pos = 70, .head = ">1ms %", .width = 7, .prec = 2 } } }

/* A run's part of a service client's configuration: the server as the
 * client reaches it (where the method moved it, or the testbed's), the
 * run's seed (the same schedule and requests in every arm), duration
 * (warm-up included), warm-up and the default timeout; no count, no
 * samples file. The rest of ol is left as it is. */
void rtv_svc_ol_cfg(const struct rtv_pctx *c, struct rtv_ol_cfg *ol);

/* The probe operations they share: the progress line, the distributions'
 * JSON (with the losses, misses and errors), and the stop. */
void rtv_svc_live(const struct rtv_pctx *c, char *buf, size_t len);
void rtv_svc_series_json(const struct rtv_pctx *c, int i, json_t *o);
void rtv_svc_stop(struct rtv_pctx *c);

/* Start a program (argv[0] its path) in host h, in role (a real server:
 * RTV_ROLE_RT_SERVER), in directory cwd (NULL: as it is). It is executed
 * only once the run's method has placed the process (so that every thread
 * it starts inherits its policy and CPUs), with stdin and stdout on
 * /dev/null and stderr into log_fd (-1: /dev/null). 0 or -errno; *pid (may
 * be NULL) the process, whose pid the program keeps. */
int rtv_svc_exec(struct rtv_pctx *c, const struct rtv_tb_host *h, enum rtv_role role,
		 char *const *argv, const char *cwd, int log_fd, pid_t *pid);

/* Run fn(arg) in host h (a client's) as a short step before the measured
 * client starts (filling a cache, waiting for a server to answer), and wait
 * for it at most timeout_ns: 0 when it returned 0, -ETIMEDOUT, or -EIO. */
int rtv_svc_step(struct rtv_pctx *c, const struct rtv_tb_host *h, int (*fn)(void *), void *arg,
		 int64_t timeout_ns);

/* A directory for a server's files (configuration, pid file), journaled
 * before it is made (journal kind "envdir": removed with all it holds):
 * RTV_ENV_DIR/svc-<pid>, with RTV_ENV_DIR made (and journaled) when
 * missing. Its path into buf. 0 or -errno. */
int rtv_svc_workdir(char *buf, size_t len);

/* The last bytes (at most len - 1) a server wrote to log_fd (a memfd),
 * its lines joined by "; ", for a message. */
void rtv_svc_log_tail(int log_fd, char *buf, size_t len);

#endif
