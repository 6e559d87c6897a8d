/* SVG pictures of results, for a browser: no dependencies, one call per
 * picture. */
#ifndef RTV_REPORT_SVG_H
#define RTV_REPORT_SVG_H

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

#endif
