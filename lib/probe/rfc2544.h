/* RFC 2544 on the RT path: the zero-loss throughput for each frame size and
 * the round-trip latency at fixed offered rates, as the KBP and EE-KBP
 * papers report them (their sections 5), run by the experiment engine as a
 * service probe, so once per method.
 *
 * A run: the reflector (probe/udpgen.h) in the testbed's RT server host,
 * placed by the run's method as the RT service is; the generator in the RT
 * client host (an external peer, on the peer CPUs), which runs the whole
 * procedure and ends the run when it is done:
 *  1. for each frame size: one trial at the most it is allowed to offer
 *     (max_pps), whose achieved rate is the generator's limit for that
 *     size; then RFC 2544 section 26.1's search for the highest rate with
 *     zero loss between min_pps and that limit, to resolution_pct;
 *  2. for each latency frame size and rate (a share of that size's
 *     throughput, or an absolute rate, skipped when above the generator's
 *     limit): one trial in which every packet's round trip is measured
 *     (RFC 2544 section 26.2 times one tagged frame per trial: this extends
 *     it), with its losses, and the CPU the device under test used (every
 *     CPU's time but the generator's own) and the RT CPUs' busy share;
 *  3. with sockperf: at one of those points, sockperf's under-load client
 *     at the same rate and frame size against a sockperf server beside the
 *     reflector, its p50 set against rtvnet's.
 * Each trial is followed by residual_ns in which late replies still count
 * (RFC 2544 section 23: 2 s) and preceded by settle_ns with no traffic
 * (RFC: 5 s); each records sent, received, lost, duplicated and reordered
 * packets and where packets were dropped meanwhile: the RT server's and
 * client's namespaces' device drops and UDP receive-buffer and input
 * errors, the host namespace's device drops, and /proc/net/softnet_stat's
 * backlog drops and squeezes.
 *
 * With a target (a reflector elsewhere: any UDP echo, such as
 * `rtvnet rfc2544 reflect` on the host under test) there is no testbed:
 * the generator runs here. */
#ifndef RTV_PROBE_RFC2544_H
#define RTV_PROBE_RFC2544_H

#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/hist.h"

#define RTV_RFC2544_DEFAULT_PORT 7202 /* the reflector's; sockperf's server on the next */
#define RTV_RFC2544_MAX_SIZES    8
#define RTV_RFC2544_MAX_RATES    8
#define RTV_RFC2544_MAX_TRIALS   32 /* per point: a search's, kept for the JSON */
#define RTV_RFC2544_MIN_FRAME    64
#define RTV_RFC2544_MAX_FRAME    1518 /* the testbed's MTU of 1500 */

/* A rate of a latency trial: value % of the frame size's zero-loss
 * throughput, or value packets per second. */
struct rtv_rfc2544_rate {
	double value;
	bool pct;
};

struct rtv_rfc2544_probe_cfg {
	unsigned sizes[RTV_RFC2544_MAX_SIZES];     /* frame bytes, FCS included: the searches */
	int nsizes;
	unsigned lat_sizes[RTV_RFC2544_MAX_SIZES]; /* the latency trials' */
	int nlat_sizes;
	struct rtv_rfc2544_rate rates[RTV_RFC2544_MAX_RATES];
	int nrates;
	int64_t trial_ns;         /* each trial's sending time (RFC: 60 s) */
	int64_t residual_ns;      /* after it, late replies still count (RFC: 2 s) */
	int64_t settle_ns;        /* before each trial, no traffic (RFC: 5 s) */
	double min_pps, max_pps;  /* the search's bounds; max also caps what is offered */
	double resolution_pct;    /* the search ends when failed - passed <= this % of failed */
	int max_trials;           /* per search */
	uint16_t port;
	bool sockperf;            /* the cross-check, at ... */
	struct rtv_rfc2544_rate sockperf_rate; /* ... this rate of the first latency size */
	int sockperf_rx_cpu;      /* >= 0: its receiver thread on this CPU, its sender on
				   * the generator's (its two threads share the peer CPUs
				   * otherwise); -1: not pinned */
	const char *target;       /* "ADDR:PORT" of a reflector elsewhere; NULL: the testbed's */
	cpu_set_t rt_cpus;        /* whose busy share is reported */
	double core_watts;        /* the power estimate: W per busy CPU */
};

/* Where packets were dropped during a trial (deltas). */
struct rtv_rfc2544_drops {
	uint64_t rts_dev, rts_rcvbuf, rts_inerr;  /* the RT server's namespace */
	uint64_t rtc_dev, rtc_rcvbuf, rtc_inerr;  /* the generator's */
	uint64_t host_dev;                        /* the host namespace (bridge, its ports) */
	uint64_t softnet, squeezed;               /* /proc/net/softnet_stat, every CPU */
};

struct rtv_rfc2544_trial {
	double rate_pps, offered_pps;             /* asked for, and offered */
	uint64_t sent, received, lost, dups, reordered, stray;
	uint64_t send_errors, gen_rx_drops;       /* the generator's own: refused sends, and
						   * replies its socket dropped (counted lost) */
	int64_t lag_max_ns;                       /* the generator's worst lateness */
	double dut_cpu_pct, rt_cpu_pct;           /* % of one CPU */
	struct rtv_rfc2544_drops drops;
};

/* One series: a frame size's search ("64B"), or a latency point
 * ("64B@50%", "512B@100kpps"). Values that do not apply are NaN. */
struct rtv_rfc2544_point {
	struct rtv_hist rtt;      /* latency: every packet's round trip */
	double frame;             /* bytes */
	double tput_pps, tput_mbps, limit_pps, gen_bound; /* search: gen_bound 1 when the
							 * generator's limit passed */
	double rate_pps, offered_pps, loss_pct, reordered;
	double dut_cpu_pct, rt_cpu_pct, power_w;
	double sockperf_p50_us, sockperf_p99_us, sockperf_max_us, sockperf_ratio;
	int ntrials;
	struct rtv_rfc2544_trial trial[RTV_RFC2544_MAX_TRIALS];
	char note[96];            /* why a point was not measured, what limited it */
};

/* Defaults: every RFC 2544 Ethernet size (64 128 256 512 1024 1280 1518),
 * latency at the papers' 64, 512 and 1518 bytes and 10%, 50%, 90%, 100% of
 * each one's throughput and 100k and 1M pps (where reachable); 2 s trials
 * (a deviation from the RFC's 60 s, said in the output), the RFC's 2 s and
 * 5 s waits, a search from 1000 pps to at most 2M pps to 2%, sockperf at
 * 50%, port RTV_RFC2544_DEFAULT_PORT, 5 W per busy CPU. */
void rtv_rfc2544_probe_cfg_init(struct rtv_rfc2544_probe_cfg *cfg);
/* Parse "64,512,1518" into sizes (at most max): 0 or -EINVAL with why
 * in err (a size outside 64..1518, not a number, too many). */
int rtv_rfc2544_sizes_parse(const char *s, unsigned *sizes, int max, int *n, char *err,
			    size_t len);
/* Parse "10%,50%,100k,1M,250000" into rates; the same. */
int rtv_rfc2544_rates_parse(const char *s, struct rtv_rfc2544_rate *rates, int max, int *n,
			    char *err, size_t len);
/* "50%", "100kpps" */
void rtv_rfc2544_rate_name(const struct rtv_rfc2544_rate *r, char *buf, size_t len);
/* Check a configuration: 0 or -EINVAL with why (a latency size at a share of
 * a throughput that is not searched, bounds, durations). */
int rtv_rfc2544_cfg_check(const struct rtv_rfc2544_probe_cfg *cfg, char *err, size_t len);

/* The series: nsizes searches, then nlat_sizes x nrates latency points. */
int rtv_rfc2544_nseries(const struct rtv_rfc2544_probe_cfg *cfg);
bool rtv_rfc2544_series_is_search(const struct rtv_rfc2544_probe_cfg *cfg, int i);
/* An estimate of one run's length, for the caller to say. */
int64_t rtv_rfc2544_run_estimate_ns(const struct rtv_rfc2544_probe_cfg *cfg);

#endif
