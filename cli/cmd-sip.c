/* rtvnet sip client: the open-loop SIP client (lib/probe/sip.h) sending
 * OPTIONS through a SIP proxy of the user's. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "olclient.h"
#include "probe/sip.h"
#include "util/json.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet sip client --target ADDR [OPTIONS]\n\n"
	"  client  send OPTIONS through a SIP proxy on a schedule fixed in advance (open\n"
	"          loop) and report each transaction's time from the intended send (rtt)\n"
	"          and from the actual send (service), matched by Call-ID\n\n"
	"run 'rtvnet sip client -h' for the options";

static const char client_usage[] =
	"rtvnet sip client --target ADDR [--port P] [--uas ADDR] [--uas-port P] [--calls] [--conns N]\n"
	"       [--duration S | --count N] [--interval MIN-MAX] [--dist uniform|exp|const] [--seed N]\n"
	"       [--timeout T] [--warmup T] [--cpu CPUS] [--policy other|fifo|rr] [--prio N]\n"
	"       [--samples FILE] [--json FILE]\n\n"
	"The requests go to the proxy at --target; their Request-URI names the UAS the proxy\n"
	"forwards to (--uas, default the proxy's address, and --uas-port). The proxy must\n"
	"answer to the port a request came from (rport), as Kamailio does with force_rport().";

static struct rtv_cli_ol client_opt = RTV_CLI_OL_DEFAULTS(RTV_SIP_DEFAULT_PORT);
static struct {
	const char *uas;
	long long uas_port;
	bool calls;
} sip_opt = { .uas_port = RTV_SIP_DEFAULT_UAS_PORT };

static const struct rtv_opt client_opts[] = {
	RTV_CLI_OL_ROWS(&client_opt),
	RTV_CLI_OL_CONNS_ROW(&client_opt),
	RTV_OPT_ADDR_DEF("uas", 0, &sip_opt.uas, "ADDR",
			 "the UAS's address in the Request-URI (default: the proxy's)"),
	RTV_OPT_INT_DEF("uas-port", 0, &sip_opt.uas_port, "P", 1, 65535,
			"the UAS's port in the Request-URI"),
	RTV_OPT_FLAG_DEF("calls", 0, &sip_opt.calls,
			 "calls instead of OPTIONS: INVITE (its transaction measured), then ACK and "
			 "BYE in the dialog"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_sip_modes[] = {
	{ NULL, usage_str, NULL },
	{ "client", client_usage, client_opts },
	{ NULL, NULL, NULL },
};

static int run_sip(const void *arg, const volatile sig_atomic_t *stop, struct rtv_ol_result *res)
{
	return rtv_sip_client_run(arg, stop, res);
}

static int sip_client(int argc, char **argv)
{
	struct rtv_sip_client_cfg cfg;
	char what[200];
	json_t *conf;
	int err, policy, prio;
	bool done;

	err = rtv_cli_parse_noargs(client_opts, client_usage, argc, argv, &done);
	if (err || done)
		return err;
	rtv_sip_client_cfg_init(&cfg);
	err = rtv_cli_ol_cfg(&client_opt, &cfg.ol, &policy, &prio);
	if (err)
		return err;
	cfg.uas_addr = sip_opt.uas;
	cfg.uas_port = (uint16_t)sip_opt.uas_port;
	cfg.calls = sip_opt.calls;
	snprintf(what, sizeof(what), "sip client: %s to proxy %s port %u for uas %s port %u, "
		 "%d socket%s", cfg.calls ? "calls (INVITE, ACK, BYE)" : "OPTIONS", cfg.ol.addr, (unsigned)cfg.ol.port,
		 cfg.uas_addr ? cfg.uas_addr : cfg.ol.addr, (unsigned)cfg.uas_port, cfg.ol.nconn,
		 cfg.ol.nconn == 1 ? "" : "s");
	conf = json_object();
	rtv_json_set_str(conf, "service", "sip");
	rtv_json_set_str(conf, "request", cfg.calls ? "INVITE" : "OPTIONS");
	json_object_set_new(conf, "calls", json_boolean(cfg.calls));
	rtv_json_set_str(conf, "uas", cfg.uas_addr ? cfg.uas_addr : cfg.ol.addr);
	rtv_json_set_int(conf, "uas_port", cfg.uas_port);
	return rtv_cli_ol_run(&client_opt, &cfg.ol, policy, prio, what, conf, run_sip, &cfg);
}

int cmd_sip(int argc, char **argv)
{
	return rtv_cli_ol_main(cmd_sip_modes, argc, argv, sip_client);
}
