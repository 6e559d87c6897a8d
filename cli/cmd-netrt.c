/* rtvnet netrt server|client: the RT UDP echo service and its open-loop
 * latency client (lib/probe/netrt.h). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "builtin.h"
#include "olclient.h"
#include "host/sched.h"
#include "probe/netrt.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/time.h"
#include "util/banned.h"

/* why bind() says EADDRNOTAVAIL for an address that is there */
#define ADDR_HINT " (or an IPv6 one still in duplicate address detection)"

static const char usage_str[] =
	"rtvnet netrt server [OPTIONS] | client --target ADDR [OPTIONS]\n\n"
	"  server  echo UDP datagrams back to their sender\n"
	"  client  send requests on a schedule fixed in advance (open loop) and report\n"
	"          latency from the intended send time (rtt) and from the actual send\n"
	"          (service)\n\n"
	"run 'rtvnet netrt server -h' or 'rtvnet netrt client -h' for the options";

static const char server_usage[] =
	"rtvnet netrt server [--port P] [--bind ADDR] [--cpu CPUS] [--policy other|fifo|rr] [--prio N]";

static const char client_usage[] =
	"rtvnet netrt client --target ADDR [--port P] [--size BYTES] [--duration S | --count N]\n"
	"       [--interval MIN-MAX] [--dist uniform|exp|const] [--seed N] [--timeout T] [--warmup T]\n"
	"       [--cpu CPUS] [--policy other|fifo|rr] [--prio N] [--samples FILE] [--json FILE]\n\n"
	"Bare numbers are seconds, but milliseconds for --interval. Requests sent during the\n"
	"warm-up are not measured; --duration includes the warm-up and --count excludes it.";


static struct server_values {
	long long port;
	int64_t reply_delay;
	const char *bind_addr;
	struct rtv_cli_sched so;
} server_opt = {
	.port = RTV_NETRT_DEFAULT_PORT,
	.so = { .prio = RTV_CLI_DEFAULT_PRIO },
};

static const struct rtv_opt server_opts[] = {
	RTV_OPT_INT_DEF("port", 'p', &server_opt.port, "P", 1, 65535, "UDP port to listen on"),
	RTV_OPT_ADDR_DEF("bind", 'b', &server_opt.bind_addr, "ADDR",
			 "numeric address to listen on (default: any, IPv6 and IPv4)"),
	RTV_CLI_SCHED_ROWS(&server_opt.so),
	RTV_OPT_DURATION_DEF("reply-delay", 0, &server_opt.reply_delay, "US", RTV_NS_PER_US,
			     "for tests: sleep this long before each reply (a known delay in one stage)",
			     .flags = RTV_OPT_ZERO_OK),
	RTV_OPT_END_DEF,
};

static struct rtv_cli_ol client_opt = RTV_CLI_OL_DEFAULTS(RTV_NETRT_DEFAULT_PORT);
static long long client_size = RTV_NETRT_DEFAULT_PAYLOAD;

static const struct rtv_opt client_opts[] = {
	RTV_CLI_OL_ROWS(&client_opt),
	RTV_OPT_INT_DEF("size", 's', &client_size, "BYTES", RTV_NETRT_MIN_PAYLOAD,
			RTV_NETRT_MAX_PAYLOAD, "UDP payload per request"),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_netrt_modes[] = {
	{ NULL, usage_str, NULL },
	{ "server", server_usage, server_opts },
	{ "client", client_usage, client_opts },
	{ NULL, NULL, NULL },
};

static int netrt_server(int argc, char **argv)
{
	const struct rtv_cli_sched *so = &server_opt.so;
	const char *bind_addr;
	long long port;
	struct rtv_netrt_server_cfg cfg;
	struct rtv_netrt_server_stats st = { 0 };
	int err, fd, policy, prio;
	bool done;

	err = rtv_cli_parse_noargs(server_opts, server_usage, argc, argv, &done);
	if (err || done)
		return err;
	bind_addr = server_opt.bind_addr;
	port = server_opt.port;
	err = rtv_cli_sched_check(so, &policy, &prio);
	if (err)
		return err;

	/* bound before anything else is done, so that an address that is not
	 * this host's is refused as bad input */
	cfg.bind_addr = bind_addr;
	cfg.port = (uint16_t)port;
	fd = rtv_netrt_server_open(&cfg);
	if (fd == -EADDRNOTAVAIL) {
		rtv_cli_error("option '--bind': '%s' is not an address of this host%s", bind_addr,
			      ADDR_HINT);
		return RTV_EXIT_USAGE;
	}
	if (fd < 0) {
		rtv_cli_error("cannot listen on UDP port %lld%s%s: %s", port, bind_addr ? " of " : "",
			      bind_addr ? bind_addr : "", strerror(-fd));
		return RTV_EXIT_FAIL;
	}
	err = rtv_cli_sched_apply(so, policy, prio);
	if (!err)
		err = rtv_cli_catch_signals();
	if (err) {
		close(fd);
		return err;
	}
	rtv_cli_info("listening on UDP %s port %lld", bind_addr ? bind_addr : "any", port);
	err = rtv_netrt_server_serve_delayed(fd, &rtv_cli_stop, &st, server_opt.reply_delay);
	close(fd);
	printf("netrt server: %" PRIu64 " request%s echoed\n", st.requests,
	       st.requests == 1 ? "" : "s");
	if (err < 0) {
		rtv_cli_error("cannot receive on UDP port %lld: %s", port, strerror(-err));
		return RTV_EXIT_FAIL;
	}
	return RTV_EXIT_OK;
}

static int run_netrt(const void *arg, const volatile sig_atomic_t *stop, struct rtv_ol_result *res)
{
	return rtv_netrt_client_run(arg, stop, res);
}

static int netrt_client(int argc, char **argv)
{
	struct rtv_netrt_client_cfg cfg;
	struct rtv_ol_cfg oc;
	char what[160];
	json_t *conf;
	int err, policy, prio;
	bool done;

	err = rtv_cli_parse_noargs(client_opts, client_usage, argc, argv, &done);
	if (err || done)
		return err;
	err = rtv_cli_ol_cfg(&client_opt, &oc, &policy, &prio);
	if (err)
		return err;
	cfg = (struct rtv_netrt_client_cfg){ .ol = oc, .payload = (size_t)client_size };
	snprintf(what, sizeof(what), "netrt client: %s port %u, %zu B", oc.addr, (unsigned)oc.port,
		 cfg.payload);
	conf = json_object();
	rtv_json_set_int(conf, "size", (int64_t)cfg.payload);
	return rtv_cli_ol_run(&client_opt, &oc, policy, prio, what, conf, run_netrt, &cfg);
}

int cmd_netrt(int argc, char **argv)
{
	const struct rtv_cmd_mode *m;
	int ret;

	m = rtv_cli_mode(cmd_netrt_modes, argc, argv, &ret);
	if (!m)
		return ret;
	if (!strcmp(m->name, "server"))
		return netrt_server(argc - 1, argv + 1);
	return netrt_client(argc - 1, argv + 1);
}
