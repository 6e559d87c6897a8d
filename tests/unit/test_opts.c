/* Unit tests for cli/opts.c: every form of option, each error with its exact
 * message, positional compaction, the help text with its defaults and its
 * scdoc form; optional values (`set`), `what`, zero durations, rates and CPU
 * numbers checked against a fake sysfs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "host/sched.h"
#include "opts.h"
#include "util/time.h"

static int64_t duration;
static int64_t interval[2];
static long long prio;
static cpu_set_t rt_cpu;
static const char *load;
static const char *name;
static bool verbose;
static double ratio;

static const char *const loads[] = { "builtin", "iperf3", NULL };

static const struct rtv_opt opts[] = {
	RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S, "length of each run"),
	RTV_OPT_RANGE_DEF("interval", 'i', interval, "MIN-MAX", RTV_NS_PER_US, "time between requests"),
	RTV_OPT_INT_DEF("prio", 'p', &prio, "N", 1, 99, "SCHED_FIFO priority"),
	RTV_OPT_CPUS_DEF("rt-cpu", 0, &rt_cpu, "LIST", "CPUs for the RT service"),
	RTV_OPT_CHOICE_DEF("load", 'l', &load, "NAME", loads, "load generator"),
	RTV_OPT_STRING_DEF("name", 'n', &name, "NAME", "label for the results"),
	RTV_OPT_FLAG_DEF("verbose", 'v', &verbose, "say more"),
	RTV_OPT_DOUBLE_DEF("ratio", 0, &ratio, "R", 0, 1, "share of the load"),
	RTV_OPT_END_DEF,
};

static char err[256];
static int nargs;

static int reset(void **state)
{
	(void)state;
	duration = 20 * RTV_NS_PER_S;
	interval[0] = RTV_NS_PER_MS;
	interval[1] = 10 * RTV_NS_PER_MS;
	prio = 80;
	CPU_ZERO(&rt_cpu);
	CPU_SET(0, &rt_cpu);
	load = "builtin";
	name = NULL;
	verbose = false;
	ratio = 0.5;
	memset(err, 'x', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	nargs = -1;
	return 0;
}

/* Parse a NULL-terminated argv; its strings outlive the call. */
static int parse_list(char **av)
{
	int ac = 0;

	while (av[ac])
		ac++;
	return rtv_opts_parse(opts, ac, av, &nargs, err, sizeof(err));
}

#define PARSE(...) parse_list((char *[]){ "netrt", __VA_ARGS__, NULL })

/* Expect the arguments to fail with exactly msg. */
static void expect_error(const char *msg, char **av)
{
	assert_int_equal(parse_list(av), -EINVAL);
	assert_string_equal(err, msg);
}

#define EXPECT_ERROR(msg, ...) expect_error((msg), (char *[]){ "netrt", __VA_ARGS__, NULL })

static void test_defaults_kept(void **state)
{
	char *av[] = { "netrt", NULL };

	(void)state;
	assert_int_equal(rtv_opts_parse(opts, 1, av, &nargs, err, sizeof(err)), 0);
	assert_int_equal(nargs, 0);
	assert_string_equal(err, "");
	assert_int_equal(duration, 20 * RTV_NS_PER_S);
	assert_int_equal(interval[0], RTV_NS_PER_MS);
	assert_int_equal(interval[1], 10 * RTV_NS_PER_MS);
	assert_int_equal(prio, 80);
	assert_string_equal(load, "builtin");
	assert_null(name);
	assert_false(verbose);
	assert_string_equal(av[0], "netrt");
}

static void test_value_forms(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--duration=5s"), 0);
	assert_int_equal(duration, 5 * RTV_NS_PER_S);
	assert_string_equal(err, "");
	assert_int_equal(PARSE("--duration", "6s"), 0);
	assert_int_equal(duration, 6 * RTV_NS_PER_S);
	assert_int_equal(PARSE("-d", "7s"), 0);
	assert_int_equal(duration, 7 * RTV_NS_PER_S);
	assert_int_equal(PARSE("-d8s"), 0);
	assert_int_equal(duration, 8 * RTV_NS_PER_S);
	assert_int_equal(PARSE("--duration", "1.5ms"), 0);
	assert_int_equal(duration, 1500000);
	/* a bare number is in the row's unit: seconds here, microseconds below */
	assert_int_equal(PARSE("--duration", "3"), 0);
	assert_int_equal(duration, 3 * RTV_NS_PER_S);
	assert_int_equal(PARSE("--interval=100-250"), 0);
	assert_int_equal(interval[0], 100000);
	assert_int_equal(interval[1], 250000);
	assert_int_equal(PARSE("--interval", "1ms-10ms"), 0);
	assert_int_equal(interval[0], RTV_NS_PER_MS);
	assert_int_equal(interval[1], 10 * RTV_NS_PER_MS);
	assert_int_equal(PARSE("-i", "5ms"), 0);
	assert_int_equal(interval[0], 5 * RTV_NS_PER_MS);
	assert_int_equal(interval[1], 5 * RTV_NS_PER_MS);
	assert_int_equal(PARSE("--prio=50"), 0);
	assert_int_equal(prio, 50);
	assert_int_equal(PARSE("-p", "99"), 0);
	assert_int_equal(prio, 99);
	assert_int_equal(PARSE("--load", "iperf3"), 0);
	assert_string_equal(load, "iperf3");
	assert_int_equal(PARSE("--ratio=0.25"), 0);
	assert_true(ratio == 0.25);
	assert_int_equal(PARSE("--rt-cpu=0"), 0);
	assert_int_equal(CPU_COUNT(&rt_cpu), 1);
	assert_true(CPU_ISSET(0, &rt_cpu));
	/* the last one wins; an empty string is a string */
	assert_int_equal(PARSE("--name", "a", "--name=b=c"), 0);
	assert_string_equal(name, "b=c");
	assert_int_equal(PARSE("--name="), 0);
	assert_string_equal(name, "");
	/* a value may look like an option */
	assert_int_equal(PARSE("--name", "--verbose"), 0);
	assert_string_equal(name, "--verbose");
	assert_false(verbose);
}

static void test_flags(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--verbose"), 0);
	assert_true(verbose);
	verbose = false;
	assert_int_equal(PARSE("-v"), 0);
	assert_true(verbose);
	verbose = false;
	/* bundled: flags first, the last letter may take a value */
	assert_int_equal(PARSE("-vd5s"), 0);
	assert_true(verbose);
	assert_int_equal(duration, 5 * RTV_NS_PER_S);
	verbose = false;
	assert_int_equal(PARSE("-vp", "10"), 0);
	assert_true(verbose);
	assert_int_equal(prio, 10);
	EXPECT_ERROR("option '--verbose' takes no value", "--verbose=1");
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-h"), 1);
	assert_int_equal(PARSE("--help"), 1);
	assert_int_equal(PARSE("a", "--duration", "5s", "--help"), 1);
	assert_int_equal(PARSE("-vh"), 1);
	/* after "--" it is an argument */
	assert_int_equal(PARSE("--", "-h"), 0);
	assert_int_equal(nargs, 1);
}

static void test_unknown(void **state)
{
	(void)state;
	EXPECT_ERROR("unknown option '--foo'", "--foo");
	EXPECT_ERROR("unknown option '--foo'", "--foo=bar");
	EXPECT_ERROR("unknown option '--dur'", "--dur", "5s");
	EXPECT_ERROR("unknown option '-x'", "-x");
	EXPECT_ERROR("unknown option '-x'", "-vx");
	EXPECT_ERROR("unknown option '--foo'", "a", "--duration", "5s", "--foo");
}

static void test_missing_value(void **state)
{
	(void)state;
	EXPECT_ERROR("option '--duration' needs a value", "--duration");
	EXPECT_ERROR("option '--duration' needs a value", "-d");
	EXPECT_ERROR("option '--rt-cpu' needs a value", "--rt-cpu");
	EXPECT_ERROR("option '--prio' needs a value", "-vp");
}

static void test_duration_errors(void **state)
{
	(void)state;
	EXPECT_ERROR("option '--duration': must be greater than zero", "--duration", "0");
	EXPECT_ERROR("option '--duration': must be greater than zero", "--duration=0ms");
	EXPECT_ERROR("option '--duration': must be greater than zero", "-d", "0.1ns");
	EXPECT_ERROR("option '--duration': must be greater than zero, not '-5s'", "--duration", "-5s");
	EXPECT_ERROR("option '--duration': must be greater than zero, not '-5s'", "--duration=-5s");
	EXPECT_ERROR("option '--duration': 'abc' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
		     "--duration", "abc");
	EXPECT_ERROR("option '--duration': '' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
		     "--duration=");
	EXPECT_ERROR("option '--duration': '5m' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
		     "-d", "5m");
	EXPECT_ERROR("option '--duration': '99999999999s' is too long a duration",
		     "--duration", "99999999999s");
	/* failures leave the variable alone */
	assert_int_equal(duration, 20 * RTV_NS_PER_S);
}

static void test_range_errors(void **state)
{
	(void)state;
	EXPECT_ERROR("option '--interval': minimum 10ms is greater than maximum 1ms",
		     "--interval", "10ms-1ms");
	EXPECT_ERROR("option '--interval': minimum 1.50ms is greater than maximum 1ms",
		     "--interval=1500-1000");
	EXPECT_ERROR("option '--interval': must be greater than zero", "--interval", "0-1ms");
	EXPECT_ERROR("option '--interval': must be greater than zero", "--interval", "0");
	EXPECT_ERROR("option '--interval': must be greater than zero, not '-1ms'", "--interval", "-1ms");
	EXPECT_ERROR("option '--interval': 'x' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
		     "--interval", "1ms-x");
	EXPECT_ERROR("option '--interval': 'x' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
		     "--interval", "x-1ms");
	EXPECT_ERROR("option '--interval': '1ms-' is not a range (use MIN-MAX, e.g. 1ms-10ms)",
		     "--interval", "1ms-");
	EXPECT_ERROR("option '--interval': '1ms--2ms' is not a range (use MIN-MAX, e.g. 1ms-10ms)",
		     "--interval", "1ms--2ms");
	EXPECT_ERROR("option '--interval': '2ms-3ms' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
		     "--interval", "1ms-2ms-3ms");
	assert_int_equal(interval[0], RTV_NS_PER_MS);
	assert_int_equal(interval[1], 10 * RTV_NS_PER_MS);
}

static void test_int_errors(void **state)
{
	(void)state;
	EXPECT_ERROR("option '--prio': 120 is out of range 1-99", "--prio", "120");
	EXPECT_ERROR("option '--prio': 0 is out of range 1-99", "-p", "0");
	EXPECT_ERROR("option '--prio': -3 is out of range 1-99", "--prio=-3");
	EXPECT_ERROR("option '--prio': 99999999999999999999 is out of range 1-99",
		     "--prio", "99999999999999999999");
	EXPECT_ERROR("option '--prio': 'abc' is not a whole number", "--prio", "abc");
	EXPECT_ERROR("option '--prio': '5.5' is not a whole number", "--prio", "5.5");
	EXPECT_ERROR("option '--ratio': 2 is out of range 0-1", "--ratio", "2");
	EXPECT_ERROR("option '--ratio': 'x' is not a number", "--ratio", "x");
	EXPECT_ERROR("option '--ratio': 'nan' is not a number", "--ratio", "nan");
	EXPECT_ERROR("option '--ratio': ' 1' is not a number", "--ratio", " 1");
	assert_int_equal(prio, 80);
}

static void test_cpus(void **state)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	char arg[64], msg[200];

	(void)state;
	assert_true(conf >= 1);
	snprintf(arg, sizeof(arg), "0-%ld", conf - 1);
	assert_int_equal(PARSE("--rt-cpu", arg), 0);
	assert_int_equal(CPU_COUNT(&rt_cpu), conf);

	/* CPU number conf is one past the last */
	snprintf(arg, sizeof(arg), "0,%ld", conf);
	if (conf == 1)
		snprintf(msg, sizeof(msg),
			 "option '--rt-cpu': CPU 1 does not exist (this machine has CPU 0)");
	else
		snprintf(msg, sizeof(msg),
			 "option '--rt-cpu': CPU %ld does not exist (this machine has CPUs 0-%ld)",
			 conf, conf - 1);
	EXPECT_ERROR(msg, "--rt-cpu", arg);
	/* the first missing one is named */
	snprintf(arg, sizeof(arg), "%ld-%ld", conf + 5, conf + 9);
	if (conf > 1) {
		snprintf(msg, sizeof(msg),
			 "option '--rt-cpu': CPU %ld does not exist (this machine has CPUs 0-%ld)",
			 conf + 5, conf - 1);
		EXPECT_ERROR(msg, "--rt-cpu", arg);
		snprintf(msg, sizeof(msg),
			 "option '--rt-cpu': '99999' names a CPU that does not exist (this machine has CPUs 0-%ld)",
			 conf - 1);
		EXPECT_ERROR(msg, "--rt-cpu", "99999");
	}
	EXPECT_ERROR("option '--rt-cpu': '0-' is not a CPU list (use e.g. 0-2,5)", "--rt-cpu", "0-");
	EXPECT_ERROR("option '--rt-cpu': '1-0' is not a CPU list (use e.g. 0-2,5)", "--rt-cpu", "1-0");
	EXPECT_ERROR("option '--rt-cpu': '' is not a CPU list (use e.g. 0-2,5)", "--rt-cpu=");
}

static void test_choice(void **state)
{
	(void)state;
	EXPECT_ERROR("option '--load': 'foo' is not one of builtin, iperf3", "--load", "foo");
	EXPECT_ERROR("option '--load': 'Builtin' is not one of builtin, iperf3", "-l", "Builtin");
	assert_string_equal(load, "builtin");
	assert_int_equal(PARSE("-l", "iperf3"), 0);
	/* the value points at the table's string, not into argv */
	assert_ptr_equal(load, loads[1]);
}

static void test_positional(void **state)
{
	char *av[] = { "netrt", "a", "--duration", "5s", "b", "-v", "c", "--name=x", NULL };
	char *av2[] = { "netrt", "-v", "--", "--duration", "x", "-", NULL };
	char *av3[] = { "netrt", "-", "--prio", "5", NULL };

	(void)state;
	assert_int_equal(rtv_opts_parse(opts, 8, av, &nargs, err, sizeof(err)), 0);
	assert_int_equal(nargs, 3);
	assert_string_equal(av[0], "netrt");
	assert_string_equal(av[1], "a");
	assert_string_equal(av[2], "b");
	assert_string_equal(av[3], "c");
	assert_null(av[4]);
	assert_int_equal(duration, 5 * RTV_NS_PER_S);
	assert_true(verbose);
	assert_string_equal(name, "x");

	/* "--" ends the options */
	assert_int_equal(rtv_opts_parse(opts, 6, av2, &nargs, err, sizeof(err)), 0);
	assert_int_equal(nargs, 3);
	assert_string_equal(av2[1], "--duration");
	assert_string_equal(av2[2], "x");
	assert_string_equal(av2[3], "-");
	assert_int_equal(duration, 5 * RTV_NS_PER_S);

	/* "-" alone is an argument */
	assert_int_equal(rtv_opts_parse(opts, 4, av3, &nargs, err, sizeof(err)), 0);
	assert_int_equal(nargs, 1);
	assert_string_equal(av3[1], "-");
	assert_null(av3[2]);
	assert_int_equal(prio, 5);
}

static void test_err_buffer(void **state)
{
	char *av[] = { "netrt", "--foo", NULL };
	char small[10];

	(void)state;
	/* err may be NULL; a short one is truncated, still terminated */
	assert_int_equal(rtv_opts_parse(opts, 2, av, &nargs, NULL, 0), -EINVAL);
	assert_int_equal(rtv_opts_parse(opts, 2, av, NULL, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "unknown o");
}

static char *usage_text(const char *usage, const struct rtv_opt *table)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	rtv_opts_usage(f, usage, table);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_usage_one(void **state)
{
	static const struct rtv_opt one[] = {
		RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S,
				     "length of each run"),
		RTV_OPT_END_DEF,
	};
	char *text;

	(void)state;
	text = usage_text("rtvnet netrt [OPTIONS]", one);
	assert_string_equal(text,
			    "usage: rtvnet netrt [OPTIONS]\n"
			    "\n"
			    "  -d, --duration S   length of each run (default: 20s)\n"
			    "  -h, --help         show this help\n");
	free(text);

	/* the default is read from the variable when usage is printed */
	duration = 1500 * RTV_NS_PER_US;
	text = usage_text("x", one);
	assert_non_null(strstr(text, "  -d, --duration S   length of each run (default: 1.50ms)\n"));
	free(text);
}

static void test_usage_table(void **state)
{
	char *text;

	(void)state;
	CPU_SET(2, &rt_cpu);
	CPU_SET(3, &rt_cpu);
	CPU_SET(5, &rt_cpu);
	text = usage_text("rtvnet netrt [OPTIONS] HOST", opts);
	assert_string_equal(text,
		"usage: rtvnet netrt [OPTIONS] HOST\n"
		"\n"
		"  -d, --duration S         length of each run (default: 20s)\n"
		"  -i, --interval MIN-MAX   time between requests (default: 1ms-10ms)\n"
		"  -p, --prio N             SCHED_FIFO priority (default: 80)\n"
		"      --rt-cpu LIST        CPUs for the RT service (default: 0,2-3,5)\n"
		"  -l, --load NAME          load generator (one of builtin, iperf3; default: builtin)\n"
		"  -n, --name NAME          label for the results\n"
		"  -v, --verbose            say more\n"
		"      --ratio R            share of the load (default: 0.5)\n"
		"  -h, --help               show this help\n");
	free(text);

	/* equal ends print as one; unset values print no default */
	interval[1] = interval[0];
	CPU_ZERO(&rt_cpu);
	load = NULL;
	duration = 0;
	text = usage_text("u", opts);
	assert_non_null(strstr(text, "time between requests (default: 1ms)\n"));
	assert_non_null(strstr(text, "  -d, --duration S         length of each run\n"));
	assert_non_null(strstr(text, "CPUs for the RT service\n"));
	assert_non_null(strstr(text, "load generator (one of builtin, iperf3)\n"));
	free(text);
}

/* ---- optional values, `what`, zero durations, rates, one CPU ---- */

static long long vcpu;
static bool vcpu_set, warmup_set, rate_set, cpu_set_given;
static int64_t warmup;
static double rate;
static int one_cpu;
static const char *target;

static const struct rtv_opt more[] = {
	RTV_OPT_INT_DEF("vcpu", 0, &vcpu, "K", 0, 1000, "the vCPU", .set = &vcpu_set,
			.what = "a vCPU number (0, 1, ...)"),
	RTV_OPT_DURATION_DEF("warmup", 'w', &warmup, "T", RTV_NS_PER_S, "not measured",
			     .set = &warmup_set, .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_RATE_DEF("rate", 'r', &rate, "BITS", "bits/s", .set = &rate_set),
	RTV_OPT_CPU_DEF("cpu", 'c', &one_cpu, "N", "run on CPU N", .set = &cpu_set_given),
	RTV_OPT_DURATION_DEF("spin", 0, &duration, "T", RTV_NS_PER_S, "spin",
			     .what = "a spin time", .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_ADDR_DEF("target", 't', &target, "ADDR", "the server"),
	RTV_OPT_END_DEF,
};

static char sysroot[64];

static int reset_more(void **state)
{
	reset(state);
	vcpu = -1;
	warmup = RTV_NS_PER_S;
	rate = 0;
	one_cpu = -1;
	target = NULL;
	vcpu_set = warmup_set = rate_set = cpu_set_given = false;
	rtv_opts_set_sys_root("");
	return 0;
}

static int parse_more(char **av)
{
	int ac = 0;

	while (av[ac])
		ac++;
	return rtv_opts_parse(more, ac, av, &nargs, err, sizeof(err));
}

#define PARSE_MORE(...) parse_more((char *[]){ "x", __VA_ARGS__, NULL })
#define EXPECT_MORE_ERROR(msg, ...)                                                   \
	do {                                                                          \
		assert_int_equal(parse_more((char *[]){ "x", __VA_ARGS__, NULL }), -EINVAL); \
		assert_string_equal(err, (msg));                                      \
	} while (0)

static void test_set(void **state)
{
	(void)state;
	assert_int_equal(PARSE_MORE("--rate", "0"), 0);
	assert_false(vcpu_set);
	assert_false(warmup_set);
	assert_true(rate_set); /* given, though the value is the default */
	assert_int_equal(vcpu, -1);
	assert_int_equal(PARSE_MORE("--vcpu=0", "-w0"), 0);
	assert_true(vcpu_set);
	assert_true(warmup_set);
	assert_int_equal(vcpu, 0);
	assert_int_equal(warmup, 0);
	/* a failed parse does not count as given */
	vcpu_set = false;
	EXPECT_MORE_ERROR("option '--vcpu': 'x' is not a vCPU number (0, 1, ...)", "--vcpu", "x");
	assert_false(vcpu_set);
	/* flags too */
	{
		static bool flag, flag_set;
		static const struct rtv_opt f[] = {
			RTV_OPT_FLAG_DEF("force", 'f', &flag, "force", .set = &flag_set),
			RTV_OPT_END_DEF,
		};
		char *av[] = { "x", "-f", NULL };

		assert_int_equal(rtv_opts_parse(f, 2, av, &nargs, err, sizeof(err)), 0);
		assert_true(flag);
		assert_true(flag_set);
	}
}

static void test_what(void **state)
{
	(void)state;
	/* every parse or range error of the row says what the value must be */
	EXPECT_MORE_ERROR("option '--vcpu': '-1' is not a vCPU number (0, 1, ...)", "--vcpu", "-1");
	EXPECT_MORE_ERROR("option '--vcpu': '1001' is not a vCPU number (0, 1, ...)", "--vcpu=1001");
	EXPECT_MORE_ERROR("option '--vcpu': '1.5' is not a vCPU number (0, 1, ...)", "--vcpu", "1.5");
	EXPECT_MORE_ERROR("option '--vcpu': '99999999999999999999' is not a vCPU number (0, 1, ...)",
			  "--vcpu", "99999999999999999999");
	EXPECT_MORE_ERROR("option '--spin': 'x' is not a spin time", "--spin", "x");
	EXPECT_MORE_ERROR("option '--spin': '-1s' is not a spin time", "--spin", "-1s");
	/* not the errors about the option itself */
	EXPECT_MORE_ERROR("option '--vcpu' needs a value", "--vcpu");
	assert_int_equal(vcpu, -1);
}

static void test_zero_ok(void **state)
{
	(void)state;
	assert_int_equal(PARSE_MORE("--warmup", "0"), 0);
	assert_int_equal(warmup, 0);
	assert_int_equal(PARSE_MORE("--warmup", "0ms"), 0);
	assert_int_equal(warmup, 0);
	assert_int_equal(PARSE_MORE("--warmup", "1.5"), 0);
	assert_int_equal(warmup, 1500 * RTV_NS_PER_MS);
	assert_int_equal(PARSE_MORE("--spin", "0"), 0);
	assert_int_equal(duration, 0);
	EXPECT_MORE_ERROR("option '--warmup': must be zero or more, not '-1s'", "--warmup", "-1s");
	EXPECT_MORE_ERROR("option '--warmup': 'x' is not a duration (use e.g. 20s, 500ms, 100us or 250ns)",
			  "--warmup", "x");
	assert_int_equal(warmup, 1500 * RTV_NS_PER_MS);
}

/* Addresses: numeric IPv4 and IPv6 only, a link-local one with its
 * interface (lo is in every network namespace, index 1); the value points
 * into argv. */
static void test_addr_opt(void **state)
{
	char *av[] = { "x", "--target", "fd00::2", NULL };

	(void)state;
	assert_int_equal(parse_more(av), 0);
	assert_ptr_equal(target, av[2]);
	assert_int_equal(PARSE_MORE("-t198.18.0.2"), 0);
	assert_string_equal(target, "198.18.0.2");
	assert_int_equal(PARSE_MORE("--target=::ffff:198.18.0.2"), 0);
	assert_int_equal(PARSE_MORE("--target", "fe80::1%lo"), 0);
	assert_int_equal(PARSE_MORE("--target", "fe80::1%1"), 0);
	assert_string_equal(target, "fe80::1%1");
	EXPECT_MORE_ERROR("option '--target': 'server' is not a numeric IPv4 or IPv6 address",
			  "--target", "server");
	/* inet_aton's shorthands are not addresses here */
	EXPECT_MORE_ERROR("option '--target': '127.1' is not a numeric IPv4 or IPv6 address",
			  "--target", "127.1");
	EXPECT_MORE_ERROR("option '--target': '198.18.0.2%lo' is not a numeric IPv4 or IPv6 address",
			  "--target", "198.18.0.2%lo");
	EXPECT_MORE_ERROR("option '--target': '' is not a numeric IPv4 or IPv6 address", "--target=");
	EXPECT_MORE_ERROR("option '--target': 'fe80::1%' is not a numeric IPv4 or IPv6 address",
			  "--target", "fe80::1%");
	EXPECT_MORE_ERROR("option '--target': 'fe80::1%rtvnope0': no network interface 'rtvnope0' here",
			  "--target", "fe80::1%rtvnope0");
	EXPECT_MORE_ERROR("option '--target': 'fe80::1' is link-local: add its interface, e.g. "
			  "'fe80::1%eth0'", "--target", "fe80::1");
	EXPECT_MORE_ERROR("option '--target' needs a value", "--target");
	assert_string_equal(target, "fe80::1%1");
}

static void test_rate_opt(void **state)
{
	(void)state;
	assert_int_equal(PARSE_MORE("--rate", "500M"), 0);
	assert_true(rate == 500e6);
	assert_int_equal(PARSE_MORE("-r1.5G"), 0);
	assert_true(rate == 1.5e9);
	assert_int_equal(PARSE_MORE("--rate=800k"), 0);
	assert_true(rate == 800e3);
	assert_int_equal(PARSE_MORE("--rate", "2000000"), 0);
	assert_true(rate == 2e6);
	EXPECT_MORE_ERROR("option '--rate': '5Mbit' is not a rate in bits/s (use e.g. 500M, 1.5G, 800k "
			  "or 2000000)", "--rate", "5Mbit");
	EXPECT_MORE_ERROR("option '--rate': '-1' is not a rate in bits/s (use e.g. 500M, 1.5G, 800k "
			  "or 2000000)", "--rate", "-1");
	assert_true(rate == 2e6);
}

/* A fake sysfs with CPUs 0-3 present and 0-1,3 online. */
static void fake_cpus(const char *present, const char *online)
{
	char dir[128];

	assert_int_equal(rtv_test_mkdtemp(sysroot, sizeof(sysroot), "opts"), 0);
	rtv_test_mkdir_in(sysroot, "sys");
	rtv_test_mkdir_in(sysroot, "sys/devices");
	rtv_test_mkdir_in(sysroot, "sys/devices/system");
	rtv_test_mkdir_in(sysroot, "sys/devices/system/cpu");
	snprintf(dir, sizeof(dir), "sys/devices/system/cpu/present");
	if (present)
		rtv_test_put_in(sysroot, dir, present);
	if (online)
		rtv_test_put_in(sysroot, "sys/devices/system/cpu/online", online);
	rtv_opts_set_sys_root(sysroot);
}

static void test_cpu_checks(void **state)
{
	cpu_set_t *cpus = &rt_cpu;

	(void)state;
	fake_cpus("0-3\n", "0-1,3\n");
	assert_int_equal(PARSE_MORE("--cpu", "3"), 0);
	assert_int_equal(one_cpu, 3);
	assert_true(cpu_set_given);
	EXPECT_MORE_ERROR("option '--cpu': CPU 2 is offline (this machine has CPUs 0-3, online 0-1,3)",
			  "--cpu", "2");
	EXPECT_MORE_ERROR("option '--cpu': CPU 4 does not exist (this machine has CPUs 0-3, online 0-1,3)",
			  "-c4");
	EXPECT_MORE_ERROR("option '--cpu': '99999' names a CPU that does not exist (this machine has "
			  "CPUs 0-3, online 0-1,3)", "--cpu", "99999");
	EXPECT_MORE_ERROR("option '--cpu': '99999999999999999999' names a CPU that does not exist (this "
			  "machine has CPUs 0-3, online 0-1,3)", "--cpu", "99999999999999999999");
	EXPECT_MORE_ERROR("option '--cpu': '-1' is not a CPU number", "--cpu", "-1");
	EXPECT_MORE_ERROR("option '--cpu': 'one' is not a CPU number", "--cpu", "one");
	assert_int_equal(one_cpu, 3);

	/* lists: the same check, in the same place */
	assert_int_equal(PARSE("--rt-cpu", "0-1,3"), 0);
	assert_int_equal(CPU_COUNT(cpus), 3);
	EXPECT_ERROR("option '--rt-cpu': CPU 2 is offline (this machine has CPUs 0-3, online 0-1,3)",
		     "--rt-cpu", "0-3");
	EXPECT_ERROR("option '--rt-cpu': CPU 5 does not exist (this machine has CPUs 0-3, online 0-1,3)",
		     "--rt-cpu", "0,5-6");
	rtv_test_rmtree(sysroot);

	/* all online, one CPU */
	fake_cpus("0\n", "0\n");
	EXPECT_MORE_ERROR("option '--cpu': CPU 1 does not exist (this machine has CPU 0)", "--cpu", "1");
	rtv_test_rmtree(sysroot);

	/* a fake tree without the files is an error, not this host's CPUs */
	fake_cpus(NULL, NULL);
	assert_int_equal(PARSE_MORE("--cpu", "0"), -EINVAL);
	assert_non_null(strstr(err, "option '--cpu': cannot read this machine's CPUs under '"));
	rtv_test_rmtree(sysroot);
	rtv_opts_set_sys_root("");
}

static void test_cpus_host(void **state)
{
	cpu_set_t present, online;
	char have[64];
	int last = -1;

	(void)state;
	/* this host: /sys, or sysconf where /sys is not there */
	assert_int_equal(rtv_cpus_read("", &present, &online), 0);
	assert_true(CPU_COUNT(&online) >= 1);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &online))
			last = c;
	snprintf(have, sizeof(have), "%d", last);
	assert_int_equal(PARSE_MORE("--cpu", have), 0);
	assert_int_equal(one_cpu, last);
}

static void test_usage_more(void **state)
{
	char *text;

	(void)state;
	text = usage_text("x", more);
	assert_string_equal(text,
		"usage: x\n"
		"\n"
		"      --vcpu K        the vCPU\n"
		"  -w, --warmup T      not measured (default: 1s)\n"
		"  -r, --rate BITS     bits/s (default: 0)\n"
		"  -c, --cpu N         run on CPU N\n"
		"      --spin T        spin (default: 20s)\n"
		"  -t, --target ADDR   the server\n"
		"  -h, --help          show this help\n");
	free(text);

	/* zero is shown where it is a value; set values as they are typed */
	vcpu = 3;
	warmup = 0;
	rate = 1.5e9;
	one_cpu = 1;
	text = usage_text("x", more);
	assert_non_null(strstr(text, "the vCPU (default: 3)\n"));
	assert_non_null(strstr(text, "not measured (default: 0)\n"));
	assert_non_null(strstr(text, "bits/s (default: 1.5G)\n"));
	assert_non_null(strstr(text, "run on CPU N (default: 1)\n"));
	free(text);
}

static char *scdoc_text(const struct rtv_opt *table)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	rtv_opts_scdoc(f, table);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_scdoc(void **state)
{
	static const char *name_us = "a_b";
	static const struct rtv_opt t[] = {
		RTV_OPT_CHOICE_DEF("load", 'l', &load, "NAME", loads, "load generator"),
		RTV_OPT_FLAG_DEF("verbose", 0, &verbose, "say *more*"),
		RTV_OPT_FLAG_DEF("x", 0, &verbose, "--load: a list item to scdoc unless escaped"),
		RTV_OPT_STRING_DEF(NULL, 'n', &name_us, "NAME", "label, e.g. x\\y"),
		RTV_OPT_END_DEF,
	};
	char *text;

	(void)state;
	text = scdoc_text(t);
	assert_string_equal(text,
		"*-l, --load* _NAME_\n"
		"\tload generator (one of builtin, iperf3; default: builtin)\n"
		"\n"
		"*--verbose*\n"
		"\tsay \\*more\\*\n"
		"\n"
		"*--x*\n"
		"\t\\--load: a list item to scdoc unless escaped\n"
		"\n"
		"*-n* _NAME_\n"
		"\tlabel, e.g. x\\\\y (default: a\\_b)\n"
		"\n"
		"*-h, --help*\n"
		"\tshow this help\n"
		"\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults_kept, reset),
		cmocka_unit_test_setup(test_value_forms, reset),
		cmocka_unit_test_setup(test_flags, reset),
		cmocka_unit_test_setup(test_help, reset),
		cmocka_unit_test_setup(test_unknown, reset),
		cmocka_unit_test_setup(test_missing_value, reset),
		cmocka_unit_test_setup(test_duration_errors, reset),
		cmocka_unit_test_setup(test_range_errors, reset),
		cmocka_unit_test_setup(test_int_errors, reset),
		cmocka_unit_test_setup(test_cpus, reset),
		cmocka_unit_test_setup(test_choice, reset),
		cmocka_unit_test_setup(test_positional, reset),
		cmocka_unit_test_setup(test_err_buffer, reset),
		cmocka_unit_test_setup(test_usage_one, reset),
		cmocka_unit_test_setup(test_usage_table, reset),
		cmocka_unit_test_setup(test_set, reset_more),
		cmocka_unit_test_setup(test_what, reset_more),
		cmocka_unit_test_setup(test_zero_ok, reset_more),
		cmocka_unit_test_setup(test_rate_opt, reset_more),
		cmocka_unit_test_setup(test_addr_opt, reset_more),
		cmocka_unit_test_setup(test_cpu_checks, reset_more),
		cmocka_unit_test_setup(test_cpus_host, reset_more),
		cmocka_unit_test_setup(test_usage_more, reset_more),
		cmocka_unit_test_setup(test_scdoc, reset_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
