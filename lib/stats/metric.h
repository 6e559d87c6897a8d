/* Metrics: what an experiment measures in every run, each declared once as a
 * row in the table of whoever measures it (a probe, or the engine's own
 * accounting). The row says where the value lives in the measurer's state,
 * how it is summarised over repeats, whether lower is better, and where it
 * is shown; the run record, the summary over repeats, the JSON, the text
 * tables and the pictures all come from the rows, so adding a metric is one
 * row (and the code that fills its field).
 *
 * A metric is a number (a double or a counter at .off), a distribution (a
 * struct rtv_hist at .off: drawn in the pictures), or a statistic of a
 * distribution of the same measurer (.from), computed by the engine. */
#ifndef RTV_STATS_METRIC_H
#define RTV_STATS_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/hist.h"
#include "stats/summary.h"

enum rtv_metric_type {
	RTV_METRIC_DOUBLE, /* a double at .off; NaN: not measured */
	RTV_METRIC_U64,    /* a uint64_t at .off (a count) */
	RTV_METRIC_HIST,   /* a struct rtv_hist at .off */
	RTV_METRIC_STAT,   /* .stat of the HIST metric keyed .from */
};

/* Statistics of a distribution; RTV_STAT_PCT's percentile and
 * RTV_STAT_ABOVE_PCT's threshold (in the distribution's units) are .arg. */
enum rtv_stat { RTV_STAT_MEAN, RTV_STAT_SD, RTV_STAT_MIN, RTV_STAT_MAX, RTV_STAT_PCT,
		RTV_STAT_ABOVE_PCT };

/* The summary over repeats: the mean of the runs' values, their worst
 * (largest), or their sum; the spread (min, max) is always kept. */
enum rtv_agg { RTV_AGG_MEAN, RTV_AGG_MAX, RTV_AGG_SUM };

/* Which way a metric is better, for the "best" of each column. */
enum rtv_better { RTV_BETTER_NONE, RTV_BETTER_LOWER, RTV_BETTER_HIGHER };

/* Bits of .needs: what an experiment must have for the metric to be
 * reported at all (in tables and JSON). */
#define RTV_CAP_RAPL     0x1u /* energy measured by RAPL */
#define RTV_CAP_NO_RAPL  0x2u /* energy estimated from CPU time */
#define RTV_CAP_METHODS  0x4u /* the experiment compares methods */

#define RTV_TABLES 3 /* text tables 1..RTV_TABLES */

/* One place of a metric in a text table. Columns are ordered by pos; a
 * place without a head is joined to the column before it ("66 (22)": CPU %
 * with its softirq share) and shares its width. */
struct rtv_metric_col {
	int table;          /* 1..RTV_TABLES; 0: not shown */
	int pos;            /* order in the table */
	const char *head;   /* column head; NULL: joined */
	int width;          /* the column's width, joined parts included */
	int prec;           /* decimals */
	bool spread;        /* " (min-max)" across repeats after the summary, when more than one */
	const char *join;   /* joined: the text before it */
	const char *suffix; /* after the number ("%", ")") */
	const char *group;  /* columns with a group are headed by it and set off by " |" */
};

struct rtv_metric {
	const char *key;      /* the summary's JSON key, unit in the name: "p99_us" */
	/* The run's JSON key, '.' nesting objects ("cpu.busy_pct"); NULL: key;
	 * "": not written per run. */
	const char *run_key;
	enum rtv_metric_type type;
	size_t off;           /* in the measurer's state (a probe's series) */
	const char *from;     /* RTV_METRIC_STAT: the HIST metric's key */
	enum rtv_stat stat;
	double arg;
	double per_unit;      /* shown values are the stored ones / per_unit (0: 1) */
	enum rtv_agg agg;
	enum rtv_better better;
	bool run_only;        /* a run's own detail (a count): not summarised over repeats */
	unsigned needs;       /* RTV_CAP_* */
	struct rtv_metric_col col[2];
	/* RTV_METRIC_HIST: what it is, for the pictures ("NetRT round-trip
	 * time"), its axis label ("latency (us)"), and whether it is drawn */
	const char *label;
	const char *axis;
	bool plot;
};

/* Whether m is reported in an experiment with capabilities caps. */
static inline bool rtv_metric_available(const struct rtv_metric *m, unsigned caps)
{
	return (m->needs & caps) == m->needs;
}

/* How many stored units make one shown unit (per_unit, 1 when unset). */
static inline double rtv_metric_unit(const struct rtv_metric *m)
{
	return m->per_unit > 0 ? m->per_unit : 1;
}

/* The value of metric m of one series of a measurer's state, in shown units
 * (divided by per_unit); hists are the measurer's metrics, for the
 * statistics of RTV_METRIC_STAT rows (NULL when it has none: NaN). NaN for
 * a HIST metric. */
double rtv_metric_value(const struct rtv_metric *m, const void *series,
			const struct rtv_metric *table, int n);
/* The row keyed key in table[0..n-1], or NULL. */
const struct rtv_metric *rtv_metric_find(const struct rtv_metric *table, int n, const char *key);
/* The summary of v[0..n-1] (NaN entries skipped) by m's aggregation:
 * out->mean holds the aggregate (mean, max or sum), min and max the spread. */
void rtv_metric_summarize(const struct rtv_metric *m, const double *v, int n,
			  struct rtv_summary *out);
/* A table's cell for a summary: "-" for none, "%.*f", or with spread
 * "%.*f (%.*f-%.*f)", then the suffix. Returns the length written. */
int rtv_metric_cell(const struct rtv_metric_col *col, const struct rtv_summary *s, char *buf,
		    size_t len);
/* 0, or -EINVAL with the row that is wrong named in err: keys unique and
 * present, STAT rows' .from a HIST row of the same table, joined columns
 * after a column of the same table, widths positive. */
int rtv_metric_table_check(const struct rtv_metric *table, int n, char *err, size_t len);

#endif
