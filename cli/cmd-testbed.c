/* rtvnet testbed up|down|status */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "host/journal.h"
#include "net/netns.h"
#include "testbed/testbed.h"

static const char usage_str[] =
	"rtvnet testbed up [--streams N] | down | status\n\n"
	"  up      create the testbed: an RT client and an RT server host and N stream\n"
	"          pairs, each a network namespace and cgroup, each pair on its own veth\n"
	"  down    remove everything rtvnet created (idempotent)\n"
	"  status  show the testbed's hosts\n\n"
	"run 'rtvnet testbed up -h' for the options";

static struct {
	long long streams;
} up_opt = { .streams = 2 };

static const struct rtv_opt up_opts[] = {
	RTV_OPT_INT_DEF("streams", 'n', &up_opt.streams, "N", 0, RTV_TESTBED_MAX_STREAMS,
			"stream pairs (non-RT links) to create"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_testbed_modes[] = {
	{ NULL, usage_str, NULL },
	{ "up", "rtvnet testbed up [--streams N]\n\n"
		"Creates an RT client and an RT server host and N stream pairs, each a network\n"
		"namespace and cgroup, each pair on its own veth pair.", up_opts },
	{ "down", "rtvnet testbed down\n\n"
		  "Removes everything rtvnet created (idempotent).", rtv_cli_no_opts },
	{ "status", "rtvnet testbed status\n\nShows the testbed's hosts.", rtv_cli_no_opts },
	{ NULL, NULL, NULL },
};

static void print_host(struct rtv_tb_host *h, void *arg)
{
	bool *up = arg;

	printf("  %-4s %-8s %-6s %-12s cgroup %-12s %s\n", h->name, h->ns, h->dev, h->addr,
	       h->cgroup, *up && rtv_netns_exists(h->ns) ? "up" : "missing");
}

static int testbed_status(void)
{
	struct rtv_testbed tb;
	bool up;
	int n;

	up = rtv_testbed_exists(&n);
	if (!up) {
		printf("no testbed is up\n");
		return RTV_EXIT_OK;
	}
	rtv_testbed_init(&tb, n, NULL);
	printf("testbed up with %d stream pair%s:\n", n, n == 1 ? "" : "s");
	rtv_testbed_for_each(&tb, print_host, &up);
	return RTV_EXIT_OK;
}

static int testbed_down(void)
{
	int err;

	size_t others = rtv_journal_kept(NULL) - rtv_journal_kept("testbed");

	if (!rtv_journal_kept("testbed")) {
		if (rtv_testbed_exists(NULL))
			rtv_cli_warn("namespaces named rtv-* exist but rtvnet's journal does not "
				     "list them: left alone");
		printf("no testbed is up\n");
		return RTV_EXIT_OK;
	}
	err = rtv_journal_undo_owner("testbed");
	if (err < 0) {
		rtv_cli_error("could not undo every change of the testbed: %s (what is left stays "
			      "in the journal: 'rtvnet status')", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	printf("testbed down: undid %d change%s\n", err, err == 1 ? "" : "s");
	if (others)
		printf("left in place: %zu change%s kept by other commands ('rtvnet status' lists "
		       "them, 'rtvnet revert' undoes them)\n", others, others == 1 ? "" : "s");
	return RTV_EXIT_OK;
}

static int testbed_up(void)
{
	struct rtv_testbed tb;
	struct rtv_cgroups cg;
	bool up = true;
	size_t mark;
	int err;

	if (rtv_testbed_exists(NULL)) {
		rtv_cli_error("a testbed is already up (see 'rtvnet testbed status'); "
			      "run 'rtvnet testbed down' first");
		return RTV_EXIT_FAIL;
	}
	err = rtv_cgroup_detect(RTV_CGROUP_ROOT, &cg);
	if (err < 0) {
		rtv_cli_error("no usable cgroup hierarchy under '%s' (cgroup v2, or v1 with cpuset "
			      "and cpuacct, is needed)", RTV_CGROUP_ROOT);
		return RTV_EXIT_FAIL;
	}
	rtv_testbed_init(&tb, (int)up_opt.streams, &cg);
	mark = rtv_journal_mark();
	err = rtv_testbed_up(&tb);
	if (err < 0) {
		rtv_journal_undo_to(mark);
		rtv_cli_error("cannot bring the testbed up: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	err = rtv_journal_keep_from(mark, "testbed");
	if (err < 0) {
		rtv_journal_undo_to(mark);
		rtv_cli_error("cannot write the journal: %s", strerror(-err));
		return RTV_EXIT_FAIL;
	}
	printf("testbed up (cgroup v%d) with %d stream pair%s:\n", cg.version, tb.nstreams,
	       tb.nstreams == 1 ? "" : "s");
	rtv_testbed_for_each(&tb, print_host, &up);
	return RTV_EXIT_OK;
}

int cmd_testbed(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int err;
	bool done;

	m = rtv_cli_mode(cmd_testbed_modes, argc, argv, &err);
	if (!m)
		return err;
	err = rtv_cli_parse_noargs(m->opts, m->usage, argc - 1, argv + 1, &done);
	if (err || done)
		return err;
	if (!strcmp(m->name, "status"))
		return testbed_status();
	if (rtv_cli_host_lock() < 0)
		return RTV_EXIT_FAIL;
	return strcmp(m->name, "up") ? testbed_down() : testbed_up();
}
