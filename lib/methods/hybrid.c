/* hybrid: EE-KBP (section 4, Algorithm 1). As busypoll, but the poller polls
 * only while packets come: after idle_ns without one it lowers its CPU's
 * frequency (where cpufreq exists) and sleeps; the next packet, processed by
 * the RT NAPI's own SCHED_FIFO kthread (separate's threaded NAPI: the
 * interrupt's path), wakes it, and it raises the frequency and polls again.
 * It counts wake-ups (the paper's hardIRQ counts) and their latency. Expected:
 * almost no CPU with no traffic, and busypoll's tail under load. */
#include "methods/method.h"

const struct rtv_method rtv_method_hybrid = {
	.name = "hybrid",
	.summary = "a poller polls the RT NAPIs while packets come, sleeps when idle (EE-KBP)",
	.needs = RTV_NEED_PARTITION | RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN,
	.rx = RTV_RX_HYBRID,
	.in_default = true,
	.expect = {
		{ "idle cost", "poller_idle_cpu_pct", NULL, RTV_CMP_LE, 2 },
		{ "tail", "p99_us", "busypoll", RTV_CMP_LE, 1.3 },
		{ "beats prio", "p99_us", "prio", RTV_CMP_LT, 1 },
		{ "beats dedicated", "p99_us", "dedicated", RTV_CMP_LT, 1 },
	},
};
