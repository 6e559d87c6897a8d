/* rtvnet apply METHOD: a receive-path method on a real host's devices, for as
 * long as it runs (a foreground service, as under systemd): pollers and the
 * link watcher live in this process, so the method lasts exactly as long as
 * it does. Every change is journaled before it is made; Ctrl-C, SIGTERM,
 * `rtvnet revert` or --duration end it and undo them, and a crash is undone
 * by the next rtvnet that starts. The process writes RTV_JOURNAL_DIR/apply
 * ("PID STARTTIME METHOD DEVS") so that revert and status can find it.
 *
 * rtvnet status: what rtvnet has in place now, read-only. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <unistd.h>

#include "builtin.h"
#include "host/cpufreq.h"
#include "host/journal.h"
#include "host/proc.h"
#include "methods/method.h"
#include "methods/rxpath.h"
#include "util/parse.h"
#include "util/time.h"

#define APPLY_FILE RTV_CLI_SERVICE_FILE

static const char usage_str[] =
	"rtvnet apply METHOD --rt-dev DEV[@NETNS][,...] [options]\n"
	"  METHOD: separate, busypoll or hybrid; stays applied until Ctrl-C, SIGTERM or\n"
	"  'rtvnet revert', then every change is undone";

/* "dev" or "dev@netns", comma-separated. */
static int parse_devs(const char *opt, const char *list, struct rtv_dev *out, int *n)
{
	char buf[512], *save = NULL;

	*n = 0;
	if (!list)
		return 0;
	if (strlen(list) >= sizeof(buf)) {
		rtv_cli_error("option '%s': too long", opt);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *at = strchr(t, '@');
		struct rtv_dev *d = &out[*n];

		if (*n == RTV_METHOD_MAX_DEVS) {
			rtv_cli_error("option '%s': at most %d devices", opt, RTV_METHOD_MAX_DEVS);
			return -EINVAL;
		}
		if (at)
			*at++ = '\0';
		if (!*t || strlen(t) >= sizeof(d->name) || strchr(t, '/') ||
		    (at && (!*at || strlen(at) >= sizeof(d->netns) || strchr(at, '/')))) {
			rtv_cli_error("option '%s': '%s' is not a device name (DEV or DEV@NETNS)", opt, t);
			return -EINVAL;
		}
		snprintf(d->name, sizeof(d->name), "%s", t);
		snprintf(d->netns, sizeof(d->netns), "%s", at ? at : "");
		(*n)++;
	}
	return 0;
}

static void print_plan(const struct rtv_combo *m, const struct rtv_method_cfg *cfg,
		       const struct rtv_rx_plan *p)
{
	char extra[8][200];
	int n = rtv_combo_host_steps(m, cfg, extra, 8);

	printf("plan for %s (%s: %s):\n", m->name, rtv_rx_variant_name(p->variant), p->variant_why);
	for (int i = 0; i < p->nsteps; i++)
		printf("  %d. %s\n", i + 1, p->step[i]);
	for (int i = 0; i < n; i++)
		printf("  %d. %s\n", p->nsteps + i + 1, extra[i]);
}

static int service_file_write(const char *what, const char *detail)
{
	int err = rtv_journal_add_runfile(APPLY_FILE); /* a crash leaves no stale one */
	FILE *f;

	if (err < 0)
		return err;
	f = fopen(APPLY_FILE ".tmp", "we");
	if (!f)
		return -errno;
	fprintf(f, "%d %llu %s %s\n", getpid(), rtv_proc_starttime(getpid(), 0), what, detail);
	if (fclose(f))
		return -errno;
	return rename(APPLY_FILE ".tmp", APPLY_FILE) ? -errno : 0;
}

int rtv_cli_service_write(const char *what, const char *detail)
{
	int err = service_file_write(what, detail);

	if (err < 0)
		rtv_cli_warn("cannot write '%s': %s ('rtvnet revert' from another shell will not find "
			     "this process)", RTV_CLI_SERVICE_FILE, strerror(-err));
	return err;
}

int rtv_cli_service_end(size_t mark)
{
	int err;

	unlink(APPLY_FILE); /* first: revert no longer finds this process */
	err = rtv_journal_undo_to(mark);
	if (err < 0) {
		rtv_cli_error("could not undo every change: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	printf("reverted %d change%s\n", err, err == 1 ? "" : "s");
	return RTV_EXIT_OK;
}

/* The running apply, if any: its pid (0 when none) and its description. */
static pid_t running_apply(char *desc, size_t len)
{
	unsigned long long start;
	char line[600];
	int pid, off = 0;
	FILE *f = fopen(APPLY_FILE, "re");

	if (desc)
		desc[0] = '\0';
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%d %llu %n", &pid, &start, &off) != 2) {
		fclose(f);
		return 0;
	}
	fclose(f);
	if (pid <= 0 || !start || rtv_proc_starttime(pid, 0) != start)
		return 0; /* gone, or the pid now belongs to another process */
	line[strcspn(line, "\n")] = '\0';
	if (desc)
		snprintf(desc, len, "%s", line + off);
	return pid;
}

static struct {
	const char *rt_list, *nonrt_list, *cf_root;
	long long rt_prio;
	int64_t duration_ns, idle_ns;
	bool dry, shared;
	cpu_set_t rt_cpus; /* default set in cmd_apply: the last CPU */
} opt = {
	.cf_root = RTV_CPUFREQ_ROOT,
	.rt_prio = 80,
	.idle_ns = 10 * RTV_NS_PER_MS,
};

static const struct rtv_opt opts[] = {
	RTV_OPT_STRING_DEF("rt-dev", 0, &opt.rt_list, "DEVS", "the RT devices: DEV or DEV@NETNS, comma-separated"),
	RTV_OPT_STRING_DEF("nonrt-dev", 0, &opt.nonrt_list, "DEVS", "non-RT devices to keep apart (threaded at normal priority)"),
	RTV_OPT_CPUS_DEF("rt-cpu", 0, &opt.rt_cpus, "CPUS", "RT CPUs: NAPI kthreads and pollers, the last CPU unless given"),
	RTV_OPT_INT_DEF("rt-prio", 0, &opt.rt_prio, "PRIO", 1, 99, "SCHED_FIFO priority of the RT NAPI kthreads (rtnet_prio)"),
	RTV_OPT_DURATION_DEF("idle", 0, &opt.idle_ns, "MS", RTV_NS_PER_MS, "hybrid: the poller sleeps after MS without packets"),
	RTV_OPT_STRING_DEF("cpufreq-root", 0, &opt.cf_root, "DIR", "cpufreq sysfs root (a fake tree in tests)"),
	RTV_OPT_DURATION_DEF("duration", 'd', &opt.duration_ns, "S", RTV_NS_PER_S, "undo and exit after S; 0: run until stopped",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_FLAG_DEF("shared", 0, &opt.shared, "busypoll, hybrid: the RT CPUs stay shared with other work, as with separate (short softirq rounds, full preemption where allowed)"),
	RTV_OPT_FLAG_DEF("dry-run", 'n', &opt.dry, "print the plan, change nothing"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_apply_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

/* Check METHOD and the devices and fill cfg; 0 or RTV_EXIT_USAGE. */
static int apply_cfg(int nargs, char **argv, struct rtv_combo *m,
		     struct rtv_method_cfg *cfg)
{
	char err[256];

	if (nargs != 1) {
		rtv_cli_error(nargs ? "takes one METHOD, got %d arguments" : "METHOD missing (%d given)",
			      nargs);
		return RTV_EXIT_USAGE;
	}
	if (rtv_combo_parse(argv[1], m, err, sizeof(err)) < 0 || !rtv_combo_host(m)) {
		const struct rtv_method *one = rtv_method_find(argv[1]);
		bool known = one != NULL;

		if (one && !one->rx && one->needs == RTV_NEED_STEER) {
			rtv_cli_error("method '%s' sets no receive path: add it to one "
				      "(separate+%s)", argv[1], argv[1]);
			return RTV_EXIT_USAGE;
		}

		rtv_cli_error("method '%s' %s: apply takes a method that sets the receive path "
			      "(separate, busypoll or hybrid), alone or with steer", argv[1],
			      known ? "acts on the testbed's processes only" :
			      strchr(argv[1], '+') ? err : "is unknown");
		return RTV_EXIT_USAGE;
	}
	if (!opt.rt_list) {
		rtv_cli_error("option '--rt-dev' is required: the RT device(s)");
		return RTV_EXIT_USAGE;
	}
	if (parse_devs("--rt-dev", opt.rt_list, cfg->rt_dev, &cfg->nrt_devs) < 0 ||
	    parse_devs("--nonrt-dev", opt.nonrt_list, cfg->nonrt_dev, &cfg->nnonrt_devs) < 0)
		return RTV_EXIT_USAGE;
	cfg->rt_prio = (int)opt.rt_prio;
	rtv_method_cfg_cpus(cfg, &opt.rt_cpus);
	cfg->idle_ns = opt.idle_ns;
	cfg->poller_apart = true; /* the host's applications are not ours to place */
	cfg->shared = opt.shared;
	if ((rtv_combo_needs(m, cfg) & RTV_NEED_STEER) && !cfg->nnonrt_devs) {
		rtv_cli_error("method '%s' steers the non-RT devices' receive work: option "
			      "'--nonrt-dev' is required", argv[1]);
		return RTV_EXIT_USAGE;
	}
	cfg->cpufreq_root = opt.cf_root;
	return 0;
}

/* Keep the method in place until stopped or --duration, re-applying after
 * the kernel recreated NAPIs. */
static void apply_hold(struct rtv_method_run *run)
{
	int64_t end = opt.duration_ns ? rtv_ns_add_sat(rtv_now_ns(), opt.duration_ns) : INT64_MAX;

	while (!rtv_cli_stop && rtv_now_ns() < end) {
		int r = rtv_method_run_poll(run, 200);

		if (r > 0)
			printf("re-applied the settings of %d device%s whose NAPIs the kernel "
			       "recreated\n", r, r == 1 ? "" : "s");
		else if (r < 0)
			rtv_cli_warn("cannot re-apply after a link change: %s", strerror(-r));
		fflush(stdout);
	}
}

/* Set the method up, hold it, undo it: RTV_EXIT_OK or RTV_EXIT_FAIL. */
static int apply_run(const struct rtv_combo *m, const struct rtv_method_cfg *cfg)
{
	struct rtv_method_run run = { .rx = NULL };
	char devs[600], list[256];
	int err, ret = RTV_EXIT_FAIL;
	size_t mark = rtv_journal_mark();

	err = rtv_combo_setup(m, cfg, NULL, &run);
	if (err < 0) {
		rtv_cli_error("%s failed: %s; undoing what was done", m->name, strerror(-err));
		goto undo;
	}
	rtv_cpulist_format(&opt.rt_cpus, list, sizeof(list));
	snprintf(devs, sizeof(devs), "rt-dev=%s rt-cpu=%s%s%s", opt.rt_list, list,
		 opt.nonrt_list ? " nonrt-dev=" : "", opt.nonrt_list ? opt.nonrt_list : "");
	rtv_cli_service_write(m->name, devs);
	printf("applied %s: %s\n%s (pid %d); Ctrl-C, SIGTERM or 'rtvnet revert' undoes it\n", m->name,
	       run.note, opt.duration_ns ? "running for the given duration" : "running", getpid());
	fflush(stdout);
	apply_hold(&run);
	ret = RTV_EXIT_OK;
undo:
	rtv_method_run_stop(&run);
	return rtv_cli_service_end(mark) ? RTV_EXIT_FAIL : ret;
}

int cmd_apply(int argc, char **argv)
{
	int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), nargs, err;
	struct rtv_method_cfg cfg = { 0 };
	struct rtv_combo m;
	struct rtv_rx_plan *plan = NULL;
	char why[256];
	int ret = RTV_EXIT_FAIL;
	bool done;

	CPU_ZERO(&opt.rt_cpus);
	CPU_SET(ncpus - 1, &opt.rt_cpus);
	err = rtv_cli_parse(opts, usage_str, argc, argv, &nargs, &done);
	if (err || done)
		return err;
	err = apply_cfg(nargs, argv, &m, &cfg);
	if (err)
		return err;
	plan = malloc(sizeof(*plan));
	if (!plan)
		return RTV_EXIT_FAIL;
	err = rtv_rx_plan(&cfg, m.rx, plan, why, sizeof(why));
	if (err < 0) {
		rtv_cli_error("%s cannot apply: %s; nothing was changed", m.name, why);
		ret = err == -ENODEV || err == -EINVAL ? RTV_EXIT_USAGE : RTV_EXIT_FAIL;
		goto out;
	}
	if (opt.dry) {
		print_plan(&m, &cfg, plan);
		printf("dry run: nothing was changed\n");
		ret = RTV_EXIT_OK;
		goto out;
	}
	if (rtv_cli_catch_signals() || rtv_cli_host_lock() < 0)
		goto out;
	print_plan(&m, &cfg, plan);
	ret = apply_run(&m, &cfg);
out:
	free(plan);
	return ret;
}

/* Stop a running apply (revert's first step): SIGTERM, then wait for it to
 * undo and exit. 0 when none runs or it ended, -ETIMEDOUT. */
int rtv_cli_stop_apply(void)
{
	char desc[600];
	pid_t pid = running_apply(desc, sizeof(desc));

	if (!pid) {
		unlink(APPLY_FILE); /* left by one that was killed, if any */
		return 0;
	}
	unsigned long long start = rtv_proc_starttime(pid, 0);

	rtv_cli_info("stopping 'rtvnet apply %s' (pid %d)", desc, pid);
	if (kill(pid, SIGTERM) && errno != ESRCH)
		return -errno;
	/* until it has exited (a zombie has released the host lock), not only
	 * removed its service file, which it does before undoing */
	for (int i = 0; i < 300; i++) {
		struct rtv_proc_stat st;

		if (rtv_proc_stat_read(pid, 0, &st) || st.state == 'Z' || st.starttime != start)
			return 0;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static bool status_snapshot;

static const struct rtv_opt status_opts[] = {
	RTV_OPT_FLAG_DEF("snapshot", 0, &status_snapshot, "print the state of everything rtvnet could change on this host (every kind of journal entry's reader), sorted, for comparing before and after"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_status_modes[] = {
	{ NULL, "rtvnet status [--snapshot]", status_opts },
	{ NULL, NULL, NULL },
};

static void print_entry(const struct rtv_journal_entry *e)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)e->since;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	printf("  %-8s since %s  %s", e->owner[0] ? e->owner : "run", when, e->line);
	if (e->fails)
		printf("  [undo failed %u time%s: %s]", e->fails, e->fails == 1 ? "" : "s",
		       strerror(e->err));
	printf("\n");
}

/* Whether entry i is the first kept by its owner (to name each owner once). */
static bool first_of_owner(const struct rtv_journal_state *st, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(st->e[j].owner, st->e[i].owner))
			return false;
	return true;
}

int cmd_status(int argc, char **argv)
{
	struct rtv_journal_state st;
	char desc[600], owners[256] = "";
	size_t run = 0, kept = 0, failed = 0, off = 0;
	bool done;
	pid_t pid;
	int err;

	err = rtv_cli_parse_noargs(status_opts, cmd_status_modes[0].usage, argc, argv, &done);
	if (err || done)
		return err;
	if (status_snapshot)
		return rtv_journal_snapshot(stdout) < 0 ? RTV_EXIT_FAIL : RTV_EXIT_OK;
	pid = running_apply(desc, sizeof(desc));
	if (pid)
		printf("applied: %s (rtvnet apply, pid %d)\n", desc, pid);
	else
		printf("applied: nothing (no rtvnet apply running)\n");
	err = rtv_journal_state_read(RTV_JOURNAL_DIR, &st);
	if (err < 0) {
		rtv_cli_error("cannot read the journal in '%s': %s", RTV_JOURNAL_DIR, strerror(-err));
		return RTV_EXIT_FAIL;
	}
	for (size_t i = 0; i < st.n; i++) {
		const struct rtv_journal_entry *e = &st.e[i];

		failed += e->fails > 0;
		if (!e->owner[0]) {
			run++;
			continue;
		}
		kept++;
		if (first_of_owner(&st, i) && off < sizeof(owners) - 20)
			off += (size_t)snprintf(owners + off, sizeof(owners) - off, "%s%s",
						off ? ", " : " by ", e->owner);
	}
	printf("journal: %zu change%s of running commands, %zu kept%s%s\n", run, run == 1 ? "" : "s",
	       kept, owners, rtv_verbosity > 1 || !st.n ? "" : "; -v lists them");
	for (size_t i = 0; i < st.n; i++)
		if (rtv_verbosity > 1 || st.e[i].fails)
			print_entry(&st.e[i]);
	if (failed)
		printf("%zu change%s could not be undone: kept, retried at the next start of a command "
		       "that changes the host (or 'rtvnet revert')\n", failed, failed == 1 ? "" : "s");
	if (st.holder && st.holder != pid)
		printf("another rtvnet (pid %d) holds the host lock now\n", (int)st.holder);
	else if (run && !st.holder)
		printf("a command that changed the host did not finish: the next rtvnet that takes the "
		       "lock (e.g. 'rtvnet revert') undoes its changes\n");
	rtv_journal_state_free(&st);
	return RTV_EXIT_OK;
}
