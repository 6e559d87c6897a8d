/* podman: `podman run --rootfs` on the run's root filesystem (no image, no
 * registry), with rtvnet's own storage, run and temporary directories in the
 * work directory (never /var/lib/containers), the vfs storage driver, the
 * cgroupfs manager with the parent cgroup RTV_ENV_CGROUP, no event log, a
 * new network namespace with only lo (--network none: no bridge, no
 * firewall rules), the same capabilities, limits and RT runtime as the OCI
 * bundles (oci.c). The program's output goes to a k8s-file log; conmon,
 * which stays for the container's life, is its keeper.
 *
 * Limits: podman gives a container RLIMIT_NOFILE 1048576 and RLIMIT_NPROC
 * pid_max unless told; where root lacks CAP_SYS_RESOURCE (a sandbox), the
 * runtime cannot raise them and the container fails. rtvnet passes its own
 * limits (NPROC no higher than pid_max), as every other environment has. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env/env.h"
#include "host/journal.h"
#include "util/file.h"
#include "util/time.h"

#define MAX_ARGS 48

struct pbuf {
	char root[200], runroot[200], tmp[200], parent[64], nofile[64], nproc[64], rt[2][48];
	char vol[400], log[300], pidfile[300], cpidfile[300], name[48];
};

static size_t base(const struct rtv_envs *e, const char **a, struct pbuf *b)
{
	size_t n = 0;

	snprintf(b->root, sizeof(b->root), "%s/podman/root", e->dir);
	snprintf(b->runroot, sizeof(b->runroot), "%s/podman/run", e->dir);
	snprintf(b->tmp, sizeof(b->tmp), "%s/podman/tmp", e->dir);
	a[n++] = "podman";
	a[n++] = "--root";
	a[n++] = b->root;
	a[n++] = "--runroot";
	a[n++] = b->runroot;
	a[n++] = "--tmpdir";
	a[n++] = b->tmp;
	a[n++] = "--storage-driver=vfs";
	a[n++] = "--cgroup-manager=cgroupfs";
	a[n++] = "--events-backend=none";
	return n;
}

/* The options of create and run, then the program. */
static size_t instance(const struct rtv_envs *e, const char **a, size_t n, struct pbuf *b,
		       const char *name, bool rt, const char *const *argv)
{
	struct rlimit nf, np;
	char v[32];
	long pid_max = 32768;

	getrlimit(RLIMIT_NOFILE, &nf);
	getrlimit(RLIMIT_NPROC, &np);
	if (rtv_file_read_line("/proc/sys/kernel/pid_max", v, sizeof(v)) >= 0)
		pid_max = atol(v);
	if (np.rlim_max == RLIM_INFINITY || np.rlim_max > (rlim_t)pid_max)
		np.rlim_max = (rlim_t)pid_max;
	if (np.rlim_cur > np.rlim_max)
		np.rlim_cur = np.rlim_max;
	snprintf(b->nofile, sizeof(b->nofile), "nofile=%llu:%llu", (unsigned long long)nf.rlim_cur,
		 (unsigned long long)nf.rlim_max);
	snprintf(b->nproc, sizeof(b->nproc), "nproc=%llu:%llu", (unsigned long long)np.rlim_cur,
		 (unsigned long long)np.rlim_max);
	snprintf(b->parent, sizeof(b->parent), "/%s", RTV_ENV_CGROUP);
	snprintf(b->vol, sizeof(b->vol), "%s:/out", e->out);
	a[n++] = "--network=none";
	a[n++] = "--cgroup-parent";
	a[n++] = b->parent;
	a[n++] = "--cap-add=SYS_NICE,IPC_LOCK";
	a[n++] = "--ulimit";
	a[n++] = b->nofile;
	a[n++] = "--ulimit";
	a[n++] = b->nproc;
	a[n++] = "-v";
	a[n++] = b->vol;
	if (rt && e->rt_runtime_us >= 0) {
		snprintf(b->rt[0], sizeof(b->rt[0]), "--cpu-rt-runtime=%lld",
			 (long long)rtv_env_container_rt_us(e));
		snprintf(b->rt[1], sizeof(b->rt[1]), "--cpu-rt-period=%lld",
			 (long long)e->rt_period_us);
		a[n++] = b->rt[0];
		a[n++] = b->rt[1];
	}
	if (name) {
		a[n++] = "--name";
		a[n++] = name;
	}
	a[n++] = "--rootfs"; /* a flag: the "image" is a root filesystem */
	a[n++] = e->rootfs;
	for (size_t i = 0; argv[i] && n + 1 < MAX_ARGS; i++)
		a[n++] = argv[i];
	a[n] = NULL;
	return n;
}

static int podman_detect(const struct rtv_envs *e, char *why, size_t len)
{
	(void)e;
	if (!rtv_env_on_path("podman")) {
		snprintf(why, len, "podman is not installed (Debian package podman)");
		return -ENOENT;
	}
	return 0;
}

static int podman_keepers(const struct rtv_envs *e, const struct rtv_env_run *r, pid_t *pids,
			  int max);

static int podman_remove(struct rtv_envs *e, struct rtv_env_run *r)
{
	static struct pbuf b;
	const char *a[MAX_ARGS];
	size_t n = base(e, a, &b);
	pid_t conmon;
	int ret, fd = -1;

	if (podman_keepers(e, r, &conmon, 1) == 1)
		fd = (int)syscall(SYS_pidfd_open, conmon, 0);
	a[n++] = "rm";
	a[n++] = "-f";
	a[n++] = r->id;
	a[n] = NULL;
	ret = rtv_env_exec(e, e->hide_v2 && rtv_env_podman.hide_v2, a, -1, -1);
	if (fd >= 0) { /* conmon exits on its own once the container is gone */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 5000);
		close(fd);
		waitpid(conmon, NULL, WNOHANG); /* ours when rtvnet is a subreaper */
	}
	return rtv_env_end(r, ret ? -EIO : 0);
}

static int podman_start(struct rtv_envs *e, struct rtv_env_run *r, const char *const *argv,
			char *err, size_t len)
{
	static struct pbuf b;
	const char *a[MAX_ARGS];
	char id[128];
	size_t n;
	int ret;

	r->pidfd = -1;
	r->mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	rtv_env_next_id(e, &rtv_env_podman, r->id, sizeof(r->id));
	snprintf(r->out, sizeof(r->out), "%s/%s.log", e->out, r->id);
	r->podman_log = true;
	if (rtv_journal_is_open() && ((ret = rtv_env_journal_cgroups(NULL)) < 0 || (ret = rtv_env_journal_run_dirs()) < 0))
		return ret;
	n = base(e, a, &b);
	a[n++] = "run";
	a[n++] = "-d";
	a[n++] = "--log-driver=k8s-file";
	snprintf(b.log, sizeof(b.log), "--log-opt=path=%s", r->out);
	a[n++] = b.log;
	snprintf(b.pidfile, sizeof(b.pidfile), "--pidfile=%s/%s.pid", e->dir, r->id);
	a[n++] = b.pidfile;
	snprintf(b.cpidfile, sizeof(b.cpidfile), "--conmon-pidfile=%s/%s.conmon", e->dir, r->id);
	a[n++] = b.cpidfile;
	instance(e, a, n, &b, r->id, true, argv);
	ret = rtv_env_exec_out(e, e->hide_v2 && rtv_env_podman.hide_v2, a, id, sizeof(id), err, len);
	if (ret) {
		podman_remove(e, r);
		return -EIO;
	}
	ret = rtv_env_adopt_pidfile(r, b.pidfile + strlen("--pidfile="));
	if (ret < 0) {
		snprintf(err, len, "podman run %s: no pid (%s)", r->id, strerror(-ret));
		podman_remove(e, r);
		return ret;
	}
	return 0;
}

/* create, start (attached: returns when the program ends), rm: each timed. */
static int podman_once(struct rtv_envs *e, const char *const *argv, int64_t *phase_ns, char *err,
		       size_t len)
{
	static struct pbuf b;
	const char *a[MAX_ARGS];
	char name[48];
	int64_t t0, t1, t2, t3;
	size_t n, mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	int ret;

	rtv_env_next_id(e, &rtv_env_podman, name, sizeof(name));
	if (rtv_journal_is_open() && ((ret = rtv_env_journal_cgroups(NULL)) < 0 || (ret = rtv_env_journal_run_dirs()) < 0))
		return ret;
	n = base(e, a, &b);
	a[n++] = "create";
	instance(e, a, n, &b, name, false, argv);
	t0 = rtv_now_ns();
	ret = rtv_env_exec_out(e, e->hide_v2 && rtv_env_podman.hide_v2, a, NULL, 0, err, len);
	t1 = rtv_now_ns();
	if (!ret) {
		n = base(e, a, &b);
		a[n++] = "start";
		a[n++] = "-a";
		a[n++] = name;
		a[n] = NULL;
		ret = rtv_env_exec_out(e, e->hide_v2 && rtv_env_podman.hide_v2, a, NULL, 0, err, len);
	}
	t2 = rtv_now_ns();
	n = base(e, a, &b);
	a[n++] = "rm";
	a[n++] = "-f";
	a[n++] = name;
	a[n] = NULL;
	if (rtv_env_exec(e, e->hide_v2 && rtv_env_podman.hide_v2, a, -1, -1) && !ret) {
		snprintf(err, len, "podman rm %s failed", name);
		ret = -EIO;
	}
	t3 = rtv_now_ns();
	rtv_env_clear_cgroups();
	if (rtv_journal_is_open()) {
		int u = rtv_journal_undo_to(mark);

		if (u < 0 && !ret)
			ret = u;
	}
	phase_ns[0] = t1 - t0;
	phase_ns[1] = t2 - t1;
	phase_ns[2] = t3 - t2;
	phase_ns[RTV_ENV_PHASES] = t3 - t0;
	return ret > 0 ? -EIO : ret;
}

/* podman ... run --rm ...: one instance, removed at its end. */
static int podman_command(struct rtv_envs *e, const char *const *argv, const char **out,
			  size_t max, char *buf, size_t len)
{
	static struct pbuf b;
	size_t n;
	int ret;

	(void)buf, (void)len;
	if (max < MAX_ARGS)
		return -E2BIG;
	if (rtv_journal_is_open() && ((ret = rtv_env_journal_cgroups(NULL)) < 0 || (ret = rtv_env_journal_run_dirs()) < 0))
		return ret;
	n = base(e, out, &b);
	out[n++] = "run";
	out[n++] = "--rm";
	instance(e, out, n, &b, NULL, false, argv);
	return 0;
}

static int podman_keepers(const struct rtv_envs *e, const struct rtv_env_run *r, pid_t *pids,
			  int max)
{
	char path[300], v[32];

	snprintf(path, sizeof(path), "%s/%s.conmon", e->dir, r->id);
	if (max < 1 || rtv_file_read_line(path, v, sizeof(v)) < 0 || atoi(v) <= 0)
		return 0;
	pids[0] = (pid_t)atoi(v);
	return 1;
}

const struct rtv_env rtv_env_podman = {
	.name = "podman",
	.what = "podman run --rootfs (conmon, and crun or runc as podman is set up)",
	.program = "podman",
	.hide_v2 = true,
	.phase = { "create", "start", "delete", NULL },
	.detect = podman_detect,
	.start = podman_start,
	.remove = podman_remove,
	.once = podman_once,
	.command = podman_command,
	.keepers = podman_keepers,
};
