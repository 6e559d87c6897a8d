#include "methods/method.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cgroup.h"
#include "host/sched.h"
#include "methods/rxpath.h"
#include "util/log.h"
#include "util/parse.h"

const struct rtv_method *const rtv_methods[] = {
	&rtv_method_vanilla,
	&rtv_method_prio,
	&rtv_method_dedicated,
	&rtv_method_separate,
	&rtv_method_busypoll,
	&rtv_method_hybrid,
	NULL,
};

const struct rtv_method *rtv_method_find(const char *name)
{
	for (int i = 0; rtv_methods[i]; i++)
		if (!strcmp(rtv_methods[i]->name, name))
			return rtv_methods[i];
	return NULL;
}

int rtv_method_dev_kthreads(const char *dev, pid_t *tids, int max)
{
	char pat[64];
	int n;

	snprintf(pat, sizeof(pat), "irq/*-%s*", dev);
	n = rtv_kthreads_find(pat, tids, max);
	if (n < 0)
		return n;
	snprintf(pat, sizeof(pat), "napi/%s-*", dev);
	int m = rtv_kthreads_find(pat, tids + n, max - n);
	return m < 0 ? m : n + m;
}

int rtv_method_rt_place(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			enum rtv_role role, pid_t pid)
{
	int err;

	(void)tb;
	if (role != RTV_ROLE_RT_CLIENT && role != RTV_ROLE_RT_SERVER)
		return 0;
	err = rtv_sched_set_process(pid, SCHED_FIFO, cfg->rt_prio);
	if (!err && CPU_COUNT(&cfg->rt_cpus))
		err = rtv_sched_set_affinity(pid, &cfg->rt_cpus);
	return err;
}

int rtv_method_poller_place(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			    enum rtv_role role, pid_t pid)
{
	struct rtv_method_cfg c = *cfg;

	if (cfg->poller_apart)
		c.rt_cpus = cfg->nonrt_cpus;
	return rtv_method_rt_place(&c, tb, role, pid);
}

int rtv_method_rx_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
			struct rtv_method_run *run, int mode, bool partition)
{
	struct rtv_method_cfg c = *cfg;
	struct rtv_rx_plan *plan = malloc(sizeof(*plan));
	char why[256], part[sizeof(run->note)] = "";
	int err;

	if (!plan)
		return -ENOMEM;
	if (tb) {
		/* pollers poll the RT service's device, the server's, as on a
		 * real host (the client stands for the remote peer; with two
		 * NAPIs one poller cannot hold either continuously: io_uring
		 * polls each once per round and releases it) */
		const struct rtv_tb_host *h[2] = { &tb->rt_server, &tb->rt_client };

		c.nrt_devs = mode == RTV_RX_SEPARATE ? 2 : 1;
		c.nnonrt_devs = 0;
		for (int i = 0; i < c.nrt_devs; i++) {
			snprintf(c.rt_dev[i].netns, sizeof(c.rt_dev[i].netns), "%s", h[i]->ns);
			snprintf(c.rt_dev[i].name, sizeof(c.rt_dev[i].name), "%s", h[i]->dev);
		}
	}
	err = rtv_rx_plan(&c, (enum rtv_rx_mode)mode, plan, why, sizeof(why));
	if (err < 0) {
		rtv_err("%s cannot run here: %s", rtv_rx_mode_name((enum rtv_rx_mode)mode), why);
		goto out;
	}
	if (tb && partition) {
		char nonrt[128];

		/* the RT CPU: the poller's, and the RT hosts' too when shared */
		err = rtv_method_dedicated.setup(&c, tb, run);
		if (err < 0)
			goto out;
		rtv_cpulist_format(&c.nonrt_cpus, nonrt, sizeof(nonrt));
		if (c.poller_apart) {
			err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_client.cgroup, nonrt);
			if (!err)
				err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_server.cgroup, nonrt);
			if (err < 0)
				goto out;
			snprintf(part, sizeof(part), "; the poller alone on the RT CPU, RT hosts at "
				 "SCHED_FIFO %d with the streams on CPU %.64s", c.rt_prio, nonrt);
		} else {
			snprintf(part, sizeof(part), "; %.240s; the poller below them", run->note);
		}
	}
	err = rtv_rx_apply(plan, &c, &run->rx);
	if (err < 0)
		goto out;
	snprintf(run->note, sizeof(run->note), "%s (%.200s)%.260s", rtv_rx_variant_name(plan->variant),
		 plan->variant_why, part);
out:
	free(plan);
	return err;
}

int rtv_method_run_poll(struct rtv_method_run *run, int timeout_ms)
{
	return rtv_rx_poll(run ? run->rx : NULL, timeout_ms);
}

int64_t rtv_method_run_cpu_ns(const struct rtv_method_run *run)
{
	return run ? rtv_rx_cpu_ns(run->rx) : 0;
}

void rtv_method_run_stop(struct rtv_method_run *run)
{
	if (!run)
		return;
	rtv_rx_free(run->rx);
	run->rx = NULL;
}
