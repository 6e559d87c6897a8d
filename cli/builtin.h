/* The subcommands of rtvnet, dispatched from commands[] in rtvnet.c.
 *
 * Adding a subcommand:
 *  1. write cli/cmd-<name>.c with `int cmd_<name>(int argc, char **argv)`;
 *     argv[0] is the subcommand's own name;
 *  2. declare its options at file scope: the variables they set (one static
 *     struct, initialised with the defaults; defaults known only at run time
 *     are set in cmd_<name> before parsing), the rtv_opt table pointing at
 *     them, and `const struct rtv_cmd_mode cmd_<name>_modes[]`: the command's
 *     own row (name NULL) and, for sub-words ("rtvnet netrt client"), one row
 *     per word, ending with a row whose usage is NULL. Parse with
 *     rtv_cli_parse(mode's opts, mode's usage, ...), which answers -h; a
 *     command with sub-words finds its mode with rtv_cli_mode();
 *  3. declare cmd_<name> and cmd_<name>_modes below and add a row to
 *     commands[] in rtvnet.c;
 *  4. add the file to cli/meson.build, and the man page cli/rtvnet-<name>.8.scd
 *     to the pages there: hand-written, with a line `%OPTIONS%` where the
 *     OPTIONS section generated from the modes goes (the build fails without
 *     it, and when a page cites an rtvnet page that does not exist);
 *  5. add tests/integration/tNNNN-<name>-<detail>.sh; t0001 checks -h of
 *     every command and mode and that the page was built.
 * Return 0 on success, 1 on failure, 2 on a usage error (RTV_EXIT_*). */
#ifndef RTV_CLI_BUILTIN_H
#define RTV_CLI_BUILTIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "host/journal.h"
#include "opts.h"

enum { RTV_EXIT_OK = 0, RTV_EXIT_FAIL = 1, RTV_EXIT_USAGE = 2 };

/* One way of calling a command ("rtvnet netrt client" is netrt's mode
 * "client"); its -h and its part of the man page's OPTIONS come from it. */
struct rtv_cmd_mode {
	const char *name;           /* the sub-word; NULL: the command itself */
	const char *usage;          /* what -h prints after "usage: " */
	const struct rtv_opt *opts; /* NULL: nothing to parse or document (the
				       overview of a command with sub-words) */
};

struct rtv_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	unsigned flags;
	const struct rtv_cmd_mode *modes; /* the command's own row first; ends with
					     a row whose usage is NULL */
};
#define RTV_CMD_NEEDS_ROOT 0x1u /* refuse early, exit 2, before touching the host */
#define RTV_CMD_JOURNAL    0x2u /* takes the host lock and recovers leftovers first */

int cmd_testbed(int argc, char **argv);
int cmd_netrt(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_revert(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reserve(int argc, char **argv);
int cmd_taskset(int argc, char **argv);
int cmd_outsource(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_runtimes(int argc, char **argv);
int cmd_memcached(int argc, char **argv);
int cmd_sip(int argc, char **argv);
int cmd_rfc2544(int argc, char **argv);
extern const struct rtv_cmd_mode cmd_testbed_modes[];
extern const struct rtv_cmd_mode cmd_netrt_modes[];
extern const struct rtv_cmd_mode cmd_stream_modes[];
extern const struct rtv_cmd_mode cmd_compare_modes[];
extern const struct rtv_cmd_mode cmd_revert_modes[];
extern const struct rtv_cmd_mode cmd_analyze_modes[];
extern const struct rtv_cmd_mode cmd_apply_modes[];
extern const struct rtv_cmd_mode cmd_status_modes[];
extern const struct rtv_cmd_mode cmd_reserve_modes[];
extern const struct rtv_cmd_mode cmd_taskset_modes[];
extern const struct rtv_cmd_mode cmd_rfc2544_modes[];
extern const struct rtv_cmd_mode cmd_outsource_modes[];
extern const struct rtv_cmd_mode cmd_trace_modes[];
extern const struct rtv_cmd_mode cmd_runtimes_modes[];
extern const struct rtv_cmd_mode cmd_memcached_modes[];
extern const struct rtv_cmd_mode cmd_sip_modes[];
/* A foreground command holding host changes until it is stopped (`apply`,
 * `reserve --duration`) says so in RTV_CLI_SERVICE_FILE, "PID STARTTIME WHAT
 * DETAIL", so that `revert` can stop it and `status` show it; it removes
 * the file when it ends. */
#define RTV_CLI_SERVICE_FILE RTV_JOURNAL_DIR "/apply"
int rtv_cli_service_write(const char *what, const char *detail); /* warns when it cannot */
/* The end of such a service: undo the journal to mark, remove the file, say
 * how many changes were undone; RTV_EXIT_OK, or RTV_EXIT_FAIL when an undo
 * failed. */
int rtv_cli_service_end(size_t mark);
/* Stop a running `rtvnet apply` and wait until it has undone its changes. */
int rtv_cli_stop_apply(void);

/* Printing for subcommands: the only place that writes to stderr. */
extern int rtv_argc;     /* the whole command line, for results' metadata */
extern char **rtv_argv;
extern int rtv_verbosity; /* 0 quiet, 1 normal, 2 verbose (-v) */
void rtv_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rtv_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rtv_cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set by SIGINT, SIGTERM and SIGHUP once rtv_cli_catch_signals() ran: the
 * command finishes its current step, undoes its changes and returns. A second
 * signal ends the process (the journal then recovers at the next start). */
extern volatile sig_atomic_t rtv_cli_stop;
int rtv_cli_catch_signals(void);

/* Take the host lock and undo what a crashed run left; prints why it cannot.
 * Commands flagged RTV_CMD_JOURNAL get this before they run. */
int rtv_cli_host_lock(void);

/* path with its extension (the last ".x" of its last component) replaced by
 * suffix: "r/c.json", ".svg" -> "r/c.svg"; a results file's pictures. */
void rtv_cli_path_beside(const char *path, const char *suffix, char *buf, size_t len);
/* A results file: given (an option's value) when not NULL, else
 * results/NAME-<UTC time>.json. */
void rtv_cli_results_path(const char *given, const char *name, char *buf, size_t len);

/* Parse a subcommand's options; prints usage on -h (returns 0 with *done set),
 * and prints the error and returns 2 on bad input. */
int rtv_cli_parse(const struct rtv_opt *opts, const char *usage, int argc, char **argv,
		  int *nargs, bool *done);
/* The same for a command that takes options only: an argument is a usage
 * error ("takes no arguments, got 'x'"). */
int rtv_cli_parse_noargs(const struct rtv_opt *opts, const char *usage, int argc, char **argv,
			 bool *done);
/* The options of a command that has none (-h only). */
extern const struct rtv_opt rtv_cli_no_opts[];

/* A command with sub-words: the mode argv[1] names, whose function then gets
 * argc - 1, argv + 1. NULL when there is none to run, with *ret 0 when -h
 * printed the command's own usage (modes[0]), or 2 after printing the usage
 * (no word) or "'WORD' is not one of server, client". */
const struct rtv_cmd_mode *rtv_cli_mode(const struct rtv_cmd_mode *modes, int argc, char **argv,
					int *ret);

/* rtvnet help --man PAGE (hidden, for the build): copy the hand-written man
 * page on `in` to `out`, replacing its line "%OPTIONS%" with the OPTIONS
 * section made from the command's modes (PAGE a command), or "%COMMANDS%"
 * with the list of commands (PAGE "rtvnet"). Fails, with the message
 * printed, when the marker is missing or repeated, or when the page cites
 * rtvnet-WORD(8) and WORD is not a command. Returns an exit code. */
int rtv_cli_man(const struct rtv_cmd *cmds, size_t n, const char *page, FILE *in, FILE *out);

#endif
