/* An experiment's results: the JSON document, the text tables, the checks'
 * lines and the pictures, all from the metric rows (stats/metric.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/engine.h"
#include "host/preempt.h"
#include "report/histjson.h"
#include "report/svg.h"
#include "util/json.h"

/* ---- JSON ---- */

/* The kernel's preemption model as the results are written, or why it
 * cannot be read. */
static void preempt_json(json_t *conf)
{
	char mode[32];
	int err = rtv_preempt_get(RTV_DEBUGFS_ROOT, mode, sizeof(mode));

	rtv_json_set_str(conf, "preempt", err ? rtv_preempt_why(err) : mode);
}

void rtv_exp_config_json(const struct rtv_exp *x, json_t *conf)
{
	const struct rtv_plan *p = &x->plan;
	json_t *methods = json_array();
	char buf[160];

	for (int i = 0; i < p->narms; i++)
		if (p->arm[i].method.nparts)
			json_array_append_new(methods, json_string(p->arm[i].name));
	json_object_set_new(conf, "methods", methods);
	rtv_json_set_int(conf, "repeats", p->repeats);
	rtv_json_set_num(conf, "duration_s", (double)p->duration_ns / 1e9);
	rtv_json_set_num(conf, "warmup_s", (double)p->warmup_ns / 1e9);
	if (p->testbed != RTV_TESTBED_NONE) {
		rtv_json_set_int(conf, "streams", p->nstreams);
		if (x->tb.shape.nstreams || x->tb.nstreams || x->cgroup_version) {
			/* the shape it ran on (one that was up keeps its own) */
			const struct rtv_tb_shape *sh = &x->tb.shape;

			rtv_json_set_str(conf, "topology", sh->topology == RTV_TB_HOST ? "host" : "direct");
			json_object_set_new(conf, "nat", json_boolean(sh->nat));
			rtv_json_set_str(conf, "peer_cpus", sh->peer_cpus[0] ? sh->peer_cpus : "any");
		}
	}
	rtv_json_set_str(conf, "load", rtv_exp_load_name(x, true, buf, sizeof(buf)));
	rtv_json_set_int(conf, "rt_prio", p->mcfg.rt_prio);
	json_object_set_new(conf, "poller_apart", json_boolean(p->mcfg.poller_apart));
	json_object_set_new(conf, "shared", json_boolean(p->mcfg.shared));
	rtv_json_set_int(conf, "softirq_budget", p->mcfg.softirq_budget);
	rtv_json_set_int(conf, "backlog_weight", p->mcfg.backlog_weight);
	preempt_json(conf);
	rtv_json_set_int(conf, "seed", (int64_t)p->seed);
	if (x->cgroup_version)
		rtv_json_set_int(conf, "cgroup_version", x->cgroup_version);
	if (x->dma_latency_held)
		rtv_json_set_int(conf, "cpu_dma_latency_us", p->cpu_dma_latency_us);
	else
		json_object_set_new(conf, "cpu_dma_latency_us", json_null());
	rtv_json_set_str(conf, "cpuidle_driver", x->cpuidle_driver);
	rtv_json_set_num(conf, "foreign_limit_pct", p->foreign_limit_pct);
	rtv_json_set_num(conf, "idle_phase_s", (double)p->idle_phase_ns / 1e9);
	if (x->rapl) {
		rtv_json_set_str(conf, "energy_source", "powercap RAPL packages");
	} else {
		snprintf(buf, sizeof(buf), "estimate: no RAPL here; busy CPU-seconds x %g W per "
			 "busy CPU", p->core_watts);
		rtv_json_set_str(conf, "energy_source", buf);
	}
	for (int i = 0; i < x->nprobes; i++)
		if (x->probe[i].probe->config_json)
			x->probe[i].probe->config_json(x->probe[i].cfg, conf);
}

static json_t *runs_json(const struct rtv_exp *x)
{
	json_t *runs = json_array();
	char load[160];

	for (int i = 0; i < x->done; i++) {
		const struct rtv_run *r = &x->runs[i];
		const struct rtv_arm *arm = &x->plan.arm[r->arm];

		for (int s = 0; s < x->nseries; s++) {
			json_t *o = json_object();

			rtv_json_set_str(o, "method", arm->name);
			rtv_json_set_str(o, "load", rtv_exp_load_name(x, arm->loaded, load, sizeof(load)));
			rtv_json_set_int(o, "repeat", r->repeat);
			if (x->nseries > 1)
				rtv_json_set_str(o, "series", rtv_exp_series_name(x, s));
			if (r->status) {
				rtv_json_set_str(o, "error", strerror(-r->status));
			} else if (r->obj[s]) {
				json_object_update(o, r->obj[s]);
				if (s == 0 && r->acct)
					json_object_update(o, r->acct);
				json_object_set_new(o, "disturbed", json_boolean(r->disturbed));
				if (r->note[0])
					rtv_json_set_str(o, "note", r->note);
			}
			json_array_append_new(runs, o);
		}
	}
	return runs;
}

/* Whether metric k is summarised: a number, not a run's own detail. */
static bool summarised(const struct rtv_exp *x, int k)
{
	const struct rtv_metric *m = x->metric[k];

	return m->type != RTV_METRIC_HIST && !m->run_only && rtv_metric_available(m, x->caps);
}

static json_t *summary_json(const struct rtv_exp *x, const struct rtv_sum *s, int ns)
{
	json_t *sum = json_array();
	char key[96];

	for (int i = 0; i < ns; i++) {
		json_t *o = json_object();

		rtv_json_set_str(o, "method", x->plan.arm[s[i].arm].name);
		if (x->nseries > 1)
			rtv_json_set_str(o, "series", rtv_exp_series_name(x, s[i].series));
		rtv_json_set_int(o, "repeats", s[i].nruns);
		for (int k = 0; k < x->nmetrics; k++) {
			const struct rtv_summary *v = &s[i].m[k];

			if (!summarised(x, k))
				continue;
			rtv_json_set_num(o, x->metric[k]->key, v->n ? v->mean : NAN);
			snprintf(key, sizeof(key), "%s_min", x->metric[k]->key);
			rtv_json_set_num(o, key, v->n ? v->min : NAN);
			snprintf(key, sizeof(key), "%s_max", x->metric[k]->key);
			rtv_json_set_num(o, key, v->n ? v->max : NAN);
		}
		rtv_json_set_int(o, "disturbed_runs", s[i].disturbed);
		json_array_append_new(sum, o);
	}
	return sum;
}

static const char *cmp_name(enum rtv_cmp c)
{
	static const char *const n[] = { "<", "<=", ">=", ">" };

	return (unsigned)c < 4 ? n[c] : "?";
}

static json_t *checks_json(const struct rtv_exp *x, const struct rtv_check *c, int nc)
{
	json_t *a = json_array();
	char exp[96];

	for (int i = 0; i < nc; i++) {
		json_t *o = json_object();

		rtv_json_set_str(o, "name", c[i].name);
		rtv_json_set_str(o, "method", x->plan.arm[c[i].arm].name);
		rtv_json_set_str(o, "metric", c[i].metric);
		rtv_json_set_num(o, "measured", c[i].measured);
		rtv_json_set_str(o, "ref", c[i].ref);
		if (c[i].ref)
			rtv_json_set_num(o, "ref_measured", c[i].ref_measured);
		rtv_json_set_num(o, "value", c[i].value);
		snprintf(exp, sizeof(exp), "%s %g%s", cmp_name(c[i].cmp), c[i].bound,
			 c[i].ref ? "x" : "");
		rtv_json_set_str(o, "expected", exp);
		rtv_json_set_str(o, "op", cmp_name(c[i].cmp));
		rtv_json_set_num(o, "bound", c[i].bound);
		json_object_set_new(o, "met", json_boolean(c[i].met));
		json_array_append_new(a, o);
	}
	return a;
}

/* Per metric with a direction, the loaded arm with the best summary. */
static json_t *best_json(const struct rtv_exp *x, const struct rtv_sum *s, int ns)
{
	json_t *best = json_object();

	for (int k = 0; k < x->nmetrics; k++) {
		const struct rtv_metric *m = x->metric[k];
		int b = -1;

		if (!summarised(x, k) || m->better == RTV_BETTER_NONE || x->nseries > 1)
			continue;
		for (int i = 0; i < ns; i++) {
			double v = s[i].m[k].mean;

			if (!s[i].nruns || !x->plan.arm[s[i].arm].loaded || !isfinite(v))
				continue;
			if (b < 0 || (m->better == RTV_BETTER_LOWER ? v < s[b].m[k].mean :
								     v > s[b].m[k].mean))
				b = i;
		}
		if (b >= 0)
			rtv_json_set_str(best, m->key, x->plan.arm[s[b].arm].name);
	}
	return best;
}

json_t *rtv_exp_json(const struct rtv_exp *x, const struct rtv_sum *s, int ns,
		     const struct rtv_check *c, int nc, json_t *meta)
{
	json_t *conf = json_object();

	rtv_exp_config_json(x, conf);
	return rtv_json_doc(meta, conf, "runs", runs_json(x), "summary", summary_json(x, s, ns),
			    "checks", checks_json(x, c, nc), "best", best_json(x, s, ns), NULL);
}

/* ---- text tables ---- */

struct place {
	int metric;
	const struct rtv_metric_col *col;
};

static int place_cmp(const void *a, const void *b)
{
	const struct place *p = a, *q = b;

	if (p->col->pos != q->col->pos)
		return (p->col->pos > q->col->pos) - (p->col->pos < q->col->pos);
	return (p->metric > q->metric) - (p->metric < q->metric);
}

/* Table t's places, ordered: a head starts a column, NULL heads join it. */
static int places_of(const struct rtv_exp *x, int t, struct place *out, int max)
{
	int n = 0;

	for (int k = 0; k < x->nmetrics; k++) {
		if (!rtv_metric_available(x->metric[k], x->caps))
			continue;
		if (x->metric_probe[k] < 0 && rtv_exp_has_series(x))
			continue; /* the engine's are per run, not per series */
		for (int c = 0; c < 2 && n < max; c++)
			if (x->metric[k]->col[c].table == t)
				out[n++] = (struct place){ k, &x->metric[k]->col[c] };
	}
	qsort(out, (size_t)n, sizeof(*out), place_cmp);
	while (n && !out[0].col->head) /* a joined place with nothing to join */
		memmove(out, out + 1, (size_t)--n * sizeof(*out));
	return n;
}

/* The label column's head for series: the probe's ("task"). */
static const char *series_head(const struct rtv_exp *x)
{
	return x->probe[0].probe->series_head ? x->probe[0].probe->series_head : "series";
}

/* The label columns: method, series, load; their widths. */
struct labels {
	bool method, series, load;
	int wm, ws, wl;
};

static void labels_of(const struct rtv_exp *x, const struct rtv_sum *s, int ns, int t,
		      struct labels *l)
{
	char buf[160];
	bool some_loaded = false, some_not = false;

	memset(l, 0, sizeof(*l));
	l->series = rtv_exp_has_series(x);
	l->method = !l->series || x->plan.narms > 1;
	for (int i = 0; i < x->plan.narms; i++) {
		some_loaded |= x->plan.arm[i].loaded;
		some_not |= !x->plan.arm[i].loaded;
	}
	l->load = some_loaded && some_not && x->plan.nloads && t == 1; /* the latency table's */
	l->wm = 9;
	l->ws = (int)strlen(series_head(x));
	l->wl = 4;
	for (int i = 0; i < ns; i++) {
		int n = (int)strlen(x->plan.arm[s[i].arm].name);

		l->wm = n > l->wm ? n : l->wm;
		n = (int)strlen(rtv_exp_series_name(x, s[i].series));
		l->ws = n > l->ws ? n : l->ws;
		n = (int)strlen(rtv_exp_load_name(x, x->plan.arm[s[i].arm].loaded, buf, sizeof(buf)));
		l->wl = n > l->wl ? n : l->wl;
	}
	l->wm++;
	l->ws++;
}

static void labels_write(FILE *f, const struct rtv_exp *x, const struct labels *l,
			 const struct rtv_sum *s)
{
	char buf[160];
	const char *m = s ? x->plan.arm[s->arm].name : "method";
	const char *se = s ? rtv_exp_series_name(x, s->series) : series_head(x);
	const char *ld = s ? rtv_exp_load_name(x, x->plan.arm[s->arm].loaded, buf, sizeof(buf)) : "load";
	bool first = true;

	if (l->method) {
		fprintf(f, "%-*s", l->wm, m);
		first = false;
	}
	if (l->series) {
		fprintf(f, "%s%-*s", first ? "" : " ", l->ws, se);
		first = false;
	}
	if (l->load)
		fprintf(f, "%s%-*s", first ? "" : " ", l->wl, ld);
}

static int labels_width(const struct labels *l)
{
	int w = 0, n = 0;

	if (l->method)
		w += l->wm, n++;
	if (l->series)
		w += l->ws, n++;
	if (l->load)
		w += l->wl, n++;
	return w + (n ? n - 1 : 0);
}

static bool new_group(const struct place *p, int i)
{
	const char *a = i ? p[i - 1].col->group : NULL, *b = p[i].col->group;

	return i && p[i].col->head && (a || b) && (!a || !b || strcmp(a, b));
}

int rtv_exp_table_write(FILE *f, const struct rtv_exp *x, const struct rtv_sum *s, int ns, int t)
{
	struct place p[64];
	struct labels l;
	int n = places_of(x, t, p, 64);
	bool groups = false;

	if (!n)
		return 0;
	labels_of(x, s, ns, t, &l);
	for (int i = 0; i < n; i++)
		groups |= p[i].col->group != NULL;
	if (groups) { /* a line of group heads over their columns */
		fprintf(f, "%*s", labels_width(&l), "");
		for (int i = 0; i < n;) {
			int w = 0, j = i;

			if (new_group(p, i))
				fprintf(f, " |");
			do {
				if (p[j].col->head)
					w += p[j].col->width + 1;
				j++;
			} while (j < n && !new_group(p, j));
			if (j < n) /* no padding after the last group */
				fprintf(f, " %-*s", w - 1, p[i].col->group ? p[i].col->group : "");
			else
				fprintf(f, " %s", p[i].col->group ? p[i].col->group : "");
			i = j;
		}
		fputc('\n', f);
	}
	labels_write(f, x, &l, NULL);
	for (int i = 0; i < n; i++) {
		if (!p[i].col->head)
			continue;
		if (new_group(p, i))
			fprintf(f, " |");
		fprintf(f, " %*s", p[i].col->width, p[i].col->head);
	}
	fputc('\n', f);
	for (int r = 0; r < ns; r++) {
		labels_write(f, x, &l, &s[r]);
		for (int i = 0; i < n;) {
			char cell[160];
			size_t off = 0;
			int j = i;

			if (new_group(p, i))
				fprintf(f, " |");
			do { /* the column and what is joined to it */
				const struct rtv_summary *v = &s[r].m[p[j].metric];

				if (j > i && p[j].col->join)
					off += (size_t)snprintf(cell + off, sizeof(cell) - off, "%s",
								p[j].col->join);
				if (off < sizeof(cell))
					off += (size_t)rtv_metric_cell(p[j].col, v, cell + off,
								       sizeof(cell) - off);
				j++;
			} while (j < n && !p[j].col->head && off < sizeof(cell));
			{ /* every part missing: one "-" */
				bool any = false;

				for (int k = i; k < j; k++)
					any |= s[r].m[p[k].metric].n && isfinite(s[r].m[p[k].metric].mean);
				if (!any)
					snprintf(cell, sizeof(cell), "-");
			}
			fprintf(f, " %*s", p[i].col->width, cell);
			i = j;
		}
		if (t == 1 && s[r].disturbed)
			fprintf(f, " *");
		fputc('\n', f);
	}
	return n;
}

static const char *metric_label(const struct rtv_exp *x, const char *key)
{
	int k = rtv_exp_metric(x, key);

	for (int c = 0; k >= 0 && c < 2; c++)
		if (x->metric[k]->col[c].head)
			return x->metric[k]->col[c].head;
	return key;
}

void rtv_exp_checks_write(FILE *f, const struct rtv_exp *x, const struct rtv_check *c, int nc)
{
	for (int i = 0; i < nc; i++) {
		const char *what = metric_label(x, c[i].metric);

		if (c[i].ref)
			fprintf(f, "%s: %s %s %.4g is %.2fx %s's %.4g (expected %s %gx): %s\n",
				c[i].name, x->plan.arm[c[i].arm].name, what, c[i].measured, c[i].value,
				c[i].ref, c[i].ref_measured, cmp_name(c[i].cmp), c[i].bound,
				c[i].met ? "met" : "NOT met");
		else
			fprintf(f, "%s: %s %s %.4g (expected %s %g): %s\n", c[i].name,
				x->plan.arm[c[i].arm].name, what, c[i].measured, cmp_name(c[i].cmp),
				c[i].bound, c[i].met ? "met" : "NOT met");
	}
}

/* ---- pictures ---- */

int rtv_exp_svg_write(FILE *f, const struct rtv_exp *x, const struct rtv_sum *s, int ns,
		      const char *key, enum rtv_exp_picture kind, double mark,
		      const char *mark_label)
{
	const struct rtv_metric *m = NULL;
	const struct rtv_hist **h = calloc((size_t)ns + 1, sizeof(*h));
	const char **names = calloc((size_t)ns + 1, sizeof(*names));
	char (*buf)[96] = calloc((size_t)ns + 1, sizeof(*buf));
	char title[200];
	int plot = -1, n = 0, err;

	if (!h || !names || !buf) {
		err = -ENOMEM;
		goto out;
	}
	for (int k = 0; k < x->nmetrics && !m; k++)
		if (rtv_exp_plot(x, k) >= 0 && (!key || !strcmp(x->metric[k]->key, key))) {
			m = x->metric[k];
			plot = rtv_exp_plot(x, k);
		}
	if (!m) {
		err = -ENOENT;
		goto out;
	}
	for (int i = 0; i < ns; i++) {
		if (!s[i].nruns)
			continue;
		h[n] = x->plot[(s[i].arm * x->nseries + s[i].series) * x->nplot + plot];
		names[n] = rtv_exp_row_name(x, &s[i], buf[n], sizeof(buf[n]));
		n++;
	}
	struct rtv_svg_axis ax = { .label = m->axis ? m->axis : m->key,
				   .per_unit = rtv_metric_unit(m) };

	snprintf(title, sizeof(title), "%s%s", m->label ? m->label : m->key,
		 kind == RTV_PICTURE_CDF ? ": CDF" : " by percentile");
	if (kind == RTV_PICTURE_CDF)
		err = rtv_svg_hist_cdf(f, title, &ax, names, h, n, mark, mark_label);
	else
		err = rtv_svg_hist_percentiles(f, title, &ax, names, h, n, mark, mark_label);
out:
	free(h);
	free(names);
	free(buf);
	return err;
}

int rtv_exp_svg_write_file(const char *path, const struct rtv_exp *x, const struct rtv_sum *s,
			   int ns, const char *key, enum rtv_exp_picture kind, double mark,
			   const char *mark_label)
{
	FILE *f = fopen(path, "we");
	int err;

	if (!f)
		return -errno;
	err = rtv_exp_svg_write(f, x, s, ns, key, kind, mark, mark_label);
	if (fclose(f) && !err)
		err = -errno;
	return err;
}
