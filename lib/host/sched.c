#include "host/sched.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/journal.h"
#include "util/log.h"

int rtv_sched_policy_parse(const char *s, int *policy)
{
	if (!strcmp(s, "other"))
		*policy = SCHED_OTHER;
	else if (!strcmp(s, "fifo"))
		*policy = SCHED_FIFO;
	else if (!strcmp(s, "rr"))
		*policy = SCHED_RR;
	else
		return -EINVAL;
	return 0;
}

const char *rtv_sched_policy_name(int policy)
{
	switch (policy) {
	case SCHED_OTHER: return "other";
	case SCHED_FIFO: return "fifo";
	case SCHED_RR: return "rr";
	case SCHED_BATCH: return "batch";
	case SCHED_IDLE: return "idle";
	default: return "unknown";
	}
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
	char path[64];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && !err) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid > 0)
			err = rtv_sched_set(tid, policy, prio);
	}
	closedir(d);
	return err;
}

int rtv_sched_set_affinity(pid_t tid, const cpu_set_t *set)
{
	int err = rtv_journal_save_affinity(tid);

	if (err < 0)
		return err;
	return sched_setaffinity(tid, sizeof(*set), set) ? -errno : 0;
}

/* flags of a task (field 9 of stat), or 0 */
static unsigned long task_flags(pid_t pid, pid_t tid)
{
	char path[96], buf[1024], *p;
	unsigned long flags = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	for (int i = 0; p && i < 7; i++)
		p = strchr(p + 1, ' ');
	if (p)
		flags = strtoul(p + 1, NULL, 10);
	return flags;
}

static bool in_cgroup(pid_t pid, const char *needle)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
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

		if (pid <= 0 || (except_cgroup && in_cgroup(pid, except_cgroup)))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		td = opendir(path);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			pid_t tid = (pid_t)atoi(te->d_name);
			cpu_set_t cur, both, next;

			if (tid <= 0 || (task_flags(pid, tid) & 0x04000000)) /* PF_NO_SETAFFINITY */
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
	char path[300], comm[64], stat[512];
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		FILE *f;
		char *p;
		unsigned long flags = 0;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(stat, sizeof(stat), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		p = strchr(stat, '(');
		if (!p)
			continue;
		snprintf(comm, sizeof(comm), "%.*s", (int)(strrchr(stat, ')') - p - 1), p + 1);
		p = strrchr(stat, ')');
		/* field 9 (flags) is the 7th after the comm */
		for (int i = 0; p && i < 7; i++)
			p = strchr(p + 1, ' ');
		if (p)
			flags = strtoul(p + 1, NULL, 10);
		if (!(flags & 0x00200000)) /* PF_KTHREAD */
			continue;
		if (fnmatch(pattern, comm, 0))
			continue;
		if (n < max)
			tids[n] = pid;
		n++;
	}
	closedir(d);
	return n < max ? n : max;
}
