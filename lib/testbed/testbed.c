#include "testbed/testbed.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "host/journal.h"
#include "host/proc.h"
#include "net/netns.h"
#include "net/rtnl.h"
#include "util/log.h"

static void host_init(struct rtv_tb_host *h, const char *name, char side, unsigned char pair)
{
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->ns, sizeof(h->ns), "rtv-%s", name);
	snprintf(h->cgroup, sizeof(h->cgroup), "%s/%s", RTV_TESTBED_CGROUP, name);
	snprintf(h->dev, sizeof(h->dev), "rtv%c%d", side, pair);
	snprintf(h->addr, sizeof(h->addr), "198.18.%d.%d", pair, side == 'c' ? 1 : 2);
	snprintf(h->peer, sizeof(h->peer), "198.18.%d.%d", pair, side == 'c' ? 2 : 1);
}

int rtv_testbed_init(struct rtv_testbed *tb, int nstreams, const struct rtv_cgroups *cg)
{
	char name[8];

	if (nstreams < 0 || nstreams > RTV_TESTBED_MAX_STREAMS)
		return -EINVAL;
	memset(tb, 0, sizeof(*tb));
	tb->nstreams = nstreams;
	if (cg)
		tb->cg = *cg;
	host_init(&tb->rt_client, "rtc", 'c', 0);
	host_init(&tb->rt_server, "rts", 's', 0);
	for (int i = 0; i < nstreams; i++) {
		snprintf(name, sizeof(name), "s%dc", i + 1);
		host_init(&tb->stream_client[i], name, 'c', (unsigned char)(i + 1));
		snprintf(name, sizeof(name), "s%ds", i + 1);
		host_init(&tb->stream_server[i], name, 's', (unsigned char)(i + 1));
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

bool rtv_testbed_exists(int *nstreams)
{
	char name[16];
	bool any = rtv_netns_exists("rtv-rtc") || rtv_netns_exists("rtv-rts");
	int n = 0;

	for (int i = 1; i <= RTV_TESTBED_MAX_STREAMS; i++) {
		snprintf(name, sizeof(name), "rtv-s%dc", i);
		if (rtv_netns_exists(name))
			n = i, any = true;
	}
	if (nstreams)
		*nstreams = n;
	return any;
}

struct addr_arg {
	const struct rtv_tb_host *h;
};

static int host_net_setup(void *arg)
{
	const struct rtv_tb_host *h = ((struct addr_arg *)arg)->h;
	int err;

	err = rtv_rtnl_link_up("lo");
	if (!err)
		err = rtv_rtnl_addr_add(h->dev, h->addr, 24);
	if (!err)
		err = rtv_rtnl_link_up(h->dev);
	return err;
}

static int pair_up(const struct rtv_testbed *tb, const struct rtv_tb_host *c,
		   const struct rtv_tb_host *s)
{
	int cfd = -1, sfd = -1, err;
	const struct rtv_tb_host *hosts[2] = { c, s };

	for (int i = 0; i < 2; i++) {
		err = rtv_netns_add(hosts[i]->ns);
		if (err < 0) {
			rtv_err("cannot create network namespace '%s': %s", hosts[i]->ns, strerror(-err));
			return err;
		}
		err = rtv_cgroup_create(&tb->cg, hosts[i]->cgroup);
		if (err < 0) {
			rtv_err("cannot create cgroup '%s': %s", hosts[i]->cgroup, strerror(-err));
			return err;
		}
	}
	cfd = rtv_netns_open(c->ns);
	sfd = rtv_netns_open(s->ns);
	if (cfd < 0 || sfd < 0) {
		err = cfd < 0 ? cfd : sfd;
		goto out;
	}
	/* both ends are born inside their namespaces: nothing ever shows in ours */
	err = rtv_rtnl_veth_add(c->dev, cfd, s->dev, sfd);
	if (err < 0) {
		rtv_err("cannot create veth pair '%s'-'%s': %s", c->dev, s->dev, strerror(-err));
		goto out;
	}
	for (int i = 0; i < 2 && !err; i++) {
		struct addr_arg a = { hosts[i] };

		err = rtv_netns_run(hosts[i]->ns, host_net_setup, &a);
		if (err < 0)
			rtv_err("cannot configure '%s' in '%s': %s", hosts[i]->dev, hosts[i]->ns,
				strerror(-err));
	}
out:
	if (cfd >= 0)
		close(cfd);
	if (sfd >= 0)
		close(sfd);
	return err;
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
	err = pair_up(tb, &tb->rt_client, &tb->rt_server);
	for (int i = 0; i < tb->nstreams && !err; i++)
		err = pair_up(tb, &tb->stream_client[i], &tb->stream_server[i]);
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
