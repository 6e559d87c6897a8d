/* rtvnet stream sink|source: bulk TCP/UDP traffic, the co-located non-RT load
 * ("NetStream") whose effect on the RT service rtvnet measures
 * (lib/probe/stream.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "builtin.h"
#include "probe/stream.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet stream sink [OPTIONS] | source --target ADDR [OPTIONS]\n\n"
	"  sink    receive bulk TCP or UDP traffic and count it\n"
	"  source  send bulk TCP or UDP traffic to a sink, as fast as possible or (UDP)\n"
	"          at a set rate\n\n"
	"run 'rtvnet stream sink -h' or 'rtvnet stream source -h' for the options";

static const char sink_usage[] =
	"rtvnet stream sink [--proto tcp|udp] [--port P] [--bind ADDR] [--size BYTES]\n"
	"       [--duration S] [--interval S] [--json FILE]\n\n"
	"Counts what any number of sources send (UDP: one source at a time, for the loss\n"
	"count). Prints the throughput every interval and a total at the end. Bare numbers\n"
	"are seconds.";

static const char source_usage[] =
	"rtvnet stream source --target ADDR [--proto tcp|udp] [--port P] [--rate BITS]\n"
	"       [--size BYTES] [--duration S] [--interval S] [--json FILE]\n\n"
	"TCP connects (retrying for 2 s while the sink is not listening yet) and writes as fast\n"
	"as it can. UDP sends datagrams numbered from 0, at --rate on a fixed schedule or as fast\n"
	"as it can. Prints the throughput every interval and a total at the end. Bare numbers\n"
	"are seconds.";

static const char *const proto_names[] = { "tcp", "udp", NULL };

/* The options of both modes; each mode has its own, with the rows that apply. */
struct stream_opts {
	const char *target;    /* source */
	const char *bind_addr; /* sink */
	const char *proto;
	double rate;           /* source, UDP: bits/s, 0 as fast as possible */
	bool rate_set;         /* --rate given */
	const char *json_path;
	long long port, size;
	int64_t duration_ns;   /* 0: until Ctrl-C (sink only) */
	int64_t interval_ns;
};

static struct stream_opts sink_opt = {
	.proto = "tcp",
	.port = RTV_STREAM_DEFAULT_PORT,
	.interval_ns = RTV_NS_PER_S,
};

static struct stream_opts source_opt = {
	.proto = "tcp",
	.port = RTV_STREAM_DEFAULT_PORT,
	.duration_ns = 10 * RTV_NS_PER_S,
	.interval_ns = RTV_NS_PER_S,
};

static const struct rtv_opt sink_opts[] = {
	RTV_OPT_CHOICE_DEF("proto", 0, &sink_opt.proto, "PROTO", proto_names, "transport"),
	RTV_OPT_INT_DEF("port", 'p', &sink_opt.port, "P", 1, 65535, "port to listen on"),
	RTV_OPT_ADDR_DEF("bind", 'b', &sink_opt.bind_addr, "ADDR",
			 "numeric address to listen on (default: any, IPv6 and IPv4)"),
	RTV_OPT_INT_DEF("size", 's', &sink_opt.size, "BYTES", 0, RTV_STREAM_TCP_MAX_SIZE,
			"bytes per read (TCP) or largest datagram (UDP); 0: 128 KiB, 1472 (IPv6: 1452)"),
	RTV_OPT_DURATION_DEF("duration", 'd', &sink_opt.duration_ns, "S", RTV_NS_PER_S,
			     "stop this long after the first connection or datagram "
			     "(default: at Ctrl-C)"),
	RTV_OPT_DURATION_DEF("interval", 'i', &sink_opt.interval_ns, "S", RTV_NS_PER_S,
			     "print the throughput this often"),
	RTV_OPT_STRING_DEF("json", 'j', &sink_opt.json_path, "FILE", "write the result as JSON"),
	RTV_OPT_END_DEF,
};

static const struct rtv_opt source_opts[] = {
	RTV_OPT_ADDR_DEF("target", 't', &source_opt.target, "ADDR",
			 "the sink's numeric IPv4 or IPv6 address (link-local: fe80::1%eth0)"),
	RTV_OPT_CHOICE_DEF("proto", 0, &source_opt.proto, "PROTO", proto_names, "transport"),
	RTV_OPT_INT_DEF("port", 'p', &source_opt.port, "P", 1, 65535, "the sink's port"),
	RTV_OPT_RATE_DEF("rate", 'r', &source_opt.rate, "BITS",
			 "UDP payload bits/s, e.g. 500M; 0: as fast as possible", .set = &source_opt.rate_set,
			 .what = "a rate in bits/s (use e.g. 500M, 1.5G, 800k, or 0 for as fast as possible)"),
	RTV_OPT_INT_DEF("size", 's', &source_opt.size, "BYTES", 0, RTV_STREAM_TCP_MAX_SIZE,
			"bytes per write (TCP) or UDP payload (8-65507); 0: 128 KiB, 1472 (IPv6: 1452)"),
	RTV_OPT_DURATION_DEF("duration", 'd', &source_opt.duration_ns, "S", RTV_NS_PER_S,
			     "send for this long"),
	RTV_OPT_DURATION_DEF("interval", 'i', &source_opt.interval_ns, "S", RTV_NS_PER_S,
			     "print the throughput this often"),
	RTV_OPT_STRING_DEF("json", 'j', &source_opt.json_path, "FILE", "write the result as JSON"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_stream_modes[] = {
	{ NULL, usage_str, NULL },
	{ "sink", sink_usage, sink_opts },
	{ "source", source_usage, source_opts },
	{ NULL, NULL, NULL },
};

/* "'198.18.2.2:5301'", "'[fe80::1]:5301'", or "port 5301" for any address. */
static void fmt_endpoint(const char *addr, long long port, char *buf, size_t len)
{
	if (!addr)
		snprintf(buf, len, "port %lld", port);
	else if (strchr(addr, ':'))
		snprintf(buf, len, "'[%s]:%lld'", addr, port);
	else
		snprintf(buf, len, "'%s:%lld'", addr, port);
}

/* 11.2 GB: decimal units, like Gbit/s. */
static void fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
	double v = (double)b;
	int u = -1;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

struct run_ctx {
	json_t *intervals; /* NULL without --json */
	bool oom;
};

static void on_interval(void *arg, int64_t t_ns, uint64_t bytes, int64_t interval_ns)
{
	struct run_ctx *ctx = arg;
	double t_s = (double)t_ns / 1e9;
	double gbit_s = interval_ns > 0 ? (double)bytes * 8.0 / (double)interval_ns : 0;
	json_t *o;

	printf("%6.2f s %5.2f Gbit/s\n", t_s, gbit_s);
	if (!ctx->intervals)
		return;
	o = json_object();
	if (!o || rtv_json_set_num(o, "t_s", t_s) || rtv_json_set_num(o, "gbit_s", gbit_s) ||
	    json_array_append_new(ctx->intervals, o)) {
		json_decref(o);
		ctx->oom = true;
	}
}

static void print_total(const struct rtv_stream_cfg *cfg, const struct rtv_stream_result *r,
			bool sink)
{
	uint64_t sent = r->datagrams + r->lost;
	char b[32];

	fmt_bytes(r->bytes, b, sizeof(b));
	printf("total: %s in %.2f s, %.2f Gbit/s\n", b, (double)(r->end_ns - r->start_ns) / 1e9,
	       rtv_stream_gbit_s(r));
	if (cfg->proto != IPPROTO_UDP)
		return;
	if (sink)
		printf("udp: %" PRIu64 " datagrams received, %" PRIu64 " lost (%.3f%%)\n",
		       r->datagrams, r->lost, sent ? 100.0 * (double)r->lost / (double)sent : 0.0);
	else
		printf("udp: %" PRIu64 " datagrams sent\n", r->datagrams);
}

/* {meta, config, intervals, total}; takes over intervals. NULL when out of memory. */
static json_t *stream_json(const struct rtv_stream_cfg *cfg, bool sink,
			   const struct rtv_stream_result *r, json_t *intervals, int64_t start_rt,
			   int64_t end_rt, bool interrupted)
{
	json_t *c = json_object(), *t = json_object();

	rtv_json_set_str(c, "mode", sink ? "sink" : "source");
	rtv_json_set_str(c, "proto", cfg->proto == IPPROTO_UDP ? "udp" : "tcp");
	rtv_json_set_str(c, sink ? "bind" : "target", cfg->addr);
	rtv_json_set_int(c, "port", cfg->port);
	rtv_json_set_int(c, "size", (int64_t)cfg->msg_size);
	if (!sink && cfg->proto == IPPROTO_UDP)
		rtv_json_set_num(c, "rate_bit_s", cfg->rate_bit_s > 0 ? cfg->rate_bit_s : NAN);
	rtv_json_set_num(c, "duration_s", cfg->duration_ns ? (double)cfg->duration_ns / 1e9 : NAN);
	rtv_json_set_num(c, "interval_s", (double)cfg->interval_ns / 1e9);
	rtv_json_set_int(t, "bytes", (int64_t)r->bytes);
	rtv_json_set_num(t, "seconds", (double)(r->end_ns - r->start_ns) / 1e9);
	rtv_json_set_num(t, "gbit_s", rtv_stream_gbit_s(r));
	if (cfg->proto == IPPROTO_UDP) {
		rtv_json_set_int(t, "datagrams", (int64_t)r->datagrams);
		if (sink)
			rtv_json_set_int(t, "lost", (int64_t)r->lost);
	}
	json_object_set_new(t, "interrupted", json_boolean(interrupted));
	return rtv_json_doc(rtv_json_meta_new(rtv_argc, rtv_argv, start_rt, end_rt), c, "intervals",
			    intervals, "total", t, NULL);
}

/* Check the options that depend on each other and fill cfg; 0 or RTV_EXIT_USAGE. */
static int stream_cfg(const struct stream_opts *o, bool sink, struct rtv_stream_cfg *cfg)
{
	bool udp = !strcmp(o->proto, "udp");

	memset(cfg, 0, sizeof(*cfg));
	if (!sink && !o->target) {
		rtv_cli_error("option '--target' is required: the sink's address");
		return RTV_EXIT_USAGE;
	}
	if (o->rate_set && !udp) {
		rtv_cli_error("option '--rate': needs --proto udp (TCP always sends as fast as it can)");
		return RTV_EXIT_USAGE;
	}
	if (o->size && udp && (o->size < (long long)RTV_STREAM_UDP_MIN_SIZE ||
			       o->size > (long long)RTV_STREAM_UDP_MAX_SIZE)) {
		rtv_cli_error("option '--size': %lld is out of range %u-%u for UDP", o->size,
			      RTV_STREAM_UDP_MIN_SIZE, RTV_STREAM_UDP_MAX_SIZE);
		return RTV_EXIT_USAGE;
	}
	cfg->proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	cfg->addr = sink ? o->bind_addr : o->target;
	cfg->port = (uint16_t)o->port;
	cfg->msg_size = (size_t)o->size;
	cfg->msg_size = rtv_stream_msg_size(cfg); /* 0: the default for proto and address */
	cfg->rate_bit_s = o->rate;
	cfg->duration_ns = o->duration_ns;
	cfg->interval_ns = o->interval_ns;
	return 0;
}

static void report_failure(const struct rtv_stream_cfg *cfg, const struct rtv_stream_result *r,
			   bool sink, int err)
{
	const char *proto = cfg->proto == IPPROTO_UDP ? "UDP" : "TCP";
	char ep[INET6_ADDRSTRLEN + 64];

	fmt_endpoint(cfg->addr, cfg->port, ep, sizeof(ep));
	if (sink && !r->start_ns)
		rtv_cli_error("cannot listen on %s %s: %s%s", proto, ep, strerror(-err),
			      err == -EADDRINUSE ? " (is another sink running? try --port)" : "");
	else if (sink)
		rtv_cli_error("receiving on %s %s failed: %s", proto, ep, strerror(-err));
	else if (!r->start_ns && cfg->proto == IPPROTO_TCP)
		rtv_cli_error("cannot connect to %s: %s", ep, strerror(-err));
	else if (!r->start_ns)
		rtv_cli_error("cannot send to %s: %s", ep, strerror(-err));
	else
		rtv_cli_error("sending to %s failed: %s", ep, strerror(-err));
}

static int stream_run(int argc, char **argv, bool sink)
{
	struct stream_opts *o = sink ? &sink_opt : &source_opt;
	struct rtv_stream_cfg cfg;
	struct rtv_stream_result res = { 0 };
	struct run_ctx ctx = { NULL, false };
	json_t *root = NULL;
	int64_t start_rt, end_rt;
	int err, ret = RTV_EXIT_FAIL;
	char ep[INET6_ADDRSTRLEN + 64], dur[64];
	bool done;

	err = rtv_cli_parse_noargs(sink ? sink_opts : source_opts, sink ? sink_usage : source_usage, argc, argv, &done);
	if (err || done)
		return err;
	err = stream_cfg(o, sink, &cfg);
	if (err)
		return err;
	err = rtv_cli_catch_signals();
	if (err)
		return err;
	if (o->json_path) {
		ctx.intervals = json_array();
		if (!ctx.intervals) {
			rtv_cli_error("cannot allocate the JSON result: %s", strerror(ENOMEM));
			return RTV_EXIT_FAIL;
		}
	}

	fmt_endpoint(cfg.addr, cfg.port, ep, sizeof(ep));
	if (cfg.duration_ns)
		snprintf(dur, sizeof(dur), "for %.3g s", (double)cfg.duration_ns / 1e9);
	else
		snprintf(dur, sizeof(dur), "until Ctrl-C");
	rtv_cli_info("%s %s %s, %s", cfg.proto == IPPROTO_UDP ? "UDP" : "TCP",
		     sink ? "sink on" : "source to", ep, dur);

	start_rt = rtv_realtime_ns();
	if (sink)
		err = rtv_stream_sink_run(&cfg, &rtv_cli_stop, on_interval, &ctx, &res);
	else
		err = rtv_stream_source_run(&cfg, &rtv_cli_stop, on_interval, &ctx, &res);
	end_rt = rtv_realtime_ns();
	if (sink && err == -EADDRNOTAVAIL) {
		rtv_cli_error("option '--bind': '%s' is not an address of this host (or an IPv6 one "
			      "still in duplicate address detection)", cfg.addr);
		ret = RTV_EXIT_USAGE;
		goto out;
	}
	if (err < 0 && !res.start_ns) {
		report_failure(&cfg, &res, sink, err);
		goto out;
	}
	print_total(&cfg, &res, sink);
	ret = RTV_EXIT_OK;
	if (err < 0) {
		report_failure(&cfg, &res, sink, err);
		ret = RTV_EXIT_FAIL;
	}
	if (o->json_path) {
		if (!ctx.oom) {
			root = stream_json(&cfg, sink, &res, ctx.intervals,
					   start_rt, end_rt, rtv_cli_stop != 0);
			ctx.intervals = NULL; /* taken over by stream_json */
		}
		if (!root) {
			rtv_cli_error("cannot build the JSON result: %s", strerror(ENOMEM));
			ret = RTV_EXIT_FAIL;
			goto out;
		}
		err = rtv_json_write_file(root, o->json_path);
		if (err < 0) {
			rtv_cli_error("cannot write '%s': %s", o->json_path, strerror(-err));
			ret = RTV_EXIT_FAIL;
		}
	}
out:
	json_decref(ctx.intervals);
	json_decref(root);
	return ret;
}

int cmd_stream(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int ret;

	m = rtv_cli_mode(cmd_stream_modes, argc, argv, &ret);
	if (!m)
		return ret;
	return stream_run(argc - 1, argv + 1, !strcmp(m->name, "sink"));
}
