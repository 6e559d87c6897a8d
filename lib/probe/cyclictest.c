/* cyclictest's command line and output (see cyclictest.h for the formats). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "probe/cyclictest.h"
#include "report/svg.h"
#include "util/banned.h"

#define NS_PER_US INT64_C(1000)
#define NS_PER_S  INT64_C(1000000000)
/* Latencies above this (11.6 days) are taken as malformed: so that no
 * figure overflows once in ns. */
#define MAX_LATENCY_US INT64_C(1000000000000)

void rtv_cyclic_cfg_init(struct rtv_cyclic_cfg *c)
{
	*c = (struct rtv_cyclic_cfg){
		.prio = 90,
		.interval_ns = 100 * NS_PER_US,
		.duration_ns = 30 * NS_PER_S,
		.hist_max_us = 10000,
	};
}

static int valid_cpulist(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789,-", *s))
			return 0;
	return 1;
}

/* The argv being built: argv[0] is the caller's, argv[1..] live in buf. */
struct args {
	char **argv;
	size_t maxargs, n;
	char *buf;
	size_t buflen, used;
	int err; /* the first error; later put()s do nothing */
};

/* Append one formatted argument. */
__attribute__((format(printf, 2, 3)))
static void put(struct args *a, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (a->err)
		return;
	if (a->n + 1 >= a->maxargs || a->used >= a->buflen) { /* room for it and the NULL */
		a->err = -E2BIG;
		return;
	}
	va_start(ap, fmt);
	len = vsnprintf(a->buf + a->used, a->buflen - a->used, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= a->buflen - a->used) {
		a->err = -E2BIG;
		return;
	}
	a->argv[a->n++] = a->buf + a->used;
	a->used += (size_t)len + 1;
}

int rtv_cyclic_argv(const struct rtv_cyclic_cfg *c, const char *prog, char **argv, size_t maxargs,
		    char *buf, size_t buflen)
{
	struct args a = { argv, maxargs, 1, buf, buflen, 0, 0 };

	if (!c || !prog || !argv || !buf)
		return -EINVAL;
	if (c->prio < 1 || c->prio > 99 || c->interval_ns <= 0 || c->interval_ns % NS_PER_US ||
	    c->duration_ns <= 0 || c->duration_ns % NS_PER_S || c->hist_max_us < 0 ||
	    c->hist_max_us > RTV_CYCLIC_MAX_HIST_US || c->threads < 0 ||
	    c->threads > RTV_CYCLIC_MAX_THREADS || (c->cpus && !valid_cpulist(c->cpus)) ||
	    (c->json_path && !*c->json_path))
		return -EINVAL;
	if (maxargs < 2)
		return -E2BIG;
	argv[0] = (char *)prog;
	put(&a, "-m");
	put(&a, "-q");
	put(&a, "-p%d", c->prio);
	put(&a, "-i%" PRId64, c->interval_ns / NS_PER_US);
	put(&a, "-D%" PRId64, c->duration_ns / NS_PER_S);
	if (c->hist_max_us)
		put(&a, "-h%d", c->hist_max_us);
	if (c->threads > 1)
		put(&a, "-t%d", c->threads);
	/* every thread at the same interval: -h implies it (and warns at -d0),
	 * without -h the default distance is 500 us */
	if (c->threads > 1 && !c->hist_max_us)
		put(&a, "-d0");
	if (c->cpus)
		put(&a, "-a%s", c->cpus);
	if (c->json_path)
		put(&a, "--json=%s", c->json_path);
	if (a.err)
		return a.err;
	argv[a.n] = NULL;
	return (int)a.n;
}

/* ---- the merged histogram ---- */

struct bucket {
	int64_t us;
	uint64_t n;
};

struct buckets {
	struct bucket *b;
	size_t n, cap;
};

static int buckets_add(struct buckets *bs, int64_t us, uint64_t n)
{
	if (!n)
		return 0;
	if (bs->n && bs->b[bs->n - 1].us == us) {
		bs->b[bs->n - 1].n += n;
		return 0;
	}
	if (bs->n == bs->cap) {
		size_t cap = bs->cap ? 2 * bs->cap : 256;
		struct bucket *b = realloc(bs->b, cap * sizeof(*b));

		if (!b)
			return -ENOMEM;
		bs->b = b;
		bs->cap = cap;
	}
	bs->b[bs->n++] = (struct bucket){ us, n };
	return 0;
}

static int bucket_cmp(const void *a, const void *b)
{
	const struct bucket *x = a, *y = b;

	return (x->us > y->us) - (x->us < y->us);
}

/* Nearest rank over all r->samples (overflows beyond the last bucket). */
static int64_t percentile(const struct buckets *bs, uint64_t samples, double pct)
{
	uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)samples), sum = 0;

	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < bs->n; i++) {
		sum += bs->b[i].n;
		if (sum >= rank)
			return bs->b[i].us * NS_PER_US;
	}
	return -1;
}

/* The totals over threads, the percentiles and hist, from r->thread[] and
 * the in-range buckets bs of all threads (any order; sorted and merged
 * here). */
static void finish(struct rtv_cyclic_result *r, struct buckets *bs)
{
	double wsum = 0;
	int any = 0;

	r->samples = r->overflows = 0;
	r->min_ns = r->max_ns = 0;
	for (int i = 0; i < r->nthreads; i++) {
		const struct rtv_cyclic_thread *t = &r->thread[i];

		r->samples += t->cycles;
		r->overflows += t->overflows;
		if (!t->cycles)
			continue;
		if (!any || t->min_us * NS_PER_US < r->min_ns)
			r->min_ns = t->min_us * NS_PER_US;
		if (!any || t->max_us * NS_PER_US > r->max_ns)
			r->max_ns = t->max_us * NS_PER_US;
		wsum += t->avg_us * (double)t->cycles;
		any = 1;
	}
	r->avg_ns = r->samples ? wsum / (double)r->samples * (double)NS_PER_US : 0;
	r->p50_ns = r->p99_ns = r->p999_ns = -1;
	if (!r->has_hist)
		return;
	qsort(bs->b, bs->n, sizeof(*bs->b), bucket_cmp);
	/* merge equal neighbours (one per thread) */
	size_t m = 0;

	for (size_t i = 0; i < bs->n; i++) {
		if (m && bs->b[m - 1].us == bs->b[i].us)
			bs->b[m - 1].n += bs->b[i].n;
		else
			bs->b[m++] = bs->b[i];
	}
	bs->n = m;
	r->p50_ns = percentile(bs, r->samples, 50);
	r->p99_ns = percentile(bs, r->samples, 99);
	r->p999_ns = percentile(bs, r->samples, 99.9);
	for (size_t i = 0; i < bs->n; i++)
		rtv_hist_record_n(&r->hist, bs->b[i].us * NS_PER_US, bs->b[i].n);
	for (int i = 0; i < r->nthreads; i++)
		rtv_hist_record_n(&r->hist, r->thread[i].max_us * NS_PER_US, r->thread[i].overflows);
}

static void result_init(struct rtv_cyclic_result *r, enum rtv_cyclic_source src)
{
	memset(r, 0, offsetof(struct rtv_cyclic_result, hist));
	r->source = src;
	r->p50_ns = r->p99_ns = r->p999_ns = -1;
	rtv_hist_init(&r->hist);
	memset(r->thread, 0, sizeof(r->thread));
	for (int i = 0; i < RTV_CYCLIC_MAX_THREADS; i++)
		r->thread[i].cpu = -1;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

/* ---- JSON ---- */

const char *rtv_cyclic_json_string(const json_t *obj, const char *key)
{
	char colon[64];
	const json_t *v;

	if (!obj || !key)
		return NULL;
	v = json_object_get(obj, key);
	if (!v && snprintf(colon, sizeof(colon), "%s:", key) < (int)sizeof(colon))
		v = json_object_get(obj, colon);
	return json_string_value(v);
}

/* A whole number >= 0 in v, else -1. */
static int64_t whole(const json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	return (int64_t)json_integer_value(v);
}

/* A histogram key: decimal digits only, < RTV_CYCLIC_MAX_HIST_US. */
static int64_t bucket_key(const char *k)
{
	int64_t v = 0;

	if (!*k)
		return -1;
	for (; *k; k++) {
		if (*k < '0' || *k > '9')
			return -1;
		v = v * 10 + (*k - '0');
		if (v >= RTV_CYCLIC_MAX_HIST_US)
			return -1;
	}
	return v;
}

/* Whether a cyclictest command line has -h/-H/--histogram/--histofall (a
 * word of its own; NULL: no). */
static int cmdline_has_hist(const char *cmd)
{
	while (cmd && *cmd) {
		size_t n = strcspn(cmd, " ");

		if ((n >= 2 && (!strncmp(cmd, "-h", 2) || !strncmp(cmd, "-H", 2))) ||
		    (n >= 11 && (!strncmp(cmd, "--histogram", 11) || !strncmp(cmd, "--histofall", 11))))
			return 1;
		cmd += n;
		cmd += strspn(cmd, " ");
	}
	return 0;
}

static int parse_thread(const json_t *t, int i, struct rtv_cyclic_thread *th, struct buckets *bs,
			int *has_hist, char *err, size_t errlen)
{
	static const char *const need[] = { "cycles", "min", "max" };
	int64_t v[3];
	const json_t *avg = json_object_get(t, "avg"), *h = json_object_get(t, "histogram");

	for (int k = 0; k < 3; k++) {
		const json_t *x = json_object_get(t, need[k]);

		if (!x)
			return fail(err, errlen, "cyclictest JSON: thread %d has no \"%s\"", i, need[k]);
		v[k] = whole(x);
		if (v[k] < 0)
			return fail(err, errlen,
				    "cyclictest JSON: thread %d: \"%s\" is not a whole number >= 0", i,
				    need[k]);
		if (k && v[k] > MAX_LATENCY_US)
			return fail(err, errlen, "cyclictest JSON: thread %d: \"%s\" out of range", i,
				    need[k]);
	}
	if (!avg)
		return fail(err, errlen, "cyclictest JSON: thread %d has no \"avg\"", i);
	if (!json_is_number(avg) || !isfinite(json_number_value(avg)) || json_number_value(avg) < 0 ||
	    json_number_value(avg) > (double)MAX_LATENCY_US)
		return fail(err, errlen, "cyclictest JSON: thread %d: \"avg\" is not a number in range", i);
	th->cycles = (uint64_t)v[0];
	th->min_us = v[1];
	th->max_us = v[2];
	th->avg_us = json_number_value(avg);
	th->cpu = whole(json_object_get(t, "cpu")) >= 0 ? (int)whole(json_object_get(t, "cpu")) : -1;
	if (*has_hist < 0)
		*has_hist = h != NULL;
	else if (*has_hist != (h != NULL))
		return fail(err, errlen, "cyclictest JSON: thread %d %s \"histogram\" and thread 0 %s",
			    i, h ? "has a" : "has no", h ? "has none" : "has one");
	if (!h)
		return 0;
	if (!json_is_object(h))
		return fail(err, errlen, "cyclictest JSON: thread %d: \"histogram\" is not an object", i);

	const char *key;
	const json_t *n;
	uint64_t sum = 0;

	json_object_foreach((json_t *)h, key, n) {
		int64_t us = bucket_key(key), c = whole(n);

		if (us < 0)
			return fail(err, errlen,
				    "cyclictest JSON: thread %d: histogram key '%s' is not a latency in us",
				    i, key);
		if (c < 0)
			return fail(err, errlen,
				    "cyclictest JSON: thread %d: histogram bucket '%s' is not a whole count",
				    i, key);
		if (buckets_add(bs, us, (uint64_t)c))
			return -ENOMEM;
		sum += (uint64_t)c;
	}
	if (sum > th->cycles)
		return fail(err, errlen,
			    "cyclictest JSON: thread %d: histogram holds %" PRIu64
			    " samples, more than its %" PRIu64 " cycles",
			    i, sum, th->cycles);
	th->overflows = th->cycles - sum;
	return 0;
}

int rtv_cyclic_parse_json(const char *text, size_t len, struct rtv_cyclic_result *r, json_t **obj,
			  char *err, size_t errlen)
{
	struct buckets bs = { 0 };
	json_error_t jerr;
	json_t *root, *threads;
	const char *ver;
	int64_t n;
	int has_hist = -1, ret = 0;

	if (obj)
		*obj = NULL;
	if (!text || !r)
		return -EINVAL;
	result_init(r, RTV_CYCLIC_SRC_JSON);
	root = json_loadb(text, len, 0, &jerr);
	if (!root)
		return fail(err, errlen, "malformed cyclictest JSON: %s at line %d column %d", jerr.text,
			    jerr.line, jerr.column);
	if (!json_is_object(root)) {
		ret = fail(err, errlen, "cyclictest JSON: the top level is not an object");
		goto out;
	}
	if (!json_object_get(root, "num_threads")) {
		ret = fail(err, errlen, "cyclictest JSON: no \"num_threads\"");
		goto out;
	}
	n = whole(json_object_get(root, "num_threads"));
	if (n < 1 || n > RTV_CYCLIC_MAX_THREADS) {
		ret = fail(err, errlen, "cyclictest JSON: \"num_threads\" is not a number 1..%d",
			   RTV_CYCLIC_MAX_THREADS);
		goto out;
	}
	threads = json_object_get(root, "thread");
	if (!json_is_object(threads)) {
		ret = fail(err, errlen, "cyclictest JSON: %s",
			   threads ? "\"thread\" is not an object" : "no \"thread\"");
		goto out;
	}
	if (json_object_size(threads) != (size_t)n) {
		ret = fail(err, errlen, "cyclictest JSON: \"thread\" has %zu entries, num_threads %" PRId64,
			   json_object_size(threads), n);
		goto out;
	}
	r->nthreads = (int)n;
	for (int i = 0; i < r->nthreads; i++) {
		char key[16];
		const json_t *t;

		snprintf(key, sizeof(key), "%d", i);
		t = json_object_get(threads, key);
		if (!json_is_object(t)) {
			ret = fail(err, errlen, "cyclictest JSON: %s \"thread\" \"%s\"",
				   t ? "not an object:" : "no", key);
			goto out;
		}
		ret = parse_thread(t, i, &r->thread[i], &bs, &has_hist, err, errlen);
		if (ret)
			goto out;
	}
	/* 2.4 writes "histogram": {} for every thread without -h, so an empty
	 * histogram is a histogram only when the command line asked for one
	 * (then every sample overflowed) */
	r->has_hist = has_hist == 1 && (bs.n || cmdline_has_hist(rtv_cyclic_json_string(root, "cmdline")));
	for (int i = 0; i < r->nthreads && !r->has_hist; i++)
		r->thread[i].overflows = 0;
	if (json_object_get(root, "return_code"))
		r->return_code = (int)json_integer_value(json_object_get(root, "return_code"));
	ver = rtv_cyclic_json_string(root, "rt_test_version");
	if (ver)
		snprintf(r->version, sizeof(r->version), "%s", ver);
	finish(r, &bs);
out:
	free(bs.b);
	if (!ret && obj)
		*obj = root;
	else
		json_decref(root);
	return ret;
}

/* ---- text ---- */

/* Up to max unsigned decimal numbers from s (separated by blanks) into v;
 * the count read, or -1 on anything else. */
static int numbers(const char *s, uint64_t *v, int max)
{
	int n = 0;

	for (;;) {
		char *end;

		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '\n')
			return n;
		if (*s < '0' || *s > '9' || n == max)
			return -1;
		errno = 0;
		v[n++] = strtoull(s, &end, 10);
		if (errno)
			return -1;
		s = end;
	}
}

/* "prefix" at the start of line: the rest, else NULL. */
static const char *after(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(line, prefix, n) ? NULL : line + n;
}

/* One footer line of per-thread numbers (at least nthreads: -H adds one). */
static int footer(const char *rest, const char *what, int lineno, uint64_t *v, int *count,
		  char *err, size_t errlen)
{
	int n = numbers(rest, v, RTV_CYCLIC_MAX_THREADS + 1);

	if (n < 1)
		return fail(err, errlen, "cyclictest output line %d: '%s' holds no numbers", lineno,
			    what);
	for (int i = 0; i < n; i++)
		if (v[i] > (uint64_t)MAX_LATENCY_US)
			return fail(err, errlen, "cyclictest output line %d: '%s' out of range",
				    lineno, what);
	*count = n;
	return 0;
}

enum { F_TOTAL, F_MIN, F_AVG, F_MAX, F_OVF, F_N };

int rtv_cyclic_parse_text(const char *text, struct rtv_cyclic_result *r, char *err, size_t errlen)
{
	static const char *const fname[F_N] = { "# Total:", "# Min Latencies:", "# Avg Latencies:",
						"# Max Latencies:", "# Histogram Overflows:" };
	uint64_t fv[F_N][RTV_CYCLIC_MAX_THREADS + 1], colsum[RTV_CYCLIC_MAX_THREADS + 1] = { 0 };
	int fcount[F_N] = { 0 }, ncols = -1, nthreadlines = 0, nsummary = 0, in_hist = 0;
	int64_t last_row = -1;
	struct buckets bs = { 0 };
	int lineno = 0, ret = 0;

	if (!text || !r)
		return -EINVAL;
	result_init(r, RTV_CYCLIC_SRC_HIST);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n'), *rest;
		size_t llen = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];

		lineno++;
		if (llen >= sizeof(line)) {
			/* only "# Thread i:" lines grow long (20 cycle numbers) */
			llen = sizeof(line) - 1;
		}
		memcpy(line, p, llen);
		line[llen] = '\0';
		p += nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (line[0] >= '0' && line[0] <= '9') {
			uint64_t v[RTV_CYCLIC_MAX_THREADS + 2];
			int n = numbers(line, v, RTV_CYCLIC_MAX_THREADS + 2);

			if (!in_hist || n < 2) {
				ret = fail(err, errlen, "cyclictest output line %d: %s", lineno,
					   in_hist ? "not a histogram row" : "a row before '# Histogram'");
				goto out;
			}
			if (ncols < 0)
				ncols = n - 1;
			if (n - 1 != ncols || (int64_t)v[0] <= last_row ||
			    v[0] >= RTV_CYCLIC_MAX_HIST_US) {
				ret = fail(err, errlen,
					   "cyclictest output line %d: histogram row %s", lineno,
					   n - 1 != ncols ? "with another number of columns" :
					   "out of order");
				goto out;
			}
			last_row = (int64_t)v[0];
			for (int c = 0; c < ncols; c++)
				colsum[c] += v[c + 1];
			continue;
		}
		if (!strcmp(line, "# Histogram")) {
			in_hist = 1;
			continue;
		}
		int f;

		for (f = 0; f < F_N; f++)
			if ((rest = after(line, fname[f])))
				break;
		if (f < F_N) {
			ret = footer(rest, fname[f], lineno, fv[f], &fcount[f], err, errlen);
			if (ret)
				goto out;
			continue;
		}
		if ((rest = after(line, "# Thread "))) {
			if (atoi(rest) != nthreadlines) {
				ret = fail(err, errlen, "cyclictest output line %d: thread %d expected",
					   lineno, nthreadlines);
				goto out;
			}
			nthreadlines++;
			continue;
		}
		if (after(line, "T:")) {
			struct rtv_cyclic_thread *t;
			long long tn, pid, prio, ival, act;
			unsigned long long cyc;
			long long mn, avg, mx;

			if (sscanf(line, "T:%lld (%lld) P:%lld I:%lld C:%llu Min:%lld Act:%lld Avg:%lld Max:%lld",
				   &tn, &pid, &prio, &ival, &cyc, &mn, &act, &avg, &mx) != 9 ||
			    tn != nsummary || nsummary >= RTV_CYCLIC_MAX_THREADS || mn < 0 || avg < 0 ||
			    mx < 0 || mn > MAX_LATENCY_US || avg > MAX_LATENCY_US ||
			    mx > MAX_LATENCY_US) {
				ret = fail(err, errlen, "cyclictest output line %d: malformed 'T:' line",
					   lineno);
				goto out;
			}
			t = &r->thread[nsummary++];
			t->cycles = cyc;
			t->min_us = mn;
			t->avg_us = (double)avg;
			t->max_us = mx;
			continue;
		}
		rest = line + strspn(line, " \t\r");
		if (line[0] == '#' || !*rest)
			continue;
		ret = fail(err, errlen, "cyclictest output line %d: unexpected '%.40s'", lineno, line);
		goto out;
	}

	if (!in_hist) {
		if (!nsummary) {
			ret = fail(err, errlen, "cyclictest output: no '# Histogram' and no 'T:' line");
			goto out;
		}
		r->source = RTV_CYCLIC_SRC_SUMMARY;
		r->nthreads = nsummary;
		finish(r, &bs);
		goto out;
	}
	for (int f = F_MIN; f < F_N; f++)
		if (!fcount[f]) {
			ret = fail(err, errlen, "cyclictest output: no '%s' line (truncated?)", fname[f]);
			goto out;
		}
	if (!nthreadlines || nthreadlines > RTV_CYCLIC_MAX_THREADS) {
		ret = fail(err, errlen, "cyclictest output: %s",
			   nthreadlines ? "more threads than handled" :
					  "no '# Thread 0:' line (truncated?)");
		goto out;
	}
	r->nthreads = nthreadlines;
	/* each footer has a number per thread (-H: one more, the summary) */
	for (int f = 0; f < F_N; f++)
		if (fcount[f] && fcount[f] != r->nthreads &&
		    !(r->nthreads > 1 && fcount[f] == r->nthreads + 1)) {
			ret = fail(err, errlen, "cyclictest output: '%s' has %d numbers for %d threads",
				   fname[f], fcount[f], r->nthreads);
			goto out;
		}
	if (ncols >= 0 && ncols != r->nthreads && !(r->nthreads > 1 && ncols == r->nthreads + 1)) {
		ret = fail(err, errlen, "cyclictest output: histogram rows have %d counts for %d threads",
			   ncols, r->nthreads);
		goto out;
	}
	r->has_hist = 1;
	for (int i = 0; i < r->nthreads; i++) {
		struct rtv_cyclic_thread *t = &r->thread[i];
		uint64_t in = ncols >= 0 ? colsum[i] : 0;

		if (fcount[F_TOTAL] && fv[F_TOTAL][i] != in) {
			ret = fail(err, errlen,
				   "cyclictest output: thread %d's rows sum to %" PRIu64
				   ", its '# Total:' says %" PRIu64 " (rows missing?)",
				   i, in, fv[F_TOTAL][i]);
			goto out;
		}
		t->min_us = (int64_t)fv[F_MIN][i];
		t->avg_us = (double)fv[F_AVG][i];
		t->max_us = (int64_t)fv[F_MAX][i];
		t->overflows = fv[F_OVF][i];
		t->cycles = in + t->overflows;
	}
	/* the rows again, merged over threads: walk them a second time */
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		uint64_t v[RTV_CYCLIC_MAX_THREADS + 2], sum = 0;

		if (*p >= '0' && *p <= '9') {
			char line[1024];
			size_t llen = nl ? (size_t)(nl - p) : strlen(p);

			if (llen >= sizeof(line))
				llen = sizeof(line) - 1;
			memcpy(line, p, llen);
			line[llen] = '\0';
			numbers(line, v, RTV_CYCLIC_MAX_THREADS + 2);
			for (int c = 0; c < r->nthreads; c++)
				sum += v[c + 1];
			if (buckets_add(&bs, (int64_t)v[0], sum)) {
				ret = -ENOMEM;
				goto out;
			}
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	finish(r, &bs);
out:
	free(bs.b);
	return ret;
}

/* ---- cross-check ---- */

__attribute__((format(printf, 4, 5)))
static void note(char *msg, size_t len, int *n, const char *fmt, ...)
{
	size_t used = msg && len ? strlen(msg) : 0;
	va_list ap;

	if (msg && len && used + 2 < len) {
		if ((*n)++)
			used += (size_t)snprintf(msg + used, len - used, "; ");
		if (used < len) {
			va_start(ap, fmt);
			vsnprintf(msg + used, len - used, fmt, ap);
			va_end(ap);
		}
	} else {
		(*n)++;
	}
}

int rtv_cyclic_crosscheck(const struct rtv_cyclic_result *j, const struct rtv_cyclic_result *t,
			  char *msg, size_t len)
{
	int n = 0;

	if (!j || !t || j->source != RTV_CYCLIC_SRC_JSON)
		return -EINVAL;
	if (msg && len)
		msg[0] = '\0';
	if (j->nthreads != t->nthreads) {
		note(msg, len, &n, "%d threads in JSON, %d in text", j->nthreads, t->nthreads);
		return -EPROTO;
	}
	for (int i = 0; i < j->nthreads; i++) {
		const struct rtv_cyclic_thread *a = &j->thread[i], *b = &t->thread[i];

		if (a->min_us != b->min_us)
			note(msg, len, &n, "thread %d: min %" PRId64 " in JSON, %" PRId64 " in text", i,
			     a->min_us, b->min_us);
		if (a->max_us != b->max_us)
			note(msg, len, &n, "thread %d: max %" PRId64 " in JSON, %" PRId64 " in text", i,
			     a->max_us, b->max_us);
		if (a->cycles != b->cycles)
			note(msg, len, &n,
			     "thread %d: cycles %" PRIu64 " in JSON, %" PRIu64 " in text", i, a->cycles,
			     b->cycles);
		if (j->has_hist && t->has_hist && a->overflows != b->overflows)
			note(msg, len, &n,
			     "thread %d: overflows %" PRIu64 " in JSON, %" PRIu64 " in text", i,
			     a->overflows, b->overflows);
		/* J is the mean rounded to 0.01, T the mean truncated: some mean
		 * within 0.005 of J must truncate to T (1e-9 for J's binary form) */
		if (!(b->avg_us <= a->avg_us + 0.005 + 1e-9 && a->avg_us - 0.005 - 1e-9 < b->avg_us + 1))
			note(msg, len, &n, "thread %d: avg %.2f in JSON, %.0f in text", i, a->avg_us,
			     b->avg_us);
	}
	return n ? -EPROTO : 0;
}

int rtv_cyclic_cdf_svg(FILE *f, const char *title, const char *const *names,
		       const struct rtv_cyclic_result *const *r, int n)
{
	static const struct rtv_svg_axis us = { "latency (us)", 1000 };
	const struct rtv_hist **h;
	int err;

	if (n < 0 || (n > 0 && !r))
		return -EINVAL;
	h = calloc(n > 0 ? (size_t)n : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		h[i] = r[i] ? &r[i]->hist : NULL;
	err = rtv_svg_hist_cdf(f, title, &us, names, h, n, 0, NULL);
	free(h);
	return err;
}
