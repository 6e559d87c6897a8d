#include "net/napi.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#include "host/journal.h"
#include "net/netns.h"
#include "util/parse.h"

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

/* ---- Settings as text ---- */

enum { P_THREADED, P_DEFER, P_GRO_FLUSH, P_IRQ_SUSPEND, P_COUNT };

/* The keys in the order they are written, with the largest value each takes
 * (the kernel's ranges: threaded 0..2, defer-hard-irqs 0..S32_MAX). */
static const struct {
	const char *key;
	uint64_t max;
} param_keys[P_COUNT] = {
	[P_THREADED] = { "threaded", RTV_NAPI_THREADED_BUSY_POLL },
	[P_DEFER] = { "defer", INT32_MAX },
	[P_GRO_FLUSH] = { "gro-flush", UINT64_MAX },
	[P_IRQ_SUSPEND] = { "irq-suspend", UINT64_MAX },
};

/* Field i of p: whether present, and its value. */
static bool param_get(const struct rtv_napi_params *p, int i, uint64_t *v)
{
	switch (i) {
	case P_THREADED:
		*v = p->threaded;
		return p->has_threaded;
	case P_DEFER:
		*v = p->defer_hard_irqs;
		return p->has_defer;
	case P_GRO_FLUSH:
		*v = p->gro_flush_timeout_ns;
		return p->has_gro_flush;
	default:
		*v = p->irq_suspend_timeout_ns;
		return p->has_irq_suspend;
	}
}

/* Set field i of p to v (already checked against param_keys[i].max). */
static void param_put(struct rtv_napi_params *p, int i, uint64_t v)
{
	switch (i) {
	case P_THREADED:
		p->has_threaded = true;
		p->threaded = (uint32_t)v;
		break;
	case P_DEFER:
		p->has_defer = true;
		p->defer_hard_irqs = (uint32_t)v;
		break;
	case P_GRO_FLUSH:
		p->has_gro_flush = true;
		p->gro_flush_timeout_ns = v;
		break;
	default:
		p->has_irq_suspend = true;
		p->irq_suspend_timeout_ns = v;
		break;
	}
}

static bool params_any(const struct rtv_napi_params *p)
{
	return p->has_threaded || p->has_defer || p->has_gro_flush || p->has_irq_suspend;
}

/* What rtv_napi_set() accepts. */
static bool params_valid(const struct rtv_napi_params *p)
{
	uint64_t v;

	if (!p || !params_any(p))
		return false;
	for (int i = 0; i < P_COUNT; i++)
		if (param_get(p, i, &v) && v > param_keys[i].max)
			return false;
	return true;
}

int rtv_napi_params_format(const struct rtv_napi_params *p, char *buf, size_t len)
{
	size_t off = 0;
	uint64_t v;
	int n;

	if (!p || !params_any(p) || (len && !buf))
		return -EINVAL;
	for (int i = 0; i < P_COUNT; i++) {
		if (!param_get(p, i, &v))
			continue;
		/* past the end only the length is counted (no pointer beyond buf) */
		n = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
			     "%s%s=%" PRIu64, off ? "," : "", param_keys[i].key, v);
		if (n < 0)
			return -EINVAL;
		off += (size_t)n;
	}
	if (off >= len)
		return -ENOSPC;
	return off > INT_MAX ? -ENOSPC : (int)off;
}

/* s[0..len-1], digits only, as a uint64_t: 0, -EINVAL or -ERANGE. */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t r = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (r > (UINT64_MAX - d) / 10)
			return -ERANGE;
		r = r * 10 + d;
	}
	*v = r;
	return 0;
}

int rtv_napi_params_parse(const char *s, struct rtv_napi_params *p)
{
	struct rtv_napi_params r = { .has_threaded = false };
	const char *tok, *end, *eq;
	uint64_t v;
	int i, err;

	if (!s || !p || !*s)
		return -EINVAL;
	for (tok = s;; tok = end + 1) {
		end = strchr(tok, ',');
		if (!end)
			end = tok + strlen(tok);
		eq = memchr(tok, '=', (size_t)(end - tok));
		if (!eq)
			return -EINVAL;
		for (i = 0; i < P_COUNT; i++)
			if (strlen(param_keys[i].key) == (size_t)(eq - tok) &&
			    !memcmp(param_keys[i].key, tok, (size_t)(eq - tok)))
				break;
		if (i == P_COUNT || param_get(&r, i, &v))
			return -EINVAL; /* unknown or repeated */
		err = parse_u64(eq + 1, (size_t)(end - eq - 1), &v);
		if (err < 0)
			return err;
		if (v > param_keys[i].max)
			return -ERANGE;
		param_put(&r, i, v);
		if (!*end)
			break;
	}
	*p = r;
	return 0;
}

/* ---- Journaled settings of a whole device ---- */

#define NAPI_KIND "napi"

/* The namespace as an entry spells it. */
static const char *ns_arg(const char *netns)
{
	return netns ? netns : "-";
}

/* A netns name that can be recorded and entered: not "-" (the caller's, in
 * an entry), no '/'. NULL is the caller's. */
static bool netns_valid(const char *netns)
{
	return !netns || (*netns && strcmp(netns, "-") && !strchr(netns, '/') &&
			  strcmp(netns, ".") && strcmp(netns, ".."));
}

/* Run fn(arg) in netns, or right here when netns is NULL. */
static int in_netns(const char *netns, int (*fn)(void *), void *arg)
{
	return netns ? rtv_netns_run(netns, fn, arg) : fn(arg);
}

static int dev_ifindex(const char *dev)
{
	unsigned int i;

	errno = 0;
	i = if_nametoindex(dev);
	if (!i)
		return errno && errno != ENXIO ? -errno : -ENODEV;
	return i > INT_MAX ? -ERANGE : (int)i;
}

/* Every NAPI of ifindex in a fresh array (*out, caller frees; NULL when
 * there are none). The count or -errno. */
static int list_all(int ifindex, struct rtv_napi **out)
{
	struct rtv_napi *a;
	int cap = 8, n;

	*out = NULL;
	for (int tries = 0; tries < 8; tries++) {
		a = calloc((size_t)cap, sizeof(*a));
		if (!a)
			return -ENOMEM;
		n = rtv_napi_list(ifindex, a, cap);
		if (n < 0 || n == 0) {
			free(a);
			return n;
		}
		if (n <= cap) {
			*out = a;
			return n;
		}
		free(a);
		if (n > INT_MAX - 8)
			return -EOVERFLOW;
		cap = n + 8; /* more came while listing: try again, larger */
	}
	return -EAGAIN;
}

/* The values n has now of the fields p sets, as params. -EINVAL when p sets
 * threaded and the kernel does not report it (before 6.17). */
static int params_old(const struct rtv_napi *n, const struct rtv_napi_params *p,
		      struct rtv_napi_params *old)
{
	memset(old, 0, sizeof(*old));
	if (p->has_threaded) {
		if (n->threaded < 0)
			return -EINVAL;
		old->has_threaded = true;
		old->threaded = (uint32_t)n->threaded;
	}
	if (p->has_defer) {
		old->has_defer = true;
		old->defer_hard_irqs = n->defer_hard_irqs;
	}
	if (p->has_gro_flush) {
		old->has_gro_flush = true;
		old->gro_flush_timeout_ns = n->gro_flush_timeout_ns;
	}
	if (p->has_irq_suspend) {
		old->has_irq_suspend = true;
		old->irq_suspend_timeout_ns = n->irq_suspend_timeout_ns;
	}
	return 0;
}

static bool params_equal(const struct rtv_napi_params *a, const struct rtv_napi_params *b)
{
	uint64_t va, vb;

	for (int i = 0; i < P_COUNT; i++) {
		bool ha = param_get(a, i, &va), hb = param_get(b, i, &vb);

		if (ha != hb || (ha && va != vb))
			return false;
	}
	return true;
}

struct undo_ctx {
	uint32_t ifindex;
	uint32_t id;
	struct rtv_napi_params old;
};

/* In the entry's namespace: put the old values back if the NAPI is still
 * the one recorded. */
static int undo_in_ns(void *arg)
{
	const struct undo_ctx *c = arg;
	struct rtv_napi n;
	int err;

	err = rtv_napi_get(c->id, &n);
	if (err == -ENOENT)
		return RTV_JOURNAL_GONE; /* destroyed: the kernel dropped the values with it */
	if (err < 0)
		return err;
	if (n.ifindex != c->ifindex)
		return RTV_JOURNAL_GONE; /* the id names another device's NAPI now */
	err = rtv_napi_set(c->id, &c->old);
	return err == -ENOENT || err == -ENODEV ? RTV_JOURNAL_GONE : err;
}

/* undo of a "napi" entry: NETNS DEV IFINDEX ID OLD. */
static int napi_undo(int argc, char **argv)
{
	struct undo_ctx c;
	long long v;
	int err;

	if (argc < 5)
		return -EINVAL;
	if (rtv_parse_ll(argv[2], 1, INT32_MAX, &v) < 0)
		return -EINVAL;
	c.ifindex = (uint32_t)v;
	if (rtv_parse_ll(argv[3], 1, UINT32_MAX, &v) < 0)
		return -EINVAL;
	c.id = (uint32_t)v;
	if (rtv_napi_params_parse(argv[4], &c.old) < 0)
		return -EINVAL;
	if (!strcmp(argv[0], "-"))
		return undo_in_ns(&c);
	if (!netns_valid(argv[0]))
		return -EINVAL;
	err = rtv_netns_run(argv[0], undo_in_ns, &c);
	/* -ENOENT: the namespace is gone (with its devices), or the NAPI */
	return err == -ENOENT ? RTV_JOURNAL_GONE : err;
}

struct napi_snap {
	FILE *out;
	struct rtv_napi n[64];
};

static int put_napis(const char *ns, unsigned ifindex, const char *dev, void *arg)
{
	struct napi_snap *c = arg;
	int n = rtv_napi_list((int)ifindex, c->n, 64);

	if (!strcmp(ns, "-")) { /* the device-wide switch, in sysfs for this namespace */
		int t = rtv_napi_dev_threaded_get("/sys/class/net", dev);

		if (t >= 0)
			fprintf(c->out, "%s %s threaded %d\n", ns, dev, t);
	}
	for (int i = 0; i < n && i < 64; i++)
		fprintf(c->out,
			"%s %s napi%d threaded %" PRId32 " defer %" PRIu32 " gro-flush %" PRIu64
			" irq-suspend %" PRIu64 "\n",
			ns, dev, i, c->n[i].threaded, c->n[i].defer_hard_irqs,
			c->n[i].gro_flush_timeout_ns, c->n[i].irq_suspend_timeout_ns);
	return 0;
}

/* Every NAPI's settings, in every namespace (none where the kernel has no
 * netdev family). */
static int napi_snapshot(FILE *out)
{
	struct napi_snap *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->out = out;
	err = rtv_netns_each_dev(put_napis, c);
	free(c);
	return err;
}

static const char *const napi_files[] = {
	"/sys/class/net/*/threaded", "/sys/class/net/*/napi_defer_hard_irqs",
	"/sys/class/net/*/gro_flush_timeout", NULL
};

static const struct rtv_journal_kind napi_kind = {
	.name = NAPI_KIND, .undo = napi_undo, .snapshot = napi_snapshot, .files = napi_files,
};
RTV_JOURNAL_KIND(napi_kind)

/* Record n's current values of what p sets, then set p on it. 0, or -errno
 * with the entry possibly still recorded (the caller rolls back). */
static int apply_one(const char *netns, const char *dev, const struct rtv_napi *n,
		     const struct rtv_napi_params *p)
{
	struct rtv_napi_params old;
	char ifindex[16], id[16], vals[128];
	const char *args[5];
	int err;

	err = params_old(n, p, &old);
	if (err < 0)
		return err;
	if (params_equal(&old, p))
		return 0; /* nothing to change, nothing to undo */
	err = rtv_napi_params_format(&old, vals, sizeof(vals));
	if (err < 0)
		return err;
	snprintf(ifindex, sizeof(ifindex), "%" PRIu32, n->ifindex);
	snprintf(id, sizeof(id), "%" PRIu32, n->id);
	args[0] = ns_arg(netns);
	args[1] = dev;
	args[2] = ifindex;
	args[3] = id;
	args[4] = vals;
	err = rtv_journal_add(NAPI_KIND, 5, args);
	if (err < 0)
		return err;
	return rtv_napi_set(n->id, p);
}

struct dev_ctx {
	const char *netns;
	const char *dev;
	const struct rtv_napi_params *p;
	struct rtv_napi *out;
	int max;
	struct rtv_napi *all; /* dev_list_all_in_ns: every NAPI, caller frees */
};

static int apply_in_ns(void *arg)
{
	struct dev_ctx *c = arg;
	struct rtv_napi *napis = NULL;
	size_t mark;
	int ifindex, n, err = 0;

	ifindex = dev_ifindex(c->dev);
	if (ifindex < 0)
		return ifindex;
	for (int attempt = 0; attempt < 3; attempt++) {
		n = list_all(ifindex, &napis);
		if (n < 0)
			return n;
		mark = rtv_journal_mark();
		err = 0;
		for (int i = 0; i < n && !err; i++)
			err = apply_one(c->netns, c->dev, &napis[i], c->p);
		free(napis);
		napis = NULL;
		if (!err)
			break;
		/* Undo the NAPIs set so far and drop their entries, the failing
		 * one's too: setting old values is harmless where nothing had
		 * changed, and an entry whose NAPI is gone undoes to nothing. */
		rtv_journal_undo_to(mark);
		if (err != -ENOENT)
			return err;
		/* a NAPI vanished under us (link down/up): start over */
	}
	if (err < 0)
		return err;
	return rtv_napi_list(ifindex, c->out, c->max);
}

int rtv_napi_dev_apply(const char *netns, const char *dev, const struct rtv_napi_params *p,
		       struct rtv_napi *out, int max)
{
	struct dev_ctx c = { .netns = netns, .dev = dev, .p = p, .out = out, .max = max };

	if (!ifname_valid(dev) || !netns_valid(netns) || !params_valid(p) || max < 0 ||
	    (max > 0 && !out))
		return -EINVAL;
	if (!rtv_journal_is_open())
		return -EBADF;
	return in_netns(netns, apply_in_ns, &c);
}

static int list_in_ns(void *arg)
{
	struct dev_ctx *c = arg;
	int ifindex = dev_ifindex(c->dev);

	if (ifindex < 0)
		return ifindex;
	return rtv_napi_list(ifindex, c->out, c->max);
}

int rtv_napi_dev_list(const char *netns, const char *dev, struct rtv_napi *out, int max)
{
	struct dev_ctx c = { .netns = netns, .dev = dev, .out = out, .max = max };

	if (!ifname_valid(dev) || !netns_valid(netns) || max < 0 || (max > 0 && !out))
		return -EINVAL;
	return in_netns(netns, list_in_ns, &c);
}

static int list_all_in_ns(void *arg)
{
	struct dev_ctx *c = arg;
	int ifindex = dev_ifindex(c->dev);

	if (ifindex < 0)
		return ifindex;
	return list_all(ifindex, &c->all);
}

/* Whether cur[0..n-1] are the NAPIs of known[0..nknown-1]: the same count
 * (as stored: at most max) and each id with the same kthread. */
static bool napis_same(const struct rtv_napi *cur, int n, const struct rtv_napi *known,
		       int nknown, int max)
{
	if ((n < max ? n : max) != nknown)
		return false;
	for (int i = 0; i < nknown; i++) {
		int j;

		for (j = 0; j < nknown; j++)
			if (known[j].id == cur[i].id && known[j].pid == cur[i].pid)
				break;
		if (j == nknown)
			return false;
	}
	return true;
}

int rtv_napi_dev_reapply(const char *netns, const char *dev, const struct rtv_napi_params *p,
			 struct rtv_napi *known, int *nknown, int max)
{
	struct dev_ctx c = { .netns = netns, .dev = dev, .all = NULL };
	struct rtv_napi *fresh = NULL;
	bool same;
	int n;

	if (!ifname_valid(dev) || !netns_valid(netns) || !params_valid(p) || !nknown ||
	    max < 0 || (max > 0 && !known) || *nknown < 0 || *nknown > max)
		return -EINVAL;
	n = in_netns(netns, list_all_in_ns, &c);
	if (n < 0)
		return n;
	same = napis_same(c.all, n, known, *nknown, max);
	free(c.all);
	if (same)
		return 0;
	/* read back into a copy: known stays as it was if this fails */
	if (max > 0 && !(fresh = calloc((size_t)max, sizeof(*fresh))))
		return -ENOMEM;
	n = rtv_napi_dev_apply(netns, dev, p, fresh, max);
	if (n >= 0) {
		*nknown = n < max ? n : max;
		if (*nknown)
			memcpy(known, fresh, (size_t)*nknown * sizeof(*known));
		n = 1;
	}
	free(fresh);
	return n;
}
