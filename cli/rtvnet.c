/* rtvnet: the front end. It owns printing, exit codes and argument parsing;
 * subcommands are dispatched from commands[] (git's git.c, iproute2's ip.c). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "host/journal.h"
#include "util/log.h"

/* Keep sorted as shown in `rtvnet help`. See builtin.h to add one. */
static const struct rtv_cmd commands[] = {
	{ "analyze", cmd_analyze, "reservations (SCHED_DEADLINE) for a periodic taskset, partitioned or global", 0,
	  cmd_analyze_modes },
	{ "apply", cmd_apply, "apply a receive-path method to this host's devices until stopped",
	  RTV_CMD_NEEDS_ROOT, cmd_apply_modes },
	{ "compare", cmd_compare, "run the RT service (NetRT, memcached, SIP) under bulk streams with each method, side by side",
	  RTV_CMD_NEEDS_ROOT | RTV_CMD_JOURNAL, cmd_compare_modes },
	{ "testbed", cmd_testbed, "bring the built-in testbed of namespaces and veth pairs up or down",
	  RTV_CMD_NEEDS_ROOT, cmd_testbed_modes },
	{ "outsource", cmd_outsource, "run a program with its IPv4/IPv6 sockets made in another network namespace",
	  RTV_CMD_NEEDS_ROOT | RTV_CMD_JOURNAL, cmd_outsource_modes },
	{ "netrt", cmd_netrt, "the RT UDP echo service and its open-loop latency client", 0, cmd_netrt_modes },
	{ "memcached", cmd_memcached, "an open-loop memcached client (gets, sets; TCP or UDP)", 0,
	  cmd_memcached_modes },
	{ "sip", cmd_sip, "an open-loop SIP client: OPTIONS transactions through a proxy", 0,
	  cmd_sip_modes },
	{ "stream", cmd_stream, "bulk TCP/UDP traffic: the co-located non-RT load", 0, cmd_stream_modes },
	{ "rfc2544", cmd_rfc2544, "RFC 2544 on the RT path per method: zero-loss throughput per frame size, latency at fixed rates",
	  0, cmd_rfc2544_modes },
	{ "reserve", cmd_reserve, "reserve CPU time for threads or groups (SCHED_DEADLINE, cpu.max)",
	  RTV_CMD_NEEDS_ROOT, cmd_reserve_modes },
	{ "revert", cmd_revert, "stop a running apply and undo every host change rtvnet left",
	  RTV_CMD_NEEDS_ROOT, cmd_revert_modes },
	{ "taskset", cmd_taskset, "run a periodic taskset and report its response times", 0,
	  cmd_taskset_modes },
	{ "trace", cmd_trace, "where an RT UDP service's latency is spent, stage by stage (BPF)",
	  RTV_CMD_NEEDS_ROOT, cmd_trace_modes },
	{ "runtimes", cmd_runtimes, "hosting environments compared: timer latency, startup, memory",
	  RTV_CMD_NEEDS_ROOT | RTV_CMD_JOURNAL, cmd_runtimes_modes },
	{ "status", cmd_status, "what rtvnet has in place on this host now", 0, cmd_status_modes },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int rtv_verbosity = 1;
int rtv_argc;
char **rtv_argv;
static const char *cmd_name = "rtvnet";
static char help_name[96] = "rtvnet"; /* the command, and its mode once known: "rtvnet netrt client" */

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", cmd_name, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void rtv_cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void rtv_cli_warn(const char *fmt, ...)
{
	va_list ap;

	if (rtv_verbosity < 1)
		return;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void rtv_cli_info(const char *fmt, ...)
{
	va_list ap;

	if (rtv_verbosity < 1)
		return;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

static void lib_log(enum rtv_log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "", "warning: ", "", "debug: " };

	if ((level == RTV_LOG_INFO && rtv_verbosity < 1) ||
	    (level == RTV_LOG_WARN && rtv_verbosity < 1) ||
	    (level == RTV_LOG_DEBUG && rtv_verbosity < 2))
		return;
	vreport(prefix[level], fmt, ap);
}

int rtv_cli_parse(const struct rtv_opt *opts, const char *usage, int argc, char **argv,
		  int *nargs, bool *done)
{
	char err[256];
	int ret;

	*done = false;
	ret = rtv_opts_parse(opts, argc, argv, nargs, err, sizeof(err));
	if (ret == 1) {
		rtv_opts_usage(stdout, usage, opts);
		*done = true;
		return 0;
	}
	if (ret < 0) {
		rtv_cli_error("%s", err);
		fprintf(stderr, "run '%s -h' for the options\n", help_name);
		return RTV_EXIT_USAGE;
	}
	return 0;
}

void rtv_cli_path_beside(const char *path, const char *suffix, char *buf, size_t len)
{
	const char *dot = strrchr(path, '.');
	int n = dot && !strchr(dot, '/') ? (int)(dot - path) : (int)strlen(path);

	snprintf(buf, len, "%.*s%s", n, path, suffix);
}

void rtv_cli_results_path(const char *given, const char *name, char *buf, size_t len)
{
	char stamp[32];
	time_t now;
	struct tm tm;

	if (given) {
		snprintf(buf, len, "%s", given);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "results/%s-%s.json", name, stamp);
}

const struct rtv_opt rtv_cli_no_opts[] = { RTV_OPT_END_DEF };

int rtv_cli_parse_noargs(const struct rtv_opt *opts, const char *usage, int argc, char **argv,
			 bool *done)
{
	int nargs, ret = rtv_cli_parse(opts, usage, argc, argv, &nargs, done);

	if (ret || *done)
		return ret;
	if (nargs) {
		rtv_cli_error("takes no arguments, got '%s'", argv[1]);
		return RTV_EXIT_USAGE;
	}
	return 0;
}

static void mode_usage(FILE *f, const struct rtv_cmd_mode *m)
{
	if (m->opts)
		rtv_opts_usage(f, m->usage, m->opts);
	else
		fprintf(f, "usage: %s\n", m->usage);
}

const struct rtv_cmd_mode *rtv_cli_mode(const struct rtv_cmd_mode *modes, int argc, char **argv,
					int *ret)
{
	const struct rtv_cmd_mode *m;
	char list[256] = "";
	size_t off = 0;

	*ret = RTV_EXIT_USAGE;
	if (argc < 2) {
		mode_usage(stderr, &modes[0]);
		return NULL;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		mode_usage(stdout, &modes[0]);
		*ret = RTV_EXIT_OK;
		return NULL;
	}
	for (m = modes; m->usage; m++) {
		if (!m->name)
			continue;
		if (!strcmp(m->name, argv[1])) {
			snprintf(help_name + strlen(help_name), sizeof(help_name) - strlen(help_name),
				 " %s", m->name);
			*ret = RTV_EXIT_OK;
			return m;
		}
		if (off < sizeof(list))
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
						m->name);
	}
	rtv_cli_error("'%s' is not one of %s", argv[1], list);
	return NULL;
}

volatile sig_atomic_t rtv_cli_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	rtv_cli_stop = 1;
}

int rtv_cli_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	/* no SA_RESTART: blocking calls return EINTR at once; no SA_RESETHAND: a
	 * second signal (timeout(1) signals the child, then its group; systemd
	 * the whole cgroup) must not kill the run before it undoes its changes */
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL)) {
		rtv_cli_error("cannot catch SIGINT/SIGTERM: %s", strerror(errno));
		return RTV_EXIT_FAIL;
	}
	return 0;
}

int rtv_cli_host_lock(void)
{
	pid_t holder;
	int err, ret;

	err = rtv_journal_open(RTV_JOURNAL_DIR, &holder);
	if (err < 0) {
		if (err == -EWOULDBLOCK && holder > 0)
			rtv_cli_error("another rtvnet (pid %d) is changing this host (lock '%s/lock' "
				      "is held); nothing was changed", (int)holder, RTV_JOURNAL_DIR);
		else if (err == -EWOULDBLOCK)
			rtv_cli_error("another rtvnet is changing this host (lock '%s/lock' is held); "
				      "nothing was changed", RTV_JOURNAL_DIR);
		else
			rtv_cli_error("cannot open the journal in '%s': %s", RTV_JOURNAL_DIR,
				      strerror(-err));
		return err;
	}
	ret = rtv_journal_recover();
	if (ret > 0)
		rtv_cli_info("recovered from an earlier run that did not finish: undid %d change%s",
			     ret, ret == 1 ? "" : "s");
	else if (ret < 0)
		rtv_cli_warn("recovering an earlier run's changes failed: %s; the changes not undone "
			     "stay in the journal ('rtvnet status' lists them) and are retried at the "
			     "next start", strerror(-ret));
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: rtvnet [-v | -q] COMMAND [OPTIONS]\n\n"
		   "Real-time network services on stock Linux, compared by measurement.\n\n"
		   "commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nrun 'rtvnet COMMAND -h' for a command's options\n");
}

/* rtvnet help: the list of commands; hidden, for the build and the tests:
 * "help --man PAGE" (see rtv_cli_man) and "help --modes COMMAND", the
 * command's sub-words, one a line. */
static int help(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	size_t i;

	if (argc == 3 && !strcmp(argv[1], "--man"))
		return rtv_cli_man(commands, NCOMMANDS, argv[2], stdin, stdout);
	if (argc == 3 && !strcmp(argv[1], "--modes")) {
		for (i = 0; i < NCOMMANDS && strcmp(commands[i].name, argv[2]); i++)
			;
		if (i == NCOMMANDS) {
			rtv_cli_error("'%s' is not an rtvnet command; see 'rtvnet help'", argv[2]);
			return RTV_EXIT_USAGE;
		}
		for (m = commands[i].modes; m->usage; m++)
			if (m->name)
				printf("%s\n", m->name);
		return RTV_EXIT_OK;
	}
	usage(stdout);
	return RTV_EXIT_OK;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	const struct rtv_cmd *cmd = NULL;
	static char namebuf[64];
	size_t i;
	int ret;

	/* a copy: option parsing reorders argv in place */
	static char *argv_copy[256];
	rtv_argc = argc < 255 ? argc : 255;
	memcpy(argv_copy, argv, (size_t)rtv_argc * sizeof(*argv));
	rtv_argv = argv_copy;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rtv_log_set(lib_log);
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-v")) {
			rtv_verbosity = 2;
		} else if (!strcmp(argv[1], "-q")) {
			rtv_verbosity = 0;
		} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return RTV_EXIT_OK;
		} else if (!strcmp(argv[1], "--version")) {
			printf("rtvnet %s\n", RTV_VERSION);
			return RTV_EXIT_OK;
		} else {
			rtv_cli_error("unknown option '%s'", argv[1]);
			usage(stderr);
			return RTV_EXIT_USAGE;
		}
		argc--;
		argv++;
	}
	if (argc >= 2 && !strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (argc < 2) {
		usage(stderr);
		return RTV_EXIT_USAGE;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		rtv_cli_error("'%s' is not an rtvnet command; see 'rtvnet help'", argv[1]);
		return RTV_EXIT_USAGE;
	}
	snprintf(namebuf, sizeof(namebuf), "rtvnet %s", cmd->name);
	cmd_name = namebuf;
	snprintf(help_name, sizeof(help_name), "%s", namebuf);
	argc--;
	argv++;

	if (!wants_help(argc, argv)) {
		if ((cmd->flags & RTV_CMD_NEEDS_ROOT) && geteuid() != 0) {
			rtv_cli_error("needs root: it changes namespaces, cgroups and scheduling (run as root)");
			return RTV_EXIT_USAGE;
		}
		if ((cmd->flags & RTV_CMD_JOURNAL) && rtv_cli_host_lock() < 0)
			return RTV_EXIT_FAIL;
	}
	ret = cmd->fn(argc, argv);
	rtv_journal_close();
	return ret;
}
