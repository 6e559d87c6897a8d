/* dedicated: the RT hosts' processes and their packet processing alone on
 * the RT CPU set, the streams on the rest, with cpuset cgroups. On veth the
 * receive work runs on the sending CPU, so confining the senders confines the
 * packet processing; kernel threads of the RT devices (where they exist) are
 * pinned too. */
#include "methods/method.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/cgroup.h"
#include "host/sched.h"
#include "util/log.h"
#include "util/parse.h"

static int dedicated_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb, char *note,
			   size_t len)
{
	char rt[256], nonrt[256];
	const char *devs[2] = { tb->rt_client.dev, tb->rt_server.dev };
	pid_t tids[64];
	int err, n = 0;

	if (!CPU_COUNT(&cfg->nonrt_cpus) || !CPU_COUNT(&cfg->rt_cpus))
		return -EINVAL;
	rtv_cpulist_format(&cfg->rt_cpus, rt, sizeof(rt));
	rtv_cpulist_format(&cfg->nonrt_cpus, nonrt, sizeof(nonrt));
	err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_client.cgroup, rt);
	if (!err)
		err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_server.cgroup, rt);
	for (int i = 0; i < tb->nstreams && !err; i++) {
		err = rtv_cgroup_set_cpus(&tb->cg, tb->stream_client[i].cgroup, nonrt);
		if (!err)
			err = rtv_cgroup_set_cpus(&tb->cg, tb->stream_server[i].cgroup, nonrt);
	}
	if (err < 0) {
		rtv_err("cannot set the cpusets of the testbed's cgroups: %s", strerror(-err));
		return err;
	}
	for (int d = 0; d < 2; d++) {
		int k = rtv_method_dev_kthreads(devs[d], tids + n, 64 - n);

		if (k > 0)
			n += k;
	}
	for (int i = 0; i < n && !err; i++)
		err = rtv_sched_set_affinity(tids[i], &cfg->rt_cpus);
	snprintf(note, len, "RT hosts on CPU %s, streams on CPU %s%s", rt, nonrt,
		 n ? ", RT devices' kernel threads pinned to the RT CPUs" : "");
	return err;
}

const struct rtv_method rtv_method_dedicated = {
	.name = "dedicated",
	.summary = "RT hosts and their packet processing alone on the RT CPU(s)",
	.setup = dedicated_setup,
};
