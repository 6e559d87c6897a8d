/* dedicated: the RT hosts' processes and their packet processing alone on
 * the RT CPU set, the streams on the rest, with cpuset cgroups. On veth the
 * receive work runs on the sending CPU, so confining the senders confines the
 * packet processing; kernel threads of the RT devices (where they exist) are
 * pinned too. "Alone" as in the paper's dedicated processor and tuned's
 * cpu-partitioning: other interrupts, every thread that may move and unbound
 * workqueues go to the other CPUs. All of it is journaled and undone after
 * the run. */
#include "methods/method.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/journal.h"
#include "host/sched.h"
#include "util/log.h"
#include "util/parse.h"

/* Steer every interrupt that may move off the RT CPUs; returns the count. */
static int move_irqs(const cpu_set_t *rt, const cpu_set_t *nonrt)
{
	char path[300], cur[256], list[256];
	struct dirent *de;
	DIR *d = opendir("/proc/irq");
	int moved = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		cpu_set_t set, both;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/irq/%s/smp_affinity_list", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(cur, sizeof(cur), f))
			cur[0] = '\0';
		fclose(f);
		cur[strcspn(cur, "\n")] = '\0';
		if (rtv_parse_cpulist(cur, CPU_SETSIZE, &set) < 0)
			continue;
		CPU_AND(&both, &set, rt);
		if (!CPU_COUNT(&both))
			continue;
		CPU_XOR(&set, &set, &both);
		if (!CPU_COUNT(&set))
			set = *nonrt;
		rtv_cpulist_format(&set, list, sizeof(list));
		if (!rtv_host_write(path, list)) /* some IRQs cannot move: EIO */
			moved++;
	}
	closedir(d);
	return moved;
}

/* Unbound workqueues' CPU mask (hex), where the kernel has one. */
static int move_workqueues(const cpu_set_t *nonrt)
{
	static const char path[] = "/sys/devices/virtual/workqueue/cpumask";
	unsigned long long mask = 0;
	char val[32];

	if (access(path, W_OK))
		return 0;
	for (int i = 0; i < 64; i++)
		if (CPU_ISSET(i, nonrt))
			mask |= 1ULL << i;
	snprintf(val, sizeof(val), "%llx", mask);
	return rtv_host_write(path, val) ? 0 : 1;
}

int rtv_method_partition(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb, char *note,
			 size_t len)
{
	char rt[256], nonrt[256];
	struct rtv_tb_dev devs[4];
	int ndevs = rtv_testbed_path_devs(tb, 0, devs);
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
		/* peers placed by the testbed stay where they are, for every method */
		if (!tb->shape.peer_cpus[0])
			err = rtv_cgroup_set_cpus(&tb->cg, tb->stream_client[i].cgroup, nonrt);
		if (!err)
			err = rtv_cgroup_set_cpus(&tb->cg, tb->stream_server[i].cgroup, nonrt);
	}
	if (err < 0) {
		rtv_err("cannot set the cpusets of the testbed's cgroups: %s", strerror(-err));
		return err;
	}
	for (int d = 0; d < ndevs; d++) {
		int k = rtv_kthreads_of_dev(devs[d].name, tids + n, 64 - n);

		if (k > 0)
			n += k;
	}
	for (int i = 0; i < n && !err; i++)
		err = rtv_sched_set_affinity(tids[i], &cfg->rt_cpus);
	if (err < 0)
		return err;
	int irqs = move_irqs(&cfg->rt_cpus, &cfg->nonrt_cpus);
	int threads = rtv_sched_move_others(&cfg->rt_cpus, &cfg->nonrt_cpus, "/" RTV_TESTBED_CGROUP "/");
	int wq = move_workqueues(&cfg->nonrt_cpus);

	snprintf(note, len, "RT hosts on CPU %.64s, streams on CPU %.64s%s; moved off the RT CPUs: "
		 "%d IRQs, %d threads%s", rt, nonrt,
		 n ? ", RT devices' kernel threads pinned to the RT CPUs" : "", irqs < 0 ? 0 : irqs,
		 threads < 0 ? 0 : threads, wq ? ", unbound workqueues" : "");
	return 0;
}

/* The paper's dedicated processor: p99 under load back to idle's (within
 * 1.5x), at no more than 10% of the stream's throughput. */
const struct rtv_method rtv_method_dedicated = {
	.name = "dedicated",
	.summary = "RT hosts and their packet processing alone on the RT CPU(s)",
	.needs = RTV_NEED_PARTITION,
	.in_default = true,
	.expect = {
		{ "cure", "p99_us", "idle", RTV_CMP_LE, 1.5 },
		{ "cure", "stream_gbit_s", "vanilla", RTV_CMP_GE, 0.9 },
	},
};
