/* rtvnet trace: the per-stage latency tracer (lib/probe/stages.h) on a
 * running service of this host for a while: where its UDP datagrams' latency
 * is spent, and what held its CPUs for the slowest round trips. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "net/netns.h"
#include "probe/stages.h"
#include "util/json.h"
#include "util/time.h"
#include "util/banned.h"

static const char usage_str[] =
	"rtvnet trace --port P [--netns NS] [--duration S] [--cpus LIST] [--json FILE]\n\n"
	"Traces the UDP datagrams to and from port P with BPF for S seconds and prints\n"
	"where their latency is spent, stage by stage (send, each device's xmit and\n"
	"receive, the socket, the wake-up, the receive call), and, for the slowest\n"
	"round trips, what held the CPUs while they waited. Changes nothing on the host\n"
	"but the BPF programs it loads, which go when it exits.";

static const char *netns, *json_path, *points_path;
static long long port, topk = RTV_STAGES_DEFAULT_TOPK;
static int64_t duration = 10 * RTV_NS_PER_S, min_occ = RTV_STAGES_DEFAULT_MIN_OCC_NS;
static cpu_set_t cpus;
static const struct rtv_opt opts[] = {
	RTV_OPT_INT_DEF("port", 'p', &port, "P", 1, 65535, "the service's UDP port (required)"),
	RTV_OPT_STRING_DEF("netns", 'N', &netns, "NS", "only the sockets of this network namespace: a name in /run/netns or a path (/proc/PID/ns/net); devices are traced in every namespace"),
	RTV_OPT_DURATION_DEF("duration", 'd', &duration, "S", RTV_NS_PER_S, "how long to trace"),
	RTV_OPT_CPUS_DEF("cpus", 'c', &cpus, "LIST", "the RT CPUs whose occupants are recorded (default: all)"),
	RTV_OPT_DURATION_DEF("min-occupant", 0, &min_occ, "US", RTV_NS_PER_US, "shortest task or softirq run recorded on those CPUs"),
	RTV_OPT_INT_DEF("slowest", 'k', &topk, "K", 1, RTV_STAGES_TOPK_MAX, "round trips whose CPU occupants are listed"),
	RTV_OPT_STRING_DEF("json", 'j', &json_path, "FILE", "write the stages and blockers as JSON too"),
	RTV_OPT_STRING_DEF("points", 0, &points_path, "FILE", "write every followed datagram's points, one line each: DIR SEQ POINT@NS ..."),
	RTV_OPT_END_DEF,
};

const struct rtv_cmd_mode cmd_trace_modes[] = {
	{ NULL, usage_str, opts },
	{ NULL, NULL, NULL },
};

/* The namespace's inode: a name under /run/netns or a path. */
static int netns_inode(const char *ns, uint32_t *ino)
{
	char path[512];
	struct stat st;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "%s/%s", RTV_NETNS_DIR, ns);
	if (stat(path, &st))
		return -errno;
	*ino = (uint32_t)st.st_ino;
	return 0;
}

static int write_json(const struct rtv_stages_agg *a, int64_t t0_rt, int64_t t1_rt)
{
	json_t *conf = json_object(), *st = json_array(), *bl = json_array(), *po = json_array();
	json_t *cnt;
	json_t *root;
	int err;

	rtv_json_set_int(conf, "port", port);
	if (netns)
		rtv_json_set_str(conf, "netns", netns);
	rtv_json_set_num(conf, "duration_s", (double)duration / 1e9);
	rtv_json_set_num(conf, "min_occupant_us", (double)min_occ / 1e3);
	rtv_stages_agg_json(a, NULL, st, bl);
	rtv_stages_agg_polls_json(a, NULL, po);
	cnt = rtv_stages_agg_counts_json(a);
	root = rtv_json_doc(rtv_json_meta_new(rtv_argc, rtv_argv, t0_rt, t1_rt), conf, "stages", st,
			    "blockers", bl, "polls", po, "counts", cnt, NULL);
	err = rtv_json_write_file(root, json_path);
	json_decref(root);
	return err;
}

int cmd_trace(int argc, char **argv)
{
	struct rtv_stages_cfg cfg = { 0 };
	struct rtv_stages *s = NULL;
	FILE *points = NULL;
	char why[256];
	int64_t t0_rt, end;
	int err, rc = RTV_EXIT_FAIL;
	bool done;

	CPU_ZERO(&cpus);
	err = rtv_cli_parse_noargs(opts, usage_str, argc, argv, &done);
	if (err || done)
		return err;
	if (!port) {
		rtv_cli_error("option '--port' is required");
		return RTV_EXIT_USAGE;
	}
	if (duration <= 0) {
		rtv_cli_error("option '--duration': must be more than 0");
		return RTV_EXIT_USAGE;
	}
	cfg.port = (uint16_t)port;
	cfg.rt_cpus = cpus;
	cfg.min_occ_ns = min_occ > 0 ? min_occ : 1;
	cfg.topk = (int)topk;
	if (netns) {
		err = netns_inode(netns, &cfg.netns_ino);
		if (err < 0) {
			rtv_cli_error("option '--netns': no network namespace '%s': %s", netns,
				      strerror(-err));
			return RTV_EXIT_USAGE;
		}
	}
	if (points_path) {
		points = fopen(points_path, "we");
		if (!points) {
			rtv_cli_error("cannot write '%s': %s", points_path, strerror(errno));
			return RTV_EXIT_FAIL;
		}
	}
	if (rtv_cli_catch_signals())
		goto out;
	err = rtv_stages_open(&s, &cfg, why, sizeof(why));
	if (err < 0) {
		rtv_cli_error("cannot trace: %s", why[0] ? why : strerror(-err));
		goto out;
	}
	rtv_stages_agg_set_points_file(rtv_stages_agg_of(s), points);
	t0_rt = rtv_realtime_ns();
	rtv_stages_mark(s, rtv_now_ns());
	rtv_cli_info("tracing UDP port %lld for %.1f s", port, (double)duration / 1e9);
	end = rtv_now_ns() + duration;
	while (!rtv_cli_stop && rtv_now_ns() < end) {
		int64_t left_ms = (end - rtv_now_ns()) / RTV_NS_PER_MS;

		err = rtv_stages_poll(s, (int)(left_ms < 50 ? (left_ms > 0 ? left_ms : 1) : 50));
		if (err < 0) {
			rtv_cli_error("cannot read the trace: %s", strerror(-err));
			goto out;
		}
	}
	rtv_stages_poll(s, 0);
	rtv_stages_agg_flush(rtv_stages_agg_of(s));
	rtv_stages_agg_write(stdout, rtv_stages_agg_of(s), NULL);
	if (json_path) {
		err = write_json(rtv_stages_agg_of(s), t0_rt, rtv_realtime_ns());
		if (err < 0) {
			rtv_cli_error("cannot write '%s': %s", json_path, strerror(-err));
			goto out;
		}
	}
	rc = rtv_cli_stop ? RTV_EXIT_FAIL : RTV_EXIT_OK;
	if (rtv_cli_stop)
		rtv_cli_error("interrupted: the trace so far is above");
out:
	rtv_stages_free(s);
	if (points && fclose(points) && rc == RTV_EXIT_OK) {
		rtv_cli_error("cannot write '%s': %s", points_path, strerror(errno));
		rc = RTV_EXIT_FAIL;
	}
	return rc;
}
