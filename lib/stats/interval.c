/* Random numbers and send-interval distributions; see interval.h. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "stats/interval.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void rtv_rng_seed(struct rtv_rng *r, uint64_t seed)
{
	int i;

	/* splitmix64 never yields four zero words in a row, so the state is
	 * never the all-zero one xoshiro cannot leave */
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rtv_rng_next(struct rtv_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rtv_rng_unit(struct rtv_rng *r)
{
	return (double)(rtv_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n - 1] without modulo bias; n == 0 means all 2^64 values. */
static uint64_t rng_below(struct rtv_rng *r, uint64_t n)
{
	uint64_t x, threshold;

	if (n == 0)
		return rtv_rng_next(r);
	/* 2^64 mod n: draws below it would make small results likelier */
	threshold = (0 - n) % n;
	do
		x = rtv_rng_next(r);
	while (x < threshold);
	return x % n;
}

const char *const rtv_dist_names[] = {
	[RTV_DIST_UNIFORM] = "uniform",
	[RTV_DIST_EXP] = "exp",
	[RTV_DIST_CONST] = "const",
	NULL,
};
#define NDIST ((int)(sizeof(rtv_dist_names) / sizeof(rtv_dist_names[0])) - 1)

const char *rtv_dist_name(enum rtv_dist d)
{
	if ((int)d < 0 || (int)d >= NDIST)
		return "unknown";
	return rtv_dist_names[d];
}

int rtv_dist_parse(const char *s, enum rtv_dist *d)
{
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < NDIST; i++) {
		if (strcmp(s, rtv_dist_names[i]) == 0) {
			*d = (enum rtv_dist)i;
			return 0;
		}
	}
	return -EINVAL;
}

int rtv_interval_check(const struct rtv_interval *iv)
{
	if ((int)iv->dist < 0 || (int)iv->dist >= NDIST)
		return -EINVAL;
	if (iv->min_ns < 0 || iv->max_ns < iv->min_ns)
		return -EINVAL;
	return 0;
}

int64_t rtv_interval_next(const struct rtv_interval *iv, struct rtv_rng *r)
{
	int64_t span = iv->max_ns - iv->min_ns; /* no overflow once checked */
	double x;

	if (rtv_interval_check(iv))
		return iv->min_ns > 0 ? iv->min_ns : 0;

	switch (iv->dist) {
	case RTV_DIST_UNIFORM:
		return iv->min_ns + (int64_t)rng_below(r, (uint64_t)span + 1);
	case RTV_DIST_EXP:
		if (span == 0)
			return iv->min_ns;
		/* inversion: 1 - u is in (0, 1], so the log is finite */
		x = -log1p(-rtv_rng_unit(r)) * ((double)span / 2) + 0.5;
		/* truncating x + 0.5 rounds to nearest; 0x1p63 is INT64_MAX + 1 */
		if (x >= 0x1p63 || (int64_t)x > INT64_MAX - iv->min_ns)
			return INT64_MAX;
		return iv->min_ns + (int64_t)x;
	case RTV_DIST_CONST:
		break;
	}
	return iv->min_ns + span / 2;
}
