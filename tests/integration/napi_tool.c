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
 * Prints one NAPI per line: "id=N ifindex=N pid=N threaded=N irq=N defer=N
 * gro_flush_ns=N irq_suspend_ns=N". On failure prints
 * "napi_tool: cannot ...: MESSAGE (ERRNONAME)" to stderr and exits 1;
 * exits 2 on a usage error. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/napi.h"
#include "util/parse.h"

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
		"       napi_tool dev-threaded DEV [0|1|2]\n");
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
	return usage();
}
