/* rtvnet memcached client: the open-loop memcached client
 * (lib/probe/memcached.h) against a memcached of the user's. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "olclient.h"
#include "probe/memcached.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet memcached client --target ADDR [OPTIONS]\n\n"
	"  client  send gets and sets to a memcached on a schedule fixed in advance (open\n"
	"          loop) and report latency from the intended send time (rtt) and from the\n"
	"          actual send (service), with misses and errors counted\n\n"
	"run 'rtvnet memcached client -h' for the options";

static const char client_usage[] =
	"rtvnet memcached client --target ADDR [--port P] [--protocol ascii|meta] [--udp]\n"
	"       [--conns N] [--keys N] [--zipf S] [--get-ratio R] [--value-size BYTES] [--prefill]\n"
	"       [--duration S | --count N] [--interval MIN-MAX] [--dist uniform|exp|const] [--seed N]\n"
	"       [--timeout T] [--warmup T] [--cpu CPUS] [--policy other|fifo|rr] [--prio N]\n"
	"       [--samples FILE] [--json FILE]\n\n"
	"Bare numbers are seconds, but milliseconds for --interval. Requests sent during the\n"
	"warm-up are not measured; --duration includes the warm-up and --count excludes it.";

static const char *const protocols[] = { "ascii", "meta", NULL };

static struct rtv_cli_ol client_opt = RTV_CLI_OL_DEFAULTS(RTV_MC_DEFAULT_PORT);
static struct {
	const char *protocol;
	bool udp, prefill;
	long long keys, value_size;
	double zipf, get_ratio;
} mc_opt = {
	.protocol = "ascii",
	.keys = RTV_MC_DEFAULT_KEYS,
	.value_size = RTV_MC_DEFAULT_VALUE,
	.get_ratio = 0.9,
};

static const struct rtv_opt client_opts[] = {
	RTV_CLI_OL_ROWS(&client_opt),
	RTV_CLI_OL_CONNS_ROW(&client_opt),
	RTV_OPT_CHOICE_DEF("protocol", 0, &mc_opt.protocol, "PROTO", protocols,
			   "ASCII commands (get, set) or meta commands (mg, ms)"),
	RTV_OPT_FLAG_DEF("udp", 'u', &mc_opt.udp,
			 "over UDP in memcached's frame (the server needs -U); replies matched by "
			 "request id"),
	RTV_OPT_INT_DEF("keys", 'k', &mc_opt.keys, "N", 1, RTV_MC_KEYS_MAX, "distinct keys"),
	RTV_OPT_DOUBLE_DEF("zipf", 0, &mc_opt.zipf, "S", 0, 10,
			   "key popularity Zipf with exponent S (0: uniform)"),
	RTV_OPT_DOUBLE_DEF("get-ratio", 0, &mc_opt.get_ratio, "R", 0, 1,
			   "share of gets; the rest are sets"),
	RTV_OPT_INT_DEF("value-size", 0, &mc_opt.value_size, "BYTES", 1, RTV_MC_CLIENT_VALUE_MAX,
			"bytes per value (UDP: at most 1200, one datagram)"),
	RTV_OPT_FLAG_DEF("prefill", 0, &mc_opt.prefill,
			 "set every key once (over TCP) before the measured run, so gets hit"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_memcached_modes[] = {
	{ NULL, usage_str, NULL },
	{ "client", client_usage, client_opts },
	{ NULL, NULL, NULL },
};

static int run_mc(const void *arg, const volatile sig_atomic_t *stop, struct rtv_ol_result *res)
{
	const struct rtv_mc_client_cfg *cfg = arg;
	int err;

	if (mc_opt.prefill) {
		err = rtv_mc_prefill(cfg, stop, 0, res);
		if (err < 0) {
			rtv_cli_error("cannot set the %u keys before the run: %s (%llu stored, %llu "
				      "errors)", cfg->keys, strerror(-err),
				      (unsigned long long)res->received,
				      (unsigned long long)res->errors);
			return err;
		}
	}
	return rtv_mc_client_run(cfg, stop, res);
}

static int mc_client(int argc, char **argv)
{
	struct rtv_mc_client_cfg cfg;
	char what[200], why[200];
	json_t *conf;
	int err, policy, prio;
	bool done;

	err = rtv_cli_parse_noargs(client_opts, client_usage, argc, argv, &done);
	if (err || done)
		return err;
	rtv_mc_client_cfg_init(&cfg);
	err = rtv_cli_ol_cfg(&client_opt, &cfg.ol, &policy, &prio);
	if (err)
		return err;
	cfg.proto = strcmp(mc_opt.protocol, "meta") ? RTV_MC_ASCII : RTV_MC_META;
	cfg.udp = mc_opt.udp;
	cfg.keys = (uint32_t)mc_opt.keys;
	cfg.zipf = mc_opt.zipf;
	cfg.get_ratio = mc_opt.get_ratio;
	cfg.value_size = (size_t)mc_opt.value_size;
	if (rtv_mc_client_check(&cfg, why, sizeof(why)) < 0) {
		rtv_cli_error("option '--value-size': %s", why);
		return RTV_EXIT_USAGE;
	}
	snprintf(what, sizeof(what),
		 "memcached client: %s port %u, %s over %s, %d connection%s, %u keys %s, %.0f%% gets, "
		 "%zu B values", cfg.ol.addr, (unsigned)cfg.ol.port, mc_opt.protocol,
		 cfg.udp ? "UDP" : "TCP", cfg.ol.nconn, cfg.ol.nconn == 1 ? "" : "s", cfg.keys,
		 cfg.zipf > 0 ? "zipf" : "uniform", 100 * cfg.get_ratio, cfg.value_size);
	conf = json_object();
	rtv_json_set_str(conf, "service", "memcached");
	rtv_json_set_str(conf, "protocol", mc_opt.protocol);
	rtv_json_set_str(conf, "transport", cfg.udp ? "udp" : "tcp");
	rtv_json_set_int(conf, "keys", cfg.keys);
	rtv_json_set_num(conf, "zipf_s", cfg.zipf);
	rtv_json_set_num(conf, "get_ratio", cfg.get_ratio);
	rtv_json_set_int(conf, "value_bytes", (int64_t)cfg.value_size);
	json_object_set_new(conf, "prefill", json_boolean(mc_opt.prefill));
	return rtv_cli_ol_run(&client_opt, &cfg.ol, policy, prio, what, conf, run_mc, &cfg);
}

int cmd_memcached(int argc, char **argv)
{
	return rtv_cli_ol_main(cmd_memcached_modes, argc, argv, mc_client);
}
