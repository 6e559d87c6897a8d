/* Unit tests for lib/probe/cyclictest: the command line, and the parsers
 * run on real output of Debian's cyclictest 2.4 captured on this project's
 * test machine (tests/unit/data/cyclictest/, each a JSON and stdout pair of
 * one run):
 *   t1-h400   -m -p 90 -i 100 -D 3 -q -h 400, one thread, 1 overflow (2661 us)
 *   t2-h400   the same with -t 2 -a 0,1; thread 1 has 4 overflows, and its
 *             JSON avg 21.00 against the text's truncated 20
 *   t1-h25    -D 2 -h 25: 1325 of 19999 samples overflow, p50 known, p99 not
 *   t1-h20    -h 20: all but 10 samples overflow
 *   t2-h20    -h 20 -t 2 -a 0,1
 *   t2-summary -D 1 -q -t 2 -a 0,1 without -h: "T:" lines, no histogram
 * The expected figures are read off the files (sums and ranks worked out in
 * the comments). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "probe/cyclictest.h"

#ifndef RTV_TEST_DATA_DIR
#error "RTV_TEST_DATA_DIR: tests/unit/meson.build passes it"
#endif

/* |got - want| <= tol, or the test fails showing both (cmocka's
 * assert_float_equal compares floats). */
#define assert_near(got, want, tol) near_at((got), (want), (tol), __FILE__, __LINE__)
static void near_at(double got, double want, double tol, const char *file, int line)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s:%d: %.17g, wanted %.17g within %g", file, line, got, want, tol);
}

/* The fixture data/cyclictest/name, NUL-terminated; the caller frees it. */
static char *slurp(const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/cyclictest/%s", RTV_TEST_DATA_DIR, name);
	return rtv_test_slurp(path, len);
}

static struct rtv_cyclic_result *result_new(void)
{
	struct rtv_cyclic_result *r = malloc(sizeof(*r));

	assert_non_null(r);
	return r;
}

/* Parse fixture name.json (keeping the document in *obj when obj). */
static struct rtv_cyclic_result *from_json(const char *name, json_t **obj)
{
	char file[128], err[256] = "";
	struct rtv_cyclic_result *r = result_new();
	size_t len;
	char *s;

	snprintf(file, sizeof(file), "%s.json", name);
	s = slurp(file, &len);
	if (rtv_cyclic_parse_json(s, len, r, obj, err, sizeof(err)))
		fail_msg("%s: %s", file, err);
	free(s);
	return r;
}

static struct rtv_cyclic_result *from_text(const char *name)
{
	char file[128], err[256] = "";
	struct rtv_cyclic_result *r = result_new();
	char *s;

	snprintf(file, sizeof(file), "%s.txt", name);
	s = slurp(file, NULL);
	if (rtv_cyclic_parse_text(s, r, err, sizeof(err)))
		fail_msg("%s: %s", file, err);
	free(s);
	return r;
}

/* s with the first occurrence of from replaced by to (must occur). */
static char *replaced(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1, pre;
	char *out;

	assert_non_null(at);
	out = malloc(n);
	assert_non_null(out);
	pre = (size_t)(at - s);
	memcpy(out, s, pre);
	memcpy(out + pre, to, strlen(to));
	memcpy(out + pre + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	return out;
}

static void expect_json_fails(const char *text, size_t len, const char *want)
{
	struct rtv_cyclic_result *r = result_new();
	json_t *obj = (json_t *)1;
	char err[256] = "";

	assert_int_equal(rtv_cyclic_parse_json(text, len, r, &obj, err, sizeof(err)), -EPROTO);
	assert_null(obj);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	free(r);
}

static void expect_text_fails(const char *text, const char *want)
{
	struct rtv_cyclic_result *r = result_new();
	char err[256] = "";

	assert_int_equal(rtv_cyclic_parse_text(text, r, err, sizeof(err)), -EPROTO);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	free(r);
}

static void expect_crosscheck(const char *name)
{
	struct rtv_cyclic_result *j = from_json(name, NULL), *t = from_text(name);
	char msg[256] = "x";

	if (rtv_cyclic_crosscheck(j, t, msg, sizeof(msg)))
		fail_msg("%s: %s", name, msg);
	assert_string_equal(msg, "");
	free(j);
	free(t);
}

/* ---- the command line ---- */

static void test_argv_defaults(void **state)
{
	static const char *const want[] = { "cyclictest", "-m", "-q", "-p90", "-i100", "-D30",
					    "-h10000" };
	struct rtv_cyclic_cfg c;
	char *argv[RTV_CYCLIC_MAX_ARGS], buf[256];
	int n;

	(void)state;
	rtv_cyclic_cfg_init(&c);
	assert_int_equal(c.prio, 90);
	assert_int_equal(c.interval_ns, 100000);
	assert_int_equal(c.duration_ns, INT64_C(30000000000));
	n = rtv_cyclic_argv(&c, "cyclictest", argv, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf));
	assert_int_equal(n, 7);
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
}

static void test_argv_all(void **state)
{
	static const char *const want[] = { "/usr/bin/cyclictest", "-m", "-q", "-p80", "-i250",
					    "-D2", "-h20", "-t2", "-a0,1", "--json=/tmp/x y.json" };
	struct rtv_cyclic_cfg c;
	char *argv[RTV_CYCLIC_MAX_ARGS], buf[256];
	size_t need = 0;
	int n;

	(void)state;
	rtv_cyclic_cfg_init(&c);
	c.prio = 80;
	c.interval_ns = 250000;
	c.duration_ns = INT64_C(2000000000);
	c.hist_max_us = 20;
	c.threads = 2;
	c.cpus = "0,1";
	c.json_path = "/tmp/x y.json";
	n = rtv_cyclic_argv(&c, want[0], argv, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf));
	assert_int_equal(n, 10);
	assert_ptr_equal(argv[0], want[0]);
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
	/* exactly the strings after prog and their NULs fit; one byte less not */
	for (int i = 1; i < n; i++)
		need += strlen(want[i]) + 1;
	assert_int_equal(rtv_cyclic_argv(&c, "c", argv, RTV_CYCLIC_MAX_ARGS, buf, need), n);
	for (size_t len = 0; len < need; len++)
		assert_int_equal(rtv_cyclic_argv(&c, "c", argv, RTV_CYCLIC_MAX_ARGS, buf, len),
				 -E2BIG);
	assert_int_equal(rtv_cyclic_argv(&c, "c", argv, (size_t)n + 1, buf, sizeof(buf)), n);
	assert_int_equal(rtv_cyclic_argv(&c, "c", argv, (size_t)n, buf, sizeof(buf)), -E2BIG);
	assert_int_equal(rtv_cyclic_argv(&c, "c", argv, 1, buf, sizeof(buf)), -E2BIG);
	/* no histogram: -d0 keeps the threads at one interval */
	c.hist_max_us = 0;
	assert_int_equal(rtv_cyclic_argv(&c, "c", argv, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf)), 10);
	assert_string_equal(argv[6], "-t2");
	assert_string_equal(argv[7], "-d0");
	assert_string_equal(argv[8], "-a0,1");
	/* one thread: no -t, no -d */
	c.threads = 1;
	c.cpus = NULL;
	c.json_path = NULL;
	assert_int_equal(rtv_cyclic_argv(&c, "c", argv, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf)), 6);
	assert_string_equal(argv[5], "-D2");
	assert_null(argv[6]);
}

static void test_argv_invalid(void **state)
{
	struct rtv_cyclic_cfg c, bad[12];
	char *argv[RTV_CYCLIC_MAX_ARGS], buf[256];
	int nbad = 0;

	(void)state;
	rtv_cyclic_cfg_init(&c);
	for (int i = 0; i < 12; i++)
		bad[i] = c;
	bad[nbad++].prio = 0;
	bad[nbad++].prio = 100;
	bad[nbad++].interval_ns = 100500;  /* not whole us */
	bad[nbad++].interval_ns = 0;
	bad[nbad++].duration_ns = INT64_C(1500000000); /* not whole s */
	bad[nbad++].duration_ns = 0;
	bad[nbad++].hist_max_us = -1;
	bad[nbad++].hist_max_us = RTV_CYCLIC_MAX_HIST_US + 1;
	bad[nbad++].threads = RTV_CYCLIC_MAX_THREADS + 1;
	bad[nbad++].cpus = "0 1";
	bad[nbad++].cpus = "";
	bad[nbad++].json_path = "";
	for (int i = 0; i < nbad; i++)
		assert_int_equal(rtv_cyclic_argv(&bad[i], "c", argv, RTV_CYCLIC_MAX_ARGS, buf,
						 sizeof(buf)), -EINVAL);
	assert_int_equal(rtv_cyclic_argv(&c, NULL, argv, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(rtv_cyclic_argv(NULL, "c", argv, RTV_CYCLIC_MAX_ARGS, buf, sizeof(buf)),
			 -EINVAL);
}

/* ---- the real runs ---- */

/* t1-h400.json: cycles 29971, the histogram sums to 29970 (its text's
 * Total), so 1 overflow: the 2661 us max. Ranks over 29971 samples: p50 the
 * 14986th (cumulative 10:1 .. 18:525, 19:10038, 20:22400: 20 us), p99 the
 * 29672nd (34 us), p99.9 the 29942nd (60 us). */
static void test_json_t1(void **state)
{
	json_t *obj = NULL;
	struct rtv_cyclic_result *r = from_json("t1-h400", &obj);

	(void)state;
	assert_int_equal(r->source, RTV_CYCLIC_SRC_JSON);
	assert_int_equal(r->nthreads, 1);
	assert_true(r->has_hist);
	assert_string_equal(r->version, "2.40");
	assert_int_equal(r->return_code, 0);
	assert_int_equal(r->thread[0].min_us, 10);
	assert_int_equal(r->thread[0].max_us, 2661);
	assert_near(r->thread[0].avg_us, 20.80, 1e-9);
	assert_int_equal(r->thread[0].cycles, 29971);
	assert_int_equal(r->thread[0].overflows, 1);
	assert_int_equal(r->thread[0].cpu, 0);
	assert_int_equal(r->samples, 29971);
	assert_int_equal(r->overflows, 1);
	assert_int_equal(r->min_ns, 10000);
	assert_int_equal(r->max_ns, 2661000);
	assert_near(r->avg_ns, 20800, 1e-6);
	assert_int_equal(r->p50_ns, 20000);
	assert_int_equal(r->p99_ns, 34000);
	assert_int_equal(r->p999_ns, 60000);
	/* hist: every sample, the overflow at the max */
	assert_int_equal(r->hist.count, 29971);
	assert_int_equal(r->hist.min_ns, 10000);
	assert_int_equal(r->hist.max_ns, 2661000);
	/* above 400 us only the overflow (next below is 183 us): exact */
	assert_near(rtv_hist_fraction_above(&r->hist, 400000), 1.0 / 29971, 1e-12);
	/* the document handed back, its quirky keys read */
	assert_non_null(obj);
	assert_int_equal(json_integer_value(json_object_get(obj, "num_threads")), 1);
	assert_string_equal(rtv_cyclic_json_string(obj, "rt_test_version"), "2.40");
	assert_string_equal(rtv_cyclic_json_string(obj, "cmdline"),
			    "cyclictest -m -p 90 -i 100 -D 3 -q -h 400 --json=/tmp/cyc/t1.json");
	assert_null(rtv_cyclic_json_string(obj, "nosuchkey"));
	json_decref(obj);
	free(r);
}

/* t1-h400.txt: the same run's stdout; Avg printed truncated (20). */
static void test_text_t1(void **state)
{
	struct rtv_cyclic_result *r = from_text("t1-h400");

	(void)state;
	assert_int_equal(r->source, RTV_CYCLIC_SRC_HIST);
	assert_int_equal(r->nthreads, 1);
	assert_true(r->has_hist);
	assert_int_equal(r->thread[0].min_us, 10);
	assert_int_equal(r->thread[0].max_us, 2661);
	assert_near(r->thread[0].avg_us, 20, 0);
	assert_int_equal(r->thread[0].cycles, 29971); /* Total 29970 + 1 overflow */
	assert_int_equal(r->thread[0].overflows, 1);
	assert_int_equal(r->thread[0].cpu, -1);
	assert_int_equal(r->samples, 29971);
	assert_near(r->avg_ns, 20000, 1e-6);
	assert_int_equal(r->p50_ns, 20000);
	assert_int_equal(r->p99_ns, 34000);
	assert_int_equal(r->p999_ns, 60000);
	assert_int_equal(r->hist.count, 29971);
	assert_int_equal(r->hist.max_ns, 2661000);
	assert_string_equal(r->version, "");
	free(r);
}

/* t2-h400: thread 0 29995 cycles none over, thread 1 29928 of which 4 over
 * (Total 29924). Merged ranks over 59923: p50 20, p99 46, p99.9 78 us. */
static void test_two_threads(void **state)
{
	struct rtv_cyclic_result *j = from_json("t2-h400", NULL), *t = from_text("t2-h400");

	(void)state;
	for (int k = 0; k < 2; k++) {
		const struct rtv_cyclic_result *r = k ? t : j;

		assert_int_equal(r->nthreads, 2);
		assert_int_equal(r->samples, 59923);
		assert_int_equal(r->overflows, 4);
		assert_int_equal(r->thread[0].overflows, 0);
		assert_int_equal(r->thread[1].overflows, 4);
		assert_int_equal(r->thread[0].cycles, 29995);
		assert_int_equal(r->thread[1].cycles, 29928);
		assert_int_equal(r->thread[0].min_us, 6);
		assert_int_equal(r->thread[1].min_us, 5);
		assert_int_equal(r->thread[0].max_us, 262);
		assert_int_equal(r->thread[1].max_us, 1235);
		assert_int_equal(r->min_ns, 5000);
		assert_int_equal(r->max_ns, 1235000);
		assert_int_equal(r->p50_ns, 20000);
		assert_int_equal(r->p99_ns, 46000);
		assert_int_equal(r->p999_ns, 78000);
		assert_int_equal(r->hist.count, 59923);
	}
	assert_int_equal(j->thread[1].cpu, 1);
	/* the JSON's 21.00 is a mean just below 21, which the text truncates */
	assert_near(j->thread[1].avg_us, 21.0, 1e-9);
	assert_near(t->thread[1].avg_us, 20.0, 0);
	/* (21.47 * 29995 + 21.00 * 29928) / 59923 */
	assert_near(j->avg_ns, (21.47 * 29995 + 21.00 * 29928) / 59923 * 1000, 1e-6);
	free(j);
	free(t);
}

/* t1-h25: 18674 in range, 1325 over, 19999 in all: the 10000th sample (p50)
 * is in bucket 20 (cumulative 3702 through 19, 14139 through 20), the
 * 19800th (p99) and the 19980th (p99.9) among the overflows: unknown. */
static void test_overflow_percentiles(void **state)
{
	struct rtv_cyclic_result *j = from_json("t1-h25", NULL), *t = from_text("t1-h25");

	(void)state;
	for (int k = 0; k < 2; k++) {
		const struct rtv_cyclic_result *r = k ? t : j;

		assert_int_equal(r->samples, 19999);
		assert_int_equal(r->overflows, 1325);
		assert_int_equal(r->p50_ns, 20000);
		assert_int_equal(r->p99_ns, -1);
		assert_int_equal(r->p999_ns, -1);
		/* the overflows at the max, 132 us: the CDF reaches 1 there */
		assert_int_equal(r->hist.count, 19999);
		assert_int_equal(r->hist.max_ns, 132000);
		assert_near(rtv_hist_fraction_above(&r->hist, 25000), 1325.0 / 19999, 1e-12);
	}
	free(j);
	free(t);
}

/* t1-h20 and t2-h20: almost everything over 20 us; no percentile known. */
static void test_mostly_overflows(void **state)
{
	struct rtv_cyclic_result *j1 = from_json("t1-h20", NULL), *t1 = from_text("t1-h20");
	struct rtv_cyclic_result *j2 = from_json("t2-h20", NULL), *t2 = from_text("t2-h20");

	(void)state;
	assert_int_equal(j1->samples, 29800);
	assert_int_equal(j1->overflows, 29790);
	assert_int_equal(t1->overflows, 29790);
	assert_int_equal(j1->p50_ns, -1);
	assert_int_equal(t1->p50_ns, -1);
	assert_int_equal(j1->hist.count, 29800);
	assert_int_equal(j1->hist.min_ns, 11000);
	assert_int_equal(j1->hist.max_ns, 1672000);
	/* Total 877 + 29114 and 336 + 29591 */
	assert_int_equal(t2->thread[0].cycles, 29991);
	assert_int_equal(t2->thread[1].cycles, 29927);
	assert_int_equal(j2->overflows, 29114 + 29591);
	assert_int_equal(t2->overflows, 29114 + 29591);
	assert_int_equal(j2->p50_ns, -1);
	assert_int_equal(j2->p999_ns, -1);
	free(j1);
	free(t1);
	free(j2);
	free(t2);
}

/* All samples over the limit: 2.4 writes "histogram": {} then, as it does
 * without -h; the command line tells them apart. */
static void test_json_all_overflow(void **state)
{
	char *js = slurp("t1-h20.json", NULL), *s;
	json_t *doc = json_loads(js, 0, NULL), *t;
	struct rtv_cyclic_result *r = result_new();
	char err[256];

	(void)state;
	assert_non_null(doc);
	t = json_object_get(json_object_get(doc, "thread"), "0");
	assert_int_equal(json_object_set_new(t, "histogram", json_object()), 0);
	s = json_dumps(doc, 0);
	assert_int_equal(rtv_cyclic_parse_json(s, strlen(s), r, NULL, err, sizeof(err)), 0);
	assert_true(r->has_hist);
	assert_int_equal(r->overflows, 29800);
	assert_int_equal(r->p50_ns, -1);
	assert_int_equal(r->hist.count, 29800);
	assert_int_equal(r->hist.min_ns, 1672000);
	free(s);
	/* the same without the command line: taken as no histogram */
	assert_int_equal(json_object_del(doc, "cmdline:"), 0);
	s = json_dumps(doc, 0);
	assert_int_equal(rtv_cyclic_parse_json(s, strlen(s), r, NULL, err, sizeof(err)), 0);
	assert_false(r->has_hist);
	assert_int_equal(r->overflows, 0);
	assert_int_equal(r->samples, 29800);
	assert_int_equal(r->hist.count, 0);
	free(s);
	json_decref(doc);
	free(js);
	free(r);
}

/* t2-summary: -q without -h prints "T:" lines; the JSON has no histogram. */
static void test_summary_lines(void **state)
{
	struct rtv_cyclic_result *j = from_json("t2-summary", NULL), *t = from_text("t2-summary");
	char msg[256];

	(void)state;
	assert_int_equal(t->source, RTV_CYCLIC_SRC_SUMMARY);
	assert_int_equal(t->nthreads, 2);
	assert_false(t->has_hist);
	assert_int_equal(t->thread[0].cycles, 9999);
	assert_int_equal(t->thread[0].min_us, 19);
	assert_near(t->thread[0].avg_us, 24, 0);
	assert_int_equal(t->thread[0].max_us, 106);
	assert_int_equal(t->thread[1].cycles, 1666);
	assert_int_equal(t->thread[1].min_us, 13);
	assert_near(t->thread[1].avg_us, 49, 0);
	assert_int_equal(t->thread[1].max_us, 990);
	assert_int_equal(t->samples, 9999 + 1666);
	assert_int_equal(t->p50_ns, -1);
	assert_int_equal(t->hist.count, 0);
	assert_false(j->has_hist);
	assert_int_equal(j->overflows, 0);
	assert_int_equal(j->samples, 9999 + 1666);
	assert_int_equal(j->p50_ns, -1);
	assert_int_equal(j->hist.count, 0);
	assert_int_equal(rtv_cyclic_crosscheck(j, t, msg, sizeof(msg)), 0);
	free(j);
	free(t);
}

static void test_crosscheck_real_pairs(void **state)
{
	(void)state;
	expect_crosscheck("t1-h400");
	expect_crosscheck("t2-h400");
	expect_crosscheck("t1-h25");
	expect_crosscheck("t1-h20");
	expect_crosscheck("t2-h20");
}

/* One number changed on either side makes the pair disagree, named. */
static void test_crosscheck_fails(void **state)
{
	struct rtv_cyclic_result *j = from_json("t2-h400", NULL), *t = result_new(), *j2 = result_new();
	char *txt = slurp("t2-h400.txt", NULL), *js, *bad;
	char err[256], msg[512];
	size_t len;

	(void)state;
	bad = replaced(txt, "# Max Latencies: 00262 01235", "# Max Latencies: 00262 01236");
	assert_int_equal(rtv_cyclic_parse_text(bad, t, err, sizeof(err)), 0);
	assert_int_equal(rtv_cyclic_crosscheck(j, t, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "thread 1: max 1235 in JSON, 1236 in text");
	free(bad);

	bad = replaced(txt, "# Avg Latencies: 00021 00020", "# Avg Latencies: 00021 00019");
	assert_int_equal(rtv_cyclic_parse_text(bad, t, err, sizeof(err)), 0);
	assert_int_equal(rtv_cyclic_crosscheck(j, t, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "thread 1: avg 21.00 in JSON, 19 in text");
	free(bad);

	/* the JSON side: thread 0's min, and thread 1's cycles (so its
	 * overflows too) */
	assert_int_equal(rtv_cyclic_parse_text(txt, t, err, sizeof(err)), 0);
	js = slurp("t2-h400.json", &len);
	bad = replaced(js, "\"min\": 6,", "\"min\": 7,");
	assert_int_equal(rtv_cyclic_parse_json(bad, strlen(bad), j2, NULL, err, sizeof(err)), 0);
	assert_int_equal(rtv_cyclic_crosscheck(j2, t, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "thread 0: min 7 in JSON, 6 in text");
	free(bad);
	bad = replaced(js, "\"cycles\": 29928,", "\"cycles\": 29929,");
	assert_int_equal(rtv_cyclic_parse_json(bad, strlen(bad), j2, NULL, err, sizeof(err)), 0);
	assert_int_equal(rtv_cyclic_crosscheck(j2, t, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "thread 1: cycles 29929 in JSON, 29928 in text; "
				 "thread 1: overflows 5 in JSON, 4 in text");
	free(bad);
	/* a pair of different runs */
	free(t);
	t = from_text("t1-h400");
	assert_int_equal(rtv_cyclic_crosscheck(j, t, msg, sizeof(msg)), -EPROTO);
	assert_string_equal(msg, "2 threads in JSON, 1 in text");
	/* the text result is not a JSON one */
	assert_int_equal(rtv_cyclic_crosscheck(t, t, msg, sizeof(msg)), -EINVAL);
	free(js);
	free(txt);
	free(t);
	free(j);
	free(j2);
}

/* Both spellings of the 2.4 keys with the trailing colon. */
static void test_quirk_keys(void **state)
{
	char *js = slurp("t1-h400.json", NULL), *a, *b;
	struct rtv_cyclic_result *r = result_new();
	json_t *obj;
	char err[256];

	(void)state;
	assert_non_null(strstr(js, "\"rt_test_version:\": \"2.40\""));
	a = replaced(js, "\"rt_test_version:\"", "\"rt_test_version\"");
	b = replaced(a, "\"cmdline:\"", "\"cmdline\"");
	assert_int_equal(rtv_cyclic_parse_json(b, strlen(b), r, &obj, err, sizeof(err)), 0);
	assert_string_equal(r->version, "2.40");
	assert_non_null(strstr(rtv_cyclic_json_string(obj, "cmdline"), "-h 400"));
	json_decref(obj);
	free(a);
	/* absent altogether: parsed, no version */
	a = replaced(js, "\"rt_test_version:\"", "\"other\"");
	assert_int_equal(rtv_cyclic_parse_json(a, strlen(a), r, NULL, err, sizeof(err)), 0);
	assert_string_equal(r->version, "");
	assert_int_equal(r->samples, 29971);
	free(a);
	free(b);
	free(js);
	free(r);
}

static void test_json_malformed(void **state)
{
	size_t len;
	char *js = slurp("t2-h400.json", &len), *bad;

	(void)state;
	/* truncated anywhere: not JSON */
	expect_json_fails(js, len / 2, "malformed cyclictest JSON");
	expect_json_fails(js, len - 3, "malformed cyclictest JSON");
	expect_json_fails(js, 0, "malformed cyclictest JSON");
	expect_json_fails("[1, 2]", 6, "top level is not an object");
	bad = replaced(js, "\"num_threads\"", "\"num_thread\"");
	expect_json_fails(bad, strlen(bad), "no \"num_threads\"");
	free(bad);
	bad = replaced(js, "\"num_threads\": 2", "\"num_threads\": 3");
	expect_json_fails(bad, strlen(bad), "\"thread\" has 2 entries, num_threads 3");
	free(bad);
	bad = replaced(js, "\"num_threads\": 2", "\"num_threads\": \"2\"");
	expect_json_fails(bad, strlen(bad), "\"num_threads\" is not a number");
	free(bad);
	bad = replaced(js, "\"thread\":", "\"threads\":");
	expect_json_fails(bad, strlen(bad), "no \"thread\"");
	free(bad);
	bad = replaced(js, "\"1\": {", "\"2\": {");
	expect_json_fails(bad, strlen(bad), "no \"thread\" \"1\"");
	free(bad);
	bad = replaced(js, "\"max\": 262,", "");
	expect_json_fails(bad, strlen(bad), "thread 0 has no \"max\"");
	free(bad);
	bad = replaced(js, "\"min\": 6,", "\"min\": -6,");
	expect_json_fails(bad, strlen(bad), "thread 0: \"min\" is not a whole number");
	free(bad);
	bad = replaced(js, "\"avg\": 21.00,", "\"avg\": \"21\",");
	expect_json_fails(bad, strlen(bad), "thread 1: \"avg\" is not a number");
	free(bad);
	bad = replaced(js, "\"max\": 262,", "\"max\": 1000000000001,");
	expect_json_fails(bad, strlen(bad), "thread 0: \"max\" out of range");
	free(bad);
	bad = replaced(js, "\"6\": 2,", "\"6us\": 2,");
	expect_json_fails(bad, strlen(bad), "thread 0: histogram key '6us' is not a latency");
	free(bad);
	bad = replaced(js, "\"6\": 2,", "\"6\": 1.5,");
	expect_json_fails(bad, strlen(bad), "thread 0: histogram bucket '6' is not a whole count");
	free(bad);
	/* thread 0's histogram sums to 29995 = its cycles; one more is too many */
	bad = replaced(js, "\"6\": 2,", "\"6\": 3,");
	expect_json_fails(bad, strlen(bad),
			  "thread 0: histogram holds 29996 samples, more than its 29995 cycles");
	free(bad);
	bad = replaced(js, "\"histogram\"", "\"hist\"");
	expect_json_fails(bad, strlen(bad), "thread 1 has a \"histogram\" and thread 0 has none");
	free(bad);
	free(js);
}

static void test_text_malformed(void **state)
{
	char *txt = slurp("t1-h400.txt", NULL), *two = slurp("t2-h400.txt", NULL), *bad;
	size_t len = strlen(txt);

	(void)state;
	/* cut in the middle of the rows, or before the last footer lines */
	bad = strndup(txt, len / 2);
	expect_text_fails(bad, "no '# Min Latencies:' line (truncated?)");
	free(bad);
	bad = strndup(txt, (size_t)(strstr(txt, "# Histogram Overflows") - txt));
	expect_text_fails(bad, "no '# Histogram Overflows:' line (truncated?)");
	free(bad);
	bad = strndup(txt, (size_t)(strstr(txt, "# Thread 0") - txt));
	expect_text_fails(bad, "no '# Thread 0:' line (truncated?)");
	free(bad);
	expect_text_fails("", "no '# Histogram' and no 'T:' line");
	/* a row lost: the sum no longer meets Total */
	bad = replaced(txt, "000020 012362\n", "");
	expect_text_fails(bad, "thread 0's rows sum to 17608, its '# Total:' says 29970");
	free(bad);
	bad = replaced(txt, "000020 012362", "000018 012362");
	expect_text_fails(bad, "line 23: histogram row out of order");
	free(bad);
	bad = replaced(txt, "000020 012362", "000020 012362 000001");
	expect_text_fails(bad, "line 23: histogram row with another number of columns");
	free(bad);
	bad = replaced(txt, "000020 012362", "000020 01x362");
	expect_text_fails(bad, "line 23: not a histogram row");
	free(bad);
	bad = replaced(txt, "# Histogram\n", "oops\n");
	expect_text_fails(bad, "line 2: unexpected 'oops'");
	free(bad);
	bad = replaced(txt, "# Max Latencies: 02661", "# Max Latencies: many");
	expect_text_fails(bad, "'# Max Latencies:' holds no numbers");
	free(bad);
	bad = replaced(two, "# Min Latencies: 00006 00005", "# Min Latencies: 00006");
	expect_text_fails(bad, "'# Min Latencies:' has 1 numbers for 2 threads");
	free(bad);
	bad = replaced(two, "# Thread 1:", "# Thread 2:");
	expect_text_fails(bad, "thread 1 expected");
	free(bad);
	expect_text_fails("T: 0 (20197) P:90 I:100 C:   9999 Min:     19 Act:   23\n",
			  "line 1: malformed 'T:' line");
	expect_text_fails("T: 0 (20197) P:90 I:100 C:   9999 Min:     19 Act:   23 Avg: 24 Max: -1\n",
			  "line 1: malformed 'T:' line");
	bad = replaced(txt, "# Max Latencies: 02661", "# Max Latencies: 99999999999999999");
	expect_text_fails(bad, "line 406: '# Max Latencies:' out of range");
	free(bad);
	free(two);
	free(txt);
}

/* The -H form: one more column and one more footer number, the sums. */
static void test_text_histofall(void **state)
{
	static const char text[] =
		"# Histogram\n"
		"000000 000000\t000000\t000000\n"
		"000001 000003\t000001\t000004\n"
		"000002 000001\t000002\t000003\n"
		"# Total: 000000004 000000003 000000007\n"
		"# Min Latencies: 00001 00001\n"
		"# Avg Latencies: 00001 00001 00001\n"
		"# Max Latencies: 00002 00005 00005\n"
		"# Histogram Overflows: 00000 00001 00001\n"
		"# Histogram Overflow at cycle number:\n"
		"# Thread 0:\n"
		"# Thread 1: 00002\n";
	struct rtv_cyclic_result *r = result_new();
	char err[256] = "";

	(void)state;
	if (rtv_cyclic_parse_text(text, r, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(r->nthreads, 2);
	assert_int_equal(r->thread[1].cycles, 4);
	assert_int_equal(r->samples, 8);
	assert_int_equal(r->overflows, 1);
	/* ranks over 8: p50 the 4th (bucket 1 holds the 1st..4th), p99 the 8th: over */
	assert_int_equal(r->p50_ns, 1000);
	assert_int_equal(r->p99_ns, -1);
	assert_int_equal(r->hist.count, 8);
	assert_int_equal(r->hist.max_ns, 5000);
	free(r);
}

static void test_cdf_svg(void **state)
{
	struct rtv_cyclic_result *a = from_json("t1-h400", NULL), *b = from_json("t2-h400", NULL);
	const struct rtv_cyclic_result *r[2] = { a, b };
	const char *names[2] = { "one thread", "two threads" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(rtv_cyclic_cdf_svg(f, "cyclictest", names, r, 2), 0);
	fclose(f);
	assert_true(len > 100);
	assert_memory_equal(buf, "<svg", 4);
	assert_non_null(strstr(buf, "two threads"));
	assert_int_equal(rtv_cyclic_cdf_svg(NULL, NULL, names, r, 2), -EINVAL);
	assert_int_equal(rtv_cyclic_cdf_svg(stdout, NULL, names, NULL, 2), -EINVAL);
	free(buf);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_defaults),
		cmocka_unit_test(test_argv_all),
		cmocka_unit_test(test_argv_invalid),
		cmocka_unit_test(test_json_t1),
		cmocka_unit_test(test_text_t1),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_overflow_percentiles),
		cmocka_unit_test(test_mostly_overflows),
		cmocka_unit_test(test_json_all_overflow),
		cmocka_unit_test(test_summary_lines),
		cmocka_unit_test(test_crosscheck_real_pairs),
		cmocka_unit_test(test_crosscheck_fails),
		cmocka_unit_test(test_quirk_keys),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_text_malformed),
		cmocka_unit_test(test_text_histofall),
		cmocka_unit_test(test_cdf_svg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
