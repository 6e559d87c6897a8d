/* busypoll: KBP (kernel busy poll, section 4). A poller polls the RT NAPIs
 * continuously on the RT CPU, so that RT packets are processed in its context
 * as soon as they arrive instead of by softirq. The variant is detected
 * (rxpath.h): the kernel's threaded busy poll, a poller thread of rtvnet
 * through io_uring NAPI tracking, or the socket busy-poll sysctls. On the
 * testbed the RT CPU is partitioned as in `dedicated` (the poller's own CPU,
 * shared only with the RT client and server at SCHED_FIFO, which preempt the
 * SCHED_OTHER poller when a packet wakes them). */
#include "methods/method.h"
#include "methods/rxpath.h"

static int busypoll_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
			  struct rtv_method_run *run)
{
	return rtv_method_rx_setup(cfg, tb, run, RTV_RX_BUSYPOLL, true);
}

const struct rtv_method rtv_method_busypoll = {
	.name = "busypoll",
	.summary = "a poller busy-polls the RT NAPIs on the RT CPU (KBP)",
	.setup = busypoll_setup,
	.place = rtv_method_poller_place,
	.host = true,
};
