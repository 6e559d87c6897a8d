/* The log-linear latency histogram; the layout is described in hist.h. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "stats/hist.h"

/* RTV_HIST_NBUCKETS must be one past the index of RTV_HIST_MAX_NS, which
 * lies in octave 36 (2^36 <= 1e11 < 2^37), so its shift is 36 - 7 = 29. */
_Static_assert((RTV_HIST_MAX_NS >> 36) == 1, "RTV_HIST_MAX_NS moved octave");
_Static_assert((29 << RTV_HIST_SUB_BITS) + (RTV_HIST_MAX_NS >> 29) - RTV_HIST_MIN_NS + 1 ==
	       RTV_HIST_NBUCKETS, "RTV_HIST_NBUCKETS out of date");

void rtv_hist_init(struct rtv_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = INT64_MAX;
	h->max_ns = INT64_MIN;
}

static uint64_t load_u64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static int64_t load_i64(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static double load_double(const double *p)
{
	double v;

	__atomic_load(p, &v, __ATOMIC_ACQUIRE);
	return v;
}

/* A reader's half of the sequence count (the writer's is rtv_hist_record()):
 * seq even before and unchanged after the fields are read means no record
 * overlapped the copy. The acquire loads of the fields keep the second read
 * of seq after them, and a field stored by a record (a release store after
 * seq went odd) makes that odd seq visible to it. */
int rtv_hist_load(struct rtv_hist *dst, const struct rtv_hist *src)
{
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000 };

	for (int t = 0; t < RTV_HIST_LOAD_TRIES; t++) {
		uint64_t seq = __atomic_load_n(&src->seq, __ATOMIC_ACQUIRE);

		if (!(seq & 1)) {
			dst->seq = 0;
			dst->count = load_u64(&src->count);
			dst->min_ns = load_i64(&src->min_ns);
			dst->max_ns = load_i64(&src->max_ns);
			dst->mean_ns = load_double(&src->mean_ns);
			dst->m2 = load_double(&src->m2);
			dst->underflow = load_u64(&src->underflow);
			dst->overflow = load_u64(&src->overflow);
			for (int i = 0; i < RTV_HIST_NBUCKETS; i++)
				dst->buckets[i] = load_u64(&src->buckets[i]);
			if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) == seq)
				return 0;
		}
		if (t < RTV_HIST_LOAD_SPINS)
			continue;
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 1000000)
			pause.tv_nsec *= 2;
	}
	rtv_hist_init(dst);
	return -EAGAIN;
}

/* Bucket i holds the integers [*lo, *lo + *w - 1]; i must be in range. The
 * inverse of rtv_hist_bucket_index(): below 256 one value per bucket, then
 * j = (shift << 7) + sub with sub in [128, 256) holds [sub << shift,
 * (sub + 1) << shift). */
static void bucket_bounds(int i, int64_t *lo, int64_t *w)
{
	int64_t j = i + RTV_HIST_MIN_NS;
	int shift;

	if (j < 2 << RTV_HIST_SUB_BITS) {
		*lo = j;
		*w = 1;
		return;
	}
	shift = (int)(j >> RTV_HIST_SUB_BITS) - 1;
	*lo = (j - ((int64_t)shift << RTV_HIST_SUB_BITS)) << shift;
	*w = INT64_C(1) << shift;
}

int64_t rtv_hist_bucket_lower(int i)
{
	int64_t lo, w;

	if (i < 0 || i >= RTV_HIST_NBUCKETS)
		return -EINVAL;
	bucket_bounds(i, &lo, &w);
	return lo;
}

int64_t rtv_hist_bucket_upper(int i)
{
	int64_t lo, w;

	if (i < 0 || i >= RTV_HIST_NBUCKETS)
		return -EINVAL;
	bucket_bounds(i, &lo, &w);
	/* the last bucket reaches past 100 s, but larger values are overflow */
	return lo + w - 1 < RTV_HIST_MAX_NS ? lo + w - 1 : RTV_HIST_MAX_NS;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The value that stands for bucket i: its midpoint, rounded down to an
 * integer (exact for width-1 buckets), clamped to the samples' range. */
static int64_t bucket_value(const struct rtv_hist *h, int i)
{
	int64_t lo, w;

	bucket_bounds(i, &lo, &w);
	return clamp64(lo + w / 2, h->min_ns, h->max_ns);
}

int64_t rtv_hist_percentile(const struct rtv_hist *h, double pct)
{
	uint64_t rank, cum;
	double r;
	int i;

	if (h->count == 0)
		return 0;
	if (!(pct > 0))
		return h->min_ns;
	if (pct >= 100)
		return h->max_ns;

	/* nearest rank is ceil(pct / 100 * count); take off a few ulps of the
	 * product's rounding error first, or 99.9% of 1000 samples would come
	 * out as rank 1000 instead of 999 */
	r = pct / 100.0 * (double)h->count;
	r -= r * 4 * DBL_EPSILON;
	rank = r < 1 ? 1 : (uint64_t)ceil(r);
	if (rank > h->count)
		rank = h->count;

	cum = h->underflow;
	if (rank <= cum)
		return h->min_ns;
	for (i = 0; i < RTV_HIST_NBUCKETS; i++) {
		cum += h->buckets[i];
		if (cum >= rank)
			return bucket_value(h, i);
	}
	return h->max_ns; /* the rank lies among the overflow samples */
}

double rtv_hist_mean_ns(const struct rtv_hist *h)
{
	return h->count ? h->mean_ns : 0;
}

double rtv_hist_sd_ns(const struct rtv_hist *h)
{
	if (h->count == 0 || !(h->m2 > 0))
		return 0;
	return sqrt(h->m2 / (double)h->count);
}

double rtv_hist_fraction_above(const struct rtv_hist *h, int64_t ns)
{
	int64_t lo, w, hi;
	double above;
	int i, k;

	if (h->count == 0 || ns >= h->max_ns)
		return 0;
	if (ns < h->min_ns)
		return 1;

	above = (double)h->overflow;
	if (ns > RTV_HIST_MAX_NS) /* all bucket samples are <= ns */
		return above / (double)h->count;

	if (ns < RTV_HIST_MIN_NS) { /* underflow samples count as not above */
		k = 0;
	} else {
		i = rtv_hist_bucket_index(ns);
		bucket_bounds(i, &lo, &w);
		hi = rtv_hist_bucket_upper(i);
		/* the share of [lo, hi] that lies above ns; 0 for width 1 */
		above += (double)h->buckets[i] * (double)(hi - ns) / (double)(hi - lo + 1);
		k = i + 1;
	}
	for (; k < RTV_HIST_NBUCKETS; k++)
		above += (double)h->buckets[k];
	return above / (double)h->count;
}

void rtv_hist_merge(struct rtv_hist *dst, const struct rtv_hist *src)
{
	double na, nb, n, delta;
	int i;

	if (src->count == 0)
		return;

	if (dst->count == 0) {
		dst->mean_ns = src->mean_ns;
		dst->m2 = src->m2;
	} else {
		/* Chan, Golub and LeVeque: exact combination of two partial
		 * means and sums of squared deviations */
		na = (double)dst->count;
		nb = (double)src->count;
		n = na + nb;
		delta = src->mean_ns - dst->mean_ns;
		dst->mean_ns += delta * (nb / n);
		dst->m2 += src->m2 + delta * delta * (na * nb / n);
	}
	dst->count += src->count;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->underflow += src->underflow;
	dst->overflow += src->overflow;
	for (i = 0; i < RTV_HIST_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

/* The CDF is written by visiting the non-empty "buckets" in value order
 * (underflow, the buckets, overflow), numbered k = 0 .. npoints - 1. */
struct cdf_ctx {
	double *x_ns, *y;
	uint64_t total, npoints, max_points, cum;
	int out;
};

static void cdf_visit(struct cdf_ctx *c, uint64_t k, int64_t x, uint64_t cnt)
{
	c->cum += cnt;
	/* with too many points keep those where floor(k * M / N) steps up:
	 * exactly M of them, the last (k = N - 1) always among them */
	if (c->npoints > c->max_points &&
	    (k + 1) * c->max_points / c->npoints == k * c->max_points / c->npoints)
		return;
	c->x_ns[c->out] = (double)x;
	c->y[c->out] = (double)c->cum / (double)c->total; /* exactly 1 at the end */
	c->out++;
}

int rtv_hist_cdf(const struct rtv_hist *h, double *x_ns, double *y, int max_points)
{
	struct cdf_ctx c = { .x_ns = x_ns, .y = y, .total = h ? h->count : 0 };
	uint64_t k = 0;
	int i;

	if (!h || !x_ns || !y || max_points < 1)
		return -EINVAL;
	if (h->count == 0)
		return 0;

	c.npoints = (h->underflow > 0) + (h->overflow > 0);
	for (i = 0; i < RTV_HIST_NBUCKETS; i++)
		c.npoints += h->buckets[i] > 0;
	c.max_points = (uint64_t)max_points;

	if (h->underflow)
		cdf_visit(&c, k++, h->max_ns < RTV_HIST_MIN_NS - 1 ? h->max_ns : RTV_HIST_MIN_NS - 1,
			  h->underflow);
	for (i = 0; i < RTV_HIST_NBUCKETS; i++)
		if (h->buckets[i])
			cdf_visit(&c, k++, clamp64(rtv_hist_bucket_upper(i), h->min_ns, h->max_ns),
				  h->buckets[i]);
	if (h->overflow)
		cdf_visit(&c, k++, h->max_ns, h->overflow);
	return c.out;
}
