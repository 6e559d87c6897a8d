/* poller_tool: drives lib/methods/poller.c from the shell for the
 * integration tests (t0620-poller-veth.sh), with a small UDP sender and
 * receiver. Built with the unit tests, never installed, not a user
 * interface.
 *
 *   poller_tool probe
 *   poller_tool run busy|hybrid CPU SECONDS NAPI_ID[:NETNS:DEV]... [-- OPTIONS]
 *         options: idle=DURATION slice=DURATION end=sqe|wait cpufreq=ROOT
 *                  sample=DURATION policy=other|fifo|rr prio=N
 *   poller_tool send ADDR PORT COUNT INTERVAL [BURST GAP]
 *         UDP, INTERVAL apart (a duration, µs if bare); with BURST, GAP
 *         instead of INTERVAL after every BURST packets
 *   poller_tool recv PORT SECONDS [COUNT]         (UDP; stops at COUNT)
 *
 * run prints "started tid=N" once the poller polls, "sample ..." lines every
 * sample= (if given), then the final "stats ..." line and "stopped
 * stop_ns=N fds_before=N fds_after=N threads_before=N threads_after=N". It
 * ends early on SIGINT/SIGTERM. probe prints "ok" or the error's name. On
 * failure prints "poller_tool: cannot ...: MESSAGE (ERRNONAME)" to stderr
 * and exits 1; exits 2 on a usage error. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/sched.h"
#include "methods/poller.h"
#include "util/parse.h"
#include "util/time.h"

#ifndef SO_INCOMING_NAPI_ID
#define SO_INCOMING_NAPI_ID 56
#endif

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int fail(const char *what, const char *obj, int err)
{
	const char *name = strerrorname_np(-err);

	fprintf(stderr, "poller_tool: cannot %s '%s': %s (%s)\n", what, obj, strerror(-err),
		name ? name : "?");
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: poller_tool probe\n"
		"       poller_tool run busy|hybrid CPU SECONDS NAPI_ID[:NETNS:DEV]... [-- OPTIONS]\n"
		"         options: idle=DURATION slice=DURATION end=sqe|wait cpufreq=ROOT\n"
		"                  sample=DURATION policy=other|fifo|rr prio=N\n"
		"       poller_tool send ADDR PORT COUNT INTERVAL [BURST GAP]\n"
		"       poller_tool recv PORT SECONDS [COUNT]\n");
	return 2;
}

/* entries of a /proc directory, "." and ".." not counted */
static int count_dir(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Start and join one thread, so that a helper thread a runtime starts with
 * the first pthread_create() (ThreadSanitizer's) is there before threads are
 * counted, not counted as left behind by the poller. */
static void first_thread(void)
{
	pthread_t th;

	if (!pthread_create(&th, NULL, nothing, NULL))
		pthread_join(th, NULL);
}

/* open fds, the one opendir() uses to count them left out */
static int count_fds(void)
{
	return count_dir("/proc/self/fd") - 1;
}

static void print_stats(const char *tag, const struct rtv_poller_stats *s)
{
	printf("%s tid=%d running=%d error=%d cpufreq=%d polls=%" PRIu64 " frames=%" PRIu64
	       " sleeps=%" PRIu64 " wakeups=%" PRIu64 " freq_writes=%" PRIu64
	       " freq_errors=%" PRIu64 " asleep_ns=%" PRId64 " cpu_ns=%" PRId64
	       " wall_ns=%" PRId64 " wake_n=%" PRIu64 " wake_p50_ns=%" PRId64
	       " wake_p99_ns=%" PRId64 " wake_max_ns=%" PRId64 "\n",
	       tag, (int)s->tid, s->running, s->error, s->cpufreq, s->polls, s->frames, s->sleeps,
	       s->wakeups, s->freq_writes, s->freq_errors, s->asleep_ns, s->cpu_ns, s->wall_ns,
	       s->wake.count, rtv_hist_percentile(&s->wake, 50), rtv_hist_percentile(&s->wake, 99),
	       s->wake.count ? s->wake.max_ns : 0);
	fflush(stdout);
}

static int parse_napi(const char *arg, struct rtv_poller_cfg *c)
{
	char buf[128], *ns, *dev;
	long long id;
	int i = c->nnapi;

	if (i == RTV_POLLER_NAPI_MAX || snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -EINVAL;
	ns = strchr(buf, ':');
	dev = NULL;
	if (ns) {
		*ns++ = '\0';
		dev = strchr(ns, ':');
		if (!dev)
			return -EINVAL;
		*dev++ = '\0';
		if (strlen(ns) >= sizeof(c->netns[0]) || strlen(dev) >= sizeof(c->dev[0]))
			return -EINVAL;
		snprintf(c->netns[i], sizeof(c->netns[0]), "%s", ns);
		snprintf(c->dev[i], sizeof(c->dev[0]), "%s", dev);
	}
	if (rtv_parse_ll(buf, 1, UINT32_MAX, &id) < 0)
		return -EINVAL;
	c->napi_id[i] = (uint32_t)id;
	c->nnapi++;
	return 0;
}

static int parse_opt(const char *arg, struct rtv_poller_cfg *c, int64_t *sample_ns)
{
	long long v;

	if (!strncmp(arg, "idle=", 5))
		return rtv_parse_duration(arg + 5, RTV_NS_PER_MS, &c->idle_ns);
	if (!strncmp(arg, "slice=", 6))
		return rtv_parse_duration(arg + 6, RTV_NS_PER_US, &c->slice_ns);
	if (!strcmp(arg, "end=sqe") || !strcmp(arg, "end=wait")) {
		c->slice_end = arg[4] == 's' ? RTV_POLLER_SLICE_SQE : RTV_POLLER_SLICE_WAIT;
		return 0;
	}
	if (!strncmp(arg, "sample=", 7))
		return rtv_parse_duration(arg + 7, RTV_NS_PER_MS, sample_ns);
	if (!strncmp(arg, "cpufreq=", 8)) {
		c->cpufreq_root = arg + 8;
		return 0;
	}
	if (!strncmp(arg, "policy=", 7))
		return rtv_sched_policy_parse(arg + 7, &c->policy);
	if (!strncmp(arg, "prio=", 5)) {
		if (rtv_parse_ll(arg + 5, 0, 99, &v) < 0)
			return -EINVAL;
		c->prio = (int)v;
		return 0;
	}
	return -EINVAL;
}

static int cmd_run(int argc, char **argv)
{
	struct rtv_poller_cfg c;
	struct rtv_poller_stats s;
	struct rtv_poller *p = NULL;
	int64_t sample_ns = 0, run_ns, start, next, t0;
	long long cpu, secs;
	int i, err, fds0, fds1, thr0, thr1;

	memset(&c, 0, sizeof(c));
	if (argc < 4 || rtv_parse_ll(argv[1], -1, CPU_SETSIZE - 1, &cpu) < 0 ||
	    rtv_parse_ll(argv[2], 0, 3600, &secs) < 0)
		return usage();
	if (!strcmp(argv[0], "busy"))
		c.mode = RTV_POLLER_BUSY;
	else if (!strcmp(argv[0], "hybrid"))
		c.mode = RTV_POLLER_HYBRID;
	else
		return usage();
	c.cpu = (int)cpu;
	for (i = 3; i < argc && strcmp(argv[i], "--"); i++)
		if (parse_napi(argv[i], &c) < 0)
			return usage();
	for (i++; i < argc; i++)
		if (parse_opt(argv[i], &c, &sample_ns) < 0)
			return usage();
	run_ns = secs * RTV_NS_PER_S;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	first_thread();
	fds0 = count_fds();
	thr0 = count_dir("/proc/self/task");
	err = rtv_poller_start(&p, &c);
	if (err < 0)
		return fail("start a poller on CPU", argv[1], err);
	rtv_poller_stats(p, &s);
	printf("started tid=%d cpufreq=%d\n", (int)s.tid, s.cpufreq);
	fflush(stdout);

	start = rtv_now_ns();
	next = sample_ns ? start + sample_ns : INT64_MAX;
	while (!quit) {
		int64_t now = rtv_now_ns(), until = start + run_ns;

		if (now >= until)
			break;
		if (now >= next) {
			rtv_poller_stats(p, &s);
			print_stats("sample", &s);
			next += sample_ns;
		}
		if (next < until)
			until = next;
		if (until - now > 50 * RTV_NS_PER_MS) /* see a signal soon */
			until = now + 50 * RTV_NS_PER_MS;
		rtv_sleep_until_ns(until);
	}
	rtv_poller_stats(p, &s);
	print_stats("final", &s);
	t0 = rtv_now_ns();
	rtv_poller_stop(p);
	t0 = rtv_now_ns() - t0;
	fds1 = count_fds();
	thr1 = count_dir("/proc/self/task");
	printf("stopped stop_ns=%" PRId64 " fds_before=%d fds_after=%d threads_before=%d "
	       "threads_after=%d\n", t0, fds0, fds1, thr0, thr1);
	return s.error ? fail("keep polling on CPU", argv[1], s.error) : 0;
}

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	char payload[64];
	long long port, n, burst = 0;
	int64_t gap_ns, burst_gap_ns = 0, t;
	int fd, sent = 0;

	if ((argc != 4 && argc != 6) || inet_pton(AF_INET, argv[0], &to.sin_addr) != 1 ||
	    rtv_parse_ll(argv[1], 1, 65535, &port) < 0 || rtv_parse_ll(argv[2], 0, 100000000, &n) < 0 ||
	    rtv_parse_duration(argv[3], RTV_NS_PER_US, &gap_ns) < 0 ||
	    (argc == 6 && (rtv_parse_ll(argv[4], 1, 100000000, &burst) < 0 ||
			   rtv_parse_duration(argv[5], RTV_NS_PER_US, &burst_gap_ns) < 0)))
		return usage();
	to.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("open a UDP socket to", argv[0], -errno);
	memset(payload, 'r', sizeof(payload));
	t = rtv_now_ns();
	for (long long i = 0; i < n && !quit; i++) {
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			sent++;
		t += burst && (i + 1) % burst == 0 ? burst_gap_ns : gap_ns;
		if (t > rtv_now_ns())
			rtv_sleep_until_ns(t);
	}
	close(fd);
	printf("sent=%d\n", sent);
	return 0;
}

static int cmd_recv(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	long long port, secs, want = -1;
	unsigned napi_id = 0;
	int64_t end;
	int fd, got = 0;
	char buf[2048];

	if ((argc != 2 && argc != 3) || rtv_parse_ll(argv[0], 1, 65535, &port) < 0 ||
	    rtv_parse_ll(argv[1], 0, 3600, &secs) < 0 ||
	    (argc == 3 && rtv_parse_ll(argv[2], 0, 100000000, &want) < 0))
		return usage();
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return fail("receive on UDP port", argv[0], -errno);
	printf("listening\n");
	fflush(stdout);
	end = rtv_now_ns() + secs * RTV_NS_PER_S;
	while (!quit && rtv_now_ns() < end && (want < 0 || got < want)) {
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			continue;
		if (!got) {
			socklen_t len = sizeof(napi_id);

			getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi_id, &len);
		}
		got++;
	}
	close(fd);
	printf("received=%d napi_id=%u\n", got, napi_id);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "probe") && argc == 2) {
		int err = rtv_poller_probe();
		const char *name = strerrorname_np(-err);

		if (!err) {
			printf("ok\n");
			return 0;
		}
		printf("%s\n", name ? name : "?");
		return fail("use io_uring static NAPI tracking", "io_uring", err);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 2, argv + 2);
	if (!strcmp(argv[1], "recv"))
		return cmd_recv(argc - 2, argv + 2);
	return usage();
}
