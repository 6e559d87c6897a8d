#include "methods/rxpath.h"

#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "host/cpufreq.h"
#include "host/journal.h"
#include "host/proc.h"
#include "host/sched.h"
#include "methods/poller.h"
#include "net/ethtool.h"
#include "net/linkwatch.h"
#include "net/netns.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/kernel.h"

#define POLLERS_MAX 8

struct rtv_rx {
	struct rtv_rx_plan plan;
	struct rtv_method_cfg cfg;
	struct rtv_napi_params params[2 * RTV_METHOD_MAX_DEVS]; /* per device, as applied */
	struct rtv_linkwatch *lw;
	struct rtv_poller *poller[POLLERS_MAX];
	int npollers;
	int64_t poller_cpu_ns_done; /* of pollers stopped for a restart */
	int reapplied;
	bool cpufreq;
};

const char *rtv_rx_mode_name(enum rtv_rx_mode m)
{
	static const char *const n[] = { "none", "separate", "busypoll", "hybrid" };

	return (unsigned)m < 4 ? n[m] : "?";
}

const char *rtv_rx_variant_name(enum rtv_rx_variant v)
{
	static const char *const n[] = { "threaded-napi", "threaded-busy-poll", "io_uring-napi",
					 "socket-busy-poll-sysctl" };

	return (unsigned)v < 4 ? n[v] : "?";
}

static const char *ns_of(const struct rtv_dev *d)
{
	return d->netns[0] ? d->netns : NULL;
}

/* Run fn inside d's namespace (or here). */
static int in_ns(const struct rtv_dev *d, int (*fn)(void *), void *arg)
{
	return d->netns[0] ? rtv_netns_run(d->netns, fn, arg) : fn(arg);
}

struct probe_arg {
	struct rtv_rx_dev *d;
	char driver[32];
	int gro, udp_fwd;
};

static int probe_dev(void *p)
{
	struct probe_arg *a = p;
	struct rtv_rx_dev *d = a->d;
	int n;

	d->ifindex = (int)if_nametoindex(d->dev.name);
	if (!d->ifindex)
		return -ENODEV;
	if (rtv_ethtool_driver(d->dev.name, a->driver, sizeof(a->driver)) < 0)
		a->driver[0] = '\0';
	d->veth = !strcmp(a->driver, "veth");
	a->gro = rtv_ethtool_feature_get(d->dev.name, "rx-gro");
	a->udp_fwd = rtv_ethtool_feature_get(d->dev.name, "rx-udp-gro-forwarding");
	n = rtv_napi_list(d->ifindex, d->napi, RTV_RX_NAPI_MAX);
	if (n < 0)
		return n;
	d->nnapi = n < RTV_RX_NAPI_MAX ? n : RTV_RX_NAPI_MAX;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void step(struct rtv_rx_plan *p, const char *fmt, ...)
{
	va_list ap;

	if (p->nsteps == RTV_RX_STEPS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(p->step[p->nsteps++], sizeof(p->step[0]), fmt, ap);
	va_end(ap);
}

static void dev_label(const struct rtv_rx_dev *d, char *buf, size_t len)
{
	if (d->dev.netns[0])
		snprintf(buf, len, "%s (netns %s)", d->dev.name, d->dev.netns);
	else
		snprintf(buf, len, "%s", d->dev.name);
}

static int choose_variant(struct rtv_rx_plan *p, char *why, size_t len)
{
	int err;

	if (p->mode == RTV_RX_SEPARATE) {
		p->variant = RTV_RX_THREADED;
		snprintf(p->variant_why, sizeof(p->variant_why), "threaded NAPI");
		return 0;
	}
	if (p->mode == RTV_RX_BUSYPOLL && rtv_kernel_at_least(6, 19)) {
		p->variant = RTV_RX_KTHREAD_BUSY;
		snprintf(p->variant_why, sizeof(p->variant_why),
			 "kernel 6.19 or later: the NAPI kthread busy-polls (threaded=busy-poll)");
		return 0;
	}
	err = rtv_poller_probe();
	if (!err) {
		p->variant = RTV_RX_IOURING;
		snprintf(p->variant_why, sizeof(p->variant_why), "%s%s",
			 p->mode == RTV_RX_BUSYPOLL ?
			 "no threaded busy poll (kernel before 6.19); " : "",
			 "io_uring static NAPI tracking works: a poller thread of rtvnet drives the NAPIs");
		return 0;
	}
	if (p->mode == RTV_RX_HYBRID) {
		snprintf(why, len, "hybrid needs io_uring static NAPI tracking (kernel 6.13 or later, "
			 "io_uring enabled): %s", strerror(-err));
		return -EOPNOTSUPP;
	}
	if (access("/proc/sys/net/core/busy_poll", W_OK)) {
		snprintf(why, len, "no way to busy-poll here: no threaded busy poll (6.19), no io_uring "
			 "NAPI tracking (%s), no writable net.core.busy_poll", strerror(-err));
		return -EOPNOTSUPP;
	}
	p->variant = RTV_RX_SOCKET_SYSCTL;
	snprintf(p->variant_why, sizeof(p->variant_why),
		 "no threaded busy poll (6.19) and no io_uring NAPI tracking (%s): the socket "
		 "busy-poll sysctls, which poll in the application's own context", strerror(-err));
	return 0;
}

int rtv_rx_plan(const struct rtv_method_cfg *cfg, enum rtv_rx_mode mode, struct rtv_rx_plan *p,
		char *why, size_t len)
{
	char rt[128], nonrt[128], label[80];
	bool threaded = mode != RTV_RX_BUSYPOLL;
	int err;

	memset(p, 0, sizeof(*p));
	p->mode = mode;
	why[0] = '\0';
	if (!cfg->nrt_devs) {
		snprintf(why, len, "no RT device given");
		return -EINVAL;
	}
	if (!CPU_COUNT(&cfg->rt_cpus)) {
		snprintf(why, len, "no RT CPU");
		return -EINVAL;
	}
	if (rtv_napi_family_id() < 0) {
		snprintf(why, len, "the kernel has no generic netlink family 'netdev' with NAPI "
			 "commands: kernel 6.8 or later needed");
		return -EOPNOTSUPP;
	}
	err = choose_variant(p, why, len);
	if (err < 0)
		return err;
	if (p->variant == RTV_RX_KTHREAD_BUSY || p->variant == RTV_RX_SOCKET_SYSCTL)
		threaded = false;
	for (int i = 0; i < cfg->nrt_devs + cfg->nnonrt_devs; i++) {
		struct rtv_rx_dev *d = &p->dev[p->ndevs++];
		struct probe_arg a = { .d = d };

		d->rt = i < cfg->nrt_devs;
		d->dev = d->rt ? cfg->rt_dev[i] : cfg->nonrt_dev[i - cfg->nrt_devs];
		dev_label(d, label, sizeof(label));
		if (d->dev.netns[0] && !rtv_netns_exists(d->dev.netns)) {
			snprintf(why, len, "no network namespace '%s' (device '%s')", d->dev.netns,
				 d->dev.name);
			return -ENODEV;
		}
		err = in_ns(&d->dev, probe_dev, &a);
		if (err == -ENODEV) {
			snprintf(why, len, "no device '%s'", label);
			return err;
		}
		if (err < 0) {
			snprintf(why, len, "cannot list the NAPIs of '%s': %s", label, strerror(-err));
			return err;
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(p->dev[k].dev.name, d->dev.name) &&
			    !strcmp(p->dev[k].dev.netns, d->dev.netns)) {
				snprintf(why, len, "device '%s' given twice", label);
				return -EINVAL;
			}
		if (!d->nnapi && !d->veth) {
			snprintf(why, len, "device '%s' has no NAPI (driver '%s'): nothing to %s", label,
				 a.driver[0] ? a.driver : "unknown",
				 mode == RTV_RX_SEPARATE ? "thread" : "poll");
			return -EOPNOTSUPP;
		}
		if (d->veth && (a.gro < 0 || a.udp_fwd < 0)) {
			snprintf(why, len, "veth '%s' lacks rx-gro or rx-udp-gro-forwarding: no NAPI path "
				 "for UDP (kernel 5.12 or later needed)", label);
			return -EOPNOTSUPP;
		}
		if (d->veth && a.gro != 1)
			step(p, "%s: rx-gro on (veth gets a NAPI)", label);
		if (d->veth && d->rt && a.udp_fwd != 1)
			step(p, "%s: rx-udp-gro-forwarding on (UDP takes the NAPI path)", label);
		if (d->nnapi && d->napi[0].threaded < 0 && threaded && d->dev.netns[0]) {
			snprintf(why, len, "per-NAPI threaded needs kernel 6.17 (device '%s' is in a "
				 "namespace, where /sys/class/net/DEV/threaded is not reachable)", label);
			return -EOPNOTSUPP;
		}
		if (!d->nnapi && !rtv_kernel_at_least(6, 17) && threaded && d->dev.netns[0]) {
			snprintf(why, len, "per-NAPI threaded needs kernel 6.17 for '%s'", label);
			return -EOPNOTSUPP;
		}
		if (!d->rt) {
			rtv_cpulist_format(&cfg->nonrt_cpus, nonrt, sizeof(nonrt));
			step(p, "%s: threaded NAPI, kthreads SCHED_OTHER%s%s", label,
			     CPU_COUNT(&cfg->nonrt_cpus) ? " on CPU " : "",
			     CPU_COUNT(&cfg->nonrt_cpus) ? nonrt : "");
			continue;
		}
		rtv_cpulist_format(&cfg->rt_cpus, rt, sizeof(rt));
		if (threaded)
			step(p, "%s: threaded NAPI, kthreads SCHED_FIFO %d on CPU %s", label, cfg->rt_prio,
			     rt);
		if (p->variant == RTV_RX_KTHREAD_BUSY)
			step(p, "%s: threaded=busy-poll, kthreads SCHED_OTHER on CPU %s", label, rt);
	}
	if (p->variant == RTV_RX_IOURING) {
		int cpus[CPU_SETSIZE], owner[2 * RTV_METHOD_MAX_DEVS * RTV_RX_NAPI_MAX];
		int n = rtv_rx_assign(&cfg->rt_cpus, 1, cpus, owner);

		if (n > POLLERS_MAX)
			n = POLLERS_MAX;
		rtv_cpulist_format(&cfg->rt_cpus, rt, sizeof(rt));
		step(p, "%d %s poller thread%s of rtvnet (SCHED_OTHER, one per RT CPU %s) polling the RT "
		     "NAPIs%s", n, mode == RTV_RX_HYBRID ? "hybrid" : "busy", n == 1 ? "" : "s", rt,
		     mode == RTV_RX_HYBRID ? ", sleeping when idle" : " continuously");
	}
	if (p->variant == RTV_RX_SOCKET_SYSCTL)
		step(p, "net.core.busy_poll = 50, net.core.busy_read = 50 (µs)");
	if (mode == RTV_RX_HYBRID) {
		int first = -1;

		for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
			if (CPU_ISSET(c, &cfg->rt_cpus))
				first = c;
		struct rtv_cpufreq cf;

		p->cpufreq = rtv_cpufreq_probe(cfg->cpufreq_root ? cfg->cpufreq_root : RTV_CPUFREQ_ROOT,
					       first, &cf);
		if (p->cpufreq)
			step(p, "no CPU frequency steps: %s", p->cpufreq == -ENOENT ?
			     "this machine has no cpufreq for the RT CPU" : strerror(-p->cpufreq));
		else
			step(p, "CPU %d: frequency %u kHz while the poller sleeps, %u kHz while it polls "
			     "(%s)", first, cf.min_khz, cf.max_khz,
			     cf.has_setspeed ? "scaling_setspeed" : "scaling_max_freq");
	}
	return 0;
}

int rtv_rx_assign(const cpu_set_t *rt_cpus, int nnapi, int *cpus, int *owner)
{
	int n = 0;

	for (int c = 0; c < CPU_SETSIZE && n < POLLERS_MAX; c++)
		if (CPU_ISSET(c, rt_cpus))
			cpus[n++] = c;
	for (int i = 0; i < nnapi && n; i++)
		owner[i] = i % n;
	return n;
}

/* ---- apply ---- */

static int place_kthreads(struct rtv_rx *rx, const struct rtv_rx_dev *d, const struct rtv_napi *napi,
			  int n)
{
	const struct rtv_method_cfg *cfg = &rx->cfg;
	bool busy = rx->plan.variant == RTV_RX_KTHREAD_BUSY;
	int err = 0;

	for (int i = 0; i < n && !err; i++) {
		if (napi[i].pid <= 0)
			continue;
		if (d->rt && !busy)
			err = rtv_sched_set(napi[i].pid, SCHED_FIFO, cfg->rt_prio);
		if (!err)
			err = rtv_sched_set_affinity(napi[i].pid, d->rt ? &cfg->rt_cpus : &cfg->nonrt_cpus);
		if (err == -EINVAL && !d->rt) /* no non-RT CPUs given */
			err = 0;
	}
	return err;
}

static void dev_params(const struct rtv_rx *rx, const struct rtv_rx_dev *d,
		       struct rtv_napi_params *p)
{
	memset(p, 0, sizeof(*p));
	if (rx->plan.variant == RTV_RX_KTHREAD_BUSY && d->rt) {
		p->has_threaded = true;
		p->threaded = RTV_NAPI_THREADED_BUSY_POLL;
	} else if (rx->plan.mode != RTV_RX_BUSYPOLL || !d->rt) {
		p->has_threaded = true;
		p->threaded = RTV_NAPI_THREADED_ON;
	}
}

static int start_pollers(struct rtv_rx *rx)
{
	struct rtv_poller_cfg pc[POLLERS_MAX];
	int cpus[POLLERS_MAX], owner[2 * RTV_METHOD_MAX_DEVS * RTV_RX_NAPI_MAX], n, k = 0, err;

	for (int d = 0; d < rx->plan.ndevs; d++)
		k += rx->plan.dev[d].rt ? rx->plan.dev[d].nnapi : 0;
	n = rtv_rx_assign(&rx->cfg.rt_cpus, k, cpus, owner);
	k = 0;
	memset(pc, 0, sizeof(pc));
	for (int i = 0; i < n; i++) {
		pc[i].mode = rx->plan.mode == RTV_RX_HYBRID ? RTV_POLLER_HYBRID : RTV_POLLER_BUSY;
		pc[i].cpu = cpus[i];
		pc[i].idle_ns = rx->cfg.idle_ns;
		/* sharing its CPU, short: io_uring ends a busy-poll call when
		 * the RT application preempts the poller and then waits for
		 * the call's timeout with the NAPI unpolled; alone, long: the
		 * NAPI is handed back to the kernel between calls */
		pc[i].slice_ns = rx->cfg.poller_apart ? RTV_POLLER_SLICE_NS : RTV_RX_SHARED_SLICE_NS;
		pc[i].cpufreq_root = rx->cpufreq ? (rx->cfg.cpufreq_root ? rx->cfg.cpufreq_root :
						    RTV_CPUFREQ_ROOT) : NULL;
		pc[i].cf_write = rtv_cpufreq_write_plain;
	}
	for (int d = 0; d < rx->plan.ndevs; d++) {
		const struct rtv_rx_dev *dv = &rx->plan.dev[d];

		if (!dv->rt)
			continue;
		for (int j = 0; j < dv->nnapi; j++, k++) {
			struct rtv_poller_cfg *c = &pc[owner[k]];

			if (c->nnapi == RTV_POLLER_NAPI_MAX)
				return -E2BIG;
			c->napi_id[c->nnapi] = dv->napi[j].id;
			snprintf(c->netns[c->nnapi], sizeof(c->netns[0]), "%s", dv->dev.netns);
			snprintf(c->dev[c->nnapi], sizeof(c->dev[0]), "%s", dv->dev.name);
			c->nnapi++;
		}
	}
	for (int i = 0; i < n; i++) {
		if (!pc[i].nnapi)
			continue;
		/* the poller pins itself to its CPU: a thread of ours, gone with it */
		err = rtv_poller_start(&rx->poller[rx->npollers], &pc[i]);
		if (err < 0)
			return err;
		rx->npollers++;
	}
	return 0;
}

static void stop_pollers(struct rtv_rx *rx)
{
	for (int i = 0; i < rx->npollers; i++) {
		struct rtv_poller_stats st;

		rtv_poller_stats(rx->poller[i], &st);
		rx->poller_cpu_ns_done += st.cpu_ns;
		rtv_poller_stop(rx->poller[i]);
		rx->poller[i] = NULL;
	}
	rx->npollers = 0;
}

/* Save the cpufreq files the pollers will write, once, so that the journal
 * restores them (the pollers then write plainly in their loop). */
static int save_cpufreq(struct rtv_rx *rx)
{
	const char *root = rx->cfg.cpufreq_root ? rx->cfg.cpufreq_root : RTV_CPUFREQ_ROOT;
	char path[400];

	for (int c = 0; c < CPU_SETSIZE; c++) {
		struct rtv_cpufreq cf;

		if (!CPU_ISSET(c, &rx->cfg.rt_cpus) || rtv_cpufreq_probe(root, c, &cf))
			continue;
		snprintf(path, sizeof(path), "%s/cpu%d/cpufreq/%s", root, c,
			 cf.has_setspeed ? "scaling_setspeed" : "scaling_max_freq");
		int err = rtv_journal_save_file(path);

		if (err < 0)
			return err;
	}
	return 0;
}

static int apply_dev(struct rtv_rx *rx, int i)
{
	struct rtv_rx_dev *d = &rx->plan.dev[i];
	const char *ns = ns_of(&d->dev);
	struct rtv_napi_params *p = &rx->params[i];
	int err = 0, n;

	if (d->veth) {
		err = rtv_ethtool_feature_set_journaled(ns, d->dev.name, "rx-gro", true);
		if (!err && d->rt)
			err = rtv_ethtool_feature_set_journaled(ns, d->dev.name,
								"rx-udp-gro-forwarding", true);
		if (err < 0) {
			rtv_err("cannot turn GRO on for '%s': %s", d->dev.name, strerror(-err));
			return err;
		}
	}
	dev_params(rx, d, p);
	if (p->has_threaded) {
		n = rtv_napi_dev_apply(ns, d->dev.name, p, d->napi, RTV_RX_NAPI_MAX);
		if (n == -EINVAL && !ns) { /* no per-NAPI threaded: the sysfs switch */
			char path[128], v[4];

			snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", d->dev.name);
			snprintf(v, sizeof(v), "%u", p->threaded);
			err = rtv_host_write(path, v);
			n = err < 0 ? err : rtv_napi_list(d->ifindex, d->napi, RTV_RX_NAPI_MAX);
		}
	} else {
		n = rtv_napi_dev_list(ns, d->dev.name, d->napi, RTV_RX_NAPI_MAX);
	}
	if (n < 0) {
		rtv_err("cannot set the NAPIs of '%s': %s", d->dev.name, strerror(-n));
		return n;
	}
	d->nnapi = n < RTV_RX_NAPI_MAX ? n : RTV_RX_NAPI_MAX;
	if (!d->nnapi) {
		rtv_err("device '%s' has no NAPI after GRO was turned on", d->dev.name);
		return -EOPNOTSUPP;
	}
	err = place_kthreads(rx, d, d->napi, d->nnapi);
	if (err < 0)
		rtv_err("cannot set the priority of the NAPI kthreads of '%s': %s", d->dev.name,
			strerror(-err));
	return err;
}

int rtv_rx_apply(const struct rtv_rx_plan *plan, const struct rtv_method_cfg *cfg,
		 struct rtv_rx **out)
{
	struct rtv_rx *rx = calloc(1, sizeof(*rx));
	int err;

	*out = NULL;
	if (!rx)
		return -ENOMEM;
	rx->plan = *plan;
	rx->cfg = *cfg;
	rx->cpufreq = plan->mode == RTV_RX_HYBRID && !plan->cpufreq;
	err = rtv_linkwatch_new(&rx->lw);
	for (int i = 0; !err && i < rx->plan.ndevs; i++)
		err = rtv_linkwatch_add(rx->lw, ns_of(&rx->plan.dev[i].dev), rx->plan.dev[i].dev.name);
	if (err < 0) {
		rtv_err("cannot watch the devices' links: %s", strerror(-err));
		goto fail;
	}
	for (int i = 0; i < rx->plan.ndevs; i++) {
		err = apply_dev(rx, i);
		if (err < 0)
			goto fail;
	}
	if (plan->variant == RTV_RX_SOCKET_SYSCTL) {
		err = rtv_host_write("/proc/sys/net/core/busy_poll", "50");
		if (!err)
			err = rtv_host_write("/proc/sys/net/core/busy_read", "50");
		if (err < 0)
			goto fail;
	}
	if (plan->variant == RTV_RX_IOURING) {
		if (rx->cpufreq) {
			err = save_cpufreq(rx);
			if (err < 0)
				goto fail;
		}
		err = start_pollers(rx);
		if (err < 0) {
			rtv_err("cannot start the pollers: %s", strerror(-err));
			goto fail;
		}
	}
	*out = rx;
	return 0;
fail:
	rtv_rx_free(rx);
	return err;
}

/* Nothing to re-apply (busypoll's own device): list the NAPIs again; 1 when
 * their ids changed (the pollers must follow), 0 when not, or -errno. */
static int relist(struct rtv_rx_dev *d)
{
	struct rtv_napi now[RTV_RX_NAPI_MAX];
	int n = rtv_napi_dev_list(ns_of(&d->dev), d->dev.name, now, RTV_RX_NAPI_MAX);
	bool changed;

	if (n < 0)
		return n;
	if (n > RTV_RX_NAPI_MAX)
		n = RTV_RX_NAPI_MAX;
	changed = n != d->nnapi;
	for (int j = 0; j < n && !changed; j++)
		changed = now[j].id != d->napi[j].id;
	memcpy(d->napi, now, (size_t)n * sizeof(now[0]));
	d->nnapi = n;
	return changed;
}

struct reapply_arg {
	struct rtv_rx *rx;
	int done, err;
};

static void on_link(void *p, const char *netns, const char *dev, bool up)
{
	struct reapply_arg *a = p;
	struct rtv_rx *rx = a->rx;

	(void)up;
	for (int i = 0; i < rx->plan.ndevs; i++) {
		struct rtv_rx_dev *d = &rx->plan.dev[i];
		int r;

		if (strcmp(d->dev.name, dev) || strcmp(d->dev.netns, netns ? netns : ""))
			continue;
		if (rx->params[i].has_threaded)
			r = rtv_napi_dev_reapply(ns_of(&d->dev), d->dev.name, &rx->params[i], d->napi,
						 &d->nnapi, RTV_RX_NAPI_MAX);
		else
			r = relist(d);
		if (r < 0) {
			a->err = r;
			continue;
		}
		if (!r)
			continue;
		a->done++;
		rx->reapplied++;
		rtv_info("NAPIs of '%s' recreated by the kernel: settings re-applied", d->dev.name);
		r = place_kthreads(rx, d, d->napi, d->nnapi);
		if (r < 0)
			a->err = r;
		if (d->rt && rx->npollers) {
			stop_pollers(rx);
			r = start_pollers(rx);
			if (r < 0)
				a->err = r;
		}
	}
}

int rtv_rx_poll(struct rtv_rx *rx, int timeout_ms)
{
	struct reapply_arg a = { .rx = rx };
	int err;

	if (!rx || !rx->lw) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	err = rtv_linkwatch_poll(rx->lw, timeout_ms, on_link, &a);
	if (err == -EINTR) /* a signal: the caller looks at its stop flag */
		err = 0;
	if (err < 0)
		return err;
	return a.err < 0 ? a.err : a.done;
}

int64_t rtv_rx_cpu_ns(const struct rtv_rx *rx)
{
	int64_t ns;

	if (!rx)
		return 0;
	ns = rx->poller_cpu_ns_done;
	for (int i = 0; i < rx->npollers; i++) {
		struct rtv_poller_stats st;

		rtv_poller_stats(rx->poller[i], &st);
		ns += st.cpu_ns;
	}
	for (int d = 0; d < rx->plan.ndevs; d++)
		for (int j = 0; j < rx->plan.dev[d].nnapi; j++)
			ns += rtv_proc_cpu_ns(rx->plan.dev[d].napi[j].pid);
	return ns;
}

void rtv_rx_stats(const struct rtv_rx *rx, struct rtv_rx_stats *out)
{
	bool torn = false;

	memset(out, 0, sizeof(*out));
	rtv_hist_init(&out->wake);
	if (!rx)
		return;
	out->variant = rx->plan.variant;
	out->npollers = rx->npollers;
	out->reapplied = rx->reapplied;
	out->cpufreq = rx->cpufreq;
	for (int d = 0; d < rx->plan.ndevs; d++)
		for (int j = 0; j < rx->plan.dev[d].nnapi; j++)
			out->nkthreads += rx->plan.dev[d].napi[j].pid > 0;
	for (int i = 0; i < rx->npollers; i++) {
		struct rtv_poller_stats st;

		rtv_poller_stats(rx->poller[i], &st);
		out->polls += st.polls;
		out->wakeups += st.wakeups;
		out->sleeps += st.sleeps;
		rtv_hist_merge(&out->wake, &st.wake);
		torn |= st.wake_torn;
	}
	/* all the pollers' wake-ups or none, never a part taken for the whole */
	if (torn)
		rtv_hist_init(&out->wake);
}

void rtv_rx_free(struct rtv_rx *rx)
{
	if (!rx)
		return;
	stop_pollers(rx);
	rtv_linkwatch_free(rx->lw);
	free(rx);
}
