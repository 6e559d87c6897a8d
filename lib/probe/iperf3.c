/* The iperf3 probe: Debian's iperf3 (3.12) as the co-located bulk load
 * instead of rtvnet's own stream, the field's reference tool beside ours.
 * One `iperf3 -s -1` per stream pair in the stream server hosts, one client
 * per pair running a moment longer than the service's run; the metric is the
 * receivers' throughput iperf3 reports in its JSON (end.sum_received), which
 * covers the client's whole run rather than the measured window. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/journal.h"
#include "probe/probe.h"
#include "probe/stream.h"
#include "util/time.h"

struct iperf3_state {
	double gbit_s;                           /* first: rtv_stream_metrics[] reads it */
	int n;                                   /* pairs started */
	pid_t client[RTV_TESTBED_MAX_STREAMS];
	char path[RTV_TESTBED_MAX_STREAMS][128]; /* the clients' JSON */
};
_Static_assert(offsetof(struct iperf3_state, gbit_s) == 0, "the throughput comes first");

/* A child's argument (its own copy, taken as it forks). */
struct kid {
	struct rtv_pctx *c;
	int i;
};

static int iperf3_check(const void *cfg, char *why, size_t len)
{
	(void)cfg;
	if (system("command -v iperf3 >/dev/null 2>&1")) {
		snprintf(why, len, "iperf3 is not installed (apt-get install iperf3)");
		return -ENOENT;
	}
	return 0;
}

static void quiet(int both)
{
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0)
		return;
	if (both)
		dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

static int server_main(void *arg)
{
	const struct kid *k = arg;
	char port[16];

	snprintf(port, sizeof(port), "%d", RTV_STREAM_IPERF3_PORT);
	quiet(1);
	execlp("iperf3", "iperf3", "-s", "-1", "-B", k->c->tb->stream_server[k->i].addr,
	       "-p", port, (char *)NULL);
	return -errno;
}

static int client_main(void *arg)
{
	const struct kid *k = arg;
	const struct rtv_pctx *c = k->c;
	const struct iperf3_state *st = c->state;
	char port[16], secs[32];

	snprintf(port, sizeof(port), "%d", RTV_STREAM_IPERF3_PORT);
	/* runs out a moment after the service's client, then writes its JSON */
	snprintf(secs, sizeof(secs), "%.1f",
		 (double)(c->warmup_ns + c->duration_ns) / 1e9 + 0.5);
	quiet(0);
	execlp("iperf3", "iperf3", "-c", c->tb->stream_client[k->i].peer, "-p",
	       port, "-t", secs, "-J", "--logfile", st->path[k->i], (char *)NULL);
	return -errno;
}

static int iperf3_start(struct rtv_pctx *c)
{
	const struct rtv_stream_probe_cfg *cfg = c->cfg;
	const struct rtv_testbed *tb = c->tb;
	struct iperf3_state *st = c->state;
	int n = rtv_stream_probe_pairs(cfg), err;

	if (!tb || n > tb->nstreams)
		return -ENOENT;
	st->gbit_s = NAN;
	for (int i = 0; i < n; i++) {
		snprintf(st->path[i], sizeof(st->path[i]), "%s/iperf3-%d.json", RTV_JOURNAL_DIR, i);
		unlink(st->path[i]);
		struct kid k = { c, i };

		err = rtv_probe_spawn(c, &tb->stream_server[i], RTV_ROLE_STREAM_SERVER, server_main, &k,
				    NULL);
		if (err < 0)
			return err;
	}
	usleep(100000); /* the servers listening */
	for (int i = 0; i < n; i++) {
		struct kid k = { c, i };

		err = rtv_probe_spawn(c, &tb->stream_client[i], RTV_ROLE_STREAM_CLIENT, client_main, &k,
				    &st->client[i]);
		if (err < 0)
			return err;
		st->n = i + 1;
	}
	return 0;
}

/* iperf3 reports only when it ends by itself: let the clients finish. */
static void iperf3_stop(struct rtv_pctx *c)
{
	struct iperf3_state *st = c->state;
	int64_t deadline = rtv_now_ns() + 5 * RTV_NS_PER_S;

	for (int i = 0; i < st->n && !c->status; i++)
		while (rtv_probe_wait(c, st->client[i], NULL) == 0 && rtv_now_ns() < deadline)
			usleep(20000);
}

static double gbit_s_of(const char *path)
{
	json_t *root = json_load_file(path, 0, NULL), *v;
	double g = NAN;

	if (!root)
		return NAN;
	v = json_object_get(json_object_get(json_object_get(root, "end"), "sum_received"),
			    "bits_per_second");
	if (json_is_number(v))
		g = json_number_value(v) / 1e9;
	json_decref(root);
	return g;
}

static void iperf3_finish(struct rtv_pctx *c)
{
	struct iperf3_state *st = c->state;

	if (!st->n)
		return;
	st->gbit_s = 0;
	for (int i = 0; i < st->n; i++) {
		st->gbit_s += gbit_s_of(st->path[i]);
		unlink(st->path[i]);
	}
}

const struct rtv_probe rtv_probe_iperf3 = {
	.name = "iperf3",
	.summary = "bulk TCP by Debian's iperf3 across the testbed's stream pairs",
	.role = RTV_PROBE_LOAD,
	.metrics = rtv_stream_metrics, /* the same throughput as rtvnet's stream */
	.nmetrics = 1,
	.size = sizeof(struct iperf3_state),
	.check = iperf3_check,
	.start = iperf3_start,
	.stop = iperf3_stop,
	.finish = iperf3_finish,
};
