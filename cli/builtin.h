/* The subcommands of rtvnet, dispatched from commands[] in rtvnet.c.
 *
 * Adding a subcommand:
 *  1. write cli/cmd-<name>.c with `int cmd_<name>(int argc, char **argv)`;
 *     argv[0] is the subcommand's own name; parse with rtv_opts_parse() and
 *     answer -h/--help from the same option table;
 *  2. declare it below and add a row to commands[] in rtvnet.c;
 *  3. add the file to cli/meson.build and a man page doc/rtvnet-<name>.8.scd
 *     (or a section in the README until then);
 *  4. add tests/integration/tNNNN-<name>-<detail>.sh.
 * Return 0 on success, 1 on failure, 2 on a usage error (RTV_EXIT_*). */
#ifndef RTV_CLI_BUILTIN_H
#define RTV_CLI_BUILTIN_H

#include <signal.h>
#include <stdbool.h>

#include "host/journal.h"
#include "opts.h"

enum { RTV_EXIT_OK = 0, RTV_EXIT_FAIL = 1, RTV_EXIT_USAGE = 2 };

struct rtv_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	unsigned flags;
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
/* A foreground command holding host changes until it is stopped (`apply`,
 * `reserve --duration`) says so in RTV_CLI_SERVICE_FILE, "PID STARTTIME WHAT
 * DETAIL", so that `revert` can stop it and `status` show it; it removes
 * the file when it ends. */
#define RTV_CLI_SERVICE_FILE RTV_JOURNAL_DIR "/apply"
int rtv_cli_service_write(const char *what, const char *detail);
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

/* Parse a subcommand's options; prints usage on -h (returns 0 with *done set),
 * and prints the error and returns 2 on bad input. */
int rtv_cli_parse(const struct rtv_opt *opts, const char *usage, int argc, char **argv,
		  int *nargs, bool *done);

#endif
