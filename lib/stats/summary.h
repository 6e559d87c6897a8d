/* Statistics over a few repeats of one measurement (one number per run). */
#ifndef RTV_STATS_SUMMARY_H
#define RTV_STATS_SUMMARY_H

struct rtv_summary {
	int n;      /* finite values used */
	double mean;
	double min;
	double max;
	double sd;  /* sample standard deviation (n - 1 denominator); 0 when n == 1 */
};

/* Summarise the n values at v, skipping NaN and infinite entries (a failed
 * repeat is recorded as NaN). With no finite value, out->n is 0 and mean,
 * min, max and sd are NaN. v may be NULL when n <= 0. */
void rtv_summary_of(const double *v, int n, struct rtv_summary *out);

#endif
