/* CDF plots as SVG; see svg.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/svg.h"
#include "util/banned.h"

/* Picture geometry in px: the plot area is [PL, PR] x [PT, PB]; the legend
 * sits right of it. */
enum {
	SVG_W = 880, SVG_H = 520,
	PL = 80, PR = 640, PT = 50, PB = 450,
	LEGEND_X = 660, LEGEND_Y = 60, LEGEND_DY = 20,
};

/* Decades shown, as powers of ten of µs: 1 ns .. 10^6 s. */
enum { DEC_MIN = -3, DEC_MAX = 12 };

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

/* Text content or attribute value: the five XML specials as entities, and
 * control characters XML 1.0 forbids dropped. */
static void put_escaped(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
				fputc(*p, f);
		}
	}
}

/* The label of 10^k µs: "0.01", "1", "1000". */
static void decade_label(char buf[32], int k)
{
	int i = 0, j;

	if (k < 0) {
		buf[i++] = '0';
		buf[i++] = '.';
		for (j = 1; j < -k; j++)
			buf[i++] = '0';
	}
	buf[i++] = '1';
	for (j = 0; j < k; j++)
		buf[i++] = '0';
	buf[i] = '\0';
}

struct xscale {
	int lo, hi; /* decades of µs at the left and right edges */
};

static double x_px(const struct xscale *xs, double x_ns)
{
	double d = x_ns > 0 ? log10(x_ns / 1000) : xs->lo;

	if (d < xs->lo)
		d = xs->lo;
	if (d > xs->hi)
		d = xs->hi;
	return PL + (d - xs->lo) / (xs->hi - xs->lo) * (PR - PL);
}

static double y_px(double y)
{
	if (y < 0)
		y = 0;
	if (y > 1)
		y = 1;
	return PB - y * (PB - PT);
}

/* Decades spanning all drawable points and the marker (mark_ns > 0);
 * 1..1000 µs when there are none. */
static struct xscale xscale_of(const struct rtv_svg_series *s, int nseries, double mark_ns)
{
	struct xscale xs = { 0, 3 };
	double mn = INFINITY, mx = -INFINITY, x;
	int i, k;

	if (mark_ns > 0 && isfinite(mark_ns))
		mn = mx = mark_ns / 1000;

	for (i = 0; i < nseries; i++) {
		for (k = 0; k < s[i].n; k++) {
			x = s[i].x_ns[k] / 1000;
			if (!(x > 0) || !isfinite(x) || !isfinite(s[i].y[k]))
				continue;
			mn = x < mn ? x : mn;
			mx = x > mx ? x : mx;
		}
	}
	if (mn > mx)
		return xs;
	/* the small slack keeps 1000 µs from opening a decade of its own */
	xs.lo = (int)floor(log10(mn) + 1e-9);
	xs.hi = (int)ceil(log10(mx) - 1e-9);
	xs.lo = xs.lo < DEC_MIN ? DEC_MIN : xs.lo > DEC_MAX - 1 ? DEC_MAX - 1 : xs.lo;
	xs.hi = xs.hi > DEC_MAX ? DEC_MAX : xs.hi;
	if (xs.hi <= xs.lo)
		xs.hi = xs.lo + 1;
	return xs;
}

static void write_axes(FILE *f, const struct xscale *xs)
{
	static const char *const ylabels[] = { "0", "0.2", "0.4", "0.6", "0.8", "1" };
	char a[32], b[32];
	int ndec = xs->hi - xs->lo, every = (ndec + 7) / 8, k, m, i;
	double x, y;

	/* grid: y every 0.1, x at decades and, when there is room, 2..9 */
	fputs("<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n", f);
	for (i = 1; i < 10; i++)
		fprintf(f, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\"/>\n", PL,
			num(a, y_px(i / 10.0)), PR, num(b, y_px(i / 10.0)));
	for (k = xs->lo; k < xs->hi; k++) {
		for (m = 1; m < 10; m++) {
			if (m > 1 && ndec > 6)
				break;
			x = x_px(xs, pow(10, k + 3) * m);
			fprintf(f, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"%s/>\n",
				num(a, x), PT, num(b, x), PB,
				m == 1 ? " stroke=\"#c8c8c8\"" : "");
		}
	}
	fputs("</g>\n", f);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n",
		PL, PT, PR - PL, PB - PT);

	/* x ticks and labels at decades */
	fputs("<g text-anchor=\"middle\">\n", f);
	for (k = xs->lo; k <= xs->hi; k++) {
		x = x_px(xs, pow(10, k + 3));
		fprintf(f, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\" stroke=\"black\"/>\n",
			num(a, x), PB, num(b, x), PB + 6);
		if ((k - xs->lo) % every)
			continue;
		decade_label(b, k);
		fprintf(f, "<text x=\"%s\" y=\"%d\">%s</text>\n", num(a, x), PB + 20, b);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\">latency (&#181;s)</text>\n", (PL + PR) / 2, PB + 45);
	fputs("</g>\n", f);

	/* y ticks and labels every 0.2 */
	fputs("<g text-anchor=\"end\">\n", f);
	for (i = 0; i <= 10; i += 2) {
		y = y_px(i / 10.0);
		fprintf(f, "<line x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\" stroke=\"black\"/>\n",
			PL - 6, num(a, y), PL, num(b, y));
		fprintf(f, "<text x=\"%d\" y=\"%s\">%s</text>\n", PL - 10, num(a, y + 4),
			ylabels[i / 2]);
	}
	fputs("</g>\n", f);
	fprintf(f, "<text transform=\"translate(%d,%d) rotate(-90)\" text-anchor=\"middle\">"
		"cumulative fraction</text>\n", PL - 50, (PT + PB) / 2);
}

static void write_style(FILE *f, int i)
{
	const char *dash = dashes[(i / NCOLOURS) % NDASHES];

	fprintf(f, " stroke=\"%s\"", colours[i % NCOLOURS]);
	if (dash)
		fprintf(f, " stroke-dasharray=\"%s\"", dash);
}

static void write_curve(FILE *f, const struct xscale *xs, const struct rtv_svg_series *s, int i)
{
	char a[32], b[32];
	int k, started = 0;

	for (k = 0; k < s->n; k++) {
		if (!isfinite(s->x_ns[k]) || !isfinite(s->y[k]))
			continue;
		if (!started) {
			fputs("<polyline fill=\"none\" stroke-width=\"1.5\"", f);
			write_style(f, i);
			/* the CDF is 0 left of the first point */
			fprintf(f, " points=\"%s,%s", num(a, x_px(xs, s->x_ns[k])), num(b, y_px(0)));
			started = 1;
		}
		fprintf(f, " %s,%s", num(a, x_px(xs, s->x_ns[k])), num(b, y_px(s->y[k])));
	}
	if (!started)
		return;
	fputs("\"><title>", f);
	put_escaped(f, s->name);
	fputs("</title></polyline>\n", f);
}

static void write_legend(FILE *f, const struct rtv_svg_series *s, int nseries)
{
	int i, y;

	for (i = 0; i < nseries; i++) {
		y = LEGEND_Y + i * LEGEND_DY;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke-width=\"2.5\"",
			LEGEND_X, y, LEGEND_X + 24, y);
		write_style(f, i);
		fprintf(f, "/>\n<text x=\"%d\" y=\"%d\">", LEGEND_X + 30, y + 4);
		put_escaped(f, s[i].name);
		fputs("</text>\n", f);
	}
}

/* A vertical dashed line across the plot at x, labelled at its top. */
static void write_marker(FILE *f, const struct xscale *xs, double x_ns, const char *label)
{
	char a[32], b[32], c[32];
	double x = x_px(xs, x_ns);

	fprintf(f, "<line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\" stroke=\"#d62728\" "
		"stroke-width=\"1.5\" stroke-dasharray=\"6,3\"/>\n", num(a, x), PT, num(b, x), PB);
	if (label) {
		fprintf(f, "<text x=\"%s\" y=\"%s\" fill=\"#d62728\" text-anchor=\"end\">",
			num(c, x - 4), num(a, PT + 14.0));
		put_escaped(f, label);
		fputs("</text>\n", f);
	}
}

int rtv_svg_cdf_write(FILE *f, const char *title, const struct rtv_svg_series *s, int nseries)
{
	return rtv_svg_cdf_write_marked(f, title, s, nseries, 0, NULL);
}

int rtv_svg_cdf_write_marked(FILE *f, const char *title, const struct rtv_svg_series *s,
			     int nseries, double mark_x_ns, const char *mark_label)
{
	struct xscale xs;
	int i, err = 0;

	if (!f || nseries < 0 || (nseries > 0 && !s))
		return -EINVAL;
	for (i = 0; i < nseries; i++)
		if (s[i].n > 0 && (!s[i].x_ns || !s[i].y))
			return -EINVAL;

	xs = xscale_of(s, nseries, mark_x_ns);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fputs("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
	if (title) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"16\">",
			(PL + PR) / 2, PT - 20);
		put_escaped(f, title);
		fputs("</text>\n", f);
	}
	write_axes(f, &xs);
	for (i = 0; i < nseries; i++)
		write_curve(f, &xs, &s[i], i);
	if (mark_x_ns > 0 && isfinite(mark_x_ns))
		write_marker(f, &xs, mark_x_ns, mark_label);
	write_legend(f, s, nseries);
	fputs("</svg>\n", f);

	if (fflush(f) != 0 || ferror(f))
		err = -EIO;
	return err;
}
