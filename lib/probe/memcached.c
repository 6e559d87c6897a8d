/* memcached as the RT service: the client's protocol and the probe; see
 * memcached.h. */
#include "probe/memcached.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/probe.h"
#include "probe/service.h"
#include "stats/interval.h"
#include "util/file.h"
#include "util/json.h"
#include "util/log.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define PREFILL_INTERVAL_NS (10 * RTV_NS_PER_US)
#define PREFILL_TIMEOUT_NS  (2 * RTV_NS_PER_S)
#define CONNECT_RETRY_NS    (20 * RTV_NS_PER_MS)
#define DEFAULT_START_WAIT  (5 * RTV_NS_PER_S)
#define RNG_SALT            UINT64_C(0x6d656d6361636865) /* the requests' draws apart from the X_i's */

void rtv_mc_client_cfg_init(struct rtv_mc_client_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ol.port = RTV_MC_DEFAULT_PORT;
	cfg->ol.nconn = 1;
	cfg->proto = RTV_MC_ASCII;
	cfg->keys = RTV_MC_DEFAULT_KEYS;
	cfg->get_ratio = 0.9;
	cfg->value_size = RTV_MC_DEFAULT_VALUE;
}

int rtv_mc_client_check(const struct rtv_mc_client_cfg *cfg, char *why, size_t len)
{
	size_t vmax = cfg->udp ? RTV_MC_VALUE_MAX_UDP : RTV_MC_CLIENT_VALUE_MAX;

	if (cfg->keys < 1 || cfg->keys > RTV_MC_KEYS_MAX) {
		snprintf(why, len, "the key count must be 1-%u", RTV_MC_KEYS_MAX);
		return -EINVAL;
	}
	if (!(cfg->zipf >= 0) || !isfinite(cfg->zipf)) {
		snprintf(why, len, "the Zipf exponent must be 0 (uniform) or above");
		return -EINVAL;
	}
	if (!(cfg->get_ratio >= 0 && cfg->get_ratio <= 1)) {
		snprintf(why, len, "the share of gets must be 0-1");
		return -EINVAL;
	}
	if (cfg->value_size < 1 || cfg->value_size > vmax) {
		snprintf(why, len, "the value size must be 1-%zu bytes%s", vmax,
			 cfg->udp ? " over UDP (a reply must fit one datagram: memcached splits "
				    "longer ones)" : "");
		return -EINVAL;
	}
	if (cfg->ol.nconn < 0 || cfg->ol.nconn > RTV_OL_MAX_CONN) {
		snprintf(why, len, "the connections must be 1-%d", RTV_OL_MAX_CONN);
		return -EINVAL;
	}
	return 0;
}

/* ---- the protocol, for the open-loop client ---- */

struct mc_ctx {
	const struct rtv_mc_client_cfg *cfg;
	struct rtv_mc_keys keys;
	struct rtv_rng rng;
	unsigned char *value;
	bool prefill; /* key seq % keys, always a set */
};

static ssize_t mc_encode(void *p, uint64_t seq, int64_t intended_ns, int64_t now_ns,
			 unsigned char *buf, size_t cap, uint8_t *kind)
{
	struct mc_ctx *x = p;
	const struct rtv_mc_client_cfg *cfg = x->cfg;
	size_t off = cfg->udp ? RTV_MC_UDP_HDR : 0;
	char key[RTV_MC_KEY_LEN];
	enum rtv_mc_op op;
	uint32_t k;
	ssize_t n;

	(void)intended_ns;
	(void)now_ns;
	if (x->prefill) {
		op = RTV_MC_SET;
		k = (uint32_t)(seq % cfg->keys);
	} else {
		op = rtv_rng_unit(&x->rng) < cfg->get_ratio ? RTV_MC_GET : RTV_MC_SET;
		k = rtv_mc_keys_draw(&x->keys, rtv_rng_next(&x->rng));
	}
	rtv_mc_key(k, key, sizeof(key));
	if (off)
		rtv_mc_udp_put(buf, (uint16_t)seq);
	n = rtv_mc_encode(cfg->proto, op, key, sizeof(key), x->value, cfg->value_size,
			  (uint32_t)seq, buf + off, cap - off);
	*kind = (uint8_t)op;
	return n < 0 ? n : n + (ssize_t)off;
}

static enum rtv_ol_status reply_status(enum rtv_mc_status s)
{
	switch (s) {
	case RTV_MC_HIT:
	case RTV_MC_STORED:
		return RTV_OL_OK;
	case RTV_MC_MISS:
		return RTV_OL_MISS;
	default:
		return RTV_OL_ERROR;
	}
}

static ssize_t mc_parse(void *p, int kind, const unsigned char *buf, size_t len,
			struct rtv_ol_reply *r)
{
	struct mc_ctx *x = p;
	const struct rtv_mc_client_cfg *cfg = x->cfg;
	struct rtv_mc_udp_hdr h;
	struct rtv_mc_reply mr;
	size_t off = 0;
	enum rtv_mc_op op;
	ssize_t n;

	if (cfg->udp) {
		/* one request, one datagram back: values are kept below the split */
		if (rtv_mc_udp_get(buf, len, &h) < 0 || h.total != 1)
			return -EBADMSG;
		r->id = h.id;
		off = RTV_MC_UDP_HDR;
	}
	op = kind >= 0 ? (enum rtv_mc_op)kind : RTV_MC_ANY; /* a datagram's: its words say */
	n = rtv_mc_parse(cfg->proto, op, buf + off, len - off, &mr);
	if (n < 0 || (cfg->udp && (size_t)n != len - off))
		return -EBADMSG; /* a datagram holds one whole reply */
	if (n == 0)
		return 0;
	if (cfg->udp && mr.has_opaque && (uint16_t)mr.opaque != h.id)
		return -EBADMSG;
	r->status = reply_status(mr.status);
	return n + (ssize_t)off;
}

static const struct rtv_ol_proto mc_tcp = {
	.name = "memcached",
	.socktype = SOCK_STREAM,
	.id_bits = 0,
	.encode = mc_encode,
	.parse = mc_parse,
};

static const struct rtv_ol_proto mc_udp = {
	.name = "memcached-udp",
	.socktype = SOCK_DGRAM,
	.id_bits = 16,
	.encode = mc_encode,
	.parse = mc_parse,
};

static int client_run(const struct rtv_mc_client_cfg *cfg, bool prefill,
		      const volatile sig_atomic_t *stop, struct rtv_ol_result *res)
{
	struct mc_ctx x = { .cfg = cfg, .prefill = prefill };
	struct rtv_ol_cfg oc = cfg->ol;
	char why[128];
	int err;

	if (rtv_mc_client_check(cfg, why, sizeof(why)) < 0)
		return rtv_ol_run(NULL, stop, res); /* -EINVAL, res initialised */
	err = rtv_mc_keys_init(&x.keys, cfg->keys, cfg->zipf);
	if (err < 0) {
		(void)rtv_ol_run(NULL, stop, res); /* res initialised */
		return err;
	}
	x.value = malloc(cfg->value_size);
	if (!x.value) {
		rtv_mc_keys_free(&x.keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->value_size; i++)
		x.value[i] = (unsigned char)('a' + i % 26);
	rtv_rng_seed(&x.rng, cfg->ol.seed ^ RNG_SALT);
	oc.proto = cfg->udp ? &mc_udp : &mc_tcp;
	oc.proto_ctx = &x;
	err = rtv_ol_run(&oc, stop, res);
	free(x.value);
	rtv_mc_keys_free(&x.keys);
	return err;
}

int rtv_mc_client_run(const struct rtv_mc_client_cfg *cfg, const volatile sig_atomic_t *stop,
		      struct rtv_ol_result *res)
{
	if (!cfg)
		return rtv_ol_run(NULL, stop, res);
	return client_run(cfg, false, stop, res);
}

int rtv_mc_prefill(const struct rtv_mc_client_cfg *cfg, const volatile sig_atomic_t *stop,
		   int64_t wait_ns, struct rtv_ol_result *res)
{
	struct rtv_mc_client_cfg pc = *cfg;
	struct rtv_ol_result *r = res ? res : malloc(sizeof(*r));
	int64_t until = rtv_now_ns() + wait_ns;
	int err;

	if (!r)
		return -ENOMEM;
	pc.udp = false;
	pc.get_ratio = 0;
	pc.ol.nconn = 1;
	pc.ol.count = cfg->keys;
	pc.ol.duration_ns = 0;
	pc.ol.warmup_ns = 0;
	pc.ol.spin_ns = 0;
	pc.ol.samples_path = NULL;
	pc.ol.timeout_ns = PREFILL_TIMEOUT_NS;
	pc.ol.interval = (struct rtv_interval){ .dist = RTV_DIST_CONST,
						.min_ns = PREFILL_INTERVAL_NS,
						.max_ns = PREFILL_INTERVAL_NS };
	for (;;) {
		err = client_run(&pc, true, stop, r);
		if (err != -ECONNREFUSED || rtv_now_ns() >= until || rtv_stop_read(stop))
			break;
		rtv_sleep_until_ns(rtv_now_ns() + CONNECT_RETRY_NS);
	}
	if (!err && (r->received != pc.keys || r->errors))
		err = -EIO;
	if (r != res)
		free(r);
	return err;
}

/* ---- the probe ---- */

struct mc_state {
	struct rtv_svc_state svc; /* first: the shared metric rows point into it */
	int log_fd;               /* memcached's stderr (a memfd), the engine's */
	struct rtv_ol_result prefill;
};

/* The client's configuration in a run: the run's server, seed and times. */
static void run_cfg(const struct rtv_pctx *c, struct rtv_mc_client_cfg *cc)
{
	const struct rtv_mc_probe_cfg *cfg = c->cfg;

	*cc = cfg->client;
	rtv_svc_ol_cfg(c, &cc->ol);
}

static int prefill_main(void *arg)
{
	struct rtv_pctx *c = arg;
	const struct rtv_mc_probe_cfg *cfg = c->cfg;
	struct mc_state *st = c->state;
	struct rtv_mc_client_cfg cc;

	run_cfg(c, &cc);
	return rtv_mc_prefill(&cc, &st->svc.stop,
			      cfg->start_wait_ns ? cfg->start_wait_ns : DEFAULT_START_WAIT,
			      &st->prefill);
}

static int client_main(void *arg)
{
	struct rtv_pctx *c = arg;
	struct mc_state *st = c->state;
	struct rtv_mc_client_cfg cc;

	run_cfg(c, &cc);
	return rtv_mc_client_run(&cc, &st->svc.stop, &st->svc.rt);
}

static int mc_check(const void *cfgp, char *why, size_t len)
{
	const struct rtv_mc_probe_cfg *cfg = cfgp;
	char path[512];

	if (rtv_path_find("memcached", path, sizeof(path)) < 0) {
		snprintf(why, len, "memcached is not installed (Debian package memcached)");
		return -ENOENT;
	}
	return cfg ? rtv_mc_client_check(&cfg->client, why, len) : 0;
}

static int mc_start(struct rtv_pctx *c)
{
	const struct rtv_mc_probe_cfg *cfg = c->cfg;
	const struct rtv_testbed *tb = c->tb;
	struct mc_state *st = c->state;
	char path[512], buf[1024], *argv[24], tail[256];
	int64_t wait = cfg->start_wait_ns ? cfg->start_wait_ns : DEFAULT_START_WAIT;
	int err;

	st->log_fd = -1;
	if (!tb)
		return -ENOENT;
	if (rtv_path_find("memcached", path, sizeof(path)) < 0)
		return -ENOENT;
	err = rtv_mc_server_argv(path, c->rt_service_addr ? c->rt_service_addr : tb->rt_server.addr,
				 cfg->client.ol.port, cfg->threads > 0 ? cfg->threads : 1, buf,
				 sizeof(buf), argv, (int)(sizeof(argv) / sizeof(argv[0])));
	if (err < 0)
		return err;
	st->log_fd = memfd_create("rtv-memcached", MFD_CLOEXEC);
	err = rtv_svc_exec(c, &tb->rt_server, RTV_ROLE_RT_SERVER, argv, NULL, st->log_fd, NULL);
	if (err < 0)
		return err;
	/* every key set, from where the client runs: memcached answers */
	err = rtv_svc_step(c, &tb->rt_client, prefill_main, c, wait + 10 * RTV_NS_PER_S);
	if (err < 0) {
		rtv_svc_log_tail(st->log_fd, tail, sizeof(tail));
		rtv_err("memcached did not take the keys (%llu of %u stored, %llu errors): %s%s%s",
			(unsigned long long)st->prefill.received, cfg->client.keys,
			(unsigned long long)st->prefill.errors, strerror(-err), *tail ? "; it said: " : "",
			tail);
		return err;
	}
	return rtv_probe_spawn(c, &tb->rt_client, RTV_ROLE_RT_CLIENT, client_main, c, &c->client);
}

static void mc_finish(struct rtv_pctx *c)
{
	struct mc_state *st = c->state;

	if (st->log_fd >= 0)
		close(st->log_fd);
	st->log_fd = -1;
}

static void mc_config_json(const void *cfgp, json_t *conf)
{
	const struct rtv_mc_probe_cfg *cfg = cfgp;
	const struct rtv_mc_client_cfg *cc = &cfg->client;

	rtv_json_set_str(conf, "service", "memcached");
	rtv_json_set_str(conf, "memcached_protocol", cc->proto == RTV_MC_META ? "meta" : "ascii");
	rtv_json_set_str(conf, "memcached_transport", cc->udp ? "udp" : "tcp");
	rtv_json_set_int(conf, "memcached_port", cc->ol.port);
	rtv_json_set_int(conf, "memcached_threads", cfg->threads > 0 ? cfg->threads : 1);
	rtv_json_set_int(conf, "connections", cc->ol.nconn ? cc->ol.nconn : 1);
	rtv_json_set_int(conf, "keys", cc->keys);
	rtv_json_set_str(conf, "key_popularity", cc->zipf > 0 ? "zipf" : "uniform");
	rtv_json_set_num(conf, "zipf_s", cc->zipf);
	rtv_json_set_num(conf, "get_ratio", cc->get_ratio);
	rtv_json_set_int(conf, "value_bytes", (int64_t)cc->value_size);
	rtv_json_set_str(conf, "interval_dist", rtv_dist_name(cc->ol.interval.dist));
	rtv_json_set_num(conf, "interval_min_us", (double)cc->ol.interval.min_ns / 1e3);
	rtv_json_set_num(conf, "interval_max_us", (double)cc->ol.interval.max_ns / 1e3);
}

static const struct rtv_metric mc_metrics[] = {
	RTV_SVC_METRICS("memcached"),
};

const struct rtv_probe rtv_probe_memcached = {
	.name = "memcached",
	.summary = "memcached 1.6 in the RT container, measured by rtvnet's open-loop client "
		   "(the outsourcing paper's section 4.3)",
	.role = RTV_PROBE_SERVICE,
	.metrics = mc_metrics,
	.nmetrics = sizeof(mc_metrics) / sizeof(mc_metrics[0]),
	.size = sizeof(struct mc_state),
	.check = mc_check,
	.start = mc_start,
	.stop = rtv_svc_stop,
	.finish = mc_finish,
	.live = rtv_svc_live,
	.series_json = rtv_svc_series_json,
	.config_json = mc_config_json,
};
