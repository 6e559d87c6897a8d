/* rtvnet reserve: a CPU reservation for a thread (--tid), a process's threads
 * (--pid), kernel threads by name (--kthreads), a cgroup (--cgroup) or a
 * testbed container with the kernel threads that carry its traffic
 * (--container HOST --kthreads 'napi/rtvs0-*').
 *
 * Lifetime: without --duration the reservation is kept in the journal
 * (rtv_journal_keep_from) and outlives the command until `rtvnet revert`.
 * Unlike `rtvnet apply`, whose pollers live in its process, a reservation is
 * kernel state that needs no process to hold it, and what it protects (a
 * service, a container) runs on long after the command: a foreground holder
 * would only be one more process that must not die. With --duration S it is
 * held in the foreground instead and undone after S, on Ctrl-C/SIGTERM, or by
 * `rtvnet revert` (for benchmarks); for that it writes the same pid file as
 * `rtvnet apply` (RTV_JOURNAL_DIR/apply, "PID STARTTIME reserve WHAT"), which
 * revert already knows how to stop. kill -9 leaves run entries that the next
 * rtvnet undoes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "host/cgroup.h"
#include "host/journal.h"
#include "host/sched.h"
#include "reserve/reserve.h"
#include "util/parse.h"
#include "util/time.h"

static const char usage_str[] =
	"rtvnet reserve (--tid N | --pid N | --cgroup PATH | --container HOST [--kthreads PATTERN]\n"
	"               | --kthreads PATTERN) (--runtime MS --period MS | --from FILE --vcpu K)\n"
	"               [options]\n"
	"  threads get SCHED_DEADLINE, groups CPU bandwidth (cgroup cpu.max); kept until\n"
	"  'rtvnet revert', or held for --duration S. --from takes the parameters of\n"
	"  vCPU K from 'rtvnet analyze --json FILE' (e.g. for a VM's vCPU thread K)";

static struct {
	long long tid, pid, vcpu;
	const char *cgroup, *container, *kthreads, *from;
	int64_t runtime_ns, period_ns, deadline_ns, duration_ns;
	cpu_set_t cpus; /* empty: no cpuset */
	bool vcpu_set, dry;
} opt = { .vcpu = -1 };

static const struct rtv_opt opts[] = {
	RTV_OPT_INT_DEF("tid", 0, &opt.tid, "N", 1, INT_MAX, "one thread"),
	RTV_OPT_INT_DEF("pid", 0, &opt.pid, "N", 1, INT_MAX, "every thread of a process"),
	RTV_OPT_STRING_DEF("cgroup", 0, &opt.cgroup, "PATH", "a cgroup (relative to the hierarchy, or under /sys/fs/cgroup)"),
	RTV_OPT_STRING_DEF("container", 0, &opt.container, "HOST", "a testbed container: cgroup rtvnet/HOST"),
	RTV_OPT_STRING_DEF("kthreads", 0, &opt.kthreads, "PATTERN", "kernel threads by name (fnmatch), each its own reservation"),
	RTV_OPT_DURATION_DEF("runtime", 0, &opt.runtime_ns, "MS", RTV_NS_PER_MS, "CPU time per period (required)"),
	RTV_OPT_DURATION_DEF("period", 0, &opt.period_ns, "MS", RTV_NS_PER_MS, "the reservation's period (required)"),
	RTV_OPT_DURATION_DEF("deadline", 0, &opt.deadline_ns, "MS", RTV_NS_PER_MS, "relative deadline of threads (default: the period)"),
	RTV_OPT_STRING_DEF("from", 0, &opt.from, "FILE", "take runtime, deadline and period from 'rtvnet analyze --json' output ('-': standard input)"),
	RTV_OPT_INT_DEF("vcpu", 0, &opt.vcpu, "K", 0, INT_MAX, "with --from: the reservation of vCPU K (its vcpus[K])",
			.set = &opt.vcpu_set, .what = "a vCPU number (0, 1, ...)"),
	RTV_OPT_CPUS_DEF("cpus", 0, &opt.cpus, "CPUS", "pin a group to these CPUs with an exclusive cpuset"),
	RTV_OPT_FLAG_DEF("dry-run", 'n', &opt.dry, "check and print what would be done, change nothing"),
	RTV_OPT_DURATION_DEF("duration", 'd', &opt.duration_ns, "S", RTV_NS_PER_S, "hold for S, then undo (default: keep until 'rtvnet revert')"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_reserve_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

/* The cgroup name relative to its hierarchy: PATH as given, or an absolute
 * path under the cgroup root (and, on v1, the cpu controller's directory). */
static const char *cgroup_name(const struct rtv_cgroups *cg, const char *path)
{
	char pre[256];
	size_t n;

	if (path[0] != '/')
		return path;
	if (cg->version == 2)
		snprintf(pre, sizeof(pre), "%s/", cg->root);
	else
		snprintf(pre, sizeof(pre), "%s/cpu/", cg->root);
	n = strlen(pre);
	return strncmp(path, pre, n) ? path : path + n;
}

static int exit_for(int err)
{
	return err == -EINVAL || err == -ESRCH || err == -ENOENT || err == -ENOTSUP ? RTV_EXIT_USAGE :
										    RTV_EXIT_FAIL;
}

static void print_thread(pid_t tid)
{
	struct rtv_sched_attr a;
	char rs[32], ds[32], ps[32];

	if (rtv_sched_getattr(tid, &a) < 0 || a.sched_policy != SCHED_DEADLINE)
		return;
	rtv_duration_format((int64_t)a.sched_runtime, rs, sizeof(rs));
	rtv_duration_format((int64_t)a.sched_deadline, ds, sizeof(ds));
	rtv_duration_format((int64_t)a.sched_period, ps, sizeof(ps));
	printf("  thread %d: SCHED_DEADLINE runtime %s deadline %s period %s\n", tid, rs, ds, ps);
}

/* The options that go together; 0 or RTV_EXIT_USAGE. */
static int reserve_check_options(void)
{
	int ntargets = !!opt.tid + !!opt.pid + !!opt.cgroup + !!opt.container +
		       (opt.kthreads && !opt.container);

	if (ntargets != 1) {
		rtv_cli_error(ntargets ? "give one of --tid, --pid, --cgroup, --container, --kthreads" :
					 "nothing to reserve: give --tid, --pid, --cgroup, --container or --kthreads");
		return RTV_EXIT_USAGE;
	}
	if (opt.from && (opt.runtime_ns || opt.period_ns || opt.deadline_ns)) {
		rtv_cli_error("option '--from' takes the runtime, deadline and period from '%s': give "
			      "it without '--runtime', '--period' and '--deadline'", opt.from);
		return RTV_EXIT_USAGE;
	}
	if (opt.vcpu_set && !opt.from) {
		rtv_cli_error("option '--vcpu' picks a reservation of '--from FILE': give '--from' too");
		return RTV_EXIT_USAGE;
	}
	if (opt.from && !opt.vcpu_set) {
		rtv_cli_error("option '--from' needs '--vcpu K', the vCPU whose reservation to take");
		return RTV_EXIT_USAGE;
	}
	if (!opt.from && (!opt.runtime_ns || !opt.period_ns)) {
		rtv_cli_error("options '--runtime' and '--period' are required (or '--from' and '--vcpu')");
		return RTV_EXIT_USAGE;
	}
	if (CPU_COUNT(&opt.cpus) && !opt.cgroup && !opt.container) {
		rtv_cli_error("option '--cpus' pins a group (--cgroup or --container): a SCHED_DEADLINE "
			      "thread's affinity must span its root domain");
		return RTV_EXIT_USAGE;
	}
	return 0;
}

/* The reservation, from the options or --from (read before anything else:
 * a bad file changes nothing); 0 or an exit code, the message printed. */
static int reserve_params(struct rtv_reserve *r)
{
	char err[1024] = "";
	int e;

	memset(r, 0, sizeof(*r));
	r->runtime_ns = opt.runtime_ns;
	r->period_ns = opt.period_ns;
	r->deadline_ns = opt.deadline_ns;
	if (opt.from) {
		e = rtv_reserve_from_analysis(opt.from, (int)opt.vcpu, r, err, sizeof(err));
		if (e < 0) {
			rtv_cli_error("%s; nothing was changed", err);
			return e == -ENOMEM ? RTV_EXIT_FAIL : RTV_EXIT_USAGE;
		}
	}
	r->cpus = opt.cpus;
	return 0;
}

/* Everything that can be checked before the host lock: the cgroup
 * hierarchy, the admission test for one thread (the library repeats it for
 * all of them; a group alone gets CFS bandwidth, which has bounds of its
 * own, checked when it is made) and that the thread or process exists. 0 or
 * an exit code, the message printed. */
static int reserve_precheck(const struct rtv_reserve *r, struct rtv_cgroups *cg,
			    struct rtv_reserve_admission *adm)
{
	char err[1024] = "";
	int e;

	if (opt.cgroup || opt.container) {
		e = rtv_cgroup_detect(RTV_CGROUP_ROOT, cg);
		if (e < 0) {
			rtv_cli_error("no cgroup hierarchy found under '%s': %s", RTV_CGROUP_ROOT,
				      strerror(-e));
			return RTV_EXIT_FAIL;
		}
	}
	if (opt.cgroup)
		opt.cgroup = cgroup_name(cg, opt.cgroup);
	memset(adm, 0, sizeof(*adm));
	e = opt.tid || opt.pid || opt.kthreads ?
		    rtv_reserve_admit(RTV_RESERVE_ROOT, r, 1, adm, err, sizeof(err)) : 0;
	if (e < 0) {
		rtv_cli_error("%s; nothing was changed", err);
		return exit_for(e);
	}
	if (opt.tid && rtv_proc_starttime((pid_t)opt.tid, 0) == 0) {
		rtv_cli_error("no thread %lld; nothing was changed", opt.tid);
		return RTV_EXIT_USAGE;
	}
	if (opt.pid && rtv_proc_starttime((pid_t)opt.pid, 0) == 0) {
		rtv_cli_error("no process %lld; nothing was changed", opt.pid);
		return RTV_EXIT_USAGE;
	}
	return 0;
}

/* "tid=42 runtime=1ms period=10ms cpus=2", for messages and the service file */
static void reserve_describe(const struct rtv_reserve *r, char *what, size_t len)
{
	char rs[32], ps[32], cpus[128] = "";
	size_t n;

	rtv_duration_format(r->runtime_ns, rs, sizeof(rs));
	rtv_duration_format(r->period_ns, ps, sizeof(ps));
	if (CPU_COUNT(&r->cpus))
		rtv_cpulist_format(&r->cpus, cpus, sizeof(cpus));
	if (opt.tid)
		snprintf(what, len, "tid=%lld", opt.tid);
	else if (opt.pid)
		snprintf(what, len, "pid=%lld", opt.pid);
	else if (opt.cgroup)
		snprintf(what, len, "cgroup=%s", opt.cgroup);
	else if (opt.container)
		snprintf(what, len, "container=%s%s%s", opt.container, opt.kthreads ? " kthreads=" : "",
			 opt.kthreads ? opt.kthreads : "");
	else
		snprintf(what, len, "kthreads=%s", opt.kthreads);
	n = strlen(what);
	snprintf(what + n, len - n, " runtime=%s period=%s%s%s", rs, ps, *cpus ? " cpus=" : "", cpus);
}

static const char *from_name(void)
{
	return strcmp(opt.from, "-") ? opt.from : "standard input";
}

static int reserve_dry_run(const struct rtv_reserve *r, const char *what,
			   const struct rtv_reserve_admission *adm)
{
	char ds[32];

	rtv_duration_format(r->deadline_ns ? r->deadline_ns : r->period_ns, ds, sizeof(ds));
	if (opt.from)
		printf("vCPU %lld of '%s': runtime_ns %lld deadline_ns %lld period_ns %lld\n",
		       opt.vcpu, from_name(), (long long)r->runtime_ns, (long long)r->deadline_ns,
		       (long long)r->period_ns);
	printf("would reserve %s deadline=%s\n", what, ds);
	if (adm->ncpus)
		printf("admission: %.3f CPUs per thread + %.3f for the fair servers within the "
		       "limit of %.3f (bandwidth other SCHED_DEADLINE threads hold is not visible "
		       "here)\n", adm->request, adm->fair_server, adm->limit);
	printf("dry run: nothing was changed\n");
	return RTV_EXIT_OK;
}

/* Make the reservation, journaled after mark, and say how many threads it
 * covers; 0, or an exit code with the message printed and what was done
 * undone. */
static int reserve_make(struct rtv_cgroups *cg, const struct rtv_reserve *r, size_t mark,
			int *nthreads)
{
	char err[1024] = "";
	int e, u;

	if (opt.tid)
		e = rtv_reserve_thread((pid_t)opt.tid, r, err, sizeof(err));
	else if (opt.pid)
		e = rtv_reserve_process((pid_t)opt.pid, r, err, sizeof(err));
	else if (opt.cgroup)
		e = rtv_reserve_cgroup(cg, opt.cgroup, r, err, sizeof(err));
	else if (opt.container)
		e = rtv_reserve_container(cg, opt.container, opt.kthreads, r, err, sizeof(err));
	else
		e = rtv_reserve_kthreads(opt.kthreads, r, err, sizeof(err));
	if (e < 0) {
		u = rtv_journal_undo_to(mark);
		rtv_cli_error("cannot reserve: %s; %s", err,
			      u < 0 ? "undoing what was done failed" :
			      u ? "what was done is undone" : "nothing was changed");
		return exit_for(e);
	}
	if (opt.kthreads && !opt.container && e == 0) {
		rtv_cli_error("no kernel thread matches '%s'; nothing was changed", opt.kthreads);
		return RTV_EXIT_FAIL;
	}
	if (opt.kthreads && e == 0)
		rtv_cli_warn("no kernel thread matches '%s': only the container's cgroup is reserved",
			     opt.kthreads);
	*nthreads = e;
	return 0;
}

/* Hold the reservation in the foreground for --duration, then undo it. */
static int reserve_hold(size_t mark, const char *what)
{
	int64_t end = rtv_ns_add_sat(rtv_now_ns(), opt.duration_ns);

	rtv_cli_service_write("reserve", what);
	printf("holding for the given duration (pid %d); Ctrl-C, SIGTERM or 'rtvnet revert' undoes "
	       "it\n", getpid());
	fflush(stdout);
	while (!rtv_cli_stop && rtv_now_ns() < end)
		usleep(100 * 1000); /* a signal ends it early */
	return rtv_cli_service_end(mark);
}

int cmd_reserve(int argc, char **argv)
{
	struct rtv_reserve r;
	struct rtv_cgroups cg = { 0 };
	struct rtv_reserve_admission adm;
	char what[512];
	int e, n = 0;
	size_t mark;
	bool done;

	e = rtv_cli_parse_noargs(opts, usage_str, argc, argv, &done);
	if (e || done)
		return e;
	e = reserve_check_options();
	if (!e)
		e = reserve_params(&r);
	if (!e)
		e = reserve_precheck(&r, &cg, &adm);
	if (e)
		return e;
	reserve_describe(&r, what, sizeof(what));
	if (opt.dry)
		return reserve_dry_run(&r, what, &adm);

	if (rtv_cli_catch_signals() || rtv_cli_host_lock() < 0)
		return RTV_EXIT_FAIL;
	mark = rtv_journal_mark();
	e = reserve_make(&cg, &r, mark, &n);
	if (e)
		return e;
	printf("reserved %s\n", what);
	if (opt.from)
		printf("  the reservation of vCPU %lld in '%s'\n", opt.vcpu, from_name());
	if (opt.tid)
		print_thread((pid_t)opt.tid);
	else if (n > 0 && rtv_verbosity > 1)
		printf("  %d thread%s\n", n, n == 1 ? "" : "s");
	if (opt.duration_ns)
		return reserve_hold(mark, what);
	e = rtv_journal_keep_from(mark, "reserve");
	if (e < 0) {
		rtv_cli_error("cannot keep the reservation in the journal: %s; undoing it",
			      strerror(-e));
		rtv_journal_undo_to(mark);
		return RTV_EXIT_FAIL;
	}
	printf("kept until 'rtvnet revert'\n");
	return RTV_EXIT_OK;
}
