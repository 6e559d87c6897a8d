/* A SIP proxy as the RT service: the client's protocol and the probe; see
 * sip.h. */
#include "probe/sip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "probe/probe.h"
#include "util/file.h"
#include "util/json.h"
#include "util/log.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define DEFAULT_START_WAIT (5 * RTV_NS_PER_S)
#define READY_TIMEOUT_NS   (200 * RTV_NS_PER_MS)
#define NOMINAL_VIA_PORT   5060 /* the proxy answers to the source port (rport) */

void rtv_sip_client_cfg_init(struct rtv_sip_client_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ol.port = RTV_SIP_DEFAULT_PORT;
	cfg->ol.nconn = 1;
	cfg->uas_port = RTV_SIP_DEFAULT_UAS_PORT;
}

/* ---- the protocol, for the open-loop client ---- */

struct sip_ctx {
	struct rtv_sip_req req;
	char ruri[128], from[96], to[96], via[64];
	bool calls;
	char to_tag[64]; /* the last INVITE 200's, for its ACK and BYE */
	size_t to_tag_len;
};

static bool is_method(const char *p, size_t len, const char *m)
{
	return len == strlen(m) && !memcmp(p, m, len);
}

static ssize_t sip_encode(void *p, uint64_t seq, int64_t intended_ns, int64_t now_ns,
			  unsigned char *buf, size_t cap, uint8_t *kind)
{
	struct sip_ctx *x = p;

	(void)intended_ns;
	(void)now_ns;
	*kind = 0;
	x->req.seq = seq;
	return rtv_sip_encode(&x->req, (char *)buf, cap);
}

static ssize_t sip_parse(void *p, int kind, const unsigned char *buf, size_t len,
			 struct rtv_ol_reply *r)
{
	struct sip_ctx *x = p;
	struct rtv_sip_msg m;
	uint64_t tag, seq;

	(void)kind;
	if (rtv_sip_parse((const char *)buf, len, &m) < 0 || m.is_request ||
	    rtv_sip_call_id(&m, &tag, &seq) < 0 || tag != x->req.tag)
		return -EBADMSG;
	r->id = seq;
	/* provisional: the final one ends the transaction; a BYE's answers a
	 * follow-up of a call already measured */
	r->ignore = m.status < 200 || is_method(m.cseq_method, m.cseq_method_len, "BYE");
	r->status = m.status < 300 ? RTV_OL_OK : RTV_OL_ERROR;
	if (x->calls && !r->ignore && m.status < 300 && m.to_tag.p &&
	    m.to_tag.len <= sizeof(x->to_tag)) {
		memcpy(x->to_tag, m.to_tag.p, m.to_tag.len);
		x->to_tag_len = m.to_tag.len;
		r->follow = 2; /* ACK, BYE */
	}
	return (ssize_t)len;
}

/* A call's ACK (i 0) and BYE (i 1), in the dialog of its INVITE's 200. */
static ssize_t sip_follow(void *p, uint64_t seq, unsigned i, unsigned char *buf, size_t cap)
{
	struct sip_ctx *x = p;
	struct rtv_sip_req q = x->req;

	q.seq = seq;
	q.method = i == 0 ? "ACK" : "BYE";
	q.cseq = i == 0 ? 1 : 2;
	q.to_tag = (struct rtv_sip_str){ x->to_tag, x->to_tag_len };
	return rtv_sip_encode(&q, (char *)buf, cap);
}

static const struct rtv_ol_proto sip_proto = {
	.name = "sip",
	.socktype = SOCK_DGRAM,
	.id_bits = 64,
	.encode = sip_encode,
	.parse = sip_parse,
	.follow = sip_follow,
};

/* The address a datagram to the proxy leaves from: routing's choice. */
static int local_addr(const struct rtv_sip_client_cfg *cfg, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err;

	err = rtv_sockaddr_parse(cfg->ol.addr, cfg->ol.port, &ss, &sl);
	if (err < 0)
		return err;
	fd = rtv_sockaddr_udp_connect(&ss, sl);
	if (fd < 0)
		return fd;
	sl = sizeof(ss);
	err = getsockname(fd, (struct sockaddr *)&ss, &sl) ? -errno : 0;
	close(fd);
	if (err < 0)
		return err;
	if (ss.ss_family == AF_INET6) {
		if (len < 3 || !inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf + 1,
					  (socklen_t)len - 2))
			return -ENOSPC;
		buf[0] = '[';
		size_t n = strlen(buf);

		if (n + 2 > len)
			return -ENOSPC;
		buf[n] = ']';
		buf[n + 1] = '\0';
		return 0;
	}
	return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)len) ?
		       0 : -ENOSPC;
}

static int ctx_init(struct sip_ctx *x, const struct rtv_sip_client_cfg *cfg)
{
	const char *uas = cfg->uas_addr ? cfg->uas_addr : cfg->ol.addr;
	bool v6 = strchr(uas, ':') != NULL;
	int err;

	memset(x, 0, sizeof(*x));
	err = local_addr(cfg, x->via, sizeof(x->via));
	if (err < 0)
		return err;
	snprintf(x->ruri, sizeof(x->ruri), "sip:uas@%s%s%s:%u", v6 ? "[" : "", uas, v6 ? "]" : "",
		 (unsigned)(cfg->uas_port ? cfg->uas_port : RTV_SIP_DEFAULT_UAS_PORT));
	snprintf(x->from, sizeof(x->from), "sip:rtvnet@%s", x->via);
	snprintf(x->to, sizeof(x->to), "sip:uas@%s%s%s", v6 ? "[" : "", uas, v6 ? "]" : "");
	x->calls = cfg->calls;
	x->req = (struct rtv_sip_req){
		.method = cfg->calls ? "INVITE" : "OPTIONS",
		.ruri = x->ruri,
		.via_host = x->via,
		.via_port = NOMINAL_VIA_PORT,
		.from_uri = x->from,
		.to_uri = x->to,
		.tag = rtv_ol_tag(cfg->ol.seed),
		.cseq = 1,
		.max_forwards = 70,
	};
	return 0;
}

int rtv_sip_client_run(const struct rtv_sip_client_cfg *cfg, const volatile sig_atomic_t *stop,
		       struct rtv_ol_result *res)
{
	struct rtv_ol_cfg oc;
	struct sip_ctx x;
	int err;

	if (!cfg || !cfg->ol.addr)
		return rtv_ol_run(NULL, stop, res);
	err = ctx_init(&x, cfg);
	if (err < 0) {
		(void)rtv_ol_run(NULL, stop, res); /* res initialised */
		return err;
	}
	oc = cfg->ol;
	oc.proto = &sip_proto;
	oc.proto_ctx = &x;
	return rtv_ol_run(&oc, stop, res);
}

int rtv_sip_wait_ready(const struct rtv_sip_client_cfg *cfg, const volatile sig_atomic_t *stop,
		       int64_t wait_ns)
{
	struct rtv_sip_client_cfg one = *cfg;
	struct rtv_ol_result *r = malloc(sizeof(*r));
	int64_t until = rtv_now_ns() + wait_ns;
	int err = -ETIMEDOUT;

	if (!r)
		return -ENOMEM;
	one.calls = false; /* an OPTIONS answered: the proxy and the UAS are up */
	one.ol.nconn = 1;
	one.ol.count = 1;
	one.ol.duration_ns = 0;
	one.ol.warmup_ns = 0;
	one.ol.samples_path = NULL;
	one.ol.timeout_ns = READY_TIMEOUT_NS;
	one.ol.interval = (struct rtv_interval){ .dist = RTV_DIST_CONST };
	while (rtv_now_ns() < until && !rtv_stop_read(stop)) {
		int e = rtv_sip_client_run(&one, stop, r);

		if (e < 0 && e != -ECONNREFUSED) {
			err = e;
			break;
		}
		if (!e && r->received == 1 && !r->errors) {
			err = 0;
			break;
		}
		rtv_sleep_until_ns(rtv_now_ns() + 20 * RTV_NS_PER_MS);
	}
	free(r);
	return err;
}

/* ---- the probe ---- */

struct sip_state {
	struct rtv_svc_state svc; /* first: the shared metric rows point into it */
	struct rtv_sip_uas_stats uas;
	int log_fd;               /* Kamailio's stderr (a memfd), the engine's */
	char dir[256];            /* the run's directory */
	pid_t sipp;               /* SIPp, or 0 */
	int sipp_log_fd;
	struct rtv_hist sipp_rtt; /* its response times, ns */
	uint64_t sipp_count;
};

static void run_cfg(const struct rtv_pctx *c, struct rtv_sip_client_cfg *cc)
{
	const struct rtv_sip_probe_cfg *cfg = c->cfg;

	*cc = cfg->client;
	rtv_svc_ol_cfg(c, &cc->ol);
	cc->uas_addr = c->tb->rt_server.addr;
}

static int uas_main(void *arg)
{
	struct rtv_pctx *c = arg;
	const struct rtv_sip_probe_cfg *cfg = c->cfg;
	struct sip_state *st = c->state;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err;

	err = rtv_sockaddr_parse(c->tb->rt_server.addr,
				 cfg->client.uas_port ? cfg->client.uas_port : RTV_SIP_DEFAULT_UAS_PORT,
				 &ss, &sl);
	if (err < 0)
		return err;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = rtv_sip_uas_serve(fd, &st->svc.stop, &st->uas);
	close(fd);
	return err;
}

static int ready_main(void *arg)
{
	struct rtv_pctx *c = arg;
	const struct rtv_sip_probe_cfg *cfg = c->cfg;
	struct sip_state *st = c->state;
	struct rtv_sip_client_cfg cc;

	run_cfg(c, &cc);
	return rtv_sip_wait_ready(&cc, &st->svc.stop,
				  cfg->start_wait_ns ? cfg->start_wait_ns : DEFAULT_START_WAIT);
}

static int client_main(void *arg)
{
	struct rtv_pctx *c = arg;
	struct sip_state *st = c->state;
	struct rtv_sip_client_cfg cc;

	run_cfg(c, &cc);
	return rtv_sip_client_run(&cc, &st->svc.stop, &st->svc.rt);
}

static int sip_check(const void *cfgp, char *why, size_t len)
{
	char path[512];

	(void)cfgp;
	if (rtv_path_find("kamailio", path, sizeof(path)) < 0) {
		snprintf(why, len, "kamailio is not installed (Debian package kamailio)");
		return -ENOENT;
	}
	return 0;
}

/* SIPp beside the client, at the schedule's mean rate for the whole run. */
static int sipp_start(struct rtv_pctx *c)
{
	const struct rtv_sip_probe_cfg *cfg = c->cfg;
	struct sip_state *st = c->state;
	struct rtv_sip_client_cfg cc;
	struct rtv_sip_sipp_cfg sc;
	char path[512], scen[320], ruri[160], buf[2048], *argv[48];
	double mean_ns;
	FILE *f;
	int err;

	if (rtv_path_find("sipp", path, sizeof(path)) < 0)
		return -ENOENT;
	run_cfg(c, &cc);
	snprintf(scen, sizeof(scen), "%s/sipp.xml", st->dir);
	snprintf(ruri, sizeof(ruri), "sip:uas@%s:%u", c->tb->rt_server.addr,
		 (unsigned)(cfg->client.uas_port ? cfg->client.uas_port : RTV_SIP_DEFAULT_UAS_PORT));
	f = fopen(scen, "we");
	if (!f)
		return -errno;
	err = rtv_sip_sipp_scenario(f, ruri);
	if (fclose(f) && !err)
		err = -EIO;
	if (err < 0)
		return err;
	mean_ns = ((double)cc.ol.interval.min_ns + (double)cc.ol.interval.max_ns) / 2;
	sc = (struct rtv_sip_sipp_cfg){
		.sipp_path = path,
		.scenario_path = scen,
		.proxy_addr = cc.ol.addr,
		.proxy_port = cc.ol.port,
		.local_addr = c->tb->rt_client.addr,
		.rate = mean_ns > 0 ? 1e9 / mean_ns : 1000,
		.duration_ns = cc.ol.duration_ns,
		.recv_timeout_ns = RTV_OL_DEFAULT_TIMEOUT_NS,
	};
	err = rtv_sip_sipp_argv(&sc, buf, sizeof(buf), argv, (int)(sizeof(argv) / sizeof(argv[0])));
	if (err < 0)
		return err;
	st->sipp_log_fd = memfd_create("rtv-sipp", MFD_CLOEXEC);
	return rtv_svc_exec(c, &c->tb->rt_client, RTV_ROLE_OTHER, argv, st->dir, st->sipp_log_fd,
			    &st->sipp);
}

/* SIPp's response times, once it ended (it stops by itself at the run's
 * length; the engine ends it otherwise, with what it wrote kept). */
static void sipp_collect(struct sip_state *st)
{
	char path[320], *text = NULL;
	size_t len = 0;
	FILE *f;

	if (st->sipp <= 0)
		return;
	snprintf(path, sizeof(path), "%s/sipp_%d_rtt.csv", st->dir, (int)st->sipp);
	f = fopen(path, "re");
	if (!f) {
		rtv_err("SIPp left no response times (%s): %s", path, strerror(errno));
		return;
	}
	text = malloc(16u << 20);
	if (text)
		len = fread(text, 1, 16u << 20, f);
	fclose(f);
	rtv_hist_init(&st->sipp_rtt);
	if (!text || rtv_sip_sipp_rtt_parse(text, len, &st->sipp_rtt, &st->sipp_count) < 0)
		rtv_err("cannot read SIPp's response times in %s", path);
	free(text);
}

static int sip_start(struct rtv_pctx *c)
{
	const struct rtv_sip_probe_cfg *cfg = c->cfg;
	const struct rtv_testbed *tb = c->tb;
	struct sip_state *st = c->state;
	const char *addr;
	char path[512], dir[256], conf[320], buf[2048], *argv[32], tail[256];
	int64_t wait = cfg->start_wait_ns ? cfg->start_wait_ns : DEFAULT_START_WAIT;
	FILE *f;
	int err;

	st->log_fd = -1;
	if (!tb)
		return -ENOENT;
	if (rtv_path_find("kamailio", path, sizeof(path)) < 0)
		return -ENOENT;
	addr = c->rt_service_addr ? c->rt_service_addr : tb->rt_server.addr;
	st->sipp_log_fd = -1;
	err = rtv_svc_workdir(dir, sizeof(dir));
	if (err < 0)
		return err;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	snprintf(conf, sizeof(conf), "%s/kamailio.cfg", dir);
	f = fopen(conf, "we");
	if (!f)
		return -errno;
	err = rtv_sip_kamailio_cfg(f, addr, cfg->client.ol.port, tb->rt_server.addr,
				   cfg->client.uas_port ? cfg->client.uas_port : RTV_SIP_DEFAULT_UAS_PORT,
				   cfg->children > 0 ? cfg->children : 1);
	if (fclose(f) && !err)
		err = -EIO;
	if (err < 0)
		return err;
	err = rtv_sip_kamailio_argv(path, conf, dir, buf, sizeof(buf), argv,
				    (int)(sizeof(argv) / sizeof(argv[0])));
	if (err < 0)
		return err;
	st->log_fd = memfd_create("rtv-kamailio", MFD_CLOEXEC);
	err = rtv_probe_spawn(c, &tb->rt_server, RTV_ROLE_RT_SERVER, uas_main, c, NULL);
	if (!err)
		err = rtv_svc_exec(c, &tb->rt_server, RTV_ROLE_RT_SERVER, argv, NULL, st->log_fd, NULL);
	if (err < 0)
		return err;
	/* an OPTIONS answered through the proxy, from where the client runs */
	err = rtv_svc_step(c, &tb->rt_client, ready_main, c, wait + 2 * RTV_NS_PER_S);
	if (err < 0) {
		rtv_svc_log_tail(st->log_fd, tail, sizeof(tail));
		rtv_err("the SIP proxy did not answer an OPTIONS within %.0f s: %s%s%s",
			(double)wait / 1e9, strerror(-err), *tail ? "; Kamailio said: " : "", tail);
		return err;
	}
	if (cfg->sipp) {
		err = sipp_start(c);
		if (err < 0)
			return err;
	}
	return rtv_probe_spawn(c, &tb->rt_client, RTV_ROLE_RT_CLIENT, client_main, c, &c->client);
}

static void sip_finish(struct rtv_pctx *c)
{
	struct sip_state *st = c->state;

	sipp_collect(st);
	if (st->log_fd >= 0)
		close(st->log_fd);
	if (st->sipp_log_fd >= 0)
		close(st->sipp_log_fd);
	st->log_fd = st->sipp_log_fd = -1;
}

static void sip_config_json(const void *cfgp, json_t *conf)
{
	const struct rtv_sip_probe_cfg *cfg = cfgp;
	const struct rtv_sip_client_cfg *cc = &cfg->client;

	rtv_json_set_str(conf, "service", "sip");
	rtv_json_set_str(conf, "sip_proxy", "kamailio (stateless: forward())");
	rtv_json_set_str(conf, "sip_request", cc->calls ? "INVITE (calls: INVITE, ACK, BYE)" : "OPTIONS");
	rtv_json_set_int(conf, "sip_port", cc->ol.port);
	rtv_json_set_int(conf, "sip_uas_port", cc->uas_port);
	rtv_json_set_int(conf, "kamailio_children", cfg->children > 0 ? cfg->children : 1);
	rtv_json_set_str(conf, "interval_dist", rtv_dist_name(cc->ol.interval.dist));
	rtv_json_set_num(conf, "interval_min_us", (double)cc->ol.interval.min_ns / 1e3);
	rtv_json_set_num(conf, "interval_max_us", (double)cc->ol.interval.max_ns / 1e3);
}

#define S(f) offsetof(struct sip_state, f)
static const struct rtv_metric sip_metrics[] = {
	RTV_SVC_METRICS("SIP (through Kamailio)"),
	{ .key = "sipp_rtt", .run_key = "", .type = RTV_METRIC_HIST, .off = S(sipp_rtt),
	  .per_unit = 1000, .label = "SIPp's response time (-trace_rtt, ms resolution)",
	  .axis = "latency (us)" },
	{ .key = "sipp_calls", .type = RTV_METRIC_U64, .off = S(sipp_count), .run_only = true },
	{ .key = "sipp_mean_us", .run_key = "", .type = RTV_METRIC_STAT, .from = "sipp_rtt",
	  .stat = RTV_STAT_MEAN, .per_unit = 1000, .better = RTV_BETTER_LOWER,
	  .col = { { .table = 2, .pos = 80, .head = "SIPp mean", .width = 10 } } },
	{ .key = "sipp_p99_us", .run_key = "", .type = RTV_METRIC_STAT, .from = "sipp_rtt",
	  .stat = RTV_STAT_PCT, .arg = 99, .per_unit = 1000, .better = RTV_BETTER_LOWER,
	  .col = { { .table = 2, .pos = 81, .head = "SIPp p99", .width = 10 } } },
};
#undef S

const struct rtv_probe rtv_probe_sip = {
	.name = "sip",
	.summary = "Kamailio as a stateless SIP proxy in the RT container, a UAS behind it, "
		   "OPTIONS transactions from rtvnet's open-loop client (the outsourcing paper's "
		   "section 4.3)",
	.role = RTV_PROBE_SERVICE,
	.metrics = sip_metrics,
	.nmetrics = sizeof(sip_metrics) / sizeof(sip_metrics[0]),
	.size = sizeof(struct sip_state),
	.check = sip_check,
	.start = sip_start,
	.stop = rtv_svc_stop,
	.finish = sip_finish,
	.live = rtv_svc_live,
	.series_json = rtv_svc_series_json,
	.config_json = sip_config_json,
};
