/* Mean, extremes and spread of a handful of repeats; see summary.h. */
#include <math.h>

#include "stats/summary.h"

void rtv_summary_of(const double *v, int n, struct rtv_summary *out)
{
	double sum = 0, ss = 0, d;
	int i, k = 0;

	out->n = 0;
	out->mean = out->min = out->max = out->sd = NAN;
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		if (k == 0 || v[i] < out->min)
			out->min = v[i];
		if (k == 0 || v[i] > out->max)
			out->max = v[i];
		sum += v[i];
		k++;
	}
	if (k == 0)
		return;

	out->n = k;
	out->mean = sum / k;
	/* second pass over the deviations: no cancellation as in sum of squares */
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		d = v[i] - out->mean;
		ss += d * d;
	}
	out->sd = k > 1 ? sqrt(ss / (k - 1)) : 0;
}
