/* Options are declared in a table together with their defaults: the default
 * is whatever the variable a row points at holds before parsing, and the help
 * text prints it from there (xdp-tools' DEFINE_OPTION, git's OPT_*). */
#ifndef RTV_CLI_OPTS_H
#define RTV_CLI_OPTS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rtv_opt_type {
	RTV_OPT_END = 0,
	RTV_OPT_FLAG,     /* bool *: set to true, no argument */
	RTV_OPT_INT,      /* long long *: integer within [min, max] */
	RTV_OPT_DOUBLE,   /* double *: within [min, max] */
	RTV_OPT_STRING,   /* const char **: points into argv */
	RTV_OPT_DURATION, /* int64_t * ns: "20s", "500ms", "100us", "250ns"; bare number in `unit_ns`;
			     > 0, or >= 0 with RTV_OPT_ZERO_OK */
	RTV_OPT_RANGE,    /* int64_t[2] ns: "1ms-10ms" or "5ms" (both ends equal); bare numbers in `unit_ns`; 0 < min <= max */
	RTV_OPT_CPUS,     /* cpu_set_t *: "0-2,5"; each CPU present and online */
	RTV_OPT_CHOICE,   /* const char **: one of the NULL-terminated `choices` */
	RTV_OPT_RATE,     /* double * bits/s: "500M", "1.5G", "800k", "2000000", "0" (rtv_parse_rate) */
	RTV_OPT_CPU,      /* int *: one CPU number, present and online; a negative value means none */
	RTV_OPT_ADDR,     /* const char **: a numeric IPv4 or IPv6 address (IPv6 with %SCOPE), points
			     into argv; checked with rtv_sockaddr_parse() in the namespace parsing runs in */
};

/* rtv_opt.flags */
#define RTV_OPT_ZERO_OK 0x1u /* RTV_OPT_DURATION: 0 is a value (e.g. "no warm-up"), not an error */

struct rtv_opt {
	const char *long_name; /* without the leading "--" */
	char short_name;       /* 0 for none */
	enum rtv_opt_type type;
	void *value;
	const char *arg_name;  /* shown in help: "--duration S" */
	const char *help;
	long long min, max;    /* RTV_OPT_INT / RTV_OPT_DOUBLE bounds (inclusive) */
	int64_t unit_ns;       /* RTV_OPT_DURATION / RTV_OPT_RANGE: unit of a bare number */
	const char *const *choices;
	bool *set;             /* optional: set to true when the option is given, so that a
				  value may be absent whatever the variable holds */
	const char *what;      /* optional: the kind of value, "a vCPU number"; every parse or
				  range error of the row is then "option '--vcpu': '-1' is not a
				  vCPU number" */
	unsigned flags;        /* RTV_OPT_ZERO_OK */
};

/* The rows. Each macro ends with the help text, which may be followed by
 * designated initializers of the optional fields:
 *   RTV_OPT_INT_DEF("vcpu", 0, &o.vcpu, "K", 0, INT_MAX, "the vCPU",
 *                   .set = &o.vcpu_given, .what = "a vCPU number")
 * The help text prints the default from the variable: nothing for a NULL
 * string, an empty CPU set, a duration, rate or CPU that is not set (0, or
 * negative; 0 is shown for RTV_OPT_ZERO_OK), or an integer outside the
 * row's bounds (its "none"). */
#define RTV_OPT_FLAG_DEF(l, s, v, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_FLAG, .value = (v), .help = __VA_ARGS__ }
#define RTV_OPT_INT_DEF(l, s, v, a, lo, hi, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_INT, .value = (v), .arg_name = (a), \
	  .min = (lo), .max = (hi), .help = __VA_ARGS__ }
#define RTV_OPT_DOUBLE_DEF(l, s, v, a, lo, hi, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_DOUBLE, .value = (v), .arg_name = (a), \
	  .min = (lo), .max = (hi), .help = __VA_ARGS__ }
#define RTV_OPT_STRING_DEF(l, s, v, a, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_STRING, .value = (v), .arg_name = (a), \
	  .help = __VA_ARGS__ }
#define RTV_OPT_DURATION_DEF(l, s, v, a, unit, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_DURATION, .value = (v), .arg_name = (a), \
	  .unit_ns = (unit), .help = __VA_ARGS__ }
#define RTV_OPT_RANGE_DEF(l, s, v, a, unit, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_RANGE, .value = (v), .arg_name = (a), \
	  .unit_ns = (unit), .help = __VA_ARGS__ }
#define RTV_OPT_CPUS_DEF(l, s, v, a, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_CPUS, .value = (v), .arg_name = (a), \
	  .help = __VA_ARGS__ }
#define RTV_OPT_CHOICE_DEF(l, s, v, a, ch, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_CHOICE, .value = (v), .arg_name = (a), \
	  .choices = (ch), .help = __VA_ARGS__ }
#define RTV_OPT_RATE_DEF(l, s, v, a, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_RATE, .value = (v), .arg_name = (a), \
	  .help = __VA_ARGS__ }
#define RTV_OPT_CPU_DEF(l, s, v, a, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_CPU, .value = (v), .arg_name = (a), \
	  .help = __VA_ARGS__ }
#define RTV_OPT_ADDR_DEF(l, s, v, a, ...) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_ADDR, .value = (v), .arg_name = (a), \
	  .help = __VA_ARGS__ }
#define RTV_OPT_END_DEF { .type = RTV_OPT_END }

/* Parse argv[1..argc-1] against the table. Accepts "--name value",
 * "--name=value", "-s value" and "-h"/"--help". Non-option arguments are
 * moved, in order, to argv[1..]; their number is stored in *nargs.
 * Returns 0, 1 when help was asked for, or -EINVAL with a message in err
 * naming the option and what is wrong: "option '--interval': minimum 10ms is
 * greater than maximum 1ms", or the row's `what`. A CPU that is not present
 * or not online is named: "option '--rt-cpu': CPU 7 does not exist (this
 * machine has CPUs 0-1)". Nothing is printed. */
int rtv_opts_parse(const struct rtv_opt *opts, int argc, char **argv, int *nargs,
		   char *err, size_t errlen);

/* Print "usage: <usage>\n\n" and one line per option with its default. */
void rtv_opts_usage(FILE *f, const char *usage, const struct rtv_opt *opts);

/* Print the same as man page text in scdoc syntax: per option (and -h) its
 * names and argument in bold and underlined, then, indented, the help text
 * with the default and choices as -h shows them. */
void rtv_opts_scdoc(FILE *f, const struct rtv_opt *opts);

/* CPU rows check CPUs against <root>/sys/devices/system/cpu/{present,online}
 * (rtv_cpus_read); "" (the default) is this host. For tests. */
void rtv_opts_set_sys_root(const char *root);

#endif
