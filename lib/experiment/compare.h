/* The compare experiment: the outsourcing paper's NetRT/NetStream setup on the
 * testbed. An idle baseline (no stream) and each method under stream load,
 * interleaved (idle, m1, m2, ..., idle, m1, ...) and repeated; per run the RT
 * latency histogram, stream throughput, CPU use and foreign load. */
#ifndef RTV_EXPERIMENT_COMPARE_H
#define RTV_EXPERIMENT_COMPARE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/cpuload.h"
#include "host/energy.h"
#include "methods/method.h"
#include "probe/netrt.h"
#include "stats/hist.h"
#include "stats/interval.h"
#include "stats/summary.h"

#define RTV_COMPARE_MAX_METHODS 16
#define RTV_COMPARE_MAX_REPEATS 64
#define RTV_COMPARE_IDLE "idle"

enum rtv_load { RTV_LOAD_NONE, RTV_LOAD_BUILTIN, RTV_LOAD_IPERF3 };

struct rtv_compare_cfg {
	const struct rtv_method *methods[RTV_COMPARE_MAX_METHODS];
	int nmethods;
	int repeats;
	int64_t duration_ns;   /* measured part of each run */
	int64_t warmup_ns;     /* discarded before it */
	struct rtv_interval interval;
	size_t payload;
	int nstreams;
	enum rtv_load load;
	struct rtv_method_cfg mcfg;
	uint64_t seed;
	int cpu_dma_latency_us;   /* held for every run; -1 leaves it alone */
	double foreign_limit_pct; /* a run with more foreign CPU (of one CPU) is flagged */
	int64_t idle_phase_ns;    /* per method run: its pollers' CPU with no traffic at all */
	double core_watts;        /* energy estimate without RAPL: W per busy CPU */
};

struct rtv_compare_run {
	char method[16];     /* "idle" or a method's name */
	enum rtv_load load;
	int repeat;          /* 1.. */
	int status;          /* 0, or -errno when the run failed */
	struct rtv_netrt_result rt;
	double stream_gbit_s; /* NaN without load */
	struct rtv_cpuload cpu;
	bool disturbed;
	/* cost of the method's pollers and the RT devices' NAPI kthreads, % of
	 * one CPU: during the measured window, and with no traffic at all
	 * (cfg.idle_phase_ns before the run's traffic starts) */
	double poller_load_cpu_pct, poller_idle_cpu_pct;
	double energy_j;        /* RAPL packages over the window; NaN without RAPL */
	double energy_est_j;    /* without RAPL: busy CPU-seconds x cfg.core_watts */
	double rt_net_rx_per_s; /* NET_RX softirqs per second on the RT CPUs */
	double rt_napi_path_pct; /* RT server's requests that came through a NAPI (sampled) */
	/* napi:napi_poll on the RT devices with work (tracefs; NaN without):
	 * the share made in softirq, by a poller thread, by a NAPI kthread */
	uint64_t rt_polls;
	double rt_polls_softirq_pct, rt_polls_poller_pct, rt_polls_kthread_pct;
	uint64_t wakeups;       /* hybrid: poller wake-ups in the window */
	int64_t wake_p99_ns;    /* hybrid: their latency, packet to poller awake; -1 none */
	char note[512];
};

struct rtv_compare {
	struct rtv_compare_cfg cfg;
	struct rtv_compare_run *runs; /* repeats * (1 + nmethods), in run order */
	int nruns, done;
	int cgroup_version;
	bool dma_latency_held;
	char cpuidle_driver[32]; /* "none": CPUs halt whatever cpu_dma_latency says */
	bool rapl;               /* energy from powercap RAPL, else estimated */
	bool tracefs;            /* napi:napi_poll traced on the RT devices */
	struct rtv_energy energy;
	int64_t start_realtime_ns, end_realtime_ns;
};

/* Live progress: called about 4 times a second during a run. */
typedef void (*rtv_compare_progress_fn)(void *arg, const struct rtv_compare *c, int index,
					double elapsed_s, const struct rtv_netrt_result *live);

const char *rtv_load_name(enum rtv_load load);

/* Allocate runs for cfg; -EINVAL beyond the limits above. */
int rtv_compare_init(struct rtv_compare *c, const struct rtv_compare_cfg *cfg);
void rtv_compare_release(struct rtv_compare *c);
/* Bring the testbed up, run everything, tear it down (all journaled; the
 * caller holds the journal). -EINTR when *stop was set; runs done so far
 * stay valid (c->done). */
int rtv_compare_run(struct rtv_compare *c, const volatile sig_atomic_t *stop,
		    rtv_compare_progress_fn progress, void *arg);

/* Per method (idle first), over its repeats. */
struct rtv_compare_summary {
	char method[16];
	int nruns, disturbed;
	struct rtv_summary mean_us, p50_us, p99_us, p999_us, max_us, sd_us, over_1ms_pct;
	struct rtv_summary gbit_s, cpu_pct, softirq_pct, kthread_pct, foreign_pct;
	struct rtv_summary poller_load_cpu_pct, poller_idle_cpu_pct, energy_j, rt_net_rx_per_s,
			   wakeups_per_s, napi_path_pct, polls_softirq_pct, polls_poller_pct,
			   polls_kthread_pct;
	struct rtv_hist rtt; /* all repeats merged, for the CDF */
};
/* Fills out[] (1 + nmethods entries); returns the count. */
int rtv_compare_summarize(const struct rtv_compare *c, struct rtv_compare_summary *out, int max);
/* The results document: {meta, config, runs, summary}. Takes meta. */
json_t *rtv_compare_json(const struct rtv_compare *c, const struct rtv_compare_summary *s,
			 int ns, json_t *meta);

#endif
