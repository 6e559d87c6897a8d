/* rtvnet testbed up|down|status */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sched.h>

#include "builtin.h"
#include "host/journal.h"
#include "host/sched.h"
#include "net/napi.h"
#include "net/netns.h"
#include "testbed/testbed.h"
#include "util/parse.h"

static const char usage_str[] =
	"rtvnet testbed up [--streams N] [--topology host|direct] [--nat] [--peer-cpus CPUS]\n"
	"       | down | status\n\n"
	"  up      create the testbed: external peers (the RT client, N stream sources),\n"
	"          a container host rtv-host with a NIC per peer and a bridge, and the\n"
	"          containers (the RT server, N stream sinks), each a network namespace\n"
	"  down    remove everything rtvnet created (idempotent)\n"
	"  status  draw the testbed: hosts, devices, their NAPIs and who polls them\n\n"
	"run 'rtvnet testbed up -h' for the options";

static const char *const topologies[] = { "host", "direct", NULL };
static struct {
	long long streams;
	const char *topology, *peer_cpus;
	bool nat;
} up_opt = { .streams = 2, .topology = "host" };

static const struct rtv_opt up_opts[] = {
	RTV_OPT_INT_DEF("streams", 'n', &up_opt.streams, "N", 0, RTV_TESTBED_MAX_STREAMS,
			"stream pairs (non-RT links) to create"),
	RTV_OPT_CHOICE_DEF("topology", 0, &up_opt.topology, "SHAPE", topologies,
			   "host (peers reach containers on a bridge through rtv-host's NICs) or "
			   "direct (a veth pair from each client to its server)"),
	RTV_OPT_FLAG_DEF("nat", 0, &up_opt.nat, "host topology: publish the containers by DNAT on "
			 "rtv-host, as podman run -p does"),
	RTV_OPT_STRING_DEF("peer-cpus", 0, &up_opt.peer_cpus, "CPUS",
			   "CPUs of the external peers (default: anywhere)"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_testbed_modes[] = {
	{ NULL, usage_str, NULL },
	{ "up", "rtvnet testbed up [--streams N] [--topology host|direct] [--nat] [--peer-cpus CPUS]\n\n"
		"Creates the external peers (RT client, N stream sources), the container host\n"
		"rtv-host (a NIC per peer, a bridge, forwarding) and the containers (RT server,\n"
		"N stream sinks), each a network namespace, peers and containers with a cgroup.", up_opts },
	{ "down", "rtvnet testbed down\n\n"
		  "Removes everything rtvnet created (idempotent).", rtv_cli_no_opts },
	{ "status", "rtvnet testbed status\n\nDraws the testbed: hosts, devices, their NAPIs and "
		    "who polls them.", rtv_cli_no_opts },
	{ NULL, NULL, NULL },
};

static void print_host(struct rtv_tb_host *h, void *arg)
{
	bool *up = arg;

	printf("  %-4s %-8s %-6s %-12s cgroup %-12s %s\n", h->name, h->ns, h->dev, h->addr,
	       h->cgroup, *up && rtv_netns_exists(h->ns) ? "up" : "missing");
}

/* "napi 8193 softirq" or "napi 8193 napi/rtvh0-8193 pid 77 FIFO 80 CPU 1". */
static void dev_line(const char *ns, const char *dev, const char *what)
{
	struct rtv_napi napi[8];
	int n = rtv_napi_dev_list(ns, dev, napi, 8);

	printf("    %-6s %-9s %-22s", dev, ns, what);
	if (n == -ENODEV || n == -ENOENT) {
		printf(" missing\n");
		return;
	}
	if (n <= 0) {
		printf(" no NAPI (its packets take the sending CPU's backlog, in softirq)\n");
		return;
	}
	for (int i = 0; i < n; i++) {
		struct rtv_sched_attr a;
		cpu_set_t set;
		char cpus[64] = "?";

		printf("%s napi %u ", i ? ";" : "", napi[i].id);
		if (napi[i].pid <= 0) {
			printf("in softirq (not threaded)");
			continue;
		}
		if (!sched_getaffinity(napi[i].pid, sizeof(set), &set))
			rtv_cpulist_format(&set, cpus, sizeof(cpus));
		if (!rtv_sched_getattr(napi[i].pid, &a) && a.sched_policy <= SCHED_RR)
			printf("kthread pid %d %s %u CPU %s", napi[i].pid,
			       rtv_sched_policy_names[a.sched_policy], a.sched_priority, cpus);
		else
			printf("kthread pid %d", napi[i].pid);
	}
	printf("\n");
}

static void draw(const struct rtv_testbed *tb)
{
	const struct rtv_tb_shape *sh = &tb->shape;

	for (int k = 0; k <= tb->nstreams; k++) {
		const struct rtv_tb_host *c = k ? &tb->stream_client[k - 1] : &tb->rt_client;
		const struct rtv_tb_host *s = k ? &tb->stream_server[k - 1] : &tb->rt_server;

		printf("\n");
		if (sh->topology == RTV_TB_HOST)
			printf("  %s %s %s --- %s %s [%s]  %s --- %s %s %s%s\n", c->ns, c->dev,
			       c->addr, c->hdev, c->gw, tb->host.ns, s->hdev, s->dev, s->addr, s->ns,
			       k ? "" : "   (RT)");
		else
			printf("  %s %s %s --- %s %s %s%s\n", c->ns, c->dev, c->addr, s->dev, s->addr,
			       s->ns, k ? "" : "   (RT)");
		dev_line(c->ns, c->dev, "peer's NIC");
		if (sh->topology == RTV_TB_HOST) {
			dev_line(tb->host.ns, c->hdev, "host NIC");
			dev_line(tb->host.ns, s->hdev, "bridge port");
		}
		dev_line(s->ns, s->dev, "container's");
	}
	if (sh->topology == RTV_TB_HOST)
		printf("\n  %s: bridge %s %s, forwarding on%s; peers reach the containers at %s\n",
		       tb->host.ns, RTV_TESTBED_BRIDGE, tb->host.addr,
		       sh->nat ? ", containers published by DNAT" : "",
		       sh->nat ? "their NIC's address" : "the containers' addresses");
}

static int testbed_status(void)
{
	struct rtv_testbed tb;
	struct rtv_tb_shape shape;
	char d[160];
	bool up;

	up = rtv_testbed_exists(&shape);
	if (!up) {
		printf("no testbed is up\n");
		return RTV_EXIT_OK;
	}
	if (rtv_testbed_init(&tb, &shape, NULL) < 0) {
		rtv_cli_error("the testbed's shape file '%s' is not valid", RTV_TESTBED_SHAPE_FILE);
		return RTV_EXIT_FAIL;
	}
	rtv_testbed_shape_describe(&shape, d, sizeof(d));
	printf("testbed up: %s\n", d);
	rtv_testbed_for_each(&tb, print_host, &up);
	draw(&tb);
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
	struct rtv_tb_shape shape;
	struct rtv_cgroups cg;
	cpu_set_t set;
	char d[160];
	bool up = true;
	size_t mark;
	int err;

	rtv_testbed_shape_default(&shape, (int)up_opt.streams);
	shape.topology = strcmp(up_opt.topology, "direct") ? RTV_TB_HOST : RTV_TB_DIRECT;
	shape.nat = up_opt.nat;
	if (shape.nat && shape.topology != RTV_TB_HOST) {
		rtv_cli_error("option '--nat': needs the host topology");
		return RTV_EXIT_USAGE;
	}
	if (up_opt.peer_cpus && strcmp(up_opt.peer_cpus, "any")) {
		if (rtv_parse_cpulist(up_opt.peer_cpus, CPU_SETSIZE, &set) < 0 || !CPU_COUNT(&set)) {
			rtv_cli_error("option '--peer-cpus': '%s' is not a CPU list (e.g. 0 or 0-2,5) "
				      "or 'any'", up_opt.peer_cpus);
			return RTV_EXIT_USAGE;
		}
		snprintf(shape.peer_cpus, sizeof(shape.peer_cpus), "%s", up_opt.peer_cpus);
	}
	if (rtv_cli_host_lock() < 0)
		return RTV_EXIT_FAIL;
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
	rtv_testbed_init(&tb, &shape, &cg);
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
	rtv_testbed_shape_describe(&shape, d, sizeof(d));
	printf("testbed up (cgroup v%d): %s\n", cg.version, d);
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
	if (!strcmp(m->name, "up"))
		return testbed_up();
	if (rtv_cli_host_lock() < 0)
		return RTV_EXIT_FAIL;
	return testbed_down();
}
