#include "net/linkwatch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/netns.h"
#include "util/time.h"

#include "util/banned.h"

/* Large enough for any one link message (a NIC with many VFs sends a few
 * KiB); a longer one arrives truncated and counts as lost events. */
#define RECV_SIZE 65536
/* Asked for each socket's queue, so that a burst (a testbed coming up)
 * overflows less often; the kernel caps it at net.core.rmem_max unless we
 * may force it. */
#define RCVBUF_BYTES (1 << 20)
/* Reads of one socket per round: a steady stream cannot hold poll for ever
 * (epoll is level-triggered: the rest is read next time). */
#define READS_PER_ROUND 256

/* The part of a link's state whose change is reported. */
struct link_state {
	uint32_t ifindex;   /* 0: the device does not exist */
	unsigned int flags; /* ifi_flags & STATE_FLAGS */
	uint32_t mtu;
	uint32_t xdp_prog;  /* IFLA_XDP_PROG_ID, 0 none */
	uint8_t xdp_mode;   /* IFLA_XDP_ATTACHED, XDP_ATTACHED_* */
};

/* glibc's <net/if.h> stops short of the RFC 2863 flags (<linux/if.h>, which
 * has them, clashes with it); the value is the kernel's. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif
#define STATE_FLAGS (IFF_UP | IFF_RUNNING | IFF_LOWER_UP)

/* One link message, parsed. */
struct link_msg {
	bool del;
	char name[IFNAMSIZ];
	uint32_t event; /* IFLA_EVENT_*, IFLA_EVENT_NONE when absent */
	struct link_state st;
};

struct lw_ns {
	char *name; /* NULL: the namespace the watch was added from */
	int fd;     /* NETLINK_ROUTE, subscribed to RTNLGRP_LINK, non-blocking */
	bool lost;  /* events lost since the last poll: read every state again */
};

struct lw_dev {
	int ns; /* index in ns[] */
	char name[IFNAMSIZ];
	struct link_state st;
	bool changed;
};

struct rtv_linkwatch {
	int epfd;
	struct lw_ns *ns;
	int nns;
	struct lw_dev *dev;
	int ndev;
	char *buf; /* RECV_SIZE */
};

int rtv_linkwatch_new(struct rtv_linkwatch **lw)
{
	struct rtv_linkwatch *w;
	int err;

	if (!lw)
		return -EINVAL;
	*lw = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->buf = malloc(RECV_SIZE);
	if (!w->buf) {
		free(w);
		return -ENOMEM;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		err = -errno;
		free(w->buf);
		free(w);
		return err;
	}
	*lw = w;
	return 0;
}

void rtv_linkwatch_free(struct rtv_linkwatch *lw)
{
	if (!lw)
		return;
	for (int i = 0; i < lw->nns; i++) {
		if (lw->ns[i].fd >= 0)
			close(lw->ns[i].fd);
		free(lw->ns[i].name);
	}
	if (lw->epfd >= 0)
		close(lw->epfd);
	free(lw->ns);
	free(lw->dev);
	free(lw->buf);
	free(lw);
}

int rtv_linkwatch_fd(const struct rtv_linkwatch *lw)
{
	return lw ? lw->epfd : -EINVAL;
}

/* ---- Link messages ---- */

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= IFLA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int xdp_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= IFLA_XDP_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Parse an RTM_NEWLINK or RTM_DELLINK of family AF_UNSPEC (not a bridge's
 * per-port message) into *m. 0, or -EINVAL for anything else or a message
 * without a usable name. */
static int link_parse(const struct nlmsghdr *nlh, struct link_msg *m)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	const struct nlattr *xtb[IFLA_XDP_MAX + 1] = { NULL };
	const struct ifinfomsg *ifi;
	const char *name;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -EINVAL;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EINVAL;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0)
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return -EINVAL;
	if (!tb[IFLA_IFNAME] || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
		return -EINVAL;
	name = mnl_attr_get_str(tb[IFLA_IFNAME]);
	if (!*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->del = nlh->nlmsg_type == RTM_DELLINK;
	memcpy(m->name, name, strlen(name) + 1);
	m->st.ifindex = (uint32_t)ifi->ifi_index;
	m->st.flags = ifi->ifi_flags & STATE_FLAGS;
	if (tb[IFLA_MTU] && mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32) == 0)
		m->st.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_EVENT] && mnl_attr_validate(tb[IFLA_EVENT], MNL_TYPE_U32) == 0)
		m->event = mnl_attr_get_u32(tb[IFLA_EVENT]);
	if (tb[IFLA_XDP] && mnl_attr_parse_nested(tb[IFLA_XDP], xdp_attr_cb, xtb) >= 0) {
		if (xtb[IFLA_XDP_ATTACHED] &&
		    mnl_attr_validate(xtb[IFLA_XDP_ATTACHED], MNL_TYPE_U8) == 0)
			m->st.xdp_mode = mnl_attr_get_u8(xtb[IFLA_XDP_ATTACHED]);
		if (xtb[IFLA_XDP_PROG_ID] &&
		    mnl_attr_validate(xtb[IFLA_XDP_PROG_ID], MNL_TYPE_U32) == 0)
			m->st.xdp_prog = mnl_attr_get_u32(xtb[IFLA_XDP_PROG_ID]);
	}
	return 0;
}

static bool state_same(const struct link_state *a, const struct link_state *b)
{
	return a->ifindex == b->ifindex && a->flags == b->flags && a->mtu == b->mtu &&
	       a->xdp_prog == b->xdp_prog && a->xdp_mode == b->xdp_mode;
}

/* Notices that say the device's datapath was rebuilt: features changed (GRO
 * toggled: veth makes or drops its NAPIs), the driver reset the hardware, and
 * any notice newer than these headers. */
static bool event_relevant(uint32_t event)
{
	return event == IFLA_EVENT_FEATURES || event == IFLA_EVENT_REBOOT ||
	       event > IFLA_EVENT_BONDING_OPTIONS;
}

/* Apply one message from namespace k to the devices watched there. */
static void link_event(struct rtv_linkwatch *lw, int k, const struct nlmsghdr *nlh)
{
	struct link_msg m;

	if (link_parse(nlh, &m) < 0)
		return;
	for (int i = 0; i < lw->ndev; i++) {
		struct lw_dev *d = &lw->dev[i];
		bool by_name = !strcmp(d->name, m.name);

		if (d->ns != k || (!by_name && d->st.ifindex != m.st.ifindex))
			continue;
		if (m.del || !by_name) {
			/* deleted, moved to another namespace, or renamed away */
			if (d->st.ifindex) {
				memset(&d->st, 0, sizeof(d->st));
				d->changed = true;
			}
			continue;
		}
		if (!state_same(&d->st, &m.st) || event_relevant(m.event))
			d->changed = true;
		d->st = m.st;
	}
}

/* ---- Reading a link's state on request ---- */

struct query_cb_ctx {
	struct link_state *st;
	bool got;
};

static int query_cb(const struct nlmsghdr *nlh, void *data)
{
	struct query_cb_ctx *c = data;
	struct link_msg m;

	if (link_parse(nlh, &m) < 0 || m.del)
		return MNL_CB_OK;
	*c->st = m.st;
	c->got = true;
	return MNL_CB_OK;
}

/* The state of device name in the caller's namespace: 0, or -ENODEV when
 * there is no such device, or -errno. */
static int link_query(const char *name, struct link_state *st)
{
	static const struct timeval timeout = { .tv_sec = 5 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct query_cb_ctx c = { .st = st, .got = false };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	unsigned int portid, seq;
	ssize_t n;
	int ret, err = 0;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &timeout,
		       sizeof(timeout)) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	/* the link message, then the ACK (or only an error) */
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			err = -errno;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, query_cb, &c);
		if (ret < 0) {
			err = -errno;
			goto out;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
	if (!c.got)
		err = -EPROTO;
out:
	mnl_socket_close(nl);
	return err;
}

/* Read afresh the state of every device watched in namespace k; the caller's
 * thread is in it. 0 or -errno (the states read so far are kept). */
static int query_ns_devs(struct rtv_linkwatch *lw, int k)
{
	for (int i = 0; i < lw->ndev; i++) {
		struct lw_dev *d = &lw->dev[i];
		int err;

		if (d->ns != k)
			continue;
		err = link_query(d->name, &d->st);
		if (err == -ENODEV)
			memset(&d->st, 0, sizeof(d->st));
		else if (err < 0)
			return err;
	}
	return 0;
}

/* ---- Adding ---- */

static bool ns_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* A socket subscribed to the link events of the caller's namespace. */
static int event_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, group = RTNLGRP_LINK, size = RCVBUF_BYTES, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	/* a larger queue only makes overflow rarer: failing to get it is fine */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

struct add_ctx {
	struct rtv_linkwatch *lw;
	int k;      /* the namespace's index */
	bool open;  /* open its socket first */
	int fd;     /* out: the socket opened */
	struct lw_dev *d;
};

/* In the namespace: open its socket if needed, then read the device's state.
 * Subscribing first means no change after the baseline can be missed. */
static int add_in_ns(void *arg)
{
	struct add_ctx *c = arg;
	int err;

	if (c->open) {
		c->fd = event_socket();
		if (c->fd < 0)
			return c->fd;
	}
	err = link_query(c->d->name, &c->d->st);
	if (err == -ENODEV) {
		memset(&c->d->st, 0, sizeof(c->d->st));
		err = 0;
	}
	return err;
}

int rtv_linkwatch_add(struct rtv_linkwatch *lw, const char *netns, const char *dev)
{
	struct add_ctx c = { .lw = lw, .fd = -1 };
	struct lw_dev d = { .changed = false };
	struct epoll_event ev = { .events = EPOLLIN };
	size_t len;
	void *p;
	int k, err;

	if (!lw || !dev || (netns && (!*netns || strchr(netns, '/') || !strcmp(netns, ".") ||
				      !strcmp(netns, ".."))))
		return -EINVAL;
	len = strlen(dev);
	if (len == 0 || len >= IFNAMSIZ || strchr(dev, '/'))
		return -EINVAL;
	for (k = 0; k < lw->nns; k++)
		if (ns_same(lw->ns[k].name, netns))
			break;
	for (int i = 0; k < lw->nns && i < lw->ndev; i++)
		if (lw->dev[i].ns == k && !strcmp(lw->dev[i].name, dev))
			return 0;
	/* make room first, so that nothing fails after the socket is open */
	p = realloc(lw->dev, ((size_t)lw->ndev + 1) * sizeof(*lw->dev));
	if (!p)
		return -ENOMEM;
	lw->dev = p;
	if (k == lw->nns) {
		p = realloc(lw->ns, ((size_t)lw->nns + 1) * sizeof(*lw->ns));
		if (!p)
			return -ENOMEM;
		lw->ns = p;
		lw->ns[k].name = NULL;
		if (netns && !(lw->ns[k].name = strdup(netns)))
			return -ENOMEM;
		lw->ns[k].fd = -1;
		lw->ns[k].lost = false;
		c.open = true;
	}
	d.ns = k;
	memcpy(d.name, dev, len + 1);
	c.k = k;
	c.d = &d;
	err = netns ? rtv_netns_run(netns, add_in_ns, &c) : add_in_ns(&c);
	if (err < 0)
		goto fail;
	if (c.open) {
		ev.data.u32 = (uint32_t)k;
		if (epoll_ctl(lw->epfd, EPOLL_CTL_ADD, c.fd, &ev) < 0) {
			err = -errno;
			goto fail;
		}
		lw->ns[k].fd = c.fd;
		lw->nns++;
	}
	lw->dev[lw->ndev++] = d;
	return 0;
fail:
	if (c.fd >= 0)
		close(c.fd);
	if (c.open) {
		free(lw->ns[k].name);
		lw->ns[k].name = NULL;
	}
	return err;
}

/* ---- Polling ---- */

/* Read everything pending on namespace k's socket. A read error other than
 * "nothing more" means events may be lost: the namespace is marked for a
 * fresh read of its states. */
static void ns_drain(struct rtv_linkwatch *lw, int k)
{
	struct lw_ns *ns = &lw->ns[k];

	for (int r = 0; r < READS_PER_ROUND; r++) {
		struct sockaddr_nl sa;
		struct iovec iov = { .iov_base = lw->buf, .iov_len = RECV_SIZE };
		struct msghdr msg = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		const struct nlmsghdr *nlh;
		ssize_t n = recvmsg(ns->fd, &msg, MSG_DONTWAIT);
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ns->lost = true; /* ENOBUFS: the queue overflowed */
			if (errno != ENOBUFS)
				return;
			continue;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			ns->lost = true;
			continue;
		}
		/* only the kernel speaks on the group; ignore anyone else */
		if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
			continue;
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)lw->buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			link_event(lw, k, nlh);
	}
}

static int resync_in_ns(void *arg)
{
	struct add_ctx *c = arg;

	return query_ns_devs(c->lw, c->k);
}

/* Events of namespace k were lost: read every state again and report every
 * device there. A namespace that is gone takes its devices with it. */
static void ns_resync(struct rtv_linkwatch *lw, int k)
{
	struct add_ctx c = { .lw = lw, .k = k };
	const char *name = lw->ns[k].name;
	int err;

	lw->ns[k].lost = false;
	err = name ? rtv_netns_run(name, resync_in_ns, &c) : resync_in_ns(&c);
	for (int i = 0; i < lw->ndev; i++) {
		if (lw->dev[i].ns != k)
			continue;
		if (err == -ENOENT && name)
			memset(&lw->dev[i].st, 0, sizeof(lw->dev[i].st));
		lw->dev[i].changed = true;
	}
}

int rtv_linkwatch_poll(struct rtv_linkwatch *lw, int timeout_ms, rtv_linkwatch_fn fn, void *arg)
{
	struct epoll_event evs[16];
	int64_t deadline = 0, left_ns;
	int n, calls = 0, wait_ms = timeout_ms;

	if (!lw || timeout_ms < -1)
		return -EINVAL;
	if (timeout_ms > 0)
		deadline = rtv_now_ns() + (int64_t)timeout_ms * RTV_NS_PER_MS;
	for (;;) {
		n = epoll_wait(lw->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), wait_ms);
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 < (uint32_t)lw->nns)
				ns_drain(lw, (int)evs[i].data.u32);
		for (int k = 0; k < lw->nns; k++)
			if (lw->ns[k].lost)
				ns_resync(lw, k);
		/* by index: the array stays valid even if fn misbehaves and adds */
		for (int i = 0; i < lw->ndev; i++) {
			struct lw_dev *d = &lw->dev[i];

			if (!d->changed)
				continue;
			d->changed = false;
			calls++;
			if (fn)
				fn(arg, lw->ns[d->ns].name, d->name,
				   d->st.ifindex && (d->st.flags & IFF_UP));
		}
		/* only irrelevant events so far: wait on for what is left */
		if (calls || n == 0 || timeout_ms == 0)
			return calls;
		if (timeout_ms > 0) {
			left_ns = deadline - rtv_now_ns();
			if (left_ns <= 0)
				return 0;
			wait_ms = (int)((left_ns + RTV_NS_PER_MS - 1) / RTV_NS_PER_MS);
		}
	}
}
