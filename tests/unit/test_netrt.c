/* Unit tests for lib/probe/netrt: the echo server and the open-loop client
 * over loopback, in one process (the server in a thread), plus test servers
 * that answer slowly, twice or wrongly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/netrt.h"
#include "util/json.h"
#include "util/stop.h"
#include "util/time.h"

#define LOOPBACK "127.0.0.1"

/* ---- servers in a thread ---- */

enum srv_mode {
	SRV_ECHO,  /* the library's server */
	SRV_SLOW,  /* one at a time, each reply 20 ms after its request */
	SRV_BAD,   /* a foreign-tag and a short datagram, then each reply twice */
};

struct srv {
	enum srv_mode mode;
	int fd, port;
	volatile sig_atomic_t stop;
	pthread_t th;
	struct rtv_netrt_server_stats st;
	int err;
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	struct timespec delay = { .tv_sec = 0, .tv_nsec = 20 * RTV_NS_PER_MS };
	struct sockaddr_storage from;
	socklen_t fromlen;
	unsigned char buf[2048];
	ssize_t n;

	if (s->mode == SRV_ECHO) {
		s->err = rtv_netrt_server_serve(s->fd, &s->stop, &s->st);
		return NULL;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!rtv_stop_read(&s->stop)) {
		fromlen = sizeof(from);
		n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			continue;
		s->st.requests++;
		if (s->mode == SRV_SLOW) {
			nanosleep(&delay, NULL);
			sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
			continue;
		}
		buf[0] ^= 0xff; /* another run's tag */
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
		buf[0] ^= 0xff;
		sendto(s->fd, buf, 8, 0, (struct sockaddr *)&from, fromlen);
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
		sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen);
	}
	return NULL;
}

static void srv_start(struct srv *s, enum srv_mode mode)
{
	struct rtv_netrt_server_cfg cfg = { .bind_addr = LOOPBACK, .port = 0 };

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->fd = rtv_netrt_server_open(&cfg);
	assert_true(s->fd >= 0);
	s->port = rtv_netrt_sock_port(s->fd);
	assert_true(s->port > 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
	rtv_stop_set(&s->stop);
	assert_int_equal(pthread_join(s->th, NULL), 0);
	close(s->fd);
	assert_int_equal(s->err, 0);
}

static void client_cfg(struct rtv_netrt_client_cfg *cfg, int port)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ol.addr = LOOPBACK;
	cfg->ol.port = (uint16_t)port;
	cfg->payload = 64;
	cfg->ol.interval.dist = RTV_DIST_CONST;
	cfg->ol.interval.min_ns = RTV_NS_PER_MS;
	cfg->ol.interval.max_ns = RTV_NS_PER_MS;
	cfg->ol.seed = 42;
	cfg->ol.timeout_ns = RTV_NS_PER_S;
}

static struct rtv_ol_result *result_new(void)
{
	struct rtv_ol_result *r = malloc(sizeof(*r));

	assert_non_null(r);
	return r;
}

static char *samples_tmp(void)
{
	char *path = strdup("/tmp/rtv-test-netrt-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* The samples file of a run of n requests interval_ns apart (no warm-up),
 * line by line: exactly "seq intended_ns latency_ns service_ns" or "seq
 * intended_ns lost", every seq once, intended on the schedule, one line per
 * received or lost request with the result's extremes, in the order the
 * requests were resolved: replies by their arrival time, and a loss after
 * its request's timeout, so every reply listed after it arrived later.
 * Removes the file. */
static void check_samples(char *path, const struct rtv_ol_result *r, uint64_t n,
			  int64_t interval_ns, int64_t timeout_ns)
{
	int64_t at, lat, svc, last_reply = 0, last_lost = INT64_MIN;
	int64_t lat_min = INT64_MAX, lat_max = INT64_MIN, svc_min = INT64_MAX, svc_max = INT64_MIN;
	uint64_t seq, received = 0, lost = 0;
	char line[128], again[128];
	bool *seen = calloc(n, sizeof(*seen));
	FILE *f = fopen(path, "r");
	int len;

	assert_non_null(seen);
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64, &seq, &at, &lat,
			   &svc) == 4) {
			snprintf(again, sizeof(again), "%" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
				 seq, at, lat, svc);
			assert_true(lat >= svc && svc > 0);
			/* replies are timestamped in the order they are taken */
			assert_true(at + lat >= last_reply);
			last_reply = at + lat;
			assert_true(last_reply > last_lost);
			lat_min = lat < lat_min ? lat : lat_min;
			lat_max = lat > lat_max ? lat : lat_max;
			svc_min = svc < svc_min ? svc : svc_min;
			svc_max = svc > svc_max ? svc : svc_max;
			received++;
		} else {
			len = 0;
			assert_int_equal(sscanf(line, "%" SCNu64 " %" SCNd64 " lost%n", &seq, &at, &len),
					 2);
			assert_true(len > 0);
			snprintf(again, sizeof(again), "%" PRIu64 " %" PRId64 " lost\n", seq, at);
			/* lost when timeout_ns have passed since it was sent, after S_i */
			if (at + timeout_ns > last_lost)
				last_lost = at + timeout_ns;
			lost++;
		}
		assert_string_equal(line, again);
		assert_true(seq < n);
		assert_false(seen[seq]);
		seen[seq] = true;
		assert_int_equal(at, (int64_t)seq * interval_ns);
	}
	assert_false(ferror(f));
	fclose(f);
	unlink(path);
	free(path);
	free(seen);
	assert_int_equal(received + lost, n);
	assert_int_equal(received, r->received);
	assert_int_equal(lost, r->lost);
	if (received) {
		assert_int_equal(lat_min, r->rtt.min_ns);
		assert_int_equal(lat_max, r->rtt.max_ns);
		assert_int_equal(svc_min, r->service.min_ns);
		assert_int_equal(svc_max, r->service.max_ns);
	}
}

/* ---- tests ---- */

static void test_loopback(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	char *path = samples_tmp();
	struct srv s;

	(void)state;
	srv_start(&s, SRV_ECHO);
	client_cfg(&cfg, s.port);
	cfg.ol.count = 200;
	cfg.ol.samples_path = path;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
	srv_stop(&s);

	assert_int_equal(r->sent, 200);
	assert_int_equal(r->received, r->sent);
	assert_int_equal(r->lost, 0);
	assert_int_equal(r->warmup, 0);
	assert_int_equal(r->stray, 0);
	assert_int_equal(s.st.requests, 200);
	assert_int_equal(r->rtt.count, 200);
	assert_int_equal(r->service.count, 200);
	assert_true(r->rtt.min_ns > 0);
	assert_true(r->service.min_ns > 0);
	/* each rtt_i >= service_i, so the extremes are ordered too */
	assert_true(r->rtt.min_ns >= r->service.min_ns);
	assert_true(r->rtt.max_ns >= r->service.max_ns);
	/* 200 sends 1 ms apart from S_0 = start: the last at start + 199 ms */
	assert_true(r->end_ns - r->start_ns >= 199 * RTV_NS_PER_MS);
	assert_true(r->end_ns - r->start_ns < RTV_NS_PER_S);

	/* intended times are on the 1 ms grid, counted from start_ns; 200 lines */
	check_samples(path, r, 200, RTV_NS_PER_MS, cfg.ol.timeout_ns);
	free(r);
}

/* More samples than the client holds in memory (4096, SAMPLES_MIN in
 * netrt.c, with a 5 ms timeout's ring of 1024), sent too close together for
 * it to write them while it waits: written a chunk at a time before sends
 * when the buffer could not hold every outstanding request, and at the end,
 * still every line once, in order. */
static void test_samples_many(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	char *path = samples_tmp();
	struct srv s;

	(void)state;
	srv_start(&s, SRV_ECHO);
	client_cfg(&cfg, s.port);
	cfg.ol.count = 10000;
	cfg.ol.interval.min_ns = cfg.ol.interval.max_ns = 10 * RTV_NS_PER_US;
	cfg.ol.timeout_ns = 5 * RTV_NS_PER_MS;
	cfg.ol.samples_path = path;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
	srv_stop(&s);
	assert_int_equal(r->sent, 10000);
	assert_int_equal(r->received + r->lost, 10000);
	check_samples(path, r, 10000, 10 * RTV_NS_PER_US, cfg.ol.timeout_ns);
	free(r);
}

static void test_server_down(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	char *path = samples_tmp(), line[64], want[64];
	struct srv s;
	FILE *f;
	int i;

	(void)state;
	/* a server that was there and is gone: its port now refuses */
	srv_start(&s, SRV_ECHO);
	srv_stop(&s);
	client_cfg(&cfg, s.port);
	cfg.ol.count = 20;
	cfg.ol.timeout_ns = 50 * RTV_NS_PER_MS;
	cfg.ol.samples_path = path;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
	assert_int_equal(r->sent, 20);
	assert_int_equal(r->received, 0);
	assert_int_equal(r->lost, 20);
	assert_int_equal(r->rtt.count, 0);
	assert_int_equal(r->service.count, 0);
	/* the last send at 19 ms, lost 50 ms later */
	assert_true(r->end_ns - r->start_ns >= 69 * RTV_NS_PER_MS);
	assert_true(r->end_ns - r->start_ns < 500 * RTV_NS_PER_MS);
	/* every line known in advance: lost in the order sent */
	f = fopen(path, "r");
	assert_non_null(f);
	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "%d %d lost\n", i, i * 1000000);
		assert_non_null(fgets(line, sizeof(line), f));
		assert_string_equal(line, want);
	}
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	free(path);
	free(r);
}

struct client_thread {
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r;
	volatile sig_atomic_t stop;
	int err;
};

static void *client_main(void *arg)
{
	struct client_thread *c = arg;

	c->err = rtv_netrt_client_run(&c->cfg, &c->stop, c->r);
	return NULL;
}

/* The open-loop rule: a server that takes 20 ms per reply, one at a time,
 * does not slow the sends down. A closed-loop client would have sent about
 * 10 requests after 200 ms; this one sends about 200. */
static void test_open_loop(void **state)
{
	struct client_thread c = { .stop = 0 };
	struct timespec step = { .tv_sec = 0, .tv_nsec = 100000 };
	struct timespec wait = { .tv_sec = 0, .tv_nsec = 200 * RTV_NS_PER_MS };
	char *path = samples_tmp();
	uint64_t sent_at_200ms;
	pthread_t th;
	struct srv s;

	(void)state;
	c.r = result_new();
	srv_start(&s, SRV_SLOW);
	client_cfg(&c.cfg, s.port);
	c.cfg.ol.duration_ns = 400 * RTV_NS_PER_MS;
	c.cfg.ol.timeout_ns = 100 * RTV_NS_PER_MS;
	c.cfg.ol.samples_path = path;
	memset(c.r, 0, sizeof(*c.r));
	assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
	/* the counters are live: wait for the first send, then 200 ms */
	while (__atomic_load_n(&c.r->sent, __ATOMIC_RELAXED) == 0)
		nanosleep(&step, NULL);
	nanosleep(&wait, NULL);
	sent_at_200ms = __atomic_load_n(&c.r->sent, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(th, NULL), 0);
	srv_stop(&s);

	print_message("sent after 200 ms: %llu; at the end sent %llu received %llu lost %llu late %llu\n",
		      (unsigned long long)sent_at_200ms, (unsigned long long)c.r->sent,
		      (unsigned long long)c.r->received, (unsigned long long)c.r->lost,
		      (unsigned long long)c.r->late);
	assert_int_equal(c.err, 0);
	assert_true(sent_at_200ms >= 150 && sent_at_200ms <= 250);
	assert_int_equal(c.r->sent, 400); /* S_i < 400 ms: i = 0..399 */
	assert_int_equal(c.r->received + c.r->lost, c.r->sent);
	/* the server answers every 20 ms, so the backlog grows and most time out */
	assert_true(c.r->received >= 3);
	assert_true(c.r->lost > c.r->sent / 2);
	assert_true(c.r->rtt.min_ns >= 20 * RTV_NS_PER_MS);
	/* replies and losses interleaved, each line in the order resolved */
	check_samples(path, c.r, 400, RTV_NS_PER_MS, c.cfg.ol.timeout_ns);
	free(c.r);
}

/* Coordinated omission, from the client's side: the client itself stalls
 * (SIGSTOP for STALL_MS while it runs in a child process), as a client
 * descheduled by a higher-priority task would. The requests scheduled during
 * the stall go out late, in a burst when it resumes, and each is measured
 * from its own S_i: about STALL_MS of them are counted late, their rtt falls
 * from about STALL_MS to 0 in 1 ms steps, and the rtt tail shows the stall.
 * The service time, from the actual send, shows it only for the one or two
 * requests in flight when the client stopped, as a closed-loop tool would. */
#define STALL_MS 200

static void test_client_stalled(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct timespec step = { .tv_sec = 0, .tv_nsec = 100000 };
	struct timespec stall = { .tv_sec = 0, .tv_nsec = STALL_MS * RTV_NS_PER_MS };
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r;
	char *path = samples_tmp(), line[128];
	int64_t t_stop, t_stopped, t_cont, stall_ns, at, lat, svc;
	uint64_t seq, slow_rtt = 0, slow_svc = 0, in_stall = 0, late = 0;
	int status;
	FILE *f;
	pid_t pid;
	struct srv s;

	(void)state;
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(r != MAP_FAILED);
	memset(r, 0, sizeof(*r));
	srv_start(&s, SRV_ECHO);
	client_cfg(&cfg, s.port);
	cfg.ol.duration_ns = 800 * RTV_NS_PER_MS; /* 800 requests, 1 ms apart */
	cfg.ol.samples_path = path;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(rtv_netrt_client_run(&cfg, &no_stop, r) == 0 ? 0 : 1);
	/* stop it 200 requests in, for STALL_MS */
	while (__atomic_load_n(&r->sent, __ATOMIC_RELAXED) < 200)
		nanosleep(&step, NULL);
	t_stop = rtv_now_ns();
	assert_int_equal(kill(pid, SIGSTOP), 0);
	/* stopped for sure from here (a loaded machine may take a while) */
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	t_stopped = rtv_now_ns();
	nanosleep(&stall, NULL);
	/* read before SIGCONT: once woken, the child may run (and take this
	 * CPU) before kill() returns, so a reading after it could be later
	 * than the child's first sends */
	t_cont = rtv_now_ns();
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	srv_stop(&s);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	stall_ns = t_cont - t_stop;

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		assert_int_equal(sscanf(line, "%" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64, &seq, &at,
					&lat, &svc), 4);
		/* scheduled while the client was stopped: answered after it resumed */
		/* lat - svc is the actual send time - S_i: what `late` counts */
		late += lat - svc > RTV_NETRT_LATE_NS;
		if (r->start_ns + at > t_stopped && r->start_ns + at < t_cont - RTV_NS_PER_MS) {
			/* scheduled while the client was stopped: sent after it resumed */
			in_stall++;
			assert_true(r->start_ns + at + (lat - svc) >= t_cont);
		}
		slow_rtt += lat >= STALL_MS / 2 * RTV_NS_PER_MS;
		slow_svc += svc >= STALL_MS / 2 * RTV_NS_PER_MS;
	}
	fclose(f);
	unlink(path);
	free(path);
	print_message("stalled %.1f ms: late %llu, %llu scheduled in the stall, rtt >= %d ms: %llu, "
		      "service >= %d ms: %llu; rtt max %.1f ms p99 %.1f ms, service max %.1f ms\n",
		      (double)stall_ns / 1e6, (unsigned long long)r->late, (unsigned long long)in_stall,
		      STALL_MS / 2, (unsigned long long)slow_rtt, STALL_MS / 2,
		      (unsigned long long)slow_svc, (double)r->rtt.max_ns / 1e6,
		      (double)rtv_hist_percentile(&r->rtt, 99) / 1e6, (double)r->service.max_ns / 1e6);
	assert_int_equal(r->sent, 800);
	assert_int_equal(r->received, 800);
	/* every request scheduled in the stall went out late and was measured
	 * from S_i; nothing was shifted or skipped */
	assert_true(in_stall >= (uint64_t)(stall_ns / RTV_NS_PER_MS) - 3);
	assert_int_equal(r->late, late);
	assert_true(late >= in_stall);
	/* the stall is in the tail: max >= stall - 1 ms, and with 800 samples
	 * p99 is the 8th largest, scheduled about 8 ms into the stall */
	assert_true(r->rtt.max_ns >= stall_ns - RTV_NS_PER_MS);
	assert_true(rtv_hist_percentile(&r->rtt, 99) >= stall_ns - 20 * RTV_NS_PER_MS);
	/* half the stall or more: the requests of its first half */
	assert_true(slow_rtt >= (uint64_t)(stall_ns / 2 / RTV_NS_PER_MS) - 3);
	/* closed-loop view: only requests in flight at the stop */
	assert_true(slow_svc <= 2);
	assert_int_equal(munmap(r, sizeof(*r)), 0);
}

static void test_stray_and_duplicates(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	struct srv s;

	(void)state;
	srv_start(&s, SRV_BAD);
	client_cfg(&cfg, s.port);
	cfg.ol.count = 50;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
	srv_stop(&s);
	assert_int_equal(r->sent, 50);
	assert_int_equal(r->received, 50); /* not 100: duplicates count once */
	assert_int_equal(r->lost, 0);
	assert_int_equal(r->rtt.count, 50);
	/* per request: a foreign tag, a short datagram, a duplicate; the client
	 * is done at the last reply, maybe before its duplicate arrives */
	assert_true(r->stray == 150 || r->stray == 149);
	free(r);
}

static void test_warmup(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	struct srv s;

	(void)state;
	srv_start(&s, SRV_ECHO);
	client_cfg(&cfg, s.port);
	cfg.ol.count = 30;
	cfg.ol.warmup_ns = 20 * RTV_NS_PER_MS; /* S_0..S_19 */
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
	assert_int_equal(r->warmup, 20);
	assert_int_equal(r->sent, 30);
	assert_int_equal(r->received, 30);
	assert_int_equal(r->rtt.count, 30);

	/* duration counts the warm-up in: S_i < 50 ms, of which 20 warm */
	cfg.ol.count = 0;
	cfg.ol.duration_ns = 50 * RTV_NS_PER_MS;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
	srv_stop(&s);
	assert_int_equal(r->warmup, 20);
	assert_int_equal(r->sent, 30);
	assert_int_equal(r->received, 30);
	free(r);
}

static void test_stop(void **state)
{
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	volatile sig_atomic_t stop = 1;
	struct srv s;

	(void)state;
	srv_start(&s, SRV_ECHO);
	client_cfg(&cfg, s.port);
	cfg.ol.duration_ns = 10 * RTV_NS_PER_S;
	/* already stopped: returns at once, nothing sent */
	assert_int_equal(rtv_netrt_client_run(&cfg, &stop, r), 0);
	srv_stop(&s);
	assert_int_equal(r->sent, 0);
	assert_true(r->end_ns - r->start_ns < 100 * RTV_NS_PER_MS);
	free(r);
}

/* A server on any address replies from the address each request was sent
 * to: a client connected to 127.0.0.2 takes no reply from 127.0.0.1, the
 * source the kernel picks by itself (lo's route says src 127.0.0.1). The
 * same server answers IPv6 (::1) on its dual-stack socket. */
static void test_any_replies_from_dest(void **state)
{
	static const volatile sig_atomic_t no_stop;
	static const char *const targets[] = { "127.0.0.2", "127.0.0.1", "::1" };
	struct rtv_netrt_server_cfg scfg = { .bind_addr = NULL, .port = 0 };
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();
	struct srv s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.mode = SRV_ECHO;
	s.fd = rtv_netrt_server_open(&scfg);
	assert_true(s.fd >= 0);
	s.port = rtv_netrt_sock_port(s.fd);
	assert_true(s.port > 0);
	assert_int_equal(pthread_create(&s.th, NULL, srv_main, &s), 0);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		client_cfg(&cfg, s.port);
		cfg.ol.addr = targets[i];
		cfg.ol.count = 20;
		cfg.ol.timeout_ns = 200 * RTV_NS_PER_MS;
		assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), 0);
		if (r->received != 20)
			fail_msg("to %s: %llu of 20 answered, %llu stray", targets[i],
				 (unsigned long long)r->received, (unsigned long long)r->stray);
		assert_int_equal(r->stray, 0);
	}
	srv_stop(&s);
	assert_int_equal(s.st.requests, 60);
	free(r);
}

/* No server (rtv_ol_cfg.respond): an echo stand-in answers every request
 * at once; a stand-in that corrupts every other reply's tag leaves those
 * requests stray and lost. */
static ssize_t dry_echo(void *arg, const unsigned char *req, size_t len, unsigned char *rep,
			size_t cap)
{
	int *n = arg;

	assert_true(len <= cap);
	memcpy(rep, req, len);
	if (n && (*n)++ % 2)
		rep[0] ^= 0xff; /* the tag */
	return (ssize_t)len;
}

static void test_dry_run(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_ol_result *res = malloc(sizeof(*res));
	struct rtv_netrt_client_cfg cfg = { .ol = {
		.addr = "198.51.100.1", /* never reached: no socket is made */
		.count = 1000, .interval = { .dist = RTV_DIST_CONST }, .seed = 3,
		.timeout_ns = 50 * RTV_NS_PER_MS, .respond = dry_echo,
	} };
	int every_other = 0;

	(void)state;
	assert_non_null(res);
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, res), 0);
	assert_int_equal(res->sent, 1000);
	assert_int_equal(res->received, 1000);
	assert_int_equal(res->lost + res->stray, 0);
	assert_int_equal(res->rtt.count, 1000);

	cfg.ol.respond_arg = &every_other;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, res), 0);
	assert_int_equal(res->received, 500);
	assert_int_equal(res->stray, 500);
	assert_int_equal(res->lost, 500);
	free(res);
}

static void test_bad_cfg(void **state)
{
	static const volatile sig_atomic_t no_stop;
	struct rtv_netrt_server_cfg scfg = { .bind_addr = "not-an-address", .port = 0 };
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_result *r = result_new();

	(void)state;
	assert_int_equal(rtv_netrt_server_open(&scfg), -EINVAL);
	client_cfg(&cfg, 9);
	cfg.ol.count = 1;
	cfg.payload = RTV_NETRT_MIN_PAYLOAD - 1;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), -EINVAL);
	assert_int_equal(r->sent, 0);
	assert_int_equal(r->rtt.count, 0);
	cfg.payload = 0; /* the default */
	cfg.ol.count = 0;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), -EINVAL);
	cfg.ol.duration_ns = RTV_NS_PER_S;
	cfg.ol.warmup_ns = RTV_NS_PER_S;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), -EINVAL);
	cfg.ol.warmup_ns = 0;
	cfg.ol.addr = "localhost"; /* numeric only */
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), -EINVAL);
	cfg.ol.addr = LOOPBACK;
	cfg.ol.interval.min_ns = 2;
	cfg.ol.interval.max_ns = 1;
	assert_int_equal(rtv_netrt_client_run(&cfg, &no_stop, r), -EINVAL);
	free(r);
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

static void test_hist_json(void **state)
{
	struct rtv_hist *h = malloc(sizeof(*h));
	char *dumped;
	json_t *o;
	int i;

	(void)state;
	assert_non_null(h);
	rtv_hist_init(h);
	o = rtv_netrt_hist_json(h, 3);
	assert_non_null(o);
	assert_int_equal(num(o, "count"), 0);
	assert_int_equal(num(o, "lost"), 3);
	assert_true(json_is_null(json_object_get(o, "p50")));
	assert_true(json_is_null(json_object_get(o, "over_1ms_pct")));
	dumped = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | RTV_JSON_PRECISION);
	assert_non_null(dumped);
	assert_string_equal(dumped, "{\"count\":0,\"lost\":3,\"mean\":null,\"sd\":null,"
			    "\"min\":null,\"p50\":null,\"p90\":null,\"p99\":null,\"p999\":null,"
			    "\"p9999\":null,\"max\":null,\"over_1ms_pct\":null}");
	free(dumped);
	json_decref(o);

	/* 10, 20, ... 990 us and one of 2 ms */
	for (i = 1; i <= 99; i++)
		rtv_hist_record(h, i * 10 * RTV_NS_PER_US);
	rtv_hist_record(h, 2 * RTV_NS_PER_MS);
	o = rtv_netrt_hist_json(h, 0);
	assert_non_null(o);
	assert_int_equal(num(o, "count"), 100);
	assert_int_equal(num(o, "lost"), 0);
	assert_true(num(o, "min") == 10.0);
	assert_true(num(o, "max") == 2000.0);
	/* nearest rank: the 50th and 99th samples, within the histogram's 0.4% */
	assert_true(num(o, "p50") > 500.0 * 0.996 && num(o, "p50") < 500.0 * 1.004);
	assert_true(num(o, "p99") > 990.0 * 0.996 && num(o, "p99") < 990.0 * 1.004);
	assert_true(num(o, "p9999") == 2000.0);
	/* only the 2 ms sample is above 1 ms */
	assert_true(num(o, "over_1ms_pct") > 0.999 && num(o, "over_1ms_pct") < 1.001);
	assert_true(num(o, "mean") > 0 && num(o, "sd") > 0);
	assert_non_null(json_object_get(o, "p90"));
	assert_non_null(json_object_get(o, "p999"));
	assert_non_null(json_object_get(o, "p9999"));
	/* the whole object, keys in order (as before rtv_hist_json existed) */
	dumped = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | RTV_JSON_PRECISION);
	assert_non_null(dumped);
	assert_string_equal(dumped, "{\"count\":100,\"lost\":0,\"mean\":515,\"sd\":321.131,"
			    "\"min\":10,\"p50\":500.736,\"p90\":899.072,\"p99\":989.184,"
			    "\"p999\":2000,\"p9999\":2000,\"max\":2000,\"over_1ms_pct\":1}");
	free(dumped);
	json_decref(o);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_samples_many),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_open_loop),
		cmocka_unit_test(test_client_stalled),
		cmocka_unit_test(test_stray_and_duplicates),
		cmocka_unit_test(test_warmup),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_any_replies_from_dest),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_bad_cfg),
		cmocka_unit_test(test_hist_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
