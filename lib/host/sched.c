#include "host/sched.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

int rtv_sched_set(pid_t tid, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = policy == SCHED_OTHER ? 0 : prio };
	int err = rtv_journal_save_sched(tid);

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
	int err = rtv_journal_save_affinity(tid);

	if (err < 0)
		return err;
	return sched_setaffinity(tid, sizeof(*set), set) ? -errno : 0;
}

int rtv_sched_move_others(const cpu_set_t *away, const cpu_set_t *to, const char *except_cgroup)
{
	char path[96];
	struct dirent *de, *te;
	DIR *d = opendir("/proc"), *td;
	int moved = 0, err;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0 || rtv_proc_in_cgroup(pid, except_cgroup))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		td = opendir(path);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			pid_t tid = (pid_t)atoi(te->d_name);
			struct rtv_proc_stat st;
			cpu_set_t cur, both, next;

			if (tid <= 0 || rtv_proc_stat_read(pid, tid, &st) ||
			    (st.flags & RTV_PF_NO_SETAFFINITY))
				continue;
			if (sched_getaffinity(tid, sizeof(cur), &cur))
				continue;
			CPU_AND(&both, &cur, away);
			if (!CPU_COUNT(&both))
				continue;
			CPU_XOR(&next, &cur, &both); /* cur without the away CPUs */
			if (!CPU_COUNT(&next))
				next = *to;
			err = rtv_sched_set_affinity(tid, &next);
			if (!err)
				moved++;
			else if (err != -EINVAL && err != -ESRCH)
				rtv_debug("cannot move thread %d off the RT CPUs: %s", tid, strerror(-err));
		}
		closedir(td);
	}
	closedir(d);
	return moved;
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
