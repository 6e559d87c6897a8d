#include "host/sched.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "host/journal.h"
#include "host/proc.h"
#include "util/file.h"
#include "util/log.h"
#include "util/parse.h"

/* <root>/sys/devices/system/cpu/<name> into set; on the host, CPUs 0 to
 * sysconf(sc) - 1 when it cannot be read. */
static int read_cpus(const char *root, const char *name, int sc, cpu_set_t *set)
{
	char path[4096];
	bool host = !root || !*root;
	long n;
	int err;

	CPU_ZERO(set);
	if (snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/%s", host ? "" : root, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	err = rtv_file_read_cpulist(path, set);
	if (!err || !host)
		return err;
	n = sysconf(sc);
	if (n < 1)
		n = 1;
	CPU_ZERO(set);
	for (long c = 0; c < n && c < CPU_SETSIZE; c++)
		CPU_SET((size_t)c, set);
	return 0;
}

int rtv_cpus_read(const char *root, cpu_set_t *present, cpu_set_t *online)
{
	int err = read_cpus(root, "present", _SC_NPROCESSORS_CONF, present);

	return err ? err : read_cpus(root, "online", _SC_NPROCESSORS_ONLN, online);
}

int rtv_sched_setattr(pid_t tid, const struct rtv_sched_attr *attr)
{
	struct rtv_sched_attr a = *attr;

	a.size = sizeof(a);
	return syscall(SYS_sched_setattr, tid, &a, 0) ? -errno : 0;
}

int rtv_sched_getattr(pid_t tid, struct rtv_sched_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	if (syscall(SYS_sched_getattr, tid, attr, (unsigned)sizeof(*attr), 0))
		return -errno;
	return 0;
}

const char *const rtv_sched_policy_names[] = { "other", "fifo", "rr", NULL };

int rtv_sched_policy_parse(const char *s, int *policy)
{
	static const int policies[] = { SCHED_OTHER, SCHED_FIFO, SCHED_RR };

	for (int i = 0; rtv_sched_policy_names[i]; i++)
		if (!strcmp(s, rtv_sched_policy_names[i])) {
			*policy = policies[i];
			return 0;
		}
	return -EINVAL;
}

/* ---- journal kinds: "sched" and "affinity" ---- */

static int journal_sched(pid_t tid)
{
	struct sched_param sp;
	char a[5][32];
	int policy, nice;

	errno = 0;
	policy = sched_getscheduler(tid);
	if (policy < 0 || sched_getparam(tid, &sp))
		return -errno;
	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		return -errno;
	snprintf(a[0], 32, "%d", tid);
	snprintf(a[1], 32, "%llu", rtv_proc_starttime(tid, 0));
	snprintf(a[2], 32, "%d", policy & ~SCHED_RESET_ON_FORK);
	snprintf(a[3], 32, "%d", sp.sched_priority);
	snprintf(a[4], 32, "%d", nice);
	return rtv_journal_add("sched", 5, (const char *const[]){ a[0], a[1], a[2], a[3], a[4] });
}

/* "sched TID STARTTIME POLICY PRIO NICE" */
static int sched_undo(int argc, char **argv)
{
	struct sched_param sp;
	pid_t tid;
	int err = 0;

	if (argc < 5)
		return -EINVAL;
	if (!rtv_journal_same_task(argv[0], argv[1]))
		return RTV_JOURNAL_GONE;
	tid = (pid_t)atoi(argv[0]);
	sp.sched_priority = atoi(argv[3]);
	if (sched_setscheduler(tid, atoi(argv[2]), &sp))
		err = -errno;
	if (setpriority(PRIO_PROCESS, (id_t)tid, atoi(argv[4])) && !err)
		err = -errno;
	return err == -ESRCH ? RTV_JOURNAL_GONE : err;
}

static int journal_affinity(pid_t tid)
{
	cpu_set_t set;
	char a[2][32], list[1024];

	if (sched_getaffinity(tid, sizeof(set), &set))
		return -errno;
	if (rtv_cpulist_format(&set, list, sizeof(list)) < 0)
		return -ENOSPC;
	snprintf(a[0], 32, "%d", tid);
	snprintf(a[1], 32, "%llu", rtv_proc_starttime(tid, 0));
	return rtv_journal_add("affinity", 3, (const char *const[]){ a[0], a[1], list });
}

/* Threads born after a move inherit the narrowed mask of the thread that
 * made them, and no entry records them: "affinity * SINCE AWAY" gives the
 * AWAY CPUs back to every movable thread started at SINCE (clock ticks since
 * boot) or later that has none of them. */
struct born_ctx {
	unsigned long long since;
	cpu_set_t away;
	int err;
};

static void give_back(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	struct born_ctx *c = arg;
	cpu_set_t set, both;

	(void)pid;
	if (st->starttime < c->since || (st->flags & RTV_PF_NO_SETAFFINITY) ||
	    sched_getaffinity(tid, sizeof(set), &set))
		return;
	CPU_AND(&both, &set, &c->away);
	if (CPU_COUNT(&both))
		return;
	CPU_OR(&set, &set, &c->away);
	if (sched_setaffinity(tid, sizeof(set), &set) && errno != ESRCH && errno != EINVAL &&
	    !c->err)
		c->err = -errno;
}

static int born_undo(const char *since, const char *away)
{
	struct born_ctx c = { .since = strtoull(since, NULL, 10) };
	int err = rtv_parse_cpulist(away, CPU_SETSIZE, &c.away);

	if (err < 0)
		return err;
	err = rtv_proc_each_thread(give_back, &c);
	return err < 0 ? err : c.err;
}

/* Now in clock ticks since boot, as /proc/PID/stat's start times count. */
static unsigned long long ticks_now(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
	       (unsigned long long)ts.tv_nsec / (1000000000ULL / (unsigned long long)hz);
}

/* "affinity TID STARTTIME CPULIST", or "affinity * SINCE AWAY" */
static int affinity_undo(int argc, char **argv)
{
	cpu_set_t set;
	int err;

	if (argc < 3)
		return -EINVAL;
	if (!strcmp(argv[0], "*"))
		return born_undo(argv[1], argv[2]);
	if (!rtv_journal_same_task(argv[0], argv[1]))
		return RTV_JOURNAL_GONE;
	err = rtv_parse_cpulist(argv[2], CPU_SETSIZE, &set);
	if (err < 0)
		return err;
	if (sched_setaffinity((pid_t)atoi(argv[0]), sizeof(set), &set))
		return errno == ESRCH ? RTV_JOURNAL_GONE : -errno;
	return 0;
}

/* Threads the snapshots leave out: kernel workers come and go by
 * themselves (rtvnet moves them through the workqueue mask, a file); and
 * the reader's own process and its ancestors are left out by the readers. */
static bool transient(const struct rtv_proc_stat *st)
{
	return (st->flags & RTV_PF_KTHREAD) && !strncmp(st->comm, "kworker/", 8);
}

/* comm with spaces made '_', so that a line splits into words */
static void put_comm(FILE *out, const char *comm)
{
	for (; *comm; comm++)
		fputc(*comm == ' ' ? '_' : *comm, out);
}

/* policy (without the reset-on-fork flag), priority and nice of tid */
static int get_sched(pid_t tid, int v[3])
{
	struct sched_param sp;

	errno = 0;
	v[0] = sched_getscheduler(tid);
	v[2] = getpriority(PRIO_PROCESS, (id_t)tid);
	if (v[0] < 0 || errno || sched_getparam(tid, &sp))
		return -1;
	v[0] &= ~SCHED_RESET_ON_FORK;
	v[1] = sp.sched_priority;
	return 0;
}

/* A thread not at the default is listed unless it is as its process's main
 * thread (so a foreign process whose worker threads come and go shows as one
 * line). */
static void put_sched(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	FILE *out = arg;
	int v[3], lead[3];

	if (transient(st) || rtv_proc_is_self_or_ancestor(pid) || get_sched(tid, v))
		return;
	if (v[0] == SCHED_OTHER && !v[2])
		return;
	if (tid != pid && !get_sched(pid, lead) && !memcmp(v, lead, sizeof(v)))
		return;
	put_comm(out, st->comm);
	fprintf(out, " %d policy %d prio %d nice %d\n", tid, v[0], v[1], v[2]);
}

/* Every thread not at the default scheduling (SCHED_OTHER, nice 0). */
static int sched_snapshot(FILE *out)
{
	return rtv_proc_each_thread(put_sched, out);
}

struct aff_snap {
	FILE *out;
	cpu_set_t online;
};

static void put_affinity(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	struct aff_snap *c = arg;
	cpu_set_t set, both, lead;
	char list[1024];

	if (transient(st) || (st->flags & RTV_PF_NO_SETAFFINITY) ||
	    rtv_proc_is_self_or_ancestor(pid) || sched_getaffinity(tid, sizeof(set), &set))
		return;
	CPU_AND(&both, &c->online, &set);
	if (tid != pid && !sched_getaffinity(pid, sizeof(lead), &lead) && CPU_EQUAL(&lead, &set))
		return; /* as its main thread, listed (or not) with it */
	if (CPU_EQUAL(&both, &c->online) || rtv_cpulist_format(&set, list, sizeof(list)) < 0)
		return;
	put_comm(c->out, st->comm);
	fprintf(c->out, " %d cpus %s\n", tid, list);
}

/* Every movable thread not allowed on every online CPU. */
static int affinity_snapshot(FILE *out)
{
	struct aff_snap c = { .out = out };
	cpu_set_t present;
	int err = rtv_cpus_read(NULL, &present, &c.online);

	return err < 0 ? err : rtv_proc_each_thread(put_affinity, &c);
}

static const struct rtv_journal_kind sched_kind = {
	.name = "sched", .undo = sched_undo, .snapshot = sched_snapshot,
};
RTV_JOURNAL_KIND(sched_kind)

static const struct rtv_journal_kind affinity_kind = {
	.name = "affinity", .undo = affinity_undo, .snapshot = affinity_snapshot,
};
RTV_JOURNAL_KIND(affinity_kind)

int rtv_sched_set(pid_t tid, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = policy == SCHED_OTHER ? 0 : prio };
	int err = journal_sched(tid);

	if (err < 0)
		return err;
	return sched_setscheduler(tid, policy, &sp) ? -errno : 0;
}

int rtv_sched_set_process(pid_t pid, int policy, int prio)
{
	pid_t few[64], *tids = few;
	int n, err = 0;

	n = rtv_proc_threads(pid, tids, 64);
	if (n > 64) { /* many threads: list them again, all of them */
		int max = n, m;

		tids = malloc((size_t)max * sizeof(*tids));
		if (!tids)
			return -ENOMEM;
		m = rtv_proc_threads(pid, tids, max);
		n = m < max ? m : max; /* threads started meanwhile are left out */
	}
	for (int i = 0; i < n && !err; i++)
		err = rtv_sched_set(tids[i], policy, prio);
	if (tids != few)
		free(tids);
	return n < 0 ? n : err;
}

int rtv_sched_set_affinity(pid_t tid, const cpu_set_t *set)
{
	int err = journal_affinity(tid);

	if (err < 0)
		return err;
	return sched_setaffinity(tid, sizeof(*set), set) ? -errno : 0;
}

struct move_ctx {
	const cpu_set_t *away, *to;
	const char *except_cgroup;
	pid_t skip_pid; /* the last process found in except_cgroup */
	int moved;
};

static void move_one(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	struct move_ctx *c = arg;
	cpu_set_t cur, both, next;
	int err;

	if (pid == c->skip_pid || (st->flags & RTV_PF_NO_SETAFFINITY))
		return;
	if (pid == tid && rtv_proc_in_cgroup(pid, c->except_cgroup)) {
		c->skip_pid = pid; /* its threads follow it in the walk */
		return;
	}
	if (sched_getaffinity(tid, sizeof(cur), &cur))
		return;
	CPU_AND(&both, &cur, c->away);
	if (!CPU_COUNT(&both))
		return;
	CPU_XOR(&next, &cur, &both); /* cur without the away CPUs */
	if (!CPU_COUNT(&next))
		next = *c->to;
	err = rtv_sched_set_affinity(tid, &next);
	if (!err)
		c->moved++;
	else if (err != -EINVAL && err != -ESRCH)
		rtv_debug("cannot move thread %d off the RT CPUs: %s", tid, strerror(-err));
}

int rtv_sched_move_others(const cpu_set_t *away, const cpu_set_t *to, const char *except_cgroup)
{
	struct move_ctx c = { .away = away, .to = to, .except_cgroup = except_cgroup };
	char since[32], list[1024];
	int err;

	/* first, for the threads that will be born from moved ones */
	snprintf(since, sizeof(since), "%llu", ticks_now());
	err = rtv_cpulist_format(away, list, sizeof(list)) < 0 ? -ENOSPC :
	      rtv_journal_add("affinity", 3, (const char *const[]){ "*", since, list });
	if (err < 0)
		return err;
	err = rtv_proc_each_thread(move_one, &c);
	return err < 0 ? err : c.moved;
}

int rtv_kthreads_find(const char *pattern, pid_t *tids, int max)
{
	struct rtv_proc_stat st;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0 || rtv_proc_stat_read(pid, 0, &st))
			continue;
		if ((st.flags & RTV_PF_KTHREAD) && !fnmatch(pattern, st.comm, 0))
			tids[n++] = pid;
	}
	closedir(d);
	return n;
}

int rtv_kthreads_of_dev(const char *dev, pid_t *tids, int max)
{
	char pat[64];
	int n;

	snprintf(pat, sizeof(pat), "irq/*-%s*", dev);
	n = rtv_kthreads_find(pat, tids, max);
	if (n < 0)
		return n;
	snprintf(pat, sizeof(pat), "napi/%s-*", dev);
	int m = rtv_kthreads_find(pat, tids + n, max - n);
	return m < 0 ? m : n + m;
}
