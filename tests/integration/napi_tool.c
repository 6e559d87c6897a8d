/* napi_tool: drives lib/net/napi.c from the shell for the integration tests
 * (t0600-napi-veth.sh). Built with the unit tests, never installed, not a
 * user interface. It acts in the namespace it runs in (use ip netns exec).
 *
 *   napi_tool family
 *   napi_tool list IFINDEX            (0: every device)
 *   napi_tool get ID
 *   napi_tool set ID KEY VALUE [KEY VALUE...]
 *             keys: threaded, defer, gro-flush, irq-suspend (ns)
 *   napi_tool dev-threaded DEV [0|1|2]   (/sys/class/net/DEV/threaded)
 *
 * Journaled, for t0610-napi-reapply.sh; NETNS is a namespace's name or "-"
 * for the tool's own, DIR the journal's directory (a temporary one in tests),
 * SETTINGS one or more KEY=VALUE (joined by commas, rtv_napi_params_parse()):
 *   napi_tool dev-list NETNS DEV         (rtv_napi_dev_list)
 *   napi_tool apply DIR NETNS DEV SETTINGS...
 *             rtv_napi_dev_apply(), then the entries are kept (they outlive
 *             the tool, for `undo`). With NAPI_TOOL_HOLD=1 in the environment
 *             it prints "holding" after applying and waits, entries not kept,
 *             to be killed -9: a run that died with its changes in place.
 *   napi_tool watch DIR NETNS DEV SECONDS SETTINGS...
 *             takes the NAPIs there are as applied, prints "ready", then for
 *             SECONDS (or until SIGTERM/SIGINT) prints every link event of
 *             DEV as "event NETNS DEV up|down" and re-applies
 *             (rtv_napi_dev_reapply()): "reapplied N" and the N NAPIs read
 *             back, or "unchanged"; its entries are kept
 *   napi_tool undo DIR                   undo every entry: "undone N"
 *   napi_tool recover DIR                undo a dead run's: "recovered N"
 *
 * Prints one NAPI per line: "id=N ifindex=N pid=N threaded=N irq=N defer=N
 * gro_flush_ns=N irq_suspend_ns=N". On failure prints
 * "napi_tool: cannot ...: MESSAGE (ERRNONAME)" to stderr and exits 1;
 * exits 2 on a usage error. The journal's own warnings go to stderr as
 * "napi_tool: warning: ...". */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/journal.h"
#include "net/linkwatch.h"
#include "net/napi.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/time.h"

#define MAX_NAPIS 256

static int fail(const char *what, const char *obj, int err)
{
	const char *name = strerrorname_np(-err);

	fprintf(stderr, "napi_tool: cannot %s '%s': %s (%s)\n", what, obj,
		strerror(-err), name ? name : "?");
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: napi_tool family\n"
		"       napi_tool list IFINDEX\n"
		"       napi_tool get ID\n"
		"       napi_tool set ID KEY VALUE [KEY VALUE...]\n"
		"       napi_tool dev-threaded DEV [0|1|2]\n"
		"       napi_tool dev-list NETNS DEV\n"
		"       napi_tool apply DIR NETNS DEV KEY=VALUE...\n"
		"       napi_tool watch DIR NETNS DEV SECONDS KEY=VALUE...\n"
		"       napi_tool undo DIR\n"
		"       napi_tool recover DIR\n");
	return 2;
}

static void print_napi(const struct rtv_napi *n)
{
	printf("id=%" PRIu32 " ifindex=%" PRIu32 " pid=%" PRId32 " threaded=%" PRId32
	       " irq=%" PRId32 " defer=%" PRIu32 " gro_flush_ns=%" PRIu64
	       " irq_suspend_ns=%" PRIu64 "\n",
	       n->id, n->ifindex, n->pid, n->threaded, n->irq, n->defer_hard_irqs,
	       n->gro_flush_timeout_ns, n->irq_suspend_timeout_ns);
}

static int cmd_list(const char *arg)
{
	struct rtv_napi napis[MAX_NAPIS];
	long long ifindex;
	int n, i;

	if (rtv_parse_ll(arg, 0, INT32_MAX, &ifindex) < 0)
		return usage();
	n = rtv_napi_list((int)ifindex, napis, MAX_NAPIS);
	if (n < 0)
		return fail("list the NAPIs of ifindex", arg, n);
	for (i = 0; i < n && i < MAX_NAPIS; i++)
		print_napi(&napis[i]);
	return 0;
}

static int cmd_get(const char *arg)
{
	struct rtv_napi n;
	long long id;
	int err;

	if (rtv_parse_ll(arg, 1, UINT32_MAX, &id) < 0)
		return usage();
	err = rtv_napi_get((uint32_t)id, &n);
	if (err < 0)
		return fail("get napi", arg, err);
	print_napi(&n);
	return 0;
}

static int cmd_set(int argc, char **argv)
{
	struct rtv_napi_params p = { .has_threaded = false };
	long long id, v;
	int i, err;

	if (argc < 3 || argc % 2 == 0 || rtv_parse_ll(argv[0], 1, UINT32_MAX, &id) < 0)
		return usage();
	for (i = 1; i < argc; i += 2) {
		if (rtv_parse_ll(argv[i + 1], 0, LLONG_MAX, &v) < 0)
			return usage();
		if (!strcmp(argv[i], "threaded") && v <= UINT32_MAX) {
			p.has_threaded = true;
			p.threaded = (uint32_t)v;
		} else if (!strcmp(argv[i], "defer") && v <= UINT32_MAX) {
			p.has_defer = true;
			p.defer_hard_irqs = (uint32_t)v;
		} else if (!strcmp(argv[i], "gro-flush")) {
			p.has_gro_flush = true;
			p.gro_flush_timeout_ns = (uint64_t)v;
		} else if (!strcmp(argv[i], "irq-suspend")) {
			p.has_irq_suspend = true;
			p.irq_suspend_timeout_ns = (uint64_t)v;
		} else {
			return usage();
		}
	}
	err = rtv_napi_set((uint32_t)id, &p);
	if (err < 0)
		return fail("set napi", argv[0], err);
	return 0;
}

static int cmd_dev_threaded(int argc, char **argv)
{
	long long v;
	int err;

	if (argc == 1) {
		err = rtv_napi_dev_threaded_get("/sys/class/net", argv[0]);
		if (err < 0)
			return fail("read threaded of", argv[0], err);
		printf("%d\n", err);
		return 0;
	}
	if (argc != 2 || rtv_parse_ll(argv[1], 0, 9, &v) < 0)
		return usage();
	err = rtv_napi_dev_threaded_set("/sys/class/net", argv[0], (int)v);
	if (err < 0)
		return fail("write threaded of", argv[0], err);
	return 0;
}

/* ---- journaled settings ---- */

/* warnings and errors only: what the tests look for */
static void log_sink(enum rtv_log_level level, const char *fmt, va_list ap)
{
	if (level > RTV_LOG_WARN)
		return;
	fprintf(stderr, "napi_tool: %s", level <= RTV_LOG_WARN ? "warning: " : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* "-" is the tool's own namespace. */
static const char *ns_of(const char *arg)
{
	return strcmp(arg, "-") ? arg : NULL;
}

/* Open the journal in dir with the "napi" kind registered; 0 or exit code. */
static int journal_open(const char *dir)
{
	int err;

	rtv_log_set(log_sink);
	err = rtv_journal_open(dir, NULL);
	if (err < 0)
		return fail("open the journal in", dir, err);
	return 0;
}

/* KEY=VALUE arguments joined by commas and parsed. 0 or exit code. */
static int settings(int argc, char **argv, struct rtv_napi_params *p)
{
	char buf[512];
	size_t off = 0;
	int n;

	if (argc < 1)
		return usage();
	for (int i = 0; i < argc; i++) {
		n = snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? "," : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			return usage();
		off += (size_t)n;
	}
	n = rtv_napi_params_parse(buf, p);
	if (n < 0)
		return fail("parse settings", buf, n);
	return 0;
}

static int cmd_dev_list(int argc, char **argv)
{
	struct rtv_napi napis[MAX_NAPIS];
	int n;

	if (argc != 2)
		return usage();
	n = rtv_napi_dev_list(ns_of(argv[0]), argv[1], napis, MAX_NAPIS);
	if (n < 0)
		return fail("list the NAPIs of", argv[1], n);
	for (int i = 0; i < n && i < MAX_NAPIS; i++)
		print_napi(&napis[i]);
	return 0;
}

static int cmd_apply(int argc, char **argv)
{
	struct rtv_napi napis[MAX_NAPIS];
	struct rtv_napi_params p;
	const char *hold = getenv("NAPI_TOOL_HOLD");
	int n, err;

	if (argc < 4)
		return usage();
	err = settings(argc - 3, argv + 3, &p);
	if (err)
		return err;
	err = journal_open(argv[0]);
	if (err)
		return err;
	n = rtv_napi_dev_apply(ns_of(argv[1]), argv[2], &p, napis, MAX_NAPIS);
	if (n < 0) {
		rtv_journal_close();
		return fail("apply settings to", argv[2], n);
	}
	printf("applied %d\n", n);
	for (int i = 0; i < n && i < MAX_NAPIS; i++)
		print_napi(&napis[i]);
	fflush(stdout);
	if (hold && !strcmp(hold, "1")) {
		printf("holding\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	err = rtv_journal_keep_from(0, "napi_tool");
	rtv_journal_close();
	if (err < 0)
		return fail("keep the journal entries in", argv[0], err);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct watch {
	const struct rtv_napi_params *p;
	struct rtv_napi known[MAX_NAPIS];
	int nknown;
	int err;
};

static void on_link(void *arg, const char *netns, const char *dev, bool up)
{
	struct watch *w = arg;
	int r;

	printf("event %s %s %s\n", netns ? netns : "-", dev, up ? "up" : "down");
	r = rtv_napi_dev_reapply(netns, dev, w->p, w->known, &w->nknown, MAX_NAPIS);
	if (r < 0) {
		/* a device that is gone has nothing to re-apply to */
		printf("cannot re-apply: %s\n", strerror(-r));
		if (r != -ENODEV)
			w->err = r;
	} else if (r == 0) {
		printf("unchanged\n");
	} else {
		printf("reapplied %d\n", w->nknown);
		for (int i = 0; i < w->nknown; i++)
			print_napi(&w->known[i]);
	}
	fflush(stdout);
}

static int cmd_watch(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART */
	struct rtv_linkwatch *lw = NULL;
	struct rtv_napi_params p;
	struct watch w = { .p = &p };
	const char *ns;
	long long secs;
	int64_t end;
	int n, err, ret = 0;

	if (argc < 5 || rtv_parse_ll(argv[3], 1, 3600, &secs) < 0)
		return usage();
	ns = ns_of(argv[1]);
	err = settings(argc - 4, argv + 4, &p);
	if (err)
		return err;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	err = journal_open(argv[0]);
	if (err)
		return err;
	err = rtv_linkwatch_new(&lw);
	if (!err)
		err = rtv_linkwatch_add(lw, ns, argv[2]);
	if (err < 0) {
		ret = fail("watch the link of", argv[2], err);
		goto out;
	}
	/* after subscribing: a change from here on is an event */
	n = rtv_napi_dev_list(ns, argv[2], w.known, MAX_NAPIS);
	if (n < 0) {
		ret = fail("list the NAPIs of", argv[2], n);
		goto out;
	}
	w.nknown = n < MAX_NAPIS ? n : MAX_NAPIS;
	printf("ready %d\n", n);
	fflush(stdout);
	end = rtv_now_ns() + secs * RTV_NS_PER_S;
	while (!stop && rtv_now_ns() < end) {
		err = rtv_linkwatch_poll(lw, 200, on_link, &w);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			ret = fail("read the link events of", argv[2], err);
			break;
		}
		if (w.err < 0) {
			ret = fail("re-apply settings to", argv[2], w.err);
			break;
		}
	}
out:
	rtv_linkwatch_free(lw);
	err = rtv_journal_keep_from(0, "napi_tool");
	rtv_journal_close();
	if (err < 0 && !ret)
		ret = fail("keep the journal entries in", argv[0], err);
	return ret;
}

static int cmd_undo(int argc, char **argv, bool dead_only)
{
	int n, err;

	if (argc != 1)
		return usage();
	err = journal_open(argv[0]);
	if (err)
		return err;
	n = dead_only ? rtv_journal_recover() : rtv_journal_undo_all();
	rtv_journal_close();
	if (n < 0)
		return fail("undo the journal in", argv[0], n);
	printf("%s %d\n", dead_only ? "recovered" : "undone", n);
	return 0;
}

int main(int argc, char **argv)
{
	int id;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "family") && argc == 2) {
		id = rtv_napi_family_id();
		if (id < 0)
			return fail("resolve generic netlink family", "netdev", id);
		printf("%d\n", id);
		return 0;
	}
	if (!strcmp(argv[1], "list") && argc == 3)
		return cmd_list(argv[2]);
	if (!strcmp(argv[1], "get") && argc == 3)
		return cmd_get(argv[2]);
	if (!strcmp(argv[1], "set"))
		return cmd_set(argc - 2, argv + 2);
	if (!strcmp(argv[1], "dev-threaded") && argc >= 3)
		return cmd_dev_threaded(argc - 2, argv + 2);
	if (!strcmp(argv[1], "dev-list"))
		return cmd_dev_list(argc - 2, argv + 2);
	if (!strcmp(argv[1], "apply"))
		return cmd_apply(argc - 2, argv + 2);
	if (!strcmp(argv[1], "watch"))
		return cmd_watch(argc - 2, argv + 2);
	if (!strcmp(argv[1], "undo"))
		return cmd_undo(argc - 2, argv + 2, false);
	if (!strcmp(argv[1], "recover"))
		return cmd_undo(argc - 2, argv + 2, true);
	return usage();
}
