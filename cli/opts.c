/* The option table parser and its help text; see opts.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "util/parse.h"
#include "util/banned.h"

#define DURATION_HINT "use e.g. 20s, 500ms, 100us or 250ns"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The name an option goes by in messages: "--duration", or "-d" for a row
 * without a long name. */
static const char *opt_name(const struct rtv_opt *o, char *buf, size_t len)
{
	if (o->long_name)
		snprintf(buf, len, "--%s", o->long_name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

static bool takes_value(const struct rtv_opt *o)
{
	return o->type != RTV_OPT_FLAG;
}

static const struct rtv_opt *find_long(const struct rtv_opt *opts, const char *name, size_t len)
{
	const struct rtv_opt *o;

	for (o = opts; o->type != RTV_OPT_END; o++)
		if (o->long_name && strlen(o->long_name) == len && !memcmp(o->long_name, name, len))
			return o;
	return NULL;
}

static const struct rtv_opt *find_short(const struct rtv_opt *opts, char c)
{
	const struct rtv_opt *o;

	for (o = opts; o->type != RTV_OPT_END; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

/* min == max == 0, as a row built without the macros has, means no bounds */
static bool has_bounds(const struct rtv_opt *o)
{
	return o->min || o->max;
}

static int ncpus_configured(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (n < 1)
		return 1;
	return n < CPU_SETSIZE ? (int)n : CPU_SETSIZE;
}

static void describe_cpus(int ncpus, char *buf, size_t len)
{
	if (ncpus == 1)
		snprintf(buf, len, "this machine has CPU 0");
	else
		snprintf(buf, len, "this machine has CPUs 0-%d", ncpus - 1);
}

static int set_cpus(const struct rtv_opt *o, const char *name, const char *arg,
		    char *err, size_t errlen)
{
	char have[64];
	cpu_set_t set;
	int ncpus = ncpus_configured(), cpu, ret;

	ret = rtv_parse_cpulist(arg, ncpus, &set);
	if (ret == 0) {
		*(cpu_set_t *)o->value = set;
		return 0;
	}
	describe_cpus(ncpus, have, sizeof(have));
	if (ret == -ERANGE) {
		/* name the first CPU that is missing when the list is otherwise valid */
		if (rtv_parse_cpulist(arg, CPU_SETSIZE, &set) == 0) {
			for (cpu = ncpus; cpu < CPU_SETSIZE; cpu++) {
				if (CPU_ISSET(cpu, &set)) {
					set_err(err, errlen, "option '%s': CPU %d does not exist (%s)",
						name, cpu, have);
					return -EINVAL;
				}
			}
		}
		set_err(err, errlen, "option '%s': '%s' names a CPU that does not exist (%s)",
			name, arg, have);
		return -EINVAL;
	}
	set_err(err, errlen, "option '%s': '%s' is not a CPU list (use e.g. 0-2,5)", name, arg);
	return -EINVAL;
}

/* Explain why rtv_parse_duration() refused arg. */
static void duration_error(int ret, const char *name, const char *arg, char *err, size_t errlen)
{
	if (arg[0] == '-')
		set_err(err, errlen, "option '%s': must be greater than zero, not '%s'", name, arg);
	else if (ret == -ERANGE)
		set_err(err, errlen, "option '%s': '%s' is too long a duration", name, arg);
	else
		set_err(err, errlen, "option '%s': '%s' is not a duration (" DURATION_HINT ")",
			name, arg);
}

static int set_duration(const struct rtv_opt *o, const char *name, const char *arg,
			char *err, size_t errlen)
{
	int64_t ns;
	int ret;

	ret = rtv_parse_duration(arg, o->unit_ns, &ns);
	if (ret < 0) {
		duration_error(ret, name, arg, err, errlen);
		return -EINVAL;
	}
	if (ns <= 0) {
		set_err(err, errlen, "option '%s': must be greater than zero", name);
		return -EINVAL;
	}
	*(int64_t *)o->value = ns;
	return 0;
}

static int set_range(const struct rtv_opt *o, const char *name, const char *arg,
		     char *err, size_t errlen)
{
	char lo_s[32], hi_s[32], *half = NULL;
	const char *dash;
	int64_t lo, hi;
	int ret;

	ret = rtv_parse_range(arg, o->unit_ns, &lo, &hi);
	if (ret == 0) {
		if (lo <= 0) {
			set_err(err, errlen, "option '%s': must be greater than zero", name);
			return -EINVAL;
		}
		((int64_t *)o->value)[0] = lo;
		((int64_t *)o->value)[1] = hi;
		return 0;
	}
	/* the parser says only -EINVAL or -ERANGE; find out which end is wrong */
	dash = strchr(arg, '-');
	if (!dash || dash == arg) {
		duration_error(ret, name, arg, err, errlen);
		return -EINVAL;
	}
	half = strndup(arg, (size_t)(dash - arg));
	if (!half) {
		set_err(err, errlen, "option '%s': %s", name, strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = rtv_parse_duration(half, o->unit_ns, &lo);
	if (ret < 0) {
		duration_error(ret, name, half, err, errlen);
		goto out;
	}
	ret = rtv_parse_duration(dash + 1, o->unit_ns, &hi);
	if (ret < 0) {
		if (dash[1] == '\0' || dash[1] == '-')
			set_err(err, errlen, "option '%s': '%s' is not a range (use MIN-MAX, e.g. 1ms-10ms)",
				name, arg);
		else
			duration_error(ret, name, dash + 1, err, errlen);
		goto out;
	}
	rtv_duration_format(lo, lo_s, sizeof(lo_s));
	rtv_duration_format(hi, hi_s, sizeof(hi_s));
	set_err(err, errlen, "option '%s': minimum %s is greater than maximum %s", name, lo_s, hi_s);
out:
	free(half);
	return -EINVAL;
}

/* "builtin, iperf3", truncated to fit */
static void choices_join(const char *const *choices, char *buf, size_t len)
{
	const char *const *c;
	size_t off = 0;
	int n;

	buf[0] = '\0';
	for (c = choices; c && *c && off < len; c++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", *c);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int set_value(const struct rtv_opt *o, const char *arg, char *err, size_t errlen)
{
	const char *const *c;
	char name[64], list[256], *end;
	long long ll;
	double d;
	int ret;

	opt_name(o, name, sizeof(name));
	switch (o->type) {
	case RTV_OPT_INT:
		ret = rtv_parse_ll(arg, LLONG_MIN, LLONG_MAX, &ll);
		if (ret == -EINVAL) {
			set_err(err, errlen, "option '%s': '%s' is not a whole number", name, arg);
			return -EINVAL;
		}
		if (ret < 0 && !has_bounds(o)) {
			set_err(err, errlen, "option '%s': %s is too large", name, arg);
			return -EINVAL;
		}
		if (ret < 0) {
			set_err(err, errlen, "option '%s': %s is out of range %lld-%lld",
				name, arg, o->min, o->max);
			return -EINVAL;
		}
		if (has_bounds(o) && (ll < o->min || ll > o->max)) {
			set_err(err, errlen, "option '%s': %lld is out of range %lld-%lld",
				name, ll, o->min, o->max);
			return -EINVAL;
		}
		*(long long *)o->value = ll;
		return 0;
	case RTV_OPT_DOUBLE:
		errno = 0;
		d = strtod(arg, &end);
		/* strtod skips leading blanks and knows "inf" and "nan"; users mean numbers */
		if (!(arg[0] == '-' || arg[0] == '+' || arg[0] == '.' || (arg[0] >= '0' && arg[0] <= '9')) ||
		    end == arg || *end || !isfinite(d)) {
			set_err(err, errlen, "option '%s': '%s' is not a number", name, arg);
			return -EINVAL;
		}
		if (has_bounds(o) && (errno == ERANGE || d < (double)o->min || d > (double)o->max)) {
			set_err(err, errlen, "option '%s': %s is out of range %lld-%lld",
				name, arg, o->min, o->max);
			return -EINVAL;
		}
		if (errno == ERANGE) {
			set_err(err, errlen, "option '%s': %s is out of range", name, arg);
			return -EINVAL;
		}
		*(double *)o->value = d;
		return 0;
	case RTV_OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case RTV_OPT_DURATION:
		return set_duration(o, name, arg, err, errlen);
	case RTV_OPT_RANGE:
		return set_range(o, name, arg, err, errlen);
	case RTV_OPT_CPUS:
		return set_cpus(o, name, arg, err, errlen);
	case RTV_OPT_CHOICE:
		for (c = o->choices; c && *c; c++) {
			if (!strcmp(*c, arg)) {
				*(const char **)o->value = *c;
				return 0;
			}
		}
		choices_join(o->choices, list, sizeof(list));
		set_err(err, errlen, "option '%s': '%s' is not one of %s", name, arg, list);
		return -EINVAL;
	case RTV_OPT_FLAG:
		*(bool *)o->value = true;
		return 0;
	case RTV_OPT_END:
		break;
	}
	return -EINVAL;
}

/* One "-abc" word: flags may be bundled, and the last option letter may take
 * the rest of the word ("-d5s") or the next argument as its value. */
static int parse_short(const struct rtv_opt *opts, int argc, char **argv, int *i,
		       char *err, size_t errlen)
{
	const char *p = argv[*i] + 1, *arg;
	const struct rtv_opt *o;
	char name[64];

	for (; *p; p++) {
		if (*p == 'h' && !find_short(opts, 'h'))
			return 1;
		o = find_short(opts, *p);
		if (!o) {
			set_err(err, errlen, "unknown option '-%c'", *p);
			return -EINVAL;
		}
		if (!takes_value(o)) {
			*(bool *)o->value = true;
			continue;
		}
		if (p[1]) {
			arg = p + 1;
		} else if (*i + 1 < argc) {
			arg = argv[++*i];
		} else {
			set_err(err, errlen, "option '%s' needs a value", opt_name(o, name, sizeof(name)));
			return -EINVAL;
		}
		return set_value(o, arg, err, errlen);
	}
	return 0;
}

static int parse_long(const struct rtv_opt *opts, int argc, char **argv, int *i,
		      char *err, size_t errlen)
{
	const char *word = argv[*i] + 2, *eq = strchr(word, '='), *arg;
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	const struct rtv_opt *o;

	o = find_long(opts, word, len);
	if (!o && len == 4 && !memcmp(word, "help", 4))
		return 1;
	if (!o) {
		set_err(err, errlen, "unknown option '--%.*s'", (int)len, word);
		return -EINVAL;
	}
	if (!takes_value(o)) {
		if (eq) {
			set_err(err, errlen, "option '--%s' takes no value", o->long_name);
			return -EINVAL;
		}
		*(bool *)o->value = true;
		return 0;
	}
	if (eq) {
		arg = eq + 1;
	} else if (*i + 1 < argc) {
		arg = argv[++*i];
	} else {
		set_err(err, errlen, "option '--%s' needs a value", o->long_name);
		return -EINVAL;
	}
	return set_value(o, arg, err, errlen);
}

int rtv_opts_parse(const struct rtv_opt *opts, int argc, char **argv, int *nargs,
		   char *err, size_t errlen)
{
	int i, n = 0, ret = 0;
	bool only_args = false;

	if (err && errlen)
		err[0] = '\0';
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || a[1] == '\0') {
			/* a positional argument; "-" alone is one too (stdin) */
			argv[++n] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = true;
			continue;
		}
		if (a[1] == '-')
			ret = parse_long(opts, argc, argv, &i, err, errlen);
		else
			ret = parse_short(opts, argc, argv, &i, err, errlen);
		if (ret != 0)
			goto out;
	}
	/* keep argv NULL-terminated after the arguments, as main's is */
	if (n + 1 < argc)
		argv[n + 1] = NULL;
out:
	if (nargs)
		*nargs = n;
	return ret;
}

/* The default a row's variable holds, or "" when there is none to show. */
static void format_default(const struct rtv_opt *o, char *buf, size_t len)
{
	const int64_t *r;

	buf[0] = '\0';
	switch (o->type) {
	case RTV_OPT_INT:
		snprintf(buf, len, "%lld", *(const long long *)o->value);
		break;
	case RTV_OPT_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)o->value);
		break;
	case RTV_OPT_STRING:
	case RTV_OPT_CHOICE:
		if (*(const char *const *)o->value)
			snprintf(buf, len, "%s", *(const char *const *)o->value);
		break;
	case RTV_OPT_DURATION:
		/* zero is not a valid value: it means "not set" */
		if (*(const int64_t *)o->value > 0)
			rtv_duration_format(*(const int64_t *)o->value, buf, len);
		break;
	case RTV_OPT_RANGE:
		r = o->value;
		if (r[0] > 0 && r[0] == r[1]) {
			rtv_duration_format(r[0], buf, len);
		} else if (r[0] > 0) {
			char lo[32], hi[32];

			rtv_duration_format(r[0], lo, sizeof(lo));
			rtv_duration_format(r[1], hi, sizeof(hi));
			snprintf(buf, len, "%s-%s", lo, hi);
		}
		break;
	case RTV_OPT_CPUS:
		if (CPU_COUNT((const cpu_set_t *)o->value) > 0 &&
		    rtv_cpulist_format(o->value, buf, len) < 0)
			buf[0] = '\0';
		break;
	case RTV_OPT_FLAG:
	case RTV_OPT_END:
		break;
	}
}

/* "-d, --duration S", "    --verbose" or "-d S" */
static int format_names(const struct rtv_opt *o, char *buf, size_t len)
{
	const char *arg = takes_value(o) && o->arg_name ? o->arg_name : NULL;
	int n;

	if (o->short_name && o->long_name)
		n = snprintf(buf, len, "-%c, --%s", o->short_name, o->long_name);
	else if (o->long_name)
		n = snprintf(buf, len, "    --%s", o->long_name);
	else
		n = snprintf(buf, len, "-%c", o->short_name);
	if (arg && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " %s", arg);
	return n;
}

void rtv_opts_usage(FILE *f, const char *usage, const struct rtv_opt *opts)
{
	static const struct rtv_opt help = RTV_OPT_FLAG_DEF("help", 'h', NULL, "show this help");
	const struct rtv_opt *o;
	char names[128], def[256], list[256];
	int width = 0, n;
	bool own_help = find_short(opts, 'h') || find_long(opts, "help", 4);

	fprintf(f, "usage: %s\n\n", usage ? usage : "");
	for (o = opts; o->type != RTV_OPT_END; o++) {
		n = format_names(o, names, sizeof(names));
		if (n > width)
			width = n;
	}
	if (!own_help && (n = format_names(&help, names, sizeof(names))) > width)
		width = n;
	for (o = opts; o->type != RTV_OPT_END; o++) {
		format_names(o, names, sizeof(names));
		format_default(o, def, sizeof(def));
		fprintf(f, "  %-*s   %s", width, names, o->help ? o->help : "");
		if (o->type == RTV_OPT_CHOICE && o->choices) {
			choices_join(o->choices, list, sizeof(list));
			fprintf(f, " (one of %s", list);
			if (def[0])
				fprintf(f, "; default: %s", def);
			fputc(')', f);
		} else if (def[0]) {
			fprintf(f, " (default: %s)", def);
		}
		fputc('\n', f);
	}
	if (!own_help) {
		format_names(&help, names, sizeof(names));
		fprintf(f, "  %-*s   %s\n", width, names, help.help);
	}
}
