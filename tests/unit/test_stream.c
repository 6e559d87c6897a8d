/* Unit tests for lib/probe/stream: TCP and UDP sources against sinks over
 * loopback, in one process (the sink in a thread), a hand-made UDP sender
 * with gaps in its sequence numbers, a source without a sink, and bad
 * configurations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/stream.h"
#include "util/stop.h"
#include "util/time.h"

#define LOOPBACK "127.0.0.1"

/* How long to wait for a sink to bind or to catch up with its source: far
 * more than loopback needs, so that only a real fault reaches it. */
#define WAIT_NS (5 * RTV_NS_PER_S)

/* ---- helpers ---- */

/* A port on 127.0.0.1 that was free a moment ago: bind to port 0, read the
 * port back, close. The sink cannot bind to 0 and tell us its port. */
static uint16_t free_port(int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	assert_true(ntohs(sin.sin_port) > 0);
	return ntohs(sin.sin_port);
}

/* Whether a UDP socket is bound to this local port, from /proc/net/udp and
 * udp6: looking does not disturb the sink, as binding the port ourselves
 * would. */
static int udp_port_bound(uint16_t port)
{
	static const char *const files[] = { "/proc/net/udp", "/proc/net/udp6" };
	char line[512];
	unsigned lport;
	int found = 0;

	for (int i = 0; i < 2 && !found; i++) {
		FILE *f = fopen(files[i], "r");

		assert_non_null(f);
		while (!found && fgets(line, sizeof(line), f))
			if (sscanf(line, " %*u: %*x:%x", &lport) == 1 && lport == port)
				found = 1;
		fclose(f);
	}
	return found;
}

static void nap_ms(int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * RTV_NS_PER_MS };

	nanosleep(&ts, NULL);
}

/* ---- a sink in a thread ---- */

struct sink {
	struct rtv_stream_cfg cfg;
	volatile sig_atomic_t stop;
	pthread_t th;
	struct rtv_stream_result res;
	int err;
};

static void *sink_main(void *arg)
{
	struct sink *s = arg;

	s->err = rtv_stream_sink_run(&s->cfg, &s->stop, NULL, NULL, &s->res);
	return NULL;
}

/* Runs until sink_stop: a sink's duration starts at its first connection or
 * datagram, so a sink thread starved on a busy machine could reach its
 * deadline before it has read everything; stopping it only once it has
 * counted what the source sent (or after WAIT_NS) keeps the counts exact. */
static void sink_start_at(struct sink *s, const char *addr, int proto, uint16_t port,
			  size_t msg_size)
{
	memset(s, 0, sizeof(*s));
	s->cfg.proto = proto;
	s->cfg.addr = addr;
	s->cfg.port = port;
	s->cfg.msg_size = msg_size;
	assert_int_equal(pthread_create(&s->th, NULL, sink_main, s), 0);
	if (proto == IPPROTO_UDP) {
		/* a UDP source does not wait for its sink: datagrams sent before
		 * the bind would be refused and missing */
		int64_t give_up = rtv_now_ns() + WAIT_NS;

		while (!udp_port_bound(port) && rtv_now_ns() < give_up)
			nap_ms(1);
		assert_true(udp_port_bound(port));
	}
}

static void sink_start(struct sink *s, int proto, uint16_t port, size_t msg_size)
{
	sink_start_at(s, LOOPBACK, proto, port, msg_size);
}

/* Wait until the sink has counted at least `bytes`, or WAIT_NS. */
static void sink_wait_bytes(struct sink *s, uint64_t bytes)
{
	int64_t give_up = rtv_now_ns() + WAIT_NS;

	while (__atomic_load_n(&s->res.bytes, __ATOMIC_RELAXED) < bytes && rtv_now_ns() < give_up)
		nap_ms(1);
}

static void sink_stop(struct sink *s)
{
	rtv_stop_set(&s->stop);
	assert_int_equal(pthread_join(s->th, NULL), 0);
	assert_int_equal(s->err, 0);
}

static void source_cfg(struct rtv_stream_cfg *cfg, int proto, uint16_t port)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->proto = proto;
	cfg->addr = LOOPBACK;
	cfg->port = port;
}

/* rtv_stream_gbit_s against bytes * 8 / span, computed here */
static void assert_gbit(const struct rtv_stream_result *r)
{
	double want;

	assert_true(r->end_ns > r->start_ns);
	want = (double)r->bytes * 8.0 / (double)(r->end_ns - r->start_ns);
	assert_true(want > 0);
	assert_float_equal(rtv_stream_gbit_s(r), want, want * 1e-12);
}

/* ---- tests ---- */

static void test_tcp_loopback(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_stream_result r = { .bytes = 1, .start_ns = 1, .end_ns = 1 };
	struct rtv_stream_result fixed = { .bytes = 125000000, .start_ns = RTV_NS_PER_S,
					   .end_ns = 2 * RTV_NS_PER_S };
	struct rtv_stream_cfg cfg;
	uint16_t port = free_port(SOCK_STREAM);
	struct sink s;

	(void)state;
	sink_start(&s, IPPROTO_TCP, port, 0);
	source_cfg(&cfg, IPPROTO_TCP, port);
	cfg.duration_ns = 300 * RTV_NS_PER_MS;
	/* the source retries a refused connect, so it may start before the listen */
	assert_int_equal(rtv_stream_source_run(&cfg, &no_stop, NULL, NULL, &r), 0);
	assert_true(r.bytes > 0);
	assert_true(r.start_ns > 0);
	/* the last write starts before the 300 ms deadline and blocks at most
	 * 100 ms (SO_SNDTIMEO); 1 s leaves room for a busy machine */
	assert_true(r.end_ns - r.start_ns < RTV_NS_PER_S);
	assert_int_equal(r.datagrams, 0);
	assert_int_equal(r.lost, 0);

	/* the source has closed: TCP delivers everything it wrote */
	sink_wait_bytes(&s, r.bytes);
	sink_stop(&s);
	assert_int_equal(s.res.bytes, r.bytes);
	assert_true(s.res.start_ns > 0);
	assert_int_equal(s.res.datagrams, 0);

	assert_gbit(&r);
	assert_gbit(&s.res);
	/* 10^9 bits in one second, and no span at all */
	assert_float_equal(rtv_stream_gbit_s(&fixed), 1.0, 1e-12);
	fixed.end_ns = fixed.start_ns;
	assert_float_equal(rtv_stream_gbit_s(&fixed), 0.0, 0.0);
}

struct reports {
	int calls;
	uint64_t bytes;
	int64_t last_t_ns, sum_interval_ns;
	int monotonic; /* t_ns rose and every interval_ns was positive */
};

static void on_report(void *arg, int64_t t_ns, uint64_t interval_bytes, int64_t interval_ns)
{
	struct reports *rep = arg;

	if (t_ns <= rep->last_t_ns || interval_ns <= 0)
		rep->monotonic = 0;
	rep->calls++;
	rep->bytes += interval_bytes;
	rep->last_t_ns = t_ns;
	rep->sum_interval_ns += interval_ns;
}

static void test_tcp_reports(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct reports rep = { .monotonic = 1 };
	struct rtv_stream_result r;
	struct rtv_stream_cfg cfg;
	uint16_t port = free_port(SOCK_STREAM);
	struct sink s;

	(void)state;
	sink_start(&s, IPPROTO_TCP, port, 0);
	source_cfg(&cfg, IPPROTO_TCP, port);
	cfg.duration_ns = 500 * RTV_NS_PER_MS;
	cfg.interval_ns = 100 * RTV_NS_PER_MS;
	assert_int_equal(rtv_stream_source_run(&cfg, &no_stop, on_report, &rep, &r), 0);
	sink_wait_bytes(&s, r.bytes);
	sink_stop(&s);

	assert_true(r.bytes > 0);
	assert_int_equal(s.res.bytes, r.bytes);
	/* boundaries at 100, 200, ... 500 ms: 5 reports; a stall merges
	 * boundaries, a last partial interval of 10 ms or more adds one */
	assert_true(rep.calls >= 3 && rep.calls <= 6);
	assert_true(rep.monotonic);
	/* the intervals tile the run: no byte reported twice or left out */
	assert_int_equal(rep.bytes, r.bytes);
	assert_int_equal(rep.sum_interval_ns, rep.last_t_ns);
	/* the duration is a whole number of intervals, and the loop reports
	 * the boundary at 500 ms before it sees the deadline */
	assert_true(rep.last_t_ns >= cfg.duration_ns);
}

static void test_udp_rate(void **state)
{
	static const volatile sig_atomic_t no_stop;
	const double rate_bit_s = 50e6;
	const size_t size = 1000;
	struct rtv_stream_result r;
	struct rtv_stream_cfg cfg;
	uint16_t port = free_port(SOCK_DGRAM);
	double want;
	struct sink s;

	(void)state;
	sink_start(&s, IPPROTO_UDP, port, size);
	source_cfg(&cfg, IPPROTO_UDP, port);
	cfg.msg_size = size;
	cfg.rate_bit_s = rate_bit_s;
	cfg.duration_ns = 500 * RTV_NS_PER_MS;
	assert_int_equal(rtv_stream_source_run(&cfg, &no_stop, NULL, NULL, &r), 0);

	/* 50 Mbit/s for 0.5 s: 3125000 bytes, 3125 datagrams of 1000 */
	want = rate_bit_s * ((double)cfg.duration_ns / 1e9) / 8.0;
	assert_true(r.bytes > 0);
	assert_int_equal(r.bytes, r.datagrams * size);
	assert_true(fabs((double)r.bytes - want) <= 0.1 * want);

	sink_wait_bytes(&s, r.bytes);
	sink_stop(&s);
	assert_int_equal(s.res.datagrams, r.datagrams);
	assert_int_equal(s.res.bytes, r.bytes);
	assert_int_equal(s.res.lost, 0);
}

static void test_udp_loss(void **state)
{
	static const uint64_t seqs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19 };
	const size_t n = sizeof(seqs) / sizeof(seqs[0]);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned char buf[100];
	uint16_t port = free_port(SOCK_DGRAM);
	struct sink s;
	int fd;

	(void)state;
	sink_start(&s, IPPROTO_UDP, port, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	memset(buf, 0xa5, sizeof(buf));
	for (size_t i = 0; i < n; i++) {
		/* the sequence number: 64 bits, big-endian, at the start */
		uint64_t be = htobe64(seqs[i]);

		memcpy(buf, &be, sizeof(be));
		assert_int_equal(send(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	}
	close(fd);

	sink_wait_bytes(&s, n * sizeof(buf));
	sink_stop(&s);
	assert_int_equal(s.res.datagrams, n);
	assert_int_equal(s.res.bytes, n * sizeof(buf));
	assert_int_equal(s.res.lost, 5); /* 10 to 14 */
	assert_true(s.res.start_ns > 0 && s.res.end_ns >= s.res.start_ns);
}

/* Two UDP sinks in two threads of one process, each reading the sequence
 * numbers of its own stream: A gets 0, 1, 2, ... (nothing lost), B gets 0,
 * 1000, 2000, ... (999 lost per datagram). A sink that read another's
 * buffer would count the other's gaps (and ThreadSanitizer sees the two
 * threads write one buffer). */
static void test_udp_two_sinks(void **state)
{
	enum { N = 2000, STEP = 1000 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned char buf[64];
	struct sink s[2];
	int fd[2];

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int k = 0; k < 2; k++) {
		uint16_t port = free_port(SOCK_DGRAM);

		sink_start(&s[k], IPPROTO_UDP, port, 0);
		sin.sin_port = htons(port);
		fd[k] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fd[k] >= 0);
		assert_int_equal(connect(fd[k], (struct sockaddr *)&sin, sizeof(sin)), 0);
	}
	for (uint64_t i = 0; i < N; i++) {
		for (int k = 0; k < 2; k++) {
			uint64_t be = htobe64(k ? i * STEP : i);

			memcpy(buf, &be, sizeof(be));
			assert_int_equal(send(fd[k], buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		}
		if (i % 64 == 63) /* within the sinks' receive buffers */
			nap_ms(1);
	}
	for (int k = 0; k < 2; k++) {
		close(fd[k]);
		sink_wait_bytes(&s[k], N * sizeof(buf));
		sink_stop(&s[k]);
		assert_int_equal(s[k].res.datagrams, N);
	}
	assert_int_equal(s[0].res.lost, 0);
	assert_int_equal(s[1].res.lost, (uint64_t)(N - 1) * (STEP - 1));
}

static void test_tcp_refused(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_stream_result r;
	struct rtv_stream_cfg cfg;
	int64_t t0, took_ns;

	(void)state;
	/* a port nobody listens on: every connect is refused */
	source_cfg(&cfg, IPPROTO_TCP, free_port(SOCK_STREAM));
	cfg.duration_ns = 300 * RTV_NS_PER_MS;
	t0 = rtv_now_ns();
	assert_int_equal(rtv_stream_source_run(&cfg, &no_stop, NULL, NULL, &r), -ECONNREFUSED);
	took_ns = rtv_now_ns() - t0;
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.start_ns, 0);
	assert_int_equal(r.end_ns, 0);
	/* it retries for RTV_STREAM_CONNECT_RETRY_NS less one 50 ms pause; a
	 * refused connect on loopback is immediate, so 1 s over means it hung */
	assert_true(took_ns >= RTV_STREAM_CONNECT_RETRY_NS - 100 * RTV_NS_PER_MS);
	assert_true(took_ns < RTV_STREAM_CONNECT_RETRY_NS + RTV_NS_PER_S);
}

struct stopper {
	volatile sig_atomic_t *stop;
	int64_t after_ns;
};

static void *stopper_main(void *arg)
{
	struct stopper *st = arg;

	rtv_sleep_until_ns(rtv_now_ns() + st->after_ns);
	rtv_stop_set(st->stop);
	return NULL;
}

static void test_tcp_refused_stop(void **state)
{
	volatile sig_atomic_t stop = 0;
	struct stopper st = { .stop = &stop, .after_ns = 200 * RTV_NS_PER_MS };
	struct rtv_stream_result r;
	struct rtv_stream_cfg cfg;
	int64_t t0, took_ns;
	pthread_t th;
	int err;

	(void)state;
	source_cfg(&cfg, IPPROTO_TCP, free_port(SOCK_STREAM));
	t0 = rtv_now_ns();
	assert_int_equal(pthread_create(&th, NULL, stopper_main, &st), 0);
	err = rtv_stream_source_run(&cfg, &stop, NULL, NULL, &r);
	took_ns = rtv_now_ns() - t0;
	assert_int_equal(pthread_join(th, NULL), 0);
	/* stopped while retrying: 0 when the stop is seen during the pause
	 * between attempts, -ECONNREFUSED when right after a refused attempt */
	assert_true(err == 0 || err == -ECONNREFUSED);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.start_ns, 0);
	/* well before the 2 s of retries: the stop was seen */
	assert_true(took_ns >= st.after_ns);
	assert_true(took_ns < RTV_STREAM_CONNECT_RETRY_NS - 500 * RTV_NS_PER_MS);
}

/* Both functions with a configuration that must be refused before any socket
 * is made. *stop is already set, so a wrongly accepted one returns at once
 * instead of hanging. */
static void assert_refused(const struct rtv_stream_cfg *cfg, int want_source, int want_sink)
{
	static const volatile sig_atomic_t stopped = 1;
	struct rtv_stream_result r;

	memset(&r, 0xff, sizeof(r));
	assert_int_equal(rtv_stream_source_run(cfg, &stopped, NULL, NULL, &r), want_source);
	/* reset even on error */
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.start_ns, 0);
	assert_int_equal(r.datagrams, 0);
	memset(&r, 0xff, sizeof(r));
	assert_int_equal(rtv_stream_sink_run(cfg, &stopped, NULL, NULL, &r), want_sink);
	assert_int_equal(r.bytes, 0);
	assert_int_equal(r.lost, 0);
}

/* The default UDP payload fills one 1500-byte packet of the address's
 * family; TCP's and a size given do not depend on it. */
static void test_msg_size(void **state)
{
	struct rtv_stream_cfg cfg = { .proto = IPPROTO_UDP, .addr = "198.18.1.2" };

	(void)state;
	assert_int_equal(rtv_stream_msg_size(&cfg), 1500 - 20 - 8);
	cfg.addr = "fd00::2";
	assert_int_equal(rtv_stream_msg_size(&cfg), 1500 - 40 - 8);
	cfg.addr = "fe80::1%lo";
	assert_int_equal(rtv_stream_msg_size(&cfg), RTV_STREAM_UDP6_MSG_SIZE);
	cfg.addr = NULL; /* a sink on any address: room for either */
	assert_int_equal(rtv_stream_msg_size(&cfg), RTV_STREAM_UDP_MSG_SIZE);
	cfg.addr = "fd00::2";
	cfg.msg_size = 9000;
	assert_int_equal(rtv_stream_msg_size(&cfg), 9000);
	cfg.msg_size = 0;
	cfg.proto = IPPROTO_TCP;
	assert_int_equal(rtv_stream_msg_size(&cfg), RTV_STREAM_TCP_MSG_SIZE);
}

/* IPv6: UDP to ::1 with the default size sends IPv6's datagrams, all
 * received; TCP to ::1 arrives whole. */
static void test_ipv6_loopback(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_stream_result r;
	struct rtv_stream_cfg cfg;
	uint16_t port = free_port(SOCK_DGRAM);
	struct sink s;

	(void)state;
	sink_start_at(&s, "::1", IPPROTO_UDP, port, 0);
	source_cfg(&cfg, IPPROTO_UDP, port);
	cfg.addr = "::1";
	cfg.rate_bit_s = 50e6;
	cfg.duration_ns = 200 * RTV_NS_PER_MS;
	assert_int_equal(rtv_stream_source_run(&cfg, &no_stop, NULL, NULL, &r), 0);
	assert_true(r.datagrams > 100);
	assert_int_equal(r.bytes, r.datagrams * RTV_STREAM_UDP6_MSG_SIZE);
	sink_wait_bytes(&s, r.bytes);
	sink_stop(&s);
	assert_int_equal(s.res.datagrams, r.datagrams);
	assert_int_equal(s.res.bytes, r.bytes);
	assert_int_equal(s.res.lost, 0);

	port = free_port(SOCK_STREAM);
	sink_start_at(&s, "::1", IPPROTO_TCP, port, 0);
	source_cfg(&cfg, IPPROTO_TCP, port);
	cfg.addr = "::1";
	cfg.duration_ns = 100 * RTV_NS_PER_MS;
	assert_int_equal(rtv_stream_source_run(&cfg, &no_stop, NULL, NULL, &r), 0);
	assert_true(r.bytes > 0);
	sink_wait_bytes(&s, r.bytes);
	sink_stop(&s);
	assert_int_equal(s.res.bytes, r.bytes);
}

static void test_bad_cfg(void **state)
{
	static const volatile sig_atomic_t stopped = 1;
	struct rtv_stream_result r;
	struct rtv_stream_cfg cfg;
	uint16_t port = free_port(SOCK_DGRAM);

	(void)state;
	/* what check_cfg() in stream.c returns; the header only says -errno */
	source_cfg(&cfg, IPPROTO_SCTP, port);
	assert_refused(&cfg, -EPROTONOSUPPORT, -EPROTONOSUPPORT);
	cfg.proto = 0;
	assert_refused(&cfg, -EPROTONOSUPPORT, -EPROTONOSUPPORT);

	/* no address: a source has nowhere to send, a sink binds to any */
	source_cfg(&cfg, IPPROTO_TCP, port);
	cfg.addr = NULL;
	assert_int_equal(rtv_stream_source_run(&cfg, &stopped, NULL, NULL, &r), -EDESTADDRREQ);
	cfg.proto = IPPROTO_UDP;
	assert_int_equal(rtv_stream_source_run(&cfg, &stopped, NULL, NULL, &r), -EDESTADDRREQ);

	/* message sizes beyond the limits; 0 is not an error but the default */
	source_cfg(&cfg, IPPROTO_UDP, port);
	cfg.msg_size = RTV_STREAM_UDP_MAX_SIZE + 1;
	assert_refused(&cfg, -EMSGSIZE, -EMSGSIZE);
	cfg.msg_size = RTV_STREAM_UDP_MIN_SIZE - 1; /* no room for the sequence number */
	assert_refused(&cfg, -EMSGSIZE, -EMSGSIZE);
	source_cfg(&cfg, IPPROTO_TCP, port);
	cfg.msg_size = RTV_STREAM_TCP_MAX_SIZE + 1;
	assert_refused(&cfg, -EMSGSIZE, -EMSGSIZE);

	/* negative times and rates */
	source_cfg(&cfg, IPPROTO_UDP, port);
	cfg.duration_ns = -1;
	assert_refused(&cfg, -EINVAL, -EINVAL);
	cfg.duration_ns = 0;
	cfg.interval_ns = -1;
	assert_refused(&cfg, -EINVAL, -EINVAL);
	cfg.interval_ns = 0;
	cfg.rate_bit_s = -1;
	assert_refused(&cfg, -EINVAL, -EINVAL);
	cfg.rate_bit_s = NAN;
	assert_refused(&cfg, -EINVAL, -EINVAL);

	/* the limits themselves and 0 are accepted: with *stop already set,
	 * the functions return 0 without sending anything */
	source_cfg(&cfg, IPPROTO_UDP, port);
	cfg.msg_size = 0;
	assert_int_equal(rtv_stream_source_run(&cfg, &stopped, NULL, NULL, &r), 0);
	assert_int_equal(r.bytes, 0);
	cfg.msg_size = RTV_STREAM_UDP_MIN_SIZE;
	assert_int_equal(rtv_stream_source_run(&cfg, &stopped, NULL, NULL, &r), 0);
	cfg.msg_size = RTV_STREAM_UDP_MAX_SIZE;
	assert_int_equal(rtv_stream_source_run(&cfg, &stopped, NULL, NULL, &r), 0);
	assert_int_equal(rtv_stream_sink_run(&cfg, &stopped, NULL, NULL, &r), 0);
	assert_int_equal(r.bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_loopback),
		cmocka_unit_test(test_tcp_reports),
		cmocka_unit_test(test_udp_rate),
		cmocka_unit_test(test_udp_loss),
		cmocka_unit_test(test_udp_two_sinks),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_refused_stop),
		cmocka_unit_test(test_msg_size),
		cmocka_unit_test(test_ipv6_loopback),
		cmocka_unit_test(test_bad_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
