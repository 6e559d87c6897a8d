/* The rfc2544 experiment: plan, claims, tables, pictures; see rfc2544.h. */
#include "experiment/rfc2544.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

#define KBP_BOUND      1.0  /* busy poll's max and p99.9 below vanilla's */
#define EEKBP_BOUND    1.3  /* hybrid's p99.9 within 1.3x busypoll's */
#define SOCKPERF_BOUND 0.10 /* rtvnet's p50 within 10% of sockperf's */

void rtv_rfc2544_cfg_init(struct rtv_rfc2544_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	rtv_plan_init(&cfg->plan);
	cfg->plan.repeats = 1;
	cfg->plan.warmup_ns = 0;
	cfg->plan.idle_phase_ns = 2 * RTV_NS_PER_S;
	cfg->plan.nstreams = 1;
	rtv_rfc2544_probe_cfg_init(&cfg->probe);
}

int rtv_rfc2544_init(struct rtv_rfc2544 *r, const struct rtv_rfc2544_cfg *cfg, char *err,
		     size_t errlen)
{
	struct rtv_plan *p;
	const struct rtv_probe *load = NULL;
	int e;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	p = &r->cfg.plan;
	p->narms = p->nloads = p->nevidence = 0;
	e = rtv_rfc2544_cfg_check(&r->cfg.probe, err, errlen);
	if (e < 0)
		return e;
	r->cfg.probe.rt_cpus = p->mcfg.rt_cpus;
	r->cfg.probe.core_watts = p->core_watts;
	p->warmup_ns = 0;
	p->duration_ns = rtv_rfc2544_run_estimate_ns(&r->cfg.probe); /* ends with the generator */
	if (r->cfg.load) {
		load = rtv_probe_find(r->cfg.load);
		if (!load || load->role != RTV_PROBE_LOAD) {
			snprintf(err, errlen, "'%s' is not a load (stream, iperf3)", r->cfg.load);
			return -EINVAL;
		}
	}
	if (r->cfg.probe.target) {
		if (r->cfg.methods || load) {
			snprintf(err, errlen, "--target measures a reflector elsewhere: methods and "
				 "loads apply on its host ('rtvnet apply' there), not with --target");
			return -EINVAL;
		}
		p->testbed = RTV_TESTBED_NONE;
		rtv_plan_add_arm(p, "target", NULL, false);
	} else {
		p->testbed = RTV_TESTBED_OWN;
		e = rtv_plan_add_methods(p, r->cfg.methods ? r->cfg.methods :
					 RTV_RFC2544_DEFAULT_METHODS, load != NULL, err, errlen);
		if (e < 0)
			return e;
	}
	p->service = (struct rtv_plan_probe){ &rtv_probe_rfc2544, &r->cfg.probe };
	if (load) {
		r->load_cfg.nstreams = p->nstreams;
		p->load[p->nloads++] = (struct rtv_plan_probe){ load, &r->load_cfg };
	}
	return rtv_exp_init(&r->x, p, err, errlen);
}

void rtv_rfc2544_release(struct rtv_rfc2544 *r)
{
	rtv_exp_release(&r->x);
}

/* ---- reading the summaries ---- */

/* Arm a's summary of metric key for series i (NaN when missing). */
static double val(const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns, int a, int i,
		  const char *key, const struct rtv_summary **out)
{
	int m = rtv_exp_metric(&r->x, key), row = a * r->x.nseries + i;

	if (out)
		*out = NULL;
	if (m < 0 || a < 0 || row >= ns || !s[row].nruns)
		return NAN;
	if (out)
		*out = &s[row].m[m];
	return s[row].m[m].mean;
}

static int arm_of(const struct rtv_rfc2544 *r, const char *name)
{
	for (int a = 0; a < r->x.plan.narms; a++)
		if (!strcmp(r->x.plan.arm[a].name, name))
			return a;
	return -1;
}

static void claim(struct rtv_rfc2544_claim *c, const char *what, const char *point,
		  const char *arms, double value, const char *cmp, double bound, bool met)
{
	c->cmp = cmp;
	snprintf(c->what, sizeof(c->what), "%s", what);
	snprintf(c->point, sizeof(c->point), "%s", point);
	snprintf(c->arms, sizeof(c->arms), "%s", arms);
	c->value = value;
	c->bound = bound;
	c->met = met;
}

int rtv_rfc2544_claims(const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
		       struct rtv_rfc2544_claim *out, int max)
{
	const struct rtv_rfc2544_probe_cfg *cfg = &r->cfg.probe;
	int van = arm_of(r, "vanilla"), bp = arm_of(r, "busypoll"), hy = arm_of(r, "hybrid");
	int n = 0, nser = rtv_rfc2544_nseries(cfg);

#define ADD(...) do { if (n < max) claim(&out[n++], __VA_ARGS__); } while (0)
	for (int i = 0; i < nser; i++) {
		const char *name = rtv_exp_series_name(&r->x, i);
		bool same_rate;

		if (rtv_rfc2544_series_is_search(cfg, i)) {
			double v = val(r, s, ns, van, i, "throughput_pps", NULL),
			       b = val(r, s, ns, bp, i, "throughput_pps", NULL);

			/* vanilla passing at the generator's limit leaves nothing to beat */
			if (isfinite(v) && isfinite(b) && v > 0 &&
			    !(val(r, s, ns, van, i, "generator_bound", NULL) > 0))
				ADD("KBP throughput", name, "busypoll / vanilla", b / v, ">=",
				    KBP_BOUND, b / v >= KBP_BOUND);
			continue;
		}
		/* the papers compare methods at the same offered rate: a share of
		 * each method's own throughput is a different rate per method */
		same_rate = !cfg->rates[(i - cfg->nsizes) % cfg->nrates].pct;
		if (same_rate && van >= 0 && bp >= 0) {
			static const char *const keys[] = { "max_us", "p999_us" };

			for (int k = 0; k < 2; k++) {
				double v = val(r, s, ns, van, i, keys[k], NULL),
				       b = val(r, s, ns, bp, i, keys[k], NULL);

				if (isfinite(v) && isfinite(b) && v > 0)
					ADD(k ? "KBP p99.9 RTT" : "KBP max RTT", name,
					    "busypoll / vanilla", b / v, "<", KBP_BOUND,
					    b / v < KBP_BOUND);
			}
		}
		if (same_rate && bp >= 0 && hy >= 0) {
			double b = val(r, s, ns, bp, i, "p999_us", NULL),
			       h = val(r, s, ns, hy, i, "p999_us", NULL);

			if (isfinite(b) && isfinite(h) && b > 0)
				ADD("EE-KBP p99.9 RTT", name, "hybrid / busypoll", h / b, "<=",
				    EEKBP_BOUND, h / b <= EEKBP_BOUND);
		}
		for (int a = 0; a < r->x.plan.narms; a++) {
			double q = val(r, s, ns, a, i, "p50_vs_sockperf", NULL);

			if (isfinite(q))
				ADD("sockperf p50", name, r->x.plan.arm[a].name, q,
				    "within 1 +-", SOCKPERF_BOUND,
				    fabs(q - 1) <= SOCKPERF_BOUND);
		}
	}
	/* EE-KBP: hybrid's CPU falls with the rate, within each latency size */
	for (int j = 0; hy >= 0 && j < cfg->nlat_sizes; j++) {
		int base = cfg->nsizes + j * cfg->nrates, lo = -1, hi = -1;
		bool falls = true;
		double lo_rate = INFINITY, hi_rate = 0;
		char point[32], arms[48];

		for (int k = 0; k < cfg->nrates; k++) {
			double rate = val(r, s, ns, hy, base + k, "offered_pps", NULL),
			       cpu = val(r, s, ns, hy, base + k, "dut_cpu_pct", NULL);

			if (!isfinite(rate) || !isfinite(cpu))
				continue;
			for (int k2 = 0; k2 < cfg->nrates; k2++) {
				double r2 = val(r, s, ns, hy, base + k2, "offered_pps", NULL),
				       c2 = val(r, s, ns, hy, base + k2, "dut_cpu_pct", NULL);

				if (isfinite(r2) && isfinite(c2) && r2 > rate * 1.05 && !(c2 > cpu))
					falls = false;
			}
			if (rate < lo_rate) {
				lo_rate = rate;
				lo = k;
			}
			if (rate > hi_rate) {
				hi_rate = rate;
				hi = k;
			}
		}
		if (lo < 0 || hi == lo)
			continue;
		snprintf(point, sizeof(point), "%uB", cfg->lat_sizes[j]);
		snprintf(arms, sizeof(arms), "hybrid CPU, lowest / highest rate");
		ADD("EE-KBP CPU falls with rate", point, arms,
		    val(r, s, ns, hy, base + lo, "dut_cpu_pct", NULL) /
			    val(r, s, ns, hy, base + hi, "dut_cpu_pct", NULL), "falls, ratio <", 1,
		    falls);
	}
#undef ADD
	return n;
}

/* ---- text ---- */

static void cell(char *buf, size_t len, const struct rtv_summary *m, double scale, int prec,
		 bool spread)
{
	if (!m || m->n == 0 || !isfinite(m->mean)) {
		snprintf(buf, len, "-");
		return;
	}
	if (spread && m->n > 1 && m->max > m->min)
		snprintf(buf, len, "%.*f (%.*f-%.*f)", prec, m->mean / scale, prec, m->min / scale,
			 prec, m->max / scale);
	else
		snprintf(buf, len, "%.*f", prec, m->mean / scale);
}

static void write_throughput(FILE *f, const struct rtv_rfc2544 *r, const struct rtv_sum *s,
			     int ns)
{
	const struct rtv_rfc2544_probe_cfg *cfg = &r->cfg.probe;
	const struct rtv_summary *m;
	char a[48], b[48], c[48];

	fprintf(f, "\nZero-loss throughput (RFC 2544 26.1) per frame size, mean over repeats "
		"(min-max); limit: what the generator offered when asked for %.0f kpps; * the "
		"path lost nothing even there\n", cfg->max_pps / 1e3);
	fprintf(f, "%-7s %-16s %22s %14s %14s\n", "frame", "method", "kpps", "Mbit/s",
		"limit kpps");
	for (int i = 0; i < cfg->nsizes; i++)
		for (int arm = 0; arm < r->x.plan.narms; arm++) {
			double gb = val(r, s, ns, arm, i, "generator_bound", NULL);

			val(r, s, ns, arm, i, "throughput_pps", &m);
			cell(a, sizeof(a), m, 1e3, 1, true);
			val(r, s, ns, arm, i, "throughput_mbit_s", &m);
			cell(b, sizeof(b), m, 1, 1, false);
			val(r, s, ns, arm, i, "generator_limit_pps", &m);
			cell(c, sizeof(c), m, 1e3, 1, false);
			fprintf(f, "%-7s %-16s %22s %14s %14s%s\n", arm ? "" : rtv_exp_series_name(&r->x, i),
				r->x.plan.arm[arm].name, a, b, c, gb > 0 ? " *" : "");
		}
}

static void write_latency(FILE *f, const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns)
{
	const struct rtv_rfc2544_probe_cfg *cfg = &r->cfg.probe;
	static const struct { const char *key, *head; double scale; int prec, w; } col[] = {
		{ "offered_pps", "kpps", 1e3, 1, 8 },   { "loss_pct", "loss %", 1, 3, 8 },
		{ "p50_us", "p50", 1, 1, 8 },           { "p99_us", "p99", 1, 1, 8 },
		{ "p999_us", "p99.9", 1, 1, 8 },        { "max_us", "max", 1, 0, 8 },
		{ "dut_cpu_pct", "DUT CPU%", 1, 1, 9 }, { "rt_cpu_pct", "RT CPU%", 1, 1, 8 },
		{ "power_w_estimate", "W est", 1, 2, 6 },
	};
	char buf[48];

	fprintf(f, "\nLatency at fixed rates, every packet's round trip in us (RFC 2544 26.2 times "
		"one tagged frame per trial: this extends it); DUT CPU: every CPU's time but the "
		"generator's, %% of one CPU; RT CPU: the RT CPUs' busy share; W est: DUT CPU x %.0f W "
		"per busy CPU (an ESTIMATE: no RAPL)\n", cfg->core_watts);
	fprintf(f, "%-16s %-16s", "point", "method");
	for (size_t k = 0; k < sizeof(col) / sizeof(col[0]); k++)
		fprintf(f, " %*s", col[k].w, col[k].head);
	fprintf(f, "\n");
	for (int i = cfg->nsizes; i < rtv_rfc2544_nseries(cfg); i++)
		for (int arm = 0; arm < r->x.plan.narms; arm++) {
			fprintf(f, "%-16s %-16s", arm ? "" : rtv_exp_series_name(&r->x, i),
				r->x.plan.arm[arm].name);
			for (size_t k = 0; k < sizeof(col) / sizeof(col[0]); k++) {
				const struct rtv_summary *m;

				val(r, s, ns, arm, i, col[k].key, &m);
				cell(buf, sizeof(buf), m, col[k].scale, col[k].prec, false);
				fprintf(f, " %*s", col[k].w, buf);
			}
			fprintf(f, "\n");
		}
}

/* The notes the runs left on their points (first run of each arm). */
static void write_notes(FILE *f, const struct rtv_rfc2544 *r)
{
	bool head = false;

	for (int i = 0; i < r->x.done; i++) {
		const struct rtv_run *run = &r->x.runs[i];

		if (run->repeat != 1 || !run->obj)
			continue;
		for (int se = 0; se < r->x.nseries; se++) {
			const char *note = json_string_value(json_object_get(run->obj[se], "point_note"));

			if (!note)
				continue;
			if (!head)
				fprintf(f, "\nNotes (first repeat):\n");
			head = true;
			fprintf(f, "  %s %s: %s\n", r->x.plan.arm[run->arm].name,
				rtv_exp_series_name(&r->x, se), note);
		}
	}
}

void rtv_rfc2544_write(FILE *f, const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
		       const struct rtv_rfc2544_claim *c, int nc)
{
	const struct rtv_rfc2544_probe_cfg *cfg = &r->cfg.probe;

	fprintf(f, "RFC 2544 on the RT path; trials of %.1f s (the RFC's are 60 s%s), %.1f s for late "
		"replies after each and %.1f s without traffic before each (the RFC's: 2 s and 5 s)\n",
		(double)cfg->trial_ns / 1e9, cfg->trial_ns == 60 * RTV_NS_PER_S ? "" : ": a deviation",
		(double)cfg->residual_ns / 1e9, (double)cfg->settle_ns / 1e9);
	write_throughput(f, r, s, ns);
	if (rtv_rfc2544_nseries(cfg) > cfg->nsizes)
		write_latency(f, r, s, ns);
	write_notes(f, r);
	if (nc) {
		fprintf(f, "\nThe papers' claims on this machine (means over repeats):\n");
		for (int i = 0; i < nc; i++)
			fprintf(f, "  %-26s %-14s %-34s %7.3f (%s %.2f): %s\n", c[i].what, c[i].point,
				c[i].arms, c[i].value, c[i].cmp, c[i].bound, c[i].met ? "met" : "MISSED");
	}
}

json_t *rtv_rfc2544_json(const struct rtv_rfc2544 *r, const struct rtv_sum *s, int ns,
			 const struct rtv_rfc2544_claim *c, int nc, json_t *meta)
{
	json_t *root = rtv_exp_json(&r->x, s, ns, NULL, 0, meta), *a = json_array();

	for (int i = 0; i < nc; i++) {
		json_t *o = json_object();

		rtv_json_set_str(o, "claim", c[i].what);
		rtv_json_set_str(o, "point", c[i].point);
		rtv_json_set_str(o, "arms", c[i].arms);
		rtv_json_set_num(o, "value", c[i].value);
		rtv_json_set_num(o, "bound", c[i].bound);
		json_object_set_new(o, "met", json_boolean(c[i].met));
		json_array_append_new(a, o);
	}
	if (root)
		json_object_set_new(root, "claims", a);
	else
		json_decref(a);
	return root;
}

int rtv_rfc2544_svg_write_file(const char *path, const struct rtv_rfc2544 *r,
			       const struct rtv_sum *s, int ns, const char *key)
{
	const struct rtv_rfc2544_probe_cfg *cfg = &r->cfg.probe;
	int narms = r->x.plan.narms, n = narms * cfg->nlat_sizes, k = 0, err;
	struct rtv_svg_line *l = calloc((size_t)(n ? n : 1), sizeof(*l));
	double *xy = calloc((size_t)(2 * (n ? n : 1) * (cfg->nrates ? cfg->nrates : 1)),
			    sizeof(double));
	char (*names)[64] = calloc((size_t)(n ? n : 1), sizeof(*names)), title[128];
	struct rtv_svg_xy_axes ax = { .xlabel = "offered rate (packets/s)",
				      .ylabel = "round-trip time (us)", .xlog = true, .ylog = true };
	FILE *f;

	if (!l || !xy || !names) {
		err = -ENOMEM;
		goto out;
	}
	for (int a = 0; a < narms; a++)
		for (int j = 0; j < cfg->nlat_sizes; j++, k++) {
			double *x = xy + 2 * k * cfg->nrates, *y = x + cfg->nrates;

			for (int q = 0; q < cfg->nrates; q++) {
				int i = cfg->nsizes + j * cfg->nrates + q;

				x[q] = val(r, s, ns, a, i, "offered_pps", NULL);
				y[q] = val(r, s, ns, a, i, key, NULL);
			}
			snprintf(names[k], sizeof(names[k]), "%s %uB", r->x.plan.arm[a].name,
				 cfg->lat_sizes[j]);
			l[k] = (struct rtv_svg_line){ names[k], x, y, cfg->nrates };
		}
	/* each curve by increasing rate */
	for (int c = 0; c < k; c++) {
		double *x = (double *)l[c].x, *y = (double *)l[c].y;

		for (int p = 1; p < l[c].n; p++)
			for (int q = p; q > 0 && !(x[q - 1] <= x[q]) && isfinite(x[q]); q--) {
				double t = x[q];

				x[q] = x[q - 1];
				x[q - 1] = t;
				t = y[q];
				y[q] = y[q - 1];
				y[q - 1] = t;
			}
	}
	snprintf(title, sizeof(title), "RFC 2544 latency at fixed rates: %s of every packet's RTT",
		 !strcmp(key, "max_us") ? "max" : !strcmp(key, "p999_us") ? "p99.9" : key);
	f = fopen(path, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	err = rtv_svg_lines(f, title, &ax, l, k);
	if (fclose(f) && !err)
		err = -EIO;
out:
	free(l);
	free(xy);
	free(names);
	return err;
}
