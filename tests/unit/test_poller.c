/* Unit tests for lib/methods/poller.c.
 *
 * The hybrid state machine (EE-KBP's decisions) is driven with made-up
 * times against fake cpufreq trees, and every write is recorded, so the
 * exact sequence of cpufreq writes is checked. Then the poller itself:
 * configuration errors, the probe's documented codes, and short lifecycles
 * of real poller threads (skipped where io_uring static NAPI tracking is
 * missing; the hybrid one needs root, for a network namespace of its own
 * and a packet socket). Timing is never asserted beyond "eventually". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "methods/poller.h"
#include "util/time.h"

#include "fixture.h"

#define PATH_LEN 320
#define REC_MAX 16
#define MS RTV_NS_PER_MS
/* an id that no NAPI has but that io_uring accepts (>= NR_CPUS + 1) */
#define NO_SUCH_NAPI 0x7ffffff0u

struct rec {
	int n;
	int fail; /* calls that fail with -EPERM from now on */
	char path[REC_MAX][PATH_LEN];
	char value[REC_MAX][32];
};

static int record(void *arg, const char *path, const char *value)
{
	struct rec *r = arg;

	if (r->n == REC_MAX)
		return -ENOSPC;
	snprintf(r->path[r->n], PATH_LEN, "%s", path);
	snprintf(r->value[r->n], sizeof(r->value[0]), "%s", value);
	r->n++;
	if (r->fail) {
		r->fail--;
		return -EPERM;
	}
	return 0;
}

static int setup(void **state)
{
	return rtv_test_tree_setup(state, "poller");
}

static int teardown(void **state)
{
	return rtv_test_tree_teardown(state);
}

/* ---- the fake tree (as tests/unit/test_cpufreq.c makes it) ---- */

static void mkdir_in(const struct rtv_test_tree *fx, const char *name)
{
	rtv_test_mkdir_in(fx->root, name);
}

static void put(const struct rtv_test_tree *fx, const char *name, const char *s)
{
	rtv_test_put_in(fx->root, name, s);
}

static void read_file(const struct rtv_test_tree *fx, const char *name, char *buf, size_t len)
{
	char p[PATH_LEN];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", fx->root, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static void fake_cpu(const struct rtv_test_tree *fx, int cpu, const char *governor)
{
	char d[64], f[96], line[64];

	snprintf(d, sizeof(d), "cpu%d", cpu);
	mkdir_in(fx, d);
	snprintf(d, sizeof(d), "cpu%d/cpufreq", cpu);
	mkdir_in(fx, d);
	snprintf(line, sizeof(line), "%s\n", governor);
	snprintf(f, sizeof(f), "%s/scaling_governor", d);
	put(fx, f, line);
	snprintf(f, sizeof(f), "%s/cpuinfo_min_freq", d);
	put(fx, f, "800000\n");
	snprintf(f, sizeof(f), "%s/cpuinfo_max_freq", d);
	put(fx, f, "3000000\n");
	snprintf(f, sizeof(f), "%s/scaling_max_freq", d);
	put(fx, f, "3000000\n");
	snprintf(f, sizeof(f), "%s/scaling_setspeed", d);
	put(fx, f, strcmp(governor, "userspace") ? "<unsupported>\n" : "3000000\n");
}

static void expect_rec(const struct rtv_test_tree *fx, const struct rec *r, int i, const char *file,
		       const char *value)
{
	char want[PATH_LEN];

	assert_true(i < r->n);
	snprintf(want, sizeof(want), "%s/%s", fx->root, file);
	assert_string_equal(r->path[i], want);
	assert_string_equal(r->value[i], value);
}

static void probe_cpu1(const struct rtv_test_tree *fx, const char *governor, struct rtv_cpufreq *cf)
{
	fake_cpu(fx, 1, governor);
	assert_int_equal(rtv_cpufreq_probe(fx->root, 1, cf), 0);
}

/* ---- the hybrid state machine ---- */

/* traffic, then idle past idle_ns: exactly one "low" write */
static void test_idle_lowers_once(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	struct rec r = { 0 };

	probe_cpu1(fx, "userspace", &cf);
	rtv_hybrid_init(&h, 1 * MS, &cf, record, &r, 0);
	assert_int_equal(r.n, 0); /* starting writes nothing */
	assert_int_equal(rtv_hybrid_step(&h, MS / 2, 3), RTV_HYBRID_POLL);
	/* 0.7 ms since the last frame: still polling */
	assert_int_equal(rtv_hybrid_step(&h, 12 * MS / 10, 0), RTV_HYBRID_POLL);
	assert_int_equal(r.n, 0);
	/* exactly idle_ns since the last frame: sleep */
	assert_int_equal(rtv_hybrid_step(&h, 15 * MS / 10, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(r.n, 1);
	expect_rec(fx, &r, 0, "cpu1/cpufreq/scaling_setspeed", "800000");
	assert_true(h.asleep);
	assert_true(h.low);
	assert_int_equal(h.sleeps, 1);
	assert_int_equal(h.freq_writes, 1);
	/* repeated idle without a wake-up: no further writes */
	for (int i = 2; i < 50; i++)
		assert_int_equal(rtv_hybrid_step(&h, i * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(r.n, 1);
	assert_int_equal(h.sleeps, 1);
	assert_int_equal(h.wakeups, 0);
}

/* wake: exactly one "high" write; then a new idle period, one "low" */
static void test_wake_raises_once(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	struct rec r = { 0 };

	probe_cpu1(fx, "userspace", &cf);
	rtv_hybrid_init(&h, 2 * MS, &cf, record, &r, 10 * MS);
	assert_int_equal(rtv_hybrid_step(&h, 12 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(rtv_hybrid_step(&h, 50 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(rtv_hybrid_step(&h, 112 * MS, 2), RTV_HYBRID_WOKE);
	assert_int_equal(r.n, 2);
	expect_rec(fx, &r, 0, "cpu1/cpufreq/scaling_setspeed", "800000");
	expect_rec(fx, &r, 1, "cpu1/cpufreq/scaling_setspeed", "3000000");
	assert_false(h.asleep);
	assert_false(h.low);
	assert_int_equal(h.wakeups, 1);
	assert_int_equal(h.asleep_ns, 100 * MS);
	/* the wake-up restarted the idle clock */
	assert_int_equal(rtv_hybrid_step(&h, 113 * MS, 0), RTV_HYBRID_POLL);
	assert_int_equal(rtv_hybrid_step(&h, 113 * MS + 1, 5), RTV_HYBRID_POLL);
	assert_int_equal(rtv_hybrid_step(&h, 115 * MS, 0), RTV_HYBRID_POLL);
	assert_int_equal(r.n, 2);
	assert_int_equal(rtv_hybrid_step(&h, 115 * MS + 1, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(r.n, 3);
	expect_rec(fx, &r, 2, "cpu1/cpufreq/scaling_setspeed", "800000");
	assert_int_equal(h.sleeps, 2);
	assert_int_equal(h.freq_writes, 3);
	assert_int_equal(h.freq_errors, 0);
}

/* the end of the thread while asleep: one "high" write, time asleep closed;
 * a second release writes nothing */
static void test_release(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	struct rec r = { 0 };

	probe_cpu1(fx, "userspace", &cf);
	rtv_hybrid_init(&h, 0, &cf, record, &r, 0);
	/* idle_ns 0: the first step without frames sleeps */
	assert_int_equal(rtv_hybrid_step(&h, 1 * MS, 0), RTV_HYBRID_SLEEP);
	rtv_hybrid_release(&h, 31 * MS);
	assert_int_equal(r.n, 2);
	expect_rec(fx, &r, 1, "cpu1/cpufreq/scaling_setspeed", "3000000");
	assert_false(h.asleep);
	assert_false(h.low);
	assert_int_equal(h.asleep_ns, 30 * MS);
	rtv_hybrid_release(&h, 40 * MS);
	assert_int_equal(r.n, 2);
	assert_int_equal(h.asleep_ns, 30 * MS);

	/* released while polling at high: no write */
	r.n = 0;
	rtv_hybrid_init(&h, 5 * MS, &cf, record, &r, 0);
	assert_int_equal(rtv_hybrid_step(&h, 1 * MS, 1), RTV_HYBRID_POLL);
	rtv_hybrid_release(&h, 2 * MS);
	assert_int_equal(r.n, 0);
	assert_int_equal(h.asleep_ns, 0);
}

/* any other governor: scaling_max_freq carries the steps */
static void test_powersave_max_freq(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	struct rec r = { 0 };

	probe_cpu1(fx, "powersave", &cf);
	rtv_hybrid_init(&h, 1 * MS, &cf, record, &r, 0);
	assert_int_equal(rtv_hybrid_step(&h, 1 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(rtv_hybrid_step(&h, 9 * MS, 1), RTV_HYBRID_WOKE);
	assert_int_equal(rtv_hybrid_step(&h, 10 * MS, 0), RTV_HYBRID_SLEEP);
	rtv_hybrid_release(&h, 11 * MS);
	assert_int_equal(r.n, 4);
	expect_rec(fx, &r, 0, "cpu1/cpufreq/scaling_max_freq", "800000");
	expect_rec(fx, &r, 1, "cpu1/cpufreq/scaling_max_freq", "3000000");
	expect_rec(fx, &r, 2, "cpu1/cpufreq/scaling_max_freq", "800000");
	expect_rec(fx, &r, 3, "cpu1/cpufreq/scaling_max_freq", "3000000");
}

/* the real write callback on the fake tree: the file ends at the maximum */
static void test_plain_writes_end_high(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	char buf[64];

	probe_cpu1(fx, "userspace", &cf);
	rtv_hybrid_init(&h, 1 * MS, &cf, NULL, NULL, 0); /* NULL: write_plain */
	assert_int_equal(rtv_hybrid_step(&h, 2 * MS, 0), RTV_HYBRID_SLEEP);
	read_file(fx, "cpu1/cpufreq/scaling_setspeed", buf, sizeof(buf));
	assert_string_equal(buf, "800000");
	assert_int_equal(rtv_hybrid_step(&h, 3 * MS, 1), RTV_HYBRID_WOKE);
	read_file(fx, "cpu1/cpufreq/scaling_setspeed", buf, sizeof(buf));
	assert_string_equal(buf, "3000000");
	assert_int_equal(rtv_hybrid_step(&h, 5 * MS, 0), RTV_HYBRID_SLEEP);
	rtv_hybrid_release(&h, 6 * MS);
	read_file(fx, "cpu1/cpufreq/scaling_setspeed", buf, sizeof(buf));
	assert_string_equal(buf, "3000000");
	read_file(fx, "cpu1/cpufreq/scaling_max_freq", buf, sizeof(buf));
	assert_string_equal(buf, "3000000\n"); /* untouched */
	assert_int_equal(h.freq_errors, 0);
}

/* no cpufreq (the probe said -ENOENT, as on this VM): the same decisions,
 * no writes at all */
static void test_no_cpufreq(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	struct rec r = { 0 };

	mkdir_in(fx, "cpu0");
	assert_int_equal(rtv_cpufreq_probe(fx->root, 0, &cf), -ENOENT);
	rtv_hybrid_init(&h, 1 * MS, NULL, record, &r, 0);
	assert_int_equal(rtv_hybrid_step(&h, 2 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(rtv_hybrid_step(&h, 3 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(rtv_hybrid_step(&h, 4 * MS, 7), RTV_HYBRID_WOKE);
	rtv_hybrid_release(&h, 5 * MS);
	assert_int_equal(r.n, 0);
	assert_int_equal(h.freq_writes, 0);
	assert_int_equal(h.sleeps, 1);
	assert_int_equal(h.wakeups, 1);
	assert_int_equal(h.asleep_ns, 2 * MS);
}

/* a failed "low" is counted and is not followed by a "high" */
static void test_failed_write(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_cpufreq cf;
	struct rtv_hybrid h;
	struct rec r = { .fail = 1 };

	probe_cpu1(fx, "userspace", &cf);
	rtv_hybrid_init(&h, 1 * MS, &cf, record, &r, 0);
	assert_int_equal(rtv_hybrid_step(&h, 1 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(r.n, 1);
	assert_int_equal(h.freq_errors, 1);
	assert_int_equal(h.last_write_err, -EPERM);
	assert_false(h.low);
	assert_int_equal(rtv_hybrid_step(&h, 2 * MS, 1), RTV_HYBRID_WOKE);
	rtv_hybrid_release(&h, 3 * MS);
	assert_int_equal(r.n, 1); /* no "high" after the failed "low" */
	/* the next idle period tries again, and succeeds */
	assert_int_equal(rtv_hybrid_step(&h, 4 * MS, 0), RTV_HYBRID_SLEEP);
	assert_int_equal(r.n, 2);
	expect_rec(fx, &r, 1, "cpu1/cpufreq/scaling_setspeed", "800000");
	assert_true(h.low);
	assert_int_equal(rtv_hybrid_step(&h, 5 * MS, 1), RTV_HYBRID_WOKE);
	assert_int_equal(r.n, 3);
	expect_rec(fx, &r, 2, "cpu1/cpufreq/scaling_setspeed", "3000000");
	assert_int_equal(h.freq_writes, 3);
	assert_int_equal(h.freq_errors, 1);
}

/* ---- the poller ---- */

static int count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static void test_bad_cfg(void **state)
{
	struct rtv_poller_cfg c;
	struct rtv_poller *p = NULL;
	struct rtv_poller_stats s;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.cpu = -1;
	assert_int_equal(rtv_poller_start(&p, NULL), -EINVAL);
	assert_int_equal(rtv_poller_start(NULL, &c), -EINVAL);
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL); /* no NAPI */
	c.nnapi = RTV_POLLER_NAPI_MAX + 1;
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL);
	c.nnapi = 1;
	c.napi_id[0] = NO_SUCH_NAPI;
	c.idle_ns = -1;
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL);
	c.idle_ns = 0;
	c.mode = RTV_POLLER_HYBRID; /* without a device */
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL);
	c.mode = (enum rtv_poller_mode)7;
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL);
	c.mode = RTV_POLLER_BUSY;
	c.cpu = -2;
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL);
	assert_null(p);

	rtv_poller_stats(NULL, &s);
	assert_false(s.running);
	assert_int_equal(s.polls, 0);
	assert_int_equal(s.cpufreq, -ENOENT);
	assert_int_equal(s.wake.count, 0);
	rtv_poller_stop(NULL);
}

static void test_probe(void **state)
{
	int fds = count_fds(), err = rtv_poller_probe();

	(void)state;
	assert_true(err == 0 || err == -ENOSYS || err == -EPERM || err == -EOPNOTSUPP ||
		    err == -ENOMEM);
	assert_int_equal(rtv_poller_probe(), err); /* it changed nothing */
	assert_int_equal(count_fds(), fds);
}

static void read_comm(pid_t tid, char *buf, size_t len)
{
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/task/%d/comm", (int)tid);
	f = fopen(p, "re");
	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* wait up to 5 s for a condition on the stats */
#define WAIT_FOR(p, s, cond)                                              \
	do {                                                              \
		int64_t until_ = rtv_now_ns() + 5 * RTV_NS_PER_S;         \
		do {                                                      \
			rtv_poller_stats((p), &(s));                      \
			if (cond)                                         \
				break;                                    \
			usleep(5000);                                     \
		} while (rtv_now_ns() < until_);                          \
	} while (0)

/* a BUSY poller of a NAPI id no device has: the thread runs, is named and
 * pinned, counts its calls, and leaves nothing behind */
static void test_busy_lifecycle(void **state)
{
	struct rtv_poller_cfg c;
	struct rtv_poller *p = NULL;
	struct rtv_poller_stats s;
	char comm[32];
	cpu_set_t set;
	int fds = count_fds();

	(void)state;
	if (rtv_poller_probe())
		RTV_SKIP("needs io_uring-napi: io_uring static NAPI tracking (kernel 6.13 or later)");
	memset(&c, 0, sizeof(c));
	c.mode = RTV_POLLER_BUSY;
	c.cpu = 0;
	c.nnapi = 2;
	c.napi_id[0] = NO_SUCH_NAPI;
	c.napi_id[1] = NO_SUCH_NAPI; /* the same id twice is one NAPI */
	assert_int_equal(rtv_poller_start(&p, &c), 0);
	assert_non_null(p);
	rtv_poller_stats(p, &s);
	assert_true(s.running);
	assert_true(s.tid > 0 && s.tid != getpid());
	assert_int_equal(s.cpu, 0);
	assert_int_equal(s.cpufreq, -ENOENT);
	read_comm(s.tid, comm, sizeof(comm));
	assert_string_equal(comm, "rtv-poll/0");
	assert_int_equal(sched_getaffinity(s.tid, sizeof(set), &set), 0);
	assert_int_equal(CPU_COUNT(&set), 1);
	assert_true(CPU_ISSET(0, &set));
	WAIT_FOR(p, s, s.polls >= 3);
	assert_true(s.polls >= 3);
	assert_true(s.wall_ns > 0);
	assert_int_equal(s.error, 0);
	assert_int_equal(s.frames, 0);
	rtv_poller_stop(p);
	assert_int_equal(count_fds(), fds);

	/* an id the kernel refuses (below MIN_NAPI_ID) fails the start */
	c.cpu = -1;
	c.nnapi = 1;
	c.napi_id[0] = 1;
	p = NULL;
	assert_int_equal(rtv_poller_start(&p, &c), -EINVAL);
	assert_null(p);
	assert_int_equal(count_fds(), fds);
}

/* bring lo up in the test's own network namespace */
static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

static void send_udp(int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++)
		sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
}

/* a HYBRID poller watching lo of a private namespace: it falls asleep
 * (frequency low in the fake tree), a packet wakes it (frequency high, a
 * wake-up latency recorded), and stop leaves the frequency high */
static void test_hybrid_lifecycle(void **state)
{
	struct rtv_test_tree *fx = *state;
	struct rtv_poller_cfg c;
	struct rtv_poller *p = NULL;
	struct rtv_poller_stats s;
	char buf[64];
	int fds, err;

	if (rtv_poller_probe())
		RTV_SKIP("needs io_uring-napi: io_uring static NAPI tracking (kernel 6.13 or later)");
	if (unshare(CLONE_NEWNET) || lo_up())
		RTV_SKIP("needs root: a network namespace of its own");
	fds = count_fds();
	fake_cpu(fx, 0, "userspace");
	memset(&c, 0, sizeof(c));
	c.mode = RTV_POLLER_HYBRID;
	c.cpu = 0;
	c.nnapi = 1;
	c.napi_id[0] = NO_SUCH_NAPI;
	snprintf(c.dev[0], sizeof(c.dev[0]), "lo");
	c.idle_ns = 2 * MS;
	c.cpufreq_root = fx->root;
	err = rtv_poller_start(&p, &c);
	if (err == -EPERM || err == -EACCES)
		RTV_SKIP("needs root: the poller's priority and affinity");
	assert_int_equal(err, 0);
	rtv_poller_stats(p, &s);
	assert_int_equal(s.cpufreq, 0);
	WAIT_FOR(p, s, s.sleeps >= 1);
	assert_true(s.sleeps >= 1);
	read_file(fx, "cpu0/cpufreq/scaling_setspeed", buf, sizeof(buf));
	assert_string_equal(buf, "800000");

	send_udp(1);
	WAIT_FOR(p, s, s.wakeups >= 1);
	assert_true(s.wakeups >= 1);
	assert_true(s.frames >= 1);
	assert_true(s.wake.count >= 1);
	assert_true(s.freq_writes >= 2);
	assert_int_equal(s.freq_errors, 0);
	/* asleep again after idle_ns, then stopped: the frequency ends high */
	WAIT_FOR(p, s, s.sleeps >= 2);
	rtv_poller_stop(p);
	read_file(fx, "cpu0/cpufreq/scaling_setspeed", buf, sizeof(buf));
	assert_string_equal(buf, "3000000");
	assert_int_equal(count_fds(), fds);

	/* a device that is not there */
	snprintf(c.dev[0], sizeof(c.dev[0]), "rtv-pl-none");
	p = NULL;
	assert_int_equal(rtv_poller_start(&p, &c), -ENODEV);
	assert_null(p);
	assert_int_equal(count_fds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_lowers_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wake_raises_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_powersave_max_freq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_writes_end_high, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_cpufreq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write, setup, teardown),
		cmocka_unit_test(test_bad_cfg),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_busy_lifecycle),
		cmocka_unit_test_setup_teardown(test_hybrid_lifecycle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
