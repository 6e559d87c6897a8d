/* The taskset experiment; see taskrun.h. */
#include "experiment/taskrun.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/prm.h"
#include "util/json.h"
#include "util/time.h"

void rtv_taskrun_cfg_init(struct rtv_taskrun_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->duration_ns = 10 * RTV_NS_PER_S;
	cfg->cpu = -1;
	cfg->sched = RTV_ALG_RM;
	cfg->heuristic = RTV_FIT_LEAST_BW;
	cfg->margin_pct = 10;
	cfg->work = RTV_RUNNER_WORK_LOOP;
}

/* The analysis's partition as the runner's vCPUs. */
static int plan_vcpus(struct rtv_taskrun *t, char *err, size_t len)
{
	struct rtv_prm_params p;
	struct rtv_partition part;
	int failed = -1, e;

	rtv_prm_params_init(&p);
	p.sched = t->cfg.sched;
	if (t->cfg.period_ns > 0)
		p.period_min_ns = p.period_max_ns = t->cfg.period_ns;
	if (t->cfg.cpu >= 0) /* the taskset's pins are vCPU numbers to the analysis */
		for (int i = 0; i < t->ts.n; i++)
			t->ts.task[i].cpu = -1;
	e = rtv_partition_run(&t->ts, t->cfg.nvcpus, t->cfg.heuristic, &p, &part, &failed);
	if (e == -ENOSPC || e == -ERANGE) {
		snprintf(err, len, "the taskset does not fit on %d vCPU%s with %s under %s (task "
			 "'%s'); see 'rtvnet analyze'", t->cfg.nvcpus, t->cfg.nvcpus == 1 ? "" : "s",
			 rtv_heuristic_name(t->cfg.heuristic), rtv_alg_name(t->cfg.sched),
			 failed >= 0 ? t->ts.task[failed].name : "?");
		return -ENOSPC;
	}
	if (e < 0) {
		snprintf(err, len, "cannot partition the taskset: %s", strerror(-e));
		return e;
	}
	t->of = calloc((size_t)t->ts.n, sizeof(int));
	t->rank = t->cfg.sched == RTV_ALG_EDF ? NULL : calloc((size_t)t->ts.n, sizeof(int));
	t->iface = calloc((size_t)part.nvcpus + 1, sizeof(*t->iface));
	if (!t->of || !t->iface || (t->cfg.sched != RTV_ALG_EDF && !t->rank))
		e = -ENOMEM;
	else
		e = rtv_partition_vcpus(&part, &t->ts, t->cfg.sched, t->of, t->rank, t->iface);
	rtv_partition_release(&part);
	if (e < 0) {
		snprintf(err, len, "cannot plan the vCPUs: %s", strerror(-e));
		return e;
	}
	t->nvcpus = e;
	return 0;
}

/* One reservation per runner thread, and the admission test for them all. */
static int plan_reservations(struct rtv_taskrun *t, char *err, size_t len)
{
	struct rtv_reserve_admission adm;
	double margin = t->cfg.margin_pct / 100.0;
	char why[512], who[96];
	int failed = -1, e;

	t->nres = t->nvcpus ? t->nvcpus : t->ts.n;
	t->res = calloc((size_t)t->nres, sizeof(*t->res));
	if (!t->res)
		return -ENOMEM;
	for (int i = 0; i < t->nres; i++) {
		if (t->nvcpus)
			rtv_reserve_sized(&t->res[i], t->iface[i].budget_ns, t->iface[i].period_ns,
					  t->iface[i].period_ns, margin);
		else
			rtv_reserve_sized(&t->res[i], t->ts.task[i].wcet_ns, t->ts.task[i].deadline_ns,
					  t->ts.task[i].period_ns, margin);
	}
	for (int i = 0; i < t->ts.n; i++)
		t->ts.task[i].cpu = -1; /* a pinned DEADLINE thread gets EPERM */
	e = rtv_reserve_admit_set(RTV_RESERVE_ROOT, t->res, t->nres, &adm, &failed, why, sizeof(why));
	if (e == -EBUSY)
		snprintf(err, len, "the reservations need %.3f CPUs, above the %.3f this host admits "
			 "(%d CPUs x sched_rt_runtime_us/sched_rt_period_us, less %.3f for the fair "
			 "servers): lower --reserve-margin or the taskset's load", adm.request,
			 adm.limit - adm.fair_server, adm.ncpus, adm.fair_server);
	else if (e < 0 && failed >= 0) {
		if (t->nvcpus)
			snprintf(who, sizeof(who), "vCPU %d", failed);
		else
			snprintf(who, sizeof(who), "task '%s'", t->ts.task[failed].name);
		snprintf(err, len, "%s: %s", who, why);
	} else if (e < 0) {
		snprintf(err, len, "%s", why);
	}
	return e;
}

static void plan_runner(struct rtv_taskrun *t)
{
	struct rtv_runner_cfg *rc = &t->probe.runner;
	bool no_prio = t->cfg.no_prio || t->nvcpus || t->cfg.reserve;

	rtv_runner_cfg_init(rc);
	rc->cpu = t->cfg.cpu;
	rc->no_prio = no_prio;
	rc->work = t->cfg.work;
	rc->ns_per_loop = t->cfg.ns_per_loop;
	if (t->nvcpus) {
		rc->vcpu = t->of;
		rc->nvcpus = t->nvcpus;
		rc->vcpu_rank = t->rank;
	}
	rc->no_pin = t->cfg.reserve;
	t->needs_host = t->cfg.reserve || t->cfg.cpu >= 0 || t->nvcpus;
	for (int i = 0; i < t->ts.n; i++)
		if ((t->ts.task[i].cpu >= 0 && !rc->no_pin) || (t->ts.task[i].prio >= 0 && !no_prio))
			t->needs_host = true;
	t->probe.ts = &t->ts;
	t->probe.container = t->cfg.container;
	t->probe.reserve = t->cfg.reserve ? t->res : NULL;
	t->probe.nreserve = t->cfg.reserve ? t->nres : 0;
	t->probe.lock_memory = !no_prio && t->needs_host;
}

static int plan_experiment(struct rtv_taskrun *t, char *err, size_t len)
{
	struct rtv_plan p;
	int need = t->cfg.container ? rtv_testbed_host_streams(t->cfg.container) : 0;

	rtv_plan_init(&p);
	p.repeats = 1;
	p.warmup_ns = t->cfg.warmup_ns;
	p.duration_ns = t->cfg.duration_ns - t->cfg.warmup_ns;
	p.cpu_dma_latency_us = t->cfg.cpu_dma_latency_us;
	p.keep_stopped = true; /* Ctrl-C: the results cover the jobs run so far */
	if (t->cfg.container || t->cfg.net_load) {
		p.testbed = RTV_TESTBED_ANY;
		p.nstreams = t->cfg.net_load && need < 1 ? 1 : need;
	}
	rtv_plan_add_arm(&p, "taskset", NULL, true);
	p.service = (struct rtv_plan_probe){ &rtv_probe_taskset, &t->probe };
	if (t->cfg.load) {
		CPU_ZERO(&t->hogs.cpus);
		if (t->cfg.cpu >= 0)
			CPU_SET(t->cfg.cpu, &t->hogs.cpus);
		else if (sched_getaffinity(0, sizeof(t->hogs.cpus), &t->hogs.cpus) < 0)
			return -errno;
		p.load[p.nloads++] = (struct rtv_plan_probe){ &rtv_probe_hogs, &t->hogs };
	}
	if (t->cfg.net_load) {
		t->net.nstreams = 1;
		p.load[p.nloads++] = (struct rtv_plan_probe){ &rtv_probe_stream, &t->net };
	}
	return rtv_exp_init(&t->x, &p, err, len);
}

int rtv_taskrun_init(struct rtv_taskrun *t, const struct rtv_taskrun_cfg *cfg, char *err,
		     size_t errlen)
{
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	int e;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	if (cfg->container && rtv_testbed_host_streams(cfg->container) < 0) {
		snprintf(err, errlen, "'%s' is not a testbed host name (rtc, rts, or sNc, sNs for "
			 "stream pair N from 1 to %d)", cfg->container, RTV_TESTBED_MAX_STREAMS);
		return -EINVAL;
	}
	if (cfg->warmup_ns < 0 || cfg->warmup_ns >= cfg->duration_ns) {
		snprintf(err, errlen, "the warm-up must be shorter than the duration");
		return -EINVAL;
	}
	if (cfg->reserve && cfg->cpu >= 0) {
		snprintf(err, errlen, "a SCHED_DEADLINE thread cannot be pinned to one CPU (its "
			 "affinity must span its root domain)");
		return -EINVAL;
	}
	/* with --cpu every task shares one CPU, with --vcpus N they share N */
	e = rtv_taskset_load(cfg->path, cfg->cpu >= 0 ? 1 : cfg->nvcpus > 0 ? cfg->nvcpus :
				       (int)(ncpus > 0 ? ncpus : 1), &t->ts, err, errlen);
	if (e < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", cfg->path, strerror(-e));
		return e == -ENOMEM ? e : -EINVAL;
	}
	if (cfg->cpu >= 0)
		for (int i = 0; i < t->ts.n; i++)
			t->ts.task[i].cpu = cfg->cpu;
	if (cfg->nvcpus > 0 && (e = plan_vcpus(t, err, errlen)) < 0)
		return e;
	if (cfg->reserve && (e = plan_reservations(t, err, errlen)) < 0)
		return e;
	plan_runner(t);
	return plan_experiment(t, err, errlen);
}

void rtv_taskrun_release(struct rtv_taskrun *t)
{
	rtv_exp_release(&t->x);
	free(t->of);
	free(t->rank);
	free(t->iface);
	free(t->res);
	rtv_taskset_release(&t->ts);
	t->of = t->rank = NULL;
	t->iface = NULL;
	t->res = NULL;
}

bool rtv_taskrun_changes_host(const struct rtv_taskrun *t)
{
	return t->needs_host || t->cfg.load || t->cfg.net_load || t->cfg.container;
}

bool rtv_taskrun_measured(const struct rtv_taskrun *t)
{
	return t->x.done && t->x.runs[0].acct;
}

double rtv_taskrun_deadline(const struct rtv_taskrun *t)
{
	double dl = 1;

	for (int i = 0; i < t->ts.n; i++) {
		double r = (double)t->ts.task[i].deadline_ns / (double)t->ts.task[i].period_ns;

		if (r < dl)
			dl = r;
	}
	return dl;
}

double rtv_taskrun_net_gbit_s(const struct rtv_taskrun *t)
{
	int k = rtv_exp_metric(&t->x, "stream_gbit_s");

	return t->cfg.net_load && t->x.done ? rtv_exp_value(&t->x, &t->x.runs[0], 0, k) : NAN;
}

static json_t *vcpus_json(const struct rtv_taskrun *t)
{
	json_t *a = json_array();

	for (int k = 0; k < t->nvcpus; k++) {
		json_t *o = json_object(), *names = json_array();

		for (int i = 0; i < t->ts.n; i++)
			if (t->of[i] == k)
				json_array_append_new(names, json_string(t->ts.task[i].name));
		json_object_set_new(o, "tasks", names);
		rtv_json_set_num(o, "budget_ms", (double)t->iface[k].budget_ns / 1e6);
		rtv_json_set_num(o, "period_ms", (double)t->iface[k].period_ns / 1e6);
		rtv_json_set_num(o, "bandwidth", rtv_prm_bandwidth(&t->iface[k]));
		if (t->cfg.reserve)
			rtv_json_set_int(o, "reserved_runtime_ns", t->res[k].runtime_ns);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *config_json(const struct rtv_taskrun *t)
{
	const struct rtv_taskrun_cfg *c = &t->cfg;
	const struct rtv_run *r = t->x.done ? &t->x.runs[0] : NULL;
	json_t *conf = json_object();

	rtv_json_set_str(conf, "taskset", c->path);
	rtv_json_set_num(conf, "duration_s", (double)c->duration_ns / 1e9);
	rtv_json_set_num(conf, "warmup_s", (double)c->warmup_ns / 1e9);
	json_object_set_new(conf, "load", json_boolean(c->load));
	rtv_json_set_num(conf, "net_load_gbit_s", rtv_taskrun_net_gbit_s(t));
	rtv_json_set_str(conf, "container", c->container);
	rtv_json_set_int(conf, "cpu", c->cpu);
	json_object_set_new(conf, "prio", json_boolean(!t->probe.runner.no_prio));
	json_object_set_new(conf, "reserve", json_boolean(c->reserve));
	if (c->reserve)
		rtv_json_set_num(conf, "reserve_margin_pct", c->margin_pct);
	if (t->nvcpus) {
		rtv_json_set_str(conf, "sched", rtv_alg_name(c->sched));
		rtv_json_set_str(conf, "heuristic", rtv_heuristic_name(c->heuristic));
		json_object_set_new(conf, "vcpus", vcpus_json(t));
	}
	if (t->x.dma_latency_held)
		rtv_json_set_int(conf, "cpu_dma_latency_us", c->cpu_dma_latency_us);
	else
		json_object_set_new(conf, "cpu_dma_latency_us", json_null());
	rtv_json_set_str(conf, "cpuidle_driver", t->x.cpuidle_driver);
	rtv_json_set_str(conf, "work", c->work == RTV_RUNNER_WORK_LOOP ? "loop" : "cpu-time");
	if (c->work == RTV_RUNNER_WORK_LOOP) {
		rtv_json_set_num(conf, "ns_per_loop", t->probe.runner.ns_per_loop);
		json_object_set_new(conf, "ns_per_loop_given", json_boolean(c->ns_per_loop > 0));
	}
	rtv_json_set_num(conf, "utilization", rtv_taskset_utilization(&t->ts));
	json_object_set_new(conf, "interrupted", json_boolean(r && r->status == -EINTR));
	return conf;
}

json_t *rtv_taskrun_json(const struct rtv_taskrun *t, json_t *meta)
{
	const struct rtv_run *r = t->x.done ? &t->x.runs[0] : NULL;
	json_t *tasks = json_array();

	for (int i = 0; r && r->obj && i < t->ts.n; i++)
		if (r->obj[i])
			json_array_append(tasks, r->obj[i]);
	/* with the run's CPU use, foreign load included */
	return rtv_json_doc(meta, config_json(t), "tasks", tasks, "accounting",
			    r && r->acct ? json_incref(r->acct) : json_object(), "disturbed",
			    json_boolean(r && r->disturbed), NULL);
}
