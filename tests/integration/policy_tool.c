/* policy_tool: drives lib/outsource/policy.c from the shell for
 * t0960-outsource-policy.sh. Built with the unit tests, never installed, not
 * a user interface. DIR is the journal's directory (a temporary one in
 * tests), CGROUP a cgroup v2 directory.
 *
 *   policy_tool check FILE        parse: one "LIST RULE" line per rule
 *   policy_tool hold DIR CGROUP FILE
 *             attach, print "attached links=N" (programs linked to CGROUP),
 *             then wait: SIGUSR1 prints "counts OP=CALLS/REFUSED ...",
 *             SIGTERM or SIGINT prints the counts, detaches, prints
 *             "detached links=N" and exits 0. Killed -9, it leaves its
 *             journal entry for `recover`.
 *   policy_tool undo-live DIR CGROUP FILE
 *             attach, then undo the journal's entry while the links are
 *             still open (what `rtvnet revert` or a recovery would do):
 *             "undone N links=M", then detach
 *   policy_tool recover DIR       undo a dead run's entries: "recovered N
 *                                 left M" (M entries still in the journal)
 *   policy_tool try CGROUP OP PROTO ADDR PORT [OP PROTO ADDR PORT]...
 *             move itself into CGROUP ("-": stay), then for each OP (bind,
 *             connect, sendto) make a fresh PROTO (udp, tcp) socket of
 *             ADDR's family (IPv6 when it has a colon), non-blocking, do
 *             it and print "OP PROTO ADDR PORT RESULT", RESULT "ok" or the
 *             errno's name (EPERM: refused by the policy)
 *   policy_tool try-moved MAKE_CG USE_CG OP PROTO ADDR PORT...
 *             the same, each socket made while the tool is in MAKE_CG and
 *             used after it moved to USE_CG: the programs of the cgroup
 *             the socket was made in decide, wherever it is used from
 *   policy_tool bench CGROUP ADDR PORT N
 *             move into CGROUP ("-": stay), send N one-byte datagrams from
 *             one unconnected UDP socket with sendto() (the sendmsg
 *             program's path) in 10 rounds: "bench sendto n=N
 *             ns_min=X ns_median=Y" (per call, over the rounds)
 *
 * On failure prints "policy_tool: cannot ...: MESSAGE" to stderr and exits
 * 1; exits 2 on a usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/sockaddr.h"
#include "outsource/policy.h"
#include "util/log.h"
#include "util/time.h"

static int usage(void)
{
	fprintf(stderr, "usage: policy_tool check FILE\n"
			"       policy_tool hold|undo-live DIR CGROUP FILE\n"
			"       policy_tool recover DIR\n"
			"       policy_tool try CGROUP OP PROTO ADDR PORT...\n"
			"       policy_tool try-moved MAKE_CG USE_CG OP PROTO ADDR PORT...\n"
			"       policy_tool bench CGROUP ADDR PORT N\n");
	return 2;
}

static int fail(const char *what, const char *obj, int err)
{
	fprintf(stderr, "policy_tool: cannot %s '%s': %s\n", what, obj, strerror(-err));
	return 1;
}

static void log_sink(enum rtv_log_level level, const char *fmt, va_list ap)
{
	if (level > RTV_LOG_WARN && !getenv("POLICY_TOOL_DEBUG"))
		return;
	fprintf(stderr, "policy_tool: %s", level <= RTV_LOG_WARN ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static int load(const char *file, struct rtv_policy **p)
{
	char err[512];
	int e = rtv_policy_load(file, p, err, sizeof(err));

	if (e < 0)
		fprintf(stderr, "policy_tool: %s\n", err);
	return e;
}

static int cmd_check(const char *file)
{
	struct rtv_policy *p;
	const struct rtv_policy_rule *r;
	char buf[128];

	if (load(file, &p) < 0)
		return 1;
	for (size_t i = 0; (r = rtv_policy_rule_at(p, i)); i++) {
		rtv_policy_rule_format(r, buf, sizeof(buf));
		printf("%s %s\n", rtv_policy_list_names[r->list], buf);
	}
	rtv_policy_free(p);
	return 0;
}

static void print_counts(const struct rtv_policy_link *l)
{
	struct rtv_policy_counts c;
	int e = rtv_policy_counts_read(l, &c);

	if (e < 0) {
		printf("counts error=%d\n", e);
		return;
	}
	printf("counts");
	for (int i = 0; i < RTV_POLICY_OPS; i++)
		printf(" %s=%llu/%llu", rtv_policy_op_names[i], (unsigned long long)c.calls[i],
		       (unsigned long long)c.refused[i]);
	printf("\n");
	fflush(stdout);
}

static volatile sig_atomic_t got_usr1, got_stop;
static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_stop = 1;
}

/* *mark: the journal's count before the attachment */
static int attach(const char *dir, const char *cg, const char *file, struct rtv_policy_link **l,
		  size_t *mark)
{
	struct rtv_policy *p;
	int e;

	rtv_log_set(log_sink);
	e = rtv_journal_open(dir, NULL);
	if (e < 0)
		return fail("open the journal in", dir, e);
	if (load(file, &p) < 0)
		return 1;
	*mark = rtv_journal_mark();
	e = rtv_policy_attach(p, cg, l);
	rtv_policy_free(p);
	if (e < 0)
		return fail("attach the policy to", cg, e);
	return 0;
}

static int cmd_hold(const char *dir, const char *cg, const char *file)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct rtv_policy_link *l;
	sigset_t block, old;
	size_t mark;
	int e;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	e = attach(dir, cg, file, &l, &mark);
	if (e)
		return e;
	printf("attached links=%d\n", rtv_policy_attached(cg));
	fflush(stdout);
	while (!got_stop) {
		sigsuspend(&old);
		if (got_usr1) {
			got_usr1 = 0;
			print_counts(l);
		}
	}
	print_counts(l);
	rtv_policy_detach(l);
	printf("detached links=%d\n", rtv_policy_attached(cg));
	fflush(stdout);
	rtv_journal_close();
	return 0;
}

static int cmd_undo_live(const char *dir, const char *cg, const char *file)
{
	struct rtv_policy_link *l;
	size_t mark;
	int e, n;

	e = attach(dir, cg, file, &l, &mark);
	if (e)
		return e;
	printf("attached links=%d\n", rtv_policy_attached(cg));
	n = rtv_journal_undo_to(mark);
	printf("undone %d links=%d\n", n, rtv_policy_attached(cg));
	rtv_policy_detach(l);
	rtv_journal_close();
	return 0;
}

static int cmd_recover(const char *dir)
{
	struct rtv_journal_state st;
	int e, n;

	rtv_log_set(log_sink);
	e = rtv_journal_open(dir, NULL);
	if (e < 0)
		return fail("open the journal in", dir, e);
	n = rtv_journal_recover();
	rtv_journal_close();
	e = rtv_journal_state_read(dir, &st);
	if (e < 0)
		return fail("read the journal in", dir, e);
	printf("recovered %d left %zu\n", n, st.n);
	rtv_journal_state_free(&st);
	return n < 0;
}

static int join(const char *cg);
/* try-moved: the cgroups a socket is made in and used from */
static const char *make_cg, *use_cg;

static int try_one(const char *op, const char *proto, const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, e, type;
	char *end;
	long pn = strtol(port, &end, 10);
	const char *name;

	if (*end || pn < 0 || pn > 65535)
		return -EINVAL;
	if (!strcmp(proto, "udp"))
		type = SOCK_DGRAM;
	else if (!strcmp(proto, "tcp"))
		type = SOCK_STREAM;
	else
		return -EINVAL;
	e = rtv_sockaddr_parse(addr, (uint16_t)pn, &ss, &len);
	if (e < 0)
		return e;
	if (make_cg && join(make_cg))
		return -EIO;
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (use_cg && join(use_cg)) {
		close(fd);
		return -EIO;
	}
	if (!strcmp(op, "bind"))
		e = bind(fd, (struct sockaddr *)&ss, len);
	else if (!strcmp(op, "connect"))
		e = connect(fd, (struct sockaddr *)&ss, len);
	else if (!strcmp(op, "sendto"))
		e = sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0 ? -1 : 0;
	else {
		close(fd);
		return -EINVAL;
	}
	e = e ? errno : 0;
	close(fd);
	name = e ? strerrorname_np(e) : "ok";
	printf("%s %s %s %s %s\n", op, proto, addr, port, name ? name : "?");
	return 0;
}

static int join(const char *cg)
{
	char path[600], pid[24];
	int fd;

	if (!strcmp(cg, "-"))
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
		return fail("join the cgroup", cg, -errno);
	close(fd);
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static int cmd_bench(const char *cg, const char *addr, const char *port, const char *count)
{
	enum { ROUNDS = 10 };
	struct sockaddr_storage ss;
	long long per[ROUNDS];
	long n = strtol(count, NULL, 10), pn = strtol(port, NULL, 10);
	socklen_t len;
	int fd, e;

	if (n < ROUNDS || pn < 1 || pn > 65535)
		return usage();
	if (join(cg))
		return 1;
	e = rtv_sockaddr_parse(addr, (uint16_t)pn, &ss, &len);
	if (e < 0)
		return fail("parse", addr, e);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("make a socket for", addr, -errno);
	for (int r = 0; r < ROUNDS; r++) {
		int64_t t0 = rtv_now_ns();

		for (long i = 0; i < n / ROUNDS; i++)
			if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0) {
				e = -errno;
				close(fd);
				return fail("send to", addr, e);
			}
		per[r] = (rtv_now_ns() - t0) / (n / ROUNDS);
	}
	close(fd);
	qsort(per, ROUNDS, sizeof(per[0]), cmp_ll);
	printf("bench sendto n=%ld ns_min=%lld ns_median=%lld\n", n, per[0], per[ROUNDS / 2]);
	return 0;
}

static int cmd_try(const char *cg, int argc, char **argv)
{
	int e;

	if (argc % 4)
		return usage();
	if (join(cg))
		return 1;
	for (int i = 0; i < argc; i += 4) {
		e = try_one(argv[i], argv[i + 1], argv[i + 2], argv[i + 3]);
		if (e == -EINVAL)
			return usage();
		if (e == -EIO)
			return 1;
		if (e < 0)
			return fail("make a socket for", argv[i + 2], e);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "check") && argc == 3)
		return cmd_check(argv[2]);
	if (!strcmp(argv[1], "hold") && argc == 5)
		return cmd_hold(argv[2], argv[3], argv[4]);
	if (!strcmp(argv[1], "undo-live") && argc == 5)
		return cmd_undo_live(argv[2], argv[3], argv[4]);
	if (!strcmp(argv[1], "recover") && argc == 3)
		return cmd_recover(argv[2]);
	if (!strcmp(argv[1], "bench") && argc == 6)
		return cmd_bench(argv[2], argv[3], argv[4], argv[5]);
	if (!strcmp(argv[1], "try"))
		return cmd_try(argv[2], argc - 3, argv + 3);
	if (!strcmp(argv[1], "try-moved") && argc >= 4) {
		make_cg = argv[2];
		use_cg = argv[3];
		return cmd_try("-", argc - 4, argv + 4);
	}
	return usage();
}
