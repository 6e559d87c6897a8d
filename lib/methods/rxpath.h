/* The receive-path methods' one engine: where and when the kernel processes
 * the RT devices' packets, on stock kernels, through interfaces they already
 * have (threaded NAPI, busy polling, io_uring NAPI tracking; no patch).
 *
 *   separate  the outsourcing paper's RT poll list: each RT NAPI gets its own
 *             kthread (threaded NAPI) at SCHED_FIFO rt_prio, pinned to the RT
 *             CPUs, so RT processing never queues behind another device's
 *             softirq work; non-RT devices' NAPIs, when given, are threaded
 *             at normal priority on the other CPUs.
 *   busypoll  KBP: a poller polls the RT NAPIs continuously on an RT CPU
 *             instead of softirq. Variant, the first that this kernel has:
 *             the kernel's threaded busy poll (threaded=2, 6.19), a poller
 *             thread of ours driving the NAPIs through io_uring static NAPI
 *             tracking (6.13, methods/poller.h), or the socket busy-poll
 *             sysctls (polls in the application's context: a last resort).
 *   hybrid    EE-KBP: separate's threaded NAPI, plus an io_uring poller that
 *             polls while packets come, sleeps when none have come for
 *             idle_ns (woken by the kernel's own processing of the next one,
 *             the interrupt's path), with the CPU frequency lowered while it
 *             sleeps where cpufreq exists.
 *
 * Two steps, so that a method that cannot run here refuses before anything
 * changes: rtv_rx_plan() checks the devices and the kernel and writes the
 * plan (what `rtvnet apply --dry-run` prints); rtv_rx_apply() carries it out,
 * every change journaled, and starts the pollers. The kernel recreates a NAPI
 * (new id, settings and priority lost) on link down/up and on GRO/XDP
 * toggles: rtv_rx_poll() watches link events and re-applies. */
#ifndef RTV_METHODS_RXPATH_H
#define RTV_METHODS_RXPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "methods/method.h"
#include "net/napi.h"
#include "stats/hist.h"

#define RTV_RX_NAPI_MAX 16
#define RTV_RX_STEPS_MAX 48
/* Length of one io_uring busy-poll call of a poller that shares its CPU
 * (see start_pollers); alone it uses RTV_POLLER_SLICE_NS. */
#define RTV_RX_SHARED_SLICE_NS INT64_C(20000)


enum rtv_rx_variant {
	RTV_RX_THREADED,      /* threaded NAPI kthreads (separate, hybrid's sleep path) */
	RTV_RX_KTHREAD_BUSY,  /* threaded=2: the kernel's busy-polling kthread */
	RTV_RX_IOURING,       /* a poller thread of ours, io_uring NAPI tracking */
	RTV_RX_SOCKET_SYSCTL, /* net.core.busy_poll/busy_read */
};

const char *rtv_rx_mode_name(enum rtv_rx_mode m);
const char *rtv_rx_variant_name(enum rtv_rx_variant v);

struct rtv_rx_dev {
	struct rtv_dev dev;
	bool rt;
	int ifindex;
	bool veth;  /* a NAPI path needs rx-gro and rx-udp-gro-forwarding */
	int nnapi;  /* NAPIs now: 0 on veth before GRO is on */
	struct rtv_napi napi[RTV_RX_NAPI_MAX];
};

struct rtv_rx_plan {
	enum rtv_rx_mode mode;
	enum rtv_rx_variant variant;
	char variant_why[256];  /* what was detected to choose it */
	int cpufreq;            /* hybrid: 0 when the RT CPUs have cpufreq, else -errno */
	int ndevs;
	struct rtv_rx_dev dev[2 * RTV_METHOD_MAX_DEVS];
	int nsteps;
	char step[RTV_RX_STEPS_MAX][200]; /* the changes, in order, as text */
};

/* Check the devices (exist, have or can get a NAPI) and the kernel (per-NAPI
 * control, a poll variant) and write the plan. Changes nothing. 0, or -errno
 * with why set: -ENODEV a device is missing, -EOPNOTSUPP the kernel or a
 * device lacks what the method needs, -EINVAL a bad configuration. */
int rtv_rx_plan(const struct rtv_method_cfg *cfg, enum rtv_rx_mode mode, struct rtv_rx_plan *plan,
		char *why, size_t len);

struct rtv_rx;

/* Carry out plan, every change journaled (the caller undoes them with the
 * journal), and start the pollers. On error what was done stays journaled
 * and *rx is NULL. */
int rtv_rx_apply(const struct rtv_rx_plan *plan, const struct rtv_method_cfg *cfg,
		 struct rtv_rx **rx);
/* Handle link events, waiting at most timeout_ms: re-apply the settings of
 * a device whose NAPIs the kernel recreated. Returns how many devices were
 * re-applied, or -errno. */
int rtv_rx_poll(struct rtv_rx *rx, int timeout_ms);
/* CPU time so far of the pollers and of the devices' NAPI kthreads, in ns. */
int64_t rtv_rx_cpu_ns(const struct rtv_rx *rx);

struct rtv_rx_stats {
	enum rtv_rx_variant variant;
	int npollers, nkthreads, reapplied;
	uint64_t polls, wakeups, sleeps;
	/* hybrid: packet timestamp to poller awake, all pollers merged; empty
	 * when a poller's copy was torn (rtv_poller_stats' wake_torn) */
	struct rtv_hist wake;
	bool cpufreq;         /* hybrid: frequency steps taken */
};
void rtv_rx_stats(const struct rtv_rx *rx, struct rtv_rx_stats *out);
/* Stop the pollers and free; NULL-safe. The journal keeps the changes. */
void rtv_rx_free(struct rtv_rx *rx);

/* A pure helper, exposed for tests: assign NAPI ids to pollers, one poller
 * per RT CPU, NAPIs round-robin in order. cpus[] gets each poller's CPU,
 * owner[i] the poller of NAPI i. Returns the number of pollers. */
int rtv_rx_assign(const cpu_set_t *rt_cpus, int nnapi, int *cpus, int *owner);

#endif
