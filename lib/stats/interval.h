/* Send-interval generators for an open-loop client, and the random numbers
 * behind them.
 *
 * All three distributions have the same mean, (min + max) / 2, so a run can
 * switch the shape of its traffic and keep its rate:
 *  - RTV_DIST_UNIFORM: every integer in [min, max], both ends included, with
 *    equal probability (variance ((max - min + 1)^2 - 1) / 12, about
 *    (max - min)^2 / 12);
 *  - RTV_DIST_EXP: min plus an exponential variate with mean (max - min) / 2,
 *    rounded to the nearest ns; never below min, unbounded above (Poisson
 *    arrivals with a floor); constant min when min == max;
 *  - RTV_DIST_CONST: always min + (max - min) / 2, rounded down.
 * Intervals are int64_t ns with 0 <= min <= max.
 */
#ifndef RTV_STATS_INTERVAL_H
#define RTV_STATS_INTERVAL_H

#include <stdint.h>

/* xoshiro256** (Blackman and Vigna): fast, 2^256 - 1 period, not for
 * cryptography. A plain struct; copy it to fork a stream. */
struct rtv_rng {
	uint64_t s[4];
};

/* Seed from one 64-bit value through splitmix64; any seed, 0 included, gives
 * a valid state, and the same seed always gives the same sequence. */
void rtv_rng_seed(struct rtv_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t rtv_rng_next(struct rtv_rng *r);

/* Uniform in [0, 1): the top 53 bits of rtv_rng_next() times 2^-53. */
double rtv_rng_unit(struct rtv_rng *r);

enum rtv_dist { RTV_DIST_UNIFORM, RTV_DIST_EXP, RTV_DIST_CONST };

/* "uniform", "exp" or "const"; "unknown" for any other value. */
const char *rtv_dist_name(enum rtv_dist d);
/* Every name, in enum order, NULL-terminated (the options' choices). */
extern const char *const rtv_dist_names[];

/* The inverse of rtv_dist_name(), matching exactly (case included); 0 or
 * -EINVAL. *d is left alone on error. */
int rtv_dist_parse(const char *s, enum rtv_dist *d);

struct rtv_interval {
	enum rtv_dist dist;
	int64_t min_ns, max_ns;
};

/* 0 if iv is usable (a known dist and 0 <= min_ns <= max_ns), else -EINVAL. */
int rtv_interval_check(const struct rtv_interval *iv);

/* The next interval in ns, drawn as described at the top of this file. For
 * an iv that fails rtv_interval_check() it returns max(min_ns, 0). An
 * exponential draw that would exceed INT64_MAX is clamped to it. */
int64_t rtv_interval_next(const struct rtv_interval *iv, struct rtv_rng *r);

#endif
