/* separate: the outsourcing paper's separate RT poll list (section 3.1,
 * net.core.rtnet_prio) on a stock kernel. The RT devices' NAPIs are threaded,
 * so that their processing runs in kthreads of their own instead of the
 * per-CPU softirq poll list where it queues behind other devices'; those
 * kthreads get SCHED_FIFO rt_prio and the RT CPUs (rxpath.c). On the testbed
 * the RT client and server join them (SCHED_FIFO rt_prio on the RT CPUs):
 * measured here, a FIFO NAPI thread with normal-priority applications made
 * the tail worse than vanilla, because the woken application then waits
 * behind the streams; the whole RT path on one CPU at RT priority is what
 * helps. */
#include "methods/method.h"

const struct rtv_method rtv_method_separate = {
	.name = "separate",
	.summary = "RT devices' NAPIs in their own SCHED_FIFO kthreads (threaded NAPI) on the RT CPU",
	.needs = RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN,
	.rx = RTV_RX_SEPARATE,
	.in_default = true,
	.expect = {
		{ "beats prio", "p99_us", "prio", RTV_CMP_LT, 1 },
		{ "beats dedicated", "p99_us", "dedicated", RTV_CMP_LT, 1 },
	},
};
