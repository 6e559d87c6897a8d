/* SVG pictures of results, for a browser: no dependencies, one call per
 * picture.
 *
 * Every picture is a standalone SVG document (starting "<svg", ending
 * "</svg>\n") of 880 x 520 px: the plot, a title above it (NULL for none)
 * and a legend right of it with one entry per curve, in order; each curve
 * has its own colour (and past ten, a dash pattern too). Names, titles and
 * labels are UTF-8, any characters (NULL shows as empty): they are escaped
 * on output, which is plain ASCII (other characters as character
 * references, invalid UTF-8 as U+FFFD). Numbers are written with '.'
 * whatever the locale. f is flushed but not closed; nothing is written when
 * the arguments are bad. */
#ifndef RTV_REPORT_SVG_H
#define RTV_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* One curve: n points (x_ns[k], y[k]), x in ns increasing, y the cumulative
 * fraction in 0..1 (as written by rtv_hist_cdf()). The arrays are only read,
 * and may be NULL when n is 0. name is UTF-8, any characters (escaped on
 * output); NULL is shown as an empty name. */
struct rtv_svg_series {
	const char *name;
	const double *x_ns;
	const double *y;
	int n;
};

/* Write to f a standalone SVG document (starting "<svg", ending "</svg>\n")
 * plotting the nseries CDFs in s: x is latency in µs on a log scale with
 * decade ticks (1, 10, 100, ...) spanning the data, y the cumulative fraction
 * 0..1 with grid lines every 0.1, one colour (and past ten series, a dash
 * pattern) per series, a legend with the names and title above (NULL for
 * none). Points with x <= 0 are drawn at the left edge, points with a
 * non-finite coordinate are skipped; an empty series gets a legend entry and
 * no curve. Numbers are written with '.' whatever the locale. f is flushed
 * but not closed. Returns 0, -EINVAL (NULL f, nseries < 0, NULL s with
 * nseries > 0, NULL arrays with n > 0) or -EIO when writing fails (or f
 * was already in error). */
int rtv_svg_cdf_write(FILE *f, const char *title, const struct rtv_svg_series *s, int nseries);
/* The same with a vertical dashed line at mark_x_ns (a deadline, IRMOS's
 * Fig. 4), labelled mark_label (NULL: none), the x axis spanning it too;
 * mark_x_ns <= 0 or not finite draws none. */
int rtv_svg_cdf_write_marked(FILE *f, const char *title, const struct rtv_svg_series *s,
			     int nseries, double mark_x_ns, const char *mark_label);

struct rtv_hist;

/* What a histogram's values mean on a picture's value axis: the axis title
 * (NULL: none) and how many histogram units make one axis unit (1000 for ns
 * shown in µs, RTV_RUNNER_NORM_SCALE = 1e6 for the taskset runner's
 * millionths of a period shown in periods). */
struct rtv_svg_axis {
	const char *label;
	double per_unit;
};

/* The CDFs of the n histograms h[i] named names[i] (names or names[i]
 * NULL: unnamed), drawn as rtv_svg_cdf_write() draws them (each histogram's
 * rtv_hist_cdf() with up to 1024 points) but with x in axis units, on a log
 * scale with decade ticks spanning the data, titled ax->label. mark, in axis
 * units, draws a vertical dashed line labelled mark_label (NULL: none),
 * the x axis spanning it too; mark <= 0 or not finite draws none. An empty
 * histogram gets a legend entry and no curve. Returns 0, -EINVAL (NULL f or
 * ax, ax->per_unit not positive and finite, n < 0, NULL h with n > 0, a
 * NULL h[i]), -ENOMEM or -EIO when writing fails (or f was already in
 * error). */
int rtv_svg_hist_cdf(FILE *f, const char *title, const struct rtv_svg_axis *ax,
		     const char *const *names, const struct rtv_hist *const *h, int n, double mark,
		     const char *mark_label);

/* The percentile plots of the same, as HdrHistogram's plotter draws them,
 * which show the tail a CDF squeezes against 1. x is the percentile p on a
 * log scale of 1 / (1 - p), ticks labelled 50, 90, 99, 99.9, 99.99 (the
 * axis reaches 99.99 always) and further nines (99.999, ...) as far as the
 * largest histogram resolves: N samples resolve percentiles up to 1 - 1/N,
 * so a histogram's curve ends at x = log10(N) with its max, and the axis at
 * the largest such x. y is the value in axis units on a log scale with
 * decade ticks spanning the data (labels longer than six characters written
 * as 1e6, 1e-5), titled ax->label. A curve is sampled with
 * rtv_hist_percentile() at 50 points per decade of 1 / (1 - p) from p = 0
 * (the min) to below 1 - 1/N, then the max: the values are bucket
 * midpoints (within 0.4%), and never decrease along the curve. mark, in
 * axis units, draws a horizontal dashed line labelled mark_label (NULL:
 * none) at its right end, the y axis spanning it too; mark <= 0 or not
 * finite draws none. An empty histogram gets a legend entry and no curve.
 * Returns 0 or -errno as rtv_svg_hist_cdf(). */
int rtv_svg_hist_percentiles(FILE *f, const char *title, const struct rtv_svg_axis *ax,
			     const char *const *names, const struct rtv_hist *const *h, int n,
			     double mark, const char *mark_label);

/* One curve of an XY picture: n points (x[k], y[k]) in axis units, drawn in
 * the order given, with a marker at every point; points with a non-finite
 * or (on a log axis) non-positive coordinate are skipped and break the
 * line. The arrays are only read, and may be NULL when n is 0. name is
 * UTF-8, any characters (escaped on output); NULL is shown as an empty
 * name. */
struct rtv_svg_line {
	const char *name;
	const double *x, *y;
	int n;
};

/* The axes of an XY picture. A log axis has decade ticks spanning the drawn
 * points (as the value axes above: 1, 10, 100, ...; at most 10^-3 .. 10^12,
 * points beyond drawn at its edge). A linear axis spans 0 and the drawn
 * points, from 0 (or the data's min when negative) to the data's max (or 0
 * when all are negative), both ends rounded out to whole "nice" steps: the
 * smallest of 1, 2, 5 x 10^k that keeps to about eight steps (0..87 is
 * 0..100 in steps of 20); ticks and labels every step, grid lines every half
 * step, labels exact ("0.25", "1500"), and when one would be longer than six
 * characters all in the short form ("2e5", "1.5e6", "2.5e-5"). */
struct rtv_svg_xy_axes {
	const char *xlabel, *ylabel; /* axis titles, NULL: none */
	bool xlog, ylog;             /* log scale with decade ticks; else linear */
};

/* Write to f a standalone SVG document of the same size and style as the
 * others: the n curves s (each a line in its colour and dash pattern,
 * markers at its points, a tooltip with its name), a legend (a line and a
 * marker a curve) and title above (NULL for none). A curve without a drawn
 * point gets a legend entry and nothing else; a picture without any has
 * axes 0..1 (a log axis: 1..1000). Returns 0, -EINVAL (NULL f or ax, n < 0,
 * NULL s with n > 0, some s[i].n < 0, NULL arrays with n > 0) or -EIO when
 * writing fails (or f was already in error). */
int rtv_svg_lines(FILE *f, const char *title, const struct rtv_svg_xy_axes *ax,
		  const struct rtv_svg_line *s, int n);

#endif
