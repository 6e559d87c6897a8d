/* The open-loop clients' own cost per request (issue 14's target: under
 * 1 µs for a request encoded, its reply parsed and matched, its sample taken
 * and recorded).
 *
 * Each client runs as it does against a server, but with the stand-in of
 * rtv_ol_cfg.respond: every request is answered at once, in this thread,
 * by a responder that writes a reply as the server would (NetRT's echo,
 * memcached 1.6's replies, a UAS's 200 built by rtv_sip_response), with no
 * socket and no system call. Closed loop (interval 0, window 1), no
 * warm-up, N requests. The wall time of the run less the responder's own
 * time (it times itself; one clock read per request of that is left in
 * the client's share, so the figure is high by at most that) divided by N
 * is the client's own cost: the schedule, the ring, encoding, parsing,
 * matching, the clock reads and the two histograms. NetRT's client, the
 * project's reference, is measured in the same run: each other client is
 * also given as a ratio to it; so is one clock read. Rounds interleave
 * the clients and repeat; the verdict is on the median round, with
 * min-max.
 *
 * usage: bench_clients [ROUNDS [REQUESTS]]   (default 7 rounds of 1000000)
 * Prints one "PASS|FAIL bench_clients CLIENT: ..." line per client; exits
 * with the number missed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/memcached.h"
#include "probe/netrt.h"
#include "probe/sip.h"
#include "util/time.h"

#define TARGET_NS  1000.0
#define MAX_ROUNDS 32

enum { C_NETRT, C_MC_TCP, C_MC_META, C_MC_UDP, C_SIP, NCLIENTS };
static const char *const names[NCLIENTS] = { "netrt", "memcached-tcp", "memcached-meta",
					     "memcached-udp", "sip" };

static int64_t responder_ns; /* the responders' own time in the current run */

static char value64[65];

/* NetRT's server: the datagram back. */
static ssize_t echo(void *arg, const unsigned char *req, size_t len, unsigned char *rep, size_t cap)
{
	int64_t t0 = rtv_now_ns();

	(void)arg;
	if (len > cap)
		return -1;
	memcpy(rep, req, len);
	responder_ns += rtv_now_ns() - t0;
	return (ssize_t)len;
}

/* memcached's replies, as 1.6.18 writes them (tests/unit/data/memcached/):
 * a get of a set key (64-byte values) or a set, ASCII or meta (the opaque
 * echoed), over TCP or in the UDP frame (the request's id echoed). */
static ssize_t mc_reply(void *arg, const unsigned char *req, size_t len, unsigned char *rep,
			size_t cap)
{
	int64_t t0 = rtv_now_ns();
	bool udp = arg != NULL;
	size_t off = udp ? RTV_MC_UDP_HDR : 0, n = 0;
	const unsigned char *r = req + off, *o;
	char *p = (char *)rep + off;

	if (cap < 256 || len < off + 3)
		return -1;
	if (udp) {
		memcpy(rep, req, 2); /* the id */
		memcpy(rep + 2, "\0\0\0\1\0\0", 6);
	}
	if (r[0] == 'g') {
		n = (size_t)sprintf(p, "VALUE %.14s 0 64\r\n%s\r\nEND\r\n", (const char *)r + 4, value64);
	} else if (r[0] == 's') {
		memcpy(p, "STORED\r\n", 8);
		n = 8;
	} else { /* meta: echo the opaque */
		o = memchr(r, 'O', len - off);
		const unsigned char *e = o ? memchr(o, '\r', len - off - (size_t)(o - r)) : NULL;

		if (!o || !e)
			return -1;
		if (r[1] == 'g')
			n = (size_t)sprintf(p, "VA 64 %.*s\r\n%s\r\n", (int)(e - o), (const char *)o, value64);
		else
			n = (size_t)sprintf(p, "HD %.*s\r\n", (int)(e - o), (const char *)o);
	}
	responder_ns += rtv_now_ns() - t0;
	return (ssize_t)(n + off);
}

/* A UAS's 200, as rtvnet's UAS writes it. */
static ssize_t sip_reply(void *arg, const unsigned char *req, size_t len, unsigned char *rep,
			 size_t cap)
{
	int64_t t0 = rtv_now_ns();
	struct rtv_sip_msg m;
	ssize_t n;

	(void)arg;
	if (rtv_sip_parse((const char *)req, len, &m) < 0)
		return -1;
	n = rtv_sip_response(&m, 200, "OK", 42, (char *)rep, cap);
	responder_ns += rtv_now_ns() - t0;
	return n;
}

/* One run of client `which`; its own ns per request. */
static int run_one(int which, uint64_t n, double *ns)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_ol_result *res = malloc(sizeof(*res));
	struct rtv_ol_cfg ol = {
		.addr = "127.0.0.1", .port = 1, .nconn = 1, .window = 1, .count = n, .seed = 1,
		.interval = { .dist = RTV_DIST_CONST }, .timeout_ns = RTV_NS_PER_S,
	};
	int64_t t0, t;
	int err = -EINVAL;

	if (!res)
		return -ENOMEM;
	responder_ns = 0;
	t0 = rtv_now_ns();
	if (which == C_NETRT) {
		/* no window: each request is answered before the next */
		struct rtv_netrt_client_cfg c = { .ol = ol };

		c.ol.respond = echo;
		err = rtv_netrt_client_run(&c, &no_stop, res);
	} else if (which == C_SIP) {
		struct rtv_sip_client_cfg c;

		rtv_sip_client_cfg_init(&c);
		c.ol = ol;
		c.ol.respond = sip_reply;
		err = rtv_sip_client_run(&c, &no_stop, res);
	} else {
		struct rtv_mc_client_cfg c;

		rtv_mc_client_cfg_init(&c);
		c.ol = ol;
		c.proto = which == C_MC_META ? RTV_MC_META : RTV_MC_ASCII;
		c.udp = which == C_MC_UDP;
		c.ol.respond = mc_reply;
		c.ol.respond_arg = c.udp ? (void *)1 : NULL;
		err = rtv_mc_client_run(&c, &no_stop, res);
	}
	t = rtv_now_ns() - t0;
	if (!err && (res->received != n || res->errors))
		err = -EIO;
	if (!err)
		*ns = (double)(t - responder_ns) / (double)n;
	else
		fprintf(stderr, "%s: %s (received %llu of %llu, %llu errors, %llu stray)\n",
			names[which], strerror(-err), (unsigned long long)res->received,
			(unsigned long long)n, (unsigned long long)res->errors,
			(unsigned long long)res->stray);
	free(res);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n, double *lo, double *hi)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	*lo = s[0];
	*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* One clock read, the unit of the responders' timing error. */
static double clock_read_ns(void)
{
	int64_t t0 = rtv_now_ns(), sink = 0;

	for (int i = 0; i < 1000000; i++)
		sink += rtv_now_ns();
	return sink ? (double)(rtv_now_ns() - t0) / 1e6 : 0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	double ns[NCLIENTS][MAX_ROUNDS], med[NCLIENTS], lo, hi, clk;
	int missed = 0;

	if (rounds < 1 || rounds > MAX_ROUNDS || n < 1000) {
		fprintf(stderr, "usage: bench_clients [ROUNDS (1-%d) [REQUESTS (>= 1000)]]\n",
			MAX_ROUNDS);
		return 2;
	}
	memset(value64, 'v', 64);
	clk = clock_read_ns();
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < NCLIENTS; c++)
			if (run_one(c, n, &ns[c][r]) < 0) {
				printf("FAIL bench_clients %s: the client failed\n", names[c]);
				return 1;
			}
	printf("the client's own time per request (no I/O: each answered at once by a stand-in "
	       "server), %d interleaved rounds of %llu requests; one clock read: %.0f ns\n", rounds,
	       (unsigned long long)n, clk);
	printf("%-15s %8s %17s %9s\n", "client", "ns/req", "(min-max)", "x netrt");
	for (int c = 0; c < NCLIENTS; c++) {
		med[c] = median(ns[c], rounds, &lo, &hi);
		printf("%-15s %8.0f %8.0f-%-8.0f %9.2f\n", names[c], med[c], lo, hi,
		       med[c] / med[C_NETRT]);
	}
	for (int c = 0; c < NCLIENTS; c++) {
		bool met = med[c] < TARGET_NS;

		printf("%s bench_clients %s: target the client's own time per request (encoded, "
		       "answered, matched, sample taken and recorded) < %.0f ns: measured %.0f ns "
		       "(median of %d rounds; %.2fx netrt's %.0f ns)\n",
		       met ? "PASS" : "FAIL", names[c], TARGET_NS, med[c], rounds,
		       med[c] / med[C_NETRT], med[C_NETRT]);
		missed += !met;
	}
	return missed;
}
