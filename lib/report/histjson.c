/* A histogram's statistics as JSON; see histjson.h. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "report/histjson.h"
#include "util/json.h"
#include "util/banned.h"

json_t *rtv_hist_json(const struct rtv_hist *h, double per_unit)
{
	static const struct {
		const char *key;
		double pct;
	} pcts[] = {
		{ "p50", 50.0 }, { "p90", 90.0 }, { "p99", 99.0 },
		{ "p999", 99.9 }, { "p9999", 99.99 },
	};
	bool empty = !h || h->count == 0;
	json_t *o;
	int err = 0;
	size_t i;

	if (!(per_unit > 0) || !isfinite(per_unit))
		return NULL;
	o = json_object();
	if (!o)
		return NULL;
	err |= rtv_json_set_int(o, "count", empty ? 0 : (int64_t)h->count);
	/* divided, then rounded once by rtv_json_set_num; NaN becomes null */
	err |= rtv_json_set_num(o, "mean", empty ? NAN : rtv_hist_mean_ns(h) / per_unit);
	err |= rtv_json_set_num(o, "sd", empty ? NAN : rtv_hist_sd_ns(h) / per_unit);
	err |= rtv_json_set_num(o, "min", empty ? NAN : (double)h->min_ns / per_unit);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		double v = empty ? NAN : (double)rtv_hist_percentile(h, pcts[i].pct);

		err |= rtv_json_set_num(o, pcts[i].key, v / per_unit);
	}
	err |= rtv_json_set_num(o, "max", empty ? NAN : (double)h->max_ns / per_unit);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}
