/* The compare experiment's plan; see compare.h. */
#include "experiment/compare.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/time.h"

void rtv_compare_cfg_init(struct rtv_compare_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	rtv_plan_init(&cfg->plan);
	cfg->plan.idle_phase_ns = 2 * RTV_NS_PER_S;
	cfg->plan.nstreams = 1;
	cfg->load = "stream";
	cfg->netrt.port = RTV_NETRT_DEFAULT_PORT;
	cfg->netrt.payload = RTV_NETRT_DEFAULT_PAYLOAD;
	cfg->interval = (struct rtv_interval){ .dist = RTV_DIST_UNIFORM,
					       .min_ns = RTV_NS_PER_MS,
					       .max_ns = 10 * RTV_NS_PER_MS };
	rtv_mc_client_cfg_init(&cfg->memcached.client);
	rtv_sip_client_cfg_init(&cfg->sip.client);
}

/* The service probe named, with its configuration. */
static int service_probe(struct rtv_compare *c, struct rtv_plan_probe *out, char *err, size_t len)
{
	const char *name = c->cfg.service ? c->cfg.service : "netrt";

	if (!strcmp(name, "netrt")) {
		c->cfg.netrt.interval = c->cfg.interval;
		*out = (struct rtv_plan_probe){ &rtv_probe_netrt, &c->cfg.netrt };
	} else if (!strcmp(name, "memcached")) {
		c->cfg.memcached.client.ol.interval = c->cfg.interval;
		*out = (struct rtv_plan_probe){ &rtv_probe_memcached, &c->cfg.memcached };
	} else if (!strcmp(name, "sip")) {
		c->cfg.sip.client.ol.interval = c->cfg.interval;
		*out = (struct rtv_plan_probe){ &rtv_probe_sip, &c->cfg.sip };
	} else {
		snprintf(err, len, "unknown service '%s' (known: netrt, memcached, sip)", name);
		return -EINVAL;
	}
	if (c->cfg.stages && out->probe != &rtv_probe_netrt) {
		snprintf(err, len, "--stages traces NetRT's datagrams only, not %s's", name);
		return -EINVAL;
	}
	return 0;
}

int rtv_compare_init(struct rtv_compare *c, const struct rtv_compare_cfg *cfg, char *err,
		     size_t errlen)
{
	struct rtv_plan *p;
	char defaults[256], why[256];
	const struct rtv_probe *load;
	int e;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	p = &c->cfg.plan;
	p->narms = p->nloads = p->nevidence = 0;
	p->testbed = RTV_TESTBED_OWN;
	if (!c->cfg.methods) {
		rtv_methods_default(defaults, sizeof(defaults));
		c->cfg.methods = defaults;
	}
	rtv_plan_add_arm(p, RTV_EXP_IDLE, NULL, false);
	e = rtv_plan_add_methods(p, c->cfg.methods, true, err, errlen);
	c->cfg.methods = cfg->methods;
	if (e < 0)
		return e;
	load = rtv_probe_find(c->cfg.load ? c->cfg.load : "stream");
	if (!load || load->role != RTV_PROBE_LOAD) {
		snprintf(err, errlen, "'%s' is not a load (stream, iperf3)", c->cfg.load);
		return -EINVAL;
	}
	c->load_cfg.nstreams = p->nstreams;
	e = service_probe(c, &p->service, err, errlen);
	if (e < 0)
		return e;
	p->load[p->nloads++] = (struct rtv_plan_probe){ load, &c->load_cfg };
	c->tracefs = !rtv_probe_napitrace.check(NULL, why, sizeof(why));
	if (c->tracefs)
		p->evidence[p->nevidence++] = (struct rtv_plan_probe){ &rtv_probe_napitrace, NULL };
	else
		rtv_info("%s", why);
	if (c->cfg.stages) {
		c->stages.port = c->cfg.netrt.port;
		c->stages.rt_cpus = p->mcfg.rt_cpus;
		p->evidence[p->nevidence++] = (struct rtv_plan_probe){ &rtv_probe_stages, &c->stages };
	}
	return rtv_exp_init(&c->x, p, err, errlen);
}

void rtv_compare_release(struct rtv_compare *c)
{
	rtv_exp_release(&c->x);
	rtv_stages_probe_cfg_release(&c->stages);
}
