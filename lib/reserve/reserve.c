#include "reserve/reserve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/deadline.h"
#include "host/journal.h"
#include "host/proc.h"
#include "host/sched.h"
#include "testbed/testbed.h"
#include "util/file.h"
#include "util/parse.h"

#define DL_KIND "dl"
#define CGMOVE_KIND "cgmove"
#define DL_MIN_RUNTIME_NS 1024 /* the kernel's lower bound (1 << DL_SCALE) */
#define MAX_KTHREADS 256
#define FLAGS_KEPT (RTV_SCHED_FLAG_RESET_ON_FORK | RTV_SCHED_FLAG_RECLAIM | RTV_SCHED_FLAG_DL_OVERRUN)

__attribute__((format(printf, 3, 4)))
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- admission ---- */

static int read_ll(const char *root, const char *rel, long long *v)
{
	char path[800], line[64];
	int err;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	err = rtv_file_read_line(path, line, sizeof(line));
	if (err < 0)
		return err;
	return rtv_parse_ll(line, -1, INT64_MAX, v);
}

static void fmt_ns(int64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRId64 "ns", ns);
	else
		rtv_duration_format(ns, buf, len);
}

/* Words for where the fair servers' figure came from, in a refusal. */
static const char *fair_words(enum rtv_dl_fair_source src)
{
	switch (src) {
	case RTV_DL_FAIR_DEBUGFS:
		return "from debugfs";
	case RTV_DL_FAIR_DEFAULT:
		return "the default 5% of each CPU since Linux 6.12";
	default:
		return "none before Linux 6.12";
	}
}

/* One parameter check (see rtv_reserve_admit); lim holds the period limits. */
static int check_params(const struct rtv_reserve *r, const struct rtv_reserve_admission *lim,
			char *err, size_t errlen)
{
	char rs[32], ds[32], ps[32];
	int64_t deadline = r->deadline_ns ? r->deadline_ns : r->period_ns;

	fmt_ns(r->runtime_ns, rs, sizeof(rs));
	fmt_ns(deadline, ds, sizeof(ds));
	fmt_ns(r->period_ns, ps, sizeof(ps));
	if (r->runtime_ns < DL_MIN_RUNTIME_NS) {
		say(err, errlen, "runtime %s is below the kernel's minimum of 1024ns", rs);
		return -EINVAL;
	}
	if (r->runtime_ns > deadline || deadline > r->period_ns) {
		say(err, errlen, "runtime %s, deadline %s and period %s: the kernel needs runtime <= "
		    "deadline <= period", rs, ds, ps);
		return -EINVAL;
	}
	if (r->period_ns < lim->period_min_us * 1000 || r->period_ns > lim->period_max_us * 1000) {
		say(err, errlen, "period %s is outside the kernel's range of %lldus to %lldus "
		    "(/proc/sys/kernel/sched_deadline_period_{min,max}_us)", ps, lim->period_min_us,
		    lim->period_max_us);
		return -EINVAL;
	}
	return 0;
}

/* The test behind both entry points: reservations r[0..nr-1], each held by
 * `copies` threads, on the CPUs of r[0].cpus (all the same). */
static int admit(const char *root, const struct rtv_reserve *r, int nr, int copies,
		 struct rtv_reserve_admission *adm, int *failed, char *err, size_t errlen)
{
	struct rtv_reserve_admission a = { 0 };
	struct rtv_dl_admission dla;
	struct rtv_dl_params *dl = NULL;
	char path[512], line[1024];
	cpu_set_t online;
	int e, n = nr * copies;

	if (failed)
		*failed = -1;
	if ((e = read_ll(root, "/proc/sys/kernel/sched_deadline_period_min_us", &a.period_min_us)) < 0 ||
	    (e = read_ll(root, "/proc/sys/kernel/sched_deadline_period_max_us", &a.period_max_us)) < 0) {
		say(err, errlen, "cannot read the deadline limits in '%s/proc/sys/kernel': %s", root,
		    strerror(-e));
		return e;
	}
	for (int i = 0; i < nr; i++) {
		e = check_params(&r[i], &a, err, errlen);
		if (!e && !CPU_EQUAL(&r[i].cpus, &r[0].cpus)) {
			say(err, errlen, "reservations checked together must be on the same CPUs");
			e = -EINVAL;
		}
		if (e < 0) {
			if (failed)
				*failed = i;
			return e;
		}
	}
	e = rtv_dl_online_cpus(root, &online);
	if (e < 0) {
		snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online", root);
		say(err, errlen, "cannot read the online CPUs in '%s': %s", path, strerror(-e));
		return e;
	}
	if (CPU_COUNT(&r[0].cpus)) {
		cpu_set_t both;

		CPU_AND(&both, &r[0].cpus, &online);
		if (!CPU_EQUAL(&both, &r[0].cpus)) {
			rtv_cpulist_format(&online, line, sizeof(line));
			say(err, errlen, "some of the CPUs to pin to are not online (online: %s)", line);
			return -EINVAL;
		}
		online = r[0].cpus;
	}
	/* the same test as `rtvnet analyze` */
	dl = calloc(n > 0 ? (size_t)n : 1, sizeof(*dl));
	if (!dl) {
		say(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		const struct rtv_reserve *ri = &r[i / copies];

		dl[i].runtime_ns = (uint64_t)ri->runtime_ns;
		dl[i].deadline_ns = (uint64_t)(ri->deadline_ns ? ri->deadline_ns : ri->period_ns);
		dl[i].period_ns = (uint64_t)ri->period_ns;
	}
	e = rtv_dl_admission_check(root, &online, dl, n, &dla);
	free(dl);
	if (e < 0) {
		say(err, errlen, "cannot read the deadline limits in '%s/proc/sys/kernel': %s", root,
		    strerror(-e));
		return e;
	}
	a.ncpus = dla.ncpus;
	a.request = dla.total;
	a.fair_server = dla.fair.cpus;
	a.fair_source = dla.fair.source;
	a.limit = dla.cap;
	if (adm)
		*adm = a;
	if (dla.admissible)
		return 0;
	if (nr == 1) {
		char rs[32], ps[32];

		fmt_ns(r->runtime_ns, rs, sizeof(rs));
		fmt_ns(r->period_ns, ps, sizeof(ps));
		say(err, errlen, "admission refused: %d thread%s x runtime %s / period %s = %.3f "
		    "CPUs, plus %.3f for the fair servers (%s), exceed the deadline bandwidth "
		    "of %d CPU%s x sched_rt_runtime_us/sched_rt_period_us (%lld/%lld) = %.3f; "
		    "ask for less runtime or a longer period",
		    copies, copies == 1 ? "" : "s", rs, ps, a.request, a.fair_server,
		    fair_words(dla.fair.source), a.ncpus, a.ncpus == 1 ? "" : "s",
		    (long long)dla.rt_runtime_us, (long long)dla.rt_period_us, a.limit);
	} else {
		say(err, errlen, "admission refused: %d reservations = %.3f CPUs, plus %.3f for the "
		    "fair servers (%s), exceed the deadline bandwidth of %d CPU%s x "
		    "sched_rt_runtime_us/sched_rt_period_us (%lld/%lld) = %.3f", nr, a.request,
		    a.fair_server, fair_words(dla.fair.source), a.ncpus, a.ncpus == 1 ? "" : "s",
		    (long long)dla.rt_runtime_us, (long long)dla.rt_period_us, a.limit);
	}
	return -EBUSY;
}

int rtv_reserve_admit(const char *root, const struct rtv_reserve *r, int nthreads,
		      struct rtv_reserve_admission *adm, char *err, size_t errlen)
{
	return admit(root, r, 1, nthreads > 0 ? nthreads : 0, adm, NULL, err, errlen);
}

int rtv_reserve_admit_set(const char *root, const struct rtv_reserve *r, int n,
			  struct rtv_reserve_admission *adm, int *failed, char *err, size_t errlen)
{
	if (n <= 0) {
		say(err, errlen, "no reservations to check");
		return -EINVAL;
	}
	return admit(root, r, n, 1, adm, failed, err, errlen);
}

/* ---- reservations from `rtvnet analyze --json` ---- */

/* vcpus[k][key] as a whole number >= 0; -EINVAL with the reason otherwise. */
static int analysis_ns(const char *name, const json_t *v, int k, const char *key, int64_t *ns,
		       char *err, size_t errlen)
{
	const json_t *x = json_object_get(v, key);

	if (!json_is_integer(x)) {
		say(err, errlen, "'%s': vcpus[%d] has no whole number \"%s\" (is it the JSON of "
		    "'rtvnet analyze --json'?)", name, k, key);
		return -EINVAL;
	}
	*ns = (int64_t)json_integer_value(x);
	if (*ns < 0) {
		say(err, errlen, "'%s': vcpus[%d].%s is negative (%" PRId64 ")", name, k, key, *ns);
		return -EINVAL;
	}
	return 0;
}

int rtv_reserve_from_analysis(const char *path, int k, struct rtv_reserve *r, char *err,
			      size_t errlen)
{
	const char *name = strcmp(path, "-") ? path : "standard input";
	json_error_t jerr;
	json_t *root = NULL;
	const json_t *vcpus, *v;
	struct stat st;
	FILE *f;
	size_t n;
	int e = 0;

	memset(r, 0, sizeof(*r));
	CPU_ZERO(&r->cpus);
	f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f) {
		e = -errno;
		say(err, errlen, "cannot read '%s': %s", name, strerror(-e));
		return e;
	}
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		e = -EISDIR;
		say(err, errlen, "cannot read '%s': %s", name, strerror(-e));
		goto out;
	}
	root = json_loadf(f, 0, &jerr);
	if (!root) {
		e = -EINVAL;
		say(err, errlen, "'%s' is not JSON: %s (line %d)", name, jerr.text, jerr.line);
		goto out;
	}
	vcpus = json_object_get(root, "vcpus");
	if (!json_is_array(vcpus)) {
		e = -EINVAL;
		say(err, errlen, "'%s' has no \"vcpus\" array: not the JSON of 'rtvnet analyze --json'",
		    name);
		goto out;
	}
	n = json_array_size(vcpus);
	if (k < 0 || (size_t)k >= n) {
		e = -ERANGE;
		if (n)
			say(err, errlen, "'%s' has %zu vCPU reservation%s (0 to %zu): no vCPU %d", name,
			    n, n == 1 ? "" : "s", n - 1, k);
		else
			say(err, errlen, "'%s' has no vCPU reservations: no vCPU %d", name, k);
		goto out;
	}
	v = json_array_get(vcpus, (size_t)k);
	if (!json_is_object(v)) {
		e = -EINVAL;
		say(err, errlen, "'%s': vcpus[%d] is not an object (is it the JSON of 'rtvnet analyze "
		    "--json'?)", name, k);
		goto out;
	}
	if ((e = analysis_ns(name, v, k, "runtime_ns", &r->runtime_ns, err, errlen)) < 0 ||
	    (e = analysis_ns(name, v, k, "deadline_ns", &r->deadline_ns, err, errlen)) < 0 ||
	    (e = analysis_ns(name, v, k, "period_ns", &r->period_ns, err, errlen)) < 0)
		goto out;
	if (!r->runtime_ns) {
		e = -ENODATA;
		say(err, errlen, "'%s': vCPU %d has a budget of 0 (no tasks on it): nothing to reserve",
		    name, k);
		goto out;
	}
	if (!r->deadline_ns || !r->period_ns) {
		e = -EINVAL;
		say(err, errlen, "'%s': vcpus[%d] has a %s of 0", name, k,
		    r->period_ns ? "deadline_ns" : "period_ns");
		goto out;
	}
out:
	json_decref(root);
	if (f != stdin)
		fclose(f);
	if (e < 0) {
		memset(r, 0, sizeof(*r));
		CPU_ZERO(&r->cpus);
	}
	return e;
}

/* ---- the "dl" journal kind: tid, start time, old attributes ---- */

static int dl_undo(int argc, char **argv)
{
	unsigned long long start, flags, runtime, deadline, period;
	struct rtv_sched_attr a = { .size = sizeof(a) };
	unsigned policy, prio;
	pid_t tid;
	int nice, err;

	if (argc < 3 || sscanf(argv[2], "%u:%llx:%d:%u:%llu:%llu:%llu", &policy, &flags, &nice, &prio,
			       &runtime, &deadline, &period) != 7)
		return -EINVAL;
	tid = (pid_t)atoi(argv[0]);
	start = strtoull(argv[1], NULL, 10);
	if (tid <= 0 || !start || rtv_proc_starttime(tid, 0) != start)
		return RTV_JOURNAL_GONE; /* gone, or its id now belongs to another thread */
	a.sched_policy = policy;
	a.sched_flags = flags & FLAGS_KEPT;
	a.sched_nice = nice;
	a.sched_priority = prio;
	a.sched_runtime = runtime;
	a.sched_deadline = deadline;
	a.sched_period = period;
	err = rtv_sched_setattr(tid, &a);
	return err == -ESRCH ? RTV_JOURNAL_GONE : err;
}

struct dl_snap {
	FILE *out;
	uint64_t slice; /* the default fair slice (kthreadd's) */
};

static void put_dl(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	struct dl_snap *c = arg;
	struct rtv_sched_attr a;

	if (rtv_proc_is_self_or_ancestor(pid) || rtv_sched_getattr(tid, &a))
		return;
	if (a.sched_policy == SCHED_DEADLINE)
		fprintf(c->out, "%s %d deadline runtime %llu deadline %llu period %llu\n", st->comm,
			tid, (unsigned long long)a.sched_runtime,
			(unsigned long long)a.sched_deadline, (unsigned long long)a.sched_period);
	else if ((a.sched_policy == SCHED_OTHER || a.sched_policy == SCHED_BATCH) && c->slice &&
		 a.sched_runtime && a.sched_runtime != c->slice &&
		 !((st->flags & RTV_PF_KTHREAD) && !strncmp(st->comm, "kworker/", 8)))
		fprintf(c->out, "%s %d slice %llu\n", st->comm, tid,
			(unsigned long long)a.sched_runtime);
}

/* Every thread at SCHED_DEADLINE, and every fair thread with a custom time
 * slice (what a reservation sets). */
static int dl_snapshot(FILE *out)
{
	struct dl_snap c = { .out = out };
	struct rtv_sched_attr k;

	if (!rtv_sched_getattr(2, &k) && k.sched_policy == SCHED_OTHER)
		c.slice = k.sched_runtime;
	return rtv_proc_each_thread(put_dl, &c);
}

static const struct rtv_journal_kind dl_kind = {
	.name = DL_KIND, .undo = dl_undo, .snapshot = dl_snapshot,
};
RTV_JOURNAL_KIND(dl_kind)

/* For a fair-class thread sched_getattr() reports its time slice as
 * sched_runtime (6.12 and later), and sched_setattr() with a nonzero one
 * makes that slice custom: the default one must be restored as 0. The
 * default is whatever kthreadd (pid 2), which nobody tunes, has. */
static uint64_t fair_runtime_to_save(const struct rtv_sched_attr *old)
{
	struct rtv_sched_attr k;

	if (old->sched_policy != SCHED_OTHER && old->sched_policy != SCHED_BATCH &&
	    old->sched_policy != SCHED_IDLE)
		return old->sched_runtime;
	if (!rtv_sched_getattr(2, &k) && k.sched_policy == SCHED_OTHER &&
	    k.sched_runtime == old->sched_runtime)
		return 0;
	return old->sched_runtime;
}

static int journal_dl(pid_t tid, const struct rtv_sched_attr *old)
{
	char a[3][96];

	snprintf(a[0], sizeof(a[0]), "%d", tid);
	snprintf(a[1], sizeof(a[1]), "%llu", rtv_proc_starttime(tid, 0));
	snprintf(a[2], sizeof(a[2]), "%u:%llx:%d:%u:%llu:%llu:%llu", old->sched_policy,
		 (unsigned long long)old->sched_flags, old->sched_nice, old->sched_priority,
		 (unsigned long long)fair_runtime_to_save(old), (unsigned long long)old->sched_deadline,
		 (unsigned long long)old->sched_period);
	if (!strcmp(a[1], "0"))
		return -ESRCH;
	return rtv_journal_add(DL_KIND, 3, (const char *const[]){ a[0], a[1], a[2] });
}

/* ---- explaining sched_setattr's refusals ---- */

/* tid's v1 cpu cgroup when it is not the root one ("" otherwise). */
static void v1_cpu_cgroup(pid_t tid, char *buf, size_t len)
{
	char path[64], line[512];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", tid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':'), *cg;

		if (!ctrls || !(cg = strchr(++ctrls, ':')))
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		for (char *save = NULL, *t = strtok_r(ctrls, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (!strcmp(t, "cpu") && strcmp(cg, "/")) {
				snprintf(buf, len, "%s", cg);
				break;
			}
	}
	fclose(f);
}

/* Whether tid's affinity leaves out online CPUs; its list in aff. */
static bool affinity_restricted(pid_t tid, char *aff, size_t len)
{
	cpu_set_t set, online;

	aff[0] = '\0';
	if (sched_getaffinity(tid, sizeof(set), &set))
		return false;
	rtv_cpulist_format(&set, aff, len);
	if (rtv_dl_online_cpus(NULL, &online) < 0)
		return false;
	CPU_AND(&set, &online, &set);
	return !CPU_EQUAL(&online, &set); /* some online CPU is left out */
}

/* Words for a sched_setattr() failure on tid (err is -errno): writes to buf. */
static void explain(int err, pid_t tid, const struct rtv_reserve *r, char *buf,
				size_t len)
{
	char cg[256], aff[256], rs[32], ps[32];

	fmt_ns(r->runtime_ns, rs, sizeof(rs));
	fmt_ns(r->period_ns, ps, sizeof(ps));
	switch (-err) {
	case ESRCH:
		say(buf, len, "no thread %d", tid);
		return;
	case EINVAL:
		say(buf, len, "the kernel refused runtime %s / period %s for thread %d as invalid "
		    "(1024ns <= runtime <= deadline <= period, period within "
		    "/proc/sys/kernel/sched_deadline_period_{min,max}_us)", rs, ps, tid);
		return;
	case EBUSY:
	case EPERM:
		v1_cpu_cgroup(tid, cg, sizeof(cg));
		if (*cg) {
			say(buf, len, "thread %d is in the cgroup v1 cpu cgroup '%s': with RT group "
			    "scheduling (CONFIG_RT_GROUP_SCHED) the kernel allows SCHED_DEADLINE only in "
			    "the root cpu cgroup (%s)", tid, cg, strerror(-err));
			return;
		}
		if (affinity_restricted(tid, aff, sizeof(aff))) {
			say(buf, len, "thread %d's CPU affinity (%s) does not cover its whole root "
			    "domain: a SCHED_DEADLINE thread cannot be pinned that way; pin its group "
			    "with an exclusive cpuset instead (%s)", tid, aff, strerror(-err));
			return;
		}
		if (err == -EPERM) {
			say(buf, len, "not permitted to give thread %d SCHED_DEADLINE: run as root "
			    "(CAP_SYS_NICE)", tid);
			return;
		}
		say(buf, len, "the kernel's admission test refused runtime %s / period %s for thread "
		    "%d: the deadline bandwidth of its root domain is taken (other SCHED_DEADLINE "
		    "threads and the fair servers hold bandwidth that rtvnet cannot see)", rs, ps, tid);
		return;
	default:
		say(buf, len, "cannot give thread %d SCHED_DEADLINE: %s", tid, strerror(-err));
	}
}

/* ---- threads ---- */

static int reserve_one(pid_t tid, const struct rtv_reserve *r, char *err, size_t errlen)
{
	struct rtv_sched_attr old, a = { .size = sizeof(a) };
	size_t mark = rtv_journal_mark();
	int e;

	e = rtv_sched_getattr(tid, &old);
	if (e < 0) {
		explain(e, tid, r, err, errlen);
		return e;
	}
	e = journal_dl(tid, &old);
	if (e < 0) {
		if (e == -ESRCH)
			explain(e, tid, r, err, errlen);
		else
			say(err, errlen, "cannot journal thread %d's scheduling: %s", tid, strerror(-e));
		return e;
	}
	a.sched_policy = SCHED_DEADLINE;
	a.sched_flags = old.sched_flags & RTV_SCHED_FLAG_RESET_ON_FORK;
	a.sched_runtime = (uint64_t)r->runtime_ns;
	a.sched_deadline = (uint64_t)(r->deadline_ns ? r->deadline_ns : r->period_ns);
	a.sched_period = (uint64_t)r->period_ns;
	e = rtv_sched_setattr(tid, &a);
	if (e < 0) {
		rtv_journal_undo_to(mark); /* nothing changed: restoring is a no-op */
		explain(e, tid, r, err, errlen);
	}
	return e;
}

static int threads_only(const struct rtv_reserve *r, char *err, size_t errlen)
{
	if (CPU_COUNT(&r->cpus)) {
		say(err, errlen, "a thread cannot be pinned on its own: SCHED_DEADLINE needs its "
		    "affinity to span its root domain; pin a cgroup with an exclusive cpuset");
		return -EINVAL;
	}
	return 0;
}

int rtv_reserve_thread(pid_t tid, const struct rtv_reserve *r, char *err, size_t errlen)
{
	int e = threads_only(r, err, errlen);

	if (!e)
		e = rtv_reserve_admit(RTV_RESERVE_ROOT, r, 1, NULL, err, errlen);
	return e < 0 ? e : reserve_one(tid, r, err, errlen);
}

static int reserve_many(const pid_t *tids, int n, const struct rtv_reserve *r, char *err,
			size_t errlen)
{
	int e = threads_only(r, err, errlen), done = 0;

	if (!e && n > 0)
		e = rtv_reserve_admit(RTV_RESERVE_ROOT, r, n, NULL, err, errlen);
	for (int i = 0; !e && i < n; i++) {
		e = reserve_one(tids[i], r, err, errlen);
		if (e == -ESRCH)
			e = 0; /* it ended meanwhile */
		else if (!e)
			done++;
	}
	return e < 0 ? e : done;
}

int rtv_reserve_process(pid_t pid, const struct rtv_reserve *r, char *err, size_t errlen)
{
	pid_t *tids = malloc(4096 * sizeof(*tids));
	int n, e;

	if (!tids)
		return -ENOMEM;
	n = rtv_proc_threads(pid, tids, 4096);
	if (n > 4096)
		n = 4096;
	if (n < 0) {
		say(err, errlen, "no process %d", pid);
		free(tids);
		return n == -ENOENT ? -ESRCH : n;
	}
	e = reserve_many(tids, n, r, err, errlen);
	free(tids);
	return e;
}

int rtv_reserve_kthreads(const char *pattern, const struct rtv_reserve *r, char *err,
			 size_t errlen)
{
	pid_t tids[MAX_KTHREADS];
	int n = rtv_kthreads_find(pattern, tids, MAX_KTHREADS);

	if (n < 0) {
		say(err, errlen, "cannot list kernel threads: %s", strerror(-n));
		return n;
	}
	return reserve_many(tids, n, r, err, errlen);
}

/* ---- groups ---- */

#define BW_SHIFT 20 /* the kernel's fixed point for bandwidth ratios */

static bool name_ok(const char *name)
{
	if (!name || !*name || name[0] == '/' || strlen(name) > 200)
		return false;
	for (const char *p = name; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
		if (!strncmp(p, "..", 2) && (p[2] == '/' || !p[2]))
			return false;
	return true;
}

static int write_file(const char *dir, const char *file, const char *value, char *err,
		      size_t errlen)
{
	char path[700];
	int e;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	e = rtv_host_write(path, value);
	if (e < 0)
		say(err, errlen, "cannot write '%s' to '%s': %s", value, path, strerror(-e));
	return e;
}

static int write_ll(const char *dir, const char *file, long long v, char *err, size_t errlen)
{
	char val[32];

	snprintf(val, sizeof(val), "%lld", v);
	return write_file(dir, file, val, err, errlen);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static void dirname_of(const char *dir, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", dir);
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

/* Write a pid to a cgroup.procs file (not journaled). */
static int put_pid(const char *path, const char *pid)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, pid, strlen(pid)) < 0)
		e = -errno;
	close(fd);
	return e;
}

/* The "cgmove" kind: processes moved into a cgroup of a v1 controller
 * (FROM, TO): undo moves every process still in FROM back to TO, the
 * processes forked there meanwhile too. */
static int move_procs(const char *from, const char *to)
{
	char path[600], dst[600], pid[32];
	int moved, e = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", from);
	snprintf(dst, sizeof(dst), "%s/cgroup.procs", to);
	for (int round = 0; round < 100; round++) {
		FILE *f = fopen(path, "re");

		if (!f)
			return errno == ENOENT ? 0 : -errno;
		moved = 0;
		while (fgets(pid, sizeof(pid), f)) {
			pid[strcspn(pid, "\n")] = '\0';
			e = put_pid(dst, pid);
			if (!e)
				moved++;
			else if (e != -ESRCH)
				break;
		}
		fclose(f);
		if (e < 0 && e != -ESRCH)
			return e;
		if (!moved)
			return 0;
	}
	return -EBUSY;
}

static int cgmove_undo(int argc, char **argv)
{
	return argc < 2 ? -EINVAL : move_procs(argv[0], argv[1]);
}

static void put_moved(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	char path[64], line[512];
	FILE *f, *out = arg;

	if (pid != tid || (st->flags & RTV_PF_KTHREAD))
		return;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/rtvnet")) {
			line[strcspn(line, "\n")] = '\0';
			fprintf(out, "%s %d %s\n", st->comm, pid, line);
		}
	fclose(f);
}

/* Every process in an rtvnet cgroup, with the cgroup (what a move left). */
static int cgmove_snapshot(FILE *out)
{
	return rtv_proc_each_thread(put_moved, out);
}

static const struct rtv_journal_kind cgmove_kind = {
	.name = CGMOVE_KIND, .undo = cgmove_undo, .snapshot = cgmove_snapshot,
};
RTV_JOURNAL_KIND(cgmove_kind)

/* mkdir, journaled ("cgroup": its undo removes it), unless it exists. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
	int e;

	if (is_dir(dir))
		return 0;
	e = rtv_journal_add("cgroup", 1, (const char *const[]){ dir });
	if (!e && mkdir(dir, 0755))
		e = -errno;
	if (e < 0)
		say(err, errlen, "cannot make cgroup '%s': %s", dir, strerror(-e));
	return e;
}

/* Move the processes in cgroup.procs of src into dir (not journaled: the
 * caller journals one "cgmove" entry for all of them). */
static int attach_all(const char *src, const char *dir, char *err, size_t errlen)
{
	char path[600], dst[600], pid[32];
	FILE *f;
	int e = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", src);
	snprintf(dst, sizeof(dst), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f) {
		e = -errno;
		say(err, errlen, "cannot read '%s': %s", path, strerror(-e));
		return e;
	}
	while (fgets(pid, sizeof(pid), f)) {
		pid[strcspn(pid, "\n")] = '\0';
		e = put_pid(dst, pid);
		if (e == -ESRCH) {
			e = 0; /* it ended meanwhile */
			continue;
		}
		if (e < 0) {
			say(err, errlen, "cannot move process %s into '%s': %s", pid, dir, strerror(-e));
			break;
		}
	}
	fclose(f);
	return e;
}

/* v1 RT group scheduling (CONFIG_RT_GROUP_SCHED): a group's RT threads run
 * at most cpu.rt_runtime_us every cpu.rt_period_us on each CPU, and the
 * kernel admits a group only while its children's ratios (runtime/period,
 * in its fixed point) add up to no more than its own. */
static int rt_read(const char *dir, long long *period_us, long long *runtime_us)
{
	int e = read_ll(dir, "/cpu.rt_period_us", period_us);

	return e < 0 ? e : read_ll(dir, "/cpu.rt_runtime_us", runtime_us);
}

/* The kernel's to_ratio(): runtime -1 is unlimited (the whole period). */
static uint64_t rt_ratio(long long period_us, long long runtime_us)
{
	if (runtime_us < 0)
		return 1ULL << BW_SHIFT;
	if (period_us <= 0)
		return 0;
	return ((uint64_t)runtime_us * 1000 << BW_SHIFT) / ((uint64_t)period_us * 1000);
}

/* The ratios held by dir's child groups, but for the one named skip. */
static uint64_t rt_children(const char *dir, const char *skip)
{
	char sub[700];
	uint64_t sum = 0;
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return 0;
	while ((d = readdir(dp))) {
		long long p, q;

		if (d->d_name[0] == '.' || !strcmp(d->d_name, skip))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name);
		if (is_dir(sub) && !rt_read(sub, &p, &q))
			sum += rt_ratio(p, q);
	}
	closedir(dp);
	return sum;
}

/* Make room in dir for its child `child` to hold ratio need: raise dir's
 * runtime (its period kept), and its ancestors' first, up to the
 * controller's root (top), whose runtime is the kernel's global limit and
 * is left alone (the kernel refuses what does not fit). Journaled. */
static int rt_make_room(const char *top, const char *dir, const char *child, uint64_t need,
			char *err, size_t errlen)
{
	char parent[600];
	long long period, runtime;
	uint64_t want;
	int e;

	if (!strcmp(dir, top) || strlen(dir) <= strlen(top))
		return 0;
	e = rt_read(dir, &period, &runtime);
	if (e < 0) {
		say(err, errlen, "cannot read the RT bandwidth of '%s': %s", dir, strerror(-e));
		return e;
	}
	want = rt_children(dir, child) + need;
	if (rt_ratio(period, runtime) >= want)
		return 0;
	/* the least whole µs that the kernel's ratio puts at or above want */
	runtime = (long long)((want * (uint64_t)period * 1000 >> BW_SHIFT) / 1000);
	while (rt_ratio(period, runtime) < want)
		runtime++;
	if (runtime > period) {
		say(err, errlen, "the RT groups under '%s' would need more than all of its CPU "
		    "time (%lldus of %lldus): ask for less runtime", dir, runtime, period);
		return -EBUSY;
	}
	dirname_of(dir, parent, sizeof(parent));
	e = rt_make_room(top, parent, strrchr(dir, '/') + 1, rt_ratio(period, runtime), err, errlen);
	return e < 0 ? e : write_ll(dir, "cpu.rt_runtime_us", runtime, err, errlen);
}

/* dir's RT bandwidth: runtime_us every period_us, written in the order that
 * keeps every step within what the kernel admits. */
static int rt_set(const char *top, const char *dir, long long period_us, long long runtime_us,
		  char *err, size_t errlen)
{
	char parent[600];
	long long old_period, old_runtime;
	int e = rt_read(dir, &old_period, &old_runtime);

	if (e < 0) {
		say(err, errlen, "cannot read the RT bandwidth of '%s': %s", dir, strerror(-e));
		return e;
	}
	dirname_of(dir, parent, sizeof(parent));
	e = rt_make_room(top, parent, strrchr(dir, '/') + 1, rt_ratio(period_us, runtime_us), err,
			 errlen);
	if (e < 0)
		return e;
	if (period_us > old_period) { /* a longer period first lowers the ratio */
		e = write_ll(dir, "cpu.rt_period_us", period_us, err, errlen);
		if (!e)
			e = write_ll(dir, "cpu.rt_runtime_us", runtime_us, err, errlen);
	} else {
		e = write_ll(dir, "cpu.rt_runtime_us", runtime_us, err, errlen);
		if (!e)
			e = write_ll(dir, "cpu.rt_period_us", period_us, err, errlen);
	}
	if (e == -EBUSY || e == -EINVAL) {
		say(err, errlen, "the kernel refused RT runtime %lldus every %lldus for '%s' (%s): "
		    "the RT bandwidth of its parent or of the whole system "
		    "(/proc/sys/kernel/sched_rt_runtime_us) is taken", runtime_us, period_us, dir,
		    strerror(-e));
		e = -EBUSY;
	}
	return e;
}

/* v1: make dir and its ancestors below the root cpuset (top, always
 * exclusive) cpu_exclusive, from the top down: the kernel lets a cpuset be
 * exclusive only under an exclusive parent and beside no sibling sharing
 * its CPUs. Journaled. */
static int v1_exclusive(const char *top, const char *dir, char *err, size_t errlen)
{
	char parent[600];
	long long excl;
	int e;

	if (strlen(dir) <= strlen(top))
		return 0;
	dirname_of(dir, parent, sizeof(parent));
	e = v1_exclusive(top, parent, err, errlen);
	if (e < 0 || (!read_ll(dir, "/cpuset.cpu_exclusive", &excl) && excl == 1))
		return e;
	e = write_file(dir, "cpuset.cpu_exclusive", "1", err, errlen);
	if (e == -EINVAL || e == -EACCES) {
		say(err, errlen, "cannot make cpuset '%s' exclusive (%s): a cpuset beside it shares "
		    "some of its CPUs; move the others off them first", dir, strerror(-e));
		e = -EBUSY; /* the host's state, not the request, is in the way */
	}
	return e;
}

static int pin_group(const struct rtv_cgroups *cg, const char *name, const cpu_set_t *cpus,
		     char *err, size_t errlen)
{
	char dir[512], top[512], parent[600], list[256];
	int e;

	if (rtv_cpulist_format(cpus, list, sizeof(list)) < 0)
		return -ENOSPC;
	rtv_cgroup_path(cg, "cpuset", name, dir, sizeof(dir));
	if (!is_dir(dir)) {
		say(err, errlen, "no cpuset cgroup '%s' to pin to", dir);
		return -ENOENT;
	}
	if (cg->version == 2) {
		e = write_file(dir, "cpuset.cpus", list, err, errlen);
		return e < 0 ? e : write_file(dir, "cpuset.cpus.partition", "root", err, errlen);
	}
	/* v1: an exclusive, load-balanced cpuset is a root domain of its own
	 * when none of its ancestors balances, up to the root cpuset */
	rtv_cgroup_path(cg, "cpuset", "", top, sizeof(top));
	top[strlen(top) - 1] = '\0'; /* no trailing slash */
	dirname_of(dir, parent, sizeof(parent));
	e = v1_exclusive(top, parent, err, errlen);
	if (!e)
		e = write_file(dir, "cpuset.cpus", list, err, errlen);
	if (!e)
		e = v1_exclusive(top, dir, err, errlen);
	if (!e)
		e = write_file(dir, "cpuset.sched_load_balance", "1", err, errlen);
	while (!e && strlen(parent) >= strlen(top)) {
		long long balance;

		if (read_ll(parent, "/cpuset.sched_load_balance", &balance) < 0 || balance)
			e = write_file(parent, "cpuset.sched_load_balance", "0", err, errlen);
		if (!strcmp(parent, top))
			break;
		*strrchr(parent, '/') = '\0';
	}
	return e;
}

int rtv_reserve_cgroup(const struct rtv_cgroups *cg, const char *name, const struct rtv_reserve *r,
		       char *err, size_t errlen)
{
	/* whole µs, rounded up: the group gets at least what was asked */
	long long quota_us = (r->runtime_ns + 999) / 1000, period_us = (r->period_ns + 999) / 1000;
	char dir[512], top[512], val[64], path[600];
	int e;

	if (!name_ok(name)) {
		say(err, errlen, "'%s' is not a cgroup name (a path relative to the hierarchy, "
		    "without '..')", name ? name : "");
		return -EINVAL;
	}
	if (period_us < 1000 || period_us > 1000000 || quota_us < 1000 || quota_us > period_us) {
		say(err, errlen, "cgroup CPU bandwidth needs 1ms <= runtime <= period <= 1s "
		    "(got runtime %lldus, period %lldus)", quota_us, period_us);
		return -EINVAL;
	}
	rtv_cgroup_path(cg, "cpu", name, dir, sizeof(dir));
	if (!is_dir(dir)) {
		say(err, errlen, "no cgroup '%s'", dir);
		return -ENOENT;
	}
	if (cg->version == 2) {
		snprintf(path, sizeof(path), "%s/cpu.max", dir);
		if (access(path, F_OK)) {
			say(err, errlen, "the cpu controller is not enabled for '%s' (add \"+cpu\" to "
			    "its parent's cgroup.subtree_control)", dir);
			return -ENOTSUP;
		}
		snprintf(val, sizeof(val), "%lld %lld", quota_us, period_us);
		e = write_file(dir, "cpu.max", val, err, errlen);
	} else {
		e = write_ll(dir, "cpu.cfs_period_us", period_us, err, errlen);
		if (!e)
			e = write_ll(dir, "cpu.cfs_quota_us", quota_us, err, errlen);
		snprintf(path, sizeof(path), "%s/cpu.rt_runtime_us", dir);
		if (!e && !access(path, F_OK)) { /* CONFIG_RT_GROUP_SCHED */
			rtv_cgroup_path(cg, "cpu", "", top, sizeof(top));
			top[strlen(top) - 1] = '\0';
			e = rt_set(top, dir, period_us, quota_us, err, errlen);
		}
	}
	if (!e && CPU_COUNT(&r->cpus))
		e = pin_group(cg, name, &r->cpus, err, errlen);
	return e;
}

/* v1: the container's processes, in the cpuset and cpuacct cgroups
 * rtvnet/HOST, get a cpu cgroup of the same name (made, journaled, when
 * missing) with the reservation, and are moved into it (one "cgmove"
 * entry, undone first: back to the root cpu cgroup, where the testbed keeps
 * them). */
static int container_v1(const struct rtv_cgroups *cg, const char *name,
			const struct rtv_reserve *r, char *err, size_t errlen)
{
	char cpuset[512], dir[512], top[512], sub[600];
	const char *args[2];
	int e;

	rtv_cgroup_path(cg, "cpuset", name, cpuset, sizeof(cpuset));
	if (!is_dir(cpuset)) {
		say(err, errlen, "no testbed container '%s' (no cgroup '%s'): bring the testbed up "
		    "first ('rtvnet testbed up')", strrchr(name, '/') + 1, cpuset);
		return -ENOENT;
	}
	rtv_cgroup_path(cg, "cpu", "", top, sizeof(top));
	snprintf(sub, sizeof(sub), "%s/cpu.cfs_quota_us", top);
	if (access(sub, F_OK)) {
		say(err, errlen, "no cgroup v1 cpu controller under '%s'", cg->root);
		return -ENOTSUP;
	}
	/* each level of name, from the top */
	for (const char *p = strchr(name, '/'); ; p = strchr(p + 1, '/')) {
		snprintf(sub, sizeof(sub), "%.*s", p ? (int)(p - name) : (int)strlen(name), name);
		rtv_cgroup_path(cg, "cpu", sub, dir, sizeof(dir));
		e = make_dir(dir, err, errlen);
		if (e < 0 || !p)
			break;
	}
	if (e < 0)
		return e;
	e = rtv_reserve_cgroup(cg, name, r, err, errlen);
	if (e < 0)
		return e;
	top[strlen(top) - 1] = '\0';
	args[0] = dir;
	args[1] = top;
	e = rtv_journal_add(CGMOVE_KIND, 2, args);
	if (e < 0) {
		say(err, errlen, "cannot journal the move into '%s': %s", dir, strerror(-e));
		return e;
	}
	return attach_all(cpuset, dir, err, errlen);
}

int rtv_reserve_container(const struct rtv_cgroups *cg, const char *host, const char *pattern,
			  const struct rtv_reserve *r, char *err, size_t errlen)
{
	struct rtv_reserve kr = *r;
	char name[64];
	pid_t tids[MAX_KTHREADS];
	int n = 0, e;

	if (!host || !*host || strchr(host, '/') || !strcmp(host, "..") || strlen(host) > 16) {
		say(err, errlen, "'%s' is not a testbed host name (rtc, rts, s1c, ...)",
		    host ? host : "");
		return -EINVAL;
	}
	CPU_ZERO(&kr.cpus); /* the kernel threads are not in the container's cpuset */
	if (pattern) {
		n = rtv_kthreads_find(pattern, tids, MAX_KTHREADS);
		if (n < 0) {
			say(err, errlen, "cannot list kernel threads: %s", strerror(-n));
			return n;
		}
		if (n) { /* admission before any change */
			e = rtv_reserve_admit(RTV_RESERVE_ROOT, &kr, n, NULL, err, errlen);
			if (e < 0)
				return e;
		}
	}
	snprintf(name, sizeof(name), "%s/%s", RTV_TESTBED_CGROUP, host);
	if (cg->version == 1)
		e = container_v1(cg, name, r, err, errlen);
	else
		e = rtv_reserve_cgroup(cg, name, r, err, errlen);
	if (e < 0)
		return e;
	return n ? reserve_many(tids, n, &kr, err, errlen) : 0;
}

void rtv_reserve_sized(struct rtv_reserve *r, int64_t runtime_ns, int64_t deadline_ns,
		       int64_t period_ns, double margin)
{
	memset(r, 0, sizeof(*r));
	CPU_ZERO(&r->cpus);
	r->runtime_ns = llround((double)runtime_ns * (1.0 + margin));
	r->deadline_ns = deadline_ns;
	r->period_ns = period_ns;
	if (r->runtime_ns > r->deadline_ns)
		r->runtime_ns = r->deadline_ns;
}
