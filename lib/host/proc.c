#include "host/proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rtv_proc_stat_read(pid_t pid, pid_t tid, struct rtv_proc_stat *st)
{
	char path[96], buf[1024], *open_paren, *p;
	unsigned long long f[23] = { 0 };
	FILE *fp;
	int i;

	if (tid && tid != pid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses */
	if (!p || !(open_paren = strchr(buf, '(')) || !(p = strrchr(buf, ')')))
		return -EINVAL;
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(p - open_paren - 1), open_paren + 1);
	p += 2; /* field 3, the state letter */
	p = strchr(p, ' ');
	for (i = 4; p && i <= 22; i++) /* f[i] holds field i */
		f[i] = strtoull(p + 1, &p, 10);
	if (i <= 22)
		return -EINVAL;
	st->ppid = (pid_t)f[4];
	st->flags = (unsigned long)f[9];
	st->utime = f[14];
	st->stime = f[15];
	st->starttime = f[22];
	return 0;
}

bool rtv_proc_in_cgroup(pid_t pid, const char *needle)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	if (!needle)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

int rtv_proc_threads(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (n < max)
			tids[n] = tid;
		n++;
	}
	closedir(d);
	return n;
}

long long rtv_proc_cpu_ns(pid_t pid)
{
	char path[64];
	long long ns = 0;
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lld", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}
