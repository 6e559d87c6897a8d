#include "host/cpuload.h"
#include "host/proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/time.h"

static int read_proc_stat(struct rtv_cpuload_snap *s)
{
	char line[512];
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return -errno;
	s->ncpus = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[RTV_CPU_NFIELDS] = { 0 };
		int cpu;

		if (strncmp(line, "cpu", 3) || line[3] == ' ')
			continue;
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 9)
			continue;
		if (cpu < 0 || cpu >= RTV_CPUS_MAX)
			continue;
		for (int i = 0; i < RTV_CPU_NFIELDS; i++)
			s->cpu[cpu][i] = v[i];
		if (cpu + 1 > s->ncpus)
			s->ncpus = cpu + 1;
	}
	fclose(f);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct rtv_task_ticks *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int rtv_cpuload_snap_cpus(struct rtv_cpuload_snap *s)
{
	s->t_ns = rtv_now_ns();
	s->ntasks = 0;
	return read_proc_stat(s);
}

int rtv_cpuload_snap(struct rtv_cpuload_snap *s, pid_t self, const char *ours_cgroup)
{
	struct dirent *de;
	DIR *d;
	int err;

	s->t_ns = rtv_now_ns();
	err = read_proc_stat(s);
	if (err < 0)
		return err;
	s->ntasks = 0;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		struct rtv_proc_stat st;
		struct rtv_task_ticks *t;

		if (pid <= 0 || rtv_proc_stat_read(pid, 0, &st))
			continue;
		if (s->ntasks == s->cap) {
			int cap = s->cap ? s->cap * 2 : 512;
			void *n = realloc(s->tasks, (size_t)cap * sizeof(*s->tasks));

			if (!n) {
				closedir(d);
				return -ENOMEM;
			}
			s->tasks = n;
			s->cap = cap;
		}
		t = &s->tasks[s->ntasks++];
		t->pid = pid;
		t->ticks = st.utime + st.stime;
		t->start = st.starttime;
		if (st.flags & RTV_PF_KTHREAD)
			t->kind = 1;
		else if (pid == self || st.ppid == self || rtv_proc_in_cgroup(pid, ours_cgroup))
			t->kind = 2;
		else
			t->kind = 0;
	}
	closedir(d);
	qsort(s->tasks, (size_t)s->ntasks, sizeof(*s->tasks), cmp_pid);
	return 0;
}

void rtv_cpuload_snap_release(struct rtv_cpuload_snap *s)
{
	if (!s)
		return;
	free(s->tasks);
	s->tasks = NULL;
	s->ntasks = s->cap = 0;
}

void rtv_cpuload_diff(const struct rtv_cpuload_snap *a, const struct rtv_cpuload_snap *b,
		      struct rtv_cpuload *out)
{
	double hz = (double)sysconf(_SC_CLK_TCK), secs = (double)(b->t_ns - a->t_ns) / 1e9;
	uint64_t tot_all = 0, idle_all = 0, soft_all = 0;
	double kinds[3] = { 0 };
	int j = 0;

	memset(out, 0, sizeof(*out));
	out->ncpus = b->ncpus;
	for (int c = 0; c < b->ncpus; c++) {
		uint64_t tot = 0, idle, soft;

		for (int i = 0; i < RTV_CPU_NFIELDS; i++)
			tot += b->cpu[c][i] - a->cpu[c][i];
		idle = (b->cpu[c][RTV_CPU_IDLE] - a->cpu[c][RTV_CPU_IDLE]) +
		       (b->cpu[c][RTV_CPU_IOWAIT] - a->cpu[c][RTV_CPU_IOWAIT]);
		soft = b->cpu[c][RTV_CPU_SOFTIRQ] - a->cpu[c][RTV_CPU_SOFTIRQ];
		out->cpu_busy_pct[c] = tot ? 100.0 * (double)(tot - idle) / (double)tot : 0;
		tot_all += tot;
		idle_all += idle;
		soft_all += soft;
	}
	out->busy_pct = tot_all ? 100.0 * (double)(tot_all - idle_all) / (double)tot_all : 0;
	out->softirq_pct = tot_all ? 100.0 * (double)soft_all / (double)tot_all : 0;
	/* tasks present at the end: their ticks since the start, or since they
	 * began when they are new (tasks that ended in between are not seen) */
	for (int i = 0; i < b->ntasks; i++) {
		const struct rtv_task_ticks *t = &b->tasks[i];
		unsigned long long before = 0;

		while (j < a->ntasks && a->tasks[j].pid < t->pid)
			j++;
		if (j < a->ntasks && a->tasks[j].pid == t->pid && a->tasks[j].start == t->start)
			before = a->tasks[j].ticks;
		if (t->ticks >= before)
			kinds[t->kind] += (double)(t->ticks - before);
	}
	if (secs > 0) {
		out->foreign_pct = 100.0 * kinds[0] / hz / secs;
		out->kthread_pct = 100.0 * kinds[1] / hz / secs;
		out->ours_pct = 100.0 * kinds[2] / hz / secs;
	}
}

/* ---- /proc/softirqs ---- */

int rtv_softirqs_read(const char *path, const char *row, uint64_t *per_cpu, int max)
{
	char *line = NULL, *p, *end;
	size_t cap = 0, rlen;
	int ncpu = 0, err = -ENOENT;
	FILE *f;

	if (!path || !row || !*row || max < 0 || (!per_cpu && max > 0))
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (getline(&line, &cap, f) < 0) {
		err = ferror(f) ? -EIO : -EINVAL;
		goto out;
	}
	/* "                    CPU0       CPU1       " */
	for (p = line;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		if (strncmp(p, "CPU", 3)) {
			err = -EINVAL;
			goto out;
		}
		ncpu++;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	if (ncpu == 0) {
		err = -EINVAL;
		goto out;
	}
	rlen = strlen(row);
	while (getline(&line, &cap, f) >= 0) {
		/* "      NET_RX:   60905410   50006979" */
		p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, row, rlen) || p[rlen] != ':')
			continue;
		p += rlen + 1;
		for (int i = 0; i < ncpu; i++) {
			unsigned long long v;

			while (*p == ' ' || *p == '\t')
				p++;
			if (!isdigit((unsigned char)*p)) {
				err = -EINVAL;
				goto out;
			}
			errno = 0;
			v = strtoull(p, &end, 10);
			if (errno) {
				err = -EINVAL;
				goto out;
			}
			p = end;
			if (i < max)
				per_cpu[i] = v;
		}
		err = ncpu;
		goto out;
	}
	if (ferror(f))
		err = -EIO;
out:
	free(line);
	fclose(f);
	return err;
}
