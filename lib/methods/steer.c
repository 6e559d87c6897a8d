/* steer: the bulk devices' receive work kept off the RT CPUs, the bulk
 * applications left free. On veth (and any device without NAPI) a packet's
 * whole receive path (bridge, forwarding, TCP, the ACKs it sends back) runs
 * in the NET_RX softirq of the CPU that sent it, so a stream sink that runs
 * on the RT CPU, or a stream source woken there, brings the stream's softirq
 * work to the RT CPU, where it runs unpreemptible ahead of the RT service's
 * threads (preempt=none makes it worse: the RT thread also waits for the
 * bulk thread's next preemption point). RPS on every stream device's receive
 * queues, set to the non-RT CPUs, moves that backlog work there by the flow
 * hash (an IPI per batch), whoever sent the packet; nothing confines the bulk
 * processes themselves (that would be dedicated). On a real host it steers
 * the devices given as non-RT (`rtvnet apply --nonrt-dev`). It joins other
 * methods ("separate+steer", "prio+steer"). Its cost is the non-RT CPUs'
 * capacity: measured here with 2 streams and one non-RT CPU, separate+steer
 * had idle's p99 at 63% of vanilla's throughput (README), which is why
 * separate does not include it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "methods/method.h"
#include "net/rps.h"
#include "util/log.h"
#include "util/parse.h"

int rtv_method_steer_bulk(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			  char *note, size_t len)
{
	char nonrt[128];
	int n = 0, err = 0;

	if (!CPU_COUNT(&cfg->nonrt_cpus))
		return -EINVAL;
	rtv_cpulist_format(&cfg->nonrt_cpus, nonrt, sizeof(nonrt));
	if (tb) {
		for (int s = 1; s <= tb->nstreams && !err; s++) {
			struct rtv_tb_dev d[4];
			int nd = rtv_testbed_path_devs(tb, s, d);

			for (int i = 0; i < nd && !err; i++, n++) {
				err = rtv_rps_set_journaled(d[i].ns, d[i].name, &cfg->nonrt_cpus);
				if (err < 0)
					rtv_err("cannot set the RPS CPUs of '%s' in '%s': %s", d[i].name,
						d[i].ns, strerror(-err));
			}
		}
	} else {
		for (int i = 0; i < cfg->nnonrt_devs && !err; i++, n++) {
			const struct rtv_dev *d = &cfg->nonrt_dev[i];

			err = rtv_rps_set_journaled(d->netns[0] ? d->netns : NULL, d->name,
						    &cfg->nonrt_cpus);
			if (err < 0)
				rtv_err("cannot set the RPS CPUs of '%s': %s", d->name, strerror(-err));
		}
	}
	if (err < 0)
		return err;
	snprintf(note, len, "%d bulk device%s' backlog work steered (RPS) to CPU %.64s", n,
		 n == 1 ? "" : "s", nonrt);
	return 0;
}

/* The shared-CPU target's two bounds (issue 12): idle's tail, and the bulk
 * throughput kept. */
const struct rtv_method rtv_method_steer = {
	.name = "steer",
	.summary = "bulk devices' receive work steered (RPS) off the RT CPU, bulk applications free",
	.needs = RTV_NEED_STEER,
	.in_default = false,
	.expect = {
		{ "shared cure", "p99_us", "idle", RTV_CMP_LE, 1.25 },
		{ "keeps the CPU", "stream_gbit_s", "vanilla", RTV_CMP_GE, 0.95 },
	},
};
