/* Unit tests for lib/report/svg: the document is well-formed XML, names are
 * escaped, the axis spans the data, bad input and write errors are caught. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_x_mapping),
		cmocka_unit_test(test_marker),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_odd_points),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
