/* What the RT service probes share; see service.h. */
#include "probe/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env.h"
#include "host/journal.h"
#include "probe/netrt.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define PLACED_WAIT_NS (5 * RTV_NS_PER_S)
#define STEP_POLL_NS   (5 * RTV_NS_PER_MS)

void rtv_svc_live(const struct rtv_pctx *c, char *buf, size_t len)
{
	const struct rtv_svc_state *st = c->state;

	snprintf(buf, len, "sent %6llu  lost %4llu",
		 (unsigned long long)__atomic_load_n(&st->rt.sent, __ATOMIC_RELAXED),
		 (unsigned long long)__atomic_load_n(&st->rt.lost, __ATOMIC_RELAXED));
}

/* The distributions' objects carry the losses and the share above 1 ms;
 * the answers that were misses or errors are counted beside them. */
void rtv_svc_series_json(const struct rtv_pctx *c, int i, json_t *o)
{
	const struct rtv_svc_state *st = c->state;
	json_t *rtt = rtv_netrt_hist_json(&st->rt.rtt, st->rt.lost);

	(void)i;
	if (rtt) {
		json_object_set_new(rtt, "misses", json_integer((json_int_t)st->rt.misses));
		json_object_set_new(rtt, "errors", json_integer((json_int_t)st->rt.errors));
		json_object_set_new(rtt, "broken_connections", json_integer((json_int_t)st->rt.broken));
	}
	json_object_set_new(o, "rtt_us", rtt);
	json_object_set_new(o, "service_us", rtv_netrt_hist_json(&st->rt.service, st->rt.lost));
}

void rtv_svc_ol_cfg(const struct rtv_pctx *c, struct rtv_ol_cfg *ol)
{
	ol->addr = c->rt_service_addr ? c->rt_service_addr : c->tb->rt_client.peer;
	ol->seed = c->seed;
	ol->duration_ns = rtv_ns_add_sat(c->warmup_ns, c->duration_ns);
	ol->count = 0;
	ol->warmup_ns = c->warmup_ns;
	ol->timeout_ns = RTV_OL_DEFAULT_TIMEOUT_NS;
	ol->samples_path = NULL;
}

void rtv_svc_stop(struct rtv_pctx *c)
{
	rtv_stop_set(&((struct rtv_svc_state *)c->state)->stop);
}

struct exec_arg {
	struct rtv_svc_state *st;
	char *const *argv;
	const char *cwd;
	int log_fd;
};

static int exec_main(void *p)
{
	struct exec_arg *a = p;
	int64_t until = rtv_now_ns() + PLACED_WAIT_NS;
	int null;

	while (!__atomic_load_n(&a->st->placed, __ATOMIC_ACQUIRE) && rtv_now_ns() < until)
		rtv_sleep_until_ns(rtv_now_ns() + RTV_NS_PER_MS);
	if (a->cwd && chdir(a->cwd))
		return -errno;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(a->log_fd >= 0 ? a->log_fd : null, 2) < 0)
		return -errno;
	execv(a->argv[0], a->argv);
	return -errno;
}

int rtv_svc_exec(struct rtv_pctx *c, const struct rtv_tb_host *h, enum rtv_role role,
		 char *const *argv, const char *cwd, int log_fd, pid_t *pid)
{
	struct rtv_svc_state *st = c->state;
	struct exec_arg a = { st, argv, cwd, log_fd };
	int err;

	__atomic_store_n(&st->placed, 0, __ATOMIC_RELEASE);
	err = rtv_probe_spawn(c, h, role, exec_main, &a, pid);
	/* placed (or not, when the method failed: the run fails on err) */
	__atomic_store_n(&st->placed, 1, __ATOMIC_RELEASE);
	return err;
}

int rtv_svc_step(struct rtv_pctx *c, const struct rtv_tb_host *h, int (*fn)(void *), void *arg,
		 int64_t timeout_ns)
{
	int64_t until = rtv_now_ns() + timeout_ns;
	pid_t pid = 0, got;
	int err, status;

	err = rtv_probe_spawn(c, h, RTV_ROLE_OTHER, fn, arg, &pid);
	if (err < 0)
		return err;
	for (;;) {
		got = rtv_probe_wait(c, pid, &status);
		if (got < 0)
			return (int)got;
		if (got == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
		if (rtv_now_ns() >= until)
			return -ETIMEDOUT; /* the engine ends it with the run */
		rtv_sleep_until_ns(rtv_now_ns() + STEP_POLL_NS);
	}
}

void rtv_svc_log_tail(int log_fd, char *buf, size_t len)
{
	char raw[512];
	off_t end;
	ssize_t n;
	size_t j = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (log_fd < 0)
		return;
	end = lseek(log_fd, 0, SEEK_END);
	if (end < 0)
		return;
	n = pread(log_fd, raw, sizeof(raw) - 1,
		  end > (off_t)sizeof(raw) - 1 ? end - (off_t)sizeof(raw) + 1 : 0);
	if (n <= 0)
		return;
	for (ssize_t i = 0; i < n && j + 3 < len; i++) {
		if (raw[i] == '\n') {
			if (i + 1 < n && j) {
				buf[j++] = ';';
				buf[j++] = ' ';
			}
		} else if ((unsigned char)raw[i] >= ' ') {
			buf[j++] = raw[i];
		}
	}
	buf[j] = '\0';
}

int rtv_svc_workdir(char *buf, size_t len)
{
	const char *top = RTV_ENV_DIR;
	bool made_top = false;
	int err;

	if (snprintf(buf, len, "%s/svc-%d", top, (int)getpid()) >= (int)len)
		return -ENAMETOOLONG;
	if (access(top, F_OK)) {
		err = rtv_journal_add("envdir", 1, (const char *const[]){ top });
		if (err < 0)
			return err;
		if (mkdir(top, 0755) && errno != EEXIST)
			return -errno;
		made_top = true;
	}
	if (!made_top) {
		err = rtv_journal_add("envdir", 1, (const char *const[]){ buf });
		if (err < 0)
			return err;
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}
