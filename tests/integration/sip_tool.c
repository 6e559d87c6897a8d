/* Drives lib/proto/sip.c against the real Kamailio and SIPp (the unit test's
 * captures in tests/unit/data/sip*, checks by hand and integration tests):
 *   sip_tool uas ADDR PORT                   serve until SIGINT/SIGTERM, then print the counts
 *   sip_tool capture ADDR PORT DIR           receive one request, write DIR/request.bin, answer
 *                                            it 200, write DIR/response.bin
 *   sip_tool send LADDR LPORT PROXY PPORT RURI N MAXFWD DIR
 *                                            N OPTIONS (MAXFWD < 0: no header), each answered
 *                                            within 1 s; the replies in DIR/reply<i>.bin; prints
 *                                            status, tag and seq matched, and the time each took
 *   sip_tool kamcfg ADDR PORT UADDR UPORT CHILDREN    the Kamailio configuration to stdout
 *   sip_tool kamargv KAMAILIO CFG RUNDIR              its argv, one per line
 *   sip_tool scenario RURI                            the SIPp scenario to stdout
 *   sip_tool sippargv SCEN PROXY PPORT LADDR RATE CALLS   SIPp's argv, one per line
 *   sip_tool rtt FILE                                 parse a SIPp rtt file: count, p50, max
 * Exit 0, 1 on failure, 2 on usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "proto/sip.h"
#include "stats/hist.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int bound(const char *addr, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("sip_tool: bind");
		exit(1);
	}
	return fd;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmd_send(char **av)
{
	static char buf[65536], out[2048];
	struct rtv_sip_req r = { .method = "OPTIONS", .ruri = av[4], .via_host = av[0],
				 .via_port = (uint16_t)atoi(av[1]), .from_uri = "sip:rtv@rtvnet",
				 .to_uri = av[4], .tag = 0x0123456789abcdefull,
				 .max_forwards = atoi(av[6]) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(av[3])) };
	struct timeval tv = { 1, 0 };
	int fd = bound(av[0], av[1]), n = atoi(av[5]), bad = 0;

	inet_pton(AF_INET, av[2], &to.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < n; i++) {
		struct rtv_sip_msg m;
		uint64_t tag, seq;
		ssize_t len, got;
		int64_t t0;
		char name[32];

		r.seq = (uint64_t)i;
		r.cseq = (uint32_t)i + 1;
		len = rtv_sip_encode(&r, out, sizeof(out));
		t0 = now_ns();
		if (len < 0 || sendto(fd, out, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) != len) {
			perror("sip_tool: send");
			return 1;
		}
		got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0) {
			printf("%d: no reply\n", i);
			bad++;
			continue;
		}
		snprintf(name, sizeof(name), "reply%d.bin", i);
		write_file(av[7], name, buf, (size_t)got);
		if (rtv_sip_parse(buf, (size_t)got, &m) || rtv_sip_call_id(&m, &tag, &seq) ||
		    tag != r.tag || seq != r.seq || m.cseq != r.cseq) {
			printf("%d: reply not matched\n", i);
			bad++;
			continue;
		}
		printf("%d: %d %.*s seq %" PRIu64 " in %" PRId64 " ns\n", i, m.status,
		       (int)m.reason.len, m.reason.p, seq, now_ns() - t0);
	}
	return bad ? 1 : 0;
}

static int cmd_capture(char **av)
{
	static char buf[65536], out[65536];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct rtv_sip_msg m;
	int fd = bound(av[0], av[1]);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), rn;

	if (n < 0 || rtv_sip_parse(buf, (size_t)n, &m)) {
		fprintf(stderr, "sip_tool: no request parsed\n");
		return 1;
	}
	write_file(av[2], "request.bin", buf, (size_t)n);
	rn = rtv_sip_response(&m, 200, "OK", 0xfedcba9876543210ull, out, sizeof(out));
	if (rn < 0 || sendto(fd, out, (size_t)rn, 0, (struct sockaddr *)&from, fl) != rn)
		return 1;
	write_file(av[2], "response.bin", out, (size_t)rn);
	return 0;
}

static int cmd_uas(char **av)
{
	struct rtv_sip_uas_stats st = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	int fd = bound(av[0], av[1]), err;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = rtv_sip_uas_serve(fd, &stop, &st);
	printf("requests %" PRIu64 " answered %" PRIu64 " malformed %" PRIu64 "\n", st.requests,
	       st.answered, st.malformed);
	return err ? 1 : 0;
}

static int print_argv(int n, char **argv)
{
	if (n < 0) {
		fprintf(stderr, "sip_tool: %s\n", strerror(-n));
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%s\n", argv[i]);
	return 0;
}

static int cmd_rtt(const char *path)
{
	static char text[1 << 22];
	static struct rtv_hist h;
	uint64_t count;
	FILE *f = fopen(path, "rb");
	size_t n;
	int err;

	if (!f)
		return 1;
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	rtv_hist_init(&h);
	err = rtv_sip_sipp_rtt_parse(text, n, &h, &count);
	if (err) {
		fprintf(stderr, "sip_tool: %s: %s\n", path, strerror(-err));
		return 1;
	}
	printf("count %" PRIu64 " p50 %" PRId64 " ns max %" PRId64 " ns\n", count,
	       rtv_hist_percentile(&h, 50), count ? h.max_ns : 0);
	return 0;
}

int main(int argc, char **argv)
{
	char buf[4096], *av[64];
	const char *c = argc > 1 ? argv[1] : "";

	if (!strcmp(c, "uas") && argc == 4)
		return cmd_uas(argv + 2);
	if (!strcmp(c, "capture") && argc == 5)
		return cmd_capture(argv + 2);
	if (!strcmp(c, "send") && argc == 10)
		return cmd_send(argv + 2);
	if (!strcmp(c, "kamcfg") && argc == 7)
		return rtv_sip_kamailio_cfg(stdout, argv[2], (uint16_t)atoi(argv[3]), argv[4],
					    (uint16_t)atoi(argv[5]), atoi(argv[6])) ? 1 : 0;
	if (!strcmp(c, "kamargv") && argc == 5)
		return print_argv(rtv_sip_kamailio_argv(argv[2], argv[3], argv[4], buf, sizeof(buf),
							av, 64), av);
	if (!strcmp(c, "scenario") && argc == 3)
		return rtv_sip_sipp_scenario(stdout, argv[2]) ? 1 : 0;
	if (!strcmp(c, "sippargv") && argc == 8) {
		struct rtv_sip_sipp_cfg sc = { .sipp_path = "/usr/bin/sipp", .scenario_path = argv[2],
					       .proxy_addr = argv[3],
					       .proxy_port = (uint16_t)atoi(argv[4]),
					       .local_addr = argv[5], .rate = atof(argv[6]),
					       .calls = strtoull(argv[7], NULL, 10),
					       .duration_ns = 0 };
		return print_argv(rtv_sip_sipp_argv(&sc, buf, sizeof(buf), av, 64), av);
	}
	if (!strcmp(c, "rtt") && argc == 3)
		return cmd_rtt(argv[2]);
	fprintf(stderr, "usage: see the top of tests/integration/sip_tool.c\n");
	return 2;
}
