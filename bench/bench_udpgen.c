/* The RFC 2544 generator's limit and accuracy on loopback (issue's target:
 * "offered rate within 1% of the requested rate up to the generator's
 * limit, which the bench prints").
 *
 * Against a counting sink: a UDP socket on 127.0.0.1 that a thread drains
 * with blocking recvmmsg() and counts, nothing sent back. A drained sink
 * rather than a socket nobody reads, to keep the sender honest: on
 * loopback the receive path (softirq, the enqueue on the sink's socket)
 * runs on the sender's CPU, in its sendmmsg() call; a socket nobody reads
 * fills at once and then drops each datagram before the enqueue, which is
 * cheaper and would flatter the limit, and nothing would check that what
 * the generator counts as sent arrived. The sink's count is printed beside
 * the generator's. No replies: the generator's receive calls find nothing
 * (they are still made, one per iteration, as in a real trial).
 *
 * (1) The limit: rate 0 (as fast as it can), 64-byte frames' payload (18
 *     bytes over IPv4), batch 32, 3 trials of SECONDS: packets per second
 *     one core sends (median, min-max).
 * (2) Accuracy: 10k, 50k, 100k, 200k, 500k, 1M pps, REPEATS interleaved
 *     rounds of SECONDS each: offered_pps / requested (median, min-max),
 *     with sends late by > 100 us, the worst lag, and the share of the
 *     packets sent that reached the sink (loopback drops silently when its
 *     backlog is full: the generator cannot see that). Rates below 0.9x the
 *     limit are judged: PASS when each one's median is within 1% of the
 *     rate, else FAIL naming the rates that missed.
 * The load average is printed before and after (the machine is shared).
 *
 * usage: bench_udpgen [SECONDS [REPEATS]]   (default 1 s, 5 rounds)
 * Prints "PASS|FAIL bench_udpgen ..." lines; exits with the number missed. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "probe/netrt.h"
#include "probe/udpgen.h"
#include "util/stop.h"
#include "util/time.h"

#define NRATES      6
#define LIMIT_RUNS  3
#define MAX_REPEATS 32
#define SINK_BUF    (4 * 1024 * 1024)
#define JUDGED_FRACTION 0.9
#define TARGET_PCT  1.0

static const double rates[NRATES] = { 1e4, 5e4, 1e5, 2e5, 5e5, 1e6 };

struct sink {
	int fd;
	volatile sig_atomic_t stop;
	uint64_t count; /* relaxed atomic */
	pthread_t th;
};

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	static unsigned char buf[64][64];
	struct mmsghdr m[64];
	struct iovec v[64];
	int n;

	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 64; i++) {
		v[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
		m[i].msg_hdr.msg_iov = &v[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!rtv_stop_read(&s->stop)) {
		n = recvmmsg(s->fd, m, 64, MSG_WAITFORONE, NULL);
		if (n > 0)
			__atomic_store_n(&s->count, s->count + (uint64_t)n, __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t sink_count(struct sink *s)
{
	return __atomic_load_n(&s->count, __ATOMIC_RELAXED);
}

/* Wait (at most 500 ms) for the sink to have count datagrams more than
 * before; returns how many it has. */
static uint64_t sink_wait(struct sink *s, uint64_t before, uint64_t count)
{
	for (int i = 0; i < 500 && sink_count(s) - before < count; i++)
		usleep(1000);
	return sink_count(s) - before;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_REPEATS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void minmax(const double *v, int n, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		*lo = fmin(*lo, v[i]);
		*hi = fmax(*hi, v[i]);
	}
}

static void print_loadavg(const char *when)
{
	char line[128] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (!fgets(line, sizeof(line), f))
			snprintf(line, sizeof(line), "?\n");
		fclose(f);
	}
	printf("load average %s: %s", when, line);
	if (!strchr(line, '\n'))
		printf("\n");
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	int repeats = argc > 2 ? atoi(argv[2]) : 5;
	double ratio[NRATES][MAX_REPEATS], late[NRATES][MAX_REPEATS], lim[LIMIT_RUNS];
	int64_t lagmax[NRATES] = { 0 };
	uint64_t errs[NRATES] = { 0 }, short_sent[NRATES] = { 0 }, sent[NRATES] = { 0 },
		 arrived[NRATES] = { 0 }, got;
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct rtv_udpgen *g;
	struct sockaddr_storage ss;
	struct sink sink = { 0 };
	socklen_t len;
	double limit, lo, hi, med, worst = 0, worst_rate = 0;
	int64_t dur;
	uint64_t before, max_packets;
	int fd, port, err, i, k, rep, judged = 0, missed = 0, sz = SINK_BUF;
	char missed_rates[256] = "";
	uint32_t tag = 1;
	ssize_t payload = rtv_udpgen_payload(64, AF_INET);

	if (seconds <= 0 || seconds > 60 || repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr, "usage: bench_udpgen [SECONDS (0-60] [REPEATS 1-%d]]\n", MAX_REPEATS);
		return 2;
	}
	dur = (int64_t)(seconds * 1e9);
	max_packets = (uint64_t)(seconds * 2e7) + 1; /* 20 Mpps: above any loopback limit */
	print_loadavg("before");

	sink.fd = rtv_udpgen_reflect_open("127.0.0.1", 0);
	if (sink.fd < 0) {
		fprintf(stderr, "cannot open the sink's socket: %s\n", strerror(-sink.fd));
		return 1;
	}
	setsockopt(sink.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	port = rtv_netrt_sock_port(sink.fd);
	if (port <= 0 || rtv_sockaddr_parse("127.0.0.1", (uint16_t)port, &ss, &len) < 0) {
		fprintf(stderr, "cannot read the sink's port\n");
		return 1;
	}
	fd = rtv_sockaddr_udp_connect(&ss, len);
	g = rtv_udpgen_new(max_packets, (size_t)payload);
	if (fd < 0 || !g) {
		fprintf(stderr, "cannot set up the generator: %s\n", strerror(fd < 0 ? -fd : errno));
		return 1;
	}
	if (pthread_create(&sink.th, NULL, sink_main, &sink)) {
		fprintf(stderr, "cannot start the sink thread\n");
		return 1;
	}

	/* (1) the limit */
	printf("generator limit: rate 0, %zd-byte payload (64-byte frames), batch %d, %d x %.1f s against a draining sink\n",
	       payload, RTV_UDPGEN_DEFAULT_BATCH, LIMIT_RUNS, seconds);
	for (i = 0; i < LIMIT_RUNS; i++) {
		c = (struct rtv_udpgen_cfg){ .fd = fd, .rate_pps = 0, .payload = (size_t)payload,
					     .duration_ns = dur, .residual_ns = 0, .tag = tag++ };
		before = sink_count(&sink);
		err = rtv_udpgen_trial(g, &c, NULL, &r);
		if (err < 0) {
			fprintf(stderr, "trial failed: %s\n", strerror(-err));
			return 1;
		}
		got = sink_wait(&sink, before, r.sent);
		lim[i] = r.offered_pps;
		printf("  run %d: %.0f pps sent (%llu packets, %llu send errors), sink received %llu (%.2f%%)\n",
		       i + 1, r.offered_pps, (unsigned long long)r.sent,
		       (unsigned long long)r.send_errors, (unsigned long long)got,
		       r.sent ? 100.0 * (double)got / (double)r.sent : 0.0);
	}
	limit = median(lim, LIMIT_RUNS);
	minmax(lim, LIMIT_RUNS, &lo, &hi);
	printf("limit: %.0f pps (median of %d; min %.0f, max %.0f); judged rates: below %.0f pps\n",
	       limit, LIMIT_RUNS, lo, hi, JUDGED_FRACTION * limit);

	/* (2) accuracy, interleaved */
	for (rep = 0; rep < repeats; rep++) {
		for (k = 0; k < NRATES; k++) {
			uint64_t due = (uint64_t)ceil(rates[k] * seconds);

			c = (struct rtv_udpgen_cfg){ .fd = fd, .rate_pps = rates[k],
						     .payload = (size_t)payload, .duration_ns = dur,
						     .residual_ns = 0, .tag = tag++ };
			before = sink_count(&sink);
			err = rtv_udpgen_trial(g, &c, NULL, &r);
			if (err < 0) {
				fprintf(stderr, "trial at %.0f pps failed: %s\n", rates[k], strerror(-err));
				return 1;
			}
			sent[k] += r.sent;
			arrived[k] += sink_wait(&sink, before, r.sent);
			ratio[k][rep] = r.offered_pps / rates[k];
			late[k][rep] = r.sent ? 100.0 * (double)r.late / (double)r.sent : 0;
			if (r.lag_max_ns > lagmax[k])
				lagmax[k] = r.lag_max_ns;
			errs[k] += r.send_errors;
			if (r.sent + r.send_errors < due || r.sent + r.send_errors > due + 1)
				short_sent[k]++;
		}
	}
	printf("\n%10s %12s %21s %8s %12s %11s %10s %6s\n", "rate pps", "offered/req", "min-max",
	       "late %", "max lag us", "send errs", "at sink %", "judged");
	for (k = 0; k < NRATES; k++) {
		bool judge = rates[k] < JUDGED_FRACTION * limit;
		double dev;

		med = median(ratio[k], repeats);
		minmax(ratio[k], repeats, &lo, &hi);
		printf("%10.0f %12.5f %10.5f-%-10.5f %8.3f %12.1f %11llu %10.3f %6s\n", rates[k], med, lo,
		       hi, median(late[k], repeats), (double)lagmax[k] / 1e3, (unsigned long long)errs[k],
		       sent[k] ? 100.0 * (double)arrived[k] / (double)sent[k] : 0.0, judge ? "yes" : "no");
		if (short_sent[k])
			printf("  (%.0f pps: %llu trials offered another count than rate x duration)\n",
			       rates[k], (unsigned long long)short_sent[k]);
		if (!judge)
			continue;
		judged++;
		dev = 100.0 * fabs(med - 1);
		if (dev > worst) {
			worst = dev;
			worst_rate = rates[k];
		}
		if (dev > TARGET_PCT || short_sent[k]) {
			size_t used = strlen(missed_rates);

			snprintf(missed_rates + used, sizeof(missed_rates) - used, "%s%.0f", used ? "," : "",
				 rates[k]);
			missed++;
		}
	}
	rtv_stop_set(&sink.stop);
	pthread_join(sink.th, NULL);
	close(fd);
	close(sink.fd);
	rtv_udpgen_free(g);
	print_loadavg("after");

	if (!judged) {
		printf("FAIL bench_udpgen offered rate: target within %.0f%% of the requested rate up to the limit: measured no rate below 0.9 x the limit (%.0f pps)\n",
		       TARGET_PCT, limit);
		return 1;
	}
	printf("%s bench_udpgen offered rate: target median offered/requested within %.0f%% for every rate below 0.9 x the limit (%.0f pps), %d x %.1f s: measured worst %.3f%% at %.0f pps%s%s\n",
	       missed ? "FAIL" : "PASS", TARGET_PCT, limit, repeats, seconds, worst, worst_rate,
	       missed ? "; missed at " : "", missed_rates);
	return missed ? 1 : 0;
}
