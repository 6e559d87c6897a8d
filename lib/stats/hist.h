/* A log-linear latency histogram with bounded relative error.
 *
 * Values from RTV_HIST_MIN_NS (100 ns) to RTV_HIST_MAX_NS (100 s) go into
 * buckets: below 256 ns one bucket per nanosecond (exact), above that 128
 * equal sub-buckets per power of two, so a bucket [lo, lo + w) has
 * w <= lo / 128. A percentile is reported as its bucket's midpoint clamped to
 * [min, max], so its relative error is at most 1/256 (0.39%), well within the
 * 1% promised. Values below 100 ns count in underflow, above 100 s in
 * overflow; both still count in count, min, max, mean and sd, which are exact
 * (min/max) or computed by Welford's method in double (mean/sd).
 *
 * struct rtv_hist is plain old data with no pointers and a fixed size
 * (about 30 KiB), whatever the run length, so it can be placed in MAP_SHARED
 * memory. It has no locks: give each writer its own histogram and merge them
 * with rtv_hist_merge(). Another thread (or process) may copy a histogram
 * while its one writer records into it: rtv_hist_record() is a write section
 * of a sequence count (seq odd while it stores), and rtv_hist_load() copies
 * until it has read all fields between the same two even values of seq, so
 * the copy is a state the histogram really was in (count = underflow +
 * overflow + the buckets' sum). Fields are stored and loaded as atomics
 * (release stores, acquire loads: plain moves on x86-64), so neither side
 * takes a lock or makes a system call, and there is no data race.
 */
#ifndef RTV_STATS_HIST_H
#define RTV_STATS_HIST_H

#include <stdint.h>

#define RTV_HIST_MIN_NS   INT64_C(100)          /* lowest value in a bucket */
#define RTV_HIST_MAX_NS   INT64_C(100000000000) /* highest value in a bucket (100 s) */
#define RTV_HIST_SUB_BITS 7                     /* 2^7 = 128 sub-buckets per octave */
#define RTV_HIST_NBUCKETS 3799                  /* rtv_hist_bucket_index(RTV_HIST_MAX_NS) + 1 */

struct rtv_hist {
	uint64_t seq;       /* odd while rtv_hist_record() runs (see above) */
	uint64_t count;     /* all samples, underflow and overflow included */
	int64_t min_ns;     /* INT64_MAX while empty */
	int64_t max_ns;     /* INT64_MIN while empty */
	double mean_ns;     /* running mean (Welford) */
	double m2;          /* sum of squared deviations from the mean, ns^2 */
	uint64_t underflow; /* samples < RTV_HIST_MIN_NS */
	uint64_t overflow;  /* samples > RTV_HIST_MAX_NS */
	uint64_t buckets[RTV_HIST_NBUCKETS];
};

/* Empty h. Needed before first use; a zeroed struct is not an empty one
 * (min/max start at INT64_MAX/INT64_MIN). Not while h is read. */
void rtv_hist_init(struct rtv_hist *h);

/* Index of the bucket holding ns; ns must lie within
 * [RTV_HIST_MIN_NS, RTV_HIST_MAX_NS]. */
static inline int rtv_hist_bucket_index(int64_t ns)
{
	uint64_t v = (uint64_t)ns;
	/* octave of v, but at least 7, so everything below 256 gets width 1 */
	int shift = (63 - __builtin_clzll(v | 0xff)) - RTV_HIST_SUB_BITS;

	/* v >> shift lies in [128, 256) for v >= 256 and equals v below */
	return (int)(((uint64_t)shift << RTV_HIST_SUB_BITS) + (v >> shift)) -
	       (int)RTV_HIST_MIN_NS;
}

/* The stores of a record: atomic, so that rtv_hist_load() may read them
 * meanwhile; release, so that a reader that sees one also sees seq odd. */
static inline void rtv_hist_store_u64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void rtv_hist_store_i64(int64_t *p, int64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void rtv_hist_store_double(double *p, double v)
{
	__atomic_store(p, &v, __ATOMIC_RELEASE);
}

/* Record one sample: no allocation, no system call, no lock; a few ns. One
 * writer at a time (its own reads of h are then plain); readers copy with
 * rtv_hist_load(). */
static inline void rtv_hist_record(struct rtv_hist *h, int64_t ns)
{
	uint64_t seq = h->seq, n = h->count + 1;
	double x = (double)ns;
	double d = x - h->mean_ns;
	double mean = h->mean_ns + d / (double)n;
	uint64_t *b = ns < RTV_HIST_MIN_NS ? &h->underflow :
		      ns > RTV_HIST_MAX_NS ? &h->overflow : &h->buckets[rtv_hist_bucket_index(ns)];

	__atomic_store_n(&h->seq, seq + 1, __ATOMIC_RELAXED);
	rtv_hist_store_u64(&h->count, n);
	rtv_hist_store_double(&h->mean_ns, mean);
	rtv_hist_store_double(&h->m2, h->m2 + d * (x - mean));
	if (ns < h->min_ns)
		rtv_hist_store_i64(&h->min_ns, ns);
	if (ns > h->max_ns)
		rtv_hist_store_i64(&h->max_ns, ns);
	rtv_hist_store_u64(b, *b + 1);
	__atomic_store_n(&h->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Record n samples of the same value ns at once, in O(1) whatever n, as n
 * rtv_hist_record(h, ns) would (counts, min and max the same exactly; mean
 * and m2 by Chan's formula for adding a group of n equal values, so within
 * rounding of the one-by-one result). For histograms built from another
 * tool's bucket counts (cyclictest's). n = 0 does nothing. The same write
 * section as rtv_hist_record(), for the same readers. */
static inline void rtv_hist_record_n(struct rtv_hist *h, int64_t ns, uint64_t n)
{
	if (!n)
		return;

	uint64_t seq = h->seq, c = h->count + n;
	double x = (double)ns;
	double d = x - h->mean_ns;
	double mean = h->mean_ns + d * ((double)n / (double)c);
	double m2 = h->m2 + d * d * ((double)h->count * (double)n / (double)c);
	uint64_t *b = ns < RTV_HIST_MIN_NS ? &h->underflow :
		      ns > RTV_HIST_MAX_NS ? &h->overflow : &h->buckets[rtv_hist_bucket_index(ns)];

	__atomic_store_n(&h->seq, seq + 1, __ATOMIC_RELAXED);
	rtv_hist_store_u64(&h->count, c);
	rtv_hist_store_double(&h->mean_ns, mean);
	rtv_hist_store_double(&h->m2, m2);
	if (ns < h->min_ns)
		rtv_hist_store_i64(&h->min_ns, ns);
	if (ns > h->max_ns)
		rtv_hist_store_i64(&h->max_ns, ns);
	rtv_hist_store_u64(b, *b + n);
	__atomic_store_n(&h->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Attempts rtv_hist_load() makes before it gives up: the first
 * RTV_HIST_LOAD_SPINS at once, then each after a pause of 1 µs, twice as
 * long each time up to 1 ms, so that it waits about 90 ms in all for a
 * writer preempted in the middle of a record. */
#define RTV_HIST_LOAD_TRIES 110
#define RTV_HIST_LOAD_SPINS 10

/* Copy src into dst while src's writer may be recording (see the top): no
 * lock; each attempt reads src once (1-2 µs), and an attempt that overlaps a
 * record is made again after a pause. Returns 0 with dst a consistent copy,
 * or -EAGAIN when all RTV_HIST_LOAD_TRIES attempts overlapped a record (the
 * writer stayed in one, or records without a pause), with dst empty. */
int rtv_hist_load(struct rtv_hist *dst, const struct rtv_hist *src);

/* The smallest and largest value bucket i (0 <= i < RTV_HIST_NBUCKETS) holds,
 * in ns; the last bucket's upper bound is RTV_HIST_MAX_NS. -EINVAL for an i
 * out of range. */
int64_t rtv_hist_bucket_lower(int i);
int64_t rtv_hist_bucket_upper(int i);

/* The pct-th percentile (pct in 0..100, clamped; NaN counts as 0) by nearest
 * rank: the smallest sample v such that at least pct% of the samples are
 * <= v, reported as the midpoint of v's bucket clamped to [min, max], so
 * within 1/256 of v. pct = 0 gives min and pct = 100 max, exactly. A rank
 * that falls among the underflow samples gives min, among the overflow
 * samples max. 0 for an empty histogram. */
int64_t rtv_hist_percentile(const struct rtv_hist *h, double pct);

/* Mean and population standard deviation of all samples, in ns; 0 when
 * empty. */
double rtv_hist_mean_ns(const struct rtv_hist *h);
double rtv_hist_sd_ns(const struct rtv_hist *h);

/* Share of samples > ns, in 0..1; 0 when empty. Exact when ns < min,
 * ns >= max or 100 <= ns < 256; otherwise at bucket resolution: the samples sharing
 * ns's bucket (all within 1/128 of ns) are split by linear interpolation
 * within the bucket, and when 100 ns > ns >= min the underflow samples count
 * as not above, when ns > 100 s the overflow samples as above. */
double rtv_hist_fraction_above(const struct rtv_hist *h, int64_t ns);

/* Add src into dst: counts add, min/max combine, mean and sd combine exactly
 * (Chan et al.'s parallel formula), as if all of src's samples had been
 * recorded into dst. src must not be recording meanwhile (merge a copy
 * from rtv_hist_load()), nor dst be read. */
void rtv_hist_merge(struct rtv_hist *dst, const struct rtv_hist *src);

/* The empirical CDF as points (x_ns[k], y[k]): one point per non-empty
 * bucket, x the bucket's upper value clamped to [min, max] and y the share
 * of samples <= x; the underflow samples form a first point at
 * min(99 ns, max), the overflow samples a last point at max. x increases,
 * y never decreases and the last point has y = 1 exactly. With more
 * non-empty buckets than max_points, max_points of them are chosen evenly
 * by index, always including the last. Returns the number of points written
 * (0 for an empty histogram) or -EINVAL (NULL pointer, max_points < 1). */
int rtv_hist_cdf(const struct rtv_hist *h, double *x_ns, double *y, int max_points);

#endif
