#include "host/sched.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/journal.h"

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
