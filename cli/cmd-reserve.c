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

int cmd_reserve(int argc, char **argv)
{
	long long tid = 0, pid = 0, vcpu = -1;
	const char *cgroup = NULL, *container = NULL, *kthreads = NULL, *from = NULL;
	int64_t runtime = 0, period = 0, deadline = 0, duration = 0;
	bool dry = false, vcpu_set = false, done;
	struct rtv_reserve r = { 0 };
	const struct rtv_opt opts[] = {
		RTV_OPT_INT_DEF("tid", 0, &tid, "N", 1, INT_MAX, "one thread"),
		RTV_OPT_INT_DEF("pid", 0, &pid, "N", 1, INT_MAX, "every thread of a process"),
		RTV_OPT_STRING_DEF("cgroup", 0, &cgroup, "PATH", "a cgroup (relative to the hierarchy, or under /sys/fs/cgroup)"),
		RTV_OPT_STRING_DEF("container", 0, &container, "HOST", "a testbed container: cgroup rtvnet/HOST"),
		RTV_OPT_STRING_DEF("kthreads", 0, &kthreads, "PATTERN", "kernel threads by name (fnmatch), each its own reservation"),
		RTV_OPT_DURATION_DEF("runtime", 0, &runtime, "MS", RTV_NS_PER_MS, "CPU time per period (required)"),
		RTV_OPT_DURATION_DEF("period", 0, &period, "MS", RTV_NS_PER_MS, "the reservation's period (required)"),
		RTV_OPT_DURATION_DEF("deadline", 0, &deadline, "MS", RTV_NS_PER_MS, "relative deadline of threads (default: the period)"),
		RTV_OPT_STRING_DEF("from", 0, &from, "FILE", "take runtime, deadline and period from 'rtvnet analyze --json' output ('-': standard input)"),
		RTV_OPT_INT_DEF("vcpu", 0, &vcpu, "K", 0, INT_MAX, "with --from: the reservation of vCPU K (its vcpus[K])",
				.set = &vcpu_set, .what = "a vCPU number (0, 1, ...)"),
		RTV_OPT_CPUS_DEF("cpus", 0, &r.cpus, "CPUS", "pin a group to these CPUs with an exclusive cpuset"),
		RTV_OPT_FLAG_DEF("dry-run", 'n', &dry, "check and print what would be done, change nothing"),
		RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S, "hold for S, then undo (default: keep until 'rtvnet revert')"),
		RTV_OPT_END_DEF,
	};
	struct rtv_cgroups cg = { 0 };
	struct rtv_reserve_admission adm;
	char err[1024] = "", what[512], rs[32], ps[32], ds[32], cpus[128] = "";
	int nargs, e, ntargets, ret = RTV_EXIT_FAIL;
	size_t mark;

	CPU_ZERO(&r.cpus);
	e = rtv_cli_parse(opts, usage_str, argc, argv, &nargs, &done);
	if (e || done)
		return e;
	if (nargs) {
		rtv_cli_error("takes no arguments, got '%s'", argv[1]);
		return RTV_EXIT_USAGE;
	}
	ntargets = !!tid + !!pid + !!cgroup + !!container + (kthreads && !container);
	if (ntargets != 1) {
		rtv_cli_error(ntargets ? "give one of --tid, --pid, --cgroup, --container, --kthreads" :
					 "nothing to reserve: give --tid, --pid, --cgroup, --container or --kthreads");
		return RTV_EXIT_USAGE;
	}
	if (from && (runtime || period || deadline)) {
		rtv_cli_error("option '--from' takes the runtime, deadline and period from '%s': give "
			      "it without '--runtime', '--period' and '--deadline'", from);
		return RTV_EXIT_USAGE;
	}
	if (vcpu_set && !from) {
		rtv_cli_error("option '--vcpu' picks a reservation of '--from FILE': give '--from' too");
		return RTV_EXIT_USAGE;
	}
	if (from && !vcpu_set) {
		rtv_cli_error("option '--from' needs '--vcpu K', the vCPU whose reservation to take");
		return RTV_EXIT_USAGE;
	}
	if (!from && (!runtime || !period)) {
		rtv_cli_error("options '--runtime' and '--period' are required (or '--from' and '--vcpu')");
		return RTV_EXIT_USAGE;
	}
	if (CPU_COUNT(&r.cpus) && !cgroup && !container) {
		rtv_cli_error("option '--cpus' pins a group (--cgroup or --container): a SCHED_DEADLINE "
			      "thread's affinity must span its root domain");
		return RTV_EXIT_USAGE;
	}
	if (from) { /* before anything else: a bad file changes nothing */
		cpu_set_t pin = r.cpus;

		e = rtv_reserve_from_analysis(from, (int)vcpu, &r, err, sizeof(err));
		if (e < 0) {
			rtv_cli_error("%s; nothing was changed", err);
			return e == -ENOMEM ? RTV_EXIT_FAIL : RTV_EXIT_USAGE;
		}
		r.cpus = pin;
		runtime = r.runtime_ns;
		period = r.period_ns;
		deadline = r.deadline_ns;
	}
	r.runtime_ns = runtime;
	r.period_ns = period;
	r.deadline_ns = deadline;
	rtv_duration_format(runtime, rs, sizeof(rs));
	rtv_duration_format(period, ps, sizeof(ps));
	rtv_duration_format(deadline ? deadline : period, ds, sizeof(ds));
	if (CPU_COUNT(&r.cpus))
		rtv_cpulist_format(&r.cpus, cpus, sizeof(cpus));

	/* everything that can be checked before the host lock */
	if (cgroup || container) {
		e = rtv_cgroup_detect(RTV_CGROUP_ROOT, &cg);
		if (e < 0) {
			rtv_cli_error("no cgroup hierarchy found under '%s': %s", RTV_CGROUP_ROOT,
				      strerror(-e));
			return RTV_EXIT_FAIL;
		}
	}
	if (cgroup)
		cgroup = cgroup_name(&cg, cgroup);
	/* threads: the parameter checks and the admission test for one thread
	 * (the library repeats it for all of them); a group alone gets CFS
	 * bandwidth, which has bounds of its own, checked when it is made */
	memset(&adm, 0, sizeof(adm));
	e = tid || pid || kthreads ? rtv_reserve_admit(RTV_RESERVE_ROOT, &r, 1, &adm, err, sizeof(err)) : 0;
	if (e < 0) {
		rtv_cli_error("%s; nothing was changed", err);
		return exit_for(e);
	}
	if (tid && rtv_proc_starttime((pid_t)tid, 0) == 0) {
		rtv_cli_error("no thread %lld; nothing was changed", tid);
		return RTV_EXIT_USAGE;
	}
	if (pid && rtv_proc_starttime((pid_t)pid, 0) == 0) {
		rtv_cli_error("no process %lld; nothing was changed", pid);
		return RTV_EXIT_USAGE;
	}
	if (tid)
		snprintf(what, sizeof(what), "tid=%lld", tid);
	else if (pid)
		snprintf(what, sizeof(what), "pid=%lld", pid);
	else if (cgroup)
		snprintf(what, sizeof(what), "cgroup=%s", cgroup);
	else if (container)
		snprintf(what, sizeof(what), "container=%s%s%s", container, kthreads ? " kthreads=" : "",
			 kthreads ? kthreads : "");
	else
		snprintf(what, sizeof(what), "kthreads=%s", kthreads);
	snprintf(what + strlen(what), sizeof(what) - strlen(what), " runtime=%s period=%s%s%s", rs,
		 ps, *cpus ? " cpus=" : "", cpus);
	if (dry) {
		if (from)
			printf("vCPU %lld of '%s': runtime_ns %lld deadline_ns %lld period_ns %lld\n",
			       vcpu, strcmp(from, "-") ? from : "standard input", (long long)runtime,
			       (long long)deadline, (long long)period);
		printf("would reserve %s deadline=%s\n", what, ds);
		if (adm.ncpus)
			printf("admission: %.3f CPUs per thread + %.3f for the fair servers within the "
			       "limit of %.3f (bandwidth other SCHED_DEADLINE threads hold is not visible "
			       "here)\n", adm.request, adm.fair_server, adm.limit);
		printf("dry run: nothing was changed\n");
		return RTV_EXIT_OK;
	}

	if (rtv_cli_catch_signals() || rtv_cli_host_lock() < 0)
		return RTV_EXIT_FAIL;
	mark = rtv_journal_mark();
	if (tid)
		e = rtv_reserve_thread((pid_t)tid, &r, err, sizeof(err));
	else if (pid)
		e = rtv_reserve_process((pid_t)pid, &r, err, sizeof(err));
	else if (cgroup)
		e = rtv_reserve_cgroup(&cg, cgroup, &r, err, sizeof(err));
	else if (container)
		e = rtv_reserve_container(&cg, container, kthreads, &r, err, sizeof(err));
	else
		e = rtv_reserve_kthreads(kthreads, &r, err, sizeof(err));
	if (e < 0) {
		int u = rtv_journal_undo_to(mark);

		rtv_cli_error("cannot reserve: %s; %s", err,
			      u < 0 ? "undoing what was done failed" :
			      u ? "what was done is undone" : "nothing was changed");
		return exit_for(e);
	}
	if (kthreads && !container && e == 0) {
		rtv_cli_error("no kernel thread matches '%s'; nothing was changed", kthreads);
		return RTV_EXIT_FAIL;
	}
	if (kthreads && e == 0)
		rtv_cli_warn("no kernel thread matches '%s': only the container's cgroup is reserved",
			     kthreads);
	printf("reserved %s\n", what);
	if (from)
		printf("  the reservation of vCPU %lld in '%s'\n", vcpu,
		       strcmp(from, "-") ? from : "standard input");
	if (tid) {
		print_thread((pid_t)tid);
	} else if (e > 0 && rtv_verbosity > 1) {
		printf("  %d thread%s\n", e, e == 1 ? "" : "s");
	}
	if (!duration) {
		e = rtv_journal_keep_from(mark);
		if (e < 0) {
			rtv_cli_error("cannot keep the reservation in the journal: %s; undoing it",
				      strerror(-e));
			rtv_journal_undo_to(mark);
			return RTV_EXIT_FAIL;
		}
		printf("kept until 'rtvnet revert'\n");
		return RTV_EXIT_OK;
	}
	e = rtv_cli_service_write("reserve", what);
	if (e < 0)
		rtv_cli_warn("cannot write '%s': %s ('rtvnet revert' from another shell will not find "
			     "this process)", RTV_CLI_SERVICE_FILE, strerror(-e));
	printf("holding for the given duration (pid %d); Ctrl-C, SIGTERM or 'rtvnet revert' undoes "
	       "it\n", getpid());
	fflush(stdout);
	{
		int64_t end = rtv_now_ns() + duration;

		while (!rtv_cli_stop && rtv_now_ns() < end)
			usleep(100 * 1000); /* a signal ends it early */
	}
	ret = RTV_EXIT_OK;
	e = rtv_journal_undo_to(mark);
	unlink(RTV_CLI_SERVICE_FILE);
	if (e < 0) {
		rtv_cli_error("could not undo every change: %s", strerror(-e));
		ret = RTV_EXIT_FAIL;
	} else {
		printf("reverted %d change%s\n", e, e == 1 ? "" : "s");
	}
	return ret;
}
