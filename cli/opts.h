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
	RTV_OPT_DURATION, /* int64_t * ns: "20s", "500ms", "100us", "250ns"; bare number in `unit_ns`; > 0 */
	RTV_OPT_RANGE,    /* int64_t[2] ns: "1ms-10ms" or "5ms" (both ends equal); bare numbers in `unit_ns`; 0 < min <= max */
	RTV_OPT_CPUS,     /* cpu_set_t *: "0-2,5"; each CPU must exist (< number of configured CPUs) */
	RTV_OPT_CHOICE,   /* const char **: one of the NULL-terminated `choices` */
};

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
};

#define RTV_OPT_FLAG_DEF(l, s, v, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_FLAG, .value = (v), .help = (h) }
#define RTV_OPT_INT_DEF(l, s, v, a, lo, hi, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_INT, .value = (v), .arg_name = (a), \
	  .min = (lo), .max = (hi), .help = (h) }
#define RTV_OPT_DOUBLE_DEF(l, s, v, a, lo, hi, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_DOUBLE, .value = (v), .arg_name = (a), \
	  .min = (lo), .max = (hi), .help = (h) }
#define RTV_OPT_STRING_DEF(l, s, v, a, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_STRING, .value = (v), .arg_name = (a), .help = (h) }
#define RTV_OPT_DURATION_DEF(l, s, v, a, unit, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_DURATION, .value = (v), .arg_name = (a), \
	  .unit_ns = (unit), .help = (h) }
#define RTV_OPT_RANGE_DEF(l, s, v, a, unit, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_RANGE, .value = (v), .arg_name = (a), \
	  .unit_ns = (unit), .help = (h) }
#define RTV_OPT_CPUS_DEF(l, s, v, a, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_CPUS, .value = (v), .arg_name = (a), .help = (h) }
#define RTV_OPT_CHOICE_DEF(l, s, v, a, ch, h) \
	{ .long_name = (l), .short_name = (s), .type = RTV_OPT_CHOICE, .value = (v), .arg_name = (a), \
	  .choices = (ch), .help = (h) }
#define RTV_OPT_END_DEF { .type = RTV_OPT_END }

/* Parse argv[1..argc-1] against the table. Accepts "--name value",
 * "--name=value", "-s value" and "-h"/"--help". Non-option arguments are
 * moved, in order, to argv[1..]; their number is stored in *nargs.
 * Returns 0, 1 when help was asked for, or -EINVAL with a message in err
 * naming the option and what is wrong: "option '--interval': minimum 10ms is
 * greater than maximum 1ms". Nothing is printed. */
int rtv_opts_parse(const struct rtv_opt *opts, int argc, char **argv, int *nargs,
		   char *err, size_t errlen);

/* Print "usage: <usage>\n\n" and one line per option with its default. */
void rtv_opts_usage(FILE *f, const char *usage, const struct rtv_opt *opts);

#endif
