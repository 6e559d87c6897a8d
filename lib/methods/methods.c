/* The method table and the combination engine: a combination's needs are
 * the union of its parts', carried out once each, in one order. */
#include "methods/method.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/preempt.h"
#include "host/sched.h"
#include "methods/rxpath.h"
#include "net/ethtool.h"
#include "util/log.h"
#include "util/parse.h"

const struct rtv_method *const rtv_methods[] = {
	&rtv_method_vanilla,
	&rtv_method_prio,
	&rtv_method_dedicated,
	&rtv_method_separate,
	&rtv_method_busypoll,
	&rtv_method_hybrid,
	&rtv_method_outsource,
	&rtv_method_steer,
	NULL,
};

const struct rtv_method *rtv_method_find(const char *name)
{
	for (int i = 0; rtv_methods[i]; i++)
		if (!strcmp(rtv_methods[i]->name, name))
			return rtv_methods[i];
	return NULL;
}

static int join_names(char *buf, size_t len, const char *sep, bool defaults_only)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (int i = 0; rtv_methods[i]; i++) {
		if (defaults_only && !rtv_methods[i]->in_default)
			continue;
		int n = snprintf(buf + off, off < len ? len - off : 0, "%s%s", off ? sep : "",
				 rtv_methods[i]->name);

		if (n < 0)
			return -EINVAL;
		off += (size_t)n;
	}
	return off < len ? (int)off : -ENOSPC;
}

int rtv_methods_default(char *buf, size_t len)
{
	return join_names(buf, len, ",", true);
}

int rtv_methods_known(char *buf, size_t len)
{
	return join_names(buf, len, ", ", false);
}

void rtv_method_cfg_cpus(struct rtv_method_cfg *cfg, const cpu_set_t *rt)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	cfg->rt_cpus = *rt;
	CPU_ZERO(&cfg->nonrt_cpus);
	for (int i = 0; i < ncpus && i < CPU_SETSIZE; i++)
		if (!CPU_ISSET(i, rt))
			CPU_SET(i, &cfg->nonrt_cpus);
}

/* ---- combinations ---- */

int rtv_combo_of(const struct rtv_method *const *parts, int n, struct rtv_combo *c, char *err,
		 size_t errlen)
{
	size_t off = 0;

	memset(c, 0, sizeof(*c));
	if (n < 1 || n > RTV_COMBO_MAX) {
		snprintf(err, errlen, "a combination has 1 to %d methods, not %d", RTV_COMBO_MAX, n);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		const struct rtv_method *m = parts[i];

		for (int j = 0; j < i; j++)
			if (parts[j] == m) {
				snprintf(err, errlen, "'%s' is combined with itself", m->name);
				return -EINVAL;
			}
		if (n > 1 && !m->needs && !m->rx && !m->setup) {
			snprintf(err, errlen, "'%s' changes nothing, so it cannot be combined: "
				 "leave it out", m->name);
			return -EINVAL;
		}
		if (m->rx && c->rx) {
			const struct rtv_method *other = c->part[0];

			for (int j = 0; j < c->nparts; j++) /* the one that set it */
				if (c->part[j]->rx)
					other = c->part[j];
			snprintf(err, errlen, "'%s' and '%s' both set the receive path of the RT "
				 "devices (%s, %s): combine at most one of them", other->name, m->name,
				 rtv_rx_mode_name(c->rx), rtv_rx_mode_name(m->rx));
			return -EINVAL;
		}
		c->part[c->nparts++] = m;
		c->needs |= m->needs;
		if (m->rx)
			c->rx = m->rx;
		off += (size_t)snprintf(c->name + off, off < sizeof(c->name) ? sizeof(c->name) - off : 0,
					"%s%s", i ? "+" : "", m->name);
	}
	if (off >= sizeof(c->name)) {
		snprintf(err, errlen, "the combination's name is too long");
		return -EINVAL;
	}
	return 0;
}

int rtv_combo_parse(const char *spec, struct rtv_combo *c, char *err, size_t errlen)
{
	const struct rtv_method *parts[RTV_COMBO_MAX + 1];
	const char *p = spec;
	int n = 0;

	for (;;) {
		const char *plus = strchr(p, '+');
		size_t len = plus ? (size_t)(plus - p) : strlen(p);
		char name[32], known[256];
		const struct rtv_method *m = NULL;

		if (len && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			m = rtv_method_find(name);
		}
		if (!m) {
			rtv_methods_known(known, sizeof(known));
			if (!len)
				snprintf(err, errlen, "'%s' has an empty method name (use A or A+B)", spec);
			else
				snprintf(err, errlen, "unknown method '%.*s' (known: %s)", (int)len, p, known);
			return -EINVAL;
		}
		if (n == RTV_COMBO_MAX + 1)
			break;
		parts[n++] = m;
		if (!plus)
			break;
		p = plus + 1;
	}
	return rtv_combo_of(parts, n, c, err, errlen);
}

/* What a part may need on a host besides its receive path: host-wide
 * settings, nothing of the testbed's. */
#define HOST_NEEDS (RTV_NEED_STEER | RTV_NEED_SHORT_SOFTIRQ | RTV_NEED_PREEMPT)

bool rtv_combo_host(const struct rtv_combo *c)
{
	for (int i = 0; i < c->nparts; i++)
		if (c->part[i]->setup ||
		    (!c->part[i]->rx && (!c->part[i]->needs || (c->part[i]->needs & ~HOST_NEEDS))))
			return false;
	return c->rx != RTV_RX_NONE;
}

int rtv_combo_host_steps(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
			 char (*step)[200], int max)
{
	unsigned needs = rtv_combo_needs(c, cfg);
	char cpus[128];
	int n = 0;

	if ((needs & RTV_NEED_SHORT_SOFTIRQ) && n < max)
		snprintf(step[n++], 200, "net.core.netdev_budget at most %d, net.core.dev_weight at "
			 "most %d (short NET_RX softirq rounds)",
			 cfg->softirq_budget > 0 ? cfg->softirq_budget : RTV_SOFTIRQ_BUDGET,
			 cfg->backlog_weight > 0 ? cfg->backlog_weight : RTV_BACKLOG_WEIGHT);
	if ((needs & RTV_NEED_PREEMPT) && n < max)
		snprintf(step[n++], 200, "preemption model full (debugfs sched/preempt), where the "
			 "kernel allows it");
	rtv_cpulist_format(&cfg->nonrt_cpus, cpus, sizeof(cpus));
	for (int i = 0; (needs & RTV_NEED_STEER) && i < cfg->nnonrt_devs && n < max; i++)
		snprintf(step[n++], 200, "%s%s%s: RPS to CPU %s (its backlog work off the RT CPUs)",
			 cfg->nonrt_dev[i].name, cfg->nonrt_dev[i].netns[0] ? "@" : "",
			 cfg->nonrt_dev[i].netns, cpus);
	return n;
}

/* The needs c carries out with cfg: busypoll and hybrid with cfg->shared
 * keep the RT CPU shared, as separate does (no partition; short softirq
 * rounds and full preemption instead). */
unsigned rtv_combo_needs(const struct rtv_combo *c, const struct rtv_method_cfg *cfg)
{
	unsigned n = c->needs;

	if (cfg->shared && (c->rx == RTV_RX_BUSYPOLL || c->rx == RTV_RX_HYBRID))
		n = (n & ~RTV_NEED_PARTITION) | RTV_NEED_SHORT_SOFTIRQ | RTV_NEED_PREEMPT;
	return n;
}

/* busypoll's and hybrid's poller alone on the RT CPU: the RT hosts then run
 * on the other CPUs */
static bool poller_apart(const struct rtv_combo *c, const struct rtv_method_cfg *cfg)
{
	return cfg->poller_apart && (c->rx == RTV_RX_BUSYPOLL || c->rx == RTV_RX_HYBRID);
}

/* The receive path's scope on the testbed: busypoll and hybrid poll the RT
 * container's device, as a poller on a real host polls the RT service's
 * (with two NAPIs one poller cannot hold either continuously: io_uring
 * polls each once per round and releases it); separate threads every device
 * of the RT path (host topology: the peer's, the host's NIC and bridge port,
 * the container's). */
static void rx_devices(const struct rtv_combo *c, const struct rtv_testbed *tb,
		       struct rtv_method_cfg *out)
{
	struct rtv_tb_dev d[4];
	int n = rtv_testbed_path_devs(tb, 0, d), first = c->rx == RTV_RX_SEPARATE ? 0 : n - 1;

	out->nrt_devs = 0;
	out->nnonrt_devs = 0;
	for (int i = n - 1; i >= first; i--) { /* the container's first */
		struct rtv_dev *r = &out->rt_dev[out->nrt_devs++];

		snprintf(r->netns, sizeof(r->netns), "%s", d[i].ns);
		snprintf(r->name, sizeof(r->name), "%s", d[i].name);
	}
}

/* The host topology's RT path forwards: veth_xmit hands a packet to the
 * receiver's NAPI only when it is GRO-eligible, and a forwarded one is only
 * when the sending end has TSO off (kernel-interfaces notes). The forwarding
 * ends of the RT path (rtv-host's NIC and bridge port) get TSO off, so that
 * the requests reach the container's NAPI and the replies the peer's;
 * journaled. Features this kernel lacks are skipped. */
static int forward_tso_off(const struct rtv_testbed *tb, char *note, size_t len)
{
	static const char *const tso[] = { "tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
					   "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation",
					   "tx-tcp-accecn-segmentation" };
	const char *devs[2] = { tb->rt_client.hdev, tb->rt_server.hdev };
	int err;

	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < sizeof(tso) / sizeof(tso[0]); i++) {
			err = rtv_ethtool_feature_set_journaled(tb->host.ns, devs[d], tso[i], false);
			if (err < 0 && err != -ENOENT && err != -EOPNOTSUPP) {
				rtv_err("cannot turn '%s' off on '%s' in '%s': %s", tso[i], devs[d],
					tb->host.ns, strerror(-err));
				return err;
			}
		}
	snprintf(note, len, "%s, %s: TSO off, so forwarded RT packets take the receiver's NAPI",
		 devs[0], devs[1]);
	return 0;
}

int rtv_combo_check(const struct rtv_combo *c, const struct rtv_method_cfg *cfg, char *why,
		    size_t len)
{
	unsigned needs = rtv_combo_needs(c, cfg);
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if ((needs & RTV_NEED_PARTITION) &&
	    (!CPU_COUNT(&cfg->nonrt_cpus) || !CPU_COUNT(&cfg->rt_cpus))) {
		snprintf(why, len, "method '%s' partitions the CPUs, and the RT CPUs leave no CPU for "
			 "the streams (this machine has %ld CPU%s)", c->name, n, n == 1 ? "" : "s");
		return -EINVAL;
	}
	if ((needs & RTV_NEED_STEER) && !CPU_COUNT(&cfg->nonrt_cpus)) {
		snprintf(why, len, "method '%s' steers the bulk work off the RT CPUs, and the RT CPUs "
			 "leave no other CPU (this machine has %ld CPU%s)", c->name, n, n == 1 ? "" : "s");
		return -EINVAL;
	}
	return 0;
}

/* RTV_NEED_PREEMPT: the kernel's preemption model to "full", journaled,
 * where PREEMPT_DYNAMIC's switch is allowed; where it is not (no debugfs, a
 * locked-down kernel, no PREEMPT_DYNAMIC) the run goes on as the kernel is
 * and the note says so. Only a failure to journal is an error. */
static int preempt_full(const struct rtv_method_cfg *cfg, char *text, size_t len)
{
	const char *root = cfg->debugfs_root ? cfg->debugfs_root : RTV_DEBUGFS_ROOT;
	char was[32] = "";
	int err;

	err = rtv_preempt_set_journaled(root, "full", was, sizeof(was));
	if (!err) {
		snprintf(text, len, "preemption model full%s%s", strcmp(was, "full") ? ", was " : "",
			 strcmp(was, "full") ? was : "");
		return 0;
	}
	if (err == -EPERM || err == -EACCES || err == -ENOENT || err == -ENODEV) {
		snprintf(text, len, "preemption model not switched to full: %s", rtv_preempt_why(err));
		return 0;
	}
	rtv_err("cannot switch the preemption model to full: %s", strerror(-err));
	return err;
}

/* Append "; text" (or text) to note. */
static void note_add(char *note, size_t len, const char *text)
{
	size_t n = strlen(note);

	if (!text[0] || n + 1 >= len)
		return;
	snprintf(note + n, len - n, "%s%s", n ? "; " : "", text);
}

/* What the needs do to the RT client and server, for the note. */
static void place_note(const struct rtv_combo *c, const struct rtv_method_cfg *cfg, char *text,
		       size_t len)
{
	unsigned needs = rtv_combo_needs(c, cfg);
	size_t n;

	text[0] = '\0';
	if (!(needs & (RTV_NEED_RT_FIFO | RTV_NEED_RT_PIN)))
		return;
	n = (size_t)snprintf(text, len, "RT client and server");
	if (needs & RTV_NEED_RT_FIFO)
		n += (size_t)snprintf(text + n, n < len ? len - n : 0, " at SCHED_FIFO %d", cfg->rt_prio);
	if (needs & RTV_NEED_RT_PIN)
		n += (size_t)snprintf(text + n, n < len ? len - n : 0, " on the %s",
				      poller_apart(c, cfg) ? "other CPUs" : "RT CPU");
	if ((c->rx == RTV_RX_BUSYPOLL || c->rx == RTV_RX_HYBRID) && !poller_apart(c, cfg))
		snprintf(text + n, n < len ? len - n : 0, ", the poller below them");
}

int rtv_combo_setup(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		    struct rtv_testbed *tb, struct rtv_method_run *run)
{
	unsigned needs = rtv_combo_needs(c, cfg);
	struct rtv_rx_plan *plan = NULL;
	struct rtv_method_cfg rcfg;
	char text[RTV_METHOD_NOTE_LEN], why[256];
	int err = 0;

	run->note[0] = '\0';
	run->rx = NULL;
	if (c->rx) { /* the plan first: a method that cannot run here changes nothing */
		plan = malloc(sizeof(*plan));
		if (!plan)
			return -ENOMEM;
		rcfg = *cfg;
		if (tb) {
			rx_devices(c, tb, &rcfg);
			/* the RT NAPI kthreads one below the RT client and server, so
			 * that the application a kthread's poll wakes preempts it (its
			 * bottom-half enable then runs at most one softirq round of
			 * other devices' work before the application gets the CPU) */
			if (rcfg.rt_prio > 1)
				rcfg.rt_prio--;
		}
		err = rtv_rx_plan(&rcfg, c->rx, plan, why, sizeof(why));
		if (err < 0) {
			rtv_err("%s cannot run here: %s", rtv_rx_mode_name(c->rx), why);
			goto out;
		}
	}
	if (tb && (needs & RTV_NEED_PARTITION)) {
		err = rtv_method_partition(cfg, tb, text, sizeof(text));
		if (err < 0)
			goto out;
		note_add(run->note, sizeof(run->note), text);
	}
	if (needs & RTV_NEED_SHORT_SOFTIRQ) {
		err = rtv_method_short_softirq(cfg, text, sizeof(text));
		if (err < 0)
			goto out;
		note_add(run->note, sizeof(run->note), text);
	}
	if (needs & RTV_NEED_PREEMPT) {
		err = preempt_full(cfg, text, sizeof(text));
		if (err < 0)
			goto out;
		note_add(run->note, sizeof(run->note), text);
	}
	if ((needs & RTV_NEED_STEER) && (tb || cfg->nnonrt_devs)) {
		err = rtv_method_steer_bulk(cfg, tb, text, sizeof(text));
		if (err < 0)
			goto out;
		note_add(run->note, sizeof(run->note), text);
	} else if (needs & RTV_NEED_STEER) {
		note_add(run->note, sizeof(run->note), "no non-RT device given (--nonrt-dev): no "
			 "bulk work steered");
	}
	if (tb && (needs & RTV_NEED_RT_PIN) && !poller_apart(c, cfg) &&
	    !(needs & RTV_NEED_PARTITION)) {
		char rt[128];

		/* the RT client runs on the peer CPUs until a method steers it, as
		 * it would the RT NIC's interrupt (testbed/testbed.h) */
		rtv_cpulist_format(&cfg->rt_cpus, rt, sizeof(rt));
		err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_client.cgroup, rt);
		if (!err)
			err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_server.cgroup, rt);
		if (err < 0)
			goto out;
	}
	if (tb && poller_apart(c, cfg)) {
		char nonrt[128];

		rtv_cpulist_format(&cfg->nonrt_cpus, nonrt, sizeof(nonrt));
		err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_client.cgroup, nonrt);
		if (!err)
			err = rtv_cgroup_set_cpus(&tb->cg, tb->rt_server.cgroup, nonrt);
		if (err < 0)
			goto out;
		snprintf(text, sizeof(text), "the poller alone on the RT CPU, the RT hosts with the "
			 "streams on CPU %.64s", nonrt);
		note_add(run->note, sizeof(run->note), text);
	}
	for (int i = 0; i < c->nparts; i++) {
		struct rtv_method_run part = { .note = "", .rx = NULL };

		if (!c->part[i]->setup)
			continue;
		err = c->part[i]->setup(cfg, tb, &part);
		note_add(run->note, sizeof(run->note), part.note);
		if (err < 0)
			goto out;
	}
	if (plan && tb && tb->shape.topology == RTV_TB_HOST) {
		err = forward_tso_off(tb, text, sizeof(text));
		if (err < 0)
			goto out;
		note_add(run->note, sizeof(run->note), text);
	}
	if (plan) {
		err = rtv_rx_apply(plan, &rcfg, &run->rx);
		if (err < 0)
			goto out;
		snprintf(text, sizeof(text), "%s (%.200s)", rtv_rx_variant_name(plan->variant),
			 plan->variant_why);
		note_add(run->note, sizeof(run->note), text);
	}
	if (tb) {
		place_note(c, cfg, text, sizeof(text));
		note_add(run->note, sizeof(run->note), text);
	}
out:
	free(plan);
	return err;
}

int rtv_combo_place(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		    enum rtv_role role, pid_t pid)
{
	unsigned needs = rtv_combo_needs(c, cfg);
	const cpu_set_t *cpus = poller_apart(c, cfg) ? &cfg->nonrt_cpus : &cfg->rt_cpus;
	int err = 0;

	if (role != RTV_ROLE_RT_CLIENT && role != RTV_ROLE_RT_SERVER)
		return 0;
	if (needs & RTV_NEED_RT_FIFO)
		err = rtv_sched_set_process(pid, SCHED_FIFO, cfg->rt_prio);
	if (!err && (needs & RTV_NEED_RT_PIN) && CPU_COUNT(cpus))
		err = rtv_sched_set_affinity(pid, cpus);
	return err;
}

int rtv_method_run_poll(struct rtv_method_run *run, int timeout_ms)
{
	return rtv_rx_poll(run ? run->rx : NULL, timeout_ms);
}

int64_t rtv_method_run_cpu_ns(const struct rtv_method_run *run)
{
	return run ? rtv_rx_cpu_ns(run->rx) : 0;
}

int rtv_combo_child(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		    struct rtv_method_run *run, enum rtv_role role)
{
	int err = 0;

	for (int i = 0; i < c->nparts && !err; i++)
		if (c->part[i]->child)
			err = c->part[i]->child(cfg, run, role);
	return err;
}

int rtv_combo_started(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		      const struct rtv_testbed *tb, struct rtv_method_run *run, enum rtv_role role,
		      pid_t pid)
{
	int err = 0;

	for (int i = 0; i < c->nparts && !err; i++)
		if (c->part[i]->started)
			err = c->part[i]->started(cfg, tb, run, role, pid);
	return err;
}

void rtv_method_run_stop(struct rtv_method_run *run)
{
	if (!run)
		return;
	rtv_rx_free(run->rx);
	run->rx = NULL;
	if (run->chan_open) {
		close(run->chan[0]);
		close(run->chan[1]);
		run->chan_open = false;
	}
	if (run->helper > 0) { /* journaled: a crash leaves it to the next start */
		kill(run->helper, SIGTERM);
		for (int i = 0; i < 300 && waitpid(run->helper, NULL, WNOHANG) == 0; i++)
			usleep(10000);
		if (!kill(run->helper, SIGKILL))
			waitpid(run->helper, NULL, 0);
		run->helper = 0;
	}
}
