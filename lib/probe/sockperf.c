/* sockperf's command lines and the parse of its client's summary (see
 * sockperf.h for what 3.7 writes). */
#include "probe/sockperf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/banned.h"

#define MAX_SECONDS 36000000 /* its -t limit */
#define LINE_MAX_LEN 512

/* The argv being built: every string in buf. */
struct args {
	char **argv;
	int max, n;
	char *buf;
	size_t len, used;
	int err; /* the first error; later put()s do nothing */
};

__attribute__((format(printf, 2, 3)))
static void put(struct args *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->err)
		return;
	if (a->n + 1 >= a->max || a->used >= a->len) { /* room for it and the NULL */
		a->err = -E2BIG;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(a->buf + a->used, a->len - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= a->len - a->used) {
		a->err = -E2BIG;
		return;
	}
	a->argv[a->n++] = a->buf + a->used;
	a->used += (size_t)n + 1;
}

static int finish_args(struct args *a)
{
	if (a->err)
		return a->err;
	a->argv[a->n] = NULL;
	return a->n;
}

static int valid_ipv4(const char *addr)
{
	struct in_addr in;

	return addr && inet_pton(AF_INET, addr, &in) == 1;
}

int rtv_sockperf_server_argv(const char *path, const char *addr, uint16_t port, char *buf,
			     size_t len, char **argv, int max)
{
	struct args a = { argv, max, 0, buf, len, 0, 0 };

	if (!path || !*path || !valid_ipv4(addr) || !port || !buf || !argv)
		return -EINVAL;
	if (max < 1)
		return -E2BIG;
	put(&a, "%s", path);
	put(&a, "server");
	put(&a, "-i");
	put(&a, "%s", addr);
	put(&a, "-p");
	put(&a, "%u", (unsigned)port);
	return finish_args(&a);
}

int rtv_sockperf_client_argv(const struct rtv_sockperf_client_cfg *c, char *buf, size_t len,
			     char **argv, int max)
{
	struct args a = { argv, max, 0, buf, len, 0, 0 };
	double mps;

	if (!c || !c->path || !*c->path || !valid_ipv4(c->addr) || !c->port || !buf || !argv ||
	    !isfinite(c->mps) || c->msg_size < RTV_SOCKPERF_MIN_MSG ||
	    c->msg_size > RTV_SOCKPERF_MAX_MSG || c->seconds < 1 || c->seconds > MAX_SECONDS)
		return -EINVAL;
	mps = round(c->mps);
	if (mps < 1 || mps > RTV_SOCKPERF_MAX_MPS)
		return -EINVAL;
	if (max < 1)
		return -E2BIG;
	put(&a, "%s", c->path);
	put(&a, "under-load");
	put(&a, "-i");
	put(&a, "%s", c->addr);
	put(&a, "-p");
	put(&a, "%u", (unsigned)c->port);
	put(&a, "--mps");
	put(&a, "%.0f", mps);
	put(&a, "-m");
	put(&a, "%zu", c->msg_size);
	put(&a, "-t");
	put(&a, "%d", c->seconds);
	put(&a, "--full-rtt");
	put(&a, "--reply-every");
	put(&a, "1");
	if (c->sender_cpus) {
		put(&a, "--sender-affinity");
		put(&a, "%s", c->sender_cpus);
	}
	if (c->receiver_cpus) {
		put(&a, "--receiver-affinity");
		put(&a, "%s", c->receiver_cpus);
	}
	return finish_args(&a);
}

/* ---- the summary ---- */

/* One line of text into out (at most len - 1 bytes kept), without ANSI
 * escape sequences (ESC [ ... final byte) and without the "sockperf: "
 * prefix; returns the start of the next line. */
static const char *clean_line(const char *s, char *out, size_t len)
{
	size_t n = 0;

	while (*s && *s != '\n') {
		if (*s == '\033') {
			s++;
			if (*s == '[') {
				s++;
				while (*s && *s != '\n' && !(*s >= 0x40 && *s <= 0x7e))
					s++;
				if (*s && *s != '\n')
					s++;
			}
			continue;
		}
		if (n + 1 < len)
			out[n++] = *s;
		s++;
	}
	out[n] = '\0';
	if (!strncmp(out, "sockperf: ", 10))
		memmove(out, out + 10, n - 10 + 1);
	return *s ? s + 1 : s;
}

/* µs as printed (3 decimals) to whole ns. */
static double us_to_ns(double us)
{
	return round(us * 1000.0);
}

int rtv_sockperf_parse(const char *text, struct rtv_sockperf_result *r)
{
	struct rtv_sockperf_result x;
	char line[LINE_MAX_LEN];
	int have_avg = 0, have_min = 0, servers = 0;
	const char *s;

	if (!text || !r)
		return -EINVAL;
	x = (struct rtv_sockperf_result){
		.avg_ns = NAN, .p50_ns = NAN, .p99_ns = NAN, .p999_ns = NAN,
		.max_ns = NAN, .min_ns = NAN, .stddev_ns = NAN,
		.p25_ns = NAN, .p75_ns = NAN, .p90_ns = NAN, .p9999_ns = NAN, .p99999_ns = NAN,
		.total_run_s = NAN, .valid_run_s = NAN, .achieved_mps = NAN,
		.warmup_ms = -1,
	};
	for (s = text; *s;) {
		double a, b;
		uint64_t u, v, w;
		unsigned ms;
		int k;

		s = clean_line(s, line, sizeof(line));
		if (sscanf(line, "========= Printing statistics for Server No: %d", &k) == 1) {
			if (servers++)
				break; /* only the first server's */
		} else if (sscanf(line, "[Total Run] RunTime=%lf sec; Warm up time=%u msec; "
					"SentMessages=%" SCNu64 "; ReceivedMessages=%" SCNu64,
				  &a, &ms, &u, &v) == 4) {
			x.total_run_s = a;
			x.warmup_ms = (int)ms;
			x.total_sent = u;
			x.total_received = v;
			if (a > 0)
				x.achieved_mps = (double)u / a;
		} else if (sscanf(line, "[Valid Duration] RunTime=%lf sec; SentMessages=%" SCNu64
					"; ReceivedMessages=%" SCNu64,
				  &a, &u, &v) == 3) {
			x.valid_run_s = a;
			x.sent_messages = u;
			x.received_messages = v;
		} else if (sscanf(line, "====> avg-rtt=%lf (std-dev=%lf)", &a, &b) == 2) {
			x.avg_ns = us_to_ns(a);
			x.stddev_ns = us_to_ns(b);
			x.rtt = 1;
			have_avg = 1;
		} else if (sscanf(line, "====> avg-latency=%lf (std-dev=%lf)", &a, &b) == 2) {
			x.avg_ns = us_to_ns(a);
			x.stddev_ns = us_to_ns(b);
			x.rtt = 0;
			have_avg = 1;
		} else if (sscanf(line, "# dropped messages = %" SCNu64 "; # duplicated messages = %"
					SCNu64 "; # out-of-order messages = %" SCNu64,
				  &u, &v, &w) == 3) {
			x.dropped_messages = u;
			x.duplicated_messages = v;
			x.ooo_messages = w;
		} else if (sscanf(line, "Total %" SCNu64 " observations", &u) == 1) {
			x.observations = u;
		} else if (sscanf(line, "---> <MAX> observation = %lf", &a) == 1) {
			x.max_ns = us_to_ns(a);
		} else if (sscanf(line, "---> <MIN> observation = %lf", &a) == 1) {
			x.min_ns = us_to_ns(a);
			have_min = 1;
		} else if (sscanf(line, "---> percentile %lf = %lf", &a, &b) == 2) {
			/* printed "%6.3lf" of 100 * p: compare in thousandths */
			long m = lround(a * 1000.0);
			double ns = us_to_ns(b);

			switch (m) {
			case 25000: x.p25_ns = ns; break;
			case 50000: x.p50_ns = ns; break;
			case 75000: x.p75_ns = ns; break;
			case 90000: x.p90_ns = ns; break;
			case 99000: x.p99_ns = ns; break;
			case 99900: x.p999_ns = ns; break;
			case 99990: x.p9999_ns = ns; break;
			case 99999: x.p99999_ns = ns; break;
			default: break;
			}
		} else if (strstr(line, "requested message-per-second rate is too high")) {
			x.rate_too_high = 1;
		}
	}
	if (!have_avg || !have_min || !x.observations)
		return -EINVAL;
	*r = x;
	return 0;
}
