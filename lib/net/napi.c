#include "net/napi.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/genetlink.h>
#include <linux/version.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/banned.h"

/* The uapi header include/uapi/linux/netdev.h names everything used here
 * only from 6.17 on (NETDEV_A_NAPI_THREADED); Debian 12's linux-libc-dev
 * (6.1) has no such header at all. With older headers the numbers are
 * spelled out under the same names (values from the kernel's uapi). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#include <linux/netdev.h>
#else
#define NETDEV_FAMILY_NAME "netdev"
#define NETDEV_FAMILY_VERSION 1
enum {
	NETDEV_CMD_NAPI_GET = 11,
	NETDEV_CMD_NAPI_SET = 14,
};
enum {
	NETDEV_A_NAPI_IFINDEX = 1,              /* u32 */
	NETDEV_A_NAPI_ID = 2,                   /* u32 */
	NETDEV_A_NAPI_IRQ = 3,                  /* u32, absent when none */
	NETDEV_A_NAPI_PID = 4,                  /* u32, only while threaded */
	NETDEV_A_NAPI_DEFER_HARD_IRQS = 5,      /* u32, 0..INT32_MAX */
	NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT = 6,    /* uint (4 or 8 bytes), ns */
	NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT = 7,  /* uint (4 or 8 bytes), ns */
	NETDEV_A_NAPI_THREADED = 8,             /* u32, 0..1 (0..2 from 6.19) */
};
#endif

/* The highest NAPI attribute read here; newer ones are ignored. */
#define NAPI_A_LAST NETDEV_A_NAPI_THREADED
/* Large enough for a dump batch (the kernel sizes batches to the reader's
 * buffer, up to 32 KiB). */
#define RECV_SIZE 32768

static atomic_uint seq_next = 1;
static atomic_int family_cached; /* 0 until resolved */
static const struct timeval recv_timeout = { .tv_sec = 5 };

struct genl_sock {
	struct mnl_socket *nl;
	unsigned int portid;
};

static int genl_open(struct genl_sock *s)
{
	int err;

	s->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!s->nl)
		return -errno;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(s->nl);
		s->nl = NULL;
		return err;
	}
	/* The kernel always answers; the timeout only keeps a bug from hanging
	 * the caller (the read then fails with -EAGAIN). */
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVTIMEO,
		       &recv_timeout, sizeof(recv_timeout)) < 0) {
		err = -errno;
		mnl_socket_close(s->nl);
		s->nl = NULL;
		return err;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	return 0;
}

static void genl_close(struct genl_sock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	s->nl = NULL;
}

static struct nlmsghdr *genl_put(char *buf, uint16_t family, uint8_t cmd,
				 uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

/* NLMSG_DONE of a dump carries the dump's own error (for example -ENODEV
 * for an unknown ifindex filter); libmnl's default ignores it. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	int err;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

/* Installing a control array makes libmnl skip its own handlers for every
 * type below NLMSG_MIN_TYPE, so the ACK/error handling is spelled out here. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	(void)data;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP; /* the ACK */
	errno = e->error < 0 ? -e->error : e->error;
	return MNL_CB_ERROR;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh, (void)data;
	return MNL_CB_OK;
}

static int overrun_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh, (void)data;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

/* Send one request and read until its end: the ACK of a plain request
 * (NLM_F_ACK is added, so every request is checked) or NLMSG_DONE of a dump.
 * cb sees each data message. Returns 0 or -errno (the kernel's). */
static int genl_talk(struct genl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char *rbuf; /* on the heap: a dump batch is too big for some stacks */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = noop_cb,
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
		[NLMSG_OVERRUN] = overrun_cb,
	};
	unsigned int seq;
	ssize_t n;
	int ret, err = 0;

	rbuf = malloc(RECV_SIZE);
	if (!rbuf)
		return -ENOMEM;
	seq = atomic_fetch_add(&seq_next, 1);
	nlh->nlmsg_seq = seq;
	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = mnl_socket_recvfrom(s->nl, rbuf, RECV_SIZE);
		if (n < 0) {
			err = -errno;
			goto out;
		}
		errno = 0;
		ret = mnl_cb_run2(rbuf, (size_t)n, seq, s->portid, cb, data,
				  ctl, NLMSG_MIN_TYPE);
		if (ret < 0) {
			err = errno ? -errno : -EPROTO;
			goto out;
		}
		if (ret == MNL_CB_STOP)
			break;
	}
out:
	free(rbuf);
	return err;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;
	int *id = data;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != CTRL_ATTR_FAMILY_ID)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		*id = mnl_attr_get_u16(a);
	}
	return MNL_CB_OK;
}

/* The family id through s, from the cache after the first success. */
static int family_resolve(struct genl_sock *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int id = atomic_load(&family_cached), err;

	if (id > 0)
		return id;
	id = 0;
	nlh = genl_put(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NETDEV_FAMILY_NAME);
	err = genl_talk(s, nlh, family_cb, &id);
	if (err == -ENOENT)
		return -EOPNOTSUPP; /* no such family: kernel before 6.3 */
	if (err < 0)
		return err;
	if (id <= 0)
		return -EPROTO;
	atomic_store(&family_cached, id);
	return id;
}

/* Open a socket and resolve the family; on failure nothing is left open. */
static int napi_open(struct genl_sock *s)
{
	int err, id;

	err = genl_open(s);
	if (err < 0)
		return err;
	id = family_resolve(s);
	if (id < 0)
		genl_close(s);
	return id;
}

int rtv_napi_family_id(void)
{
	struct genl_sock s;
	int id = atomic_load(&family_cached);

	if (id > 0)
		return id;
	id = napi_open(&s);
	if (id > 0)
		genl_close(&s);
	return id;
}

static int attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_get_payload_len(a) != sizeof(uint32_t))
		return -EPROTO;
	*v = mnl_attr_get_u32(a);
	return 0;
}

/* NLA_UINT: the kernel sends 4 bytes when the value fits, else 8. */
static int attr_uint(const struct nlattr *a, uint64_t *v)
{
	switch (mnl_attr_get_payload_len(a)) {
	case sizeof(uint32_t):
		*v = mnl_attr_get_u32(a);
		return 0;
	case sizeof(uint64_t):
		*v = mnl_attr_get_u64(a);
		return 0;
	default:
		return -EPROTO;
	}
}

static int napi_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= NAPI_A_LAST)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Fill *n from one napi-get reply. 0 or -EPROTO on a malformed message. */
static int napi_parse(const struct nlmsghdr *nlh, struct rtv_napi *n)
{
	const struct nlattr *tb[NAPI_A_LAST + 1] = { NULL };
	uint32_t v;
	int err = 0;

	memset(n, 0, sizeof(*n));
	n->irq = -1;
	n->pid = -1;
	n->threaded = -1;
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), napi_attr_cb, tb) < 0)
		return -EPROTO;
	if (!tb[NETDEV_A_NAPI_ID] || !tb[NETDEV_A_NAPI_IFINDEX])
		return -EPROTO;
	err = attr_u32(tb[NETDEV_A_NAPI_ID], &n->id);
	if (!err)
		err = attr_u32(tb[NETDEV_A_NAPI_IFINDEX], &n->ifindex);
	if (!err && tb[NETDEV_A_NAPI_IRQ] && !(err = attr_u32(tb[NETDEV_A_NAPI_IRQ], &v)))
		n->irq = v > INT32_MAX ? -1 : (int32_t)v;
	if (!err && tb[NETDEV_A_NAPI_PID] && !(err = attr_u32(tb[NETDEV_A_NAPI_PID], &v)))
		n->pid = v > INT32_MAX || v == 0 ? -1 : (int32_t)v;
	if (!err && tb[NETDEV_A_NAPI_DEFER_HARD_IRQS])
		err = attr_u32(tb[NETDEV_A_NAPI_DEFER_HARD_IRQS], &n->defer_hard_irqs);
	if (!err && tb[NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT])
		err = attr_uint(tb[NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT], &n->gro_flush_timeout_ns);
	if (!err && tb[NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT])
		err = attr_uint(tb[NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT], &n->irq_suspend_timeout_ns);
	if (!err && tb[NETDEV_A_NAPI_THREADED] && !(err = attr_u32(tb[NETDEV_A_NAPI_THREADED], &v)))
		n->threaded = v > INT32_MAX ? -1 : (int32_t)v;
	return err;
}

struct napi_list_ctx {
	struct rtv_napi *out;
	int max;
	int count;
};

static int napi_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct napi_list_ctx *c = data;
	struct rtv_napi n;
	int err;

	err = napi_parse(nlh, &n);
	if (err < 0) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	if (c->count < c->max)
		c->out[c->count] = n;
	if (c->count < INT_MAX)
		c->count++;
	return MNL_CB_OK;
}

int rtv_napi_list(int ifindex, struct rtv_napi *out, int max)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct napi_list_ctx c = { .out = out, .max = max, .count = 0 };
	struct nlmsghdr *nlh;
	struct genl_sock s;
	int family, err;

	if (ifindex < 0 || max < 0 || (max > 0 && !out))
		return -EINVAL;
	family = napi_open(&s);
	if (family < 0)
		return family;
	nlh = genl_put(buf, (uint16_t)family, NETDEV_CMD_NAPI_GET,
		       NETDEV_FAMILY_VERSION, NLM_F_DUMP);
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, NETDEV_A_NAPI_IFINDEX, (uint32_t)ifindex);
	err = genl_talk(&s, nlh, napi_list_cb, &c);
	genl_close(&s);
	return err < 0 ? err : c.count;
}

struct napi_get_ctx {
	struct rtv_napi n;
	bool got;
};

static int napi_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct napi_get_ctx *c = data;
	int err;

	err = napi_parse(nlh, &c->n);
	if (err < 0) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	c->got = true;
	return MNL_CB_OK;
}

int rtv_napi_get(uint32_t id, struct rtv_napi *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct napi_get_ctx c = { .got = false };
	struct nlmsghdr *nlh;
	struct genl_sock s;
	int family, err;

	if (!out || id == 0)
		return -EINVAL;
	family = napi_open(&s);
	if (family < 0)
		return family;
	nlh = genl_put(buf, (uint16_t)family, NETDEV_CMD_NAPI_GET,
		       NETDEV_FAMILY_VERSION, 0);
	mnl_attr_put_u32(nlh, NETDEV_A_NAPI_ID, id);
	err = genl_talk(&s, nlh, napi_get_cb, &c);
	genl_close(&s);
	if (err < 0)
		return err;
	if (!c.got)
		return -EPROTO;
	*out = c.n;
	return 0;
}

int rtv_napi_set(uint32_t id, const struct rtv_napi_params *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct genl_sock s;
	int family, err;

	if (!p || id == 0)
		return -EINVAL;
	if (!p->has_threaded && !p->has_defer && !p->has_gro_flush && !p->has_irq_suspend)
		return -EINVAL;
	if (p->has_threaded && p->threaded > RTV_NAPI_THREADED_BUSY_POLL)
		return -EINVAL;
	if (p->has_defer && p->defer_hard_irqs > INT32_MAX)
		return -EINVAL;
	family = napi_open(&s);
	if (family < 0)
		return family;
	nlh = genl_put(buf, (uint16_t)family, NETDEV_CMD_NAPI_SET,
		       NETDEV_FAMILY_VERSION, 0);
	mnl_attr_put_u32(nlh, NETDEV_A_NAPI_ID, id);
	if (p->has_defer)
		mnl_attr_put_u32(nlh, NETDEV_A_NAPI_DEFER_HARD_IRQS, p->defer_hard_irqs);
	/* NLA_UINT takes 4 or 8 bytes; 8 always fits. */
	if (p->has_gro_flush)
		mnl_attr_put_u64(nlh, NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, p->gro_flush_timeout_ns);
	if (p->has_irq_suspend)
		mnl_attr_put_u64(nlh, NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT, p->irq_suspend_timeout_ns);
	if (p->has_threaded)
		mnl_attr_put_u32(nlh, NETDEV_A_NAPI_THREADED, p->threaded);
	err = genl_talk(&s, nlh, NULL, NULL);
	genl_close(&s);
	return err;
}

/* The kernel's dev_valid_name(): what can name a file under /sys/class/net. */
static bool ifname_valid(const char *dev)
{
	size_t len;

	if (!dev)
		return false;
	len = strlen(dev);
	if (len == 0 || len >= IFNAMSIZ || !strcmp(dev, ".") || !strcmp(dev, ".."))
		return false;
	for (; *dev; dev++)
		if (*dev == '/' || *dev == ':' || *dev == ' ' ||
		    (*dev >= '\t' && *dev <= '\r'))
			return false;
	return true;
}

/* ROOT/DEV/threaded into path; 0 or -errno. */
static int threaded_path(const char *root, const char *dev, char *path, size_t len)
{
	int n;

	if (!root || !*root || !ifname_valid(dev))
		return -EINVAL;
	n = snprintf(path, len, "%s/%s/threaded", root, dev);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* A missing threaded file: either the device is gone or it has no such file. */
static int threaded_missing(const char *root, const char *dev)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", root, dev);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	return -EOPNOTSUPP;
}

int rtv_napi_dev_threaded_set(const char *sysfs_net_root, const char *dev, int on)
{
	char path[PATH_MAX], val[4];
	ssize_t n;
	int fd, err = 0;

	if (on < RTV_NAPI_THREADED_OFF || on > RTV_NAPI_THREADED_BUSY_POLL)
		return -EINVAL;
	err = threaded_path(sysfs_net_root, dev, path, sizeof(path));
	if (err < 0)
		return err;
	/* kstrtol() takes "1" and "1\n" alike; write what `echo 1 >` writes and
	 * what the kernel prints back. */
	val[0] = (char)('0' + on);
	val[1] = '\n';
	val[2] = '\0';
	/* No O_CREAT: on a fake tree as on sysfs the file must already exist. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		return err == -ENOENT ? threaded_missing(sysfs_net_root, dev) : err;
	}
	n = write(fd, val, 2);
	if (n < 0)
		err = -errno;
	else if (n != 2)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int rtv_napi_dev_threaded_get(const char *sysfs_net_root, const char *dev)
{
	char path[PATH_MAX], val[32], *end;
	ssize_t n;
	long v;
	int fd, err;

	err = threaded_path(sysfs_net_root, dev, path, sizeof(path));
	if (err < 0)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		return err == -ENOENT ? threaded_missing(sysfs_net_root, dev) : err;
	}
	n = read(fd, val, sizeof(val) - 1);
	if (n < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	close(fd);
	val[n] = '\0';
	if (n > 0 && val[n - 1] == '\n')
		val[--n] = '\0';
	if (n == 0 || val[0] < '0' || val[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(val, &end, 10);
	if (errno || *end || v > INT_MAX)
		return -EINVAL;
	return (int)v;
}
