#include "testbed/testbed.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/journal.h"
#include "host/proc.h"
#include "net/netns.h"
#include "net/rtnl.h"
#include "util/log.h"
#include "util/file.h"
#include "util/parse.h"

#define BRIDGE_ADDR "198.19.0.254"

void rtv_testbed_shape_default(struct rtv_tb_shape *shape, int nstreams)
{
	memset(shape, 0, sizeof(*shape));
	shape->nstreams = nstreams;
	shape->topology = RTV_TB_HOST;
}

void rtv_testbed_shape_describe(const struct rtv_tb_shape *shape, char *buf, size_t len)
{
	snprintf(buf, len, "%s topology, %d stream pair%s%s, peers on %s%s",
		 shape->topology == RTV_TB_HOST ? "host" : "direct", shape->nstreams,
		 shape->nstreams == 1 ? "" : "s", shape->nat ? ", nat" : "",
		 shape->peer_cpus[0] ? "CPU " : "any CPU", shape->peer_cpus);
}

/* Link `link` (0: RT, k: stream k); side 'c' (peer) or 's' (container). */
static void host_init(const struct rtv_tb_shape *shape, struct rtv_tb_host *h, const char *name,
		      char side, int link)
{
	bool host = shape->topology == RTV_TB_HOST;

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->ns, sizeof(h->ns), "rtv-%s", name);
	snprintf(h->cgroup, sizeof(h->cgroup), "%s/%s", RTV_TESTBED_CGROUP, name);
	snprintf(h->dev, sizeof(h->dev), "rtv%c%d", side, link);
	h->external = side == 'c';
	if (!host) {
		snprintf(h->addr, sizeof(h->addr), "198.18.%d.%d", link, side == 'c' ? 1 : 2);
		snprintf(h->peer, sizeof(h->peer), "198.18.%d.%d", link, side == 'c' ? 2 : 1);
		return;
	}
	if (side == 'c') {
		snprintf(h->hdev, sizeof(h->hdev), "rtvh%d", link);
		snprintf(h->addr, sizeof(h->addr), "198.18.%d.1", link);
		snprintf(h->gw, sizeof(h->gw), "198.18.%d.254", link);
		if (shape->nat)
			snprintf(h->peer, sizeof(h->peer), "198.18.%d.254", link);
		else
			snprintf(h->peer, sizeof(h->peer), "198.19.0.%d", link + 2);
	} else {
		snprintf(h->hdev, sizeof(h->hdev), "rtvb%d", link);
		snprintf(h->addr, sizeof(h->addr), "198.19.0.%d", link + 2);
		snprintf(h->gw, sizeof(h->gw), BRIDGE_ADDR);
		snprintf(h->peer, sizeof(h->peer), "198.18.%d.1", link);
	}
}

int rtv_testbed_init(struct rtv_testbed *tb, const struct rtv_tb_shape *shape,
		     const struct rtv_cgroups *cg)
{
	char name[16];
	cpu_set_t set;

	if (shape->nstreams < 0 || shape->nstreams > RTV_TESTBED_MAX_STREAMS)
		return -EINVAL;
	if (shape->nat && shape->topology != RTV_TB_HOST)
		return -EINVAL;
	if (shape->peer_cpus[0] && rtv_parse_cpulist(shape->peer_cpus, CPU_SETSIZE, &set) < 0)
		return -EINVAL;
	memset(tb, 0, sizeof(*tb));
	tb->shape = *shape;
	tb->nstreams = shape->nstreams;
	if (cg)
		tb->cg = *cg;
	snprintf(tb->host.name, sizeof(tb->host.name), "host");
	snprintf(tb->host.ns, sizeof(tb->host.ns), RTV_TESTBED_HOST_NS);
	snprintf(tb->host.dev, sizeof(tb->host.dev), RTV_TESTBED_BRIDGE);
	snprintf(tb->host.addr, sizeof(tb->host.addr), BRIDGE_ADDR);
	host_init(shape, &tb->rt_client, "rtc", 'c', 0);
	host_init(shape, &tb->rt_server, "rts", 's', 0);
	for (int i = 0; i < shape->nstreams; i++) {
		snprintf(name, sizeof(name), "s%dc", i + 1);
		host_init(shape, &tb->stream_client[i], name, 'c', i + 1);
		snprintf(name, sizeof(name), "s%ds", i + 1);
		host_init(shape, &tb->stream_server[i], name, 's', i + 1);
	}
	return 0;
}

void rtv_testbed_for_each(struct rtv_testbed *tb, void (*fn)(struct rtv_tb_host *h, void *arg),
			  void *arg)
{
	fn(&tb->rt_client, arg);
	fn(&tb->rt_server, arg);
	for (int i = 0; i < tb->nstreams; i++) {
		fn(&tb->stream_client[i], arg);
		fn(&tb->stream_server[i], arg);
	}
}

int rtv_testbed_path_devs(const struct rtv_testbed *tb, int stream, struct rtv_tb_dev *out)
{
	const struct rtv_tb_host *c, *s;
	int n = 0;

	if (stream < 0 || stream > tb->nstreams)
		return 0;
	c = stream ? &tb->stream_client[stream - 1] : &tb->rt_client;
	s = stream ? &tb->stream_server[stream - 1] : &tb->rt_server;
	out[n++] = (struct rtv_tb_dev){ c->ns, c->dev };
	if (tb->shape.topology == RTV_TB_HOST) {
		out[n++] = (struct rtv_tb_dev){ tb->host.ns, c->hdev };
		out[n++] = (struct rtv_tb_dev){ tb->host.ns, s->hdev };
	}
	out[n++] = (struct rtv_tb_dev){ s->ns, s->dev };
	return n;
}

/* The shape file: "topology streams nat peer_cpus" ("-" for no CPUs). */
static int shape_write(const struct rtv_tb_shape *shape)
{
	char line[128];
	int err;

	snprintf(line, sizeof(line), "%s %d %d %s\n",
		 shape->topology == RTV_TB_HOST ? "host" : "direct", shape->nstreams,
		 shape->nat ? 1 : 0, shape->peer_cpus[0] ? shape->peer_cpus : "-");
	FILE *f;

	err = rtv_journal_add_runfile(RTV_TESTBED_SHAPE_FILE);
	if (err < 0)
		return err;
	f = fopen(RTV_TESTBED_SHAPE_FILE, "we");
	if (!f)
		return -errno;
	err = fputs(line, f) < 0 ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int shape_read(struct rtv_tb_shape *shape)
{
	char line[128], topo[16], cpus[64];
	int n, nat;

	if (rtv_file_read_line(RTV_TESTBED_SHAPE_FILE, line, sizeof(line)) < 0)
		return -ENOENT;
	if (sscanf(line, "%15s %d %d %63s", topo, &n, &nat, cpus) != 4 || n < 0 ||
	    n > RTV_TESTBED_MAX_STREAMS)
		return -EINVAL;
	rtv_testbed_shape_default(shape, n);
	shape->topology = strcmp(topo, "direct") ? RTV_TB_HOST : RTV_TB_DIRECT;
	shape->nat = nat == 1;
	if (strcmp(cpus, "-"))
		snprintf(shape->peer_cpus, sizeof(shape->peer_cpus), "%s", cpus);
	return 0;
}

bool rtv_testbed_exists(struct rtv_tb_shape *shape)
{
	char name[16];
	bool any = rtv_netns_exists("rtv-rtc") || rtv_netns_exists("rtv-rts") ||
		   rtv_netns_exists(RTV_TESTBED_HOST_NS);
	int n = 0;

	for (int i = 1; i <= RTV_TESTBED_MAX_STREAMS; i++) {
		snprintf(name, sizeof(name), "rtv-s%dc", i);
		if (rtv_netns_exists(name))
			n = i, any = true;
	}
	if (any && shape && shape_read(shape) < 0) {
		rtv_testbed_shape_default(shape, n);
		if (!rtv_netns_exists(RTV_TESTBED_HOST_NS))
			shape->topology = RTV_TB_DIRECT;
	}
	return any;
}

struct addr_arg {
	const char *dev, *addr, *gw;
};

static int host_net_setup(void *arg)
{
	const struct addr_arg *a = arg;
	int err;

	err = rtv_rtnl_link_up("lo");
	if (!err)
		err = rtv_rtnl_addr_add(a->dev, a->addr, 24);
	if (!err)
		err = rtv_rtnl_link_up(a->dev);
	if (!err && a->gw && a->gw[0])
		err = rtv_rtnl_route_add_default(a->gw);
	return err;
}

static int net_setup(const char *ns, const char *dev, const char *addr, const char *gw)
{
	struct addr_arg a = { dev, addr, gw };
	int err = rtv_netns_run(ns, host_net_setup, &a);

	if (err < 0)
		rtv_err("cannot configure '%s' in '%s': %s", dev, ns, strerror(-err));
	return err;
}

/* A host of ours: its namespace and cgroup (stream sources on the peer
 * CPUs; the RT client floats: see testbed.h). */
static int host_make(const struct rtv_testbed *tb, const struct rtv_tb_host *h)
{
	int err = rtv_netns_add(h->ns);

	if (err < 0) {
		rtv_err("cannot create network namespace '%s': %s", h->ns, strerror(-err));
		return err;
	}
	if (!h->cgroup[0])
		return 0;
	err = rtv_cgroup_create(&tb->cg, h->cgroup);
	if (err < 0) {
		rtv_err("cannot create cgroup '%s': %s", h->cgroup, strerror(-err));
		return err;
	}
	if (h->external && h != &tb->rt_client && tb->shape.peer_cpus[0]) {
		err = rtv_cgroup_set_cpus(&tb->cg, h->cgroup, tb->shape.peer_cpus);
		if (err < 0)
			rtv_err("cannot put peer '%s' on CPU %s: %s", h->name, tb->shape.peer_cpus,
				strerror(-err));
	}
	return err;
}

/* A veth pair: a in namespace ans, b in bns, both born there. */
static int veth(const char *a, const char *ans, const char *b, const char *bns)
{
	int afd = rtv_netns_open(ans), bfd = rtv_netns_open(bns), err;

	if (afd < 0 || bfd < 0) {
		err = afd < 0 ? afd : bfd;
		goto out;
	}
	err = rtv_rtnl_veth_add(a, afd, b, bfd);
	if (err < 0)
		rtv_err("cannot create veth pair '%s'-'%s': %s", a, b, strerror(-err));
out:
	if (afd >= 0)
		close(afd);
	if (bfd >= 0)
		close(bfd);
	return err;
}

static int pair_direct(const struct rtv_testbed *tb, const struct rtv_tb_host *c,
		       const struct rtv_tb_host *s)
{
	int err = host_make(tb, c);

	if (!err)
		err = host_make(tb, s);
	if (!err)
		err = veth(c->dev, c->ns, s->dev, s->ns);
	if (!err)
		err = net_setup(c->ns, c->dev, c->addr, NULL);
	if (!err)
		err = net_setup(s->ns, s->dev, s->addr, NULL);
	return err;
}

struct port_arg {
	const char *nic, *nic_addr, *port;
};

static int host_port_setup(void *arg)
{
	const struct port_arg *a = arg;
	int err = 0;

	if (a->nic) {
		err = rtv_rtnl_addr_add(a->nic, a->nic_addr, 24);
		if (!err)
			err = rtv_rtnl_link_up(a->nic);
	}
	if (!err)
		err = rtv_rtnl_link_set_master(a->port, RTV_TESTBED_BRIDGE);
	if (!err)
		err = rtv_rtnl_link_up(a->port);
	return err;
}

/* A link of the host topology: the peer's NIC into rtv-host, the
 * container's veth pair onto the bridge. */
static int pair_host(const struct rtv_testbed *tb, const struct rtv_tb_host *c,
		     const struct rtv_tb_host *s)
{
	struct port_arg pa = { c->hdev, c->gw, s->hdev };
	int err = host_make(tb, c);

	if (!err)
		err = host_make(tb, s);
	if (!err)
		err = veth(c->dev, c->ns, c->hdev, tb->host.ns);
	if (!err)
		err = veth(s->hdev, tb->host.ns, s->dev, s->ns);
	if (!err) {
		err = rtv_netns_run(tb->host.ns, host_port_setup, &pa);
		if (err < 0)
			rtv_err("cannot attach '%s' and '%s' in '%s': %s", c->hdev, s->hdev,
				tb->host.ns, strerror(-err));
	}
	if (!err)
		err = net_setup(c->ns, c->dev, c->addr, c->gw);
	if (!err)
		err = net_setup(s->ns, s->dev, s->addr, s->gw);
	return err;
}

/* rtv-host's own: its bridge and forwarding. The sysctl is the namespace's
 * own (net sysctls follow the writer's namespace) and goes with it: the
 * journal's netns entry undoes it. */
static int host_setup(void *arg)
{
	int err, fd;

	(void)arg;
	err = rtv_rtnl_link_up("lo");
	if (!err)
		err = rtv_rtnl_bridge_add(RTV_TESTBED_BRIDGE);
	if (!err)
		err = rtv_rtnl_addr_add(RTV_TESTBED_BRIDGE, BRIDGE_ADDR, 24);
	if (!err)
		err = rtv_rtnl_link_up(RTV_TESTBED_BRIDGE);
	if (err)
		return err;
	fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return err;
}

/* --nat: every container published on its NIC's address, by DNAT in
 * rtv-host, through the nft command (the rules go with the namespace). */
static int nat_setup(const struct rtv_testbed *tb)
{
	char rules[2048];
	size_t off;
	int fds[2], st;
	pid_t pid;

	off = (size_t)snprintf(rules, sizeof(rules),
			       "table ip rtvnet {\n chain prerouting {\n"
			       "  type nat hook prerouting priority dstnat; policy accept;\n");
	for (int k = 0; k <= tb->nstreams && off < sizeof(rules); k++) {
		const struct rtv_tb_host *c = k ? &tb->stream_client[k - 1] : &tb->rt_client;
		const struct rtv_tb_host *s = k ? &tb->stream_server[k - 1] : &tb->rt_server;

		off += (size_t)snprintf(rules + off, sizeof(rules) - off,
					"  iifname \"%s\" ip daddr %s dnat to %s\n", c->hdev, c->gw,
					s->addr);
	}
	if (off + 8 >= sizeof(rules))
		return -ENOSPC;
	snprintf(rules + off, sizeof(rules) - off, " }\n}\n");
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		if (rtv_netns_enter(tb->host.ns) < 0)
			_exit(126);
		execlp("nft", "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	st = write(fds[1], rules, strlen(rules)) < 0 ? -errno : 0;
	close(fds[1]);
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return -ENOENT;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

int rtv_testbed_up(struct rtv_testbed *tb)
{
	int err;

	if (rtv_testbed_exists(NULL))
		return -EEXIST;
	err = rtv_cgroup_create(&tb->cg, RTV_TESTBED_CGROUP);
	if (err < 0) {
		rtv_err("cannot create cgroup '%s': %s", RTV_TESTBED_CGROUP, strerror(-err));
		return err;
	}
	err = shape_write(&tb->shape);
	if (err < 0) {
		rtv_err("cannot write '%s': %s", RTV_TESTBED_SHAPE_FILE, strerror(-err));
		return err;
	}
	if (tb->shape.topology == RTV_TB_DIRECT) {
		err = pair_direct(tb, &tb->rt_client, &tb->rt_server);
		for (int i = 0; i < tb->nstreams && !err; i++)
			err = pair_direct(tb, &tb->stream_client[i], &tb->stream_server[i]);
		return err;
	}
	err = rtv_netns_add(tb->host.ns);
	if (err < 0) {
		rtv_err("cannot create network namespace '%s': %s", tb->host.ns, strerror(-err));
		return err;
	}
	err = rtv_netns_run(tb->host.ns, host_setup, NULL);
	if (err < 0) {
		rtv_err("cannot set up bridge '%s' and forwarding in '%s': %s", RTV_TESTBED_BRIDGE,
			tb->host.ns, strerror(-err));
		return err;
	}
	err = pair_host(tb, &tb->rt_client, &tb->rt_server);
	for (int i = 0; i < tb->nstreams && !err; i++)
		err = pair_host(tb, &tb->stream_client[i], &tb->stream_server[i]);
	if (!err && tb->shape.nat) {
		err = nat_setup(tb);
		if (err == -ENOENT)
			rtv_err("--nat needs the nft command (Debian package nftables)");
		else if (err < 0)
			rtv_err("cannot publish the containers by DNAT in '%s': %s", tb->host.ns,
				strerror(-err));
	}
	return err;
}

int rtv_testbed_spawn(const struct rtv_testbed *tb, const struct rtv_tb_host *h,
		      int (*fn)(void *arg), void *arg, pid_t *pidp)
{
	pid_t parent = getpid(), pid;
	int err;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGINT, SIG_IGN); /* Ctrl-C is the parent's to handle */
		signal(SIGTERM, SIG_DFL); /* the parent's way to end it, whatever it catches */
		signal(SIGHUP, SIG_DFL);
		err = h ? rtv_cgroup_attach(&tb->cg, h->cgroup, getpid()) : 0;
		if (!err && h)
			err = rtv_netns_enter(h->ns);
		if (err < 0) {
			rtv_err("cannot enter host '%s': %s", h->name, strerror(-err));
			_exit(1);
		}
		err = fn(arg);
		fflush(NULL);
		_exit(err < 0 ? 1 : err);
	}
	*pidp = pid;
	return rtv_journal_is_open() ? rtv_proc_journal_add(pid) : 0;
}

int rtv_testbed_host_streams(const char *name)
{
	if (!strcmp(name, "rtc") || !strcmp(name, "rts"))
		return 0;
	if (strlen(name) == 3 && name[0] == 's' && name[1] >= '1' &&
	    name[1] <= '0' + RTV_TESTBED_MAX_STREAMS && (name[2] == 'c' || name[2] == 's'))
		return name[1] - '0';
	return -1;
}

const struct rtv_tb_host *rtv_testbed_host(const struct rtv_testbed *tb, const char *name)
{
	int k = rtv_testbed_host_streams(name);

	if (k < 0 || k > tb->nstreams)
		return NULL;
	if (k == 0)
		return name[2] == 'c' ? &tb->rt_client : &tb->rt_server;
	return name[2] == 'c' ? &tb->stream_client[k - 1] : &tb->stream_server[k - 1];
}
