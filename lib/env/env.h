/* Hosting environments: where an RT workload runs (Abeni's comparison).
 *
 * An environment is a table row (struct rtv_env) that starts a program in
 * a new instance of itself, says which process is the program, and removes
 * the instance; and that runs one short-lived instance with its startup
 * phases timed. `rtvnet runtimes` (experiment/runtimes.h) runs cyclictest
 * and /bin/true in every environment through these rows only.
 *
 *   native  a process on the host, in rtvnet's own cgroups
 *   netns   rtvnet's own container, as the testbed makes them: a named
 *           network namespace and a cgroup (journaled, net/netns.h,
 *           host/cgroup.h)
 *   crun    an OCI bundle run by crun \ the bundle's root filesystem is
 *   runc    an OCI bundle run by runc / built from host binaries
 *   podman  the same root filesystem with `podman run --rootfs`, its state
 *           in rtvnet's work directory (never /var/lib/containers)
 *   vm      the interface a VMM plugs into; refused where no guest can be
 *           booted usefully, with the reason
 *
 * Every instance has a new network namespace (only lo in it) and, but for
 * native, a cgroup of its own. The containers' cgroups are
 * RTV_ENV_CGROUP/ID in every hierarchy, each journaled (kind "cgroup")
 * before the runtime makes it, so that a crash leaves nothing behind; the
 * work directory (root filesystem, bundles, runtime state, outputs) is
 * journaled too ("envdir").
 *
 * Adding an environment: write lib/env/<name>.c defining `const struct
 * rtv_env rtv_env_<name>`, declare it below, add it to rtv_envs[] in env.c
 * and to lib/env/meson.build. */
#ifndef RTV_ENV_ENV_H
#define RTV_ENV_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/cgroup.h"

#define RTV_ENV_DIR      "/run/rtvnet-env" /* the work directory */
#define RTV_ENV_CGROUP   "rtvnet-env"      /* the containers' parent cgroup */
#define RTV_ENV_PHASES   4
#define RTV_ENV_MAX_KEEP 4

/* What every environment of a run shares (filled by rtv_envs_prepare). */
struct rtv_envs {
	char dir[128];          /* RTV_ENV_DIR, or a test's */
	char rootfs[160];       /* dir/rootfs: the workload's programs and libraries */
	char out[160];          /* dir/out: bind-mounted at /out in containers */
	struct rtv_cgroups cg;  /* the host's cgroups (rtvnet's own use) */
	bool hide_v2;           /* a v2 tree holding controllers beside v1 ones (hybrid):
				 * crun refuses such a host; it runs in a mount namespace
				 * where that tree is unmounted */
	int64_t rt_runtime_us;  /* v1 RT group scheduling: RT runtime of the containers'
				 * parent cpu cgroup, what the root's other children
				 * leave (-1: no RT group scheduling); each container
				 * gets a quarter (rtv_env_container_rt_us) */
	int64_t rt_period_us;
	unsigned seq;           /* instances made so far (ids) */
};

/* A program running in an instance. */
struct rtv_env_run {
	char id[48];            /* the instance's name */
	pid_t pid;              /* the program, in the host's pid namespace */
	pid_t child;            /* rtvnet's child to reap (native, netns), else 0 */
	int pidfd;              /* readable when the program has ended; -1 none */
	char cgroup[96];        /* its own cgroup, relative to a hierarchy; "" none */
	char out[224];          /* its stdout, as a file on the host */
	char errout[224];       /* its stderr; "" when in out (podman's log) */
	bool podman_log;        /* out is podman's k8s-file log: both streams, each
				 * line prefixed with its time and stream */
	size_t mark;            /* journal mark before the instance */
};

struct rtv_env {
	const char *name;
	const char *what;      /* one line for help and the README */
	const char *program;   /* the runtime it needs on PATH; NULL: none */
	bool hide_v2;          /* on a hybrid cgroup host, runs where the v2 tree is
				* hidden (rtv_env_hide_v2): crun, and podman using it */
	/* the startup phases it times separately, NULL-ended ({NULL}: total only) */
	const char *phase[RTV_ENV_PHASES + 1];
	/* 0 when it can run here; else -ENOENT (runtime missing) or -ENOTSUP,
	 * with the reason in why */
	int (*detect)(const struct rtv_envs *e, char *why, size_t len);
	/* start argv (absolute paths of the root filesystem) in a new instance;
	 * returns once the program runs, r->pid known */
	int (*start)(struct rtv_envs *e, struct rtv_env_run *r, const char *const *argv,
		     char *err, size_t len);
	/* remove the instance (the program ended, or is killed) */
	int (*remove)(struct rtv_envs *e, struct rtv_env_run *r);
	/* one instance of argv, start to removal: phase_ns[i] per phase[], the
	 * last element of phase_ns (index RTV_ENV_PHASES) the total */
	int (*once)(struct rtv_envs *e, const char *const *argv, int64_t *phase_ns, char *err,
		    size_t len);
	/* the single command doing what once() does, for hyperfine (argv in
	 * out, strings in buf); NULL: there is none (rtvnet's own) */
	int (*command)(struct rtv_envs *e, const char *const *argv, const char **out, size_t max,
		       char *buf, size_t len);
	/* the runtime's processes that stay while r runs (conmon) */
	int (*keepers)(const struct rtv_envs *e, const struct rtv_env_run *r, pid_t *pids, int max);
};

extern const struct rtv_env rtv_env_native, rtv_env_netns, rtv_env_crun, rtv_env_runc,
	rtv_env_podman, rtv_env_vm;

/* The table, NULL-ended, in the order runs interleave them. */
extern const struct rtv_env *const rtv_envs[];
const struct rtv_env *rtv_env_find(const char *name);

/* Set up what every environment needs: the work directory (journaled) with
 * the root filesystem of progs, the out directory, the RT runtime a
 * container may use. dir NULL: RTV_ENV_DIR. -EEXIST when dir exists (a
 * run still going, or one whose undo failed). */
int rtv_envs_prepare(struct rtv_envs *e, const char *dir, const char *const *progs, char *err,
		     size_t len);

/* Wait for r's program to end: 0 when it did, -ETIMEDOUT after timeout_ns
 * (it keeps running). */
int rtv_env_wait(struct rtv_env_run *r, int64_t timeout_ns);
/* Kill r's program (SIGKILL), wait for it, remove the instance. */
int rtv_env_kill(struct rtv_envs *e, const struct rtv_env *env, struct rtv_env_run *r);
/* What r's program printed on stdout (stderr: errors true), malloc'd; NULL
 * when there is no such file. */
char *rtv_env_output(const struct rtv_env_run *r, bool errors);

/* Helpers for the rows (env.c). */
/* Run argv (PATH searched) to its end with stdout to out_fd (-1: /dev/null)
 * and stderr to err_fd (-1: /dev/null), in crun's mount view when hide:
 * its exit status, or -errno. */
int rtv_env_exec(const struct rtv_envs *e, bool hide, const char *const *argv, int out_fd,
		 int err_fd);
/* The same, stdout kept in buf (NUL-ended, cut to fit); stderr's first
 * line to err when the status is not 0. */
int rtv_env_exec_out(const struct rtv_envs *e, bool hide, const char *const *argv, char *buf,
		     size_t len, char *err, size_t errlen);
/* In a child about to run a runtime: a private mount namespace without the
 * v2 tree (hybrid hosts), so that crun sees a v1 host. Changes nothing
 * outside the child. */
int rtv_env_hide_v2(void);
/* Journal the cgroup RTV_ENV_CGROUP/id in every mounted hierarchy (and
 * RTV_ENV_CGROUP itself), before a runtime makes them. */
int rtv_env_journal_cgroups(const char *id);
/* Write an OCI bundle's config.json at path for argv in instance id (oci.c);
 * rt: it runs an RT program (RT runtime for its cpu cgroup, where v1 RT
 * group scheduling needs some). */
int rtv_env_oci_config(const struct rtv_envs *e, const char *id, const char *const *argv,
		       bool rt, const char *path);
/* Kill and remove whatever is below RTV_ENV_CGROUP in every hierarchy (a
 * runtime's leftovers: podman's per-container cgroups under its parent),
 * the parent itself kept: one instance runs at a time. */
int rtv_env_clear_cgroups(void);
/* The end of a runtime's instance, after the runtime removed it: its pidfd
 * closed, its cgroups' leftovers cleared, the journal undone to r->mark.
 * ret, or the undo's error when ret is 0. */
int rtv_env_end(struct rtv_env_run *r, int ret);
/* Journal the directories a runtime makes under /run when they are missing
 * (crun's and runc's default state roots, podman's network and lock state),
 * so that they go again ("envdir"). */
int rtv_env_journal_run_dirs(void);
/* The RT runtime a container running an RT program asks for under v1 RT
 * group scheduling: a quarter of the parent's, because the kernel may still
 * count a just-removed container's RT bandwidth when the next one asks for
 * its own (seen here: a group refused the half that one removed a moment
 * before had held; the startup runs, back to back, ask for none). A
 * periodic RT task such as cyclictest uses a few percent. */
static inline int64_t rtv_env_container_rt_us(const struct rtv_envs *e)
{
	return e->rt_runtime_us / 4;
}
/* Whether prog is an executable on PATH. detect looks, never runs a
 * runtime: `crun --version` makes /run/crun, a change to the host. */
bool rtv_env_on_path(const char *prog);
/* The next instance's id: "rtv-ENV-N". */
void rtv_env_next_id(struct rtv_envs *e, const struct rtv_env *env, char *id, size_t len);
/* Fork and run argv (argv[0] a path) with stdout to the file out and stderr
 * to errout (NULL or "": /dev/null), after fn(arg) in the child when fn is given (its
 * failure: exit status 126). The child's pid, or -errno. */
pid_t rtv_env_fork_exec(const char *const *argv, const char *out, const char *errout,
			int (*fn)(void *), void *arg);
/* Wait for a child: its exit status (128 + signal when killed), or -errno. */
int rtv_env_reap(pid_t pid);
/* r->pidfd from the pid in a pid file. */
int rtv_env_adopt_pidfile(struct rtv_env_run *r, const char *pidfile);

#endif
