/* Parsers for the units users type: durations, ranges, CPU lists, integers,
 * rates.
 * Pure functions; they return 0 or -EINVAL/-ERANGE and never print. */
#ifndef RTV_UTIL_PARSE_H
#define RTV_UTIL_PARSE_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

/* "1.5s", "500ms", "100us", "250ns", or a bare number in unit_ns. Rejects
 * empty strings, trailing junk, negative values and overflow. */
int rtv_parse_duration(const char *s, int64_t unit_ns, int64_t *ns);

/* "MIN-MAX" or a single duration (min = max). -EINVAL when min > max. */
int rtv_parse_range(const char *s, int64_t unit_ns, int64_t *min_ns, int64_t *max_ns);

/* "0-2,5" into set; -EINVAL on syntax, -ERANGE when a CPU >= ncpus. */
int rtv_parse_cpulist(const char *s, int ncpus, cpu_set_t *set);

/* Format set as a CPU list ("0-2,5"); returns the length or -ENOSPC. */
int rtv_cpulist_format(const cpu_set_t *set, char *buf, size_t len);

/* Whole decimal number within [min, max]. */
int rtv_parse_ll(const char *s, long long min, long long max, long long *out);

/* Format ns as a short human duration: "1.50ms", "20s", "733us". */
int rtv_duration_format(int64_t ns, char *buf, size_t len);

/* A rate in bits/s: "500M", "1.5G", "800k", "2000000", "0"; a decimal
 * number (a fraction and an exponent allowed, no sign) with an optional
 * decimal SI suffix k, M, G or T in either case. -EINVAL on syntax, -ERANGE
 * when it does not fit a finite double. */
int rtv_parse_rate(const char *s, double *bit_s);

/* Format bits/s with the largest SI suffix that leaves at least 1, as
 * rtv_parse_rate reads it back: "500M", "1.5G", "800k", "0"; six significant
 * digits. Returns the length or -ENOSPC. */
int rtv_rate_format(double bit_s, char *buf, size_t len);

#endif
