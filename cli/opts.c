/* The option table parser and its help text; see opts.h. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/sched.h"
#include "net/sockaddr.h"
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

/* A flag's value, or any value once parsed: remember that it was given. */
static void mark_set(const struct rtv_opt *o)
{
	if (o->type == RTV_OPT_FLAG)
		*(bool *)o->value = true;
	if (o->set)
		*o->set = true;
}

/* An error that is not about the syntax or range of the value, so that a
 * row's `what` does not replace it: a CPU that is not there. */
#define ERR_NOT_THERE (-ENODEV)

static const char *sys_root = "";

void rtv_opts_set_sys_root(const char *root)
{
	sys_root = root ? root : "";
}

/* "this machine has CPUs 0-3" (", online 0-2" when some are offline) */
static void describe_cpus(const cpu_set_t *present, const cpu_set_t *online, char *buf, size_t len)
{
	char p[128], o[128];
	int n;

	if (rtv_cpulist_format(present, p, sizeof(p)) < 0)
		snprintf(p, sizeof(p), "...");
	if (rtv_cpulist_format(online, o, sizeof(o)) < 0)
		snprintf(o, sizeof(o), "...");
	n = snprintf(buf, len, "this machine has CPU%s %s", CPU_COUNT(present) == 1 ? "" : "s", p);
	if (!CPU_EQUAL(present, online) && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", online %s", o);
}

/* The one place CPU numbers are checked: each CPU of set (or, with set NULL,
 * the message for a number too large to be one) must be present and online. */
static int check_cpus(const char *name, const char *arg, const cpu_set_t *set, char *err,
		      size_t errlen)
{
	cpu_set_t present, online;
	char have[300];
	int cpu, ret;

	ret = rtv_cpus_read(sys_root, &present, &online);
	if (ret < 0) {
		set_err(err, errlen, "option '%s': cannot read this machine's CPUs under '%s': %s",
			name, sys_root, strerror(-ret));
		return ERR_NOT_THERE;
	}
	describe_cpus(&present, &online, have, sizeof(have));
	if (!set) {
		set_err(err, errlen, "option '%s': '%s' names a CPU that does not exist (%s)", name,
			arg, have);
		return ERR_NOT_THERE;
	}
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, set) || CPU_ISSET(cpu, &online))
			continue;
		set_err(err, errlen, "option '%s': CPU %d %s (%s)", name, cpu,
			CPU_ISSET(cpu, &present) ? "is offline" : "does not exist", have);
		return ERR_NOT_THERE;
	}
	return 0;
}

static int set_cpus(const struct rtv_opt *o, const char *name, const char *arg,
		    char *err, size_t errlen)
{
	cpu_set_t set;
	int ret;

	ret = rtv_parse_cpulist(arg, CPU_SETSIZE, &set);
	if (ret == -ERANGE)
		return check_cpus(name, arg, NULL, err, errlen);
	if (ret < 0) {
		set_err(err, errlen, "option '%s': '%s' is not a CPU list (use e.g. 0-2,5)", name, arg);
		return -EINVAL;
	}
	ret = check_cpus(name, arg, &set, err, errlen);
	if (ret == 0)
		*(cpu_set_t *)o->value = set;
	return ret;
}

static int set_cpu(const struct rtv_opt *o, const char *name, const char *arg,
		   char *err, size_t errlen)
{
	cpu_set_t set;
	long long cpu;
	int ret;

	ret = rtv_parse_ll(arg, 0, LLONG_MAX, &cpu);
	if (ret == -ERANGE && arg[0] != '-')
		return check_cpus(name, arg, NULL, err, errlen);
	if (ret < 0) {
		set_err(err, errlen, "option '%s': '%s' is not a CPU number", name, arg);
		return -EINVAL;
	}
	if (cpu >= CPU_SETSIZE)
		return check_cpus(name, arg, NULL, err, errlen);
	CPU_ZERO(&set);
	CPU_SET((size_t)cpu, &set);
	ret = check_cpus(name, arg, &set, err, errlen);
	if (ret == 0)
		*(int *)o->value = (int)cpu;
	return ret;
}

/* Explain why rtv_parse_duration() refused arg. */
static void duration_error(int ret, const char *name, const char *arg, bool zero_ok,
			   char *err, size_t errlen)
{
	if (arg[0] == '-')
		set_err(err, errlen, "option '%s': must be %s, not '%s'", name,
			zero_ok ? "zero or more" : "greater than zero", arg);
	else if (ret == -ERANGE)
		set_err(err, errlen, "option '%s': '%s' is too long a duration", name, arg);
	else
		set_err(err, errlen, "option '%s': '%s' is not a duration (" DURATION_HINT ")",
			name, arg);
}

static int set_duration(const struct rtv_opt *o, const char *name, const char *arg,
			char *err, size_t errlen)
{
	bool zero_ok = o->flags & RTV_OPT_ZERO_OK;
	int64_t ns;
	int ret;

	ret = rtv_parse_duration(arg, o->unit_ns, &ns);
	if (ret < 0) {
		duration_error(ret, name, arg, zero_ok, err, errlen);
		return -EINVAL;
	}
	if (ns == 0 && !zero_ok) {
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
		if (lo < 0 || (lo == 0 && !(o->flags & RTV_OPT_ZERO_OK))) {
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
		duration_error(ret, name, arg, false, err, errlen);
		return -EINVAL;
	}
	half = strndup(arg, (size_t)(dash - arg));
	if (!half) {
		set_err(err, errlen, "option '%s': %s", name, strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = rtv_parse_duration(half, o->unit_ns, &lo);
	if (ret < 0) {
		duration_error(ret, name, half, false, err, errlen);
		goto out;
	}
	ret = rtv_parse_duration(dash + 1, o->unit_ns, &hi);
	if (ret < 0) {
		if (dash[1] == '\0' || dash[1] == '-')
			set_err(err, errlen, "option '%s': '%s' is not a range (use MIN-MAX, e.g. 1ms-10ms)",
				name, arg);
		else
			duration_error(ret, name, dash + 1, false, err, errlen);
		goto out;
	}
	rtv_duration_format(lo, lo_s, sizeof(lo_s));
	rtv_duration_format(hi, hi_s, sizeof(hi_s));
	set_err(err, errlen, "option '%s': minimum %s is greater than maximum %s", name, lo_s, hi_s);
out:
	free(half);
	return -EINVAL;
}

static int set_int(const struct rtv_opt *o, const char *name, const char *arg,
		   char *err, size_t errlen)
{
	long long ll;
	int ret;

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
}

static int set_double(const struct rtv_opt *o, const char *name, const char *arg,
		      char *err, size_t errlen)
{
	char *end;
	double d;

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
}

static int set_rate(const struct rtv_opt *o, const char *name, const char *arg,
		    char *err, size_t errlen)
{
	double bit_s;

	if (rtv_parse_rate(arg, &bit_s) < 0) {
		set_err(err, errlen, "option '%s': '%s' is not a rate in bits/s (use e.g. 500M, "
			"1.5G, 800k or 2000000)", name, arg);
		return -EINVAL;
	}
	*(double *)o->value = bit_s;
	return 0;
}

static int set_addr(const struct rtv_opt *o, const char *name, const char *arg,
		    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int ret;

	ret = rtv_sockaddr_parse(arg, 0, &ss, &len);
	if (ret == -ENODEV) {
		set_err(err, errlen, "option '%s': '%s': no network interface '%s' here", name, arg,
			strchr(arg, '%') + 1);
		return ERR_NOT_THERE;
	}
	if (ret == -EDESTADDRREQ) {
		set_err(err, errlen, "option '%s': '%s' is link-local: add its interface, e.g. '%s%%eth0'",
			name, arg, arg);
		return ERR_NOT_THERE;
	}
	if (ret < 0) {
		set_err(err, errlen, "option '%s': '%s' is not a numeric IPv4 or IPv6 address", name, arg);
		return -EINVAL;
	}
	*(const char **)o->value = arg;
	return 0;
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

static int set_choice(const struct rtv_opt *o, const char *name, const char *arg,
		      char *err, size_t errlen)
{
	const char *const *c;
	char list[256];

	for (c = o->choices; c && *c; c++) {
		if (!strcmp(*c, arg)) {
			*(const char **)o->value = *c;
			return 0;
		}
	}
	choices_join(o->choices, list, sizeof(list));
	set_err(err, errlen, "option '%s': '%s' is not one of %s", name, arg, list);
	return -EINVAL;
}

static int set_value(const struct rtv_opt *o, const char *arg, char *err, size_t errlen)
{
	char name[64];
	int ret = -EINVAL;

	opt_name(o, name, sizeof(name));
	switch (o->type) {
	case RTV_OPT_INT:
		ret = set_int(o, name, arg, err, errlen);
		break;
	case RTV_OPT_DOUBLE:
		ret = set_double(o, name, arg, err, errlen);
		break;
	case RTV_OPT_STRING:
		*(const char **)o->value = arg;
		ret = 0;
		break;
	case RTV_OPT_DURATION:
		ret = set_duration(o, name, arg, err, errlen);
		break;
	case RTV_OPT_RANGE:
		ret = set_range(o, name, arg, err, errlen);
		break;
	case RTV_OPT_CPUS:
		ret = set_cpus(o, name, arg, err, errlen);
		break;
	case RTV_OPT_CPU:
		ret = set_cpu(o, name, arg, err, errlen);
		break;
	case RTV_OPT_RATE:
		ret = set_rate(o, name, arg, err, errlen);
		break;
	case RTV_OPT_CHOICE:
		ret = set_choice(o, name, arg, err, errlen);
		break;
	case RTV_OPT_ADDR:
		ret = set_addr(o, name, arg, err, errlen);
		break;
	case RTV_OPT_FLAG:
	case RTV_OPT_END:
		break;
	}
	if (ret == 0)
		mark_set(o);
	else if (ret == -EINVAL && o->what)
		set_err(err, errlen, "option '%s': '%s' is not %s", name, arg, o->what);
	return ret == ERR_NOT_THERE ? -EINVAL : ret;
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
			mark_set(o);
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
		mark_set(o);
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
	const int64_t *r = o->value;
	long long ll;

	buf[0] = '\0';
	switch (o->type) {
	case RTV_OPT_INT:
		/* a value outside the bounds is the row's "none" */
		ll = *(const long long *)o->value;
		if (!has_bounds(o) || (ll >= o->min && ll <= o->max))
			snprintf(buf, len, "%lld", ll);
		break;
	case RTV_OPT_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)o->value);
		break;
	case RTV_OPT_STRING:
	case RTV_OPT_CHOICE:
	case RTV_OPT_ADDR:
		if (*(const char *const *)o->value)
			snprintf(buf, len, "%s", *(const char *const *)o->value);
		break;
	case RTV_OPT_DURATION:
		/* zero is "not set", unless it is a value of the row */
		if (r[0] > 0)
			rtv_duration_format(r[0], buf, len);
		else if (r[0] == 0 && (o->flags & RTV_OPT_ZERO_OK))
			snprintf(buf, len, "0");
		break;
	case RTV_OPT_RANGE:
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
	case RTV_OPT_CPU:
		if (*(const int *)o->value >= 0)
			snprintf(buf, len, "%d", *(const int *)o->value);
		break;
	case RTV_OPT_RATE:
		if (*(const double *)o->value >= 0 && rtv_rate_format(*(const double *)o->value, buf, len) < 0)
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

/* The help text with the choices and the default: "transport (one of tcp,
 * udp; default: tcp)", "UDP port to listen on (default: 5201)". */
static void format_help(const struct rtv_opt *o, char *buf, size_t len)
{
	char def[256], list[256];
	int n;

	format_default(o, def, sizeof(def));
	n = snprintf(buf, len, "%s", o->help ? o->help : "");
	if (n < 0 || (size_t)n >= len)
		return;
	if (o->type == RTV_OPT_CHOICE && o->choices) {
		choices_join(o->choices, list, sizeof(list));
		snprintf(buf + n, len - (size_t)n, " (one of %s%s%s)", list, def[0] ? "; default: " : "",
			 def);
	} else if (def[0]) {
		snprintf(buf + n, len - (size_t)n, " (default: %s)", def);
	}
}

static const struct rtv_opt help_row = RTV_OPT_FLAG_DEF("help", 'h', NULL, "show this help");

/* Whether the table answers -h itself (else the parser does, as help_row). */
static bool own_help(const struct rtv_opt *opts)
{
	return find_short(opts, 'h') || find_long(opts, "help", 4);
}

void rtv_opts_usage(FILE *f, const char *usage, const struct rtv_opt *opts)
{
	const struct rtv_opt *o;
	char names[128], text[1024];
	int width = 0, n;

	fprintf(f, "usage: %s\n\n", usage ? usage : "");
	for (o = opts; o->type != RTV_OPT_END; o++) {
		n = format_names(o, names, sizeof(names));
		if (n > width)
			width = n;
	}
	if (!own_help(opts) && (n = format_names(&help_row, names, sizeof(names))) > width)
		width = n;
	for (o = opts; o->type != RTV_OPT_END; o++) {
		format_names(o, names, sizeof(names));
		format_help(o, text, sizeof(text));
		fprintf(f, "  %-*s   %s\n", width, names, text);
	}
	if (!own_help(opts)) {
		format_names(&help_row, names, sizeof(names));
		fprintf(f, "  %-*s   %s\n", width, names, help_row.help);
	}
}

/* Text as scdoc prints it: its markup characters escaped, and at the start
 * of a line those that would begin a list or a table. */
static void scdoc_text(FILE *f, const char *s)
{
	if (*s && strchr("-[|]", *s))
		fputc('\\', f);
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void scdoc_row(FILE *f, const struct rtv_opt *o)
{
	char text[1024];

	fputc('*', f);
	if (o->short_name)
		fprintf(f, "-%c%s", o->short_name, o->long_name ? ", " : "");
	if (o->long_name)
		fprintf(f, "--%s", o->long_name);
	fputc('*', f);
	if (takes_value(o) && o->arg_name) {
		fputs(" _", f);
		scdoc_text(f, o->arg_name);
		fputc('_', f);
	}
	format_help(o, text, sizeof(text));
	fputs("\n\t", f);
	scdoc_text(f, text);
	fputs("\n\n", f);
}

void rtv_opts_scdoc(FILE *f, const struct rtv_opt *opts)
{
	const struct rtv_opt *o;

	for (o = opts; o->type != RTV_OPT_END; o++)
		scdoc_row(f, o);
	if (!own_help(opts))
		scdoc_row(f, &help_row);
}
