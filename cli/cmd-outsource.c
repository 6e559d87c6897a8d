/* rtvnet outsource run: start a program under the outsourcing filter, its
 * AF_INET/AF_INET6 sockets made in another network namespace
 * (lib/outsource/outsource.h). */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "host/cgroup.h"
#include "host/proc.h"
#include "net/netns.h"
#include "outsource/outsource.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet outsource run [OPTIONS] -- CMD [ARGS]\n\n"
	"  run  start CMD under a seccomp filter that makes its IPv4 and IPv6 sockets in\n"
	"       another network namespace, and supervise it until it exits\n\n"
	"run 'rtvnet outsource run -h' for the options";

static const char run_usage[] =
	"rtvnet outsource run [--netns NS] [--policy FILE] [--user UID[:GID]] [--no-sync-wakeup]\n"
	"       [--no-cgroup] -- CMD [ARGS]\n\n"
	"CMD's socket() calls with domain AF_INET or AF_INET6 are answered with a socket made\n"
	"in NS (default: the namespace rtvnet runs in) by a helper in CMD's cgroup v2 cgroup\n"
	"with CMD's uid and gid; io_uring_setup and 32-bit system calls are refused (EPERM);\n"
	"everything else runs as usual. rtvnet exits with CMD's status (128+N when a signal N\n"
	"ended it), or 1 when it could not start CMD. If rtvnet is killed, CMD's later\n"
	"AF_INET/AF_INET6 socket() calls fail with ENOSYS (it fails closed).";

static struct run_values {
	const char *netns, *policy, *user;
	bool no_sync, no_cgroup;
} run_opt;

static const struct rtv_opt run_opts[] = {
	RTV_OPT_STRING_DEF("netns", 'n', &run_opt.netns, "NS",
			   "named network namespace (ip netns) where the sockets are made"),
	RTV_OPT_STRING_DEF("policy", 0, &run_opt.policy, "FILE",
			   "the addresses and ports CMD may bind and connect to"),
	RTV_OPT_STRING_DEF("user", 'u', &run_opt.user, "UID[:GID]",
			   "run CMD and make its sockets as this numeric uid (and gid; default: the uid's own)"),
	RTV_OPT_FLAG_DEF("no-sync-wakeup", 0, &run_opt.no_sync,
			 "do not ask for SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (kernel 6.6+)"),
	RTV_OPT_FLAG_DEF("no-cgroup", 0, &run_opt.no_cgroup,
			 "leave CMD and the helper in rtvnet's cgroup (no cgroup v2 cgroup of their own)"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_outsource_modes[] = {
	{ NULL, usage_str, NULL },
	{ "run", run_usage, run_opts },
	{ NULL, NULL, NULL },
};

/* -v: what it supervises and, at the end, what it did */
#define verbose(...)                          \
	do {                                  \
		if (rtv_verbosity >= 2)       \
			rtv_cli_info(__VA_ARGS__); \
	} while (0)

static volatile sig_atomic_t child_changed, alarm_rang;

static void on_sigchld(int sig)
{
	(void)sig;
	child_changed = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarm_rang = 1;
}

/* "UID" or "UID:GID", numbers. 0 or -1. */
static int parse_user(const char *s, uid_t *uid, gid_t *gid)
{
	char *end;
	unsigned long u, g;

	errno = 0;
	u = strtoul(s, &end, 10);
	if (errno || end == s || u >= UINT_MAX || (*end && *end != ':'))
		return -1;
	g = u;
	if (*end == ':') {
		s = end + 1;
		g = strtoul(s, &end, 10);
		if (errno || end == s || g >= UINT_MAX || *end)
			return -1;
	}
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* The child: wait for the go, join the cgroup, take the credentials, enter
 * the filter, exec. Never returns. */
static void child_main(int chan, const char *procs, uid_t uid, gid_t gid, char **cmd)
{
	char go;
	FILE *f;
	sigset_t none;

	/* the parent journals this pid, then says go (or closes: stop) */
	if (read(chan, &go, 1) != 1)
		_exit(127);
	if (procs[0]) {
		f = fopen(procs, "we");
		if (!f || fputs("0", f) < 0 || fclose(f)) {
			fprintf(stderr, "rtvnet outsource run: cannot join cgroup '%s': %s\n", procs,
				strerror(errno));
			_exit(127);
		}
	}
	if (gid != (gid_t)-1 && (setgroups(0, NULL) || setresgid(gid, gid, gid))) {
		fprintf(stderr, "rtvnet outsource run: cannot take gid %u: %s\n", gid, strerror(errno));
		_exit(127);
	}
	if (uid != (uid_t)-1 && setresuid(uid, uid, uid)) {
		fprintf(stderr, "rtvnet outsource run: cannot take uid %u: %s\n", uid, strerror(errno));
		_exit(127);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (rtv_outsource_child_enter(chan) < 0)
		_exit(127);
	execvp(cmd[0], cmd);
	/* under the filter: this message's write is allowed */
	fprintf(stderr, "rtvnet outsource run: cannot run '%s': %s\n", cmd[0], strerror(errno));
	_exit(127);
}

static int exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return RTV_EXIT_FAIL;
}

static int outsource_run(int argc, char **argv)
{
	struct rtv_outsource_cfg cfg = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct rtv_outsource_stats st;
	struct rtv_outsource *o = NULL;
	struct sigaction sa;
	char cgname[64], cgdir[512] = "", procs[600] = "";
	int nargs, err, chan[2] = { -1, -1 }, status = 0, ret = RTV_EXIT_FAIL;
	bool done, forwarded = false, reaped = false, killed = false;
	pid_t pid = -1;

	memset(&run_opt, 0, sizeof(run_opt));
	err = rtv_cli_parse(run_opts, run_usage, argc, argv, &nargs, &done);
	if (err || done)
		return err;
	if (nargs < 1) {
		rtv_cli_error("no command given: 'rtvnet outsource run [OPTIONS] -- CMD [ARGS]'");
		return RTV_EXIT_USAGE;
	}
	if (run_opt.netns && !rtv_netns_exists(run_opt.netns)) {
		rtv_cli_error("option '--netns': no network namespace '%s' (see 'ip netns list')",
			      run_opt.netns);
		return RTV_EXIT_USAGE;
	}
	if (run_opt.user && parse_user(run_opt.user, &cfg.uid, &cfg.gid)) {
		rtv_cli_error("option '--user': '%s' is not UID or UID:GID (numbers)", run_opt.user);
		return RTV_EXIT_USAGE;
	}
	if (run_opt.policy) {
		if (access(run_opt.policy, R_OK)) {
			rtv_cli_error("option '--policy': cannot read '%s': %s", run_opt.policy,
				      strerror(errno));
			return RTV_EXIT_USAGE;
		}
		if (!rtv_outsource_policy_attach) {
			rtv_cli_error("option '--policy': this rtvnet has no address/port policy "
				      "module built in; nothing was started");
			return RTV_EXIT_USAGE;
		}
		if (run_opt.no_cgroup) {
			rtv_cli_error("option '--policy': needs a cgroup v2 cgroup (drop --no-cgroup)");
			return RTV_EXIT_USAGE;
		}
	}
	cfg.target_netns = run_opt.netns;
	cfg.sync_wakeup = !run_opt.no_sync;
	cfg.policy_path = run_opt.policy;

	err = rtv_cli_catch_signals();
	if (err)
		return err;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);

	if (!run_opt.no_cgroup) {
		snprintf(cgname, sizeof(cgname), "rtvnet/outsource-%d", (int)getpid());
		err = rtv_cgroup_v2_dir(RTV_CGROUP_ROOT, cgname, true, cgdir, sizeof(cgdir));
		if (err == -ENOTSUP && !run_opt.policy) {
			rtv_cli_warn("no cgroup v2 hierarchy under '%s': CMD's sockets are charged to "
				     "rtvnet's cgroup", RTV_CGROUP_ROOT);
			cgdir[0] = '\0';
		} else if (err < 0) {
			rtv_cli_error("cannot make cgroup '%s' under '%s': %s", cgname, RTV_CGROUP_ROOT,
				      strerror(-err));
			goto out;
		}
		if (cgdir[0]) {
			cfg.cgroup_v2_dir = cgdir;
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
		}
	}
	err = rtv_outsource_new(&cfg, &o);
	if (err < 0) {
		rtv_cli_error("cannot start the socket helper%s%s: %s", run_opt.netns ? " in namespace " : "",
			      run_opt.netns ? run_opt.netns : "", strerror(-err));
		goto out;
	}
	err = rtv_outsource_channel(chan);
	if (err < 0) {
		rtv_cli_error("cannot make a socket pair: %s", strerror(-err));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rtv_cli_error("cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(chan[0]);
		child_main(chan[1], procs, cfg.uid, cfg.gid, argv + 1);
	}
	close(chan[1]);
	chan[1] = -1;
	err = rtv_proc_journal_add(pid);
	if (err < 0 || write(chan[0], "g", 1) != 1) {
		rtv_cli_error("cannot journal '%s' (pid %d): %s", argv[1], (int)pid,
			      strerror(err < 0 ? -err : errno));
		goto out;
	}
	err = rtv_outsource_add_child(o, chan[0], pid);
	chan[0] = -1;
	if (err < 0) {
		/* the child failed before its filter was in place and said why */
		if (err != -EPIPE)
			rtv_cli_error("cannot supervise '%s': %s", argv[1], strerror(-err));
		goto out;
	}
	verbose("supervising '%s' (pid %d), sockets made in %s, helper pid %d, features:%s%s",
		argv[1], (int)pid, run_opt.netns ? run_opt.netns : "rtvnet's namespace",
		(int)rtv_outsource_helper_pid(o),
		(rtv_outsource_features(o) & RTV_OUTSOURCE_WAIT_KILLABLE) ? " wait-killable" : "",
		(rtv_outsource_features(o) & RTV_OUTSOURCE_SYNC_WAKEUP) ? " sync-wakeup" : "");

	for (;;) {
		err = rtv_outsource_run(o, NULL);
		if (err < 0 && err != -EINTR) {
			rtv_cli_error("supervising '%s' failed: %s; ending it", argv[1], strerror(-err));
			kill(pid, SIGKILL);
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			break;
		}
		if (err == 1) { /* its listener hung up: it is exiting */
			if (waitpid(pid, &status, 0) == pid)
				reaped = true;
			break;
		}
		if (rtv_cli_stop && !forwarded) { /* stop CMD, then ourselves */
			kill(pid, SIGTERM);
			forwarded = true;
			alarm(5);
		}
		if (alarm_rang && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
	}
	alarm(0);
	ret = exit_status(status);
	if (killed)
		rtv_cli_warn("'%s' did not end within 5 s of SIGTERM: killed", argv[1]);
out:
	if (pid > 0 && !reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	for (int i = 0; i < 2; i++)
		if (chan[i] >= 0)
			close(chan[i]);
	if (o) {
		rtv_outsource_stats(o, &st);
		verbose("%" PRIu64 " notifications: %" PRIu64 " sockets made, %" PRIu64
			" refused, %" PRIu64 " skipped (nested namespace), %" PRIu64
			" callers gone; slowest %.1f us",
			st.notifications, st.sockets, st.refused, st.skipped, st.gone,
			(double)st.max_ns / 1e3);
	}
	rtv_outsource_free(o);
	return ret;
}

int cmd_outsource(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int ret;

	m = rtv_cli_mode(cmd_outsource_modes, argc, argv, &ret);
	if (!m)
		return ret;
	return outsource_run(argc - 1, argv + 1);
}
