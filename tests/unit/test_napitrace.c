/* Unit tests for lib/probe/napitrace.c: the trace parser on a real capture
 * and on the line forms it must also read (record-tgid, no irq-info, a comm
 * with spaces and dashes, "<...>", lost events, rows running out), and, as
 * root, a live trace of a veth
 * pair's NAPI in two namespaces of our own (rtv-et-PID-a/-b, removed with
 * the test journal): polls in the sender's softirq first, then, with the
 * NAPI threaded, all of them in its kthread and none in softirq. Where
 * tracefs is not mounted the live tests mount it in a mount namespace of
 * this process only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/ethtool.h"
#include "net/napi.h"
#include "net/netns.h"
#include "net/rtnl.h"
#include "probe/napitrace.h"
#include "util/log.h"

#include "fixture.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define PATH_LEN 320
#define PACKETS 20

/* ---- the parser ---- */

/* Captured on this project's development machine (Linux 6.18, 2 CPUs): the
 * `trace` file of an instance with napi:napi_poll enabled and filtered on
 * dev_name ~ "rtv*", while a veth pair rtvcap0 -> rtvcap1 in two namespaces
 * (rtvcap1: gro on, rx-udp-gro-forwarding on) carried 6 UDP datagrams sent
 * by python3 (pid 9642), then 6 with rtvcap1's NAPI threaded (kthread
 * napi/rtvcap1-30, pid 9684), then 8 more unthreaded (python3, pid 9786); the
 * kworkers' polls are the kernel's own IPv6 packets. */
static const char capture[] =
	"# tracer: nop\n"
	"#\n"
	"# entries-in-buffer/entries-written: 24/24   #P:2\n"
	"#\n"
	"#                                _-----=> irqs-off/BH-disabled\n"
	"#                               / _----=> need-resched\n"
	"#                              | / _---=> hardirq/softirq\n"
	"#                              || / _--=> preempt-depth\n"
	"#                              ||| / _-=> migrate-disable\n"
	"#                              |||| /     delay\n"
	"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	"#              | |         |   |||||     |         |\n"
	"         python3-9642    [001] ..s1.  9313.751479: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9642    [001] ..s1.  9313.753659: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9642    [001] ..s1.  9313.755788: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9642    [001] ..s1.  9313.757918: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9642    [001] ..s1.  9313.760214: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9642    [001] ..s1.  9313.762343: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"    kworker/u8:0-3778    [001] .ns1.  9313.778052: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	" napi/rtvcap1-30-9684    [000] b....  9314.069965: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	" napi/rtvcap1-30-9684    [000] b....  9314.072052: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	" napi/rtvcap1-30-9684    [000] b....  9314.074237: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	" napi/rtvcap1-30-9684    [000] b....  9314.076379: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	" napi/rtvcap1-30-9684    [000] b....  9314.078525: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	" napi/rtvcap1-30-9684    [000] b....  9314.080679: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"     kworker/1:1-2477    [001] ..s1.  9314.226325: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"    kworker/u8:0-3778    [000] ..s1.  9314.802149: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"    kworker/u8:0-3778    [000] ..s1.  9314.802160: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.882787: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.885032: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.887167: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.889304: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.891431: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.893568: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.895698: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n"
	"         python3-9786    [001] ..s1.  9314.897836: napi_poll: napi poll on napi struct 0000000071d7d102 for device rtvcap1 work 1 budget 64\n";

static void parse_capture(void **state)
{
	struct rtv_napitrace_row rows[8];
	uint64_t missed = 0;
	int n;

	(void)state;
	n = rtv_napitrace_parse(capture, rows, 0, 8, &missed);
	assert_int_equal(n, 5);
	assert_int_equal(missed, 0);

	assert_string_equal(rows[0].dev, "rtvcap1");
	assert_string_equal(rows[0].comm, "python3");
	assert_int_equal(rows[0].pid, 9642);
	assert_int_equal(rows[0].polls, 6);
	assert_int_equal(rows[0].work, 6);
	assert_int_equal(rows[0].softirq, 6);

	assert_string_equal(rows[1].comm, "kworker/u8:0"); /* ".ns1." once, "..s1." twice */
	assert_int_equal(rows[1].pid, 3778);
	assert_int_equal(rows[1].polls, 3);
	assert_int_equal(rows[1].work, 3);
	assert_int_equal(rows[1].softirq, 3);

	assert_string_equal(rows[2].dev, "rtvcap1");
	assert_string_equal(rows[2].comm, "napi/rtvcap1-30"); /* a '-' inside the comm */
	assert_int_equal(rows[2].pid, 9684);
	assert_int_equal(rows[2].polls, 6);
	assert_int_equal(rows[2].work, 6);
	assert_int_equal(rows[2].softirq, 0); /* "b....": BH off, not in softirq */

	assert_string_equal(rows[3].comm, "kworker/1:1");
	assert_int_equal(rows[3].pid, 2477);
	assert_int_equal(rows[3].polls, 1);
	assert_int_equal(rows[3].softirq, 1);

	assert_string_equal(rows[4].comm, "python3");
	assert_int_equal(rows[4].pid, 9786);
	assert_int_equal(rows[4].polls, 8);
	assert_int_equal(rows[4].work, 8);
	assert_int_equal(rows[4].softirq, 8);
}

/* The tally carries over between calls: the capture twice is twice the counts. */
static void parse_accumulates(void **state)
{
	struct rtv_napitrace_row rows[8];
	int n;

	(void)state;
	n = rtv_napitrace_parse(capture, rows, 0, 8, NULL);
	assert_int_equal(n, 5);
	n = rtv_napitrace_parse(capture, rows, n, 8, NULL);
	assert_int_equal(n, 5);
	assert_int_equal(rows[2].polls, 12);
	assert_int_equal(rows[4].work, 16);
	assert_int_equal(rows[4].softirq, 16);
}

/* Line forms the capture has not: record-tgid's column, irq-info off, the
 * idle task, a comm the kernel did not keep, spaces and dashes in a comm, a
 * hard interrupt inside a softirq, other events, lost events, garbage, and a
 * last line with no newline. */
static void parse_forms(void **state)
{
	static const char text[] =
		"          <idle>-0       [001] ..s1.  100.000001: napi_poll: napi poll on napi struct 00000000deadbeef for device veth1 work 64 budget 64\n"
		"         python3-9642    (   9640) [001] ..s1.  100.000002: napi_poll: napi poll on napi struct 00000000deadbeef for device veth1 work 3 budget 64\n"
		"           <...>-4321    (-------) [000] b....  100.000003: napi_poll: napi poll on napi struct 00000000deadbeef for device rtv0 work 0 budget 64\n"
		"    my rt-loop x-777     [000]  100.000004: napi_poll: napi poll on napi struct 00000000deadbeef for device rtv0 work 2 budget 8\n"
		"          <idle>-0       [000] d.H1.  100.000005: napi_poll: napi poll on napi struct 00000000deadbeef for device veth1 work 1 budget 64\n"
		"         python3-9642    [001] ..s1.  100.000006: netif_receive_skb: dev=veth1 skbaddr=00000000deadbeef len=84\n"
		"CPU:1 [LOST 17 EVENTS]\n"
		"##### CPU 1 buffer started ####\n"
		"nonsense: napi_poll: for device\n"
		"         x-y     [000] ..s1.  1.0: napi_poll: napi poll on napi struct 0 for device rtv0 work 1 budget 64\n"
		"         python3-9642    [001] ..s1.  100.000007: napi_poll: napi poll on napi struct 00000000deadbeef for device veth1 work 4 budget 64";
	struct rtv_napitrace_row rows[8];
	uint64_t missed = 5; /* grows, is not reset */
	int n;

	(void)state;
	n = rtv_napitrace_parse(text, rows, 0, 8, &missed);
	assert_int_equal(n, 4);
	assert_int_equal(missed, 5 + 17);

	assert_string_equal(rows[0].dev, "veth1");
	assert_string_equal(rows[0].comm, "<idle>");
	assert_int_equal(rows[0].pid, 0);
	assert_int_equal(rows[0].polls, 2);
	assert_int_equal(rows[0].work, 65);
	assert_int_equal(rows[0].softirq, 2); /* 's', and 'H' */

	assert_string_equal(rows[1].dev, "veth1");
	assert_string_equal(rows[1].comm, "python3");
	assert_int_equal(rows[1].pid, 9642);
	assert_int_equal(rows[1].polls, 2); /* with tgid, and the unended last line */
	assert_int_equal(rows[1].work, 7);
	assert_int_equal(rows[1].softirq, 2);

	assert_string_equal(rows[2].dev, "rtv0");
	assert_string_equal(rows[2].comm, "<...>");
	assert_int_equal(rows[2].pid, 4321);
	assert_int_equal(rows[2].polls, 1);
	assert_int_equal(rows[2].work, 0);
	assert_int_equal(rows[2].softirq, 0);

	assert_string_equal(rows[3].dev, "rtv0");
	assert_string_equal(rows[3].comm, "my rt-loop x");
	assert_int_equal(rows[3].pid, 777);
	assert_int_equal(rows[3].polls, 1);
	assert_int_equal(rows[3].work, 2);
	assert_int_equal(rows[3].softirq, 0); /* no flags column: not known, not counted */
}

/* A thread first seen as "<...>" gets its name when a later line has it. */
static void parse_names_later(void **state)
{
	static const char text[] =
		"           <...>-55      [000] ..s1.  1.000001: napi_poll: napi poll on napi struct 0 for device rtv0 work 1 budget 64\n"
		"     ksoftirqd/0-55      [000] ..s1.  1.000002: napi_poll: napi poll on napi struct 0 for device rtv0 work 1 budget 64\n";
	struct rtv_napitrace_row rows[2];

	(void)state;
	assert_int_equal(rtv_napitrace_parse(text, rows, 0, 2, NULL), 1);
	assert_string_equal(rows[0].comm, "ksoftirqd/0");
	assert_int_equal(rows[0].polls, 2);
}

/* Pairs beyond max: their events are missed, the others still counted. */
static void parse_rows_run_out(void **state)
{
	struct rtv_napitrace_row rows[2];
	uint64_t missed = 0;

	(void)state;
	assert_int_equal(rtv_napitrace_parse(capture, rows, 0, 2, &missed), 2);
	assert_int_equal(rows[0].polls, 6);
	assert_int_equal(rows[1].polls, 3);
	assert_int_equal(missed, 6 + 1 + 8);
	missed = 0;
	assert_int_equal(rtv_napitrace_parse(capture, NULL, 0, 0, &missed), 0);
	assert_int_equal(missed, 24);
}

static void parse_bad_args(void **state)
{
	struct rtv_napitrace_row rows[2];

	(void)state;
	assert_int_equal(rtv_napitrace_parse(NULL, rows, 0, 2, NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_parse("", NULL, 0, 2, NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_parse("", rows, 3, 2, NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_parse("", rows, -1, 2, NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_parse("", rows, 0, 2, NULL), 0);
}

/* ---- live, as root ---- */

struct live {
	char root[64];        /* the mkdtemp directory */
	char jdir[128];       /* the journal's, inside root */
	char tracefs[128];    /* where tracefs is */
	char ns_a[32], ns_b[32];
	char dev_a[IFNAMSIZ], dev_b[IFNAMSIZ];
	char instance[64];
	char inst_dir[PATH_LEN];
};

static bool have_root;
static bool tracefs_private; /* mounted by us, in our own mount namespace */

static bool is_tracefs(const char *path)
{
	struct statfs s;

	return !statfs(path, &s) && s.f_type == TRACEFS_MAGIC;
}

/* Find tracefs, or mount it where only this process sees it. */
static bool find_tracefs(struct live *l)
{
	snprintf(l->tracefs, sizeof(l->tracefs), "%s", RTV_TRACEFS_ROOT);
	if (is_tracefs(l->tracefs))
		return true;
	snprintf(l->tracefs, sizeof(l->tracefs), "%s/tracefs", l->root);
	if (mkdir(l->tracefs, 0755))
		return false;
	if (!tracefs_private) {
		if (unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL))
			return false;
		tracefs_private = true;
	}
	if (mount("nodev", l->tracefs, "tracefs", 0, NULL))
		return false;
	return is_tracefs(l->tracefs);
}

struct addr_job {
	const char *dev, *addr;
	bool gro;
};

static int addr_up(void *p)
{
	struct addr_job *j = p;
	int err;

	err = rtv_rtnl_addr_add(j->dev, j->addr, 24);
	if (!err)
		err = rtv_rtnl_link_up(j->dev);
	if (!err && j->gro)
		err = rtv_ethtool_feature_set(j->dev, "rx-gro", true);
	if (!err && j->gro)
		err = rtv_ethtool_feature_set(j->dev, "rx-udp-gro-forwarding", true);
	return err;
}

/* The library's warnings, counted: undoing a journal entry must not warn. */
static int warnings;

__attribute__((format(printf, 2, 0)))
static void count_log(enum rtv_log_level level, const char *fmt, va_list ap)
{
	(void)fmt, (void)ap;
	if (level <= RTV_LOG_WARN)
		warnings++;
}

static int live_teardown(void **state);

/* Two namespaces joined by a veth pair, b with GRO and UDP GRO forwarding
 * on (so that the datagrams take its NAPI), all journaled; on any failure
 * everything made so far is undone. */
static int live_setup(void **state)
{
	struct live *l = calloc(1, sizeof(*l));
	int fa = -1, fb = -1, err;
	struct addr_job a, b;

	if (!l)
		return -1;
	*state = l;
	warnings = 0;
	rtv_log_set(count_log);
	have_root = geteuid() == 0;
	if (!have_root)
		return 0;
	if (rtv_test_mkdtemp(l->root, sizeof(l->root), "napitrace"))
		goto fail;
	snprintf(l->jdir, sizeof(l->jdir), "%s/journal.d", l->root);
	if (!find_tracefs(l)) {
		l->tracefs[0] = '\0'; /* the tests skip */
		return 0;
	}
	if (rtv_journal_open(l->jdir, NULL))
		goto fail;
	snprintf(l->ns_a, sizeof(l->ns_a), "rtv-et-%d-a", (int)getpid());
	snprintf(l->ns_b, sizeof(l->ns_b), "rtv-et-%d-b", (int)getpid());
	snprintf(l->dev_a, sizeof(l->dev_a), "rtvet%da", (int)getpid() % 10000000);
	snprintf(l->dev_b, sizeof(l->dev_b), "rtvet%db", (int)getpid() % 10000000);
	snprintf(l->instance, sizeof(l->instance), "rtv-et-%d", (int)getpid());
	snprintf(l->inst_dir, sizeof(l->inst_dir), "%s/instances/%s", l->tracefs, l->instance);
	if (rtv_netns_add(l->ns_a) || rtv_netns_add(l->ns_b))
		goto fail;
	fa = rtv_netns_open(l->ns_a);
	fb = rtv_netns_open(l->ns_b);
	err = fa < 0 || fb < 0 ? -1 : rtv_rtnl_veth_add(l->dev_a, fa, l->dev_b, fb);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	if (err)
		goto fail;
	a = (struct addr_job){ .dev = l->dev_a, .addr = "10.213.0.1" };
	b = (struct addr_job){ .dev = l->dev_b, .addr = "10.213.0.2", .gro = true };
	if (rtv_netns_run(l->ns_a, addr_up, &a) || rtv_netns_run(l->ns_b, addr_up, &b))
		goto fail;
	return 0;
fail:
	live_teardown(state);
	return -1;
}

static int live_teardown(void **state)
{
	struct live *l = *state;

	if (have_root) {
		rtv_journal_close(); /* deletes the namespaces, and the veth pair with them */
		if (l->root[0] && !strncmp(l->tracefs, l->root, strlen(l->root)))
			umount2(l->tracefs, MNT_DETACH); /* ours, in our mount namespace */
		if (l->root[0])
			rtv_test_rmtree(l->root);
	}
	rtv_log_set(NULL);
	free(l);
	return 0;
}

static void skip_unless_live(const struct live *l)
{
	if (!have_root)
		RTV_SKIP("needs root: mounting tracefs");
	if (!l->tracefs[0])
		RTV_SKIP("needs tracefs: it could not be mounted");
}

static int open_udp(void *p)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	(void)p;
	return fd < 0 ? -errno : fd;
}

/* Send n datagrams from namespace a to b's address (nobody listens: b's
 * kernel drops them after the NAPI poll that is being traced). */
static void send_udp(const struct live *l, int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	char payload[64] = { 0 };
	int fd = rtv_netns_run(l->ns_a, open_udp, NULL);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, "10.213.0.2", &to.sin_addr), 1);
	for (int i = 0; i < n; i++) {
		assert_int_equal(sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&to,
					sizeof(to)),
				 (ssize_t)sizeof(payload));
		/* the first waits for ARP; give every one its own poll */
		usleep(i == 0 ? 50000 : 1000);
	}
	close(fd);
	usleep(50000);
}

struct napi_job {
	const char *dev;
	struct rtv_napi napi;
	bool threaded;
};

static int napi_thread(void *p)
{
	struct napi_job *j = p;
	struct rtv_napi_params prm = { .has_threaded = true, .threaded = j->threaded };
	int n, err;

	n = rtv_napi_list((int)if_nametoindex(j->dev), &j->napi, 1);
	if (n != 1)
		return n < 0 ? n : -ENOENT;
	err = rtv_napi_set(j->napi.id, &prm);
	if (err)
		return err;
	return rtv_napi_get(j->napi.id, &j->napi);
}

static const struct rtv_napitrace_row *find_row(const struct rtv_napitrace_row *rows, int n,
						const char *dev, int32_t pid)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rows[i].dev, dev) && rows[i].pid == pid)
			return &rows[i];
	return NULL;
}

static void dump(const char *what, const struct rtv_napitrace_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		print_message("%s: %s %s[%d] polls %llu work %llu softirq %llu\n", what, rows[i].dev,
			      rows[i].comm, rows[i].pid, (unsigned long long)rows[i].polls,
			      (unsigned long long)rows[i].work, (unsigned long long)rows[i].softirq);
}

static void live_softirq_then_kthread(void **state)
{
	struct live *l = *state;
	struct rtv_napitrace_row rows[32], before[32];
	const struct rtv_napitrace_row *k;
	struct rtv_napitrace *t = NULL;
	struct napi_job job = { .threaded = true };
	uint64_t missed = 1, polls = 0, work = 0;
	size_t mark;
	int n, nb, err;

	skip_unless_live(l);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, "rtvet*"), 0);
	assert_non_null(t);
	assert_int_equal(rtv_journal_mark(), mark + 1);
	assert_int_equal(access(l->inst_dir, F_OK), 0);

	/* unthreaded: every poll of b's NAPI runs in some task's softirq */
	send_udp(l, PACKETS);
	n = rtv_napitrace_read(t, rows, 32, &missed);
	assert_true(n >= 1 && n <= 32);
	dump("unthreaded", rows, n);
	assert_int_equal(missed, 0);
	for (int i = 0; i < n; i++) {
		assert_string_equal(rows[i].dev, l->dev_b); /* the filter: a has no NAPI */
		assert_int_equal(rows[i].softirq, rows[i].polls);
		polls += rows[i].polls;
		work += rows[i].work;
	}
	assert_true(polls > 0);
	assert_true(work >= PACKETS); /* the kernel's own IPv6 packets may add some */
	memcpy(before, rows, sizeof(rows));
	nb = n;

	/* threaded: the kthread does every poll, none in softirq */
	job.dev = l->dev_b;
	err = rtv_netns_run(l->ns_b, napi_thread, &job);
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		print_message("no per-NAPI threaded (kernel before 6.17): second half skipped\n");
	} else {
		assert_int_equal(err, 0);
		assert_true(job.napi.pid > 0);
		send_udp(l, PACKETS);
		n = rtv_napitrace_read(t, rows, 32, &missed);
		assert_true(n >= 1 && n <= 32);
		assert_int_equal(missed, 0);
		dump("threaded", rows, n);
		k = find_row(rows, n, l->dev_b, job.napi.pid);
		assert_non_null(k);
		assert_memory_equal(k->comm, "napi/", 5);
		assert_true(k->polls > 0);
		assert_int_equal(k->softirq, 0);
		for (int i = 0; i < n; i++) {
			const struct rtv_napitrace_row *o = find_row(before, nb, rows[i].dev,
								     rows[i].pid);

			if (&rows[i] == k)
				continue;
			/* the others did no more polls than before */
			assert_non_null(o);
			assert_int_equal(rows[i].polls, o->polls);
		}
		assert_true(k->work >= PACKETS);
	}

	rtv_napitrace_free(t);
	assert_int_equal(access(l->inst_dir, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rtv_journal_mark(), mark); /* the newest entry: dropped */
	assert_int_equal(warnings, 0);
}

/* Freed while others' entries follow ours: the instance goes, our entry
 * stays and finds nothing to remove when undone (the journal's "dir" undo
 * is rmdir, which is what a tracefs instance takes). */
static void live_free_not_newest(void **state)
{
	struct live *l = *state;
	struct rtv_napitrace *t = NULL;
	char other[PATH_LEN];
	size_t mark;

	skip_unless_live(l);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, NULL), 0);
	snprintf(other, sizeof(other), "%s/other", l->root);
	assert_int_equal(rtv_journal_add("tracefs", 1, (const char *const[]){ other }), 0);
	assert_int_equal(mkdir(other, 0755), 0);
	rtv_napitrace_free(t);
	assert_int_equal(access(l->inst_dir, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0); /* not undone by free */
	assert_int_equal(rtv_journal_mark(), mark + 2);
	assert_int_equal(rtv_journal_undo_to(mark), 1); /* the instance went: dropped */
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(warnings, 0);
}

/* What recovery after a crash does: the journal's undo alone removes the
 * instance, event enabled and all; free afterwards finds it gone. */
static void live_journal_undo_removes(void **state)
{
	struct live *l = *state;
	struct rtv_napitrace *t = NULL;
	size_t mark;

	skip_unless_live(l);
	mark = rtv_journal_mark();
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, "rtv*"), 0);
	send_udp(l, 2);
	assert_int_equal(rtv_journal_undo_to(mark), 1);
	assert_int_equal(access(l->inst_dir, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(rtv_napitrace_read(t, NULL, 0, NULL) < 0); /* gone */
	rtv_napitrace_free(t);
	assert_int_equal(rtv_journal_mark(), mark);
	assert_int_equal(warnings, 0);
}

static void live_errors(void **state)
{
	struct live *l = *state;
	struct rtv_napitrace *t = (struct rtv_napitrace *)1;
	size_t mark;

	skip_unless_live(l);
	mark = rtv_journal_mark();
	/* not tracefs */
	assert_int_equal(rtv_napitrace_start(&t, l->root, l->instance, NULL), -ENOENT);
	assert_null(t);
	assert_int_equal(rtv_napitrace_start(&t, "/nonexistent", l->instance, NULL), -ENOENT);
	/* bad names and globs, refused before anything is made */
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, "", NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, "..", NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, "a/b", NULL), -EINVAL);
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, "rtv\"*"), -EINVAL);
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, ""), -EINVAL);
	assert_int_equal(rtv_napitrace_start(NULL, l->tracefs, l->instance, NULL), -EINVAL);
	/* someone else's instance: left alone */
	assert_int_equal(mkdir(l->inst_dir, 0755), 0);
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, NULL), -EEXIST);
	assert_int_equal(access(l->inst_dir, F_OK), 0);
	assert_int_equal(rmdir(l->inst_dir), 0);
	assert_int_equal(rtv_journal_mark(), mark);
	/* no journal, no change */
	rtv_journal_close(); /* the namespaces go with it; not needed here */
	assert_int_equal(rtv_napitrace_start(&t, l->tracefs, l->instance, NULL), -EBADF);
	assert_int_equal(access(l->inst_dir, F_OK), -1);
	rtv_napitrace_free(NULL);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(parse_capture),
		cmocka_unit_test(parse_accumulates),
		cmocka_unit_test(parse_forms),
		cmocka_unit_test(parse_names_later),
		cmocka_unit_test(parse_rows_run_out),
		cmocka_unit_test(parse_bad_args),
	};
	const struct CMUnitTest live[] = {
		cmocka_unit_test_setup_teardown(live_softirq_then_kthread, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(live_free_not_newest, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(live_journal_undo_removes, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(live_errors, live_setup, live_teardown),
	};
	int fails;

	fails = cmocka_run_group_tests_name("napitrace", pure, NULL, NULL);
	fails += cmocka_run_group_tests_name("napitrace_live", live, NULL, NULL);
	return fails ? 1 : 0;
}
