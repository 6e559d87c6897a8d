/* Time is int64_t nanoseconds from CLOCK_MONOTONIC; helpers are inline
 * functions, never macros, and never narrow tv_sec. */
#ifndef RTV_UTIL_TIME_H
#define RTV_UTIL_TIME_H

#include <stdint.h>
#include <time.h>

#define RTV_NS_PER_US INT64_C(1000)
#define RTV_NS_PER_MS INT64_C(1000000)
#define RTV_NS_PER_S  INT64_C(1000000000)

static inline int64_t rtv_ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * RTV_NS_PER_S + ts->tv_nsec;
}

static inline struct timespec rtv_ns_to_ts(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / RTV_NS_PER_S, .tv_nsec = ns % RTV_NS_PER_S };

	return ts;
}

/* t + d, saturating at INT64_MAX (and at INT64_MIN for a negative d) instead
 * of overflowing: "now + a huge timeout" is then a deadline that never comes,
 * not one in the past. Durations parse up to INT64_MAX ns, so every deadline
 * computed from an option goes through this. */
static inline int64_t rtv_ns_add_sat(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

static inline int64_t rtv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return rtv_ts_to_ns(&ts);
}

static inline int64_t rtv_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return rtv_ts_to_ns(&ts);
}

/* Sleep until an absolute CLOCK_MONOTONIC time; returns 0 or an error number. */
static inline int rtv_sleep_until_ns(int64_t ns)
{
	struct timespec ts = rtv_ns_to_ts(ns);
	int err;

	do
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	while (err == 4 /* EINTR */);
	return err;
}

#endif
