/* Parsers for the units users type; see parse.h. Durations use integer
 * arithmetic only, so "1.5ms" is exactly 1500000 ns on every machine. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse.h"
#include "util/banned.h"

/* Fraction digits that take part in a duration: 9 makes any unit up to 1s
 * exact to the nanosecond; later digits are checked but ignored. */
#define FRAC_DIGITS 9
#define FRAC_SCALE  INT64_C(1000000000) /* 10^FRAC_DIGITS */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const struct {
	const char *suffix;
	int64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 }, /* U+00B5 MICRO SIGN */
	{ "\xce\xbcs", 1000 }, /* U+03BC GREEK SMALL LETTER MU */
	{ "ms", 1000000 },
	{ "s", 1000000000 },
};

/* The unit of suffix [s, s + len), or 0 when it is not one. */
static int64_t unit_of(const char *s, size_t len, int64_t bare_ns)
{
	size_t i;

	if (len == 0)
		return bare_ns;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].suffix) == len && !memcmp(s, units[i].suffix, len))
			return units[i].ns;
	return 0;
}

/* Parse the duration in [s, s + len): digits, an optional fraction and an
 * optional unit. The fraction is rounded to the nearest nanosecond (halves
 * up). */
static int parse_duration_n(const char *s, size_t len, int64_t unit_ns, int64_t *ns)
{
	const char *p = s, *end = s + len;
	int64_t ip = 0, frac = 0, scale = FRAC_SCALE, unit, whole, part, rem;
	int ndigits = 0, nfrac = 0;
	bool overflow = false;

	while (p < end && is_digit(*p)) {
		if (ip > (INT64_MAX - (*p - '0')) / 10)
			overflow = true;
		else
			ip = ip * 10 + (*p - '0');
		p++;
		ndigits++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && is_digit(*p)) {
			if (nfrac < FRAC_DIGITS) {
				frac = frac * 10 + (*p - '0');
				scale /= 10;
				nfrac++;
			}
			p++;
			ndigits++;
		}
	}
	if (ndigits == 0)
		return -EINVAL;
	unit = unit_of(p, (size_t)(end - p), unit_ns);
	if (unit <= 0)
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	/* frac / 10^nfrac of a unit, as frac * scale / FRAC_SCALE: split the
	 * unit so that no product leaves int64_t (both factors < 10^9) */
	frac *= scale;
	if (ip > INT64_MAX / unit)
		return -ERANGE;
	whole = ip * unit;
	if (frac && unit / FRAC_SCALE > (INT64_MAX - whole) / frac)
		return -ERANGE;
	part = unit / FRAC_SCALE * frac;
	rem = (unit % FRAC_SCALE * frac + FRAC_SCALE / 2) / FRAC_SCALE;
	if (whole > INT64_MAX - part || whole + part > INT64_MAX - rem)
		return -ERANGE;
	*ns = whole + part + rem;
	return 0;
}

int rtv_parse_duration(const char *s, int64_t unit_ns, int64_t *ns)
{
	if (!s)
		return -EINVAL;
	return parse_duration_n(s, strlen(s), unit_ns, ns);
}

int rtv_parse_range(const char *s, int64_t unit_ns, int64_t *min_ns, int64_t *max_ns)
{
	const char *dash;
	int64_t lo, hi;
	int err;

	if (!s)
		return -EINVAL;
	/* durations carry no sign, so the first '-' separates the ends */
	dash = strchr(s, '-');
	if (!dash) {
		err = parse_duration_n(s, strlen(s), unit_ns, &lo);
		if (err)
			return err;
		hi = lo;
	} else {
		err = parse_duration_n(s, (size_t)(dash - s), unit_ns, &lo);
		if (err)
			return err;
		err = parse_duration_n(dash + 1, strlen(dash + 1), unit_ns, &hi);
		if (err)
			return err;
		if (lo > hi)
			return -EINVAL;
	}
	*min_ns = lo;
	*max_ns = hi;
	return 0;
}

/* A CPU number at *p, advancing *p past it. */
static int parse_cpu(const char **p, long *cpu)
{
	long v = 0;

	if (!is_digit(**p))
		return -EINVAL;
	while (is_digit(**p)) {
		if (v > (LONG_MAX - (**p - '0')) / 10)
			v = LONG_MAX; /* saturate: out of range below */
		else
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	*cpu = v;
	return 0;
}

int rtv_parse_cpulist(const char *s, int ncpus, cpu_set_t *set)
{
	cpu_set_t tmp;
	const char *p = s;
	long lo, hi, limit, cpu;
	int err;

	if (!s || !*s)
		return -EINVAL;
	limit = ncpus < CPU_SETSIZE ? ncpus : CPU_SETSIZE;
	CPU_ZERO(&tmp);
	for (;;) {
		err = parse_cpu(&p, &lo);
		if (err)
			return err;
		hi = lo;
		if (*p == '-') {
			p++;
			err = parse_cpu(&p, &hi);
			if (err)
				return err;
		}
		if (*p != ',' && *p != '\0')
			return -EINVAL;
		if (lo > hi)
			return -EINVAL;
		if (hi >= limit)
			return -ERANGE;
		for (cpu = lo; cpu <= hi; cpu++)
			CPU_SET((size_t)cpu, &tmp);
		if (*p == '\0')
			break;
		p++;
	}
	*set = tmp;
	return 0;
}

int rtv_cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;
	int cpu, last, n;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, set))
			continue;
		for (last = cpu; last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set); last++)
			;
		if (last == cpu)
			n = snprintf(buf + off, len - off, "%s%d", off ? "," : "", cpu);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", cpu, last);
		if (n < 0 || (size_t)n >= len - off) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		off += (size_t)n;
		cpu = last;
	}
	return (int)off;
}

int rtv_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	/* strtoll would skip leading blanks; a number starts with a sign or a digit */
	if (!s || !(is_digit(*s) || ((*s == '-' || *s == '+') && is_digit(s[1]))))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int rtv_duration_format(int64_t ns, char *buf, size_t len)
{
	static const char *const names[] = { "ns", "us", "ms", "s" };
	static const uint64_t scales[] = { 1, 1000, 1000000, 1000000000 };
	static const uint64_t pow10[] = { 1, 10, 100 };
	/* the magnitude, computed without negating INT64_MIN */
	uint64_t mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	const char *sign = ns < 0 ? "-" : "";
	uint64_t unit, scaled;
	int u = 0, decimals, n;

	if (!len)
		return -ENOSPC;
	while (u < 3 && mag >= scales[u + 1])
		u++;
	for (;;) {
		unit = scales[u];
		if (mag % unit == 0) {
			/* exact in this unit: no decimals, "20s" */
			n = snprintf(buf, len, "%s%llu%s", sign,
				     (unsigned long long)(mag / unit), names[u]);
			goto out;
		}
		/* three significant digits, rounded half up; mag < 1000 * unit
		 * below seconds, so mag * 100 cannot overflow there */
		decimals = mag / unit < 10 ? 2 : mag / unit < 100 ? 1 : 0;
		for (;;) {
			scaled = (mag * pow10[decimals] + unit / 2) / unit;
			if (decimals == 0 || scaled < 1000)
				break;
			decimals--; /* rounding carried: 9.996 -> 10.0 */
		}
		if (scaled >= 1000 && u < 3) {
			u++; /* 999.7us -> 1.00ms */
			continue;
		}
		break;
	}
	if (decimals == 0)
		n = snprintf(buf, len, "%s%llu%s", sign, (unsigned long long)scaled, names[u]);
	else
		n = snprintf(buf, len, "%s%llu.%0*llu%s", sign,
			     (unsigned long long)(scaled / pow10[decimals]), decimals,
			     (unsigned long long)(scaled % pow10[decimals]), names[u]);
out:
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}

static const struct {
	char suffix;
	double mult;
} si[] = { { 'k', 1e3 }, { 'm', 1e6 }, { 'g', 1e9 }, { 't', 1e12 } };

int rtv_parse_rate(const char *s, double *bit_s)
{
	double v, mult = 1;
	char *end;
	size_t i;

	/* strtod also takes blanks, signs, "inf", "nan" and hex: a rate is none */
	if (!s || !(is_digit(s[0]) || (s[0] == '.' && is_digit(s[1]))) ||
	    (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (*end) {
		for (i = 0; i < sizeof(si) / sizeof(si[0]); i++)
			if (*end == si[i].suffix || *end == si[i].suffix - 'a' + 'A')
				break;
		if (i == sizeof(si) / sizeof(si[0]) || end[1])
			return -EINVAL;
		mult = si[i].mult;
	}
	if (errno == ERANGE || !isfinite(v * mult))
		return -ERANGE;
	*bit_s = v * mult;
	return 0;
}

int rtv_rate_format(double bit_s, char *buf, size_t len)
{
	static const char *const names[] = { "", "k", "M", "G", "T" };
	double v = bit_s;
	int u = 0, n;

	if (!len)
		return -ENOSPC;
	while (u < 4 && fabs(v) >= 1000) {
		v /= 1000;
		u++;
	}
	n = snprintf(buf, len, "%g%s", v, names[u]);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return n;
}
