/* Probes: what an experiment runs and measures. A probe is a struct of
 * operations and the table of the metrics it yields; the experiment engine
 * (lib/experiment/engine.h) calls the operations in a fixed order for every
 * run and takes the metrics' values from the probe's state by the rows'
 * offsets, so that a new probe plugs in without touching the engine.
 *
 *   service  the RT service whose latency is measured (NetRT, memcached, a
 *            SIP proxy, a periodic taskset): exactly one per experiment; the run's measured window
 *            ends when it says it is done (or the process it names as its
 *            client exits);
 *   load     co-located work that competes with it (bulk streams, iperf3,
 *            CPU hogs): started before the service, only in loaded arms;
 *   evidence what the kernel did meanwhile (who polled the RT NAPIs).
 *
 * A run, as the engine drives it:
 *   prepare (once per experiment) -> [method setup] -> start (evidence,
 *   then loads, then the service) -> warm-up -> mark -> ... poll ... ->
 *   the service's client exits (or a stop) -> collect -> stop -> the
 *   processes are ended (SIGTERM, SIGKILL after 3 s) -> finish -> the
 *   metrics are read from the state.
 * Every operation may be NULL. A probe sees the run through its context
 * (struct rtv_pctx below) and starts its processes with rtv_probe_spawn(),
 * which journals them and lets the run's method place them: it depends on
 * nothing of the engine but this header.
 *
 * Adding a probe (a toy one is built in tests/unit/test_experiment.c):
 *  1. write lib/probe/<name>.c defining `const struct rtv_probe
 *     rtv_probe_<name>`: its operations, its state (and series) struct, and
 *     its metric rows (stats/metric.h) pointing into that state;
 *  2. declare it below and add it to rtv_probes[] in probe.c;
 *  3. add the file to lib/probe/meson.build.
 * An experiment then names it in its plan; its metrics reach the tables,
 * the JSON and the pictures with no other change. */
#ifndef RTV_PROBE_PROBE_H
#define RTV_PROBE_PROBE_H

#include <jansson.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "methods/method.h"
#include "stats/metric.h"
#include "testbed/testbed.h"

enum rtv_probe_role { RTV_PROBE_SERVICE, RTV_PROBE_LOAD, RTV_PROBE_EVIDENCE };

/* A probe's view of one run, filled by the engine. */
struct rtv_pctx {
	const struct rtv_probe *probe;
	void *cfg;                     /* the probe's configuration (the plan's) */
	void *state;                   /* its state: shared memory, zeroed for the run */
	const struct rtv_testbed *tb;  /* the experiment's testbed, NULL: none */
	const char *arm;               /* what the run compares: "idle", "vanilla", ... */
	const char *rt_service_addr;   /* where the RT service binds and is reached when the
					* run's method moved it (outsource); NULL: the testbed's */
	int run, repeat;               /* the run's index; its repeat, 1.. */
	uint64_t seed;                 /* the same for every arm of a repeat */
	int64_t duration_ns;           /* the measured window's length ... */
	int64_t warmup_ns;             /* ... after this warm-up */
	int64_t t_mark, t_end;         /* the window, CLOCK_MONOTONIC ns, once known */
	pid_t client;                  /* a service: the process whose end ends the run */
	int status;                    /* set to -errno when its part failed */
	/* the engine's services (rtv_probe_spawn, rtv_probe_wait) */
	int (*spawn)(struct rtv_pctx *c, const struct rtv_tb_host *h, enum rtv_role role,
		     int (*fn)(void *), void *arg, pid_t *pid);
	pid_t (*wait)(struct rtv_pctx *c, pid_t pid, int *status);
	void *engine;
};

/* Start fn(arg) in a child process in testbed host h (NULL: here, in this
 * namespace and cgroup), dying with its parent and journaled when the
 * journal is open; the run's method places it by role, and the engine ends
 * it after the run (SIGTERM, SIGKILL after 3 s). */
static inline int rtv_probe_spawn(struct rtv_pctx *c, const struct rtv_tb_host *h,
				  enum rtv_role role, int (*fn)(void *), void *arg, pid_t *pid)
{
	return c->spawn(c, h, role, fn, arg, pid);
}

/* waitpid(pid, status, WNOHANG) for a process of the run, which the engine
 * then no longer ends itself: pid when it has ended, 0 while it runs, -errno. */
static inline pid_t rtv_probe_wait(struct rtv_pctx *c, pid_t pid, int *status)
{
	return c->wait(c, pid, status);
}

struct rtv_probe {
	const char *name;       /* "netrt"; a load's name is the run's "load" */
	const char *summary;
	enum rtv_probe_role role;
	const struct rtv_metric *metrics;
	int nmetrics;
	/* State: size bytes (or state_size(cfg)) of shared memory, zeroed before
	 * each run, that the probe's processes write and the metrics are read
	 * from. A probe that measures several things alike (a taskset's tasks)
	 * has nseries(cfg) series of series_size bytes from series_off; one
	 * series at offset 0 otherwise. A probe with no metric may have none
	 * (size 0: its context's state is NULL). */
	size_t size;
	size_t (*state_size)(const void *cfg);
	int (*nseries)(const void *cfg);
	const char *(*series_name)(const void *cfg, int i);
	size_t series_off, series_size;
	const char *series_head; /* the tables' label for a series: "task" */

	/* Whether it can run here with cfg: 0, or -errno with why (a tool
	 * missing, tracefs not mounted); called before anything changes. */
	int (*check)(const void *cfg, char *why, size_t len);
	/* Once, before the first run and before any load (calibration). */
	int (*prepare)(void *cfg);
	/* Start its processes for a run; a service sets the context's client.
	 * Only once its role's turn has come (and start was called, when it has
	 * one) are poll, stop and finish called. */
	int (*start)(struct rtv_pctx *c);
	/* A service whose measurement is not a process of its own: 0 while it
	 * goes on, 1 when it has ended, -errno when it failed. NULL: it ends
	 * when the process it named as the context's client exits (status 0:
	 * ended, else failed). */
	int (*done)(struct rtv_pctx *c);
	/* While the run goes: serve requests, keep buffers drained; wait at most
	 * timeout_ms for something to do. */
	int (*poll)(struct rtv_pctx *c, int timeout_ms);
	void (*mark)(struct rtv_pctx *c);    /* the measured window starts */
	void (*collect)(struct rtv_pctx *c); /* it ends: fill the state's metrics */
	void (*stop)(struct rtv_pctx *c);    /* ask its processes to end */
	void (*finish)(struct rtv_pctx *c);  /* they have ended: what they left */
	/* A few words on the run so far, for a progress line. */
	void (*live)(const struct rtv_pctx *c, char *buf, size_t len);
	/* Add to series i's run object what is not a metric (a count that belongs
	 * inside a distribution's object, a task's parameters). */
	void (*series_json)(const struct rtv_pctx *c, int i, json_t *o);
	/* Add its configuration to the results' config object. */
	void (*config_json)(const void *cfg, json_t *conf);
	/* Free what prepare kept. */
	void (*release)(void *cfg);
};

extern const struct rtv_probe rtv_probe_netrt;
extern const struct rtv_probe rtv_probe_memcached;
extern const struct rtv_probe rtv_probe_sip;
extern const struct rtv_probe rtv_probe_stream;
extern const struct rtv_probe rtv_probe_iperf3;
extern const struct rtv_probe rtv_probe_hogs;
extern const struct rtv_probe rtv_probe_napitrace;
extern const struct rtv_probe rtv_probe_taskset;
extern const struct rtv_probe rtv_probe_stages;
extern const struct rtv_probe rtv_probe_rfc2544;

/* The configurations of the probes that have one in no other header. */
struct rtv_hogs_cfg {
	cpu_set_t cpus; /* a hog on each */
};

/* NULL-terminated. */
extern const struct rtv_probe *const rtv_probes[];
const struct rtv_probe *rtv_probe_find(const char *name);

#endif
