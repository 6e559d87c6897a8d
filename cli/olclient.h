/* The front end the open-loop clients share (`rtvnet netrt client`,
 * `rtvnet memcached client`, `rtvnet sip client`): the schedule's and the
 * scheduling's options, their checks, and the printed and JSON summary of
 * a run (probe/openloop.h). Each command adds its protocol's options and a
 * line saying what it sent. */
#ifndef RTV_CLI_OLCLIENT_H
#define RTV_CLI_OLCLIENT_H

#include <jansson.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "builtin.h"
#include "host/sched.h"
#include "probe/openloop.h"
#include "util/time.h"

#define RTV_CLI_DEFAULT_PRIO 50

/* --cpu, --policy and --prio. */
struct rtv_cli_sched {
	cpu_set_t cpus;     /* empty: leave the affinity alone */
	const char *policy; /* NULL: leave the policy alone */
	long long prio;
	bool prio_set;      /* --prio given */
};

#define RTV_CLI_SCHED_ROWS(s)                                                                    \
	RTV_OPT_CPUS_DEF("cpu", 'c', &(s)->cpus, "CPUS", "run on these CPUs, e.g. 1 or 0-2,5"),  \
	RTV_OPT_CHOICE_DEF("policy", 0, &(s)->policy, "POLICY", rtv_sched_policy_names,          \
			   "scheduling policy, left as inherited when not given"),               \
	RTV_OPT_INT_DEF("prio", 0, &(s)->prio, "N", 1, 99,                                       \
			"real-time priority 1-99 with --policy fifo or rr",                     \
			.set = &(s)->prio_set, .what = "a priority from 1 to 99")

/* Check --prio against --policy; 0 or RTV_EXIT_USAGE. */
int rtv_cli_sched_check(const struct rtv_cli_sched *s, int *policy, int *prio);
/* Apply affinity and policy to this (single-threaded) process, locking its
 * memory under an RT policy; 0 or RTV_EXIT_FAIL. */
int rtv_cli_sched_apply(const struct rtv_cli_sched *s, int policy, int prio);

/* The schedule's options of a client. */
struct rtv_cli_ol {
	const char *target, *dist, *samples, *json_path;
	long long port, count, seed, conns, window;
	int64_t duration_ns, interval_ns[2], timeout_ns, warmup_ns, spin_ns;
	struct rtv_cli_sched so;
};

#define RTV_CLI_OL_DEFAULTS(port_)                                                               \
	{ .dist = "uniform", .port = (port_), .seed = 1, .conns = 1,                             \
	  .interval_ns = { 1 * RTV_NS_PER_MS, 10 * RTV_NS_PER_MS },                              \
	  .timeout_ns = RTV_OL_DEFAULT_TIMEOUT_NS, .warmup_ns = RTV_NS_PER_S,                    \
	  .so = { .prio = RTV_CLI_DEFAULT_PRIO } }

#define RTV_CLI_OL_ROWS(o)                                                                       \
	RTV_OPT_ADDR_DEF("target", 't', &(o)->target, "ADDR",                                    \
			 "the server's numeric IPv4 or IPv6 address (link-local: fe80::1%eth0)"), \
	RTV_OPT_INT_DEF("port", 'p', &(o)->port, "P", 1, 65535, "the server's port"),            \
	RTV_OPT_DURATION_DEF("duration", 'd', &(o)->duration_ns, "S", RTV_NS_PER_S,              \
			     "send for this long, warm-up included (default: 10s unless --count)"), \
	RTV_OPT_INT_DEF("count", 'n', &(o)->count, "N", 0, LLONG_MAX,                            \
			"or stop after N measured requests, whichever comes first; 0: no limit"), \
	RTV_OPT_RANGE_DEF("interval", 'i', (o)->interval_ns, "MIN-MAX", RTV_NS_PER_MS,           \
			  "time between sends, drawn from --dist (bare numbers in ms); 0: at "   \
			  "once, as fast as --window lets", .flags = RTV_OPT_ZERO_OK),           \
	RTV_OPT_CHOICE_DEF("dist", 0, &(o)->dist, "DIST", rtv_dist_names,                        \
			   "interval distribution, all with mean (MIN+MAX)/2"),                  \
	RTV_OPT_INT_DEF("seed", 0, &(o)->seed, "N", 0, LLONG_MAX,                                \
			"random seed of the intervals and requests: the same seed, the same schedule"), \
	RTV_OPT_DURATION_DEF("timeout", 0, &(o)->timeout_ns, "T", RTV_NS_PER_S,                  \
			     "a request not answered this long after it was sent is lost"),     \
	RTV_OPT_DURATION_DEF("warmup", 'w', &(o)->warmup_ns, "T", RTV_NS_PER_S,                  \
			     "requests sent this early are not measured (0 for none)",          \
			     .flags = RTV_OPT_ZERO_OK),                                           \
	RTV_OPT_DURATION_DEF("spin", 0, &(o)->spin_ns, "T", RTV_NS_PER_S,                        \
			     "busy-wait this long before each send instead of sleeping",        \
			     .flags = RTV_OPT_ZERO_OK),                                           \
	RTV_CLI_SCHED_ROWS(&(o)->so),                                                            \
	RTV_OPT_STRING_DEF("samples", 0, &(o)->samples, "FILE",                                  \
			   "write every sample: \"seq intended_ns latency_ns service_ns\" or "    \
			   "\"seq intended_ns lost\""),                                          \
	RTV_OPT_STRING_DEF("json", 'j', &(o)->json_path, "FILE", "write the summary as JSON")

/* The connections' option, for a client that may use several. */
#define RTV_CLI_OL_CONNS_ROW(o)                                                                  \
	RTV_OPT_INT_DEF("conns", 0, &(o)->conns, "N", 1, RTV_OL_MAX_CONN,                        \
			"connections (or UDP sockets) the requests go round-robin over"),       \
	RTV_OPT_INT_DEF("window", 0, &(o)->window, "N", 0, 1 << 18,                              \
			"at most N requests outstanding, a due one waits (0: no limit); with "  \
			"--interval 0 and N = --conns, closed loop: throughput at saturation")

/* Check the options that depend on each other and fill cfg (proto left
 * NULL), policy and prio; 0, RTV_EXIT_USAGE or RTV_EXIT_FAIL (the samples
 * file cannot be written). */
int rtv_cli_ol_cfg(const struct rtv_cli_ol *o, struct rtv_ol_cfg *cfg, int *policy, int *prio);

/* Print a run's summary (what: its first line, "memcached client: ...") and
 * write --json, with conf the command's configuration object (taken); err
 * is the run's. RTV_EXIT_OK or RTV_EXIT_FAIL. */
int rtv_cli_ol_report(const struct rtv_cli_ol *o, const struct rtv_ol_cfg *cfg, const char *what,
		      json_t *conf, const struct rtv_ol_result *res, int err, int64_t start_rt,
		      int64_t end_rt);

/* Apply the scheduling options, catch signals, run fn(cfg, stop, res) and
 * report; what the client commands do after parsing. */
int rtv_cli_ol_run(const struct rtv_cli_ol *o, const struct rtv_ol_cfg *cfg, int policy, int prio,
		   const char *what, json_t *conf,
		   int (*fn)(const void *arg, const volatile sig_atomic_t *stop,
			     struct rtv_ol_result *res),
		   const void *arg);

/* A client command's main: its one mode, "client", parsed and run by
 * client(argc - 1, argv + 1). */
int rtv_cli_ol_main(const struct rtv_cmd_mode *modes, int argc, char **argv,
		    int (*client)(int argc, char **argv));

#endif
