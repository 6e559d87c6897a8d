/* prio: the outsourcing paper's "RT Preempt patch only" method. The RT
 * server and client run at SCHED_FIFO, and so do the kernel threads that
 * carry only the RT devices' packets (threaded IRQ handlers, threaded NAPI),
 * where such threads exist. */
#include "methods/method.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "host/sched.h"
#include "util/log.h"

static int prio_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
		      struct rtv_method_run *run)
{
	pid_t tids[64];
	int n = 0, err;

	if (!tb)
		return 0;
	struct rtv_tb_dev devs[4];
	int ndevs = rtv_testbed_path_devs(tb, 0, devs);

	for (int d = 0; d < ndevs; d++) {
		int k = rtv_kthreads_of_dev(devs[d].name, tids + n, 64 - n);

		if (k > 0)
			n += k;
	}
	for (int i = 0; i < n; i++) {
		err = rtv_sched_set(tids[i], SCHED_FIFO, cfg->rt_prio);
		if (err < 0) {
			rtv_err("cannot set kernel thread %d to SCHED_FIFO %d: %s", tids[i],
				cfg->rt_prio, strerror(-err));
			return err;
		}
	}
	if (n)
		snprintf(run->note, sizeof(run->note), "%d kernel thread%s of the RT devices at SCHED_FIFO %d",
			 n, n == 1 ? "" : "s", cfg->rt_prio);
	else
		snprintf(run->note, sizeof(run->note), "no kernel thread carries only the RT devices' "
			 "packets (no threaded IRQ or NAPI): their softirq work stays shared");
	return 0;
}

/* The paper's "RT Preempt patch only": better than vanilla under load. */
const struct rtv_method rtv_method_prio = {
	.name = "prio",
	.summary = "RT service, client and their kernel threads at SCHED_FIFO",
	.needs = RTV_NEED_RT_FIFO,
	.setup = prio_setup,
	.in_default = true,
	.expect = {
		{ "beats vanilla", "p99_us", "vanilla", RTV_CMP_LT, 1 },
	},
};
