/* A latency histogram's statistics as JSON: one shape for every result that
 * carries a histogram. */
#ifndef RTV_REPORT_HISTJSON_H
#define RTV_REPORT_HISTJSON_H

#include <jansson.h>

#include "stats/hist.h"

/* The statistics of h as a new JSON object, in this key order:
 * {count, mean, sd, min, p50, p90, p99, p999, p9999, max}. count is
 * h->count as an integer; the others are in histogram units divided by
 * per_unit (1000 for ns shown in µs, RTV_RUNNER_NORM_SCALE for the taskset
 * runner's millionths of a period shown in periods), rounded as
 * rtv_json_set_num() rounds (3 decimals, integral values as integers), and
 * null when h is empty. sd is the population standard deviation; min and max
 * are exact, the percentiles are nearest-rank bucket midpoints
 * (rtv_hist_percentile(), within 0.4%). A NULL h counts as empty.
 * Returns a new reference (json_decref), or NULL when out of memory or when
 * per_unit is not a positive finite number. */
json_t *rtv_hist_json(const struct rtv_hist *h, double per_unit);

#endif
