/* native: the program as a process on the host, in rtvnet's own cgroups. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env.h"
#include "host/journal.h"
#include "host/proc.h"
#include "util/time.h"

static int native_detect(const struct rtv_envs *e, char *why, size_t len)
{
	(void)e, (void)why, (void)len;
	return 0;
}

static int native_start(struct rtv_envs *e, struct rtv_env_run *r, const char *const *argv,
			char *err, size_t len)
{
	pid_t pid;
	int ret;

	rtv_env_next_id(e, &rtv_env_native, r->id, sizeof(r->id));
	snprintf(r->out, sizeof(r->out), "%s/%s.out", e->out, r->id);
	snprintf(r->errout, sizeof(r->errout), "%s/%s.err", e->out, r->id);
	r->pidfd = -1;
	r->mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	pid = rtv_env_fork_exec(argv, r->out, r->errout, NULL, NULL);
	if (pid < 0) {
		snprintf(err, len, "cannot start %s: %s", argv[0], strerror((int)-pid));
		return (int)pid;
	}
	r->pid = r->child = pid;
	ret = rtv_journal_is_open() ? rtv_proc_journal_add(pid) : 0;
	return ret < 0 ? ret : 0;
}

static int native_remove(struct rtv_envs *e, struct rtv_env_run *r)
{
	(void)e;
	if (r->child)
		rtv_env_reap(r->child);
	r->child = 0;
	return rtv_journal_is_open() ? rtv_journal_undo_to(r->mark) : 0;
}

static int native_once(struct rtv_envs *e, const char *const *argv, int64_t *phase_ns, char *err,
		       size_t len)
{
	int64_t t0 = rtv_now_ns();
	int st = rtv_env_exec(e, false, argv, -1, -1);

	phase_ns[RTV_ENV_PHASES] = rtv_now_ns() - t0;
	if (st) {
		snprintf(err, len, "%s: %s %d", argv[0], st < 0 ? "error" : "exit status", st);
		return -EIO;
	}
	return 0;
}

static int native_command(struct rtv_envs *e, const char *const *argv, const char **out,
			  size_t max, char *buf, size_t len)
{
	size_t i;

	(void)e, (void)buf, (void)len;
	for (i = 0; argv[i] && i + 1 < max; i++)
		out[i] = argv[i];
	out[i] = NULL;
	return argv[i] ? -E2BIG : 0;
}

const struct rtv_env rtv_env_native = {
	.name = "native",
	.what = "a process on the host",
	.phase = { NULL },
	.detect = native_detect,
	.start = native_start,
	.remove = native_remove,
	.once = native_once,
	.command = native_command,
};
