/* Hosting environments compared (Abeni et al., sections 4.1-4.2): the
 * timer latency an RT task sees in each (cyclictest inside it), how fast an
 * instance starts and stops, and what it costs in memory, on the same
 * machine under the same load, interleaved as compare interleaves methods.
 *
 * A run of the plan: the environments are detected (one that cannot run
 * here is reported with the reason and left out); the work directory and
 * root filesystem are made (env/env.h, journaled); /dev/cpu_dma_latency is
 * held as compare holds it; then
 *   latency  for each repeat, for each load condition (idle; loaded: CPU
 *            and memory hogs of stress-ng on every CPU, started before and
 *            ended after the environments' runs of that condition; reserved:
 *            loaded, with a reservation for the workload), for each
 *            environment: cyclictest runs inside a new instance, its JSON
 *            and its text histogram are parsed and cross-checked, memory is
 *            read while it runs (PSS, RSS and USS of the program and of the
 *            runtime's processes that stay, and its cgroup's usage), and
 *            with a reservation its threads get SCHED_DEADLINE;
 *   startup  startup_runs instances of /bin/true per environment,
 *            interleaved one by one, each phase the runtime separates timed;
 *            then, where the environment is one command, that command timed
 *            by rtvnet and by hyperfine in alternating halves.
 * An environment that fails in a run is recorded with its message, and the
 * others go on. Every change is undone at the end. */
#ifndef RTV_EXPERIMENT_RUNTIMES_H
#define RTV_EXPERIMENT_RUNTIMES_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "env/env.h"
#include "env/memory.h"
#include "probe/cyclictest.h"
#include "reserve/reserve.h"

#define RTV_RT_MAX_ENVS    8
#define RTV_RT_MAX_REPEATS 32
#define RTV_RT_LOADS       3 /* idle, loaded, loaded with the reservation */

struct rtv_rt_plan {
	const struct rtv_env *env[RTV_RT_MAX_ENVS];
	int nenvs;
	int repeats;
	bool load[RTV_RT_LOADS];        /* which conditions run: [0] idle, [1] loaded,
					 * [2] loaded with the reservation (res) */
	int load_vm_mb;                 /* stress-ng --vm-bytes per CPU, MiB */
	struct rtv_cyclic_cfg cyc;      /* json_path is set per run */
	struct rtv_reserve res;         /* [2]: SCHED_DEADLINE for the workload's threads */
	int startup_runs;               /* /bin/true per environment; 0: no startup part */
	bool hyperfine;                 /* the cross-check (when hyperfine is installed) */
	int cpu_dma_latency_us;         /* -1: leave it alone */
	const char *dir;                /* work directory; NULL: RTV_ENV_DIR */
};

/* Defaults: every environment, 3 repeats, idle and loaded (no reserved
 * condition), 64 MiB per vm hog, cyclictest as Abeni ran it
 * (rtv_cyclic_cfg_init),
 * 50 startup runs with the hyperfine cross-check, cpu_dma_latency 0. */
void rtv_rt_plan_init(struct rtv_rt_plan *p);

/* One cyclictest run. */
struct rtv_rt_lat {
	int env, load, repeat;
	int status;                     /* 0, or -errno: err says what */
	char err[256];
	struct rtv_cyclic_result res;   /* from the JSON, percentiles from the histogram */
	json_t *json;                   /* cyclictest's own JSON document */
	bool cross_ok;                  /* min/avg/max equal cyclictest's summary lines */
	char cross_msg[256];
	struct rtv_mem mem;             /* the program and the runtime's keepers */
	int nkeepers;
	int64_t cgroup_bytes;           /* -1: no cgroup of its own */
	char note[128];                 /* reservation, etc. */
};

/* One environment's startup. */
struct rtv_rt_start {
	int status;
	char err[256];
	int n;                          /* runs done */
	double *phase_ms[RTV_ENV_PHASES + 1]; /* per run; the last: total */
	double *cmd_ms;                 /* the one command, timed by rtvnet */
	int ncmd;
	double *hf_ms;                  /* hyperfine's times of it */
	int nhf;
	char command[600];              /* the command, as hyperfine ran it */
	char hf_err[300];               /* why there is no cross-check */
};

struct rtv_rt {
	struct rtv_rt_plan plan;
	struct rtv_envs envs;
	int avail[RTV_RT_MAX_ENVS];     /* detect's result per environment */
	char why[RTV_RT_MAX_ENVS][256];
	struct rtv_rt_lat *lat;         /* repeats x loads x envs, in run order */
	int nlat, done;
	struct rtv_rt_start start[RTV_RT_MAX_ENVS];
	bool dma_latency_held;
	char cpuidle_driver[32];
	char load_cmd[200];
	int64_t start_realtime_ns, end_realtime_ns;
};

/* Progress: a line saying what runs now. */
typedef void (*rtv_rt_progress_fn)(void *arg, const char *what);

/* Check the plan, detect the environments (nothing changes on the host):
 * 0, or -EINVAL with err naming what is wrong (no environment, repeats or
 * startup runs out of range). */
int rtv_rt_init(struct rtv_rt *x, const struct rtv_rt_plan *p, char *err, size_t len);
/* Run it (the journal open): 0, -EINTR when stopped, -errno when nothing
 * could be measured. */
int rtv_rt_run(struct rtv_rt *x, const volatile sig_atomic_t *stop, rtv_rt_progress_fn progress,
	       void *arg);
void rtv_rt_release(struct rtv_rt *x);

/* The results: tables (latency, startup, memory) to f; the JSON document's
 * config and results ("environments": one object per environment with its
 * cyclictest blocks in cyclictest's own schema); a CDF picture per load
 * condition. */
const char *rtv_rt_load_name(int load);
void rtv_rt_tables(FILE *f, const struct rtv_rt *x);
json_t *rtv_rt_config_json(const struct rtv_rt *x);
json_t *rtv_rt_json(const struct rtv_rt *x);
int rtv_rt_svg(FILE *f, const struct rtv_rt *x, int load);
/* The ranking and ratios the paper gives, as lines of text ("crun starts
 * 2.9x faster than runc: 15.8 ms against 45.1 ms mean"). */
void rtv_rt_findings(FILE *f, const struct rtv_rt *x);

#endif
