/* outsource: the outsourcing paper's RT socket outsourcing (section 3.2) for
 * a container. The RT server runs in its container unchanged, under
 * rtvnet's seccomp filter: its AF_INET/AF_INET6 socket() calls are answered
 * by a supervisor with a socket made in the container host's namespace
 * (rtv-host), by a helper in the container's cgroup v2 directory
 * (lib/outsource/outsource.h). So its RT packets are processed once, by the
 * host's stack, straight from the RT NIC to the application's socket: no
 * forwarding, no bridge, no container veth, no softirq work in the
 * container's namespace. The service is then reached at the RT NIC's address
 * in rtv-host (where a host-networked service would be). The supervisor is a
 * journaled process of the run, ended with it.
 *
 * The RT client and server run at SCHED_FIFO, as every method after prio
 * does in the paper, so that prio is the reference that isolates what
 * outsourcing itself changes.
 *
 * Testbed only, host topology without --nat (the DNAT rule would take the
 * service's packets to the container before the host's socket saw them). */
#include "methods/method.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/cgroup.h"
#include "host/journal.h"
#include "host/proc.h"
#include "outsource/outsource.h"
#include "util/log.h"

static volatile sig_atomic_t sup_stop;

static void on_term(int sig)
{
	(void)sig;
	sup_stop = 1;
}

struct sup_arg {
	const struct rtv_testbed *tb;
	struct rtv_method_run *run;
	pid_t server;
	int report;   /* where the supervisor writes its helper's pid */
};

/* The supervisor process: serve the server's listener until SIGTERM. */
static int sup_main(void *p)
{
	const struct sup_arg *a = p;
	struct rtv_outsource_cfg cfg = { .target_netns = a->tb->host.ns, .uid = (uid_t)-1,
					 .gid = (gid_t)-1, .sync_wakeup = true };
	struct rtv_outsource *o = NULL;
	struct sigaction sa = { .sa_handler = on_term };
	char dir[512];
	int err;

	close(a->run->chan[1]);
	rtv_journal_forget(); /* the run journals the helper, from its pid */
	sigaction(SIGTERM, &sa, NULL);
	err = rtv_cgroup_v2_dir(a->tb->cg.root, a->tb->rt_server.cgroup, false, dir, sizeof(dir));
	if (!err)
		cfg.cgroup_v2_dir = dir;
	err = rtv_outsource_new(&cfg, &o);
	if (!err) {
		pid_t h = rtv_outsource_helper_pid(o);

		if (write(a->report, &h, sizeof(h)) != (ssize_t)sizeof(h))
			err = -EPIPE;
	}
	close(a->report);
	if (!err)
		err = rtv_outsource_add_child(o, a->run->chan[0], a->server);
	else
		close(a->run->chan[0]);
	while (!err && !sup_stop) {
		int r = rtv_outsource_run(o, &sup_stop);

		if (r == 1) /* the server is gone: nothing left to serve */
			break;
		if (r < 0 && r != -EINTR)
			err = r;
	}
	if (err < 0)
		rtv_err("outsource supervisor: %s", strerror(-err));
	rtv_outsource_free(o);
	return err;
}

static int outsource_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
			   struct rtv_method_run *run)
{
	char dir[512];
	int err;

	(void)cfg;
	if (!tb || tb->shape.topology != RTV_TB_HOST || tb->shape.nat) {
		rtv_err("outsource needs the testbed's host topology without --nat (there must be a "
			"host namespace to make the RT sockets in, and no DNAT before it)");
		return -EINVAL;
	}
	/* the container's cgroup v2 directory, where the sockets' creator lives */
	err = rtv_cgroup_v2_dir(tb->cg.root, tb->rt_server.cgroup, true, dir, sizeof(dir));
	if (err < 0 && err != -ENOTSUP) {
		rtv_err("cannot make the RT container's cgroup v2 directory: %s", strerror(-err));
		return err;
	}
	err = rtv_outsource_channel(run->chan);
	if (err < 0)
		return err;
	run->chan_open = true;
	snprintf(run->service_addr, sizeof(run->service_addr), "%s", tb->rt_client.gw);
	snprintf(run->note, sizeof(run->note), "RT server's sockets made in %s by a helper in %.200s "
		 "(seccomp user notification); the service reached at %s", tb->host.ns,
		 err == -ENOTSUP ? "its parent's cgroup (no cgroup v2 here)" : dir, run->service_addr);
	return 0;
}

static int outsource_child(const struct rtv_method_cfg *cfg, struct rtv_method_run *run,
			   enum rtv_role role)
{
	(void)cfg;
	if (!run->chan_open)
		return 0;
	if (role != RTV_ROLE_RT_SERVER) { /* not theirs to hold */
		close(run->chan[0]);
		close(run->chan[1]);
		return 0;
	}
	close(run->chan[0]);
	return rtv_outsource_child_enter(run->chan[1]);
}

static int outsource_started(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			     struct rtv_method_run *run, enum rtv_role role, pid_t pid)
{
	struct sup_arg a = { tb, run, pid, -1 };
	struct pollfd pfd;
	pid_t sup = 0, h = 0;
	int err, rep[2];

	(void)cfg;
	if (role != RTV_ROLE_RT_SERVER || !run->chan_open)
		return 0;
	if (pipe2(rep, O_CLOEXEC))
		return -errno;
	a.report = rep[1];
	err = rtv_testbed_spawn(tb, NULL, sup_main, &a, &sup);
	close(rep[1]);
	if (sup > 0)
		run->helper = sup;
	/* the helper, journaled here: the journal is written by its holder only */
	pfd = (struct pollfd){ .fd = rep[0], .events = POLLIN };
	if (!err && poll(&pfd, 1, 5000) == 1 && read(rep[0], &h, sizeof(h)) == (ssize_t)sizeof(h) &&
	    h > 0 && rtv_journal_is_open())
		err = rtv_proc_journal_add(h);
	else if (!err && h <= 0)
		err = -ECHILD; /* the supervisor could not start its helper */
	close(rep[0]);
	/* ours closed: the supervisor sees the end when the server dies unsent */
	close(run->chan[0]);
	close(run->chan[1]);
	run->chan_open = false;
	return err;
}

/* The paper's claims (Table 3, section 4): the RTT's standard deviation
 * 76% under prio's and 63% under dedicated's, and about twice dedicated's
 * stream throughput (the streams keep every CPU). */
const struct rtv_method rtv_method_outsource = {
	.name = "outsource",
	.summary = "RT server's sockets made in the container host's namespace (seccomp user "
		   "notification): its packets never cross the bridge or the container's veth",
	.needs = RTV_NEED_RT_FIFO, /* the paper outsources on its RT-priority kernel */
	.setup = outsource_setup,
	.child = outsource_child,
	.started = outsource_started,
	.in_default = true,
	.expect = {
		{ "beats prio", "sd_us", "prio", RTV_CMP_LT, 1 },
		{ "beats dedicated", "sd_us", "dedicated", RTV_CMP_LT, 1 },
		{ "keeps throughput", "stream_gbit_s", "dedicated", RTV_CMP_GE, 1 },
	},
};
