/* hybrid: EE-KBP (section 4, Algorithm 1). As busypoll, but the poller polls
 * only while packets come: after idle_ns without one it lowers its CPU's
 * frequency (where cpufreq exists) and sleeps; the next packet, processed by
 * the RT NAPI's own SCHED_FIFO kthread (separate's threaded NAPI: the
 * interrupt's path), wakes it, and it raises the frequency and polls again.
 * It counts wake-ups (the paper's hardIRQ counts) and their latency. */
#include "methods/method.h"
#include "methods/rxpath.h"

static int hybrid_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
			struct rtv_method_run *run)
{
	return rtv_method_rx_setup(cfg, tb, run, RTV_RX_HYBRID, true);
}

const struct rtv_method rtv_method_hybrid = {
	.name = "hybrid",
	.summary = "a poller polls the RT NAPIs while packets come, sleeps when idle (EE-KBP)",
	.setup = hybrid_setup,
	.place = rtv_method_poller_place,
	.host = true,
};
