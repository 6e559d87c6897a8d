/* crun and runc: an OCI bundle per instance, its root filesystem the run's
 * (read-only, /out bound read-write), a new pid, network, ipc, uts and
 * mount namespace, the cgroup RTV_ENV_CGROUP/ID (cgroupfs, journaled before
 * the runtime makes it), the capabilities an RT program needs (CAP_SYS_NICE
 * for SCHED_FIFO, CAP_IPC_LOCK for mlockall) and, under v1 RT group
 * scheduling, RT runtime for its cpu cgroup. The runtime's state lives in
 * the work directory. The program's stdout and stderr pass through the
 * runtime to a file; its pid comes from --pid-file.
 *
 * crun 1.8 refuses a hybrid cgroup host (v1 controllers, a v2 tree holding
 * some): it runs where that tree is unmounted (rtv_env_hide_v2), which
 * changes nothing outside its own process. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env/env.h"
#include "host/journal.h"
#include "util/time.h"

#define MAX_ARGS 24

static bool is_crun(const struct rtv_env *env)
{
	return env == &rtv_env_crun;
}

static bool hide(const struct rtv_envs *e, const struct rtv_env *env)
{
	return env->hide_v2 && e->hide_v2;
}

/* PROG --root STATE [--cgroup-manager=cgroupfs] */
static size_t base(const struct rtv_envs *e, const struct rtv_env *env, const char **a, char *buf,
		   size_t len)
{
	size_t n = 0;

	snprintf(buf, len, "%s/state-%s", e->dir, env->name);
	a[n++] = env->program;
	a[n++] = "--root";
	a[n++] = buf;
	if (is_crun(env))
		a[n++] = "--cgroup-manager=cgroupfs";
	return n;
}

/* PROG ... create --bundle B --pid-file P ID */
static void create_argv(const struct rtv_envs *e, const struct rtv_env *env, const char **a,
			char *sbuf, size_t slen, const char *bundle_dir, const char *pidfile,
			const char *id)
{
	size_t n = base(e, env, a, sbuf, slen);

	a[n++] = "create";
	a[n++] = "--bundle";
	a[n++] = bundle_dir;
	a[n++] = "--pid-file";
	a[n++] = pidfile;
	a[n++] = id;
	a[n] = NULL;
}

static json_t *strings(const char *const *v)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *mount_of(const char *dst, const char *type, const char *src, const char *const *opt)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
			 "options", strings(opt));
}

/* The bundle's config.json: the OCI runtime spec's required parts, no more. */
int rtv_env_oci_config(const struct rtv_envs *e, const char *id, const char *const *argv,
		       bool rt, const char *path)
{
	static const char *const caps[] = { "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE",
					    "CAP_SYS_NICE", "CAP_IPC_LOCK", NULL };
	static const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	char cgpath[128];
	json_t *c, *capj, *linux_, *mounts, *res = json_object();
	int err;

	snprintf(cgpath, sizeof(cgpath), "/%s/%s", RTV_ENV_CGROUP, id);
	capj = json_pack("{s:o, s:o, s:o}", "bounding", strings(caps), "effective", strings(caps),
			 "permitted", strings(caps));
	mounts = json_array();
	json_array_append_new(mounts, mount_of("/proc", "proc", "proc", NULL));
	json_array_append_new(mounts, mount_of("/dev", "tmpfs", "tmpfs",
					       (const char *const[]){ "nosuid", "strictatime",
								       "mode=755", "size=65536k",
								       NULL }));
	json_array_append_new(mounts, mount_of("/sys", "sysfs", "sysfs",
					       (const char *const[]){ "nosuid", "noexec", "nodev",
								       "ro", NULL }));
	json_array_append_new(mounts, mount_of("/out", "bind", e->out,
					       (const char *const[]){ "rbind", "rw", NULL }));
	if (rt && e->rt_runtime_us >= 0)
		json_object_set_new(res, "cpu",
				    json_pack("{s:I, s:I}", "realtimeRuntime",
					      (json_int_t)rtv_env_container_rt_us(e), "realtimePeriod",
					      (json_int_t)e->rt_period_us));
	linux_ = json_pack("{s:[{s:s},{s:s},{s:s},{s:s},{s:s}], s:s, s:o}", "namespaces", "type",
			   "pid", "type", "network", "type", "ipc", "type", "uts", "type", "mount",
			   "cgroupsPath", cgpath, "resources", res);
	c = json_pack("{s:s, s:{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:o, s:b}, s:{s:s, s:b}, s:s, "
		      "s:o, s:o}",
		      "ociVersion", "1.0.2", "process", "terminal", 0, "user", "uid", 0, "gid", 0,
		      "args", strings(argv), "env", strings(env), "cwd", "/", "capabilities", capj,
		      "noNewPrivileges", 1, "root", "path", e->rootfs, "readonly", 1, "hostname", id,
		      "mounts", mounts, "linux", linux_);
	if (!c)
		return -ENOMEM;
	err = json_dump_file(c, path, JSON_INDENT(2)) ? -EIO : 0;
	json_decref(c);
	return err;
}

static int bundle(const struct rtv_envs *e, const char *id, const char *const *argv, bool rt,
		  char *dir, size_t len)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/bundles", e->dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	snprintf(dir, len, "%s/bundles/%s", e->dir, id);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	return rtv_env_oci_config(e, id, argv, rt, path);
}

static int oci_detect(const struct rtv_env *env, const struct rtv_envs *e, char *why, size_t len)
{
	(void)e;
	if (!rtv_env_on_path(env->program)) {
		snprintf(why, len, "%s is not installed (Debian package %s)", env->program,
			 env->program);
		return -ENOENT;
	}
	return 0;
}

/* create, then start: the program runs, its pid known. */
static int oci_start(const struct rtv_env *env, struct rtv_envs *e, struct rtv_env_run *r,
		     const char *const *argv, char *err, size_t len)
{
	char sbuf[200], b[300], pidfile[300];
	const char *a[MAX_ARGS];
	size_t n;
	int ret, fd, efd;

	r->pidfd = -1;
	r->mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	rtv_env_next_id(e, env, r->id, sizeof(r->id));
	snprintf(r->cgroup, sizeof(r->cgroup), "%s/%s", RTV_ENV_CGROUP, r->id);
	snprintf(r->out, sizeof(r->out), "%s/%s.out", e->out, r->id);
	snprintf(r->errout, sizeof(r->errout), "%s/%s.err", e->out, r->id);
	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", e->dir, r->id);
	ret = bundle(e, r->id, argv, true, b, sizeof(b));
	if (ret < 0) {
		snprintf(err, len, "cannot write the bundle of %s: %s", r->id, strerror(-ret));
		return ret;
	}
	if (rtv_journal_is_open() && (ret = rtv_env_journal_cgroups(r->id)) < 0)
		return ret;
	create_argv(e, env, a, sbuf, sizeof(sbuf), b, pidfile, r->id);
	fd = open(r->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	efd = open(r->errout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || efd < 0) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	ret = rtv_env_exec(e, hide(e, env), a, fd, efd);
	close(fd);
	close(efd);
	if (ret) {
		char *o = rtv_env_output(r, true);

		snprintf(err, len, "%s create %s failed: %s", env->program, r->id,
			 o && o[0] ? strtok(o, "\n") : "no message");
		free(o);
		env->remove(e, r);
		return -EIO;
	}
	ret = rtv_env_adopt_pidfile(r, pidfile);
	if (ret < 0) {
		snprintf(err, len, "%s create %s: no pid (%s)", env->program, r->id, strerror(-ret));
		env->remove(e, r);
		return ret;
	}
	n = base(e, env, a, sbuf, sizeof(sbuf));
	a[n++] = "start";
	a[n++] = r->id;
	a[n] = NULL;
	ret = rtv_env_exec_out(e, hide(e, env), a, NULL, 0, err, len);
	if (ret) {
		env->remove(e, r);
		return -EIO;
	}
	return 0;
}

static int oci_remove(const struct rtv_env *env, struct rtv_envs *e, struct rtv_env_run *r)
{
	char sbuf[200];
	const char *a[MAX_ARGS];
	size_t n = base(e, env, a, sbuf, sizeof(sbuf));
	int ret;

	a[n++] = "delete";
	a[n++] = "-f";
	a[n++] = r->id;
	a[n] = NULL;
	ret = rtv_env_exec(e, hide(e, env), a, -1, -1);
	return rtv_env_end(r, ret ? -EIO : 0);
}

/* create, start and wait, delete: each timed. */
static int oci_once(const struct rtv_env *env, struct rtv_envs *e, const char *const *argv,
		    int64_t *phase_ns, char *err, size_t len)
{
	char sbuf[200], b[300], pidfile[300];
	struct rtv_env_run r = { .pidfd = -1 };
	const char *a[MAX_ARGS];
	bool hidden = hide(e, env);
	int64_t t0, t1, t2, t3;
	size_t n;
	int ret;

	r.mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	rtv_env_next_id(e, env, r.id, sizeof(r.id));
	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", e->dir, r.id);
	ret = bundle(e, r.id, argv, false, b, sizeof(b));
	if (!ret && rtv_journal_is_open())
		ret = rtv_env_journal_cgroups(r.id);
	if (ret < 0) {
		snprintf(err, len, "cannot prepare %s: %s", r.id, strerror(-ret));
		return ret;
	}
	create_argv(e, env, a, sbuf, sizeof(sbuf), b, pidfile, r.id);
	t0 = rtv_now_ns();
	ret = rtv_env_exec_out(e, hidden, a, NULL, 0, err, len);
	t1 = rtv_now_ns();
	if (!ret && !(ret = rtv_env_adopt_pidfile(&r, pidfile))) {
		n = base(e, env, a, sbuf, sizeof(sbuf));
		a[n++] = "start";
		a[n++] = r.id;
		a[n] = NULL;
		ret = rtv_env_exec_out(e, hidden, a, NULL, 0, err, len);
		if (!ret)
			ret = rtv_env_wait(&r, 10 * RTV_NS_PER_S);
	} else if (ret > 0) {
		ret = -EIO;
	}
	t2 = rtv_now_ns();
	n = base(e, env, a, sbuf, sizeof(sbuf));
	a[n++] = "delete";
	a[n++] = "-f";
	a[n++] = r.id;
	a[n] = NULL;
	if (rtv_env_exec(e, hidden, a, -1, -1) && !ret) {
		snprintf(err, len, "%s delete %s failed", env->program, r.id);
		ret = -EIO;
	}
	t3 = rtv_now_ns();
	if (r.pidfd >= 0)
		close(r.pidfd);
	unlink(pidfile);
	rtv_env_clear_cgroups();
	if (rtv_journal_is_open()) {
		int u = rtv_journal_undo_to(r.mark);

		if (u < 0 && !ret)
			ret = u;
	}
	phase_ns[0] = t1 - t0;
	phase_ns[1] = t2 - t1;
	phase_ns[2] = t3 - t2;
	phase_ns[RTV_ENV_PHASES] = t3 - t0;
	return ret > 0 ? -EIO : ret;
}

/* PROG --root STATE run --bundle B ID: one instance, deleted at its end. */
static int oci_command(const struct rtv_env *env, struct rtv_envs *e, const char *const *argv,
		       const char **out, size_t max, char *buf, size_t len)
{
	char id[48];
	size_t n, used;
	int ret;

	if (max < 12 || len < 700)
		return -E2BIG;
	rtv_env_next_id(e, env, id, sizeof(id));
	n = base(e, env, out, buf, 200);
	used = strlen(buf) + 1;
	ret = bundle(e, id, argv, false, buf + used, 300);
	if (ret < 0)
		return ret;
	if (rtv_journal_is_open() && (ret = rtv_env_journal_cgroups(id)) < 0)
		return ret;
	out[n++] = "run";
	out[n++] = "--bundle";
	out[n++] = buf + used;
	used += strlen(buf + used) + 1;
	snprintf(buf + used, len - used, "%s", id);
	out[n++] = buf + used;
	out[n] = NULL;
	return 0;
}

#define OCI_ROW(NAME)                                                                         \
	static int NAME##_detect(const struct rtv_envs *e, char *why, size_t len)             \
	{                                                                                     \
		return oci_detect(&rtv_env_##NAME, e, why, len);                              \
	}                                                                                     \
	static int NAME##_start(struct rtv_envs *e, struct rtv_env_run *r,                    \
				const char *const *argv, char *err, size_t len)               \
	{                                                                                     \
		return oci_start(&rtv_env_##NAME, e, r, argv, err, len);                      \
	}                                                                                     \
	static int NAME##_remove(struct rtv_envs *e, struct rtv_env_run *r)                   \
	{                                                                                     \
		return oci_remove(&rtv_env_##NAME, e, r);                                     \
	}                                                                                     \
	static int NAME##_once(struct rtv_envs *e, const char *const *argv, int64_t *ph,      \
			       char *err, size_t len)                                         \
	{                                                                                     \
		return oci_once(&rtv_env_##NAME, e, argv, ph, err, len);                      \
	}                                                                                     \
	static int NAME##_command(struct rtv_envs *e, const char *const *argv,                \
				  const char **out, size_t max, char *buf, size_t len)        \
	{                                                                                     \
		return oci_command(&rtv_env_##NAME, e, argv, out, max, buf, len);             \
	}

OCI_ROW(crun)
OCI_ROW(runc)

const struct rtv_env rtv_env_crun = {
	.name = "crun",
	.what = "an OCI bundle run by crun",
	.program = "crun",
	.hide_v2 = true,
	.phase = { "create", "start", "delete", NULL },
	.detect = crun_detect,
	.start = crun_start,
	.remove = crun_remove,
	.once = crun_once,
	.command = crun_command,
};

const struct rtv_env rtv_env_runc = {
	.name = "runc",
	.what = "an OCI bundle run by runc",
	.program = "runc",
	.phase = { "create", "start", "delete", NULL },
	.detect = runc_detect,
	.start = runc_start,
	.remove = runc_remove,
	.once = runc_once,
	.command = runc_command,
};
