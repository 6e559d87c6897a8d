/* Unit tests for lib/report/svg: the document is well-formed XML, names are
 * escaped, the axis spans the data, bad input and write errors are caught;
 * the histogram and XY pictures put their curves where the axes say; the
 * locale does not change a byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "stats/hist.h"

#include "fixture.h"

/* Write the picture into a temporary file and return its text (free it). */
static char *render(const char *title, const struct rtv_svg_series *s, int n)
{
	FILE *f = tmpfile();
	char *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(rtv_svg_cdf_write(f, title, s, n), 0);
	len = ftell(f);
	assert_true(len > 0);
	buf = malloc(len + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, len, f), len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* '&' starts one of the five entities or a character reference. */
static int entity_ok(const char *p)
{
	static const char *const ents[] = { "&lt;", "&gt;", "&amp;", "&quot;", "&apos;" };
	size_t i;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (strncmp(p, ents[i], strlen(ents[i])) == 0)
			return 1;
	if (p[1] != '#' || !isdigit((unsigned char)p[2]))
		return 0;
	for (p += 2; isdigit((unsigned char)*p); p++)
		;
	return *p == ';';
}

/* A small well-formedness check: one root element, tags nest and match,
 * attribute values are quoted and free of '<', every '&' is an entity. */
static void assert_well_formed(const char *doc)
{
	const char *stack[256], *p = doc, *name;
	size_t len[256], nlen;
	int depth = 0, roots = 0;
	char q;

	while (*p) {
		if (*p == '&') {
			assert_true(entity_ok(p));
			p++;
			continue;
		}
		if (*p != '<') {
			assert_true(depth > 0 || isspace((unsigned char)*p));
			p++;
			continue;
		}
		p++;
		if (*p == '/') { /* end tag */
			name = ++p;
			while (isalnum((unsigned char)*p))
				p++;
			assert_true(depth > 0);
			depth--;
			assert_int_equal((size_t)(p - name), len[depth]);
			assert_memory_equal(name, stack[depth], len[depth]);
			assert_true(*p == '>');
			p++;
			continue;
		}
		name = p;
		while (isalnum((unsigned char)*p))
			p++;
		nlen = p - name;
		assert_true(nlen > 0);
		for (;;) { /* attributes */
			while (isspace((unsigned char)*p))
				p++;
			if (*p == '>' || (*p == '/' && p[1] == '>'))
				break;
			assert_true(isalpha((unsigned char)*p));
			while (isalnum((unsigned char)*p) || *p == '-' || *p == ':')
				p++;
			assert_true(*p == '=');
			q = *++p;
			assert_true(q == '"' || q == '\'');
			for (p++; *p != q; p++) {
				assert_true(*p != '\0' && *p != '<');
				if (*p == '&')
					assert_true(entity_ok(p));
			}
			p++;
		}
		if (depth == 0)
			roots++;
		if (*p == '/') {
			p += 2;
			continue;
		}
		p++;
		assert_true(depth < 256);
		stack[depth] = name;
		len[depth++] = nlen;
	}
	assert_int_equal(depth, 0);
	assert_int_equal(roots, 1);
}

static const double xa[] = { 20e3, 50e3, 100e3, 1e6, 5e6 };
static const double ya[] = { 0.1, 0.5, 0.9, 0.99, 1 };
static const double xb[] = { 30e3, 60e3, 2e6 };
static const double yb[] = { 0.3, 0.8, 1 };

static void test_document(void **state)
{
	const struct rtv_svg_series s[] = {
		{ "napi <&> \"threaded\" 'on'", xa, ya, 5 },
		{ "baseline", xb, yb, 3 },
		{ "empty", NULL, NULL, 0 },
	};
	char *doc;

	(void)state;
	doc = render("RTT <veth> & \"NAPI\"", s, 3);
	assert_true(strncmp(doc, "<svg", 4) == 0);
	assert_true(strlen(doc) > 8 && strcmp(doc + strlen(doc) - 7, "</svg>\n") == 0);
	assert_well_formed(doc);

	/* names and title escaped, never raw */
	assert_int_equal(count(doc, "napi &lt;&amp;&gt; &quot;threaded&quot; &apos;on&apos;"), 2);
	assert_int_equal(count(doc, "<&>"), 0);
	assert_int_equal(count(doc, ">baseline<"), 2); /* legend and tooltip */
	assert_int_equal(count(doc, ">empty<"), 1);    /* legend only */
	assert_int_equal(count(doc, "RTT &lt;veth&gt; &amp; &quot;NAPI&quot;"), 1);

	/* two curves, three legend entries, distinct colours */
	assert_int_equal(count(doc, "<polyline"), 2);
	assert_int_equal(count(doc, "#1f77b4"), 2);
	assert_int_equal(count(doc, "#d62728"), 2);
	assert_int_equal(count(doc, "#2ca02c"), 1);

	/* 20 us .. 5 ms: decades 10 .. 10000 us, no more */
	assert_int_equal(count(doc, ">10</text>"), 1);
	assert_int_equal(count(doc, ">100</text>"), 1);
	assert_int_equal(count(doc, ">1000</text>"), 1);
	assert_int_equal(count(doc, ">10000</text>"), 1);
	assert_int_equal(count(doc, ">100000</text>"), 0);
	assert_int_equal(count(doc, ">0.1</text>"), 0);
	assert_int_equal(count(doc, "&#181;s"), 1);
	/* y axis 0 .. 1 */
	assert_int_equal(count(doc, ">0.2</text>"), 1);
	assert_int_equal(count(doc, ">1</text>"), 1);
	free(doc);
}

/* Edge of the x axis: the curve's x spans PL=80 .. PR=640 exactly when the
 * data sit on decades. */
static void test_x_mapping(void **state)
{
	const double x[] = { 1e3, 1e6 }, y[] = { 0.5, 1 };
	const struct rtv_svg_series s = { "s", x, y, 2 };
	char *doc;

	(void)state;
	doc = render(NULL, &s, 1);
	/* starts at (1 us, 0), rises to 0.5, ends at (1000 us, 1) */
	assert_non_null(strstr(doc, "points=\"80.00,450.00 80.00,250.00 640.00,50.00\""));
	assert_int_equal(count(doc, ">1</text>"), 2); /* 1 us and y = 1 */
	assert_int_equal(count(doc, ">1000</text>"), 1);
	assert_int_equal(count(doc, ">10000</text>"), 0);
	free(doc);
}

/* The marker: one dashed line with its label, and the axis spans it even
 * when every point lies below it (normalized responses 0.02 .. 0.5, the
 * deadline at 1: decades 0.01 .. 1). */
static void test_marker(void **state)
{
	double x[2] = { 20, 500 }, y[2] = { 0.5, 1 };
	struct rtv_svg_series s = { .name = "t", .x_ns = x, .y = y, .n = 2 };
	FILE *f = tmpfile();
	char buf[16384];
	size_t len;

	(void)state;
	assert_non_null(f);
	assert_int_equal(rtv_svg_cdf_write_marked(f, NULL, &s, 1, 1000, "dead<line"), 0);
	len = (size_t)ftell(f);
	assert_true(len > 0 && len < sizeof(buf));
	rewind(f);
	assert_int_equal(fread(buf, 1, len, f), len);
	buf[len] = '\0';
	fclose(f);
	assert_int_equal(count(buf, "stroke-dasharray=\"6,3\""), 1);
	assert_int_equal(count(buf, ">dead&lt;line</text>"), 1);
	assert_int_equal(count(buf, ">0.01</text>"), 1);
	assert_int_equal(count(buf, ">1</text>"), 2); /* the x decade and the y axis's 1 */
	assert_int_equal(count(buf, ">10</text>"), 0);
}

static void test_empty(void **state)
{
	const struct rtv_svg_series s[] = { { NULL, NULL, NULL, 0 }, { "", xa, ya, 0 } };
	char *doc;

	(void)state;
	doc = render("nothing", NULL, 0);
	assert_true(strncmp(doc, "<svg", 4) == 0);
	assert_well_formed(doc);
	assert_int_equal(count(doc, "<polyline"), 0);
	free(doc);

	doc = render(NULL, s, 2);
	assert_well_formed(doc);
	assert_int_equal(count(doc, "<polyline"), 0);
	assert_true(strcmp(doc + strlen(doc) - 7, "</svg>\n") == 0);
	free(doc);
}

/* Points outside the picture are clamped or skipped, not written as nan. */
static void test_odd_points(void **state)
{
	const double x[] = { -5, 0, 1e3, 1.0 / 0.0, 2e3 }, y[] = { 0, 0.1, 0.5, 0.7, 0.0 / 0.0 };
	const double x2[] = { 1e3, 2e3 }, y2[] = { -1, 2 };
	const struct rtv_svg_series s[] = { { "odd", x, y, 5 }, { "clamped", x2, y2, 2 } };
	char *doc;

	(void)state;
	doc = render("odd", s, 2);
	assert_well_formed(doc);
	assert_null(strstr(doc, "nan"));
	assert_null(strstr(doc, "inf"));
	free(doc);
}

static void test_errors(void **state)
{
	const struct rtv_svg_series bad = { "bad", NULL, ya, 3 };
	const struct rtv_svg_series ok = { "ok", xa, ya, 5 };
	char small[64];
	FILE *f;

	(void)state;
	assert_int_equal(rtv_svg_cdf_write(NULL, "t", &ok, 1), -EINVAL);
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(rtv_svg_cdf_write(f, "t", &bad, 1), -EINVAL);
	assert_int_equal(rtv_svg_cdf_write(f, "t", NULL, 1), -EINVAL);
	assert_int_equal(rtv_svg_cdf_write(f, "t", &ok, -1), -EINVAL);
	assert_int_equal(ftell(f), 0); /* nothing written on bad input */
	fclose(f);

	/* a full disk */
	f = fopen("/dev/full", "w");
	if (f) {
		assert_int_equal(rtv_svg_cdf_write(f, "t", &ok, 1), -EIO);
		fclose(f);
	}
	/* a buffer too small */
	f = fmemopen(small, sizeof(small), "w");
	assert_non_null(f);
	assert_int_equal(rtv_svg_cdf_write(f, "t", &ok, 1), -EIO);
	fclose(f);
}

/* Everything written to f since it was opened, as a string (free it). */
static char *slurp(FILE *f)
{
	long len = ftell(f);
	char *buf;

	assert_true(len > 0);
	buf = malloc(len + 1);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, len, f), len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

typedef int (*hist_picture)(FILE *f, const char *title, const struct rtv_svg_axis *ax,
			    const char *const *names, const struct rtv_hist *const *h, int n,
			    double mark, const char *mark_label);

static char *render_hist(hist_picture fn, const char *title, const struct rtv_svg_axis *ax,
			 const char *const *names, const struct rtv_hist *const *h, int n,
			 double mark, const char *mark_label)
{
	FILE *f = tmpfile();
	char *doc;

	assert_non_null(f);
	assert_int_equal(fn(f, title, ax, names, h, n, mark, mark_label), 0);
	doc = slurp(f);
	assert_true(strncmp(doc, "<svg", 4) == 0);
	assert_true(strlen(doc) > 8 && strcmp(doc + strlen(doc) - 7, "</svg>\n") == 0);
	assert_well_formed(doc);
	return doc;
}

/* The points of the k-th polyline (from 0) in doc, at most max; returns how
 * many. */
static int curve_points(const char *doc, int k, double *x, double *y, int max)
{
	const char *p = doc;
	char *end;
	int n = 0;

	for (; k >= 0; k--) {
		p = strstr(p, "<polyline");
		assert_non_null(p);
		p += 9;
	}
	p = strstr(p, "points=\"");
	assert_non_null(p);
	p += 8;
	while (*p != '"') {
		assert_true(n < max);
		x[n] = strtod(p, &end);
		assert_true(end > p && *end == ',');
		p = end + 1;
		y[n++] = strtod(p, &end);
		assert_true(end > p && (*end == ' ' || *end == '"'));
		p = *end == ' ' ? end + 1 : end;
	}
	return n;
}


static const struct rtv_svg_axis us = { "latency (\u00b5s)", 1000 };

/* Two histograms and an empty one. a: 1000 samples, 900 of 10 us, 90 of
 * 100 us, 9 of 500 us, 1 of 1 ms; b: 100000 samples, 20 us to 100 us.
 * Their values span 10 .. 1000 us: the y axis is two decades, 10 at
 * PB = 450 and 1000 at PT = 50. b resolves five nines, so the x axis runs
 * to log10(100000) = 5 decades of 1 / (1 - p): 112 px a decade. */
static void test_pct_document(void **state)
{
	struct rtv_hist *a = rtv_test_hist_new(), *b = rtv_test_hist_new(), *e = rtv_test_hist_new();
	const struct rtv_hist *h[] = { a, b, e };
	const char *names[] = { "napi <&> \"threaded\"", "busy", "empty" };
	double x[400], y[400];
	char *doc;
	int n, i, k;

	(void)state;
	rtv_test_hist_record(a, 10000, 900);
	rtv_test_hist_record(a, 100000, 90);
	rtv_test_hist_record(a, 500000, 9);
	rtv_test_hist_record(a, 1000000, 1);
	for (i = 0; i < 100000; i++)
		rtv_hist_record(b, 20000 + (i % 80001));
	doc = render_hist(rtv_svg_hist_percentiles, "tail <&>", &us, names, h, 3, 0, NULL);

	/* names, title and axis title escaped; two curves, three legend
	 * entries */
	assert_int_equal(count(doc, "napi &lt;&amp;&gt; &quot;threaded&quot;"), 2);
	assert_int_equal(count(doc, ">busy<"), 2);
	assert_int_equal(count(doc, ">empty<"), 1);
	assert_int_equal(count(doc, ">tail &lt;&amp;&gt;</text>"), 1);
	assert_int_equal(count(doc, ">latency (&#181;s)</text>"), 1);
	assert_int_equal(count(doc, ">percentile (%)</text>"), 1);
	assert_int_equal(count(doc, "<polyline"), 2);

	/* x: 50 .. 99.999, no more; y: 10, 100, 1000 us */
	assert_int_equal(count(doc, ">50</text>"), 1);
	assert_int_equal(count(doc, ">90</text>"), 1);
	assert_int_equal(count(doc, ">99</text>"), 1);
	assert_int_equal(count(doc, ">99.9</text>"), 1);
	assert_int_equal(count(doc, ">99.99</text>"), 1);
	assert_int_equal(count(doc, ">99.999</text>"), 1);
	assert_int_equal(count(doc, ">99.9999</text>"), 0);
	assert_int_equal(count(doc, ">10</text>"), 1);
	assert_int_equal(count(doc, ">100</text>"), 1);
	assert_int_equal(count(doc, ">1000</text>"), 1);
	assert_int_equal(count(doc, ">10000</text>"), 0);
	assert_int_equal(count(doc, ">1</text>"), 0);
	/* the 99.9 tick: 3 decades in */
	assert_non_null(strstr(doc, "<text x=\"416.00\" y=\"470\">99.9</text>"));

	/* a: 50 points a decade below log10(1000) = 3, then the max */
	n = curve_points(doc, 0, x, y, 400);
	assert_int_equal(n, 151);
	for (k = 1; k < n; k++) {
		assert_true(x[k] > x[k - 1]);  /* right */
		assert_true(y[k] <= y[k - 1]); /* never down (px grow downwards) */
	}
	/* from the min at p = 0 ... */
	assert_true(x[0] == 80.0 && y[0] == 450.0);
	/* ... through p90 = the 900th sample (10 us: its bucket's midpoint,
	 * 10.016 us, 0.14 px up) and p99 = the 990th (100 us: 100.096 us),
	 * at whole decades 1 and 2 ... */
	assert_true(x[50] == 192.0 && y[50] == 449.86);
	assert_true(x[100] == 304.0 && y[100] == 249.92);
	/* ... to the max, 1000 us, at x = log10(1000) */
	assert_true(x[n - 1] == 416.0 && y[n - 1] == 50.0);

	/* b: to log10(100000) = 5, the right edge, ending at its max, 100 us */
	n = curve_points(doc, 1, x, y, 400);
	assert_int_equal(n, 251);
	for (k = 1; k < n; k++)
		assert_true(x[k] > x[k - 1] && y[k] <= y[k - 1]);
	assert_true(x[0] == 80.0);
	assert_true(x[n - 1] == 640.0 && y[n - 1] == 250.0);
	free(doc);
	free(a);
	free(b);
	free(e);
}

/* The axis reaches 99.99 even for few samples; a curve of one sample is
 * one point, at the left edge. */
static void test_pct_few(void **state)
{
	struct rtv_hist *a = rtv_test_hist_new(), *b = rtv_test_hist_new();
	const struct rtv_hist *h[] = { a, b };
	double x[64], y[64];
	char *doc;
	int n;

	(void)state;
	rtv_test_hist_record(a, 1000, 5);
	rtv_test_hist_record(a, 100000, 5);
	rtv_hist_record(b, 10000);
	doc = render_hist(rtv_svg_hist_percentiles, NULL, &us, NULL, h, 2, 0, NULL);
	assert_int_equal(count(doc, ">99.99</text>"), 1);
	assert_int_equal(count(doc, ">99.999</text>"), 0);
	/* 1 .. 100 us */
	assert_int_equal(count(doc, ">1</text>"), 1);
	assert_int_equal(count(doc, ">100</text>"), 1);
	assert_int_equal(count(doc, ">1000</text>"), 0);
	/* ten samples: x to log10(10) = 1 of 4 decades; y from 1 us at the
	 * bottom to the max, 100 us, at the top */
	n = curve_points(doc, 0, x, y, 64);
	assert_int_equal(n, 51);
	assert_true(x[0] == 80.0 && y[0] == 450.0);
	assert_true(x[n - 1] == 220.0 && y[n - 1] == 50.0);
	/* one sample, 10 us: one point, halfway up */
	n = curve_points(doc, 1, x, y, 64);
	assert_int_equal(n, 1);
	assert_true(x[0] == 80.0 && y[0] == 250.0);
	free(doc);
	free(a);
	free(b);
}

/* The marker: a horizontal dashed line at its value, labelled, the y axis
 * spanning it. */
static void test_pct_mark(void **state)
{
	struct rtv_hist *a = rtv_test_hist_new();
	const struct rtv_hist *h[] = { a };
	const char *names[] = { "a" };
	char *doc;

	(void)state;
	rtv_test_hist_record(a, 10000, 99);
	rtv_hist_record(a, 1000000);
	/* 10 .. 1000 us, the mark at 100 us halfway up */
	doc = render_hist(rtv_svg_hist_percentiles, NULL, &us, names, h, 1, 100, "1 <ms>");
	assert_int_equal(count(doc, "stroke-dasharray=\"6,3\""), 1);
	assert_non_null(strstr(doc, "<line x1=\"80\" y1=\"250.00\" x2=\"640\" y2=\"250.00\" "
				    "stroke=\"#d62728\""));
	assert_int_equal(count(doc, ">1 &lt;ms&gt;</text>"), 1);
	assert_int_equal(count(doc, ">10000</text>"), 0);
	free(doc);

	/* a mark above the data widens the axis */
	doc = render_hist(rtv_svg_hist_percentiles, NULL, &us, names, h, 1, 5000, NULL);
	assert_int_equal(count(doc, "stroke-dasharray=\"6,3\""), 1);
	assert_int_equal(count(doc, ">10000</text>"), 1);
	free(doc);

	/* none */
	doc = render_hist(rtv_svg_hist_percentiles, NULL, &us, names, h, 1, 0, "x");
	assert_int_equal(count(doc, "stroke-dasharray=\"6,3\""), 0);
	free(doc);
	doc = render_hist(rtv_svg_hist_percentiles, NULL, &us, names, h, 1, NAN, "x");
	assert_int_equal(count(doc, "stroke-dasharray=\"6,3\""), 0);
	free(doc);
	free(a);
}

/* A histogram's CDF drawn in µs is rtv_hist_cdf()'s points drawn by
 * rtv_svg_cdf_write_marked(), byte for byte. */
static void test_hist_cdf_same(void **state)
{
	static double x[1024], yv[1024];
	struct rtv_hist *a = rtv_test_hist_new(), *e = rtv_test_hist_new();
	const struct rtv_hist *h[] = { a, e };
	const char *names[] = { "a & b", "empty" };
	struct rtv_svg_series s[2] = { { "a & b", x, yv, 0 }, { "empty", NULL, NULL, 0 } };
	char *doc, *want;
	FILE *f;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++)
		rtv_hist_record(a, 20000 + 37 * i);
	s[0].n = rtv_hist_cdf(a, x, yv, 1024);
	assert_true(s[0].n > 100);
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(rtv_svg_cdf_write_marked(f, "t", s, 2, 150e3, "dl"), 0);
	want = slurp(f);
	doc = render_hist(rtv_svg_hist_cdf, "t", &us, names, h, 2, 150, "dl");
	assert_string_equal(doc, want);
	free(doc);
	free(want);
	free(a);
	free(e);
}

/* Another unit: the taskset runner's millionths of a period shown as
 * periods. 0.25 .. 1.2 periods: decades 0.1 .. 10, the deadline at 1 in the
 * middle. */
static void test_hist_cdf_unit(void **state)
{
	struct rtv_hist *a = rtv_test_hist_new();
	const struct rtv_hist *h[] = { a };
	const char *names[] = { "task" };
	const struct rtv_svg_axis periods = { "response / period", 1e6 };
	double x[1024], y[1024];
	char *doc;
	int n;

	(void)state;
	rtv_test_hist_record(a, 250000, 50);
	rtv_test_hist_record(a, 500000, 49);
	rtv_hist_record(a, 1200000);
	doc = render_hist(rtv_svg_hist_cdf, NULL, &periods, names, h, 1, 1, "deadline");
	assert_int_equal(count(doc, ">response / period</text>"), 1);
	assert_int_equal(count(doc, ">0.1</text>"), 1);
	assert_int_equal(count(doc, ">1</text>"), 2); /* x = 1 period and y = 1 */
	assert_int_equal(count(doc, ">10</text>"), 1);
	assert_int_equal(count(doc, ">0.01</text>"), 0);
	assert_non_null(strstr(doc, "<line x1=\"360.00\" y1=\"50\" x2=\"360.00\" y2=\"450\" "
				    "stroke=\"#d62728\""));
	assert_int_equal(count(doc, ">deadline</text>"), 1);
	/* ends at the max, y = 1 */
	n = curve_points(doc, 0, x, y, 1024);
	assert_int_equal(n, 4); /* 0 left of the first point, three buckets */
	assert_true(y[0] == 450.0 && y[n - 1] == 50.0);
	/* 1.2 periods: 80 + (log10(1.2) + 1) / 2 * 560 px */
	assert_true(x[n - 1] == 382.17);
	free(doc);
	free(a);
}

static void test_hist_empty(void **state)
{
	struct rtv_hist *e = rtv_test_hist_new();
	const struct rtv_hist *h[] = { e };
	char *doc;

	(void)state;
	doc = render_hist(rtv_svg_hist_percentiles, "none", &us, NULL, NULL, 0, 0, NULL);
	assert_int_equal(count(doc, "<polyline"), 0);
	assert_int_equal(count(doc, ">99.99</text>"), 1);
	free(doc);
	doc = render_hist(rtv_svg_hist_percentiles, NULL, &us, NULL, h, 1, 0, NULL);
	assert_int_equal(count(doc, "<polyline"), 0);
	assert_int_equal(count(doc, "stroke-width=\"2.5\""), 1); /* its legend entry */
	free(doc);
	doc = render_hist(rtv_svg_hist_cdf, NULL, &us, NULL, h, 1, 0, NULL);
	assert_int_equal(count(doc, "<polyline"), 0);
	assert_int_equal(count(doc, "stroke-width=\"2.5\""), 1);
	free(doc);
	free(e);
}

static void test_hist_errors(void **state)
{
	static const hist_picture fns[] = { rtv_svg_hist_cdf, rtv_svg_hist_percentiles };
	struct rtv_hist *a = rtv_test_hist_new();
	const struct rtv_hist *h[] = { a }, *hnull[] = { a, NULL };
	const struct rtv_svg_axis zero = { "x", 0 }, neg = { "x", -1 }, nan_unit = { "x", NAN },
				  inf_unit = { "x", INFINITY };
	char small[64];
	size_t i;
	FILE *f;

	(void)state;
	rtv_test_hist_record(a, 10000, 10);
	for (i = 0; i < 2; i++) {
		assert_int_equal(fns[i](NULL, "t", &us, NULL, h, 1, 0, NULL), -EINVAL);
		f = tmpfile();
		assert_non_null(f);
		assert_int_equal(fns[i](f, "t", NULL, NULL, h, 1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &zero, NULL, h, 1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &neg, NULL, h, 1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &nan_unit, NULL, h, 1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &inf_unit, NULL, h, 1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &us, NULL, h, -1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &us, NULL, NULL, 1, 0, NULL), -EINVAL);
		assert_int_equal(fns[i](f, "t", &us, NULL, hnull, 2, 0, NULL), -EINVAL);
		assert_int_equal(ftell(f), 0); /* nothing written on bad input */
		fclose(f);

		f = fopen("/dev/full", "w");
		if (f) {
			assert_int_equal(fns[i](f, "t", &us, NULL, h, 1, 0, NULL), -EIO);
			fclose(f);
		}
		f = fmemopen(small, sizeof(small), "w");
		assert_non_null(f);
		assert_int_equal(fns[i](f, "t", &us, NULL, h, 1, 0, NULL), -EIO);
		fclose(f);
	}
	free(a);
}

/* The XY picture into a string, checked to be a whole, well-formed
 * document (free it). */
static char *render_lines(const char *title, const struct rtv_svg_xy_axes *ax,
			  const struct rtv_svg_line *s, int n)
{
	FILE *f = tmpfile();
	char *doc;

	assert_non_null(f);
	assert_int_equal(rtv_svg_lines(f, title, ax, s, n), 0);
	doc = slurp(f);
	assert_true(strncmp(doc, "<svg", 4) == 0);
	assert_true(strlen(doc) > 8 && strcmp(doc + strlen(doc) - 7, "</svg>\n") == 0);
	assert_well_formed(doc);
	return doc;
}

/* The d attribute of the k-th path (from 0) in doc, into buf. */
static void path_d(const char *doc, int k, char *buf, size_t size)
{
	const char *p = doc, *end;

	for (; k >= 0; k--) {
		p = strstr(p, "<path");
		assert_non_null(p);
		p += 5;
	}
	p = strstr(p, " d=\"");
	assert_non_null(p);
	p += 4;
	end = strchr(p, '"');
	assert_non_null(end);
	assert_true((size_t)(end - p) < size);
	memcpy(buf, p, end - p);
	buf[end - p] = '\0';
}

/* Latency against offered rate, linear: rates 0 .. 87 make an x axis 0 ..
 * 100 in steps of 20 (112 px each), latencies 3 .. 4000 a y axis 0 .. 4000
 * in steps of 500 (50 px each). */
static void test_lines_document(void **state)
{
	static const double rate[] = { 10, 40, 87 }, lat[] = { 3, 250, 4000 };
	static const double rate2[] = { 20, 60 }, lat2[] = { 500, 1500 };
	const struct rtv_svg_line s[] = {
		{ "napi <&> \"threaded\" 'on'", rate, lat, 3 },
		{ "busy", rate2, lat2, 2 },
		{ "empty", NULL, NULL, 0 },
	};
	const struct rtv_svg_xy_axes ax = { "offered rate (% <line>)", "latency (\u00b5s)", false,
					    false };
	char d[256], want[64];
	char *doc;
	int k;

	(void)state;
	doc = render_lines("RFC 2544 <&>", &ax, s, 3);
	/* names, title and axis titles escaped, never raw */
	assert_int_equal(count(doc, "napi &lt;&amp;&gt; &quot;threaded&quot; &apos;on&apos;"), 2);
	assert_int_equal(count(doc, "<&>"), 0);
	assert_int_equal(count(doc, ">busy<"), 2);  /* legend and tooltip */
	assert_int_equal(count(doc, ">empty<"), 1); /* legend only */
	assert_int_equal(count(doc, ">RFC 2544 &lt;&amp;&gt;</text>"), 1);
	assert_int_equal(count(doc, ">offered rate (% &lt;line&gt;)</text>"), 1);
	assert_int_equal(count(doc, ">latency (&#181;s)</text>"), 1);

	/* two curves, three legend entries with a marker each; a marker at
	 * every point */
	assert_int_equal(count(doc, "<path"), 2);
	assert_int_equal(count(doc, "stroke-width=\"2.5\""), 3);
	assert_int_equal(count(doc, "<circle"), 3 + 2 + 3);
	assert_int_equal(count(doc, "fill=\"#1f77b4\""), 3 + 1);
	assert_int_equal(count(doc, "fill=\"#d62728\""), 2 + 1);
	assert_int_equal(count(doc, "fill=\"#2ca02c\""), 1);

	/* x: 0, 20, ..., 100, 112 px apart, no more */
	for (k = 0; k <= 5; k++) {
		snprintf(want, sizeof(want), "<text x=\"%d.00\" y=\"470\">%d</text>", 80 + 112 * k,
			 20 * k);
		assert_int_equal(count(doc, want), 1);
	}
	assert_int_equal(count(doc, ">10</text>"), 0);
	assert_int_equal(count(doc, ">120</text>"), 0);
	/* y: 0, 500, ..., 4000, 50 px apart */
	for (k = 0; k <= 8; k++) {
		snprintf(want, sizeof(want), "<text x=\"70\" y=\"%d.00\">%d</text>", 454 - 50 * k,
			 500 * k);
		assert_int_equal(count(doc, want), 1);
	}
	assert_int_equal(count(doc, ">4500</text>"), 0);
	/* the points where the axes put them, in the order given */
	path_d(doc, 0, d, sizeof(d));
	assert_string_equal(d, "M136.00,449.70 L304.00,425.00 L567.20,50.00");
	assert_int_equal(count(doc, "<circle cx=\"567.20\" cy=\"50.00\" r=\"3\" fill=\"#1f77b4\"/>"), 1);
	path_d(doc, 1, d, sizeof(d));
	assert_string_equal(d, "M192.00,400.00 L416.00,300.00");
	free(doc);
}

/* Log axes: 3 .. 4000 spans the decades 1 .. 10000; points at 0 or below
 * on a log axis are skipped and break the line: a run of two points, then
 * two alone. */
static void test_lines_log(void **state)
{
	static const double x[] = { 3, 30, 0, 300, 4000, 4000 }, y[] = { 10, 100, 50, 1000, -1, 1e4 };
	const struct rtv_svg_line s = { "m", x, y, 6 };
	const struct rtv_svg_xy_axes ax = { "rate", "latency", true, true };
	char d[256];
	char *doc;

	(void)state;
	doc = render_lines(NULL, &ax, &s, 1);
	/* x: 1 .. 10000, four decades, 140 px each; y: 10 .. 10000, three,
	 * 133.33 px each */
	assert_int_equal(count(doc, "y=\"470\">1</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">10</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">100</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">1000</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">10000</text>"), 1);
	assert_int_equal(count(doc, ">0.1</text>"), 0);
	assert_int_equal(count(doc, ">100000</text>"), 0);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"454.00\">10</text>"), 1);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"54.00\">10000</text>"), 1);
	assert_int_equal(count(doc, ">1</text>"), 1); /* x only: y starts at 10 */
	/* (0, 50) and (4000, -1) skipped */
	path_d(doc, 0, d, sizeof(d));
	assert_string_equal(d, "M146.80,450.00 L286.80,316.67 M426.80,183.33 M584.29,50.00");
	assert_int_equal(count(doc, "<circle"), 4 + 1);
	free(doc);
}

/* Non-finite points break a linear line too; a point alone between gaps
 * is a subpath of its own (its marker shows it). Both axes 0 .. 100 in
 * steps of 20. */
static void test_lines_gaps(void **state)
{
	static const double x[] = { 0, 50, NAN, 75, 1.0 / 0.0, 100 }, y[] = { 0, 50, 1, 75, 1, 100 };
	const struct rtv_svg_line s = { "g", x, y, 6 };
	const struct rtv_svg_xy_axes ax = { NULL, NULL, false, false };
	char d[256];
	char *doc;

	(void)state;
	doc = render_lines(NULL, &ax, &s, 1);
	path_d(doc, 0, d, sizeof(d));
	assert_string_equal(d, "M80.00,450.00 L360.00,250.00 M500.00,150.00 M640.00,50.00");
	assert_int_equal(count(doc, "<circle"), 4 + 1);
	assert_null(strstr(doc, "nan"));
	assert_null(strstr(doc, "inf"));
	free(doc);
}

/* Linear axes: negative data take the axis below 0, which stays on it;
 * steps of 1, 2 or 5 x 10^k; long labels all short. */
static void test_lines_linear(void **state)
{
	static const double x1[] = { -3, 7 }, y1[] = { -87, -5 };
	static const double x2[] = { 0, 1.2e6 }, y2[] = { 0, 0.00087 };
	static const double x3[] = { 0.1, 0.87 }, y3[] = { 5, 80 };
	const struct rtv_svg_line s1 = { "a", x1, y1, 2 }, s2 = { "b", x2, y2, 2 },
				  s3 = { "c", x3, y3, 2 };
	const struct rtv_svg_xy_axes ax = { NULL, NULL, false, false };
	char *doc;

	(void)state;
	/* x -3 .. 7: -4 .. 8 in steps of 2; y -87 .. -5: -100 .. 0 in 20s */
	doc = render_lines(NULL, &ax, &s1, 1);
	assert_int_equal(count(doc, "y=\"470\">-4</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">-2</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">0</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">8</text>"), 1);
	assert_int_equal(count(doc, ">-6</text>"), 0);
	assert_int_equal(count(doc, ">10</text>"), 0);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"454.00\">-100</text>"), 1);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"54.00\">0</text>"), 1);
	assert_int_equal(count(doc, ">-120</text>"), 0);
	free(doc);

	/* x 0 .. 1.2e6 in steps of 2e5, all short; y 0 .. 0.001 in steps
	 * of 0.0002, six characters, plain */
	doc = render_lines(NULL, &ax, &s2, 1);
	assert_int_equal(count(doc, "<text x=\"173.33\" y=\"470\">2e5</text>"), 1);
	assert_int_equal(count(doc, ">8e5</text>"), 1);
	assert_int_equal(count(doc, ">1e6</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">1.2e6</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">0</text>"), 1);
	assert_int_equal(count(doc, ">200000</text>"), 0);
	assert_int_equal(count(doc, ">1.4e6</text>"), 0);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"134.00\">0.0008</text>"), 1);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"54.00\">0.001</text>"), 1);
	free(doc);

	/* x 0 .. 1 in steps of 0.2 (0.1 .. 0.87 with 0); y 0 .. 80 in 10s */
	doc = render_lines(NULL, &ax, &s3, 1);
	assert_int_equal(count(doc, "y=\"470\">0.2</text>"), 1);
	assert_int_equal(count(doc, "y=\"470\">1</text>"), 1);
	assert_int_equal(count(doc, ">1.2</text>"), 0);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"54.00\">80</text>"), 1);
	assert_int_equal(count(doc, "<text x=\"70\" y=\"104.00\">70</text>"), 1);
	assert_int_equal(count(doc, ">90</text>"), 0);
	free(doc);
}

/* No drawn point: axes 0 .. 1 (log: 1 .. 1000), legend entries, no
 * curve. */
static void test_lines_empty(void **state)
{
	static const double x[] = { NAN, 1 }, y[] = { 1, -1 };
	const struct rtv_svg_line s[] = { { NULL, NULL, NULL, 0 }, { "nan", x, y, 2 } };
	const struct rtv_svg_xy_axes lin = { "x", "y", false, false }, lg = { "x", "y", true, true };
	char *doc;

	(void)state;
	doc = render_lines("nothing", &lin, NULL, 0);
	assert_int_equal(count(doc, "<path"), 0);
	assert_int_equal(count(doc, "stroke-width=\"2.5\""), 0);
	assert_int_equal(count(doc, ">0.2</text>"), 2);
	assert_int_equal(count(doc, ">1</text>"), 2);
	free(doc);

	doc = render_lines(NULL, &lg, s, 2);
	assert_int_equal(count(doc, "<path"), 0);
	assert_int_equal(count(doc, "stroke-width=\"2.5\""), 2);
	assert_int_equal(count(doc, ">nan</text>"), 1);
	assert_int_equal(count(doc, ">1000</text>"), 2);
	assert_int_equal(count(doc, ">10000</text>"), 0);
	free(doc);
}

static void test_lines_errors(void **state)
{
	static const double x[] = { 1, 2 }, y[] = { 3, 4 };
	const struct rtv_svg_line ok = { "ok", x, y, 2 }, nox = { "x", NULL, y, 2 },
				  noy = { "y", x, NULL, 2 }, neg = { "n", x, y, -1 };
	const struct rtv_svg_xy_axes ax = { "x", "y", false, true };
	char small[64];
	FILE *f;

	(void)state;
	assert_int_equal(rtv_svg_lines(NULL, "t", &ax, &ok, 1), -EINVAL);
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(rtv_svg_lines(f, "t", NULL, &ok, 1), -EINVAL);
	assert_int_equal(rtv_svg_lines(f, "t", &ax, &ok, -1), -EINVAL);
	assert_int_equal(rtv_svg_lines(f, "t", &ax, NULL, 1), -EINVAL);
	assert_int_equal(rtv_svg_lines(f, "t", &ax, &nox, 1), -EINVAL);
	assert_int_equal(rtv_svg_lines(f, "t", &ax, &noy, 1), -EINVAL);
	assert_int_equal(rtv_svg_lines(f, "t", &ax, &neg, 1), -EINVAL);
	assert_int_equal(ftell(f), 0); /* nothing written on bad input */
	fclose(f);

	f = fopen("/dev/full", "w");
	if (f) {
		assert_int_equal(rtv_svg_lines(f, "t", &ax, &ok, 1), -EIO);
		fclose(f);
	}
	f = fmemopen(small, sizeof(small), "w");
	assert_non_null(f);
	assert_int_equal(rtv_svg_lines(f, "t", &ax, &ok, 1), -EIO);
	fclose(f);
}

/* Under a locale whose decimal point is a comma, every picture is byte for
 * byte what it is under "C". Skipped when the machine has no such locale
 * (LOCPATH may point at one made with localedef). */
static void test_locale(void **state)
{
	static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
					     "fr_FR.utf8", "de_DE", "fr_FR" };
	static const double x[] = { 0.125, 0.5, 0.87 }, y[] = { 3.5, 1234.5, 4000 };
	const struct rtv_svg_line l = { "l", x, y, 3 };
	const struct rtv_svg_xy_axes lin = { "x", "y", false, false }, lg = { "x", "y", true, true };
	const struct rtv_svg_series s = { "s", xa, ya, 5 };
	char *c[3], *comma[3];
	size_t i;
	int k;

	(void)state;
	assert_non_null(setlocale(LC_NUMERIC, "C"));
	c[0] = render_lines("t", &lin, &l, 1);
	c[1] = render_lines("t", &lg, &l, 1);
	c[2] = render("t", &s, 1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (setlocale(LC_NUMERIC, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		/* none installed: compile one from the locales package's sources
		 * (run.sh installs it) into a directory of ours */
		char dir[] = "/tmp/rtv-locale-XXXXXX", cmd[256];

		assert_non_null(mkdtemp(dir));
		snprintf(cmd, sizeof(cmd), "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
			 dir);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(setenv("LOCPATH", dir, 1), 0);
		assert_non_null(setlocale(LC_NUMERIC, "de_DE.UTF-8"));
		assert_string_equal(localeconv()->decimal_point, ",");
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0); /* loaded: the files are no longer needed */
	}
	comma[0] = render_lines("t", &lin, &l, 1);
	comma[1] = render_lines("t", &lg, &l, 1);
	comma[2] = render("t", &s, 1);
	setlocale(LC_NUMERIC, "C");
	for (k = 0; k < 3; k++) {
		assert_string_equal(comma[k], c[k]);
		free(c[k]);
		free(comma[k]);
	}
}

/* Output is ASCII: characters past it as references, invalid UTF-8 and
 * U+FFFF as U+FFFD, forbidden control characters dropped. */
static void test_utf8(void **state)
{
	const struct rtv_svg_series s[] = {
		{ "\xc2\xb5s \xf0\x9f\x98\x80", NULL, NULL, 0 },
		{ "bad \xff \xc0\xaf \xed\xa0\x80 \xef\xbf\xbf|\x01\x1f|\xe2\x82", NULL, NULL, 0 },
	};
	const unsigned char *p;
	char *doc;

	(void)state;
	doc = render("\xc3\xbc" "ber", s, 2);
	assert_well_formed(doc);
	for (p = (const unsigned char *)doc; *p; p++)
		assert_true(*p < 0x80);
	assert_int_equal(count(doc, ">&#252;ber</text>"), 1);
	assert_int_equal(count(doc, ">&#181;s &#128512;</text>"), 1);
	/* 0xff, the overlong 0xc0 0xaf, the surrogate 0xed 0xa0 0x80 and a
	 * truncated sequence: one U+FFFD per byte that starts nothing valid */
	assert_int_equal(count(doc, ">bad &#65533; &#65533;&#65533; &#65533;&#65533;&#65533; "
				    "&#65533;||&#65533;&#65533;</text>"), 1);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_x_mapping),
		cmocka_unit_test(test_marker),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_odd_points),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_pct_document),
		cmocka_unit_test(test_pct_few),
		cmocka_unit_test(test_pct_mark),
		cmocka_unit_test(test_hist_cdf_same),
		cmocka_unit_test(test_hist_cdf_unit),
		cmocka_unit_test(test_hist_empty),
		cmocka_unit_test(test_hist_errors),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_lines_document),
		cmocka_unit_test(test_lines_log),
		cmocka_unit_test(test_lines_gaps),
		cmocka_unit_test(test_lines_linear),
		cmocka_unit_test(test_lines_empty),
		cmocka_unit_test(test_lines_errors),
		cmocka_unit_test(test_locale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
