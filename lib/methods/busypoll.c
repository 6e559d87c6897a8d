/* busypoll: KBP (kernel busy poll, section 4). A poller polls the RT NAPIs
 * continuously on the RT CPU, so that RT packets are processed in its context
 * as soon as they arrive instead of by softirq. The variant is detected
 * (rxpath.h): the kernel's threaded busy poll, a poller thread of rtvnet
 * through io_uring NAPI tracking, or the socket busy-poll sysctls. On the
 * testbed the RT CPU is partitioned as in `dedicated` (the poller's own CPU,
 * shared only with the RT client and server at SCHED_FIFO, which preempt the
 * SCHED_OTHER poller when a packet wakes them). Its cost: about one core,
 * loaded or idle. */
#include "methods/method.h"

const struct rtv_method rtv_method_busypoll = {
	.name = "busypoll",
	.summary = "a poller busy-polls the RT NAPIs on the RT CPU (KBP)",
	.needs = RTV_NEED_PARTITION | RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN,
	.rx = RTV_RX_BUSYPOLL,
	.in_default = true,
	.expect = {
		{ "poller cost", "poller_load_cpu_pct", NULL, RTV_CMP_GE, 80 },
		{ "poller cost", "poller_idle_cpu_pct", NULL, RTV_CMP_GE, 80 },
		{ "beats prio", "p99_us", "prio", RTV_CMP_LT, 1 },
		{ "beats dedicated", "p99_us", "dedicated", RTV_CMP_LT, 1 },
	},
};
