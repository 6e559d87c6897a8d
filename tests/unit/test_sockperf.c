/* Unit tests for lib/probe/sockperf: the command lines, and the parse of
 * the client's output of Debian's sockperf 3.7 captured on loopback on this
 * project's test machine (tests/unit/data/sockperf/, made by capture.sh
 * there: each NAME.txt is stdout and stderr of the command in NAME.cmd):
 *   ul-1000-m18, ul-1000-m1472, ul-20000-m18, ul-20000-m1472
 *       under-load --mps 1000/20000 -m 18/1472 -t 2 --full-rtt --reply-every 1
 *       (ul-20000-m1472 lost 2370 replies on the busy machine)
 *   ul-1000-m18-half     the same without --full-rtt (avg-latency: RTT / 2)
 *   ul-1000-m18-nordtsc  with --no-rdtsc: 955 messages sent in 2 s
 *   ul-2000000-m18       a rate it cannot reach: drops, "rate is too high"
 *   ul-m13               -m 13: refused, usage, no summary
 *   ul-noserver          no server: "No messages were received"
 *   edited-dup-ooo       ul-1000-m18 with its drop line edited by hand to
 *                        5 dropped, 3 duplicated, 2 out-of-order
 * The expected figures (table below) were read off the files by an awk
 * script, each µs figure "64.230" written as ns by dropping its point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "probe/sockperf.h"

#ifndef RTV_TEST_DATA_DIR
#error "RTV_TEST_DATA_DIR: tests/unit/meson.build passes it"
#endif

#define SOCKPERF "/usr/bin/sockperf"

/* The fixture data/sockperf/name, NUL-terminated; the caller frees it. */
static char *slurp(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/sockperf/%s", RTV_TEST_DATA_DIR, name);
	return rtv_test_slurp(path, NULL);
}

static void assert_argv(char **argv, int n, const char *const *want)
{
	int i;

	for (i = 0; want[i]; i++) {
		assert_true(i < n);
		assert_string_equal(argv[i], want[i]);
	}
	assert_int_equal(n, i);
	assert_null(argv[n]);
}

static void test_server_argv(void **state)
{
	char buf[256], *argv[RTV_SOCKPERF_MAX_ARGS];
	const char *const want[] = { SOCKPERF, "server", "-i", "10.0.0.2", "-p", "11111", NULL };
	int n;

	(void)state;
	n = rtv_sockperf_server_argv(SOCKPERF, "10.0.0.2", 11111, buf, sizeof(buf), argv,
				     RTV_SOCKPERF_MAX_ARGS);
	assert_argv(argv, n, want);
	assert_true(argv[0] >= buf && argv[0] < buf + sizeof(buf)); /* copied into buf */
	assert_int_equal(rtv_sockperf_server_argv(SOCKPERF, "10.0.0.2", 0, buf, sizeof(buf), argv, 24),
			 -EINVAL);
	assert_int_equal(rtv_sockperf_server_argv(SOCKPERF, "fd00::2", 1, buf, sizeof(buf), argv, 24),
			 -EINVAL);
	assert_int_equal(rtv_sockperf_server_argv(SOCKPERF, "10.0.0", 1, buf, sizeof(buf), argv, 24),
			 -EINVAL);
	assert_int_equal(rtv_sockperf_server_argv("", "10.0.0.2", 1, buf, sizeof(buf), argv, 24),
			 -EINVAL);
	assert_int_equal(rtv_sockperf_server_argv(NULL, "10.0.0.2", 1, buf, sizeof(buf), argv, 24),
			 -EINVAL);
	/* 6 arguments and the NULL: 7 entries; "/usr/bin/sockperf" ... 53 bytes */
	assert_int_equal(rtv_sockperf_server_argv(SOCKPERF, "10.0.0.2", 1, buf, sizeof(buf), argv, 6),
			 -E2BIG);
	assert_int_equal(rtv_sockperf_server_argv(SOCKPERF, "10.0.0.2", 1, buf, sizeof(buf), argv, 7),
			 6);
	assert_int_equal(rtv_sockperf_server_argv(SOCKPERF, "10.0.0.2", 1, buf, 20, argv, 7), -E2BIG);
}

static void test_client_argv(void **state)
{
	char buf[256], *argv[RTV_SOCKPERF_MAX_ARGS];
	struct rtv_sockperf_client_cfg c = {
		.path = "sockperf", .addr = "10.0.0.2", .port = 11111,
		.mps = 20000.4, .msg_size = 18, .seconds = 10,
	};
	const char *const want[] = { "sockperf", "under-load", "-i", "10.0.0.2", "-p", "11111",
				     "--mps", "20000", "-m", "18", "-t", "10", "--full-rtt",
				     "--reply-every", "1", NULL };
	struct rtv_sockperf_client_cfg bad;
	int n;

	(void)state;
	n = rtv_sockperf_client_argv(&c, buf, sizeof(buf), argv, RTV_SOCKPERF_MAX_ARGS);
	assert_argv(argv, n, want);
	c.mps = 1499.5; /* rounded to nearest */
	n = rtv_sockperf_client_argv(&c, buf, sizeof(buf), argv, RTV_SOCKPERF_MAX_ARGS);
	assert_int_equal(n, 15);
	assert_string_equal(argv[7], "1500");
	c.mps = 20000;

	bad = c, bad.msg_size = 13;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.msg_size = 14;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), 15);
	bad = c, bad.msg_size = 65508;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.mps = 0.4;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.mps = NAN;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.mps = 10000001;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.seconds = 0;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.port = 0;
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	bad = c, bad.addr = "host";
	assert_int_equal(rtv_sockperf_client_argv(&bad, buf, sizeof(buf), argv, 24), -EINVAL);
	assert_int_equal(rtv_sockperf_client_argv(NULL, buf, sizeof(buf), argv, 24), -EINVAL);
	assert_int_equal(rtv_sockperf_client_argv(&c, buf, sizeof(buf), argv, 15), -E2BIG);
	assert_int_equal(rtv_sockperf_client_argv(&c, buf, sizeof(buf), argv, 16), 15);
	assert_int_equal(rtv_sockperf_client_argv(&c, buf, 40, argv, 24), -E2BIG);
}

/* What each capture says: ns figures are its µs with the point dropped. */
struct want {
	const char *file;
	int rtt;
	int64_t avg, sd, p25, p50, p99, p999, max, min;
	uint64_t obs, sent, recv, dropped, dup, ooo, tsent, trecv;
	double trun, vrun;
	int too_high;
};

static const struct want wants[] = {
	{ "ul-1000-m18", 1, 97502, 188853, 62307, 64230, 677385, 2687089, 3802810, 23554, 1550, 1550, 1550, 0, 0, 0, 2001, 2001, 2.000, 1.549, 0 },
	{ "ul-1000-m1472", 1, 74013, 86400, 63729, 65082, 331974, 970947, 1780370, 37731, 1549, 1549, 1549, 0, 0, 0, 2001, 2001, 2.001, 1.548, 0 },
	{ "ul-20000-m18", 1, 473775, 1117724, 27441, 28143, 5172095, 6273092, 6915774, 14036, 31009, 31009, 31009, 0, 0, 0, 40010, 40010, 2.000, 1.550, 0 },
	{ "ul-20000-m1472", 1, 409858, 829910, 43642, 53570, 4554168, 7743128, 8565695, 13254, 28672, 31042, 28672, 2370, 0, 0, 40010, 35654, 2.001, 1.542, 0 },
	{ "ul-1000-m18-half", 0, 125688, 344868, 24290, 26039, 1836942, 2341307, 2783609, 14457, 1549, 1549, 1549, 0, 0, 0, 2001, 2001, 2.000, 1.548, 0 },
	{ "ul-1000-m18-nordtsc", 1, 73644, 54170, 66095, 68559, 125367, 288132, 1222415, 31660, 504, 504, 504, 0, 0, 0, 955, 955, 2.001, 1.054, 0 },
	{ "ul-2000000-m18", 1, 3500104, 1522321, 2563485, 3502259, 7928604, 9057605, 10955911, 32460, 101808, 370840, 101808, 269367, 0, 0, 444251, 135785, 2.000, 1.554, 1 },
	{ "edited-dup-ooo.txt", 1, 97502, 188853, 62307, 64230, 677385, 2687089, 3802810, 23554, 1550, 1550, 1550, 5, 3, 2, 2001, 2001, 2.000, 1.549, 0 },
};

static void check(const struct want *w, const struct rtv_sockperf_result *r)
{
	assert_int_equal(r->rtt, w->rtt);
	assert_true(r->avg_ns == (double)w->avg);
	assert_true(r->stddev_ns == (double)w->sd);
	assert_true(r->p25_ns == (double)w->p25);
	assert_true(r->p50_ns == (double)w->p50);
	assert_true(r->p99_ns == (double)w->p99);
	assert_true(r->p999_ns == (double)w->p999);
	assert_true(r->max_ns == (double)w->max);
	assert_true(r->min_ns == (double)w->min);
	assert_int_equal(r->observations, w->obs);
	assert_int_equal(r->sent_messages, w->sent);
	assert_int_equal(r->received_messages, w->recv);
	assert_int_equal(r->dropped_messages, w->dropped);
	assert_int_equal(r->duplicated_messages, w->dup);
	assert_int_equal(r->ooo_messages, w->ooo);
	assert_int_equal(r->total_sent, w->tsent);
	assert_int_equal(r->total_received, w->trecv);
	assert_true(r->total_run_s == w->trun);
	assert_true(r->valid_run_s == w->vrun);
	assert_true(fabs(r->achieved_mps - (double)w->tsent / w->trun) < 1e-9);
	assert_int_equal(r->warmup_ms, 400);
	assert_int_equal(r->rate_too_high, w->too_high);
	/* the order sockperf's percentiles must have */
	assert_true(r->min_ns <= r->p25_ns && r->p25_ns <= r->p50_ns && r->p50_ns <= r->p75_ns &&
		    r->p75_ns <= r->p90_ns && r->p90_ns <= r->p99_ns && r->p99_ns <= r->p999_ns &&
		    r->p999_ns <= r->p9999_ns && r->p9999_ns <= r->p99999_ns &&
		    r->p99999_ns <= r->max_ns);
}

static void test_parse_captures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		char name[64], *text;
		struct rtv_sockperf_result r;

		snprintf(name, sizeof(name), "%s%s", wants[i].file,
			 strstr(wants[i].file, ".txt") ? "" : ".txt");
		text = slurp(name);
		memset(&r, 0, sizeof(r));
		assert_int_equal(rtv_sockperf_parse(text, &r), 0);
		check(&wants[i], &r);
		free(text);
	}
}

/* The ANSI colour codes are not what the parse relies on. */
static void test_parse_plain(void **state)
{
	char *text = slurp("ul-20000-m1472.txt"), *d = text;
	struct rtv_sockperf_result r;

	(void)state;
	for (const char *s = text; *s;) {
		if (s[0] == '\033' && s[1] == '[') {
			s += strcspn(s, "m") + 1;
			continue;
		}
		*d++ = *s++;
	}
	*d = '\0';
	assert_null(strchr(text, '\033'));
	assert_int_equal(rtv_sockperf_parse(text, &r), 0);
	check(&wants[3], &r);
	free(text);
}

static void test_parse_refused(void **state)
{
	struct rtv_sockperf_result r = { .observations = 77 };
	char *text;
	size_t len;

	(void)state;
	text = slurp("ul-m13.txt");
	assert_int_equal(rtv_sockperf_parse(text, &r), -EINVAL);
	free(text);
	text = slurp("ul-noserver.txt");
	assert_int_equal(rtv_sockperf_parse(text, &r), -EINVAL);
	free(text);
	assert_int_equal(rtv_sockperf_parse("", &r), -EINVAL);
	assert_int_equal(rtv_sockperf_parse("garbage\n\x01\x02 ---> percentile = x\n", &r), -EINVAL);
	assert_int_equal(rtv_sockperf_parse(NULL, &r), -EINVAL);
	assert_int_equal(r.observations, 77); /* untouched */

	/* every cut before its last line's end: no "<MIN> observation" line */
	text = slurp("ul-1000-m18.txt");
	len = strlen(text);
	assert_non_null(strstr(text, "<MIN> observation =   23.554\n"));
	for (size_t cut = 0; cut < len; cut++) {
		char c = text[cut];

		if (cut >= len - strlen("23.554\n") + 1)
			break; /* "23.55" would still be a MIN line */
		text[cut] = '\0';
		assert_int_equal(rtv_sockperf_parse(text, &r), -EINVAL);
		text[cut] = c;
	}
	assert_int_equal(rtv_sockperf_parse(text, NULL), -EINVAL);
	assert_int_equal(rtv_sockperf_parse(text, &r), 0);
	free(text);
}

/* A free UDP port on 127.0.0.1 (bound, read, closed). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* One real run on loopback: 1 s at 1000 messages/s (0.55 s measured). */
static void test_live(void **state)
{
	char sbuf[256], cbuf[256], *sargv[RTV_SOCKPERF_MAX_ARGS], *cargv[RTV_SOCKPERF_MAX_ARGS];
	static char out[1 << 16];
	struct rtv_sockperf_result r;
	size_t used = 0;
	pid_t server, client;
	int pfd[2], status;
	uint16_t port;
	ssize_t n;

	(void)state;
	if (access(SOCKPERF, X_OK)) {
		skip(); /* sockperf is not installed (apt-get install sockperf) */
		return;
	}
	port = free_port();
	struct rtv_sockperf_client_cfg c = { SOCKPERF, "127.0.0.1", port, 1000, 18, 1, NULL, NULL };

	assert_true(rtv_sockperf_server_argv(SOCKPERF, "127.0.0.1", port, sbuf, sizeof(sbuf), sargv,
					     RTV_SOCKPERF_MAX_ARGS) > 0);
	assert_true(rtv_sockperf_client_argv(&c, cbuf, sizeof(cbuf), cargv, RTV_SOCKPERF_MAX_ARGS) > 0);
	server = fork();
	assert_true(server >= 0);
	if (!server) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(SOCKPERF, sargv);
		_exit(127);
	}
	usleep(300000); /* listening */
	assert_int_equal(pipe(pfd), 0);
	client = fork();
	assert_true(client >= 0);
	if (!client) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		execv(SOCKPERF, cargv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + used, sizeof(out) - 1 - used)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(client, &status, 0), client);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	if (rtv_sockperf_parse(out, &r))
		fail_msg("sockperf's output has no summary:\n%s", out);
	assert_true(isfinite(r.p50_ns) && r.p50_ns > 0);
	assert_true(r.observations > 0);
	assert_int_equal(r.rtt, 1);
	assert_true(r.min_ns <= r.p50_ns && r.p50_ns <= r.max_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_argv),
		cmocka_unit_test(test_client_argv),
		cmocka_unit_test(test_parse_captures),
		cmocka_unit_test(test_parse_plain),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
