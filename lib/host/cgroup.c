#include "host/cgroup.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/journal.h"

static bool exists(const char *dir, const char *file)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

int rtv_cgroup_detect(const char *root, struct rtv_cgroups *cg)
{
	char p[300];

	snprintf(cg->root, sizeof(cg->root), "%s", root);
	if (exists(root, "cgroup.controllers")) {
		cg->version = 2;
		return 0;
	}
	snprintf(p, sizeof(p), "%s/cpuset", root);
	if (exists(p, "cpuset.cpus")) {
		snprintf(p, sizeof(p), "%s/cpuacct", root);
		if (exists(p, "cpuacct.usage")) {
			cg->version = 1;
			return 0;
		}
	}
	return -ENOTSUP;
}

void rtv_cgroup_path(const struct rtv_cgroups *cg, const char *ctrl, const char *name,
		     char *buf, size_t len)
{
	if (cg->version == 2)
		snprintf(buf, len, "%s/%s", cg->root, name);
	else
		snprintf(buf, len, "%s/%s/%s", cg->root, ctrl, name);
}

/* `oflags` adds to O_WRONLY, as O_CREAT for the files of a fresh directory. */
static int write_str(const char *path, const char *s, int oflags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | oflags, 0644), err = 0;
	size_t len = strlen(s);

	if (fd < 0)
		return -errno;
	if (write(fd, s, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

static void parent_of(const char *dir, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", dir);
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

static int make_dir(const char *dir)
{
	int err;

	if (!access(dir, F_OK))
		return -EEXIST;
	err = rtv_journal_add("cgroup", 1, (const char *const[]){ dir });
	if (err < 0)
		return err;
	return mkdir(dir, 0755) ? -errno : 0;
}

/* v2: the parent must delegate a controller before a child can use it. */
static int enable_controller(const char *parent, const char *ctrl)
{
	char path[512], cur[512], tok[64];
	char *p;
	size_t n = strlen(ctrl);
	int err;

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", parent);
	err = rtv_file_read_line(path, cur, sizeof(cur));
	if (err < 0)
		return err;
	for (p = strstr(cur, ctrl); p; p = strstr(p + 1, ctrl))
		if ((p == cur || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 0; /* already enabled */
	err = rtv_journal_add("cgroupctl", 2, (const char *const[]){ path, ctrl });
	if (err < 0)
		return err;
	snprintf(tok, sizeof(tok), "+%s", ctrl);
	return write_str(path, tok, 0);
}

int rtv_cgroup_create(const struct rtv_cgroups *cg, const char *name)
{
	static const char *const v1_ctrls[] = { "cpuset", "cpuacct" };
	char dir[512], parent[512], val[1024], path[600];
	int err;

	if (cg->version == 2) {
		rtv_cgroup_path(cg, NULL, name, dir, sizeof(dir));
		parent_of(dir, parent, sizeof(parent));
		err = enable_controller(parent, "cpuset");
		if (!err)
			err = enable_controller(parent, "cpu");
		if (err < 0)
			return err;
		return make_dir(dir);
	}
	for (size_t i = 0; i < 2; i++) {
		rtv_cgroup_path(cg, v1_ctrls[i], name, dir, sizeof(dir));
		err = make_dir(dir);
		if (err < 0)
			return err;
		if (i != 0)
			continue;
		/* a v1 cpuset takes no task until cpus and mems are set */
		parent_of(dir, parent, sizeof(parent));
		for (int k = 0; k < 2; k++) {
			const char *file = k ? "cpuset.mems" : "cpuset.cpus";

			snprintf(path, sizeof(path), "%s/%s", parent, file);
			err = rtv_file_read_line(path, val, sizeof(val));
			if (err < 0)
				return err;
			/* cgroupfs made the file with the directory, so O_CREAT
			 * changes nothing there; a fake tree in a test needs it */
			snprintf(path, sizeof(path), "%s/%s", dir, file);
			err = write_str(path, val, O_CREAT);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int rtv_cgroup_attach(const struct rtv_cgroups *cg, const char *name, pid_t pid)
{
	static const char *const v1_ctrls[] = { "cpuset", "cpuacct", "cpu" };
	char dir[512], path[600], val[32];
	int err;

	snprintf(val, sizeof(val), "%d", pid);
	for (size_t i = 0; i < (cg->version == 2 ? 1u : 3u); i++) {
		rtv_cgroup_path(cg, v1_ctrls[i], name, dir, sizeof(dir));
		if (i == 2 && access(dir, F_OK))
			break; /* no reservation made a v1 cpu cgroup for it */
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		err = write_str(path, val, 0);
		if (err < 0)
			return err;
	}
	return 0;
}

int rtv_cgroup_set_cpus(const struct rtv_cgroups *cg, const char *name, const char *cpus)
{
	char dir[512], path[600];

	rtv_cgroup_path(cg, "cpuset", name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
	return rtv_host_write(path, cpus);
}

int rtv_cgroup_usage_ns(const struct rtv_cgroups *cg, const char *name, uint64_t *ns)
{
	char dir[512], path[600], line[256];
	FILE *f;
	int err;

	if (cg->version == 1) {
		rtv_cgroup_path(cg, "cpuacct", name, dir, sizeof(dir));
		snprintf(path, sizeof(path), "%s/cpuacct.usage", dir);
		err = rtv_file_read_line(path, line, sizeof(line));
		if (err < 0)
			return err;
		*ns = strtoull(line, NULL, 10);
		return 0;
	}
	rtv_cgroup_path(cg, NULL, name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = -ENODATA;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long us;

		if (sscanf(line, "usage_usec %llu", &us) == 1) {
			*ns = us * 1000;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int rtv_cgroup_v2_dir(const char *root, const char *name, bool create, char *buf, size_t len)
{
	char base[300], dir[512];
	int err;

	if (!name[0] || name[0] == '/' || strstr(name, "..") || strstr(name, "//") ||
	    name[strlen(name) - 1] == '/')
		return -EINVAL;
	if (exists(root, "cgroup.controllers"))
		snprintf(base, sizeof(base), "%s", root);
	else if (snprintf(base, sizeof(base), "%s/unified", root), exists(base, "cgroup.controllers"))
		;
	else
		return -ENOTSUP;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, name) >= sizeof(dir) ||
	    strlen(dir) >= len)
		return -ENAMETOOLONG;
	snprintf(buf, len, "%s", dir);
	if (!access(dir, F_OK))
		return 0;
	if (!create)
		return -ENOENT;
	/* each missing level, top down */
	for (char *p = dir + strlen(base) + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		err = access(dir, F_OK) ? make_dir(dir) : 0;
		*p = c;
		if (err < 0)
			return err;
		if (!c)
			return 0;
	}
}

/* ---- journal kinds ---- */

static int kill_tasks(const char *dir)
{
	char path[512], buf[32];
	FILE *f;
	int found;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int rounds = 0; rounds < 100; rounds++) {
		f = fopen(path, "re");
		if (!f)
			return errno == ENOENT ? 0 : -errno;
		found = 0;
		while (fgets(buf, sizeof(buf), f)) {
			pid_t pid = (pid_t)atoi(buf);

			if (pid > 0 && pid != getpid()) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, WNOHANG);
				found++;
			}
		}
		fclose(f);
		if (!found)
			return 0;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return -EBUSY;
}

/* "cgroup DIR": kill its tasks, remove it. */
static int remove_dir(const char *dir)
{
	int err = 0;

	kill_tasks(dir);
	for (int i = 0; i < 50; i++) { /* a killed task leaves its cgroup asynchronously */
		if (!rmdir(dir) || errno == ENOENT)
			return 0;
		err = -errno;
		if (errno != EBUSY)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return err;
}

static int undo_child(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_DP && ftw->level > 0)
		remove_dir(path);
	return 0;
}

static int dir_undo(int argc, char **argv)
{
	if (argc < 1 || argv[0][0] != '/')
		return -EINVAL;
	if (access(argv[0], F_OK))
		return RTV_JOURNAL_GONE;
	/* children first: made below rtvnet's cgroup by what rtvnet started
	 * (a container runtime's, podman's conmon) */
	nftw(argv[0], undo_child, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return remove_dir(argv[0]);
}

/* "cgroupctl FILE CONTROLLER": disable the controller enabled in a v2
 * cgroup.subtree_control. */
static int ctl_undo(int argc, char **argv)
{
	char tok[64];
	int err;

	if (argc < 2)
		return -EINVAL;
	snprintf(tok, sizeof(tok), "-%s", argv[1]);
	err = write_str(argv[0], tok, O_TRUNC);
	return err == -ENOENT ? RTV_JOURNAL_GONE : err;
}

/* The files of a cgroup rtvnet may write, whose values the snapshot prints
 * (cgroup.subtree_control is the cgroupctl kind's). */
static const char *const control_files[] = {
	"cpuset.cpus", "cpuset.mems", "cpuset.cpus.partition", "cpuset.cpu_exclusive",
	"cpuset.sched_load_balance", "cpu.max", "cpu.weight", "cpu.shares", "cpu.cfs_quota_us",
	"cpu.cfs_period_us", "cpu.rt_runtime_us", "cpu.rt_period_us", NULL
};
static const char *const subtree_files[] = { "cgroup.subtree_control", NULL };

static struct {
	FILE *out;
	const char *const *files;
	bool dirs;
} snap;

static int snap_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char p[600], v[512];

	(void)st, (void)ftw;
	if (flag != FTW_D)
		return 0;
	if (snap.dirs)
		fprintf(snap.out, "dir %s\n", path);
	for (const char *const *f = snap.files; *f; f++) {
		snprintf(p, sizeof(p), "%s/%s", path, *f);
		if (rtv_file_read_line(p, v, sizeof(v)) >= 0)
			fprintf(snap.out, "file %s %s\n", p, v);
	}
	return 0;
}

/* Whether a v1 hierarchy's mount options name a controller rtvnet uses
 * (cpu, cpuacct, cpuset): the others (memory, pids...) it never touches. */
static bool v1_used(char *opts)
{
	char *save = NULL;

	for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, "cpu") || !strcmp(t, "cpuacct") || !strcmp(t, "cpuset"))
			return true;
	return false;
}

/* Walk every cgroup v2 hierarchy and the v1 ones of the controllers rtvnet
 * uses. */
static int walk_cgroups(FILE *out, const char *const *files, bool dirs)
{
	char line[1024], dev[256], mnt[512], type[64], o[512];
	FILE *m = fopen("/proc/self/mounts", "re");

	if (!m)
		return -errno;
	snap.out = out;
	snap.files = files;
	snap.dirs = dirs;
	while (fgets(line, sizeof(line), m))
		if (sscanf(line, "%255s %511s %63s %511s", dev, mnt, type, o) == 4 &&
		    (!strcmp(type, "cgroup2") || (!strcmp(type, "cgroup") && v1_used(o))))
			nftw(mnt, snap_dir, 16, FTW_PHYS | FTW_MOUNT);
	fclose(m);
	return 0;
}

/* Every directory of every cgroup hierarchy, with its control files. */
static int dir_snapshot(FILE *out)
{
	return walk_cgroups(out, control_files, true);
}

/* The controllers every v2 cgroup enables for its children. */
static int ctl_snapshot(FILE *out)
{
	return walk_cgroups(out, subtree_files, false);
}

static const char *const cgroup_files[] = { RTV_CGROUP_ROOT "/*", NULL };

static const struct rtv_journal_kind dir_kind = {
	.name = "cgroup", .undo = dir_undo, .snapshot = dir_snapshot, .files = cgroup_files,
};
RTV_JOURNAL_KIND(dir_kind)

static const struct rtv_journal_kind ctl_kind = {
	.name = "cgroupctl", .undo = ctl_undo, .snapshot = ctl_snapshot,
};
RTV_JOURNAL_KIND(ctl_kind)
