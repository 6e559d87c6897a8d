/* The experiment engine: runs a plan; see engine.h. */
#include "experiment/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/cpuload.h"
#include "host/journal.h"
#include "methods/rxpath.h"
#include "report/histjson.h"
#include "util/json.h"
#include "util/file.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/stop.h"
#include "util/time.h"

#define KIDS_MAX 64
#define FOREIGN_CGROUP "/" RTV_TESTBED_CGROUP
#define LOAD_SETTLE_NS (300 * RTV_NS_PER_MS) /* the loads at full speed before the service */

/* ---- the engine's own metrics: accounting over each run's window ---- */

struct acct {
	struct rtv_cpuload cpu; /* the machine's, kernel threads', other processes' */
	double poller_load_cpu_pct, poller_idle_cpu_pct;
	double energy_j, energy_est_j;
	double rt_net_rx_per_s, wakeups_per_s, wake_p99_us;
	uint64_t wakeups;
};

#define A(f) offsetof(struct acct, f)
static const struct rtv_metric acct_metrics[] = {
	{ .key = "cpu_pct", .run_key = "cpu.busy_pct", .off = A(cpu.busy_pct),
	  .col = { { .table = 1, .pos = 90, .head = "CPU % (sirq)", .width = 12 },
		   { .table = 2, .pos = 10, .head = "CPU %", .width = 8, .prec = 1 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "softirq_pct", .run_key = "cpu.softirq_pct", .off = A(cpu.softirq_pct),
	  .col = { { .table = 1, .pos = 90, .join = " (", .suffix = ")" } }, .better = RTV_BETTER_LOWER },
	{ .key = "kthread_pct", .run_key = "cpu.kthread_pct", .off = A(cpu.kthread_pct),
	  .better = RTV_BETTER_LOWER },
	{ .key = "foreign_pct", .off = A(cpu.foreign_pct),
	  .col = { { .table = 1, .pos = 100, .head = "foreign", .width = 9, .suffix = "%" } } },
	{ .key = "poller_load_cpu_pct", .off = A(poller_load_cpu_pct), .needs = RTV_CAP_METHODS,
	  .col = { { .table = 2, .pos = 20, .head = "poller load %", .width = 14, .prec = 1 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "poller_idle_cpu_pct", .off = A(poller_idle_cpu_pct), .needs = RTV_CAP_METHODS,
	  .col = { { .table = 2, .pos = 30, .head = "poller idle %", .width = 14, .prec = 1 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "energy_j", .off = A(energy_j), .needs = RTV_CAP_RAPL,
	  .col = { { .table = 2, .pos = 40, .head = "energy J", .width = 12, .prec = 1 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "energy_est_j", .off = A(energy_est_j), .needs = RTV_CAP_NO_RAPL,
	  .col = { { .table = 2, .pos = 40, .head = "energy est J", .width = 12, .prec = 1 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "rt_cpu_net_rx_per_s", .off = A(rt_net_rx_per_s), .needs = RTV_CAP_METHODS,
	  .col = { { .table = 2, .pos = 50, .head = "RT NET_RX/s", .width = 14 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "wakeups", .type = RTV_METRIC_U64, .off = A(wakeups), .run_only = true,
	  .needs = RTV_CAP_METHODS },
	{ .key = "wakeups_per_s", .off = A(wakeups_per_s), .needs = RTV_CAP_METHODS,
	  .col = { { .table = 2, .pos = 60, .head = "wakeups/s", .width = 10, .prec = 1 } },
	  .better = RTV_BETTER_LOWER },
	{ .key = "wake_p99_us", .off = A(wake_p99_us), .run_only = true, .needs = RTV_CAP_METHODS,
	  .better = RTV_BETTER_LOWER },
};
#undef A
#define NACCT ((int)(sizeof(acct_metrics) / sizeof(acct_metrics[0])))

/* ---- plans ---- */

void rtv_plan_init(struct rtv_plan *p)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t last;

	memset(p, 0, sizeof(*p));
	p->repeats = 3;
	p->duration_ns = 20 * RTV_NS_PER_S;
	p->warmup_ns = RTV_NS_PER_S;
	p->mcfg.rt_prio = 80;
	CPU_ZERO(&last);
	CPU_SET(ncpus > 1 ? ncpus - 1 : 0, &last);
	rtv_method_cfg_cpus(&p->mcfg, &last);
	p->seed = 1;
	p->foreign_limit_pct = 10;
	p->core_watts = 5;
}

int rtv_plan_add_arm(struct rtv_plan *p, const char *name, const struct rtv_combo *method,
		     bool loaded)
{
	struct rtv_arm *a;

	if (p->narms == RTV_PLAN_MAX_ARMS)
		return -E2BIG;
	a = &p->arm[p->narms++];
	memset(a, 0, sizeof(*a));
	if (method)
		a->method = *method;
	snprintf(a->name, sizeof(a->name), "%s", name ? name : method ? method->name : RTV_EXP_IDLE);
	a->loaded = loaded;
	return 0;
}

int rtv_plan_add_methods(struct rtv_plan *p, const char *list, bool loaded, char *err,
			 size_t len)
{
	char buf[512], *save = NULL;
	int n = 0;

	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, len, "the list is too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct rtv_combo m;
		int e = rtv_combo_parse(tok, &m, err, len);

		if (e < 0)
			return e;
		for (int i = 0; i < p->narms; i++)
			if (!strcmp(p->arm[i].name, m.name)) {
				snprintf(err, len, "'%s' is listed twice", m.name);
				return -EINVAL;
			}
		if (rtv_plan_add_arm(p, NULL, &m, loaded) < 0) {
			snprintf(err, len, "at most %d arms", RTV_PLAN_MAX_ARMS);
			return -EINVAL;
		}
		n++;
	}
	if (!n) {
		char known[256];

		rtv_methods_known(known, sizeof(known));
		snprintf(err, len, "no method given (known: %s)", known);
		return -EINVAL;
	}
	return 0;
}

/* ---- set-up ---- */

static int add_probe(struct rtv_exp *x, const struct rtv_plan_probe *pp, char *err, size_t len)
{
	struct rtv_exp_probe *p = &x->probe[x->nprobes];
	char why[256] = "";
	int e;

	if (!pp->probe)
		return 0;
	if (pp->probe->check && (e = pp->probe->check(pp->cfg, why, sizeof(why))) < 0) {
		snprintf(err, len, "%s: %s", pp->probe->name, why[0] ? why : strerror(-e));
		return e;
	}
	if (rtv_metric_table_check(pp->probe->metrics, pp->probe->nmetrics, why, sizeof(why)) < 0) {
		snprintf(err, len, "probe %s: %s", pp->probe->name, why);
		return -EINVAL;
	}
	p->probe = pp->probe;
	p->cfg = pp->cfg;
	p->nseries = pp->probe->nseries ? pp->probe->nseries(pp->cfg) : 1;
	p->size = pp->probe->state_size ? pp->probe->state_size(pp->cfg) : pp->probe->size;
	if (p->nseries < 1 || (!p->size && pp->probe->nmetrics)) {
		snprintf(err, len, "probe %s: no state to measure into", pp->probe->name);
		return -EINVAL;
	}
	x->nprobes++;
	return 0;
}

static int add_metrics(struct rtv_exp *x, char *err, size_t len)
{
	int n = NACCT, k = 0;

	for (int i = 0; i < x->nprobes; i++)
		n += x->probe[i].probe->nmetrics;
	x->metric = calloc((size_t)n, sizeof(*x->metric));
	x->metric_probe = calloc((size_t)n, sizeof(*x->metric_probe));
	if (!x->metric || !x->metric_probe)
		return -ENOMEM;
	for (int i = 0; i < x->nprobes; i++) {
		for (int j = 0; j < x->probe[i].probe->nmetrics; j++, k++) {
			x->metric[k] = &x->probe[i].probe->metrics[j];
			x->metric_probe[k] = i;
		}
	}
	for (int j = 0; j < NACCT; j++, k++) {
		x->metric[k] = &acct_metrics[j];
		x->metric_probe[k] = -1;
	}
	x->nmetrics = n;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(x->metric[i]->key, x->metric[j]->key) &&
			    rtv_metric_available(x->metric[i], x->caps) &&
			    rtv_metric_available(x->metric[j], x->caps)) {
				snprintf(err, len, "two probes measure '%s'", x->metric[i]->key);
				return -EINVAL;
			}
	return 0;
}

/* The testbed's shape: nat needs the host topology; peers on a CPU list of
 * online CPUs, and off the RT CPUs when a method partitions them (the
 * peers' NIC work would land on the CPU kept for the RT path). */
static int check_shape(const struct rtv_plan *p, char *err, size_t len)
{
	cpu_set_t peers, online, both;

	if (p->nat && p->topology != RTV_TB_HOST) {
		snprintf(err, len, "option '--nat': needs the host topology (there is no host to "
			 "publish on in the direct one)");
		return -EINVAL;
	}
	if (!p->peer_cpus[0] || !strcmp(p->peer_cpus, "any"))
		return 0;
	if (rtv_parse_cpulist(p->peer_cpus, CPU_SETSIZE, &peers) < 0 || !CPU_COUNT(&peers)) {
		snprintf(err, len, "option '--peer-cpus': '%s' is not a CPU list (e.g. 0 or 0-2,5) "
			 "or 'any'", p->peer_cpus);
		return -EINVAL;
	}
	if (!rtv_file_read_cpulist("/sys/devices/system/cpu/online", &online)) {
		CPU_AND(&both, &peers, &online);
		if (!CPU_EQUAL(&both, &peers)) {
			snprintf(err, len, "option '--peer-cpus': '%s' names a CPU that is not online",
				 p->peer_cpus);
			return -EINVAL;
		}
	}
	CPU_AND(&both, &peers, &p->mcfg.rt_cpus);
	for (int i = 0; i < p->narms && CPU_COUNT(&both); i++)
		if (rtv_combo_needs(&p->arm[i].method, &p->mcfg) & RTV_NEED_PARTITION) {
			snprintf(err, len, "option '--peer-cpus': '%s' includes an RT CPU, which method "
				 "'%s' keeps for the RT path alone", p->peer_cpus, p->arm[i].name);
			return -EINVAL;
		}
	return 0;
}

static int check_plan(const struct rtv_plan *p, char *err, size_t len)
{
	if (!p->service.probe || p->service.probe->role != RTV_PROBE_SERVICE) {
		snprintf(err, len, "the plan has no service probe to measure");
		return -EINVAL;
	}
	if (p->narms < 1 || p->narms > RTV_PLAN_MAX_ARMS) {
		snprintf(err, len, "the plan has %d arms (1 to %d)", p->narms, RTV_PLAN_MAX_ARMS);
		return -EINVAL;
	}
	if (p->repeats < 1 || p->repeats > RTV_PLAN_MAX_REPEATS) {
		snprintf(err, len, "%d repeats (1 to %d)", p->repeats, RTV_PLAN_MAX_REPEATS);
		return -EINVAL;
	}
	if (p->duration_ns <= 0 || p->warmup_ns < 0 || p->idle_phase_ns < 0) {
		snprintf(err, len, "the run's duration must be positive, its warm-up not negative");
		return -EINVAL;
	}
	if (p->nloads > RTV_PLAN_MAX_LOADS || p->nevidence > 2) {
		snprintf(err, len, "too many loads or evidence probes");
		return -EINVAL;
	}
	for (int i = 0; i < p->nloads; i++)
		if (!p->load[i].probe || p->load[i].probe->role != RTV_PROBE_LOAD) {
			snprintf(err, len, "load %d is not a load probe", i);
			return -EINVAL;
		}
	for (int i = 0; i < p->narms; i++) {
		const struct rtv_combo *m = &p->arm[i].method;

		for (int j = 0; j < i; j++)
			if (!strcmp(p->arm[j].name, p->arm[i].name)) {
				snprintf(err, len, "'%s' is listed twice", p->arm[i].name);
				return -EINVAL;
			}
		if ((m->needs || m->rx) && p->testbed == RTV_TESTBED_NONE) {
			snprintf(err, len, "method '%s' acts on the testbed, and the plan has none",
				 m->name);
			return -EINVAL;
		}
		if (m->nparts && rtv_combo_check(m, &p->mcfg, err, len) < 0)
			return -EINVAL;
	}
	return p->testbed == RTV_TESTBED_NONE ? 0 : check_shape(p, err, len);
}

int rtv_exp_init(struct rtv_exp *x, const struct rtv_plan *plan, char *err, size_t errlen)
{
	int e, k = 0, nplot = 0;

	memset(x, 0, sizeof(*x));
	e = check_plan(plan, err, errlen);
	if (e < 0)
		return e;
	x->plan = *plan;
	for (int i = 0; i < plan->narms; i++)
		if (plan->arm[i].method.nparts)
			x->caps |= RTV_CAP_METHODS;
	x->rapl = !rtv_energy_rapl_probe(RTV_POWERCAP_ROOT, &x->energy);
	x->caps |= x->rapl ? RTV_CAP_RAPL : RTV_CAP_NO_RAPL;
	e = add_probe(x, &plan->service, err, errlen);
	for (int i = 0; !e && i < plan->nloads; i++)
		e = add_probe(x, &plan->load[i], err, errlen);
	for (int i = 0; !e && i < plan->nevidence; i++)
		e = add_probe(x, &plan->evidence[i], err, errlen);
	if (!e)
		e = add_metrics(x, err, errlen);
	if (e < 0)
		goto fail;
	x->nseries = x->probe[0].nseries;
	for (int i = 0; i < x->nprobes; i++)
		if (i && x->probe[i].nseries != 1) {
			snprintf(err, errlen, "probe %s: only the service may measure several series",
				 x->probe[i].probe->name);
			e = -EINVAL;
			goto fail;
		}
	x->nruns = plan->repeats * plan->narms;
	x->runs = calloc((size_t)x->nruns, sizeof(*x->runs));
	if (!x->runs)
		goto nomem;
	for (int r = 0; r < plan->repeats; r++)
		for (int a = 0; a < plan->narms; a++, k++) {
			struct rtv_run *run = &x->runs[k];

			run->arm = a;
			run->repeat = r + 1;
			run->val = malloc((size_t)x->nseries * (size_t)x->nmetrics * sizeof(double));
			run->obj = calloc((size_t)x->nseries, sizeof(json_t *));
			if (!run->val || !run->obj)
				goto nomem;
			for (int i = 0; i < x->nseries * x->nmetrics; i++)
				run->val[i] = NAN;
		}
	for (int i = 0; i < x->nmetrics; i++)
		if (x->metric[i]->type == RTV_METRIC_HIST && x->metric[i]->plot)
			nplot++;
	x->nplot = nplot;
	if (nplot) {
		int rows = plan->narms * x->nseries * nplot;

		x->plot = calloc((size_t)rows, sizeof(*x->plot));
		if (!x->plot)
			goto nomem;
		for (int i = 0; i < rows; i++) {
			x->plot[i] = malloc(sizeof(struct rtv_hist));
			if (!x->plot[i])
				goto nomem;
			rtv_hist_init(x->plot[i]);
		}
	}
	x->acct = calloc(1, sizeof(struct acct));
	if (!x->acct)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	e = -ENOMEM;
fail:
	rtv_exp_release(x);
	return e;
}

void rtv_exp_release(struct rtv_exp *x)
{
	for (int i = 0; x->runs && i < x->nruns; i++) {
		free(x->runs[i].val);
		json_decref(x->runs[i].acct);
		for (int s = 0; x->runs[i].obj && s < x->nseries; s++)
			json_decref(x->runs[i].obj[s]);
		free(x->runs[i].obj);
	}
	free(x->runs);
	for (int i = 0; x->plot && i < x->plan.narms * x->nseries * x->nplot; i++)
		free(x->plot[i]);
	free(x->plot);
	free(x->metric);
	free(x->metric_probe);
	free(x->acct);
	x->runs = NULL;
	x->plot = NULL;
	x->metric = NULL;
	x->metric_probe = NULL;
	x->acct = NULL;
}

/* ---- processes ---- */

struct kids {
	pid_t pid[KIDS_MAX];
	int n;
};

/* The run in progress: what rtv_exp_spawn and the loop need. */
struct ctx {
	struct rtv_exp *x;
	struct kids kids;
	struct rtv_method_run mrun;
	struct rtv_pctx pc[RTV_PLAN_MAX_PROBES];
	bool started[RTV_PLAN_MAX_PROBES]; /* its start was called: it is polled, stopped, finished */
};

/* A process of a run whose method wraps it (outsource): the method's child
 * hook, then the program. */
struct wrapped {
	int (*fn)(void *);
	void *arg;
	const struct rtv_combo *m;
	const struct rtv_method_cfg *cfg;
	struct rtv_method_run *mrun;
	enum rtv_role role;
};

/* A run's processes by role, as ps and the stage tracer's blockers show
 * them (process.c's snapshot knows these names). */
static const char *const role_comm[] = {
	[RTV_ROLE_RT_CLIENT] = "rtv-rtclient",
	[RTV_ROLE_RT_SERVER] = "rtv-rtserver",
	[RTV_ROLE_STREAM_CLIENT] = "rtv-src",
	[RTV_ROLE_STREAM_SERVER] = "rtv-sink",
};

static int wrapped_main(void *arg)
{
	struct wrapped *w = arg;
	int err = rtv_combo_child(w->m, w->cfg, w->mrun, w->role);

	if (w->role < sizeof(role_comm) / sizeof(role_comm[0]) && role_comm[w->role])
		prctl(PR_SET_NAME, role_comm[w->role], 0, 0, 0);

	if (err < 0) {
		rtv_err("the method cannot wrap this process: %s", strerror(-err));
		return err;
	}
	return w->fn(w->arg);
}

static int spawn(struct rtv_pctx *c, const struct rtv_tb_host *h, enum rtv_role role,
		 int (*fn)(void *), void *arg, pid_t *pidp)
{
	struct ctx *r = c->engine;
	struct rtv_exp *x = r->x;
	const struct rtv_arm *arm = &x->plan.arm[x->runs[c->run].arm];
	pid_t pid = 0;
	int err;

	if (r->kids.n == KIDS_MAX)
		return -E2BIG;
	if (h && !x->have_tb)
		return -ENOENT;
	struct wrapped w = { fn, arg, &arm->method, &x->plan.mcfg, &r->mrun, role };

	err = rtv_testbed_spawn(x->have_tb ? &x->tb : NULL, h, wrapped_main, &w, &pid);
	if (err < 0 && pid <= 0)
		return err;
	r->kids.pid[r->kids.n++] = pid;
	if (err < 0)
		return err;
	if (pidp)
		*pidp = pid;
	if (arm->method.nparts) {
		err = rtv_combo_place(&arm->method, &x->plan.mcfg, role, pid);
		if (err < 0)
			rtv_err("method '%s' cannot place process %d: %s", arm->name, pid,
				strerror(-err));
		if (!err)
			err = rtv_combo_started(&arm->method, &x->plan.mcfg,
						x->have_tb ? &x->tb : NULL, &r->mrun, role, pid);
	}
	return err;
}

static pid_t wait_kid(struct rtv_pctx *c, pid_t pid, int *status)
{
	struct ctx *r = c->engine;
	pid_t got = waitpid(pid, status, WNOHANG);

	if (got < 0)
		return -errno;
	if (got == pid)
		for (int i = 0; i < r->kids.n; i++)
			if (r->kids.pid[i] == pid)
				r->kids.pid[i] = r->kids.pid[--r->kids.n];
	return got;
}

/* The service's series i in a state. */
static void *series_of(const struct rtv_exp_probe *p, void *state, int i)
{
	return (char *)state + p->probe->series_off + (size_t)i * p->probe->series_size;
}

static void stop_kids(struct kids *k)
{
	int64_t deadline = rtv_now_ns() + 3 * RTV_NS_PER_S;

	for (int i = 0; i < k->n; i++)
		kill(k->pid[i], SIGTERM);
	for (int i = 0; i < k->n; i++) {
		while (waitpid(k->pid[i], NULL, WNOHANG) == 0) {
			if (rtv_now_ns() > deadline) {
				kill(k->pid[i], SIGKILL);
				waitpid(k->pid[i], NULL, 0);
				break;
			}
			usleep(10000);
		}
	}
	k->n = 0;
}

/* ---- one run ---- */

/* The probes' and the method's work for up to timeout_ms: the service's
 * poll waits when it has one (it serves its processes' requests), else the
 * method's (link events); the others only look. */
static void tick(struct ctx *r, int timeout_ms)
{
	struct rtv_exp *x = r->x;
	bool service_waits = x->probe[0].probe->poll && r->started[0];

	for (int i = 0; i < x->nprobes; i++)
		if (x->probe[i].probe->poll && r->started[i])
			x->probe[i].probe->poll(&r->pc[i], i == 0 ? timeout_ms : 0);
	if (rtv_method_run_poll(&r->mrun, service_waits ? 0 : timeout_ms) < 0)
		rtv_warn("cannot re-apply the method's settings after a link change");
}

/* Wait until until_ns doing the run's work; false when stopped. */
static bool wait_until(struct ctx *r, int64_t until_ns, const volatile sig_atomic_t *stop)
{
	for (;;) {
		int64_t left = until_ns - rtv_now_ns();

		if (stop && rtv_stop_read(stop))
			return false;
		if (left <= 0)
			return true;
		tick(r, (int)(left > 50 * RTV_NS_PER_MS ? 50 : left / RTV_NS_PER_MS + 1));
	}
}

/* NET_RX softirqs raised so far on the RT CPUs. */
static uint64_t rt_net_rx(const cpu_set_t *rt)
{
	uint64_t per[RTV_CPUS_MAX], sum = 0;
	int n = rtv_softirqs_read("/proc/softirqs", "NET_RX", per, RTV_CPUS_MAX);

	for (int i = 0; i < n; i++)
		if (CPU_ISSET(i, rt))
			sum += per[i];
	return sum;
}

static double energy_uj(const struct rtv_exp *x)
{
	uint64_t uj;

	if (!x->rapl || rtv_energy_read_uj(&x->energy, &uj))
		return NAN;
	return (double)uj;
}

/* What the accounting takes at the window's start. */
struct acct_mark {
	struct rtv_cpuload_snap snap;
	uint64_t netrx;
	double e_uj;
	int64_t poller_ns, t_ns;
	struct rtv_rx_stats rx;
};

static int acct_begin(struct ctx *r, struct acct_mark *a)
{
	struct rtv_exp *x = r->x;
	int err = rtv_cpuload_snap(&a->snap, getpid(), FOREIGN_CGROUP);

	a->netrx = rt_net_rx(&x->plan.mcfg.rt_cpus);
	a->e_uj = energy_uj(x);
	a->poller_ns = rtv_method_run_cpu_ns(&r->mrun);
	rtv_rx_stats(r->mrun.rx, &a->rx);
	a->t_ns = rtv_now_ns();
	return err;
}

static int acct_end(struct ctx *r, struct acct_mark *a, struct acct *out)
{
	struct rtv_exp *x = r->x;
	struct rtv_cpuload_snap b = { 0 };
	struct rtv_rx_stats rx;
	int err = rtv_cpuload_snap(&b, getpid(), FOREIGN_CGROUP);
	int64_t t = rtv_now_ns();
	double win_s = (double)(t - a->t_ns) / 1e9;

	if (err < 0)
		goto out;
	rtv_cpuload_diff(&a->snap, &b, &out->cpu);
	out->poller_load_cpu_pct = 100.0 * (double)(rtv_method_run_cpu_ns(&r->mrun) - a->poller_ns) /
				   (double)(t - a->t_ns);
	out->rt_net_rx_per_s = (double)(rt_net_rx(&x->plan.mcfg.rt_cpus) - a->netrx) / win_s;
	rtv_rx_stats(r->mrun.rx, &rx);
	out->wakeups = rx.wakeups - a->rx.wakeups;
	out->wakeups_per_s = (double)out->wakeups / ((double)x->plan.duration_ns / 1e9);
	out->wake_p99_us = rx.wake.count > a->rx.wake.count ?
		(double)rtv_hist_percentile(&rx.wake, 99) / 1e3 : NAN;
	out->energy_j = out->energy_est_j = NAN;
	if (x->rapl)
		out->energy_j = rtv_energy_delta_uj((uint64_t)a->e_uj, (uint64_t)energy_uj(x),
						    x->energy.npkgs == 1 ?
						    x->energy.pkg[0].max_range_uj : 0) / 1e6;
	else
		out->energy_est_j = out->cpu.busy_pct / 100.0 * out->cpu.ncpus * win_s *
				    x->plan.core_watts;
out:
	rtv_cpuload_snap_release(&b);
	return err;
}

/* Whether a probe runs in an arm: a load only where the arm is loaded. */
static bool takes_part(const struct rtv_arm *arm, const struct rtv_probe *p)
{
	return arm->loaded || p->role != RTV_PROBE_LOAD;
}

/* Set obj's member at a dotted path ("cpu.busy_pct") to v (a new reference). */
static void json_put(json_t *obj, const char *path, json_t *v)
{
	const char *dot = strchr(path, '.');

	if (!dot) {
		json_object_set_new(obj, path, v);
		return;
	}
	char head[64];
	json_t *sub;

	snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
	sub = json_object_get(obj, head);
	if (!json_is_object(sub)) {
		sub = json_object();
		json_object_set_new(obj, head, sub);
	}
	json_put(sub, dot + 1, v);
}

/* Read every metric of the run from the probes' states and the accounting
 * into the record, merge the plotted distributions, build the JSON: per
 * series the probes' metrics, once per run the engine's own. */
static void record(struct ctx *r, struct rtv_run *run, const struct acct *acct)
{
	struct rtv_exp *x = r->x;

	run->acct = json_object();
	for (int s = 0; s < x->nseries; s++) {
		json_t *o = json_object();

		for (int k = 0; k < x->nmetrics; k++) {
			const struct rtv_metric *m = x->metric[k];
			int pi = x->metric_probe[k];
			const struct rtv_exp_probe *p = pi >= 0 ? &x->probe[pi] : NULL;
			const void *base = p ? (p->nseries > 1 ? series_of(p, p->state, s) :
						(const char *)p->state + p->probe->series_off) :
					      (const void *)acct;
			const struct rtv_metric *tab = p ? p->probe->metrics : acct_metrics;
			int ntab = p ? p->probe->nmetrics : NACCT;
			const char *rk = m->run_key ? m->run_key : m->key;
			json_t *dst = p ? o : run->acct;
			int plot = rtv_exp_plot(x, k);

			if (!rtv_metric_available(m, x->caps) || (!p && s > 0))
				continue;
			if (m->type == RTV_METRIC_HIST) {
				const struct rtv_hist *h = (const void *)((const char *)base + m->off);

				if (plot >= 0 && (!run->status || x->plan.keep_stopped))
					rtv_hist_merge(x->plot[(run->arm * x->nseries + s) * x->nplot + plot], h);
				if (rk[0])
					json_put(dst, rk, rtv_hist_json(h, rtv_metric_unit(m)));
				continue;
			}
			/* a load's metrics are not measured where it did not run */
			double v = p && !takes_part(&x->plan.arm[run->arm], p->probe) ? NAN :
				   rtv_metric_value(m, base, tab, ntab);

			run->val[s * x->nmetrics + k] = v;
			if (!rk[0])
				continue;
			if (m->type == RTV_METRIC_U64 && isfinite(v))
				json_put(dst, rk, json_integer((json_int_t)v));
			else
				json_put(dst, rk, rtv_json_num(v));
		}
		for (int i = 0; i < x->nprobes; i++)
			if (x->probe[i].probe->series_json)
				x->probe[i].probe->series_json(&r->pc[i], x->probe[i].nseries > 1 ? s : 0, o);
		run->obj[s] = o;
	}
	json_t *per = json_array();

	for (int c = 0; c < acct->cpu.ncpus; c++)
		json_array_append_new(per, json_real(round(acct->cpu.cpu_busy_pct[c] * 10) / 10));
	json_put(run->acct, "cpu.per_cpu_busy_pct", per);
}

/* Tell every started probe the run ends, end their processes, let them read
 * what those left. */
static void probes_end(struct ctx *r)
{
	struct rtv_exp *x = r->x;

	for (int i = 0; i < x->nprobes; i++)
		if (x->probe[i].probe->stop && r->started[i])
			x->probe[i].probe->stop(&r->pc[i]);
	stop_kids(&r->kids);
	for (int i = 0; i < x->nprobes; i++)
		if (x->probe[i].probe->finish && r->started[i])
			x->probe[i].probe->finish(&r->pc[i]);
}

/* Start the probes of one role; 0 or the first error. */
static int start_role(struct ctx *r, enum rtv_probe_role role)
{
	for (int i = 0; i < r->x->nprobes; i++) {
		const struct rtv_probe *p = r->x->probe[i].probe;
		int err;

		if (p->role != role)
			continue;
		r->started[i] = true;
		if (!p->start)
			continue;
		err = p->start(&r->pc[i]);
		if (err < 0) {
			rtv_err("%s cannot start: %s", p->name, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The service: ended (ok says how), or not yet. */
static bool service_ended(struct ctx *r, bool *ok)
{
	const struct rtv_probe *p = r->x->probe[0].probe;
	pid_t pid = r->pc[0].client;
	int status = 0;

	*ok = true;
	if (p->done) {
		int d = p->done(&r->pc[0]);

		*ok = d >= 0;
		return d != 0;
	}
	if (pid <= 0)
		return true;
	if (wait_kid(&r->pc[0], pid, &status) != pid)
		return false;
	r->pc[0].client = 0;
	*ok = WIFEXITED(status) && !WEXITSTATUS(status);
	return true;
}

static int one_run(struct rtv_exp *x, int index, const volatile sig_atomic_t *stop,
		   rtv_exp_progress_fn progress, void *parg)
{
	struct rtv_run *run = &x->runs[index];
	const struct rtv_arm *arm = &x->plan.arm[run->arm];
	struct ctx r = { .x = x };
	struct acct *acct = x->acct;
	struct acct_mark am = { 0 };
	size_t mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	int64_t t_start, t_end;
	int err = 0, st;
	bool ok = true;

	x->cur = &r;
	memset(acct, 0, sizeof(*acct));
	for (int i = 0; i < x->nprobes; i++) {
		if (x->probe[i].state)
			memset(x->probe[i].state, 0, x->probe[i].size);
		r.pc[i] = (struct rtv_pctx){ .probe = x->probe[i].probe, .cfg = x->probe[i].cfg,
					     .state = x->probe[i].state,
					     .tb = x->have_tb ? &x->tb : NULL, .arm = arm->name,
					     .run = index, .repeat = run->repeat,
					     .seed = x->plan.seed + (uint64_t)run->repeat,
					     .duration_ns = x->plan.duration_ns,
					     .warmup_ns = x->plan.warmup_ns, .spawn = spawn,
					     .wait = wait_kid, .engine = &r };
	}
	if (arm->method.nparts) {
		err = rtv_combo_setup(&arm->method, &x->plan.mcfg, x->have_tb ? &x->tb : NULL, &r.mrun);
		snprintf(run->note, sizeof(run->note), "%s", r.mrun.note);
		if (err < 0)
			goto out;
		for (int i = 0; i < x->nprobes && r.mrun.service_addr[0]; i++)
			r.pc[i].rt_service_addr = r.mrun.service_addr;
	}
	err = start_role(&r, RTV_PROBE_EVIDENCE);
	if (err < 0)
		goto out;
	acct->poller_idle_cpu_pct = 0;
	if (arm->method.nparts && x->plan.idle_phase_ns > 0) { /* its cost with no traffic at all */
		int64_t t0 = rtv_now_ns(), c0 = rtv_method_run_cpu_ns(&r.mrun);

		if (!wait_until(&r, rtv_ns_add_sat(t0, x->plan.idle_phase_ns), stop)) {
			err = -EINTR;
			goto out;
		}
		acct->poller_idle_cpu_pct = 100.0 * (double)(rtv_method_run_cpu_ns(&r.mrun) - c0) /
					    (double)(rtv_now_ns() - t0);
	}
	if (arm->loaded && x->plan.nloads) {
		err = start_role(&r, RTV_PROBE_LOAD);
		if (err < 0)
			goto out;
		if (!wait_until(&r, rtv_now_ns() + LOAD_SETTLE_NS, stop)) {
			err = -EINTR;
			goto out;
		}
	}
	err = start_role(&r, RTV_PROBE_SERVICE);
	if (err < 0)
		goto out;
	t_start = rtv_now_ns();
	if (!wait_until(&r, rtv_ns_add_sat(t_start, x->plan.warmup_ns), stop)) {
		err = -EINTR;
		goto out;
	}
	err = acct_begin(&r, &am);
	if (err < 0)
		goto out;
	for (int i = 0; i < x->nprobes; i++) {
		r.pc[i].t_mark = am.t_ns;
		if (x->probe[i].probe->mark && takes_part(arm, x->probe[i].probe))
			x->probe[i].probe->mark(&r.pc[i]);
	}
	while (!service_ended(&r, &ok)) {
		if (stop && rtv_stop_read(stop)) {
			err = -EINTR;
			break;
		}
		if (progress)
			progress(parg, x, index, (double)(rtv_now_ns() - t_start) / 1e9);
		tick(&r, 250);
	}
	if (!err && !ok)
		err = -ECHILD; /* said below, unless a probe says why */
	t_end = rtv_now_ns();
	for (int i = 0; i < x->nprobes; i++) {
		r.pc[i].t_end = t_end;
		if (x->probe[i].probe->collect && takes_part(arm, x->probe[i].probe))
			x->probe[i].probe->collect(&r.pc[i]);
	}
	st = acct_end(&r, &am, acct);
	if (st < 0 && !err)
		err = st;
	run->disturbed = acct->cpu.foreign_pct > x->plan.foreign_limit_pct;
out:
	probes_end(&r);
	for (int i = 0; i < x->nprobes && (!err || err == -EINTR || err == -ECHILD); i++)
		if (r.pc[i].status < 0)
			err = r.pc[i].status;
	if (err == -ECHILD)
		rtv_err("the %s client failed in run %d (%s)", x->probe[0].probe->name, index + 1,
			arm->name);
	run->status = err;
	if (!err || (err == -EINTR && am.t_ns))
		record(&r, run, acct);
	rtv_cpuload_snap_release(&am.snap);
	rtv_method_run_stop(&r.mrun);
	if (rtv_journal_is_open()) {
		st = rtv_journal_undo_to(mark);
		if (st < 0 && !err)
			err = run->status = st;
	}
	x->cur = NULL;
	return err;
}

/* ---- the whole experiment ---- */

/* The plan's testbed shape: peers on the non-RT CPUs unless told. */
static void plan_shape(const struct rtv_plan *p, struct rtv_tb_shape *shape)
{
	rtv_testbed_shape_default(shape, p->nstreams);
	shape->topology = p->topology;
	shape->nat = p->nat;
	if (!p->peer_cpus[0])
		rtv_cpulist_format(&p->mcfg.nonrt_cpus, shape->peer_cpus, sizeof(shape->peer_cpus));
	else if (strcmp(p->peer_cpus, "any"))
		snprintf(shape->peer_cpus, sizeof(shape->peer_cpus), "%s", p->peer_cpus);
}

static int testbed_get(struct rtv_exp *x)
{
	struct rtv_tb_shape shape, want;
	char d[160];
	int err;

	err = rtv_cgroup_detect(RTV_CGROUP_ROOT, &x->tb.cg);
	if (err < 0) {
		rtv_err("no usable cgroup hierarchy under '%s' (cgroup v2, or v1 with cpuset and "
			"cpuacct, is needed)", RTV_CGROUP_ROOT);
		return err;
	}
	x->cgroup_version = x->tb.cg.version;
	plan_shape(&x->plan, &want);
	if (rtv_testbed_exists(&shape)) {
		if (x->plan.testbed == RTV_TESTBED_OWN) {
			rtv_err("a testbed is already up: run 'rtvnet testbed down' first");
			return -EEXIST;
		}
		struct rtv_cgroups cg = x->tb.cg;

		if (shape.nstreams < x->plan.nstreams) {
			rtv_err("the testbed that is up has %d stream pair%s, and this run needs %d "
				"(bring it down, or up with --streams %d)", shape.nstreams,
				shape.nstreams == 1 ? "" : "s", x->plan.nstreams, x->plan.nstreams);
			return -ENOENT;
		}
		err = rtv_testbed_init(&x->tb, &shape, &cg);
		if (err < 0)
			return err;
		x->have_tb = true;
		return 0;
	}
	struct rtv_cgroups cg = x->tb.cg;

	err = rtv_testbed_init(&x->tb, &want, &cg);
	if (err < 0) {
		rtv_err("the testbed's shape is not valid (peer CPUs '%s')", want.peer_cpus);
		return err;
	}
	rtv_testbed_shape_describe(&want, d, sizeof(d));
	if (x->plan.testbed == RTV_TESTBED_ANY)
		rtv_info("bringing up a testbed for the run (%s)", d);
	err = rtv_testbed_up(&x->tb);
	if (err < 0 && err != -EEXIST)
		rtv_err("cannot bring the testbed up: %s", strerror(-err));
	x->have_tb = !err;
	return err;
}

static void read_cpuidle_driver(struct rtv_exp *x)
{
	if (rtv_file_read_line("/sys/devices/system/cpu/cpuidle/current_driver", x->cpuidle_driver,
			       sizeof(x->cpuidle_driver)) < 0)
		snprintf(x->cpuidle_driver, sizeof(x->cpuidle_driver), "unknown");
}

/* The same idle-state policy for every run: an idle CPU that halts wakes
 * slowly (tens of microseconds in a VM), which would be measured as the
 * methods' latency. Held by an open fd, released by the kernel when this
 * process ends however it ends. */
static int hold_dma_latency(struct rtv_exp *x)
{
	int32_t us = x->plan.cpu_dma_latency_us;
	int fd;

	if (us < 0)
		return -1;
	fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, &us, sizeof(us)) == sizeof(us)) {
		x->dma_latency_held = true;
		return fd;
	}
	rtv_warn("cannot hold /dev/cpu_dma_latency at %d us: idle states may add wake-up latency", us);
	if (fd >= 0)
		close(fd);
	return -1;
}

int rtv_exp_run(struct rtv_exp *x, const volatile sig_atomic_t *stop,
		rtv_exp_progress_fn progress, void *arg)
{
	size_t mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	int err = 0, dma_fd = -1;

	x->start_realtime_ns = rtv_realtime_ns();
	read_cpuidle_driver(x);
	for (int i = 0; i < x->nprobes; i++) {
		if (!x->probe[i].size)
			continue; /* a probe that measures nothing */
		x->probe[i].state = mmap(NULL, x->probe[i].size, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (x->probe[i].state == MAP_FAILED) {
			x->probe[i].state = NULL;
			err = -errno;
			goto out;
		}
	}
	if (x->plan.testbed != RTV_TESTBED_NONE) {
		err = testbed_get(x);
		if (err < 0)
			goto out;
	}
	dma_fd = hold_dma_latency(x); /* the calibrations in prepare measure under it too */
	for (int i = 0; i < x->nprobes; i++) {
		const struct rtv_probe *p = x->probe[i].probe;

		if (p->prepare && (err = p->prepare(x->probe[i].cfg)) < 0) {
			rtv_err("%s cannot prepare: %s", p->name, strerror(-err));
			goto out;
		}
	}
	for (; !err && x->done < x->nruns; x->done++) {
		err = one_run(x, x->done, stop, progress, arg);
		if (err < 0 && err != -EINTR)
			rtv_err("run %d (%s) failed: %s", x->done + 1,
				x->plan.arm[x->runs[x->done].arm].name, strerror(-err));
	}
out:
	if (dma_fd >= 0)
		close(dma_fd);
	if (rtv_journal_is_open() && rtv_journal_undo_to(mark) < 0 && !err)
		err = -EIO;
	x->have_tb = false;
	for (int i = 0; i < x->nprobes; i++) {
		if (x->probe[i].state)
			munmap(x->probe[i].state, x->probe[i].size);
		x->probe[i].state = NULL;
		if (x->probe[i].probe->release)
			x->probe[i].probe->release(x->probe[i].cfg);
	}
	x->end_realtime_ns = rtv_realtime_ns();
	return err;
}

/* ---- summaries and checks ---- */

int rtv_exp_metric(const struct rtv_exp *x, const char *key)
{
	for (int i = 0; i < x->nmetrics; i++)
		if (!strcmp(x->metric[i]->key, key) && rtv_metric_available(x->metric[i], x->caps))
			return i;
	return -1;
}

double rtv_exp_value(const struct rtv_exp *x, const struct rtv_run *r, int series, int metric)
{
	if (metric < 0 || metric >= x->nmetrics || series < 0 || series >= x->nseries)
		return NAN;
	return r->val[series * x->nmetrics + metric];
}

/* Whether a run's values count in the summaries. */
static bool counts(const struct rtv_exp *x, const struct rtv_run *r)
{
	return !r->status || (r->status == -EINTR && x->plan.keep_stopped && r->obj && r->obj[0]);
}

int rtv_exp_summarize(struct rtv_exp *x, struct rtv_sum **out)
{
	int n = x->plan.narms * x->nseries;
	struct rtv_sum *s = calloc((size_t)n, sizeof(*s));
	double *v = malloc(RTV_PLAN_MAX_REPEATS * sizeof(double));

	*out = NULL;
	if (!s || !v)
		goto nomem;
	for (int a = 0; a < x->plan.narms; a++)
		for (int se = 0; se < x->nseries; se++) {
			struct rtv_sum *row = &s[a * x->nseries + se];

			row->arm = a;
			row->series = se;
			row->m = calloc((size_t)x->nmetrics, sizeof(*row->m));
			if (!row->m)
				goto nomem;
			for (int i = 0; i < x->done; i++) {
				const struct rtv_run *r = &x->runs[i];

				if (r->arm == a && counts(x, r)) {
					row->nruns++;
					row->disturbed += r->disturbed;
				}
			}
			for (int k = 0; k < x->nmetrics; k++) {
				int nv = 0;

				for (int i = 0; i < x->done && nv < RTV_PLAN_MAX_REPEATS; i++)
					if (x->runs[i].arm == a && counts(x, &x->runs[i]))
						v[nv++] = rtv_exp_value(x, &x->runs[i], se, k);
				rtv_metric_summarize(x->metric[k], v, nv, &row->m[k]);
			}
		}
	free(v);
	*out = s;
	return n;
nomem:
	free(v);
	rtv_exp_sums_free(s, s ? n : 0);
	return -ENOMEM;
}

void rtv_exp_sums_free(struct rtv_sum *s, int n)
{
	for (int i = 0; s && i < n; i++)
		free(s[i].m);
	free(s);
}

static const struct rtv_sum *sum_of(const struct rtv_exp *x, const struct rtv_sum *s, int ns,
				    const char *arm)
{
	for (int i = 0; i < ns; i++)
		if (s[i].series == 0 && !strcmp(x->plan.arm[s[i].arm].name, arm))
			return s[i].nruns ? &s[i] : NULL;
	return NULL;
}

static bool cmp_holds(enum rtv_cmp c, double v, double bound)
{
	switch (c) {
	case RTV_CMP_LT: return v < bound;
	case RTV_CMP_LE: return v <= bound;
	case RTV_CMP_GE: return v >= bound;
	case RTV_CMP_GT: return v > bound;
	}
	return false;
}

int rtv_exp_checks(const struct rtv_exp *x, const struct rtv_sum *s, int ns,
		   struct rtv_check *out, int max)
{
	int n = 0;

	for (int a = 0; a < x->plan.narms; a++) {
		const struct rtv_combo *m = &x->plan.arm[a].method;
		const struct rtv_sum *me = sum_of(x, s, ns, x->plan.arm[a].name);

		if (m->nparts != 1 || !me)
			continue; /* a combination is judged by no single method's claims */
		for (int e = 0; e < RTV_EXPECT_MAX && m->part[0]->expect[e].name && n < max; e++) {
			const struct rtv_expect *ex = &m->part[0]->expect[e];
			const struct rtv_sum *ref = ex->ref ? sum_of(x, s, ns, ex->ref) : NULL;
			int k = rtv_exp_metric(x, ex->metric);
			struct rtv_check *c = &out[n];

			if (k < 0 || (ex->ref && !ref))
				continue;
			*c = (struct rtv_check){ .name = ex->name, .metric = ex->metric, .ref = ex->ref,
						 .arm = a, .cmp = ex->cmp, .bound = ex->bound };
			c->measured = me->m[k].mean;
			c->ref_measured = ref ? ref->m[k].mean : NAN;
			c->value = ref ? c->measured / c->ref_measured : c->measured;
			if (!isfinite(c->value))
				continue;
			c->met = cmp_holds(ex->cmp, c->value, ex->bound);
			n++;
		}
	}
	return n;
}

int rtv_exp_plot(const struct rtv_exp *x, int metric)
{
	int k = 0;

	for (int i = 0; i < x->nmetrics; i++) {
		bool plotted = x->metric[i]->type == RTV_METRIC_HIST && x->metric[i]->plot;

		if (i == metric)
			return plotted ? k : -1;
		k += plotted;
	}
	return -1;
}

bool rtv_exp_has_series(const struct rtv_exp *x)
{
	return x->probe[0].probe->nseries != NULL;
}

const char *rtv_exp_series_name(const struct rtv_exp *x, int series)
{
	const struct rtv_exp_probe *p = &x->probe[0];

	return p->probe->series_name ? p->probe->series_name(p->cfg, series) : "";
}

const char *rtv_exp_row_name(const struct rtv_exp *x, const struct rtv_sum *s, char *buf,
			     size_t len)
{
	const char *series = rtv_exp_series_name(x, s->series);

	if (rtv_exp_has_series(x) && x->plan.narms > 1)
		snprintf(buf, len, "%s/%s", x->plan.arm[s->arm].name, series);
	else if (rtv_exp_has_series(x))
		snprintf(buf, len, "%s", series);
	else
		snprintf(buf, len, "%s", x->plan.arm[s->arm].name);
	return buf;
}

const char *rtv_exp_load_name(const struct rtv_exp *x, bool loaded, char *buf, size_t len)
{
	size_t off = 0;

	snprintf(buf, len, "none");
	for (int i = 0; loaded && i < x->plan.nloads; i++)
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s", i ? "+" : "",
					x->plan.load[i].probe->name);
	return buf;
}

void rtv_exp_live(const struct rtv_exp *x, char *buf, size_t len)
{
	const struct rtv_probe *p = x->nprobes ? x->probe[0].probe : NULL;

	buf[0] = '\0';
	const struct ctx *r = x->cur;

	if (p && p->live && r)
		p->live(&r->pc[0], buf, len);
}
