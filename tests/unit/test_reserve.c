/* Unit tests for lib/reserve: a throwaway thread of this process gets
 * SCHED_DEADLINE and the journal's undo gives it back exactly what it had;
 * the admission test and the parameter checks on a fake /proc tree; cgroup
 * bandwidth and exclusive cpusets on fake v2 and v1 trees, and on the real
 * v1 hierarchy under a throwaway cgroup that is removed. Tests that change
 * real threads or cgroups need root and are skipped without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/journal.h"
#include "host/sched.h"
#include "reserve/reserve.h"

#include "fixture.h"
#include "util/kernel.h"

#define PATH_LEN 400
#define MS 1000000LL

struct fx {
	char root[64];  /* the mkdtemp directory */
	char fs[128];   /* a fake tree (proc, sys, cgroup) */
	char jdir[128]; /* the journal's directory */
	/* the throwaway thread */
	pthread_t th;
	int pipe[2];
	pid_t tid;
	bool running;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	if (rtv_test_mkdtemp(fx->root, sizeof(fx->root), "reserve")) {
		free(fx);
		return -1;
	}
	snprintf(fx->fs, sizeof(fx->fs), "%s/fs", fx->root);
	snprintf(fx->jdir, sizeof(fx->jdir), "%s/journal.d", fx->root);
	if (mkdir(fx->fs, 0755) || rtv_journal_open(fx->jdir, NULL)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static void stop_thread(struct fx *fx)
{
	if (!fx->running)
		return;
	close(fx->pipe[1]);
	pthread_join(fx->th, NULL);
	close(fx->pipe[0]);
	fx->running = false;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	rtv_journal_close(); /* undoes whatever a failed test left */
	stop_thread(fx);
	rtv_test_rmtree(fx->root);
	free(fx);
	return 0;
}

/* ---- the throwaway thread: blocks on a pipe until stop_thread() ---- */

static void *sleeper(void *arg)
{
	struct fx *fx = arg;
	char c;

	__atomic_store_n(&fx->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	while (read(fx->pipe[0], &c, 1) > 0)
		;
	return NULL;
}

static pid_t start_thread(struct fx *fx)
{
	assert_int_equal(pipe(fx->pipe), 0);
	assert_int_equal(pthread_create(&fx->th, NULL, sleeper, fx), 0);
	fx->running = true;
	while (!__atomic_load_n(&fx->tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	return fx->tid;
}

#define NEED_ROOT()                                  \
	do {                                         \
		if (geteuid() != 0) {                \
			print_message("needs root\n"); \
			skip();                      \
		}                                    \
	} while (0)

/* ---- the fake tree ---- */

static void put(const struct fx *fx, const char *name, const char *s)
{
	char p[PATH_LEN], dir[PATH_LEN], *slash;

	snprintf(p, sizeof(p), "%s/%s", fx->fs, name);
	/* make the parents */
	snprintf(dir, sizeof(dir), "%s", p);
	for (slash = strchr(dir + strlen(fx->fs) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0755);
		*slash = '/';
	}
	rtv_test_put(p, s);
}

static void expect_file(const char *path, const char *want)
{
	char buf[4096];
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	assert_string_equal(buf, want);
}

static void expect_in(const struct fx *fx, const char *name, const char *want)
{
	char p[PATH_LEN];

	snprintf(p, sizeof(p), "%s/%s", fx->fs, name);
	expect_file(p, want);
}

/* A host with 2 CPUs, the default deadline limits, Linux 6.18 (fair servers). */
static void fake_proc(const struct fx *fx)
{
	put(fx, "proc/sys/kernel/sched_rt_runtime_us", "950000\n");
	put(fx, "proc/sys/kernel/sched_rt_period_us", "1000000\n");
	put(fx, "proc/sys/kernel/sched_deadline_period_min_us", "100\n");
	put(fx, "proc/sys/kernel/sched_deadline_period_max_us", "4194304\n");
	put(fx, "proc/sys/kernel/osrelease", "6.18.44\n");
	put(fx, "sys/devices/system/cpu/online", "0-1\n");
}

static struct rtv_reserve res(int64_t runtime, int64_t deadline, int64_t period)
{
	struct rtv_reserve r = { .runtime_ns = runtime, .deadline_ns = deadline, .period_ns = period };

	CPU_ZERO(&r.cpus);
	return r;
}

/* ---- threads ---- */

static void check_roundtrip(struct fx *fx, int policy, int prio, int nice, uint64_t slice)
{
	struct rtv_sched_attr before, a;
	struct rtv_reserve r = res(2 * MS, 5 * MS, 10 * MS);
	char err[512] = "";
	size_t mark;
	pid_t tid = start_thread(fx);

	if (slice) { /* a custom time slice (Linux 6.12 and later) */
		struct rtv_sched_attr c = { .sched_policy = SCHED_OTHER, .sched_nice = nice,
					    .sched_runtime = slice };

		assert_int_equal(rtv_sched_setattr(tid, &c), 0);
	} else if (policy == SCHED_OTHER) {
		assert_int_equal(setpriority(PRIO_PROCESS, (id_t)tid, nice), 0);
	} else {
		struct sched_param sp = { .sched_priority = prio };

		assert_int_equal(sched_setscheduler(tid, policy, &sp), 0);
	}
	assert_int_equal(rtv_sched_getattr(tid, &before), 0);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_reserve_thread(tid, &r, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(rtv_journal_mark(), mark + 1);

	assert_int_equal(rtv_sched_getattr(tid, &a), 0);
	assert_int_equal(a.sched_policy, SCHED_DEADLINE);
	assert_int_equal(a.sched_runtime, 2 * MS);
	assert_int_equal(a.sched_deadline, 5 * MS);
	assert_int_equal(a.sched_period, 10 * MS);
	assert_int_equal(sched_getscheduler(tid), SCHED_DEADLINE);

	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(rtv_sched_getattr(tid, &a), 0);
	assert_memory_equal(&a, &before, sizeof(a));
	assert_int_equal(a.sched_policy, (uint32_t)policy);
	assert_int_equal(a.sched_priority, (uint32_t)prio);
	assert_int_equal(a.sched_nice, nice);
	if (slice)
		assert_int_equal(a.sched_runtime, slice);
	stop_thread(fx);
}

static void test_thread_other_nice(void **state)
{
	NEED_ROOT();
	check_roundtrip(*state, SCHED_OTHER, 0, 7, 0);
}

static void test_thread_fifo(void **state)
{
	NEED_ROOT();
	check_roundtrip(*state, SCHED_FIFO, 3, 0, 0);
}

static void test_thread_custom_slice(void **state)
{
	NEED_ROOT();
	if (!rtv_kernel_at_least(6, 12))
		skip(); /* no custom slices before 6.12 */
	check_roundtrip(*state, SCHED_OTHER, 0, -2, 3 * MS);
}

/* Undo of a thread that is gone, or whose id now names another thread,
 * is done and touches nothing. */
static void test_thread_gone_or_reused(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve r = res(1 * MS, 0, 10 * MS);
	struct rtv_sched_attr a;
	char err[512] = "", tid_s[32];
	size_t mark;
	pid_t tid;

	NEED_ROOT();
	tid = start_thread(fx);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_reserve_thread(tid, &r, err, sizeof(err)), 0);
	assert_int_equal(rtv_sched_getattr(tid, &a), 0);
	assert_int_equal(a.sched_deadline, 10 * MS); /* deadline 0: the period */

	/* an entry for the same tid with another start time: a reused id */
	snprintf(tid_s, sizeof(tid_s), "%d", tid);
	assert_int_equal(rtv_journal_add("dl", 3, (const char *const[]){ tid_s, "1",
				"0:0:0:0:0:0:0" }), 0);
	assert_int_equal(rtv_journal_undo_to(mark + 1), 0); /* not its thread: dropped */
	assert_int_equal(sched_getscheduler(tid), SCHED_DEADLINE); /* untouched */

	stop_thread(fx); /* the thread is gone: its entry is dropped */
	assert_int_equal(rtv_journal_undo_to(mark), 0);
	assert_int_equal(rtv_journal_mark(), mark);
}

static void test_thread_errors(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve r = res(1 * MS, 0, 10 * MS);
	char err[512] = "";
	pid_t tid;

	NEED_ROOT();
	/* a pinned thread reservation: refused before anything */
	CPU_SET(0, &r.cpus);
	assert_int_equal(rtv_reserve_thread(getpid(), &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "exclusive cpuset"));
	CPU_ZERO(&r.cpus);

	/* no such thread */
	assert_int_equal(rtv_reserve_thread(0x3ffffff0, &r, err, sizeof(err)), -ESRCH);
	assert_string_equal(err, "no thread 1073741808");
	assert_int_equal(rtv_reserve_process(0x3ffffff0, &r, err, sizeof(err)), -ESRCH);
	assert_string_equal(err, "no process 1073741808");

	/* a thread with a restricted affinity: the kernel refuses, explained,
	 * nothing left in the journal */
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		cpu_set_t one;

		tid = start_thread(fx);
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		assert_int_equal(sched_setaffinity(tid, sizeof(one), &one), 0);
		int e = rtv_reserve_thread(tid, &r, err, sizeof(err));

		assert_true(e == -EPERM || e == -EBUSY);
		assert_non_null(strstr(err, "affinity (0) does not cover its whole root domain"));
		assert_int_equal(rtv_journal_mark(), 0);
		assert_int_equal(sched_getscheduler(tid), SCHED_OTHER);
		stop_thread(fx);
	}
}

/* A process's threads together above the host's limit: refused by the
 * admission test before any thread is touched. */
static void test_process_admission_refused(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve r = res(960 * MS, 0, 1000 * MS);
	char err[512] = "", want[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	NEED_ROOT();
	start_thread(fx); /* this process now has 2 threads (3 under TSan): >= 1.92 CPUs */
	if (sysconf(_SC_NPROCESSORS_ONLN) != 2)
		skip();
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	snprintf(want, sizeof(want), "admission refused: %d threads x runtime 960ms / period 1s", n);
	assert_int_equal(rtv_reserve_process(getpid(), &r, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, want));
	assert_int_equal(rtv_journal_mark(), 0);
	assert_int_equal(sched_getscheduler(getpid()), SCHED_OTHER);
	assert_int_equal(sched_getscheduler(fx->tid), SCHED_OTHER);
	stop_thread(fx);
}

/* ---- admission and parameters on a fake /proc ---- */

static void test_admit(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve_admission adm;
	struct rtv_reserve r = res(900 * MS, 0, 1000 * MS);
	char err[512] = "";

	fake_proc(fx);
	/* 2 × 0.9 + 2 × 0.05 (fair servers, assumed) = 1.9 = 2 × 0.95: admitted */
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)), 0);
	assert_int_equal(adm.ncpus, 2);
	assert_true(adm.limit > 1.8999 && adm.limit < 1.9001);
	assert_true(adm.request > 1.7999 && adm.request < 1.8001);
	assert_true(adm.fair_server > 0.0999 && adm.fair_server < 0.1001);
	assert_int_equal(adm.period_min_us, 100);
	assert_int_equal(adm.period_max_us, 4194304);

	/* 0.96 + 0.9 + 0.1 > 1.9: the case this kernel refuses with EBUSY */
	r.runtime_ns = 930 * MS;
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, NULL, err, sizeof(err)), -EBUSY);
	assert_string_equal(err, "admission refused: 2 threads x runtime 930ms / period 1s = 1.860 "
			    "CPUs, plus 0.100 for the fair servers (the default 5% of each CPU since "
			    "Linux 6.12), exceed the deadline bandwidth of 2 CPUs x "
			    "sched_rt_runtime_us/sched_rt_period_us (950000/1000000) = 1.900; ask for "
			    "less runtime or a longer period");

	/* fair servers as debugfs shows them: switched off on CPU 1 */
	put(fx, "sys/kernel/debug/sched/fair_server/cpu0/runtime", "50000000\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu0/period", "1000000000\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu1/runtime", "0\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu1/period", "1000000000\n");
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)), -EBUSY);
	r.runtime_ns = 920 * MS; /* 1.84 + 0.05 <= 1.9 */
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)), 0);
	assert_true(adm.fair_server > 0.0499 && adm.fair_server < 0.0501);

	/* an older kernel without debugfs: no fair server */
	put(fx, "sys/kernel/debug/sched/fair_server/cpu0/runtime", "x\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu1/runtime", "x\n");
	put(fx, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)), 0);
	assert_true(adm.fair_server == 0);

	/* pinned to one CPU: that root domain has 0.95 */
	CPU_SET(1, &r.cpus);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, &adm, err, sizeof(err)), 0);
	assert_int_equal(adm.ncpus, 1);
	r.runtime_ns = 960 * MS;
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, &adm, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "of 1 CPU x sched_rt_runtime_us"));
	CPU_SET(2, &r.cpus);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, &adm, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "some of the CPUs to pin to are not online (online: 0-1)");
	CPU_ZERO(&r.cpus);

	/* sched_rt_runtime_us = -1: no limit */
	put(fx, "proc/sys/kernel/sched_rt_runtime_us", "-1\n");
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 4, &adm, err, sizeof(err)), 0);
}

/* rtv_reserve_admit and rtv_dl_admission_check (`rtvnet analyze`) give the
 * same verdict, in the kernel's fixed point with the fair servers counted:
 * 2 × 900001525 ns every 1 s plus the default 2 × 0.05 on 2 CPUs of 0.95 is
 * 2 × 943719 + 2 × 52428 = 1992294, the cap exactly; 1 ns more is over. */
static void test_admit_agrees_with_analysis(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve_admission adm;
	struct rtv_dl_admission dla;
	struct rtv_reserve r = res(900001525, 0, 1000 * MS);
	struct rtv_dl_params dl[2];
	cpu_set_t online;
	char err[512] = "";

	fake_proc(fx);
	assert_int_equal(rtv_dl_online_cpus(fx->fs, &online), 0);
	for (int extra = 0; extra <= 1; extra++) {
		r.runtime_ns = 900001525 + extra;
		dl[0] = (struct rtv_dl_params){ (uint64_t)r.runtime_ns, 1000 * MS, 1000 * MS };
		dl[1] = dl[0];
		assert_int_equal(rtv_dl_admission_check(fx->fs, &online, dl, 2, &dla), 0);
		assert_int_equal(dla.fair.source, RTV_DL_FAIR_DEFAULT);
		assert_int_equal(dla.total_bw + dla.fair.bw, extra ? 1992296 : 1992294);
		assert_int_equal(dla.admissible, !extra);
		assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)),
				 extra ? -EBUSY : 0);
		assert_int_equal(adm.fair_source, RTV_DL_FAIR_DEFAULT);
		assert_true(fabs(adm.fair_server - 0.1) < 1e-12);
	}

	/* fair servers tuned in debugfs: 0.3 on each CPU leaves 2 × 0.65 */
	put(fx, "sys/kernel/debug/sched/fair_server/cpu0/runtime", "300000000\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu0/period", "1000000000\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu1/runtime", "300000000\n");
	put(fx, "sys/kernel/debug/sched/fair_server/cpu1/period", "1000000000\n");
	r.runtime_ns = 660 * MS;
	dl[0] = (struct rtv_dl_params){ 660 * MS, 1000 * MS, 1000 * MS };
	dl[1] = dl[0];
	assert_int_equal(rtv_dl_admission_check(fx->fs, &online, dl, 2, &dla), 0);
	assert_false(dla.admissible);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "plus 0.600 for the fair servers (from debugfs)"));
	r.runtime_ns = 650 * MS;
	dl[0].runtime_ns = dl[1].runtime_ns = 650 * MS;
	assert_int_equal(rtv_dl_admission_check(fx->fs, &online, dl, 2, &dla), 0);
	assert_true(dla.admissible);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 2, &adm, err, sizeof(err)), 0);
	assert_int_equal(adm.fair_source, RTV_DL_FAIR_DEBUGFS);
}

static void test_admit_params(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve r;
	char err[512] = "", missing[PATH_LEN];

	fake_proc(fx);
	r = res(1000, 0, 10 * MS);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "runtime 1us is below the kernel's minimum of 1024ns");
	r = res(1024, 0, 10 * MS);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, NULL, err, sizeof(err)), 0);
	r = res(3 * MS, 2 * MS, 10 * MS);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "runtime 3ms, deadline 2ms and period 10ms: the kernel "
			    "needs runtime <= deadline <= period");
	r = res(3 * MS, 12 * MS, 10 * MS);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, NULL, err, sizeof(err)), -EINVAL);
	r = res(20000, 0, 50000);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "period 50us is outside the kernel's range of 100us to 4194304us "
			    "(/proc/sys/kernel/sched_deadline_period_{min,max}_us)");
	r = res(1 * MS, 0, 5000 * MS);
	assert_int_equal(rtv_reserve_admit(fx->fs, &r, 1, NULL, err, sizeof(err)), -EINVAL);

	snprintf(missing, sizeof(missing), "%s/nope", fx->fs);
	r = res(1 * MS, 0, 10 * MS);
	assert_int_equal(rtv_reserve_admit(missing, &r, 1, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read the deadline limits"));
	assert_int_equal(rtv_journal_mark(), 0); /* checking changes nothing */
}

/* ---- reservations from `rtvnet analyze --json` ---- */

static void test_from_analysis(void **state)
{
	struct fx *fx = *state;
	struct rtv_reserve r;
	char err[512] = "", path[PATH_LEN];

	snprintf(path, sizeof(path), "%s/a.json", fx->fs);
	/* partitioned, as cmd-analyze writes it (abridged) */
	put(fx, "a.json", "{\"tool\": \"rtvnet\", \"mode\": \"partitioned\", \"vcpus\": ["
	    "{\"vcpu\": 0, \"tasks\": [\"t0\"], \"budget_ms\": 7.5, \"period_ms\": 11, "
	    "\"runtime_ns\": 7500000, \"deadline_ns\": 11000000, \"period_ns\": 11000000},"
	    "{\"vcpu\": 1, \"tasks\": [], \"budget_ms\": 0, \"period_ms\": 10, "
	    "\"runtime_ns\": 0, \"deadline_ns\": 10000000, \"period_ns\": 10000000},"
	    "{\"vcpu\": 2, \"tasks\": [\"t1\"], \"runtime_ns\": 27500000, \"deadline_ns\": 30000000, "
	    "\"period_ns\": 33000000}]}\n");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(r.runtime_ns, 7500000);
	assert_int_equal(r.deadline_ns, 11000000);
	assert_int_equal(r.period_ns, 11000000);
	assert_int_equal(CPU_COUNT(&r.cpus), 0);
	assert_int_equal(rtv_reserve_from_analysis(path, 2, &r, err, sizeof(err)), 0);
	assert_int_equal(r.runtime_ns, 27500000);
	assert_int_equal(r.deadline_ns, 30000000);
	assert_int_equal(r.period_ns, 33000000);
	/* a vCPU without tasks, and beyond the last */
	assert_int_equal(rtv_reserve_from_analysis(path, 1, &r, err, sizeof(err)), -ENODATA);
	assert_non_null(strstr(err, "vCPU 1 has a budget of 0 (no tasks on it)"));
	assert_int_equal(r.runtime_ns, 0);
	assert_int_equal(rtv_reserve_from_analysis(path, 3, &r, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "a.json' has 3 vCPU reservations (0 to 2): no vCPU 3"));
	assert_int_equal(rtv_reserve_from_analysis(path, -1, &r, err, sizeof(err)), -ERANGE);

	/* a global analysis: vcpus are the even split */
	put(fx, "a.json", "{\"mode\": \"global\", \"budget_ms\": 17.5, \"period_ms\": 10, \"cpus\": 2, "
	    "\"vcpus\": [{\"vcpu\": 0, \"runtime_ns\": 8750000, \"deadline_ns\": 10000000, "
	    "\"period_ns\": 10000000}, {\"vcpu\": 1, \"runtime_ns\": 8750000, "
	    "\"deadline_ns\": 10000000, \"period_ns\": 10000000}]}");
	assert_int_equal(rtv_reserve_from_analysis(path, 1, &r, err, sizeof(err)), 0);
	assert_int_equal(r.runtime_ns, 8750000);
	assert_int_equal(r.period_ns, 10000000);

	/* not analyze's output */
	put(fx, "a.json", "{\"tasks\": []}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a.json' has no \"vcpus\" array"));
	put(fx, "a.json", "{\"vcpus\": []}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "a.json' has no vCPU reservations: no vCPU 0"));
	put(fx, "a.json", "{\"vcpus\": [7]}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vcpus[0] is not an object"));
	put(fx, "a.json", "{\"vcpus\": [{\"runtime_ns\": 7.5e6, \"deadline_ns\": 11000000, "
	    "\"period_ns\": 11000000}]}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vcpus[0] has no whole number \"runtime_ns\""));
	put(fx, "a.json", "{\"vcpus\": [{\"runtime_ns\": 7500000, \"period_ns\": 11000000}]}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no whole number \"deadline_ns\""));
	put(fx, "a.json", "{\"vcpus\": [{\"runtime_ns\": 7500000, \"deadline_ns\": -1, "
	    "\"period_ns\": 11000000}]}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vcpus[0].deadline_ns is negative (-1)"));
	put(fx, "a.json", "{\"vcpus\": [{\"runtime_ns\": 7500000, \"deadline_ns\": 11000000, "
	    "\"period_ns\": 0}]}");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vcpus[0] has a period_ns of 0"));
	put(fx, "a.json", "{\"vcpus\": [");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a.json' is not JSON: "));
	put(fx, "a.json", "");
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -EINVAL);
	/* unreadable */
	snprintf(path, sizeof(path), "%s/nope.json", fx->fs);
	assert_int_equal(rtv_reserve_from_analysis(path, 0, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read '"));
	assert_non_null(strstr(err, "nope.json': No such file or directory"));
	assert_int_equal(rtv_reserve_from_analysis(fx->fs, 0, &r, err, sizeof(err)), -EISDIR);
	assert_int_equal(rtv_journal_mark(), 0); /* reading changes nothing */
}

/* ---- cgroups ---- */

static void test_cgroup_v2(void **state)
{
	struct fx *fx = *state;
	struct rtv_cgroups cg;
	struct rtv_reserve r = res(2500 * 1000, 0, 10 * MS);
	char err[512] = "";
	size_t mark = rtv_journal_mark();

	put(fx, "cgroup.controllers", "cpuset cpu io memory\n");
	put(fx, "rtvnet/rts/cpu.max", "max 100000\n");
	put(fx, "rtvnet/rts/cpuset.cpus", "\n");
	put(fx, "rtvnet/rts/cpuset.cpus.partition", "member\n");
	put(fx, "rtvnet/rtc/cpuset.cpus", "\n");
	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), 0);
	assert_int_equal(cg.version, 2);

	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/rts", &r, err, sizeof(err)), 0);
	expect_in(fx, "rtvnet/rts/cpu.max", "2500 10000");
	assert_int_equal(rtv_journal_mark(), mark + 1);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	expect_in(fx, "rtvnet/rts/cpu.max", "max 100000\n");

	/* pinned: cpus first, then the partition */
	CPU_SET(1, &r.cpus);
	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/rts", &r, err, sizeof(err)), 0);
	expect_in(fx, "rtvnet/rts/cpu.max", "2500 10000");
	expect_in(fx, "rtvnet/rts/cpuset.cpus", "1");
	expect_in(fx, "rtvnet/rts/cpuset.cpus.partition", "root");
	assert_int_equal(rtv_journal_mark(), mark + 3);
	assert_int_equal(rtv_journal_undo_to(mark), 3);
	expect_in(fx, "rtvnet/rts/cpu.max", "max 100000\n");
	expect_in(fx, "rtvnet/rts/cpuset.cpus", "\n");
	expect_in(fx, "rtvnet/rts/cpuset.cpus.partition", "member\n");
	CPU_ZERO(&r.cpus);

	/* a testbed container, by host name */
	assert_int_equal(rtv_reserve_container(&cg, "rts", NULL, &r, err, sizeof(err)), 0);
	expect_in(fx, "rtvnet/rts/cpu.max", "2500 10000");
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	expect_in(fx, "rtvnet/rts/cpu.max", "max 100000\n");

	/* refusals, each explained, nothing changed */
	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/rtc", &r, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "the cpu controller is not enabled for"));
	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/nope", &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no cgroup '"));
	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/../..", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(rtv_reserve_cgroup(&cg, "/etc", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(rtv_reserve_container(&cg, "../x", NULL, &r, err, sizeof(err)), -EINVAL);
	r = res(500 * 1000, 0, 10 * MS);
	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/rts", &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "cgroup CPU bandwidth needs 1ms <= runtime <= period <= 1s (got "
			    "runtime 500us, period 10000us)");
	r = res(10 * MS, 0, 2000 * MS);
	assert_int_equal(rtv_reserve_cgroup(&cg, "rtvnet/rts", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(rtv_journal_mark(), mark);
	expect_in(fx, "rtvnet/rts/cpu.max", "max 100000\n");
}

static void test_cgroup_v1_fake(void **state)
{
	struct fx *fx = *state;
	struct rtv_cgroups cg;
	struct rtv_reserve r = res(3 * MS, 0, 20 * MS);
	char err[512] = "";

	put(fx, "cpuset/cpuset.cpus", "0-1\n");
	put(fx, "cpuset/cpuset.sched_load_balance", "1\n");
	put(fx, "cpuacct/cpuacct.usage", "0\n");
	put(fx, "cpu/cpu.rt_runtime_us", "950000\n");
	put(fx, "cpu/cpu.rt_period_us", "1000000\n");
	put(fx, "cpu/grp/cpu.cfs_period_us", "100000\n");
	put(fx, "cpu/grp/cpu.cfs_quota_us", "-1\n");
	put(fx, "cpu/grp/cpu.rt_runtime_us", "0\n");
	put(fx, "cpu/grp/cpu.rt_period_us", "1000000\n");
	put(fx, "cpuset/grp/cpuset.cpus", "0-1\n");
	put(fx, "cpuset/grp/cpuset.cpu_exclusive", "0\n");
	put(fx, "cpuset/grp/cpuset.sched_load_balance", "1\n");
	assert_int_equal(rtv_cgroup_detect(fx->fs, &cg), 0);
	assert_int_equal(cg.version, 1);

	/* CFS and RT bandwidth (a shorter period: runtime first), an
	 * exclusive cpuset under a root that no longer balances */
	CPU_SET(1, &r.cpus);
	assert_int_equal(rtv_reserve_cgroup(&cg, "grp", &r, err, sizeof(err)), 0);
	expect_in(fx, "cpu/grp/cpu.cfs_period_us", "20000");
	expect_in(fx, "cpu/grp/cpu.cfs_quota_us", "3000");
	expect_in(fx, "cpu/grp/cpu.rt_runtime_us", "3000");
	expect_in(fx, "cpu/grp/cpu.rt_period_us", "20000");
	expect_in(fx, "cpu/cpu.rt_runtime_us", "950000\n"); /* the root is the kernel's */
	expect_in(fx, "cpuset/grp/cpuset.cpus", "1");
	expect_in(fx, "cpuset/grp/cpuset.cpu_exclusive", "1");
	expect_in(fx, "cpuset/grp/cpuset.sched_load_balance", "1\n"); /* unchanged */
	expect_in(fx, "cpuset/cpuset.sched_load_balance", "0");
	assert_int_equal(rtv_journal_mark(), 7);
	assert_int_equal(rtv_journal_undo_to(0), 7);
	expect_in(fx, "cpu/grp/cpu.cfs_period_us", "100000\n");
	expect_in(fx, "cpu/grp/cpu.cfs_quota_us", "-1\n");
	expect_in(fx, "cpu/grp/cpu.rt_runtime_us", "0\n");
	expect_in(fx, "cpu/grp/cpu.rt_period_us", "1000000\n");
	expect_in(fx, "cpuset/grp/cpuset.cpus", "0-1\n");
	expect_in(fx, "cpuset/grp/cpuset.cpu_exclusive", "0\n");
	expect_in(fx, "cpuset/cpuset.sched_load_balance", "1\n");

	/* nested: the parent's RT runtime is raised to hold its children,
	 * in the kernel's fixed point: 1/10 + 3/20 of 1s is 250000us */
	put(fx, "cpu/par/cpu.rt_runtime_us", "0\n");
	put(fx, "cpu/par/cpu.rt_period_us", "1000000\n");
	put(fx, "cpu/par/other/cpu.rt_runtime_us", "1000\n");
	put(fx, "cpu/par/other/cpu.rt_period_us", "10000\n");
	put(fx, "cpu/par/kid/cpu.cfs_period_us", "100000\n");
	put(fx, "cpu/par/kid/cpu.cfs_quota_us", "-1\n");
	put(fx, "cpu/par/kid/cpu.rt_runtime_us", "0\n");
	put(fx, "cpu/par/kid/cpu.rt_period_us", "1000000\n");
	CPU_ZERO(&r.cpus);
	assert_int_equal(rtv_reserve_cgroup(&cg, "par/kid", &r, err, sizeof(err)), 0);
	expect_in(fx, "cpu/par/cpu.rt_runtime_us", "250000");
	expect_in(fx, "cpu/par/kid/cpu.rt_runtime_us", "3000");
	expect_in(fx, "cpu/par/other/cpu.rt_runtime_us", "1000\n");
	assert_int_equal(rtv_journal_undo_to(0), 5);
	expect_in(fx, "cpu/par/cpu.rt_runtime_us", "0\n");
	expect_in(fx, "cpu/par/kid/cpu.rt_runtime_us", "0\n");
	/* more than the parent's whole period: refused, nothing changed */
	put(fx, "cpu/par/other/cpu.rt_runtime_us", "9000\n");
	r = res(3 * MS, 0, 10 * MS);
	assert_int_equal(rtv_reserve_cgroup(&cg, "par/kid", &r, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "would need more than all of its CPU time"));
	rtv_journal_undo_to(0);
	expect_in(fx, "cpu/par/kid/cpu.rt_runtime_us", "0\n");
	expect_in(fx, "cpu/par/cpu.rt_runtime_us", "0\n");

	/* a container that the testbed did not make */
	assert_int_equal(rtv_reserve_container(&cg, "rts", NULL, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no testbed container 'rts'"));
	assert_int_equal(rtv_journal_mark(), 0);
}

/* The real v1 cpu hierarchy, under a throwaway cgroup removed at the end:
 * CFS and RT bandwidth read back from the kernel's files, then restored. */
static void test_cgroup_v1_real(void **state)
{
	struct rtv_cgroups cg;
	struct rtv_reserve r = res(2 * MS, 0, 10 * MS);
	char err[512] = "", name[64], dir[PATH_LEN], p[PATH_LEN + 32];
	bool rt;
	int e, n;

	(void)state;
	if (geteuid() != 0)
		RTV_SKIP("needs root: to make a cgroup");
	if (rtv_cgroup_detect(RTV_CGROUP_ROOT, &cg) || cg.version != 1 ||
	    access(RTV_CGROUP_ROOT "/cpu/cpu.cfs_quota_us", F_OK))
		RTV_SKIP("needs cgroup v1 cpu controller: none under " RTV_CGROUP_ROOT
			 " (cgroup v2 is tested on a fake tree)");
	rt = !access(RTV_CGROUP_ROOT "/cpu/cpu.rt_runtime_us", F_OK);
	snprintf(name, sizeof(name), "rtvnet-test-reserve-%d", getpid());
	rtv_cgroup_path(&cg, "cpu", name, dir, sizeof(dir));
	assert_int_equal(mkdir(dir, 0755), 0);
	e = rtv_reserve_cgroup(&cg, name, &r, err, sizeof(err));
	if (e == 0) {
		snprintf(p, sizeof(p), "%s/cpu.cfs_quota_us", dir);
		expect_file(p, "2000\n");
		snprintf(p, sizeof(p), "%s/cpu.cfs_period_us", dir);
		expect_file(p, "10000\n");
		if (rt) {
			snprintf(p, sizeof(p), "%s/cpu.rt_runtime_us", dir);
			expect_file(p, "2000\n");
			snprintf(p, sizeof(p), "%s/cpu.rt_period_us", dir);
			expect_file(p, "10000\n");
		}
		n = rtv_journal_undo_to(0);
		snprintf(p, sizeof(p), "%s/cpu.cfs_quota_us", dir);
		expect_file(p, "-1\n");
		snprintf(p, sizeof(p), "%s/cpu.cfs_period_us", dir);
		expect_file(p, "100000\n");
		if (rt) {
			snprintf(p, sizeof(p), "%s/cpu.rt_runtime_us", dir);
			expect_file(p, "0\n");
			snprintf(p, sizeof(p), "%s/cpu.rt_period_us", dir);
			expect_file(p, "1000000\n");
		}
		e = n;
	}
	rmdir(dir);
	if (e < 0)
		print_message("%s\n", err);
	assert_int_equal(e, rt ? 4 : 2);
	assert_int_equal(access(dir, F_OK), -1);
}

/* A runner thread's reservation: the margin to the ns, never above the
 * deadline. */
static void test_sized(void **state)
{
	struct rtv_reserve r;

	(void)state;
	rtv_reserve_sized(&r, 6500000, 12000000, 12000000, 0.10);
	assert_true(r.runtime_ns == 7150000);
	assert_true(r.deadline_ns == 12000000 && r.period_ns == 12000000);
	assert_int_equal(CPU_COUNT(&r.cpus), 0);
	rtv_reserve_sized(&r, 9000000, 9500000, 10000000, 0.10);
	assert_true(r.runtime_ns == 9500000);
	rtv_reserve_sized(&r, 13500000, 14000000, 14000000, 0);
	assert_true(r.runtime_ns == 13500000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_thread_other_nice),
		T(test_thread_fifo),
		T(test_thread_custom_slice),
		T(test_thread_gone_or_reused),
		T(test_thread_errors),
		T(test_process_admission_refused),
		T(test_admit),
		T(test_admit_params),
		T(test_admit_agrees_with_analysis),
		T(test_from_analysis),
		T(test_cgroup_v2),
		T(test_cgroup_v1_fake),
		T(test_cgroup_v1_real),
		cmocka_unit_test(test_sized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
