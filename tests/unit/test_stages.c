/* Unit tests for lib/probe/stages.c's aggregator, on synthetic events: a
 * round trip's stages have the exact durations of its points, in path
 * order; a delay in one stage shows there and nowhere else; points out of
 * time order are counted and kept out; the slowest round trips list the
 * occupants that overlapped their waits; merging adds up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "probe/stages.h"

#define US INT64_C(1000)

struct gen {
	struct rtv_stages_agg *a;
	uint64_t tag;
};

static void ev(struct gen *g, uint32_t kind, int64_t ts, uint64_t skb, uint64_t seq, bool rep,
	       uint32_t cpu, uint32_t pid, const char *dev)
{
	struct rtv_stg_event e = { .ts = (uint64_t)ts, .skb = skb, .tag = g->tag, .seq = seq,
				   .kind = kind, .cpu = cpu, .pid = pid,
				   .aux = rep ? RTV_STG_REPLY : 0 };

	if (dev)
		snprintf(e.dev, sizeof(e.dev), "%s", dev);
	snprintf(e.comm, sizeof(e.comm), "netrt");
	if (kind == RTV_STG_RET || kind == RTV_STG_WAKE || kind == RTV_STG_RUN)
		e.tag = kind == RTV_STG_RET ? g->tag : 0, e.skb = kind == RTV_STG_RET ? 0 : skb;
	if (kind == RTV_STG_WAKE || kind == RTV_STG_RUN)
		e.seq = 0;
	rtv_stages_agg_add(g->a, &e);
}

static void occ(struct gen *g, uint32_t kind, int64_t t0, int64_t t1, uint32_t cpu, uint32_t pid,
		const char *comm, uint32_t vec)
{
	struct rtv_stg_event e = { .ts = (uint64_t)t1, .t2 = (uint64_t)t0, .kind = kind,
				   .cpu = cpu, .pid = pid, .aux = vec << 8 };

	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	rtv_stages_agg_add(g->a, &e);
}

/* One round trip at t (ns), the server's wake-up to run taking wait_ns, the
 * server's reply after srv_ns. Points: client send, xmit c0, rx h0, xmit b0,
 * rx s0, wake, run, ret; then the reply back likewise (no wake). */
static void round_trip(struct gen *g, int64_t t, uint64_t seq, int64_t wait_ns, int64_t srv_ns)
{
	uint64_t skb = 0x1000 + seq * 0x100, rskb = 0x9000 + seq * 0x100;

	ev(g, RTV_STG_SEND, t, skb, seq, false, 0, 10, NULL);
	ev(g, RTV_STG_XMIT, t + 10 * US, skb, seq, false, 0, 10, "c0");
	ev(g, RTV_STG_RX, t + 13 * US, skb, seq, false, 0, 10, "h0");
	ev(g, RTV_STG_XMIT, t + 20 * US, skb, seq, false, 0, 10, "b0");
	ev(g, RTV_STG_RX, t + 21 * US, skb, seq, false, 1, 10, "s0");
	ev(g, RTV_STG_WAKE, t + 25 * US, skb, seq, false, 1, 20, NULL);
	ev(g, RTV_STG_RUN, t + 25 * US + wait_ns, skb, seq, false, 1, 20, NULL);
	ev(g, RTV_STG_RET, t + 35 * US + wait_ns, 0, seq, false, 1, 20, NULL);
	t += 35 * US + wait_ns + srv_ns;
	ev(g, RTV_STG_SEND, t, rskb, seq, true, 1, 20, NULL);
	ev(g, RTV_STG_XMIT, t + 8 * US, rskb, seq, true, 1, 20, "s0");
	ev(g, RTV_STG_RX, t + 10 * US, rskb, seq, true, 1, 20, "b0");
	ev(g, RTV_STG_XMIT, t + 14 * US, rskb, seq, true, 1, 20, "h0");
	ev(g, RTV_STG_RX, t + 15 * US, rskb, seq, true, 0, 20, "c0");
	ev(g, RTV_STG_RET, t + 40 * US, 0, seq, true, 0, 10, NULL);
}

static int64_t p50(const struct rtv_stages_agg *a, const char *name)
{
	const struct rtv_hist *h = rtv_stages_agg_find(a, name);

	assert_non_null(h);
	return rtv_hist_percentile(h, 50);
}

static void test_stages_exact(void **state)
{
	struct gen g = { .tag = 0xabcdef };
	struct rtv_stages_counts n;
	static const char *const order[] = {
		"req send>xmit:c0", "req xmit:c0>rx:h0", "req rx:h0>xmit:b0", "req xmit:b0>rx:s0",
		"req rx:s0>wake", "req wake>run", "req run>ret", "req total", "srv",
		"rep send>xmit:s0", "rep xmit:s0>rx:b0", "rep rx:b0>xmit:h0", "rep xmit:h0>rx:c0",
		"rep rx:c0>ret", "rep total", "rtt",
	};

	(void)state;
	assert_int_equal(rtv_stages_agg_new(&g.a, 2, 3), 0);
	for (uint64_t s = 0; s < 10; s++)
		round_trip(&g, INT64_C(1000000000) + (int64_t)s * 1000 * US, s, 7 * US, 3 * US);
	rtv_stages_agg_counts(g.a, &n);
	assert_int_equal(n.complete, 20);
	assert_int_equal(n.paired, 10);
	assert_int_equal(n.nonmonotone, 0);
	assert_int_equal(n.incomplete, 0);
	assert_int_equal(n.unjoined, 0);
	assert_int_equal(rtv_stages_agg_nstages(g.a), (int)(sizeof(order) / sizeof(order[0])));
	for (int i = 0; i < (int)(sizeof(order) / sizeof(order[0])); i++)
		assert_string_equal(rtv_stages_agg_name(g.a, i), order[i]);
	assert_int_equal(p50(g.a, "req send>xmit:c0"), 10 * US);
	assert_int_equal(p50(g.a, "req wake>run"), 7 * US);
	assert_int_equal(p50(g.a, "req run>ret"), 10 * US);
	assert_int_equal(p50(g.a, "srv"), 3 * US);
	assert_int_equal(p50(g.a, "rep rx:c0>ret"), 25 * US);
	assert_int_equal(p50(g.a, "req total"), 42 * US);
	assert_int_equal(p50(g.a, "rtt"), 42 * US + 3 * US + 40 * US);
	assert_int_equal(rtv_stages_agg_find(g.a, "req total")->count, 10);
	rtv_stages_agg_free(g.a);
}

/* A delay in one stage (the server's wake-up to run, or its reply) moves
 * that stage only. */
static void test_stages_delay_one_stage(void **state)
{
	struct gen g = { .tag = 7 }, h = { .tag = 7 };

	(void)state;
	assert_int_equal(rtv_stages_agg_new(&g.a, 2, 3), 0);
	assert_int_equal(rtv_stages_agg_new(&h.a, 2, 3), 0);
	for (uint64_t s = 0; s < 20; s++) {
		round_trip(&g, INT64_C(1000000000) + (int64_t)s * 2000 * US, s, 7 * US, 3 * US);
		round_trip(&h, INT64_C(1000000000) + (int64_t)s * 2000 * US, s, 7 * US, 503 * US);
	}
	for (int i = 0; i < rtv_stages_agg_nstages(g.a); i++) {
		const char *name = rtv_stages_agg_name(g.a, i);
		int64_t d = p50(h.a, name) - p50(g.a, name);

		if (!strcmp(name, "srv") || !strcmp(name, "rtt"))
			assert_in_range(d, 499 * US, 501 * US);
		else
			assert_int_equal(d, 0);
	}
	rtv_stages_agg_free(g.a);
	rtv_stages_agg_free(h.a);
}

static void test_stages_nonmonotone_and_unjoined(void **state)
{
	struct gen g = { .tag = 1 };
	struct rtv_stages_counts n;
	FILE *pts = tmpfile();
	char line[512];

	(void)state;
	assert_non_null(pts);
	assert_int_equal(rtv_stages_agg_new(&g.a, 1, 1), 0);
	rtv_stages_agg_set_points_file(g.a, pts);
	/* rx before its xmit */
	ev(&g, RTV_STG_SEND, 1000 * US, 0x10, 5, false, 0, 1, NULL);
	ev(&g, RTV_STG_XMIT, 1010 * US, 0x10, 5, false, 0, 1, "a");
	ev(&g, RTV_STG_RX, 1005 * US, 0x10, 5, false, 0, 1, "b");
	ev(&g, RTV_STG_RET, 1020 * US, 0, 5, false, 0, 1, NULL);
	/* a wake-up and a return of nothing open */
	ev(&g, RTV_STG_WAKE, 1030 * US, 0x77, 0, false, 0, 1, NULL);
	ev(&g, RTV_STG_RET, 1040 * US, 0, 99, false, 0, 1, NULL);
	rtv_stages_agg_counts(g.a, &n);
	assert_int_equal(n.complete, 1);
	assert_int_equal(n.nonmonotone, 1);
	assert_int_equal(n.unjoined, 2);
	assert_null(rtv_stages_agg_find(g.a, "req total"));
	rewind(pts);
	assert_non_null(fgets(line, sizeof(line), pts));
	assert_string_equal(line, "req 5 send@1000000 xmit:a@1010000 rx:b@1005000 ret@1020000\n");
	/* a datagram never returned is given up after RTV_STAGES_OPEN_NS */
	ev(&g, RTV_STG_SEND, 2000 * US, 0x20, 6, false, 0, 1, NULL);
	ev(&g, RTV_STG_SEND, 2000 * US + RTV_STAGES_OPEN_NS + 1, 0x30, 7, false, 0, 1, NULL);
	rtv_stages_agg_counts(g.a, &n);
	assert_int_equal(n.incomplete, 1);
	/* one that left the traced host: its stages so far count at a flush,
	 * its total does not */
	ev(&g, RTV_STG_SEND, 2500 * US + RTV_STAGES_OPEN_NS, 0x40, 8, true, 0, 1, NULL);
	ev(&g, RTV_STG_XMIT, 2507 * US + RTV_STAGES_OPEN_NS, 0x40, 8, true, 0, 1, "eth0");
	rtv_stages_agg_flush(g.a);
	rtv_stages_agg_counts(g.a, &n);
	assert_int_equal(n.incomplete, 3); /* 6, then 7 and 8 at the flush */
	assert_int_equal(p50(g.a, "rep send>xmit:eth0"), 7 * US);
	assert_null(rtv_stages_agg_find(g.a, "rep total"));
	/* reset: what came before since is neither recorded nor counted */
	rtv_stages_agg_reset(g.a, 3000 * US + RTV_STAGES_OPEN_NS);
	ev(&g, RTV_STG_SEND, 2900 * US + RTV_STAGES_OPEN_NS, 0x50, 9, false, 0, 1, NULL);
	ev(&g, RTV_STG_RET, 3000 * US + RTV_STAGES_OPEN_NS, 0, 9, false, 0, 1, NULL);
	rtv_stages_agg_counts(g.a, &n);
	assert_int_equal(n.complete, 0);
	rtv_stages_agg_free(g.a);
	fclose(pts);
}

static void test_stages_blockers(void **state)
{
	struct gen g = { .tag = 3 };
	struct rtv_stages_blocker b[8];
	const int64_t t = INT64_C(5000000000);
	int n;

	(void)state;
	assert_int_equal(rtv_stages_agg_new(&g.a, 2, 1), 0);
	/* a fast round trip, then a slow one whose server waited 300 µs to run
	 * on CPU 1 while a hog ran there 250 µs of it and a NET_RX softirq 40 */
	round_trip(&g, t, 1, 5 * US, 3 * US);
	occ(&g, RTV_STG_OCC, t + 10 * 1000 * US - 100 * US, t + 10 * 1000 * US + 275 * US, 1, 4242,
	    "hog", 0);
	occ(&g, RTV_STG_SIRQ, t + 10 * 1000 * US + 280 * US, t + 10 * 1000 * US + 320 * US, 1, 4242,
	    "hog", 3);
	occ(&g, RTV_STG_OCC, t + 10 * 1000 * US + 30 * US, t + 10 * 1000 * US + 200 * US, 0, 77,
	    "other-cpu", 0);
	round_trip(&g, t + 10 * 1000 * US, 2, 300 * US, 3 * US);
	n = rtv_stages_agg_blockers(g.a, b, 8);
	assert_int_equal(n, 3);
	assert_int_equal(b[0].seq, 2);
	assert_string_equal(b[0].stage, "req wake>run");
	assert_string_equal(b[0].comm, "hog");
	assert_string_equal(b[0].kind, "task");
	assert_int_equal(b[0].pid, 4242);
	assert_int_equal(b[0].cpu, 1);
	assert_int_equal(b[0].ns, 250 * US); /* 25 µs .. 275 µs */
	assert_string_equal(b[1].kind, "softirq:NET_RX");
	assert_int_equal(b[1].ns, 40 * US);
	/* and the hog during the request's wait to be polled on CPU 1 (20-21 µs);
	 * other-cpu ran on CPU 0 while nothing of this round trip waited there */
	assert_string_equal(b[2].stage, "req xmit:b0>rx:s0");
	assert_string_equal(b[2].comm, "hog");
	assert_int_equal(b[2].ns, 1 * US);
	assert_int_equal(b[0].rtt_ns, rtv_stages_agg_find(g.a, "rtt")->max_ns);

	/* merged into another: the slowest stays, counts add */
	struct rtv_stages_agg *m;
	struct rtv_stages_counts c;
	json_t *st = json_array(), *bl = json_array();

	assert_int_equal(rtv_stages_agg_new(&m, 2, 1), 0);
	rtv_stages_agg_merge(m, g.a);
	rtv_stages_agg_merge(m, g.a);
	rtv_stages_agg_counts(m, &c);
	assert_int_equal(c.paired, 4);
	assert_int_equal(rtv_stages_agg_find(m, "rtt")->count, 4);
	assert_int_equal(rtv_stages_agg_blockers(m, NULL, 0), 3);
	rtv_stages_agg_json(m, "vanilla", st, bl);
	assert_int_equal(json_array_size(st), (size_t)rtv_stages_agg_nstages(m));
	assert_int_equal(json_array_size(bl), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(bl, 0), "comm")), "hog");
	assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "method")),
			    "vanilla");
	json_decref(st);
	json_decref(bl);
	rtv_stages_agg_free(m);
	rtv_stages_agg_free(g.a);
}

static void test_stages_bad_args(void **state)
{
	struct rtv_stages_agg *a;
	struct rtv_stages *s;
	struct rtv_stages_cfg cfg = { .port = 0 };

	(void)state;
	assert_int_equal(rtv_stages_agg_new(&a, 0, 1), -EINVAL);
	assert_int_equal(rtv_stages_agg_new(&a, 1, 0), -EINVAL);
	assert_int_equal(rtv_stages_agg_new(&a, 1, RTV_STAGES_TOPK_MAX + 1), -EINVAL);
	assert_int_equal(rtv_stages_open(&s, &cfg, NULL, 0), -EINVAL);
	rtv_stages_free(NULL);
	rtv_stages_agg_free(NULL);
}

/* Who polled: each rx point counted by device and context (softirq bit,
 * then the polling thread's name), with its CPUs; merging adds up; a reset
 * forgets. */
static void test_polls(void **state)
{
	static const struct {
		const char *dev, *comm;
		uint32_t aux, cpu;
	} rx[] = {
		{ "s0", "napi/s0-12", 0, 1 },
		{ "s0", "napi/s0-12", 0, 1 },
		{ "s0", "rtv-sink", RTV_STG_SOFTIRQ, 0 },
		{ "s0", "ksoftirqd/1", RTV_STG_SOFTIRQ, 1 },
		{ "h0", "rtv-poll0", 0, 1 },
		{ "h0", "netrt", 0, 0 },
	};
	struct rtv_stages_agg *a, *b;
	struct rtv_stages_poll p[8];
	json_t *arr = json_array();

	(void)state;
	assert_int_equal(rtv_stages_agg_new(&a, 2, 3), 0);
	assert_int_equal(rtv_stages_agg_new(&b, 2, 3), 0);
	for (size_t i = 0; i < sizeof(rx) / sizeof(rx[0]); i++) {
		struct rtv_stg_event e = { .ts = 1000 + i, .skb = 0x100 + i, .kind = RTV_STG_RX,
					   .cpu = rx[i].cpu, .aux = rx[i].aux };

		snprintf(e.dev, sizeof(e.dev), "%s", rx[i].dev);
		snprintf(e.comm, sizeof(e.comm), "%s", rx[i].comm);
		rtv_stages_agg_add(a, &e);
	}
	assert_int_equal(rtv_stages_agg_polls(a, p, 8), 5);
	assert_string_equal(p[0].dev, "s0");
	assert_string_equal(p[0].context, "NAPI kthread");
	assert_int_equal(p[0].count, 2);
	assert_int_equal(p[0].cpus, 2); /* CPU 1 */
	assert_string_equal(p[1].context, "NET_RX softirq");
	assert_int_equal(p[1].cpus, 1);
	assert_string_equal(p[2].context, "ksoftirqd");
	assert_string_equal(p[3].dev, "h0");
	assert_string_equal(p[3].context, "poller");
	assert_string_equal(p[4].context, "thread");
	rtv_stages_agg_merge(b, a);
	rtv_stages_agg_merge(b, a);
	assert_int_equal(rtv_stages_agg_polls(b, p, 8), 5);
	assert_int_equal(p[0].count, 4);
	rtv_stages_agg_polls_json(b, "separate", arr);
	assert_int_equal(json_array_size(arr), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "cpus")), "1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "method")),
			    "separate");
	rtv_stages_agg_reset(b, 0);
	assert_int_equal(rtv_stages_agg_polls(b, NULL, 0), 0);
	json_decref(arr);
	rtv_stages_agg_free(a);
	rtv_stages_agg_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stages_exact),
		cmocka_unit_test(test_polls),
		cmocka_unit_test(test_stages_delay_one_stage),
		cmocka_unit_test(test_stages_nonmonotone_and_unjoined),
		cmocka_unit_test(test_stages_blockers),
		cmocka_unit_test(test_stages_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
