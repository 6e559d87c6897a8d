/* The environments' table and what the rows share: the work directory, the
 * runtimes' mount view, the containers' cgroups, waiting for a program. */
#include "env/env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/rootfs.h"
#include "host/journal.h"
#include "util/file.h"
#include "util/log.h"
#include "util/time.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

const struct rtv_env *const rtv_envs[] = {
	&rtv_env_native, &rtv_env_netns, &rtv_env_crun, &rtv_env_runc, &rtv_env_podman,
	&rtv_env_vm, NULL,
};

const struct rtv_env *rtv_env_find(const char *name)
{
	for (size_t i = 0; rtv_envs[i]; i++)
		if (!strcmp(rtv_envs[i]->name, name))
			return rtv_envs[i];
	return NULL;
}

static void say(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* -- the work directory: kind "envdir" -- */

/* Unmount whatever is mounted at or below dir (a runtime killed before it
 * unmounted its container's shm, say), deepest first. */
static void unmount_below(const char *dir)
{
	char line[1024], dev[256], mnt[512];
	char *list[64];
	int n = 0;
	size_t dl = strlen(dir);
	FILE *m = fopen("/proc/self/mounts", "re");

	if (!m)
		return;
	while (fgets(line, sizeof(line), m) && n < 64)
		if (sscanf(line, "%255s %511s", dev, mnt) == 2 && !strncmp(mnt, dir, dl) &&
		    (mnt[dl] == '/' || !mnt[dl]))
			list[n++] = strdup(mnt);
	fclose(m);
	while (n--) {
		if (list[n])
			umount2(list[n], MNT_DETACH);
		free(list[n]);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) && errno != ENOENT ? -errno : 0;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

static int remove_tree(const char *dir)
{
	int err;

	if (!dir[0] || !strcmp(dir, "/"))
		return -EINVAL;
	unmount_below(dir);
	err = nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (err && errno == ENOENT)
		return RTV_JOURNAL_GONE;
	return err ? -errno : 0;
}

/* "envdir DIR": remove the work directory and everything in it. */
static int envdir_undo(int argc, char **argv)
{
	if (argc < 1 || argv[0][0] != '/')
		return -EINVAL;
	if (access(argv[0], F_OK))
		return RTV_JOURNAL_GONE;
	return remove_tree(argv[0]);
}

static int hierarchies(char mnts[][128], int max);

/* The work directory, the containers' cgroups in every hierarchy, and the
 * directories a runtime makes under /run when it finds none (podman's
 * network state, the runtimes' default state roots): rtvnet's runs must
 * leave none of them behind. */
static int envdir_snapshot(FILE *out)
{
	static const char *const run_dirs[] = { RTV_ENV_DIR, "/run/containers", "/run/crun",
						"/run/runc", "/run/libpod", NULL };
	char mnts[16][128], dir[300];
	int n = hierarchies(mnts, 16);

	for (const char *const *d = run_dirs; *d; d++)
		if (!access(*d, F_OK))
			fprintf(out, "dir %s\n", *d);
	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%.127s/%s", mnts[i], RTV_ENV_CGROUP);
		if (!access(dir, F_OK))
			fprintf(out, "cgroup %s\n", dir);
	}
	return 0;
}

static const struct rtv_journal_kind envdir_kind = {
	.name = "envdir", .undo = envdir_undo, .snapshot = envdir_snapshot,
};
RTV_JOURNAL_KIND(envdir_kind)

/* -- cgroups -- */

/* Every mounted cgroup hierarchy's mount point. */
static int hierarchies(char mnts[][128], int max)
{
	char line[1024], dev[256], mnt[512], type[64];
	int n = 0;
	FILE *m = fopen("/proc/self/mounts", "re");

	if (!m)
		return -errno;
	while (fgets(line, sizeof(line), m) && n < max)
		if (sscanf(line, "%255s %511s %63s", dev, mnt, type) == 3 &&
		    (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")) && strlen(mnt) < 128)
			snprintf(mnts[n++], 128, "%s", mnt);
	fclose(m);
	return n;
}

int rtv_env_journal_cgroups(const char *id)
{
	char mnts[16][128], dir[400];
	int n = hierarchies(mnts, 16), err;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%.127s/%s", mnts[i], RTV_ENV_CGROUP);
		if (access(dir, F_OK) && (err = rtv_journal_add("cgroup", 1, (const char *const[]){ dir })))
			return err;
		if (!id)
			continue;
		snprintf(dir, sizeof(dir), "%.127s/%s/%.64s", mnts[i], RTV_ENV_CGROUP, id);
		if ((err = rtv_journal_add("cgroup", 1, (const char *const[]){ dir })))
			return err;
	}
	return 0;
}

static void kill_and_rmdir(const char *dir)
{
	char path[600], line[32];
	FILE *f;

	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			kill((pid_t)atoi(line), SIGKILL);
		if (f)
			fclose(f);
		if (!rmdir(dir) || errno != EBUSY)
			return;
		usleep(10000); /* a killed task leaves its cgroup asynchronously */
	}
}

static int clear_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_DP && ftw->level > 0)
		kill_and_rmdir(path);
	return 0;
}

int rtv_env_clear_cgroups(void)
{
	char mnts[16][128], dir[300];
	int n = hierarchies(mnts, 16);

	for (int i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%.127s/%s", mnts[i], RTV_ENV_CGROUP);
		if (!access(dir, F_OK))
			nftw(dir, clear_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
	return n < 0 ? n : 0;
}

int rtv_env_end(struct rtv_env_run *r, int ret)
{
	if (r->pidfd >= 0)
		close(r->pidfd);
	r->pidfd = -1;
	rtv_env_clear_cgroups();
	if (rtv_journal_is_open()) {
		int u = rtv_journal_undo_to(r->mark);

		if (u < 0 && !ret)
			ret = u;
	}
	return ret;
}

int rtv_env_journal_run_dirs(void)
{
	static const char *const dirs[] = { "/run/crun", "/run/runc", "/run/containers",
					    "/run/libpod", NULL };
	int err;

	for (const char *const *d = dirs; *d; d++)
		if (access(*d, F_OK) && (err = rtv_journal_add("envdir", 1, (const char *const[]){ *d })))
			return err;
	return 0;
}

/* v1 with RT group scheduling: the RT runtime a container's cpu cgroup may
 * have, what the root's children leave free. */
static void rt_room(struct rtv_envs *e)
{
	char path[300], v[64];
	int64_t used = 0, root;
	struct dirent *de;
	DIR *d;

	e->rt_runtime_us = -1;
	if (rtv_file_read_line("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", v, sizeof(v)) < 0)
		return;
	root = atoll(v);
	if (rtv_file_read_line("/sys/fs/cgroup/cpu/cpu.rt_period_us", v, sizeof(v)) < 0)
		return;
	e->rt_period_us = atoll(v);
	d = opendir("/sys/fs/cgroup/cpu");
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.' || !strcmp(de->d_name, RTV_ENV_CGROUP))
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/cpu/%s/cpu.rt_runtime_us", de->d_name);
		if (rtv_file_read_line(path, v, sizeof(v)) >= 0)
			used += atoll(v);
	}
	if (d)
		closedir(d);
	e->rt_runtime_us = root > used ? root - used : 0;
}

/* v1 RT group scheduling: the containers' parent cpu cgroup, made by
 * rtvnet with the RT runtime its children may have (a runtime makes a
 * missing parent with none, and then cannot give the child any). */
static int rt_parent(struct rtv_envs *e, char *err, size_t len)
{
	char dir[300], path[340], v[32];
	int r, fd;

	if (e->rt_runtime_us < 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/cpu/%s", RTV_CGROUP_ROOT, RTV_ENV_CGROUP);
	r = rtv_journal_add("cgroup", 1, (const char *const[]){ dir });
	if (r < 0 || (mkdir(dir, 0755) && (r = -errno))) {
		snprintf(err, len, "cannot make cgroup '%s': %s", dir, strerror(-r));
		return r;
	}
	/* the directory is rtvnet's own: removing it undoes this too */
	snprintf(path, sizeof(path), "%s/cpu.rt_runtime_us", dir);
	snprintf(v, sizeof(v), "%lld", (long long)e->rt_runtime_us);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	r = fd < 0 || write(fd, v, strlen(v)) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		snprintf(err, len, "cannot give '%s' %s us of RT runtime: %s", dir, v, strerror(-r));
	return r;
}

static bool hybrid_v2_busy(const char *root)
{
	char path[300], v[256];
	struct statfs sf;

	snprintf(path, sizeof(path), "%s/unified", root);
	if (statfs(path, &sf) || (unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC)
		return false;
	snprintf(path, sizeof(path), "%s/unified/cgroup.controllers", root);
	return rtv_file_read_line(path, v, sizeof(v)) == 0 && v[0];
}

int rtv_envs_prepare(struct rtv_envs *e, const char *dir, const char *const *progs, char *err,
		     size_t len)
{
	int r;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "%s", dir ? dir : RTV_ENV_DIR);
	snprintf(e->rootfs, sizeof(e->rootfs), "%s/rootfs", e->dir);
	snprintf(e->out, sizeof(e->out), "%s/out", e->dir);
	r = rtv_cgroup_detect(RTV_CGROUP_ROOT, &e->cg);
	if (r < 0) {
		say(err, len, "no usable cgroup hierarchy at %s", RTV_CGROUP_ROOT);
		return r;
	}
	e->hide_v2 = e->cg.version == 1 && hybrid_v2_busy(RTV_CGROUP_ROOT);
	rt_room(e);
	if (!access(e->dir, F_OK)) {
		say(err, len, "'%s' exists: another run is going on, or `rtvnet revert` is due", e->dir);
		return -EEXIST;
	}
	r = rtv_journal_add("envdir", 1, (const char *const[]){ e->dir });
	if (r < 0) {
		say(err, len, "cannot journal '%s': %s", e->dir, strerror(-r));
		return r;
	}
	if (mkdir(e->dir, 0755) || mkdir(e->out, 0777)) {
		r = -errno;
		say(err, len, "cannot make '%s': %s", e->dir, strerror(-r));
		return r;
	}
	r = rtv_rootfs_build(e->rootfs, progs, err, len);
	if (r < 0)
		return r;
	return rt_parent(e, err, len);
}

/* -- running programs -- */

int rtv_env_hide_v2(void)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (umount2(RTV_CGROUP_ROOT "/unified", MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		return -errno;
	return 0;
}

static void to_fd(int fd, int target)
{
	if (fd < 0) {
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return;
	}
	if (fd != target)
		dup2(fd, target);
}

/* Without the mount view to change, posix_spawn (vfork-like: no copy of
 * rtvnet's address space), as hyperfine runs its commands: a timed command
 * costs what it costs, not what forking rtvnet costs. */
static pid_t spawn(const char *const *argv, int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return err ? -err : pid;
}

int rtv_env_exec(const struct rtv_envs *e, bool hide, const char *const *argv, int out_fd,
		 int err_fd)
{
	int status;
	pid_t pid;

	(void)e;
	{
		char line[1024];
		size_t off = 0;

		for (int i = 0; argv[i] && off < sizeof(line); i++)
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %s", argv[i]);
		rtv_debug("run%s:%s", hide ? " (v2 tree hidden)" : "", line);
	}
	if (!hide) {
		pid = spawn(argv, out_fd, err_fd);
		if (pid == -ENOENT)
			return 127;
	} else {
		pid = fork();
		if (!pid) {
			to_fd(-1, 0);
			to_fd(out_fd, 1);
			to_fd(err_fd, 2);
			if (rtv_env_hide_v2() < 0)
				_exit(126);
			execvp(argv[0], (char *const *)argv);
			_exit(127);
		}
		if (pid < 0)
			pid = -errno;
	}
	if (pid < 0)
		return pid;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	if (!len)
		return 0;
	lseek(fd, 0, SEEK_SET);
	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return (ssize_t)n;
}

int rtv_env_exec_out(const struct rtv_envs *e, bool hide, const char *const *argv, char *buf,
		     size_t len, char *err, size_t errlen)
{
	int out = memfd_create("rtv-out", MFD_CLOEXEC), efd = memfd_create("rtv-err", MFD_CLOEXEC);
	int st = -EMFILE;
	char line[512];

	if (out >= 0 && efd >= 0) {
		st = rtv_env_exec(e, hide, argv, out, efd);
		if (buf)
			read_all(out, buf, len);
		if (st) {
			read_all(efd, line, sizeof(line));
			line[strcspn(line, "\n")] = '\0';
			say(err, errlen, "%s failed (%s%d): %s", argv[0], st < 0 ? "" : "status ",
			    st, line[0] ? line : "no message");
		}
	}
	if (out >= 0)
		close(out);
	if (efd >= 0)
		close(efd);
	return st;
}

pid_t rtv_env_fork_exec(const char *const *argv, const char *out, const char *errout,
			int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		int fd = open(out && out[0] ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int efd = open(errout && errout[0] ? errout : "/dev/null",
			       O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);

		if (fd < 0 || efd < 0 || nul < 0)
			_exit(126);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(efd, 2);
		if (fn && fn(arg))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int rtv_env_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool rtv_env_on_path(const char *prog)
{
	char path[1024];

	return !rtv_path_find(prog, path, sizeof(path));
}

void rtv_env_next_id(struct rtv_envs *e, const struct rtv_env *env, char *id, size_t len)
{
	snprintf(id, len, "rtv-%s-%u", env->name, ++e->seq);
}

int rtv_env_adopt_pidfile(struct rtv_env_run *r, const char *pidfile)
{
	char v[32];
	int err = rtv_file_read_line(pidfile, v, sizeof(v));

	if (err < 0)
		return err;
	r->pid = (pid_t)atoi(v);
	if (r->pid <= 0)
		return -EPROTO;
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	return r->pidfd < 0 ? -errno : 0;
}

int rtv_env_wait(struct rtv_env_run *r, int64_t timeout_ns)
{
	int64_t end = rtv_now_ns() + timeout_ns, left;
	int status;

	for (;;) {
		if (r->child) {
			pid_t w = waitpid(r->child, &status, WNOHANG);

			if (w == r->child || (w < 0 && errno == ECHILD)) {
				r->child = 0;
				return 0;
			}
		} else if (r->pidfd >= 0) {
			struct pollfd p = { .fd = r->pidfd, .events = POLLIN };

			if (poll(&p, 1, 0) > 0)
				return 0;
		} else {
			return 0;
		}
		left = end - rtv_now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		if (r->pidfd >= 0) {
			struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
			int ms = (int)(left / 1000000 + 1);

			poll(&p, 1, ms > 20 ? 20 : ms);
		} else {
			usleep(2000);
		}
	}
}

int rtv_env_kill(struct rtv_envs *e, const struct rtv_env *env, struct rtv_env_run *r)
{
	if (r->pid > 0) {
		if (r->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
		else
			kill(r->pid, SIGKILL);
	}
	rtv_env_wait(r, 5 * RTV_NS_PER_S);
	return env->remove(e, r);
}

char *rtv_env_output(const struct rtv_env_run *r, bool errors)
{
	FILE *f = fopen(errors && !r->podman_log ? r->errout : r->out, "re");
	static char line[65536]; /* conmon writes at most 8 KiB of text per entry */
	char *buf;
	size_t n = 0, cap = 1 << 16;

	if (!f)
		return NULL;
	buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		const char *p = line;
		size_t l;

		if (r->podman_log) { /* "TIME STREAM F|P TEXT": P, a part of a line */
			char *sp = strchr(line, ' ');
			bool part;

			if (!sp || strncmp(sp + 1, errors ? "stderr " : "stdout ", 7))
				continue;
			char *t = strchr(sp + 8, ' ');

			part = sp[8] == 'P';
			if (!t)
				continue;
			p = ++t;
			if (part)
				t[strcspn(t, "\n")] = '\0';
		}
		l = strlen(p);
		if (n + l + 1 > cap) {
			char *nb = realloc(buf, cap * 2 + l);

			if (!nb)
				break;
			buf = nb;
			cap = cap * 2 + l;
		}
		memcpy(buf + n, p, l + 1);
		n += l;
	}
	fclose(f);
	return buf;
}
