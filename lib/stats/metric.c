/* Metric rows: values, summaries and cells; see metric.h. */
#include "stats/metric.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const struct rtv_metric *rtv_metric_find(const struct rtv_metric *table, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(table[i].key, key))
			return &table[i];
	return NULL;
}

static double stat_of(const struct rtv_metric *m, const struct rtv_hist *h)
{
	if (!h->count)
		return NAN;
	switch (m->stat) {
	case RTV_STAT_MEAN: return rtv_hist_mean_ns(h);
	case RTV_STAT_SD: return rtv_hist_sd_ns(h);
	case RTV_STAT_MIN: return (double)h->min_ns;
	case RTV_STAT_MAX: return (double)h->max_ns;
	case RTV_STAT_PCT: return (double)rtv_hist_percentile(h, m->arg);
	case RTV_STAT_ABOVE_PCT: return 100.0 * rtv_hist_fraction_above(h, (int64_t)m->arg);
	}
	return NAN;
}

double rtv_metric_value(const struct rtv_metric *m, const void *series,
			const struct rtv_metric *table, int n)
{
	const char *p = series;
	double v = NAN, unit = rtv_metric_unit(m);
	const struct rtv_metric *h;

	switch (m->type) {
	case RTV_METRIC_DOUBLE:
		memcpy(&v, p + m->off, sizeof(v));
		break;
	case RTV_METRIC_U64: {
		uint64_t u;

		memcpy(&u, p + m->off, sizeof(u));
		v = (double)u;
		break;
	}
	case RTV_METRIC_HIST:
		return NAN;
	case RTV_METRIC_STAT:
		h = table && m->from ? rtv_metric_find(table, n, m->from) : NULL;
		if (!h || h->type != RTV_METRIC_HIST)
			return NAN;
		v = stat_of(m, (const struct rtv_hist *)(const void *)(p + h->off));
		/* the percentage above a threshold is a share, not in the hist's units */
		if (m->stat == RTV_STAT_ABOVE_PCT)
			return v;
		break;
	}
	return v / unit;
}

void rtv_metric_summarize(const struct rtv_metric *m, const double *v, int n,
			  struct rtv_summary *out)
{
	rtv_summary_of(v, n, out);
	if (!out->n)
		return;
	if (m->agg == RTV_AGG_MAX)
		out->mean = out->max;
	else if (m->agg == RTV_AGG_SUM)
		out->mean *= out->n;
}

int rtv_metric_cell(const struct rtv_metric_col *col, const struct rtv_summary *s, char *buf,
		    size_t len)
{
	char cell[160];
	int p = col->prec;

	if (!s->n || !isfinite(s->mean))
		snprintf(cell, sizeof(cell), "-");
	else if (col->spread && s->n > 1)
		snprintf(cell, sizeof(cell), "%.*f (%.*f-%.*f)%s", p, s->mean, p, s->min, p, s->max,
			 col->suffix ? col->suffix : "");
	else
		snprintf(cell, sizeof(cell), "%.*f%s", p, s->mean, col->suffix ? col->suffix : "");
	return snprintf(buf, len, "%s", cell);
}

int rtv_metric_table_check(const struct rtv_metric *table, int n, char *err, size_t len)
{
	for (int i = 0; i < n; i++) {
		const struct rtv_metric *m = &table[i];

		if (!m->key || !m->key[0]) {
			snprintf(err, len, "metric %d has no key", i);
			return -EINVAL;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(table[j].key, m->key)) {
				snprintf(err, len, "metric '%s' is declared twice", m->key);
				return -EINVAL;
			}
		if (m->type == RTV_METRIC_STAT) {
			const struct rtv_metric *h = m->from ? rtv_metric_find(table, n, m->from) : NULL;

			if (!h || h->type != RTV_METRIC_HIST) {
				snprintf(err, len, "metric '%s' is a statistic of '%s', which is not a "
					 "distribution of the same table", m->key, m->from ? m->from : "?");
				return -EINVAL;
			}
		}
		for (int k = 0; k < 2; k++) {
			const struct rtv_metric_col *c = &m->col[k];

			if (!c->table)
				continue;
			if (c->table < 0 || c->table > RTV_TABLES || (c->head && c->width <= 0)) {
				snprintf(err, len, "metric '%s': bad table place (table %d, width %d)",
					 m->key, c->table, c->width);
				return -EINVAL;
			}
		}
	}
	return 0;
}
