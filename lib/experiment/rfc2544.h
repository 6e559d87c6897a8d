/* The rfc2544 experiment (`rtvnet rfc2544`): RFC 2544's zero-loss throughput
 * per frame size and latency at fixed rates on the testbed's RT path
 * (probe/rfc2544.h), once per method, interleaved and repeated by the engine
 * (engine.h), with no co-located load unless one is asked for; then the
 * papers' claims judged on the summaries:
 *  - KBP's: busy poll against vanilla NAPI, its max and p99.9 RTT at each
 *    absolute rate (the same offered rate for both: a share of each one's
 *    own throughput is not) lower, its zero-loss throughput per frame size
 *    not lower;
 *  - EE-KBP's: hybrid's p99.9 within 1.3x busypoll's at each absolute rate,
 *    and its CPU cost falling with the rate (lower at each lower rate of a
 *    size, shares included: one method's points);
 *  - the cross-check: rtvnet's p50 within 10% of sockperf's at the same rate.
 * With a target, one arm measures a reflector elsewhere and nothing on this
 * host is changed. */
#ifndef RTV_EXPERIMENT_RFC2544_H
#define RTV_EXPERIMENT_RFC2544_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "experiment/engine.h"
#include "probe/rfc2544.h"
#include "probe/stream.h"

#define RTV_RFC2544_DEFAULT_METHODS "vanilla,busypoll,hybrid"

struct rtv_rfc2544_cfg {
	const char *methods;     /* "A,B,C+D"; NULL: RTV_RFC2544_DEFAULT_METHODS */
	const char *load;        /* NULL: none; a load probe's name ("stream", "iperf3") */
	struct rtv_rfc2544_probe_cfg probe;
	struct rtv_plan plan;    /* repeats, CPUs, priorities, ...; its probes and arms are
				  * filled in by rtv_rfc2544_init */
};

struct rtv_rfc2544 {
	struct rtv_rfc2544_cfg cfg;
	struct rtv_stream_probe_cfg load_cfg;
	struct rtv_exp x;
}; /* points into itself: not to be copied */

/* A claim of the papers, judged for one point (or frame size). */
struct rtv_rfc2544_claim {
	char what[48];       /* "KBP max RTT", "EE-KBP hybrid p99.9", "sockperf p50" */
	char point[32];      /* "64B@50%" */
	char arms[48];       /* "busypoll vs vanilla" */
	double value, bound; /* the ratio measured, the bound it is held to ... */
	const char *cmp;     /* ... and how: "<", "<=", ">=", "within 1 +-", "falls, ratio <" */
	bool met;
};

/* Defaults: rtv_plan_init's with 1 repeat, a 2 s idle phase, the probe's
 * defaults (probe/rfc2544.h), no load. */
void rtv_rfc2544_cfg_init(struct rtv_rfc2544_cfg *cfg);
/* Build the plan and the experiment; changes nothing on the host. -EINVAL
 * with a message naming the bad input. */
int rtv_rfc2544_init(struct rtv_rfc2544 *r, const struct rtv_rfc2544_cfg *cfg, char *err,
		     size_t errlen);
void rtv_rfc2544_release(struct rtv_rfc2544 *r);

/* The claims, judged on the summaries (rtv_exp_summarize): up to max, their
 * number. A claim whose arms are not in the experiment is left out. */
int rtv_rfc2544_claims(const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
		       struct rtv_rfc2544_claim *out, int max);
/* The throughput table (KBP's), the latency table (EE-KBP's) and the claims. */
void rtv_rfc2544_write(FILE *f, const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
		       const struct rtv_rfc2544_claim *c, int nc);
/* {meta, config, runs, summary, checks: [], claims}: takes meta. */
json_t *rtv_rfc2544_json(const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
			 const struct rtv_rfc2544_claim *c, int nc, json_t *meta);
/* A picture of metric key (p999_us, max_us) against the offered rate, one
 * curve per method and latency frame size. 0 or -errno. */
int rtv_rfc2544_svg_write_file(const char *path, const struct rtv_rfc2544 *r,
			       const struct rtv_sum *s, int ns, const char *key);

#endif
