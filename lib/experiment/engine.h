/* The experiment engine: runs a plan and keeps what every run measured.
 *
 * A plan is one service probe (the RT service measured), the loads that
 * compete with it, evidence probes, and the arms compared: each arm a method
 * (or a combination, methods/method.h) or "idle" (no method, no load).
 * Runs are interleaved, arm by arm, and repeated (idle, m1, m2, ..., idle,
 * m1, ...), so that drift on a shared machine hits every arm alike. In each
 * run: the arm's method is set up (journaled), its pollers' CPU is measured
 * with no traffic for idle_phase_ns, the loads and the service start, a
 * warm-up passes, and the measured window lasts until the service's client
 * ends; CPU use (the machine's, kernel threads', other processes': foreign
 * load), energy (RAPL, or an estimate from CPU time) and the method's cost
 * are accounted over the window. Every change is undone after the run, and
 * the testbed after the last one.
 *
 * What a run measured is kept as the values of every metric of the
 * experiment (the probes' rows and the engine's own, lib/stats/metric.h),
 * summarised per arm over repeats (rtv_exp_summarize), checked against the
 * methods' expected effects (rtv_exp_checks) and written as JSON, text
 * tables and pictures (report.c). The library never prints: tables and
 * pictures are written to a FILE the caller gives. */
#ifndef RTV_EXPERIMENT_ENGINE_H
#define RTV_EXPERIMENT_ENGINE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "host/cgroup.h"
#include "host/energy.h"
#include "methods/method.h"
#include "probe/probe.h"
#include "stats/hist.h"
#include "stats/metric.h"
#include "stats/summary.h"
#include "testbed/testbed.h"

#define RTV_PLAN_MAX_ARMS    17 /* idle and 16 methods */
#define RTV_PLAN_MAX_LOADS   4
#define RTV_PLAN_MAX_PROBES  (2 + RTV_PLAN_MAX_LOADS + 2)
#define RTV_PLAN_MAX_REPEATS 64
#define RTV_EXP_IDLE "idle"

/* One side of the comparison. */
struct rtv_arm {
	char name[RTV_COMBO_NAME_LEN]; /* "idle", "vanilla", "prio+dedicated" */
	struct rtv_combo method;       /* nparts 0: the kernel as it is */
	bool loaded;                   /* the plan's loads run in it */
};

enum rtv_plan_testbed {
	RTV_TESTBED_NONE, /* processes start here, in this namespace */
	RTV_TESTBED_OWN,  /* bring one up for the experiment; refuse when one is up */
	RTV_TESTBED_ANY,  /* the one that is up (with enough stream pairs), or one brought up */
};

/* A probe in the plan, with its configuration (owned by the caller; the
 * probe's prepare may fill it in). */
struct rtv_plan_probe {
	const struct rtv_probe *probe;
	void *cfg;
};

struct rtv_plan {
	struct rtv_plan_probe service;
	struct rtv_plan_probe load[RTV_PLAN_MAX_LOADS];
	int nloads;
	struct rtv_plan_probe evidence[2];
	int nevidence;
	struct rtv_arm arm[RTV_PLAN_MAX_ARMS];
	int narms;
	int repeats;
	int64_t duration_ns;   /* the measured window of each run */
	int64_t warmup_ns;     /* before it, discarded */
	int64_t idle_phase_ns; /* per run with a method: its pollers' CPU with no traffic first */
	enum rtv_plan_testbed testbed;
	int nstreams;          /* the testbed's stream pairs */
	enum rtv_tb_topology topology; /* the testbed's shape (testbed/testbed.h) */
	bool nat;
	char peer_cpus[64];    /* the external peers' CPU list; "" for the non-RT CPUs,
				* "any" for anywhere */
	struct rtv_method_cfg mcfg;
	uint64_t seed;         /* run r of every arm gets seed + r */
	int cpu_dma_latency_us;   /* held for every run; -1 leaves it alone */
	double foreign_limit_pct; /* a run with more foreign CPU (% of one CPU) is flagged */
	double core_watts;        /* energy estimate without RAPL: W per busy CPU */
	bool keep_stopped;        /* a stopped run's values count in the summaries (what it
				   * measured so far), as one run's results do */
};

/* Fill a plan with the defaults: 3 repeats of 20 s after 1 s of warm-up, no
 * idle phase, no testbed, SCHED_FIFO 80, the last CPU as the RT CPU and the
 * others non-RT, cpu_dma_latency 0, foreign limit 10%, 5 W per core. */
void rtv_plan_init(struct rtv_plan *p);
/* Add an arm: a method combination (NULL: none) under the loads or not;
 * name NULL: the method's. -E2BIG beyond RTV_PLAN_MAX_ARMS. */
int rtv_plan_add_arm(struct rtv_plan *p, const char *name, const struct rtv_combo *method,
		     bool loaded);
/* Add an arm for each method or combination of list ("A,B,C+D"), under the
 * loads or not: -EINVAL with why in err (an unknown method, a conflict in a
 * combination, one listed twice, none, too many). */
int rtv_plan_add_methods(struct rtv_plan *p, const char *list, bool loaded, char *err,
			 size_t len);

/* One run's record. */
struct rtv_run {
	int arm, repeat;        /* repeat 1.. */
	int status;             /* 0, or -errno when the run failed (-EINTR: stopped) */
	bool disturbed;         /* foreign load above the limit */
	char note[RTV_METHOD_NOTE_LEN]; /* what the method did */
	double *val;            /* [series][metric] in the experiment's metric order; the
				 * engine's own metrics in series 0 */
	json_t **obj;           /* per series: the probes' metrics and details as JSON */
	json_t *acct;           /* the engine's metrics (CPU, energy, the method's cost) */
};

/* One arm's (and series') runs summarised. */
struct rtv_sum {
	int arm, series;
	int nruns, disturbed;
	struct rtv_summary *m;  /* per metric */
};

/* The outcome of one expected effect (struct rtv_expect) of an arm. */
struct rtv_check {
	const char *name, *metric, *ref; /* ref NULL: absolute */
	int arm;
	enum rtv_cmp cmp;
	double bound;
	double measured, ref_measured, value; /* value: measured / ref_measured, or measured */
	bool met;
};

struct rtv_exp_probe {          /* a probe of the experiment, with its run state */
	const struct rtv_probe *probe;
	void *cfg;
	void *state;                /* MAP_SHARED */
	size_t size;
	int nseries;
};

struct rtv_exp {
	struct rtv_plan plan;
	struct rtv_exp_probe probe[RTV_PLAN_MAX_PROBES]; /* the service first, then loads, evidence */
	int nprobes;
	/* the experiment's metrics: every probe's rows, then the engine's own */
	const struct rtv_metric **metric;
	int *metric_probe;          /* the probe a metric is read from; -1: the engine's */
	int nmetrics;
	int nseries;                /* the service's */
	unsigned caps;              /* RTV_CAP_* */
	struct rtv_run *runs;       /* repeats * narms, in run order */
	int nruns, done;
	struct rtv_testbed tb;
	bool have_tb;
	int cgroup_version;
	bool dma_latency_held;
	char cpuidle_driver[32];    /* "none": CPUs halt whatever cpu_dma_latency says */
	bool rapl;
	struct rtv_energy energy;
	int64_t start_realtime_ns, end_realtime_ns;
	void *acct;                 /* the engine's own metrics' state, per run */
	struct rtv_hist **plot;     /* per summary row and plotted metric: merged over repeats */
	int nplot;
	void *cur;                  /* the run in progress (the engine's) */
};

/* Progress: about 4 times a second during a run (run is c->runs index). */
typedef void (*rtv_exp_progress_fn)(void *arg, const struct rtv_exp *x, int run,
				    double elapsed_s);

/* Check the plan and allocate the runs. Changes nothing on the host.
 * -EINVAL with a message in err naming what is wrong (no service, an arm
 * whose method needs CPUs the plan lacks, a probe that cannot run here,
 * limits). */
int rtv_exp_init(struct rtv_exp *x, const struct rtv_plan *plan, char *err, size_t errlen);
void rtv_exp_release(struct rtv_exp *x);
/* Run every run (the caller holds the journal when the plan changes the
 * host). -EINTR when *stop was set: the runs done so far stay valid
 * (x->done, the last one with status -EINTR). -EEXIST when the plan wants
 * its own testbed and one is up. */
int rtv_exp_run(struct rtv_exp *x, const volatile sig_atomic_t *stop,
		rtv_exp_progress_fn progress, void *arg);

/* Summary rows: one per arm and series, arms in plan order. Fills out
 * (x->plan.narms * x->nseries rows; free with rtv_exp_sums_free). */
int rtv_exp_summarize(struct rtv_exp *x, struct rtv_sum **out);
void rtv_exp_sums_free(struct rtv_sum *s, int n);
/* The arms' expected effects, judged on the summaries: fills up to max
 * checks, returns their number. A check whose metric or reference arm is
 * not in the experiment, or whose values are missing, is left out. */
int rtv_exp_checks(const struct rtv_exp *x, const struct rtv_sum *s, int ns,
		   struct rtv_check *out, int max);

/* The index of the metric keyed key, or -1. */
int rtv_exp_metric(const struct rtv_exp *x, const char *key);
/* A run's value of a metric (by index) for a series; NaN when not measured. */
double rtv_exp_value(const struct rtv_exp *x, const struct rtv_run *r, int series, int metric);
/* The index of metric among the plotted distributions (x->plot), or -1. */
int rtv_exp_plot(const struct rtv_exp *x, int metric);
/* Whether the service measures series (a taskset's tasks), and series i's name. */
bool rtv_exp_has_series(const struct rtv_exp *x);
const char *rtv_exp_series_name(const struct rtv_exp *x, int series);
/* A label for a summary row: the arm's name, the series' name, or both. */
const char *rtv_exp_row_name(const struct rtv_exp *x, const struct rtv_sum *s, char *buf,
			     size_t len);
/* The loads' names joined by '+', or "none". */
const char *rtv_exp_load_name(const struct rtv_exp *x, bool loaded, char *buf, size_t len);
/* What the service's probe says of the run in progress. */
void rtv_exp_live(const struct rtv_exp *x, char *buf, size_t len);

/* ---- results (report.c) ---- */

/* {meta, config, runs, summary, checks}: the whole experiment. Takes meta. */
json_t *rtv_exp_json(const struct rtv_exp *x, const struct rtv_sum *s, int ns,
		     const struct rtv_check *c, int nc, json_t *meta);
/* The engine's part of the results' config object. */
void rtv_exp_config_json(const struct rtv_exp *x, json_t *conf);
/* Write text table t (1..RTV_TABLES) of the summaries to f; 0 when the
 * table has no column. */
int rtv_exp_table_write(FILE *f, const struct rtv_exp *x, const struct rtv_sum *s, int ns, int t);
/* One line per check: "cure: dedicated p99 ... (expected <= 1.5x): met". */
void rtv_exp_checks_write(FILE *f, const struct rtv_exp *x, const struct rtv_check *c, int nc);
enum rtv_exp_picture { RTV_PICTURE_CDF, RTV_PICTURE_PERCENTILES };
/* A picture of the plotted distribution keyed key (NULL: the first), one
 * curve per summary row; mark (in shown units, <= 0: none) a dashed line. */
int rtv_exp_svg_write(FILE *f, const struct rtv_exp *x, const struct rtv_sum *s, int ns,
		      const char *key, enum rtv_exp_picture kind, double mark,
		      const char *mark_label);
/* The same into the file at path; 0 or -errno. */
int rtv_exp_svg_write_file(const char *path, const struct rtv_exp *x, const struct rtv_sum *s,
			   int ns, const char *key, enum rtv_exp_picture kind, double mark,
			   const char *mark_label);

#endif
