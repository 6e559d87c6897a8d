/* netns: rtvnet's own container, made as the testbed makes its hosts: a
 * named network namespace and a cgroup rtvnet/ID (journaled), the program
 * started in both. Its startup separates making the network namespace (the
 * part Abeni found to dominate podman's), making the cgroup, running the
 * program and removing both (the journal's undo, as after every run). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "env/env.h"
#include "host/journal.h"
#include "host/proc.h"
#include "net/netns.h"
#include "util/time.h"

struct netns_child {
	const struct rtv_envs *e;
	const char *id, *cgroup;
};

static int enter(void *arg)
{
	const struct netns_child *c = arg;

	if (rtv_netns_enter(c->id) < 0)
		return -1;
	return rtv_cgroup_attach(&c->e->cg, c->cgroup, getpid()) < 0 ? -1 : 0;
}

static int netns_detect(const struct rtv_envs *e, char *why, size_t len)
{
	(void)e;
	if (access("/proc/self/ns/net", F_OK)) {
		snprintf(why, len, "the kernel has no network namespaces");
		return -ENOTSUP;
	}
	return 0;
}

static int make_netns(struct rtv_envs *e, char *id, size_t idlen, char *cgroup, size_t cglen,
		      char *err, size_t len)
{
	int ret;

	rtv_env_next_id(e, &rtv_env_netns, id, idlen);
	snprintf(cgroup, cglen, "rtvnet/%s", id);
	ret = rtv_netns_add(id);
	if (ret < 0)
		snprintf(err, len, "cannot make network namespace %s: %s", id, strerror(-ret));
	return ret;
}

static int make_cgroup(struct rtv_envs *e, const char *cgroup, char *err, size_t len)
{
	int ret = rtv_cgroup_create(&e->cg, "rtvnet");

	if (ret == -EEXIST)
		ret = 0;
	if (!ret)
		ret = rtv_cgroup_create(&e->cg, cgroup);
	if (ret < 0)
		snprintf(err, len, "cannot make cgroup %s: %s", cgroup, strerror(-ret));
	return ret;
}

static int netns_start(struct rtv_envs *e, struct rtv_env_run *r, const char *const *argv,
		       char *err, size_t len)
{
	struct netns_child c = { .e = e };
	pid_t pid;
	int ret;

	if (!rtv_journal_is_open()) {
		snprintf(err, len, "netns needs the journal");
		return -EINVAL;
	}
	r->pidfd = -1;
	r->mark = rtv_journal_mark();
	ret = make_netns(e, r->id, sizeof(r->id), r->cgroup, sizeof(r->cgroup), err, len);
	if (!ret)
		ret = make_cgroup(e, r->cgroup, err, len);
	if (ret < 0)
		return ret;
	snprintf(r->out, sizeof(r->out), "%s/%s.out", e->out, r->id);
	snprintf(r->errout, sizeof(r->errout), "%s/%s.err", e->out, r->id);
	c.id = r->id;
	c.cgroup = r->cgroup;
	pid = rtv_env_fork_exec(argv, r->out, r->errout, enter, &c);
	if (pid < 0) {
		snprintf(err, len, "cannot start %s: %s", argv[0], strerror((int)-pid));
		return (int)pid;
	}
	r->pid = r->child = pid;
	ret = rtv_proc_journal_add(pid);
	return ret < 0 ? ret : 0;
}

static int netns_remove(struct rtv_envs *e, struct rtv_env_run *r)
{
	(void)e;
	if (r->child)
		rtv_env_reap(r->child);
	r->child = 0;
	return rtv_journal_undo_to(r->mark);
}

static int netns_once(struct rtv_envs *e, const char *const *argv, int64_t *phase_ns, char *err,
		      size_t len)
{
	char id[48], cgroup[96];
	struct netns_child c = { .e = e, .id = id, .cgroup = cgroup };
	size_t mark;
	int64_t t[5];
	int ret, st = 0;
	pid_t pid;

	if (!rtv_journal_is_open()) {
		snprintf(err, len, "netns needs the journal");
		return -EINVAL;
	}
	mark = rtv_journal_mark();
	t[0] = rtv_now_ns();
	ret = make_netns(e, id, sizeof(id), cgroup, sizeof(cgroup), err, len);
	t[1] = rtv_now_ns();
	if (!ret)
		ret = make_cgroup(e, cgroup, err, len);
	t[2] = rtv_now_ns();
	if (!ret) {
		pid = rtv_env_fork_exec(argv, NULL, NULL, enter, &c);
		st = pid < 0 ? (int)pid : rtv_env_reap(pid);
	}
	t[3] = rtv_now_ns();
	{
		int u = rtv_journal_undo_to(mark);

		if (u < 0 && !ret) {
			snprintf(err, len, "cannot remove %s: %s", id, strerror(-u));
			ret = u;
		}
	}
	t[4] = rtv_now_ns();
	for (int k = 0; k < 4; k++)
		phase_ns[k] = t[k + 1] - t[k];
	phase_ns[RTV_ENV_PHASES] = t[4] - t[0];
	if (!ret && st) {
		snprintf(err, len, "%s in %s: %s %d", argv[0], id, st < 0 ? "error" : "status", st);
		return -EIO;
	}
	return ret;
}

const struct rtv_env rtv_env_netns = {
	.name = "netns",
	.what = "rtvnet's own container: a network namespace and a cgroup, as the testbed's",
	.phase = { "netns", "cgroup", "run", "delete", NULL },
	.detect = netns_detect,
	.start = netns_start,
	.remove = netns_remove,
	.once = netns_once,
};
