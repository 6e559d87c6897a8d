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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "host/cgroup.h"
#include "host/proc.h"
#include "net/netns.h"
#include "outsource/oci.h"
#include "outsource/outsource.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet outsource run [OPTIONS] -- CMD [ARGS]\n"
	"   or: rtvnet outsource serve --listener PATH [OPTIONS]\n"
	"   or: rtvnet outsource profile [--listener PATH] [--metadata STR]\n\n"
	"  run      start CMD under a seccomp filter that makes its IPv4 and IPv6 sockets in\n"
	"           another network namespace, and supervise it until it exits\n"
	"  serve    supervise the seccomp listeners OCI runtimes (crun, runc) hand over at\n"
	"           PATH: the containers' IPv4 and IPv6 sockets are made in another namespace\n"
	"  profile  print the linux.seccomp object of a container's config.json for serve\n\n"
	"run 'rtvnet outsource MODE -h' for the options";

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

static const char serve_usage[] =
	"rtvnet outsource serve --listener PATH [--netns NS] [--policy FILE] [--no-sync-wakeup]\n"
	"       [--once]\n\n"
	"Listen at PATH (an AF_UNIX socket, the listenerPath of the containers' seccomp\n"
	"profile: see 'rtvnet outsource profile') for the seccomp listeners an OCI runtime\n"
	"hands over, one per container, and answer the containers' socket() calls with\n"
	"domain AF_INET or AF_INET6 with sockets made in NS (default: the namespace rtvnet\n"
	"runs in), by a helper per container in the container's cgroup v2 cgroup (or one\n"
	"rtvnet makes when the container has none of its own) with its uid and gid. Runs\n"
	"until SIGINT, SIGTERM or SIGHUP, then prints what each container was served.";

static const char profile_usage[] =
	"rtvnet outsource profile [--listener PATH] [--metadata STR]\n\n"
	"Print, as JSON, the linux.seccomp object to put in an OCI container's config.json\n"
	"for 'rtvnet outsource serve --listener PATH'.";

static struct serve_values {
	const char *listener, *netns, *policy;
	bool no_sync, once;
} serve_opt;

static const struct rtv_opt serve_opts[] = {
	RTV_OPT_STRING_DEF("listener", 'l', &serve_opt.listener, "PATH",
			   "the AF_UNIX socket the runtimes connect to (required; made, removed at exit)"),
	RTV_OPT_STRING_DEF("netns", 'n', &serve_opt.netns, "NS",
			   "named network namespace (ip netns) where the sockets are made"),
	RTV_OPT_STRING_DEF("policy", 0, &serve_opt.policy, "FILE",
			   "the addresses and ports the containers may bind and connect to"),
	RTV_OPT_FLAG_DEF("no-sync-wakeup", 0, &serve_opt.no_sync,
			 "do not ask for SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (kernel 6.6+)"),
	RTV_OPT_FLAG_DEF("once", 0, &serve_opt.once,
			 "exit once the first container's processes are gone"),
	RTV_OPT_END_DEF,
};

#define PROFILE_DEFAULT_LISTENER RTV_JOURNAL_DIR "/outsource.sock"

static struct profile_values {
	const char *listener, *metadata;
} profile_opt;

static const struct rtv_opt profile_opts[] = {
	RTV_OPT_STRING_DEF("listener", 'l', &profile_opt.listener, "PATH",
			   "listenerPath: where 'serve' listens (default " PROFILE_DEFAULT_LISTENER
			   "; made absolute)"),
	RTV_OPT_STRING_DEF("metadata", 'm', &profile_opt.metadata, "STR",
			   "listenerMetadata, passed back by the runtime (default: none)"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_outsource_modes[] = {
	{ NULL, usage_str, NULL },
	{ "run", run_usage, run_opts },
	{ "serve", serve_usage, serve_opts },
	{ "profile", profile_usage, profile_opts },
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

/* The options run and serve share: a named namespace that exists, a
 * readable policy file and a policy module to enforce it. 0, or -1 after a
 * message. */
static int check_netns_policy(const char *netns, const char *policy)
{
	if (netns && !rtv_netns_exists(netns)) {
		rtv_cli_error("option '--netns': no network namespace '%s' (see 'ip netns list')",
			      netns);
		return -1;
	}
	if (policy && access(policy, R_OK)) {
		rtv_cli_error("option '--policy': cannot read '%s': %s", policy, strerror(errno));
		return -1;
	}
	if (policy && !rtv_outsource_policy_attach) {
		rtv_cli_error("option '--policy': this rtvnet has no address/port policy module "
			      "built in; nothing was started");
		return -1;
	}
	return 0;
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
	if (check_netns_policy(run_opt.netns, run_opt.policy))
		return RTV_EXIT_USAGE;
	if (run_opt.user && parse_user(run_opt.user, &cfg.uid, &cfg.gid)) {
		rtv_cli_error("option '--user': '%s' is not UID or UID:GID (numbers)", run_opt.user);
		return RTV_EXIT_USAGE;
	}
	if (run_opt.policy && run_opt.no_cgroup) {
		rtv_cli_error("option '--policy': needs a cgroup v2 cgroup (drop --no-cgroup)");
		return RTV_EXIT_USAGE;
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

/* PATH made absolute (the runtime connects from its own directory). */
static int absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(buf, len, "%s", path) < (int)len ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(buf, len, "%s/%s", cwd, path) < (int)len ? 0 : -ENAMETOOLONG;
}

static int outsource_profile(int argc, char **argv)
{
	char path[108];
	char *s;
	int err;
	bool done;

	memset(&profile_opt, 0, sizeof(profile_opt));
	err = rtv_cli_parse_noargs(profile_opts, profile_usage, argc, argv, &done);
	if (err || done)
		return err;
	err = absolute(profile_opt.listener ? profile_opt.listener : PROFILE_DEFAULT_LISTENER, path,
		       sizeof(path));
	if (err < 0) {
		rtv_cli_error("option '--listener': cannot use '%s': %s%s", profile_opt.listener,
			      strerror(-err), err == -ENAMETOOLONG ? " (107 bytes at most)" : "");
		return RTV_EXIT_USAGE;
	}
	s = rtv_oci_profile_json(path, profile_opt.metadata);
	if (!s) {
		rtv_cli_error("cannot make the profile: %s", strerror(ENOMEM));
		return RTV_EXIT_FAIL;
	}
	printf("%s\n", s);
	free(s);
	return fflush(stdout) ? RTV_EXIT_FAIL : RTV_EXIT_OK;
}

static const char *id_of(const struct rtv_oci_container *c)
{
	return c->state.id[0] ? c->state.id : "?";
}

static void serve_event(void *arg, enum rtv_oci_event ev, const struct rtv_oci_container *c, int err)
{
	const struct rtv_outsource_stats *st = &c->stats;
	unsigned *ended = arg;

	switch (ev) {
	case RTV_OCI_ACCEPTED:
		if (!c->own_cgroup && c->cgroup[0])
			rtv_cli_info("container '%s' (pid %d) has no cgroup v2 cgroup of its own: "
				     "its sockets are charged to '%s'", id_of(c), (int)c->state.pid,
				     c->cgroup);
		verbose("container '%s' (pid %d, bundle '%s', metadata '%s'): supervised, helper "
			"pid %d in '%s' as %u:%u, features:%s%s",
			id_of(c), (int)c->state.pid, c->state.bundle, c->state.metadata,
			(int)rtv_outsource_helper_pid(c->o), c->cgroup[0] ? c->cgroup : "rtvnet's cgroup",
			(unsigned)c->uid, (unsigned)c->gid,
			(c->features & RTV_OUTSOURCE_WAIT_KILLABLE) ? " wait-killable" : "",
			(c->features & RTV_OUTSOURCE_SYNC_WAKEUP) ? " sync-wakeup" : "");
		break;
	case RTV_OCI_REFUSED:
		if (c->state.pid)
			rtv_cli_error("cannot supervise container '%s' (pid %d): %s; its IPv4/IPv6 "
				      "socket() calls fail with ENOSYS", id_of(c), (int)c->state.pid,
				      strerror(-err));
		else
			rtv_cli_error("a runtime's hand-over at '%s' was refused: %s", serve_opt.listener,
				      err == -EPROTO ? "not an OCI state with a seccompFd" : strerror(-err));
		break;
	case RTV_OCI_ENDED:
		(*ended)++;
		printf("container %s: %" PRIu64 " notifications, %" PRIu64 " sockets made, %" PRIu64
		       " refused, %" PRIu64 " skipped (nested namespace), %" PRIu64
		       " callers gone; slowest %.1f us%s\n",
		       id_of(c), st->notifications, st->sockets, st->refused, st->skipped, st->gone,
		       (double)st->max_ns / 1e3,
		       c->still_running ? "; still running: its IPv4/IPv6 socket() calls now fail "
					  "with ENOSYS" : "");
		fflush(stdout);
		break;
	}
}

static int outsource_serve(int argc, char **argv)
{
	struct rtv_oci_serve_cfg cfg = { 0 };
	struct stat sb;
	char path[108];
	unsigned ended = 0;
	int err, fd = -1;
	bool done;

	memset(&serve_opt, 0, sizeof(serve_opt));
	err = rtv_cli_parse_noargs(serve_opts, serve_usage, argc, argv, &done);
	if (err || done)
		return err;
	if (!serve_opt.listener) {
		rtv_cli_error("option '--listener' is required: the path the runtimes connect to "
			      "(the profile's listenerPath)");
		return RTV_EXIT_USAGE;
	}
	err = absolute(serve_opt.listener, path, sizeof(path));
	if (err < 0) {
		rtv_cli_error("option '--listener': cannot use '%s': %s%s", serve_opt.listener,
			      strerror(-err), err == -ENAMETOOLONG ? " (107 bytes at most)" : "");
		return RTV_EXIT_USAGE;
	}
	if (!lstat(path, &sb) && !S_ISSOCK(sb.st_mode)) {
		rtv_cli_error("option '--listener': '%s' exists and is not a socket", path);
		return RTV_EXIT_USAGE;
	}
	if (check_netns_policy(serve_opt.netns, serve_opt.policy))
		return RTV_EXIT_USAGE;
	err = rtv_cli_catch_signals();
	if (err)
		return err;
	err = rtv_oci_listen(path, &fd);
	if (err == -EEXIST || err == -EADDRINUSE) {
		rtv_cli_error("option '--listener': '%s' %s", path,
			      err == -EEXIST ? "exists and is not a socket"
					     : "is in use: another supervisor listens there");
		return RTV_EXIT_USAGE;
	}
	if (err < 0) {
		rtv_cli_error("cannot listen at '%s': %s", path, strerror(-err));
		return RTV_EXIT_FAIL;
	}
	verbose("listening at '%s'; sockets made in %s", path,
		serve_opt.netns ? serve_opt.netns : "rtvnet's namespace");
	cfg.listen_fd = fd;
	cfg.target_netns = serve_opt.netns;
	cfg.policy_path = serve_opt.policy;
	cfg.sync_wakeup = !serve_opt.no_sync;
	cfg.once = serve_opt.once;
	cfg.event = serve_event;
	cfg.arg = &ended;
	err = rtv_oci_serve(&cfg, &rtv_cli_stop);
	close(fd); /* the file goes with the journal entry, at exit */
	if (err < 0) {
		rtv_cli_error("serving at '%s' failed: %s", path, strerror(-err));
		return RTV_EXIT_FAIL;
	}
	verbose("%u container%s served", ended, ended == 1 ? "" : "s");
	return RTV_EXIT_OK;
}

int cmd_outsource(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int ret;

	m = rtv_cli_mode(cmd_outsource_modes, argc, argv, &ret);
	if (!m)
		return ret;
	if (!strcmp(m->name, "serve"))
		return outsource_serve(argc - 1, argv + 1);
	if (!strcmp(m->name, "profile"))
		return outsource_profile(argc - 1, argv + 1);
	return outsource_run(argc - 1, argv + 1);
}
