/* CDF, percentile and XY plots as SVG; see svg.h.
 *
 * Every picture is one plot: two axes, curves given as points in the axes'
 * data coordinates, a legend and an optional marker on the value axis. An
 * axis is one of three kinds: a value axis (log scale, whole decades of axis
 * units, data in histogram units), a linear axis (whole steps of 1, 2 or 5
 * x 10^k; the CDF's y is one, 0..1 in steps of 0.2) or a nines axis
 * (log10(1 / (1 - p)), the percentile plot's x). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "stats/hist.h"
#include "util/banned.h"

/* Picture geometry in px: the plot area is [PL, PR] x [PT, PB]; the legend
 * sits right of it. */
enum {
	SVG_W = 880, SVG_H = 520,
	PL = 80, PR = 640, PT = 50, PB = 450,
	LEGEND_X = 660, LEGEND_Y = 60, LEGEND_DY = 20,
};

/* Decades a value axis may show, as powers of ten of axis units (for µs:
 * 1 ns .. 10^6 s). */
enum { DEC_MIN = -3, DEC_MAX = 12 };

/* The percentile plot: its x axis reaches at least 99.99% (four nines), and
 * a curve is sampled PCT_PER_DECADE times per decade of 1 / (1 - p). */
enum { NINES_MIN = 4, PCT_PER_DECADE = 50 };

/* Points per histogram curve: rtv_hist_cdf's limit, and room for a
 * percentile curve of 2^64 samples (log10(2^64) < 19.3 decades, 50 points
 * each, plus the max). */
enum { HIST_POINTS = 1024 };

static const char *const colours[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};
#define NCOLOURS ((int)(sizeof(colours) / sizeof(colours[0])))
static const char *const dashes[] = { NULL, "8,4", "2,3", "10,3,2,3" };
#define NDASHES ((int)(sizeof(dashes) / sizeof(dashes[0])))

/* v with two decimals and a '.', independent of LC_NUMERIC. */
static const char *num(char buf[32], double v)
{
	long long c;

	if (!isfinite(v) || fabs(v) > 1e15)
		v = 0;
	c = llround(v * 100);
	snprintf(buf, 32, "%s%lld.%02lld", c < 0 ? "-" : "", llabs(c) / 100, llabs(c) % 100);
	return buf;
}

/* The code point of the UTF-8 sequence at s and its length in *len, or -1
 * (*len = 1) when the byte at s does not start a valid one (RFC 3629: no
 * overlongs, surrogates or code points past U+10FFFF). */
static long utf8_decode(const unsigned char *s, int *len)
{
	unsigned char c = s[0];
	long cp;
	int n, i;

	*len = 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

/* Text content or attribute value, written as ASCII: the five XML specials
 * as entities, other characters as character references (invalid UTF-8 and
 * the non-characters U+FFFE/U+FFFF as U+FFFD), control characters XML 1.0
 * forbids dropped. */
static void put_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	long cp;
	int len;

	while (*p) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (*p >= 0x80) {
				cp = utf8_decode(p, &len);
				if (cp < 0 || cp == 0xfffe || cp == 0xffff)
					cp = 0xfffd;
				fprintf(f, "&#%ld;", cp);
				p += len;
				continue;
			}
			if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
				fputc(*p, f);
		}
		p++;
	}
}

/* The label of q 10^e, exact and with a '.' whatever the locale: "0.25",
 * "1500", "-3" when that has at most max_len characters (and fits), else
 * short: "2.5e-5", "1.5e6". */
static void value_label(char buf[32], long long q, int e, int max_len)
{
	unsigned long long u = q < 0 ? -(unsigned long long)q : (unsigned long long)q;
	char d[24];
	int n, len, i = 0, j;

	if (u == 0) {
		snprintf(buf, 32, "0");
		return;
	}
	for (; u % 10 == 0; u /= 10)
		e++;
	n = snprintf(d, sizeof(d), "%llu", u);
	if (q < 0)
		buf[i++] = '-';
	/* sign, digits and the zeros or the point the exponent adds */
	len = i + (e >= 0 ? n + e : -e >= n ? 2 - e : n + 1);
	if (len > max_len || len > 31) {
		snprintf(buf + i, 32 - i, "%c%s%.15se%d", d[0], n > 1 ? "." : "", d + 1, e + n - 1);
		return;
	}
	if (e >= 0) {
		for (j = 0; j < n; j++)
			buf[i++] = d[j];
		for (j = 0; j < e; j++)
			buf[i++] = '0';
	} else if (-e >= n) {
		buf[i++] = '0';
		buf[i++] = '.';
		for (j = n; j < -e; j++)
			buf[i++] = '0';
		for (j = 0; j < n; j++)
			buf[i++] = d[j];
	} else {
		for (j = 0; j < n; j++) {
			if (j == n + e)
				buf[i++] = '.';
			buf[i++] = d[j];
		}
	}
	buf[i] = '\0';
}

/* The label of 10^k axis units: "0.01", "1", "1000"; with short set,
 * beyond six characters "1e-5", "1e6". */
static void decade_label(char buf[32], int k, bool short_form)
{
	value_label(buf, 1, k, short_form ? 6 : 31);
}

/* The label of the percentile 100 (1 - 10^-k) for k >= 1: "90", "99",
 * "99.9", "99.99". */
static void nines_label(char buf[32], int k)
{
	int i = 0, j;

	for (j = 0; j < k && j < 2; j++)
		buf[i++] = '9';
	if (k == 1)
		buf[i++] = '0';
	if (k > 2)
		buf[i++] = '.';
	for (j = 2; j < k && i < 30; j++)
		buf[i++] = '9';
	buf[i] = '\0';
}

enum axis_kind {
	AXIS_VALUE,  /* log10(v / per_unit), in whole decades lo..hi */
	AXIS_LINEAR, /* v, in whole steps lo..hi */
	AXIS_NINES,  /* v = log10(1 / (1 - p)) in 0..hi */
};

struct axis {
	enum axis_kind kind;
	double lo, hi;     /* the ends, in axis coordinates */
	double per_unit;   /* AXIS_VALUE: data units per axis unit */
	const char *label; /* the axis title, escaped on output; NULL: none */
	/* AXIS_LINEAR, exactly: the ends lo_q and hi_q and the step step_q
	 * (even, for the grid's half steps) in units of 10^unit_e */
	long long lo_q, hi_q;
	int step_q, unit_e;
};

/* q 10^e as a double, correctly rounded while |e| <= 22 */
static double scaled(long long q, int e)
{
	return e >= 0 ? (double)q * pow(10, e) : (double)q / pow(10, -e);
}

/* Make a a linear axis from lo_q to hi_q in steps of step_q, in units of
 * 10^unit_e. */
static void linear_set(struct axis *a, long long lo_q, long long hi_q, int step_q, int unit_e)
{
	a->kind = AXIS_LINEAR;
	a->lo_q = lo_q;
	a->hi_q = hi_q;
	a->step_q = step_q;
	a->unit_e = unit_e;
	a->lo = scaled(lo_q, unit_e);
	a->hi = scaled(hi_q, unit_e);
}

/* A datum's axis coordinate; a value <= 0 falls off the low end. */
static double axis_coord(const struct axis *a, double v)
{
	if (a->kind != AXIS_VALUE)
		return v;
	return v > 0 ? log10(v / a->per_unit) : -INFINITY;
}

/* Where axis coordinate c lies along the axis, clamped to 0..1. */
static double axis_frac(const struct axis *a, double c)
{
	double t = (c - a->lo) / (a->hi - a->lo);

	return t > 0 ? (t < 1 ? t : 1) : 0; /* NaN too at 0 */
}

/* Pixel positions of a datum on the horizontal and the vertical axis. */
static double x_px(const struct axis *a, double v)
{
	return PL + axis_frac(a, axis_coord(a, v)) * (PR - PL);
}

static double y_px(const struct axis *a, double v)
{
	return PB - axis_frac(a, axis_coord(a, v)) * (PB - PT);
}

/* A picture: curves with points in the axes' data units (for a CDF, x the
 * value and y the fraction; for a percentile plot, x the nines and y the
 * value; for an XY picture, what the caller's axes say), and a marker on
 * the value axis. The curves are s (CDF and percentile plots) or l (XY
 * pictures, whose curves break where points are skipped and have a marker
 * at every point). */
struct plot {
	const char *title;
	struct axis x, y;
	const struct rtv_svg_series *s;
	const struct rtv_svg_line *l;
	int n;
	double mark; /* on the value axis, in axis units; none when <= 0 or not finite */
	const char *mark_label;
};

static bool has_mark(const struct plot *p)
{
	return p->mark > 0 && isfinite(p->mark);
}

/* Curve i's name, its number of points and its k-th point. */
static const char *curve_name(const struct plot *p, int i)
{
	return p->l ? p->l[i].name : p->s[i].name;
}

static int curve_len(const struct plot *p, int i)
{
	return p->l ? p->l[i].n : p->s[i].n;
}

static double pt_x(const struct plot *p, int i, int k)
{
	return p->l ? p->l[i].x[k] : p->s[i].x_ns[k];
}

static double pt_y(const struct plot *p, int i, int k)
{
	return p->l ? p->l[i].y[k] : p->s[i].y[k];
}

/* Whether point k of curve i is drawn: both coordinates finite and, in an
 * XY picture, positive on a log axis (elsewhere a value <= 0 is drawn at
 * the axis's low end). */
static bool point_drawn(const struct plot *p, int i, int k)
{
	double x = pt_x(p, i, k), y = pt_y(p, i, k);

	if (!isfinite(x) || !isfinite(y))
		return false;
	return !p->l || ((p->x.kind != AXIS_VALUE || x > 0) && (p->y.kind != AXIS_VALUE || y > 0));
}

/* The value axis a (p->x or p->y) spanning, in whole decades, every
 * drawable point and the marker: 1..1000 axis units when there are none. */
static void value_range(struct axis *a, const struct plot *p)
{
	double mn = INFINITY, mx = -INFINITY, v;
	bool is_x = a == &p->x;
	int i, k;

	if (has_mark(p))
		mn = mx = p->mark;
	for (i = 0; i < p->n; i++) {
		for (k = 0; k < curve_len(p, i); k++) {
			v = (is_x ? pt_x(p, i, k) : pt_y(p, i, k)) / a->per_unit;
			if (!(v > 0) || !isfinite(v) || !point_drawn(p, i, k))
				continue;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
	}
	a->lo = 0;
	a->hi = 3;
	if (mn > mx)
		return;
	/* the small slack keeps 1000 from opening a decade of its own */
	a->lo = floor(log10(mn) + 1e-9);
	a->hi = ceil(log10(mx) - 1e-9);
	a->lo = a->lo < DEC_MIN ? DEC_MIN : a->lo > DEC_MAX - 1 ? DEC_MAX - 1 : a->lo;
	a->hi = a->hi > DEC_MAX ? DEC_MAX : a->hi;
	if (a->hi <= a->lo)
		a->hi = a->lo + 1;
}

/* The linear axis a (p->x or p->y) spanning 0 and every drawn point, its
 * ends on whole steps of 1, 2 or 5 x 10^k, the smallest that keep to eight
 * steps (ten with the ends rounded out): 0..1 in steps of 0.2 when there
 * are no points or all are 0. */
static void linear_range(struct axis *a, const struct plot *p)
{
	double mn = 0, mx = 0, v, raw, step, m;
	bool is_x = a == &p->x;
	int i, k, e, mant;

	for (i = 0; i < p->n; i++) {
		for (k = 0; k < curve_len(p, i); k++) {
			if (!point_drawn(p, i, k))
				continue;
			v = is_x ? pt_x(p, i, k) : pt_y(p, i, k);
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
	}
	/* a span too small or too large to step through exactly: 0..1 */
	raw = (mx - mn) / 8;
	if (!(raw > 1e-290 && raw < 1e290)) {
		linear_set(a, 0, 100, 20, -2);
		return;
	}
	e = (int)floor(log10(raw));
	m = raw / pow(10, e);
	/* the slack keeps a step of exactly 1, 2 or 5 from growing */
	mant = m <= 1 + 1e-9 ? 1 : m <= 2 + 1e-9 ? 2 : m <= 5 + 1e-9 ? 5 : 10;
	if (mant == 10)
		mant = 1, e++;
	/* in units of 10^(e - 1), a step is 10, 20 or 50 */
	step = scaled(mant, e);
	linear_set(a, (long long)floor(mn / step + 1e-9) * mant * 10,
		   (long long)ceil(mx / step - 1e-9) * mant * 10, mant * 10, e - 1);
}

/* One tick of an axis, at axis coordinate c: a grid line when strictly
 * inside the plot (darker when major), a tick mark when major, a label when
 * label[0]. */
struct tick {
	double c;
	bool major;
	char label[32];
};

/* The ticks of a; returns how many (at most max). */
static int axis_ticks(const struct axis *a, bool vertical, struct tick *t, int max)
{
	int n = 0, k, m, lo = (int)a->lo, hi = (int)floor(a->hi + 1e-9);
	int ndec = hi - lo, every = (ndec + 7) / 8, half;
	bool long_label = false;
	long long q;

	switch (a->kind) {
	case AXIS_VALUE:
		/* decades, labelled every few when there are many, and 2..9
		 * between them when there is room */
		for (k = lo; k <= hi && n < max; k++) {
			t[n] = (struct tick){ .c = k, .major = true };
			if ((k - lo) % every == 0)
				decade_label(t[n].label, k, vertical);
			n++;
			for (m = 2; m < 10 && k < hi && ndec <= 6 && n < max; m++)
				t[n++] = (struct tick){ .c = k + log10(m) };
		}
		break;
	case AXIS_LINEAR:
		/* grid every half step, ticks and labels every step; the
		 * labels all short ("2e5", "1.5e6") when one would be long */
		half = a->step_q / 2;
		for (q = a->lo_q; q <= a->hi_q && n < max; q += half) {
			t[n] = (struct tick){ .c = scaled(q, a->unit_e),
					      .major = (q - a->lo_q) % a->step_q == 0 };
			if (t[n].major) {
				value_label(t[n].label, q, a->unit_e, 31);
				long_label |= strlen(t[n].label) > 6;
			}
			n++;
		}
		for (k = 0; k < n && long_label; k++)
			if (t[k].major)
				value_label(t[k].label, a->lo_q + (long long)k * half, a->unit_e, 0);
		break;
	case AXIS_NINES:
		/* 50, then 90, 99, 99.9, ... as far as the axis reaches; with
		 * many decades, labels every few so that the longest ("99." and
		 * hi - 2 nines, about 7 px a character) have room */
		every = (int)ceil((7.0 * (hi + 1) + 4) / ((PR - PL) / a->hi));
		every = every < 1 ? 1 : every;
		t[n] = (struct tick){ .c = log10(2), .major = true, .label = "50" };
		n++;
		for (k = 1; k <= hi && n < max; k++) {
			t[n] = (struct tick){ .c = k, .major = true };
			if ((k - 1) % every == 0)
				nines_label(t[n].label, k);
			n++;
		}
		break;
	}
	return n;
}

enum { MAX_TICKS = (DEC_MAX - DEC_MIN + 1) * 9 };

static void write_grid(FILE *f, const struct axis *a, bool vertical)
{
	struct tick t[MAX_TICKS];
	char b1[32], b2[32];
	double frac;
	int n = axis_ticks(a, vertical, t, MAX_TICKS), i;
	const char *shade;

	for (i = 0; i < n; i++) {
		frac = axis_frac(a, t[i].c);
		if (!(frac > 0 && frac < 1))
			continue;
		/* a value axis's decades stand out from its 2..9 */
		shade = t[i].major && a->kind != AXIS_LINEAR ? " stroke=\"#c8c8c8\"" : "";
		if (vertical)
			fprintf(f, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\"%s/>\n", PL,
				num(b1, PB - frac * (PB - PT)), PR, num(b2, PB - frac * (PB - PT)),
				shade);
		else
			fprintf(f, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"%s/>\n",
				num(b1, PL + frac * (PR - PL)), PT, num(b2, PL + frac * (PR - PL)),
				PB, shade);
	}
}

/* Tick marks, labels and title of the x axis (below the plot) or the y axis
 * (left of it, the title rotated). */
static void write_ticks(FILE *f, const struct axis *a, bool vertical)
{
	struct tick t[MAX_TICKS];
	char b1[32], b2[32];
	double pos;
	int n = axis_ticks(a, vertical, t, MAX_TICKS), i;

	fprintf(f, "<g text-anchor=\"%s\">\n", vertical ? "end" : "middle");
	for (i = 0; i < n; i++) {
		if (!t[i].major)
			continue;
		if (vertical) {
			pos = PB - axis_frac(a, t[i].c) * (PB - PT);
			fprintf(f, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"black\"/>\n",
				PL - 6, num(b1, pos), PL, num(b2, pos));
			if (t[i].label[0])
				fprintf(f, "<text x=\"%d\" y=\"%s\">%s</text>\n", PL - 10,
					num(b1, pos + 4), t[i].label);
		} else {
			pos = PL + axis_frac(a, t[i].c) * (PR - PL);
			fprintf(f, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\" stroke=\"black\"/>\n",
				num(b1, pos), PB, num(b2, pos), PB + 6);
			if (t[i].label[0])
				fprintf(f, "<text x=\"%s\" y=\"%d\">%s</text>\n", num(b1, pos),
					PB + 20, t[i].label);
		}
	}
	if (a->label && !vertical) {
		fprintf(f, "<text x=\"%d\" y=\"%d\">", (PL + PR) / 2, PB + 45);
		put_escaped(f, a->label);
		fputs("</text>\n", f);
	}
	fputs("</g>\n", f);
	if (a->label && vertical) {
		fprintf(f, "<text transform=\"translate(%d,%d) rotate(-90)\" text-anchor=\"middle\">",
			PL - 58, (PT + PB) / 2);
		put_escaped(f, a->label);
		fputs("</text>\n", f);
	}
}

static const char *curve_colour(int i)
{
	return colours[i % NCOLOURS];
}

static void write_style(FILE *f, int i)
{
	const char *dash = dashes[(i / NCOLOURS) % NDASHES];

	fprintf(f, " stroke=\"%s\"", curve_colour(i));
	if (dash)
		fprintf(f, " stroke-dasharray=\"%s\"", dash);
}

/* A marker at (x, y) px in curve i's colour. */
static void write_dot(FILE *f, int i, double x, double y)
{
	char a[32], b[32];

	fprintf(f, "<circle cx=\"%s\" cy=\"%s\" r=\"3\" fill=\"%s\"/>\n", num(a, x), num(b, y),
		curve_colour(i));
}

/* A CDF or percentile curve: one polyline through the drawn points. */
static void write_curve(FILE *f, const struct plot *p, int i)
{
	char a[32], b[32];
	int k, started = 0;

	for (k = 0; k < curve_len(p, i); k++) {
		if (!point_drawn(p, i, k))
			continue;
		if (!started) {
			fputs("<polyline fill=\"none\" stroke-width=\"1.5\"", f);
			write_style(f, i);
			fputs(" points=\"", f);
			/* a CDF is 0 left of its first point */
			if (p->y.kind == AXIS_LINEAR)
				fprintf(f, "%s,%s ", num(a, x_px(&p->x, pt_x(p, i, k))),
					num(b, y_px(&p->y, 0)));
			started = 1;
		} else {
			fputc(' ', f);
		}
		fprintf(f, "%s,%s", num(a, x_px(&p->x, pt_x(p, i, k))),
			num(b, y_px(&p->y, pt_y(p, i, k))));
	}
	if (!started)
		return;
	fputs("\"><title>", f);
	put_escaped(f, curve_name(p, i));
	fputs("</title></polyline>\n", f);
}

/* An XY curve: a group titled with its name holding one path, a subpath
 * ("M x,y L x,y ...") for each run of drawn points, and a marker at every
 * drawn point. */
static void write_xy_curve(FILE *f, const struct plot *p, int i)
{
	char a[32], b[32];
	int k, drawn = 0;
	bool gap = true;

	for (k = 0; k < curve_len(p, i); k++) {
		if (!point_drawn(p, i, k)) {
			gap = true;
			continue;
		}
		if (!drawn++) {
			fputs("<g><title>", f);
			put_escaped(f, curve_name(p, i));
			fputs("</title>\n<path fill=\"none\" stroke-width=\"1.5\"", f);
			write_style(f, i);
			fputs(" d=\"", f);
		} else {
			fputc(' ', f);
		}
		fprintf(f, "%c%s,%s", gap ? 'M' : 'L', num(a, x_px(&p->x, pt_x(p, i, k))),
			num(b, y_px(&p->y, pt_y(p, i, k))));
		gap = false;
	}
	if (!drawn)
		return;
	fputs("\"/>\n", f);
	for (k = 0; k < curve_len(p, i); k++)
		if (point_drawn(p, i, k))
			write_dot(f, i, x_px(&p->x, pt_x(p, i, k)), y_px(&p->y, pt_y(p, i, k)));
	fputs("</g>\n", f);
}

static void write_legend(FILE *f, const struct plot *p)
{
	int i, y;

	for (i = 0; i < p->n; i++) {
		y = LEGEND_Y + i * LEGEND_DY;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke-width=\"2.5\"",
			LEGEND_X, y, LEGEND_X + 24, y);
		write_style(f, i);
		fputs("/>\n", f);
		if (p->l)
			write_dot(f, i, LEGEND_X + 12, y);
		fprintf(f, "<text x=\"%d\" y=\"%d\">", LEGEND_X + 30, y + 4);
		put_escaped(f, curve_name(p, i));
		fputs("</text>\n", f);
	}
}

/* A dashed line across the plot at the marker's value, which is in axis
 * units (vertical when the value axis is x, labelled at its top; horizontal
 * when it is y, labelled above its right end). */
static void write_marker(FILE *f, const struct plot *p)
{
	const char *style = "stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6,3\"";
	char a[32], b[32], c[32];
	double pos;

	if (p->x.kind == AXIS_VALUE) {
		pos = PL + axis_frac(&p->x, log10(p->mark)) * (PR - PL);
		fprintf(f, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\" %s/>\n", num(a, pos), PT,
			num(b, pos), PB, style);
		if (!p->mark_label)
			return;
		fprintf(f, "<text x=\"%s\" y=\"%s\" fill=\"#d62728\" text-anchor=\"end\">",
			num(c, pos - 4), num(a, PT + 14.0));
	} else {
		pos = PB - axis_frac(&p->y, log10(p->mark)) * (PB - PT);
		fprintf(f, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" %s/>\n", PL, num(a, pos),
			PR, num(b, pos), style);
		if (!p->mark_label)
			return;
		fprintf(f, "<text x=\"%s\" y=\"%s\" fill=\"#d62728\" text-anchor=\"end\">",
			num(c, PR - 4.0), num(a, pos - 4));
	}
	put_escaped(f, p->mark_label);
	fputs("</text>\n", f);
}

/* The whole document; the axes' ranges are set already. */
static int write_plot(FILE *f, const struct plot *p)
{
	int i;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fputs("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
	if (p->title) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"16\">",
			(PL + PR) / 2, PT - 20);
		put_escaped(f, p->title);
		fputs("</text>\n", f);
	}
	fputs("<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n", f);
	write_grid(f, &p->y, true);
	write_grid(f, &p->x, false);
	fputs("</g>\n", f);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n",
		PL, PT, PR - PL, PB - PT);
	write_ticks(f, &p->x, false);
	write_ticks(f, &p->y, true);
	for (i = 0; i < p->n; i++) {
		if (p->l)
			write_xy_curve(f, p, i);
		else
			write_curve(f, p, i);
	}
	if (has_mark(p))
		write_marker(f, p);
	write_legend(f, p);
	fputs("</svg>\n", f);

	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

/* A CDF plot of s: x the value axis, y the fraction. */
static int write_cdf(FILE *f, const char *title, const struct rtv_svg_axis *ax,
		     const struct rtv_svg_series *s, int n, double mark, const char *mark_label)
{
	struct plot p = {
		.title = title,
		.x = { .kind = AXIS_VALUE, .per_unit = ax->per_unit, .label = ax->label },
		.y = { .label = "cumulative fraction" },
		.s = s, .n = n, .mark = mark, .mark_label = mark_label,
	};

	/* 0..1 in steps of 0.2 (20 hundredths) */
	linear_set(&p.y, 0, 100, 20, -2);
	value_range(&p.x, &p);
	return write_plot(f, &p);
}

int rtv_svg_cdf_write(FILE *f, const char *title, const struct rtv_svg_series *s, int nseries)
{
	return rtv_svg_cdf_write_marked(f, title, s, nseries, 0, NULL);
}

int rtv_svg_cdf_write_marked(FILE *f, const char *title, const struct rtv_svg_series *s,
			     int nseries, double mark_x_ns, const char *mark_label)
{
	static const struct rtv_svg_axis us = { "latency (\u00b5s)", 1000 };
	int i;

	if (!f || nseries < 0 || (nseries > 0 && !s))
		return -EINVAL;
	for (i = 0; i < nseries; i++)
		if (s[i].n > 0 && (!s[i].x_ns || !s[i].y))
			return -EINVAL;
	return write_cdf(f, title, &us, s, nseries, mark_x_ns / us.per_unit, mark_label);
}

/* Where curve i's points go in a buffer of 2 HIST_POINTS doubles a curve. */
static double *curve_x(double *pts, int i)
{
	return pts + (size_t)2 * i * HIST_POINTS;
}

static double *curve_y(double *pts, int i)
{
	return curve_x(pts, i) + HIST_POINTS;
}

/* h's percentile curve into x (nines) and y (value); returns the number of
 * points. */
static int percentile_curve(const struct rtv_hist *h, double *x, double *y)
{
	double end, c;
	int k = 0, j;

	if (h->count == 0)
		return 0;
	/* N samples resolve percentiles up to 1 - 1/N, where the max stands */
	end = log10((double)h->count);
	for (j = 0; (c = (double)j / PCT_PER_DECADE) < end && k < HIST_POINTS - 1; j++) {
		/* p = 1 - 10^-c, as a percentage; exact at whole decades */
		x[k] = c;
		y[k++] = (double)rtv_hist_percentile(h, 100 - pow(10, 2 - c));
	}
	x[k] = end;
	y[k++] = (double)h->max_ns;
	return k;
}

/* Both histogram pictures: the curves, then the plot. */
static int write_hists(FILE *f, const char *title, const struct rtv_svg_axis *ax,
		       const char *const *names, const struct rtv_hist *const *h, int n,
		       double mark, const char *mark_label, bool percentiles)
{
	struct rtv_svg_series *s = NULL;
	double *pts = NULL, nines = NINES_MIN;
	int i, k, err;

	if (!f || !ax || !(ax->per_unit > 0) || !isfinite(ax->per_unit) || n < 0 || (n > 0 && !h))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!h[i])
			return -EINVAL;
	s = calloc((size_t)n + 1, sizeof(*s));
	pts = calloc((size_t)2 * n * HIST_POINTS + 1, sizeof(*pts));
	err = -ENOMEM;
	if (!s || !pts)
		goto out;
	for (i = 0; i < n; i++) {
		if (percentiles)
			k = percentile_curve(h[i], curve_x(pts, i), curve_y(pts, i));
		else
			k = rtv_hist_cdf(h[i], curve_x(pts, i), curve_y(pts, i), HIST_POINTS);
		s[i] = (struct rtv_svg_series){ .name = names ? names[i] : NULL,
						.x_ns = curve_x(pts, i), .y = curve_y(pts, i),
						.n = k > 0 ? k : 0 };
		/* the nines axis reaches the largest histogram's last percentile */
		if (percentiles && k > 0 && s[i].x_ns[k - 1] > nines)
			nines = s[i].x_ns[k - 1];
	}
	if (percentiles) {
		struct plot p = {
			.title = title,
			.x = { .kind = AXIS_NINES, .lo = 0, .hi = nines,
			       .label = "percentile (%)" },
			.y = { .kind = AXIS_VALUE, .per_unit = ax->per_unit, .label = ax->label },
			.s = s, .n = n, .mark = mark, .mark_label = mark_label,
		};

		value_range(&p.y, &p);
		err = write_plot(f, &p);
	} else {
		err = write_cdf(f, title, ax, s, n, mark, mark_label);
	}
out:
	free(s);
	free(pts);
	return err;
}

int rtv_svg_hist_cdf(FILE *f, const char *title, const struct rtv_svg_axis *ax,
		     const char *const *names, const struct rtv_hist *const *h, int n, double mark,
		     const char *mark_label)
{
	return write_hists(f, title, ax, names, h, n, mark, mark_label, false);
}

int rtv_svg_hist_percentiles(FILE *f, const char *title, const struct rtv_svg_axis *ax,
			     const char *const *names, const struct rtv_hist *const *h, int n,
			     double mark, const char *mark_label)
{
	return write_hists(f, title, ax, names, h, n, mark, mark_label, true);
}

/* An axis of an XY picture spanning its curves' drawn points. */
static void xy_axis(struct axis *a, const struct plot *p, bool log_scale, const char *label)
{
	a->label = label;
	a->per_unit = 1;
	if (log_scale) {
		a->kind = AXIS_VALUE;
		value_range(a, p);
	} else {
		linear_range(a, p);
	}
}

int rtv_svg_lines(FILE *f, const char *title, const struct rtv_svg_xy_axes *ax,
		  const struct rtv_svg_line *s, int n)
{
	struct plot p = { .title = title, .l = s, .n = n };
	int i;

	if (!f || !ax || n < 0 || (n > 0 && !s))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (s[i].n < 0 || (s[i].n > 0 && (!s[i].x || !s[i].y)))
			return -EINVAL;
	/* which points are drawn depends on both axes' kinds: set them first */
	p.x.kind = ax->xlog ? AXIS_VALUE : AXIS_LINEAR;
	p.y.kind = ax->ylog ? AXIS_VALUE : AXIS_LINEAR;
	xy_axis(&p.x, &p, ax->xlog, ax->xlabel);
	xy_axis(&p.y, &p, ax->ylog, ax->ylabel);
	return write_plot(f, &p);
}
