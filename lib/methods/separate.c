/* separate: the outsourcing paper's separate RT poll list (section 3.1,
 * net.core.rtnet_prio) on a stock kernel. The RT devices' NAPIs are threaded,
 * so that their processing runs in kthreads of their own instead of the
 * per-CPU softirq poll list where it queues behind other devices'; those
 * kthreads get SCHED_FIFO rt_prio and the RT CPUs (rxpath.c). On the testbed
 * the RT client and server join them (SCHED_FIFO rt_prio on the RT CPUs):
 * measured here, a FIFO NAPI thread with normal-priority applications made
 * the tail worse than vanilla, because the woken application then waits
 * behind the streams; the whole RT path on one CPU at RT priority is what
 * helps.
 *
 * The CPU stays shared: the bulk streams keep running on the RT CPU, and
 * with them their NET_RX softirq work (on veth a packet is processed in the
 * softirq of the CPU that sent it, and ACK-clocked sends happen in softirq).
 * Softirq is not preemptible, and the seeds' PREEMPT_RT, which threads it,
 * is not what stock kernels run. So separate also
 *  - keeps each NET_RX round short (RTV_NEED_SHORT_SOFTIRQ):
 *    net.core.netdev_budget (packets per round, 300 by default) and
 *    net.core.dev_weight (per backlog poll, 64) lowered, journaled. A round
 *    ends sooner, and __do_softirq does not start another while a
 *    reschedule is pending (the woken RT thread): the rest goes to
 *    ksoftirqd, a normal thread the RT threads preempt;
 *  - asks for full preemption (RTV_NEED_PREEMPT) where PREEMPT_DYNAMIC's
 *    switch is allowed, so a woken RT thread does not wait for a bulk
 *    thread's next preemption point in the kernel; reported where not.
 * Steering the bulk softirq work off the RT CPU (methods/steer.c) shortens
 * the tail further, but on a 2-CPU host it costs the bulk a third of its
 * throughput (measured: README): it is a method of its own, to add where
 * CPUs can be spared ("separate+steer"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/journal.h"
#include "methods/method.h"
#include "util/file.h"
#include "util/log.h"

/* Lower sysctl ROOT/net/core/NAME to want (never raise it); "NAME A->B" or
 * "NAME A" into text. */
static int lower(const char *root, const char *name, int want, char *text, size_t len)
{
	char path[256], cur[32], val[16];
	long v;
	int err;

	snprintf(path, sizeof(path), "%s/net/core/%s", root, name);
	err = rtv_file_read_line(path, cur, sizeof(cur));
	if (err < 0) {
		rtv_err("cannot read '%s': %s", path, strerror(-err));
		return err;
	}
	v = strtol(cur, NULL, 10);
	if (v <= want) {
		snprintf(text, len, "%s %ld", name, v);
		return 0;
	}
	snprintf(val, sizeof(val), "%d", want);
	err = rtv_host_write(path, val);
	if (err < 0) {
		rtv_err("cannot write '%s': %s", path, strerror(-err));
		return err;
	}
	snprintf(text, len, "%s %ld->%d", name, v, want);
	return 0;
}

int rtv_method_short_softirq(const struct rtv_method_cfg *cfg, char *note, size_t len)
{
	const char *root = cfg->sysctl_root ? cfg->sysctl_root : "/proc/sys";
	int budget = cfg->softirq_budget > 0 ? cfg->softirq_budget : RTV_SOFTIRQ_BUDGET;
	int weight = cfg->backlog_weight > 0 ? cfg->backlog_weight : RTV_BACKLOG_WEIGHT;
	char a[64], b[64];
	int err;

	err = lower(root, "netdev_budget", budget, a, sizeof(a));
	if (!err)
		err = lower(root, "dev_weight", weight, b, sizeof(b));
	if (err < 0)
		return err;
	snprintf(note, len, "short NET_RX rounds: %s, %s", a, b);
	return 0;
}

const struct rtv_method rtv_method_separate = {
	.name = "separate",
	.summary = "RT devices' NAPIs in their own SCHED_FIFO kthreads (threaded NAPI) on the RT CPU, "
		   "short bulk softirq rounds; the CPU stays shared",
	.needs = RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN | RTV_NEED_SHORT_SOFTIRQ | RTV_NEED_PREEMPT,
	.rx = RTV_RX_SEPARATE,
	.in_default = true,
	.expect = {
		{ "beats prio", "p99_us", "prio", RTV_CMP_LT, 1 },
		{ "beats dedicated", "p99_us", "dedicated", RTV_CMP_LT, 1 },
		{ "shared cure", "p99_us", "idle", RTV_CMP_LE, 1.25 },
		{ "keeps the CPU", "stream_gbit_s", "vanilla", RTV_CMP_GE, 0.95 },
	},
};
