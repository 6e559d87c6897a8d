/* NetRT: the RT UDP echo server and its open-loop client; see netrt.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "probe/probe.h"
#include "probe/netrt.h"
#include "probe/openloop.h"
#include "probe/service.h"
#include "report/histjson.h"
#include "util/json.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define SERVER_BUF_SIZE 65536u

/* Counters in struct rtv_netrt_server_stats may be read by another process while
 * this one writes them: one writer, relaxed atomic stores. */
static inline void count_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

/* Errors a connected UDP socket reports from ICMP messages about earlier
 * datagrams: they concern the path, not this call, and are consumed by it. */
static bool is_path_error(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
	       e == ENETDOWN || e == EPROTO || e == ENONET || e == EMSGSIZE;
}

/* ---- server ---- */

int rtv_netrt_server_open(const struct rtv_netrt_server_cfg *cfg)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	socklen_t sslen;
	int fd = -1, one = 1, zero = 0, err;

	if (!cfg)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (cfg->bind_addr) {
		err = rtv_sockaddr_parse(cfg->bind_addr, cfg->port, &ss, &sslen);
		if (err < 0)
			return err;
	} else {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons(cfg->port);
		sslen = sizeof(*a6);
	}

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && !cfg->bind_addr && errno == EAFNOSUPPORT) {
		/* no IPv6 in this kernel: IPv4 any */
		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = htons(cfg->port);
		sslen = sizeof(*a4);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
	if (!cfg->bind_addr && ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
		err = -errno;
		goto out;
	}
	/* On any address, each request's own destination address comes with
	 * it, so that the reply leaves from it: a connected client takes
	 * replies from the address it sent to only, and the kernel's choice of
	 * source may differ (a host's other IPv6 link-local address, an IPv4
	 * secondary address). IPv4 on a dual-stack socket too. */
	if (!cfg->bind_addr && ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
	if (!cfg->bind_addr && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		err = -errno;
		goto out;
	}
	err = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int rtv_netrt_sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

int rtv_netrt_server_serve(int fd, const volatile sig_atomic_t *stop,
			   struct rtv_netrt_server_stats *st)
{
	return rtv_netrt_server_serve_delayed(fd, stop, st, 0);
}

int rtv_netrt_server_serve_delayed(int fd, const volatile sig_atomic_t *stop,
				   struct rtv_netrt_server_stats *st, int64_t reply_delay_ns)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = RTV_NETRT_STOP_CHECK_NS / RTV_NS_PER_US };
	struct rtv_netrt_server_stats dummy = { 0 };
	struct sockaddr_storage from;
	union { /* aligned for cmsghdr */
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				  CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	unsigned char *buf;
	ssize_t n;
	int err = 0;

	if (fd < 0 || !stop)
		return -EINVAL;
	if (!st)
		st = &dummy;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	buf = malloc(SERVER_BUF_SIZE);
	if (!buf)
		return -ENOMEM;

	while (!rtv_stop_read(stop)) {
		iov = (struct iovec){ .iov_base = buf, .iov_len = SERVER_BUF_SIZE };
		mh = (struct msghdr){ .msg_name = &from, .msg_namelen = sizeof(from),
				      .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    is_path_error(errno))
				continue;
			err = -errno;
			break;
		}
		count_inc(&st->requests);
		if (reply_delay_ns > 0)
			rtv_sleep_until_ns(rtv_now_ns() + reply_delay_ns);
		/* the same datagram back, from the address it came to */
		iov.iov_len = (size_t)n;
		mh.msg_controllen = rtv_sockaddr_reply_pktinfo(&mh);
		if (!mh.msg_controllen)
			mh.msg_control = NULL;
		mh.msg_flags = 0;
		/* a failure concerns this reply only: the client sees it lost */
		(void)sendmsg(fd, &mh, 0);
		if (st->requests % RTV_NETRT_NAPI_SAMPLE == 1) { /* after the reply: off its path */
			unsigned int id = 0;
			socklen_t len = sizeof(id);

			if (!getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len)) {
				__atomic_store_n(&st->napi_id, id, __ATOMIC_RELAXED);
				count_inc(&st->napi_samples);
				if (id)
					count_inc(&st->napi_path);
			}
		}
	}
	free(buf);
	return err;
}

int rtv_netrt_server_run(const struct rtv_netrt_server_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_netrt_server_stats *st)
{
	int fd, err;

	fd = rtv_netrt_server_open(cfg);
	if (fd < 0)
		return fd;
	err = rtv_netrt_server_serve(fd, stop, st);
	close(fd);
	return err;
}

/* ---- client: the open-loop client (probe/openloop.h) with NetRT's protocol ---- */

/* Offsets in the payload; see netrt.h. */
#define OFF_TAG      0
#define OFF_SEQ      8
#define OFF_INTENDED 16
#define OFF_SENT     24

struct netrt_proto_ctx {
	uint64_t tag;
	size_t payload;
};

static void put_u64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The header into the payload's first bytes; the rest of the client's
 * buffer is zero and stays so. */
static ssize_t netrt_encode(void *ctxp, uint64_t seq, int64_t intended_ns, int64_t now_ns,
			    unsigned char *buf, size_t cap, uint8_t *kind)
{
	const struct netrt_proto_ctx *ctx = ctxp;

	(void)kind;
	if (cap < ctx->payload)
		return -ENOSPC;
	put_u64(buf + OFF_TAG, ctx->tag);
	put_u64(buf + OFF_SEQ, seq);
	put_u64(buf + OFF_INTENDED, (uint64_t)intended_ns);
	put_u64(buf + OFF_SENT, (uint64_t)now_ns);
	return (ssize_t)ctx->payload;
}

/* A reply is the request, byte for byte: its length, the run's tag, and
 * the seq and S_i it carries. */
static ssize_t netrt_parse(void *ctxp, int kind, const unsigned char *p, size_t len,
			   struct rtv_ol_reply *r)
{
	const struct netrt_proto_ctx *ctx = ctxp;

	(void)kind;
	if (r->dgram_len != ctx->payload || len < RTV_NETRT_MIN_PAYLOAD ||
	    get_u64(p + OFF_TAG) != ctx->tag)
		return -EBADMSG;
	r->id = get_u64(p + OFF_SEQ);
	r->intended_ns = (int64_t)get_u64(p + OFF_INTENDED);
	r->status = RTV_OL_OK;
	return (ssize_t)len;
}

static const struct rtv_ol_proto netrt_proto = {
	.name = "netrt",
	.socktype = SOCK_DGRAM,
	.id_bits = 64,
	.truncated_ok = true, /* only the header is read */
	.encode = netrt_encode,
	.parse = netrt_parse,
};

int rtv_netrt_client_run(const struct rtv_netrt_client_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_ol_result *res)
{
	struct netrt_proto_ctx ctx;
	struct rtv_ol_cfg oc;

	if (!cfg)
		return rtv_ol_run(NULL, stop, res);
	ctx.payload = cfg->payload ? cfg->payload : RTV_NETRT_DEFAULT_PAYLOAD;
	ctx.tag = rtv_ol_tag(cfg->ol.seed);
	oc = cfg->ol;
	if (!oc.port)
		oc.port = RTV_NETRT_DEFAULT_PORT;
	oc.nconn = 1;
	oc.window = 0;
	oc.proto = &netrt_proto;
	oc.proto_ctx = &ctx;
	if (ctx.payload < RTV_NETRT_MIN_PAYLOAD || ctx.payload > RTV_NETRT_MAX_PAYLOAD) {
		oc.proto = NULL; /* -EINVAL, res initialised */
	}
	return rtv_ol_run(&oc, stop, res);
}

/* ---- JSON ---- */

json_t *rtv_netrt_hist_json(const struct rtv_hist *h, uint64_t lost)
{
	json_t *stats = rtv_hist_json(h, 1e3), *o = json_object(), *v;
	bool empty = !h || h->count == 0;
	const char *key;
	int err = 0;

	if (!stats || !o) {
		err = -ENOMEM;
		goto out;
	}
	/* netrt's key order: count and lost, the statistics, over_1ms_pct */
	err |= json_object_set(o, "count", json_object_get(stats, "count"));
	err |= rtv_json_set_int(o, "lost", (int64_t)lost);
	json_object_foreach(stats, key, v) {
		if (strcmp(key, "count") != 0)
			err |= json_object_set(o, key, v);
	}
	err |= rtv_json_set_num(o, "over_1ms_pct",
				empty ? NAN : 100.0 * rtv_hist_fraction_above(h, RTV_NS_PER_MS));
out:
	json_decref(stats);
	if (err) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* ---- the NetRT probe: the RT service of the outsourcing paper's experiment ----
 *
 * The echo server in the testbed's RT server host, the open-loop client in
 * the RT client host; the client's schedule is the same in every arm (the
 * run's seed); its rtt and service distributions are the metrics, with the
 * share of requests that reached the server through a NAPI. */
struct netrt_state {
	struct rtv_svc_state svc; /* first: the shared metric rows point into it */
	struct rtv_netrt_server_stats srv;
	double napi_path_pct; /* requests that came through a NAPI, of those sampled */
};

static int server_main(void *arg)
{
	struct rtv_pctx *c = arg;
	struct netrt_state *st = c->state;
	const struct rtv_netrt_probe_cfg *cfg = c->cfg;
	struct rtv_netrt_server_cfg sc = {
		.bind_addr = c->rt_service_addr ? c->rt_service_addr : c->tb->rt_server.addr,
		.port = cfg->port };

	return rtv_netrt_server_run(&sc, &st->svc.stop, &st->srv);
}

static int client_main(void *arg)
{
	struct rtv_pctx *c = arg;
	struct netrt_state *st = c->state;
	const struct rtv_netrt_probe_cfg *cfg = c->cfg;
	struct rtv_netrt_client_cfg cc = { .payload = cfg->payload };

	cc.ol.port = cfg->port;
	cc.ol.interval = cfg->interval;
	rtv_svc_ol_cfg(c, &cc.ol);
	return rtv_netrt_client_run(&cc, &st->svc.stop, &st->svc.rt);
}

static int netrt_start(struct rtv_pctx *c)
{
	const struct rtv_testbed *tb = c->tb;
	int err;

	if (!tb)
		return -ENOENT;
	err = rtv_probe_spawn(c, &tb->rt_server, RTV_ROLE_RT_SERVER, server_main, c, NULL);
	if (err < 0)
		return err;
	usleep(50000); /* the server bound */
	return rtv_probe_spawn(c, &tb->rt_client, RTV_ROLE_RT_CLIENT, client_main, c, &c->client);
}

static void netrt_collect(struct rtv_pctx *c)
{
	struct netrt_state *st = c->state;

	st->napi_path_pct = st->srv.napi_samples ?
		100.0 * (double)st->srv.napi_path / (double)st->srv.napi_samples : NAN;
}

static void netrt_config_json(const void *cfgp, json_t *conf)
{
	const struct rtv_netrt_probe_cfg *cfg = cfgp;

	rtv_json_set_str(conf, "interval_dist", rtv_dist_name(cfg->interval.dist));
	rtv_json_set_num(conf, "interval_min_us", (double)cfg->interval.min_ns / 1e3);
	rtv_json_set_num(conf, "interval_max_us", (double)cfg->interval.max_ns / 1e3);
	rtv_json_set_int(conf, "payload_bytes", (int64_t)cfg->payload);
}

static const struct rtv_metric netrt_metrics[] = {
	RTV_SVC_METRICS("NetRT"),
	{ .key = "rt_napi_path_pct", .off = offsetof(struct netrt_state, napi_path_pct),
	  .col = { { .table = 2, .pos = 70, .head = "NAPI path %", .width = 11 } } },
};

const struct rtv_probe rtv_probe_netrt = {
	.name = "netrt",
	.summary = "the RT UDP echo service and its open-loop client (the outsourcing paper's NetRT)",
	.role = RTV_PROBE_SERVICE,
	.metrics = netrt_metrics,
	.nmetrics = sizeof(netrt_metrics) / sizeof(netrt_metrics[0]),
	.size = sizeof(struct netrt_state),
	.start = netrt_start,
	.collect = netrt_collect,
	.stop = rtv_svc_stop,
	.live = rtv_svc_live,
	.series_json = rtv_svc_series_json,
	.config_json = netrt_config_json,
};
