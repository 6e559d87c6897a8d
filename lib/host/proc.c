#include "host/proc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/journal.h"

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
	st->state = *p;
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

int rtv_proc_each_thread(void (*fn)(pid_t pid, pid_t tid, const struct rtv_proc_stat *st,
				    void *arg),
			 void *arg)
{
	char path[64];
	struct dirent *de, *te;
	DIR *d = opendir("/proc"), *td;
	struct rtv_proc_stat st;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		td = opendir(path);
		if (!td)
			continue;
		while ((te = readdir(td))) {
			pid_t tid = (pid_t)atoi(te->d_name);

			/* a zombie is dead: only its parent's wait is missing */
			if (tid > 0 && !rtv_proc_stat_read(pid, tid, &st) && st.state != 'Z' &&
			    st.state != 'X')
				fn(pid, tid, &st, arg);
		}
		closedir(td);
	}
	closedir(d);
	return 0;
}

int rtv_proc_journal_add(pid_t pid)
{
	char a[2][32];

	snprintf(a[0], 32, "%d", pid);
	snprintf(a[1], 32, "%llu", rtv_proc_starttime(pid, 0));
	return rtv_journal_add("process", 2, (const char *const[]){ a[0], a[1] });
}

/* "process PID STARTTIME": kill it if it is still the one rtvnet started. */
static int proc_undo(int argc, char **argv)
{
	pid_t pid;

	if (argc < 2)
		return -EINVAL;
	if (!rtv_journal_same_task(argv[0], argv[1]))
		return RTV_JOURNAL_GONE;
	pid = (pid_t)atoi(argv[0]);
	if (kill(pid, SIGKILL) && errno != ESRCH)
		return -errno;
	waitpid(pid, NULL, 0); /* reaps it when it is our child */
	return 0;
}

/* The programs rtvnet starts or stands beside (its own services, the
 * reference tools, container runtimes, the tests' tools). */
static const char *const started[] = {
	"rtvnet", "iperf3", "sockperf", "rt-app", "cyclictest", "crun", "runc", "conmon",
	"podman", "poller_tool", "napi_tool", "rtv-rtclient", "rtv-rtserver", "rtv-src",
	"rtv-sink", "rtv-hog", NULL
};

bool rtv_proc_is_self_or_ancestor(pid_t pid)
{
	static pid_t chain[64];
	static int n;
	struct rtv_proc_stat st;

	if (!n)
		for (pid_t p = getpid(); p > 1 && n < 64; p = st.ppid) {
			chain[n++] = p;
			if (rtv_proc_stat_read(p, 0, &st))
				break;
		}
	for (int i = 0; i < n; i++)
		if (chain[i] == pid)
			return true;
	return false;
}

struct proc_snap {
	FILE *out;
	unsigned long long ns[256]; /* inodes of the named network namespaces */
	int nns;
};

static unsigned long long net_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (unsigned long long)st.st_ino;
}

static void put_proc(pid_t pid, pid_t tid, const struct rtv_proc_stat *st, void *arg)
{
	struct proc_snap *c = arg;
	char path[64], why[64] = "";

	if (pid != tid || (st->flags & RTV_PF_KTHREAD) || rtv_proc_is_self_or_ancestor(pid))
		return;
	for (const char *const *s = started; *s; s++)
		if (!strcmp(st->comm, *s))
			snprintf(why, sizeof(why), "program");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	unsigned long long ino = net_ino(path);

	for (int i = 0; ino && i < c->nns; i++)
		if (c->ns[i] == ino)
			snprintf(why, sizeof(why), "in a named network namespace");
	if (!why[0] && rtv_proc_in_cgroup(pid, "/rtvnet"))
		snprintf(why, sizeof(why), "in an rtvnet cgroup");
	if (why[0])
		fprintf(c->out, "%s %d (%s)\n", st->comm, pid, why);
}

/* Processes rtvnet may have started and left behind: its programs, any
 * process in a named network namespace or in an rtvnet cgroup. */
static int proc_snapshot(FILE *out)
{
	struct proc_snap c = { .out = out };
	struct dirent *de;
	DIR *d;

	d = opendir("/run/netns");
	if (d) {
		char path[300];

		while ((de = readdir(d)) && c.nns < 256) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			c.ns[c.nns] = net_ino(path);
			if (c.ns[c.nns] && c.ns[c.nns] != net_ino("/proc/1/ns/net"))
				c.nns++;
		}
		closedir(d);
	}
	return rtv_proc_each_thread(put_proc, &c);
}

static const struct rtv_journal_kind proc_kind = {
	.name = "process", .undo = proc_undo, .snapshot = proc_snapshot,
};
RTV_JOURNAL_KIND(proc_kind)
