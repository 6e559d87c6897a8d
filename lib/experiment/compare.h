/* The compare experiment: the outsourcing paper's NetRT/NetStream setup on
 * the testbed. The RT service (NetRT's echo, or a real one: memcached, a SIP
 * proxy, as in the paper's section 4.3) is measured with no load (the idle arm) and
 * under co-located bulk streams with each method (or combination),
 * interleaved and repeated, by the engine (engine.h); napi_poll evidence is
 * added where tracefs is mounted. */
#ifndef RTV_EXPERIMENT_COMPARE_H
#define RTV_EXPERIMENT_COMPARE_H

#include <stddef.h>

#include "experiment/engine.h"
#include "probe/memcached.h"
#include "probe/netrt.h"
#include "probe/sip.h"
#include "probe/stages.h"
#include "probe/stream.h"

struct rtv_compare_cfg {
	/* "A,B,C+D": methods and combinations, comma-separated; NULL: every
	 * method marked for the default run (rtv_methods_default) */
	const char *methods;
	const char *load;        /* a load probe's name: "stream" (rtvnet's own) or "iperf3" */
	const char *service;     /* a service probe's name: "netrt" (NULL), "memcached", "sip" */
	struct rtv_interval interval; /* every service's request schedule */
	struct rtv_netrt_probe_cfg netrt;
	struct rtv_mc_probe_cfg memcached;
	struct rtv_sip_probe_cfg sip;
	bool stages;             /* trace the RT datagrams' stages (probe/stages.h) */
	struct rtv_plan plan;    /* repeats, durations, CPUs, priorities, streams, ...
				  * (rtv_plan_init's defaults); its probes and arms
				  * are filled in by rtv_compare_init */
};

struct rtv_compare {
	struct rtv_compare_cfg cfg;
	struct rtv_stream_probe_cfg load_cfg;
	bool tracefs;            /* the napi_poll evidence is taken */
	struct rtv_stages_probe_cfg stages; /* with cfg.stages: each arm's stages, once run */
	struct rtv_exp x;
};

/* Defaults: rtv_plan_init's, a 2 s idle phase, 1 stream pair, rtvnet's own
 * stream, NetRT's 64-byte requests every 1-10 ms (uniform); memcached's and
 * SIP's clients' defaults (probe/memcached.h, probe/sip.h). */
void rtv_compare_cfg_init(struct rtv_compare_cfg *cfg);
/* Build the plan and the experiment; changes nothing on the host. -EINVAL
 * with a message in err naming the bad input ("unknown method 'frob' (known:
 * ...)", a conflict in a combination, a method listed twice, a method that
 * needs a CPU the RT CPUs leave none of, iperf3 missing, an unknown service
 * or one whose server is not installed, stages with a service other than
 * NetRT). */
int rtv_compare_init(struct rtv_compare *c, const struct rtv_compare_cfg *cfg, char *err,
		     size_t errlen);
void rtv_compare_release(struct rtv_compare *c);

#endif
