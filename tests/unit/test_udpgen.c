/* Unit tests for lib/probe/udpgen: frame arithmetic; the generator over
 * loopback against the library's reflector and against fake reflectors in
 * a thread that drop, duplicate, swap or add foreign datagrams, each
 * counting what it did so that the generator's counts are checked exactly;
 * the zero-loss search against a fake trial with a known threshold.
 * No timing asserts: counts only (sends are counted, not timed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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
#include "stats/hist.h"
#include "util/stop.h"
#include "util/time.h"

#define LOOPBACK "127.0.0.1"
#define BIG_BUF  (4 * 1024 * 1024) /* so that neither side drops on a busy machine */

/* ---- reflectors in a thread ---- */

enum refl_mode {
	R_LIB,     /* rtv_udpgen_reflect */
	R_DROP10,  /* every 10th received is not sent back */
	R_DUPSWAP, /* pairs sent back swapped; every 5th pair's second one twice */
	R_STRAY,   /* before each reply: one with another tag, one too short, one too long */
	R_BURST,   /* each datagram back BURST times at once */
	/* the fakes but R_DROP10 send nothing back for the first datagram */
};
#define BURST 50

struct refl {
	enum refl_mode mode;
	int fd, port;
	volatile sig_atomic_t stop;
	pthread_t th;
	struct rtv_udpgen_refl_stats st;
	int err;
	/* what a fake one did */
	uint64_t got, dropped, swaps, dups, strays, back;
};

static void bigbuf(int fd)
{
	int sz = BIG_BUF;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static void reply(struct refl *s, const void *buf, size_t len, const struct sockaddr_storage *to,
		  socklen_t tolen)
{
	if (sendto(s->fd, buf, len, 0, (const struct sockaddr *)to, tolen) == (ssize_t)len)
		s->back++;
}

static void *refl_main(void *arg)
{
	struct refl *s = arg;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	struct sockaddr_storage from, hfrom;
	socklen_t fromlen, hlen = 0;
	unsigned char buf[2048], held[2048], odd[2048];
	size_t heldn = 0;
	ssize_t n;

	if (s->mode == R_LIB) {
		s->err = rtv_udpgen_reflect(s->fd, &s->stop, &s->st);
		return NULL;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!rtv_stop_read(&s->stop)) {
		fromlen = sizeof(from);
		n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (heldn) { /* a pair's first one left alone: back as it is */
				reply(s, held, heldn, &hfrom, hlen);
				heldn = 0;
			}
			continue;
		}
		s->got++;
		if (s->mode != R_DROP10 && s->got == 1) {
			/* one lost: the trial waits its whole residual, so
			 * everything the fake sent has come when it ends */
			s->dropped++;
			continue;
		}
		switch (s->mode) {
		case R_DROP10:
			if (s->got % 10 == 0) {
				s->dropped++;
				break;
			}
			reply(s, buf, (size_t)n, &from, fromlen);
			break;
		case R_DUPSWAP:
			if (!heldn) {
				memcpy(held, buf, (size_t)n);
				heldn = (size_t)n;
				hfrom = from;
				hlen = fromlen;
				break;
			}
			reply(s, buf, (size_t)n, &from, fromlen);
			if (s->swaps % 5 == 4) {
				reply(s, buf, (size_t)n, &from, fromlen);
				s->dups++;
			}
			reply(s, held, heldn, &hfrom, hlen);
			heldn = 0;
			s->swaps++;
			break;
		case R_STRAY:
			memcpy(odd, buf, (size_t)n);
			odd[0] ^= 1; /* another trial's tag */
			reply(s, odd, (size_t)n, &from, fromlen);
			reply(s, buf, 8, &from, fromlen);
			memset(odd, 0, sizeof(odd));
			memcpy(odd, buf, (size_t)n);
			reply(s, odd, (size_t)n + 1, &from, fromlen);
			s->strays += 3;
			reply(s, buf, (size_t)n, &from, fromlen);
			break;
		case R_BURST:
			for (int i = 0; i < BURST; i++)
				reply(s, buf, (size_t)n, &from, fromlen);
			break;
		case R_LIB:
			break;
		}
	}
	return NULL;
}

static void refl_start(struct refl *s, enum refl_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->fd = rtv_udpgen_reflect_open(LOOPBACK, 0);
	assert_true(s->fd >= 0);
	bigbuf(s->fd);
	s->port = rtv_netrt_sock_port(s->fd);
	assert_true(s->port > 0);
	assert_int_equal(pthread_create(&s->th, NULL, refl_main, s), 0);
}

static void refl_stop(struct refl *s)
{
	rtv_stop_set(&s->stop);
	assert_int_equal(pthread_join(s->th, NULL), 0);
	close(s->fd);
	assert_int_equal(s->err, 0);
}

/* The generator's connected socket. */
static int gen_socket(int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	assert_int_equal(rtv_sockaddr_parse(LOOPBACK, (uint16_t)port, &ss, &len), 0);
	fd = rtv_sockaddr_udp_connect(&ss, len);
	assert_true(fd >= 0);
	bigbuf(fd);
	return fd;
}

static struct rtv_udpgen_cfg gen_cfg(int fd, double rate, int64_t duration_ns, uint32_t tag)
{
	struct rtv_udpgen_cfg c = {
		.fd = fd, .rate_pps = rate, .payload = 18, .duration_ns = duration_ns,
		.residual_ns = RTV_NS_PER_S, .batch = 0, .tag = tag, .rtt = NULL,
	};

	return c;
}

/* ---- frame sizes ---- */

static void test_payload(void **state)
{
	static const unsigned frames[] = { 64, 128, 256, 512, 1024, 1280, 1518 };

	(void)state;
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		assert_int_equal(rtv_udpgen_payload(frames[i], AF_INET), (ssize_t)frames[i] - 46);
		if (frames[i] >= 82)
			assert_int_equal(rtv_udpgen_payload(frames[i], AF_INET6), (ssize_t)frames[i] - 66);
	}
	assert_int_equal(rtv_udpgen_payload(64, AF_INET), 18);
	assert_int_equal(rtv_udpgen_payload(1518, AF_INET), 1472);
	assert_int_equal(rtv_udpgen_payload(1518, AF_INET6), 1452);
	assert_int_equal(rtv_udpgen_payload(64, AF_INET6), -EINVAL);
	assert_int_equal(rtv_udpgen_payload(81, AF_INET6), -EINVAL);
	assert_int_equal(rtv_udpgen_payload(82, AF_INET6), 16);
	assert_int_equal(rtv_udpgen_payload(63, AF_INET), -EINVAL);
	assert_int_equal(rtv_udpgen_payload(9018, AF_INET), 8972);
	assert_int_equal(rtv_udpgen_payload(9019, AF_INET), -EINVAL);
	assert_int_equal(rtv_udpgen_payload(1518, AF_UNIX), -EINVAL);
}

/* ---- trials ---- */

static void test_trial_reflector(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(100000, 1472);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct rtv_hist *h = malloc(sizeof(*h));
	struct refl s;
	int fd;

	(void)state;
	assert_non_null(g);
	assert_non_null(h);
	rtv_hist_init(h);
	refl_start(&s, R_LIB);
	fd = gen_socket(s.port);
	c = gen_cfg(fd, 10000, RTV_NS_PER_S / 2, 0xabcd0001);
	c.rtt = h;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	/* every packet of the schedule is offered: 5000 */
	assert_int_equal(r.sent + r.send_errors, 5000);
	assert_true(r.sent >= 4950);
	assert_int_equal(r.lost, 0);
	assert_int_equal(r.received, r.sent);
	assert_int_equal(r.dups, 0);
	assert_int_equal(r.reordered, 0);
	assert_int_equal(r.stray, 0);
	assert_int_equal(h->count, r.received);
	assert_int_equal(r.rx_drops, 0);
	assert_true(r.t_last_ns > r.t_first_ns);
	assert_true(r.offered_pps > 0);
	assert_true(r.lag_max_ns >= 0);
	assert_true(r.late <= r.sent);

	/* again, on the same generator, another tag and the whole payload:
	 * the last trial's seqs are forgotten */
	rtv_hist_init(h);
	c.tag = 0xabcd0002;
	c.payload = 1472;
	c.rate_pps = 4000;
	c.duration_ns = RTV_NS_PER_S / 4;
	c.batch = 1;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	assert_int_equal(r.sent + r.send_errors, 1000);
	assert_int_equal(r.received, r.sent);
	assert_int_equal(r.lost, 0);
	assert_int_equal(r.stray, 0);
	assert_int_equal(h->count, r.received);

	/* rate 0: as fast as it can, until the duration; batch 64 */
	c.rate_pps = 0;
	c.payload = 18;
	c.batch = RTV_UDPGEN_MAX_BATCH;
	c.duration_ns = RTV_NS_PER_S / 10;
	c.rtt = NULL;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	assert_true(r.sent > 0);
	assert_true(r.sent <= 100000);
	assert_int_equal(r.lost, r.sent - r.received);
	assert_int_equal(r.lag_max_ns, 0);
	assert_int_equal(r.late, 0);

	close(fd);
	refl_stop(&s);
	/* the reflector saw at least what came back */
	assert_true(s.st.received >= s.st.reflected);
	assert_int_equal(s.st.send_errors, 0);
	free(h);
	rtv_udpgen_free(g);
}

static void test_trial_drop(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(10000, 64);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct refl s;
	int fd;

	(void)state;
	assert_non_null(g);
	refl_start(&s, R_DROP10);
	fd = gen_socket(s.port);
	c = gen_cfg(fd, 2000, RTV_NS_PER_S / 4, 7);
	c.residual_ns = 300 * RTV_NS_PER_MS;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	close(fd);
	refl_stop(&s);
	assert_int_equal(r.sent + r.send_errors, 500);
	assert_true(s.dropped >= 45);
	assert_int_equal(r.received, s.back);
	assert_int_equal(r.received, s.got - s.dropped);
	assert_int_equal(r.lost, r.sent - r.received);
	if (s.got == r.sent) /* nothing lost before the reflector: exactly every 10th */
		assert_int_equal(r.lost, r.sent / 10);
	assert_int_equal(r.dups, 0);
	assert_int_equal(r.reordered, 0);
	assert_int_equal(r.stray, 0);
	rtv_udpgen_free(g);
}

static void test_trial_dupswap(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(10000, 64);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct refl s;
	int fd;

	(void)state;
	assert_non_null(g);
	refl_start(&s, R_DUPSWAP);
	fd = gen_socket(s.port);
	c = gen_cfg(fd, 2000, RTV_NS_PER_S / 4, 0xfeedbeef);
	c.payload = 64;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	close(fd);
	refl_stop(&s);
	assert_int_equal(r.sent + r.send_errors, 500);
	assert_true(s.swaps >= 200);
	assert_true(s.dups >= 40);
	assert_int_equal(s.dropped, 1);
	assert_int_equal(r.received, s.got - 1);
	assert_int_equal(r.lost, r.sent - r.received);
	assert_int_equal(r.dups, s.dups);
	assert_int_equal(r.reordered, s.swaps);
	assert_int_equal(r.stray, 0);
	rtv_udpgen_free(g);
}

static void test_trial_stray(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(10000, 64);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct rtv_hist *h = malloc(sizeof(*h));
	struct refl s;
	int fd;

	(void)state;
	assert_non_null(g);
	assert_non_null(h);
	rtv_hist_init(h);
	refl_start(&s, R_STRAY);
	fd = gen_socket(s.port);
	c = gen_cfg(fd, 2000, RTV_NS_PER_S / 4, 0x10);
	c.rtt = h;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	close(fd);
	refl_stop(&s);
	assert_int_equal(r.sent + r.send_errors, 500);
	assert_int_equal(s.dropped, 1);
	assert_int_equal(r.received, s.got - 1);
	assert_int_equal(r.lost, r.sent - r.received);
	assert_int_equal(r.stray, s.strays);
	assert_int_equal(r.dups, 0);
	assert_int_equal(h->count, r.received);
	free(h);
	rtv_udpgen_free(g);
}

/* Bursts the generator's tiny receive buffer cannot hold: its socket's
 * drops are counted, and every datagram sent back is accounted for. */
static void test_trial_rx_drops(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(1000, 64);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct refl s;
	int fd, one = 1;

	(void)state;
	assert_non_null(g);
	refl_start(&s, R_BURST);
	fd = gen_socket(s.port);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
	c = gen_cfg(fd, 1000, RTV_NS_PER_S / 10, 5);
	c.residual_ns = 200 * RTV_NS_PER_MS;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	close(fd);
	refl_stop(&s);
	assert_int_equal(r.sent + r.send_errors, 100);
	assert_int_equal(s.dropped, 1);
	assert_int_equal(s.back, (s.got - 1) * BURST);
	assert_true(r.lost >= 1);
	assert_true(r.rx_drops > 0);
	assert_int_equal(r.received + r.dups + r.rx_drops, s.back);
	assert_int_equal(r.stray, 0);
	rtv_udpgen_free(g);
}

static void test_trial_stop(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(10000, 64);
	volatile sig_atomic_t stop = 1;
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct refl s;
	int fd;

	(void)state;
	assert_non_null(g);
	refl_start(&s, R_LIB);
	fd = gen_socket(s.port);
	c = gen_cfg(fd, 1000, 10 * RTV_NS_PER_S, 1);
	assert_int_equal(rtv_udpgen_trial(g, &c, &stop, &r), -EINTR);
	assert_int_equal(r.sent, 0);
	assert_int_equal(r.received, 0);
	close(fd);
	refl_stop(&s);
	rtv_udpgen_free(g);
}

static void test_trial_errors(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(1000, 100);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c, bad;
	int fd;

	(void)state;
	assert_non_null(g);
	assert_null(rtv_udpgen_new(0, 100));
	assert_int_equal(errno, EINVAL);
	assert_null(rtv_udpgen_new(10, 15));
	assert_int_equal(errno, EINVAL);
	assert_null(rtv_udpgen_new(10, 65508));
	assert_null(rtv_udpgen_new((UINT64_C(1) << 32) + 1, 100));
	rtv_udpgen_free(NULL);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	c = gen_cfg(fd, 1000, RTV_NS_PER_S, 1);
	c.residual_ns = 0;

	/* 1001 packets > 1000; 1000 fit */
	bad = c;
	bad.rate_pps = 1001;
	assert_int_equal(rtv_udpgen_trial(g, &bad, NULL, &r), -E2BIG);
	bad.rate_pps = 1e12;
	assert_int_equal(rtv_udpgen_trial(g, &bad, NULL, &r), -E2BIG);
	bad = c;
	bad.duration_ns = 2 * RTV_NS_PER_S;
	assert_int_equal(rtv_udpgen_trial(g, &bad, NULL, &r), -E2BIG);

#define EXPECT_EINVAL(field, value)                                                  \
	do {                                                                         \
		bad = c;                                                             \
		bad.field = value;                                                   \
		assert_int_equal(rtv_udpgen_trial(g, &bad, NULL, &r), -EINVAL);      \
	} while (0)
	EXPECT_EINVAL(fd, -1);
	EXPECT_EINVAL(rate_pps, -1);
	EXPECT_EINVAL(rate_pps, NAN);
	EXPECT_EINVAL(rate_pps, INFINITY);
	EXPECT_EINVAL(payload, 15);
	EXPECT_EINVAL(payload, 101);
	EXPECT_EINVAL(duration_ns, 0);
	EXPECT_EINVAL(duration_ns, -1);
	EXPECT_EINVAL(residual_ns, -1);
	EXPECT_EINVAL(batch, -1);
	EXPECT_EINVAL(batch, RTV_UDPGEN_MAX_BATCH + 1);
#undef EXPECT_EINVAL
	assert_int_equal(rtv_udpgen_trial(NULL, &c, NULL, &r), -EINVAL);
	assert_int_equal(rtv_udpgen_trial(g, NULL, NULL, &r), -EINVAL);
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, NULL), -EINVAL);

	/* a socket nobody connected: the kernel says so */
	c.duration_ns = RTV_NS_PER_MS;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), -EDESTADDRREQ);
	assert_int_equal(r.sent, 0);
	close(fd);
	rtv_udpgen_free(g);
}

/* A connected socket whose peer is gone: ICMP port unreachable comes back
 * for each datagram; the generator goes on (path errors are not fatal). */
static void test_trial_no_peer(void **state)
{
	struct rtv_udpgen *g = rtv_udpgen_new(1000, 64);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	int port, fd, rfd = rtv_udpgen_reflect_open(LOOPBACK, 0);

	(void)state;
	assert_non_null(g);
	assert_true(rfd >= 0);
	port = rtv_netrt_sock_port(rfd);
	close(rfd); /* nobody listens there now */
	fd = gen_socket(port);
	c = gen_cfg(fd, 2000, RTV_NS_PER_S / 10, 3);
	c.residual_ns = 50 * RTV_NS_PER_MS;
	assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
	assert_int_equal(r.sent + r.send_errors, 200);
	assert_true(r.sent > 0);
	assert_int_equal(r.received, 0);
	assert_int_equal(r.lost, r.sent);
	close(fd);
	rtv_udpgen_free(g);
}

/* A reflector bound to any address (IPv6 and IPv4): each reply leaves from
 * the address its datagram went to (pktinfo), so a connected generator
 * takes it, over IPv4 and, where the kernel has it, IPv6. */
static void test_reflect_any(void **state)
{
	static const char *const addrs[] = { "127.0.0.1", "::1" };
	struct rtv_udpgen *g = rtv_udpgen_new(1000, 64);
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg c;
	struct sockaddr_storage ss;
	socklen_t len;
	struct refl s;
	int fd, tested = 0;

	(void)state;
	assert_non_null(g);
	memset(&s, 0, sizeof(s));
	s.mode = R_LIB;
	s.fd = rtv_udpgen_reflect_open(NULL, 0);
	assert_true(s.fd >= 0);
	s.port = rtv_netrt_sock_port(s.fd);
	assert_true(s.port > 0);
	assert_int_equal(pthread_create(&s.th, NULL, refl_main, &s), 0);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_int_equal(rtv_sockaddr_parse(addrs[i], (uint16_t)s.port, &ss, &len), 0);
		fd = rtv_sockaddr_udp_connect(&ss, len);
		if (fd < 0 && i > 0) /* no IPv6 here */
			continue;
		assert_true(fd >= 0);
		c = gen_cfg(fd, 1000, RTV_NS_PER_S / 10, (uint32_t)(100 + i));
		c.payload = 48;
		assert_int_equal(rtv_udpgen_trial(g, &c, NULL, &r), 0);
		assert_int_equal(r.sent + r.send_errors, 100);
		assert_true(r.sent > 0);
		assert_int_equal(r.received, r.sent);
		assert_int_equal(r.stray, 0);
		close(fd);
		tested++;
	}
	refl_stop(&s);
	assert_true(tested >= 1);
	assert_true(s.st.reflected >= s.st.received - s.st.send_errors);
	rtv_udpgen_free(g);
}

/* ---- the search ---- */

struct fake {
	double threshold;
	int calls, fail_at; /* fail_at: the call that returns -EIO, 0 none */
	double max_passed;  /* the highest rate that passed */
};

static int fake_trial(double rate, void *arg)
{
	struct fake *f = arg;

	f->calls++;
	if (f->fail_at && f->calls == f->fail_at)
		return -EIO;
	if (rate <= f->threshold) {
		if (rate > f->max_passed)
			f->max_passed = rate;
		return 0;
	}
	return 1;
}

static void test_search(void **state)
{
	struct rtv_udpgen_search s = { .lo_pps = 1000, .hi_pps = 1e6, .resolution_pct = 0.1,
				       .max_trials = 100 };
	static const double thresholds[] = { 1000, 1000.5, 12345.6, 123456, 499999, 500001, 999999 };
	struct fake f;
	double best, bound;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(thresholds) / sizeof(thresholds[0]); i++) {
		f = (struct fake){ .threshold = thresholds[i] };
		assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
		assert_int_equal(n, f.calls);
		assert_true(best <= f.threshold);          /* never above */
		assert_true(best == f.max_passed);          /* a rate that was tried and passed */
		assert_true(best >= f.threshold * (1 - s.resolution_pct / 100)); /* within resolution */
		bound = 2 + ceil(log2((s.hi_pps - s.lo_pps) / (s.resolution_pct / 100 * f.threshold)));
		assert_true(n <= (int)bound);
		assert_true(n >= 3);
	}

	/* hi passes: one trial */
	f = (struct fake){ .threshold = 2e6 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_true(best == 1e6);
	assert_int_equal(n, 1);

	/* lo fails: 0 after two */
	f = (struct fake){ .threshold = 999 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_true(best == 0);
	assert_int_equal(n, 2);

	/* lo 0: never tried, the bisection starts from 0 */
	s.lo_pps = 0;
	f = (struct fake){ .threshold = 300 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_true(best <= 300 && best >= 300 * 0.999);
	assert_int_equal(f.calls, n);
	f = (struct fake){ .threshold = 0.1 }; /* nothing passes */
	s.max_trials = 5;
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_true(best == 0);
	assert_int_equal(n, 5);

	/* max_trials: the best so far */
	s = (struct rtv_udpgen_search){ .lo_pps = 1000, .hi_pps = 1e6, .resolution_pct = 0.1,
					.max_trials = 4 };
	f = (struct fake){ .threshold = 700000 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_int_equal(n, 4);
	/* hi fails, lo passes, 500500 passes, 750250 fails */
	assert_true(best == 500500);
	s.max_trials = 1;
	f = (struct fake){ .threshold = 700000 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_int_equal(n, 1);
	assert_true(best == 0);

	/* a coarse resolution stops sooner */
	s.max_trials = 100;
	s.resolution_pct = 10;
	f = (struct fake){ .threshold = 123456 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), 0);
	assert_true(best <= 123456 && best >= 123456 * 0.9);
	assert_true(n <= 2 + (int)ceil(log2(999000 / 12345.6)));

	/* an aborting trial: its error, best 0, the trials run */
	s.resolution_pct = 0.1;
	f = (struct fake){ .threshold = 123456, .fail_at = 3 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), -EIO);
	assert_true(best == 0);
	assert_int_equal(n, 3);
	f = (struct fake){ .threshold = 123456, .fail_at = 1 };
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, &best, &n), -EIO);
	assert_int_equal(n, 1);

	/* bad searches */
#define EXPECT_EINVAL(field, value)                                                          \
	do {                                                                                 \
		struct rtv_udpgen_search b = { .lo_pps = 10, .hi_pps = 100, .resolution_pct = 1, \
					       .max_trials = 10 };                           \
		b.field = value;                                                             \
		f = (struct fake){ .threshold = 50 };                                        \
		assert_int_equal(rtv_udpgen_search(&b, fake_trial, &f, &best, &n), -EINVAL); \
		assert_int_equal(f.calls, 0);                                                \
		assert_int_equal(n, 0);                                                      \
	} while (0)
	EXPECT_EINVAL(lo_pps, -1);
	EXPECT_EINVAL(lo_pps, 101);
	EXPECT_EINVAL(hi_pps, 0);
	EXPECT_EINVAL(hi_pps, NAN);
	EXPECT_EINVAL(resolution_pct, 0);
	EXPECT_EINVAL(resolution_pct, 100);
	EXPECT_EINVAL(resolution_pct, NAN);
	EXPECT_EINVAL(max_trials, 0);
#undef EXPECT_EINVAL
	assert_int_equal(rtv_udpgen_search(NULL, fake_trial, &f, &best, &n), -EINVAL);
	assert_int_equal(rtv_udpgen_search(&s, NULL, &f, &best, &n), -EINVAL);
	assert_int_equal(rtv_udpgen_search(&s, fake_trial, &f, NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_trial_reflector),
		cmocka_unit_test(test_trial_drop),
		cmocka_unit_test(test_trial_dupswap),
		cmocka_unit_test(test_trial_stray),
		cmocka_unit_test(test_trial_rx_drops),
		cmocka_unit_test(test_trial_stop),
		cmocka_unit_test(test_trial_errors),
		cmocka_unit_test(test_trial_no_peer),
		cmocka_unit_test(test_reflect_any),
		cmocka_unit_test(test_search),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
