/* Unit tests for lib/probe/rfc2544's input: frame sizes and rates as the
 * command line gives them, their names, the configuration's checks (a share
 * of a throughput that is not searched, sockperf's point, a target), and the
 * series the probe measures. The trials themselves run in t1200. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <math.h>
#include <stdlib.h>

#include "experiment/rfc2544.h"
#include "probe/probe.h"
#include "probe/rfc2544.h"

static void test_sizes(void **state)
{
	unsigned s[RTV_RFC2544_MAX_SIZES];
	char err[256];
	int n = -1;

	(void)state;
	assert_int_equal(rtv_rfc2544_sizes_parse("64,128,1518", s, RTV_RFC2544_MAX_SIZES, &n, err,
						 sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s[0], 64);
	assert_int_equal(s[2], 1518);
	/* out of range, not numbers, repeated, too many, empty */
	static const char *const bad[] = { "63", "1519", "64,abc", "64,64", "", ",",
					   "64,128,256,512,1024,1280,1518,100,200" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(rtv_rfc2544_sizes_parse(bad[i], s, RTV_RFC2544_MAX_SIZES, &n, err,
							 sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	rtv_rfc2544_sizes_parse("63", s, RTV_RFC2544_MAX_SIZES, &n, err, sizeof(err));
	assert_non_null(strstr(err, "'63'"));
	rtv_rfc2544_sizes_parse("64,64", s, RTV_RFC2544_MAX_SIZES, &n, err, sizeof(err));
	assert_non_null(strstr(err, "twice"));
}

static void test_rates(void **state)
{
	struct rtv_rfc2544_rate r[RTV_RFC2544_MAX_RATES];
	char err[256], name[32];
	int n = -1;

	(void)state;
	assert_int_equal(rtv_rfc2544_rates_parse("10%,50%,100k,1M,250000,1.5M", r,
						 RTV_RFC2544_MAX_RATES, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 6);
	assert_true(r[0].pct && r[0].value == 10);
	assert_true(!r[2].pct && r[2].value == 100e3);
	assert_true(!r[3].pct && r[3].value == 1e6);
	assert_true(!r[4].pct && r[4].value == 250e3);
	assert_true(!r[5].pct && r[5].value == 1.5e6);
	rtv_rfc2544_rate_name(&r[0], name, sizeof(name));
	assert_string_equal(name, "10%");
	rtv_rfc2544_rate_name(&r[2], name, sizeof(name));
	assert_string_equal(name, "100kpps");
	rtv_rfc2544_rate_name(&r[3], name, sizeof(name));
	assert_string_equal(name, "1Mpps");
	rtv_rfc2544_rate_name(&r[5], name, sizeof(name));
	assert_string_equal(name, "1.5Mpps");
	static const char *const bad[] = { "0%", "101%", "-5%", "abc", "5%x", "10k%", "0",
					   "50%,50%", "1G", "", "1e9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(rtv_rfc2544_rates_parse(bad[i], r, RTV_RFC2544_MAX_RATES, &n, err,
							 sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
}

static void test_check(void **state)
{
	struct rtv_rfc2544_probe_cfg c;
	char err[256];

	(void)state;
	rtv_rfc2544_probe_cfg_init(&c);
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), 0);
	/* the defaults: 7 searches, then 3 sizes x 6 rates */
	assert_int_equal(rtv_rfc2544_nseries(&c), 7 + 3 * 6);
	assert_true(rtv_rfc2544_series_is_search(&c, 6));
	assert_false(rtv_rfc2544_series_is_search(&c, 7));
	assert_true(rtv_rfc2544_run_estimate_ns(&c) > 60LL * 1000000000);

	/* a share of a throughput that is not searched */
	c.nsizes = 1; /* 64 only; latency sizes 64, 512, 1518 at shares */
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "512-byte"));
	/* absolute rates need no search */
	c.nrates = 0;
	c.rates[c.nrates++] = (struct rtv_rfc2544_rate){ 100e3, false };
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), 0);
	/* sockperf's rate must be a latency point */
	c.sockperf = true;
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "50%"));
	c.sockperf_rate = (struct rtv_rfc2544_rate){ 100e3, false };
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), 0);
	/* targets */
	c.target = "192.0.2.7:7202";
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), 0);
	c.target = "[2001:db8::7]:7202";
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), 0);
	static const char *const bad[] = { "192.0.2.7", "192.0.2.7:0", "192.0.2.7:70000",
					   "host:7202", ":7202", "[]:7202" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.target = bad[i];
		assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "--target"));
	}
	c.target = NULL;
	/* bounds */
	c.min_pps = c.max_pps;
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), -EINVAL);
	c.min_pps = 1000;
	c.resolution_pct = 0;
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), -EINVAL);
	c.resolution_pct = 2;
	c.trial_ns = 1000;
	assert_int_equal(rtv_rfc2544_cfg_check(&c, err, sizeof(err)), -EINVAL);
}

static void test_series(void **state)
{
	const struct rtv_probe *p = rtv_probe_find("rfc2544");
	struct rtv_rfc2544_probe_cfg c;
	char err[256];

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->role, RTV_PROBE_SERVICE);
	rtv_rfc2544_probe_cfg_init(&c);
	assert_int_equal(rtv_rfc2544_sizes_parse("64,512", c.sizes, RTV_RFC2544_MAX_SIZES,
						 &c.nsizes, err, sizeof(err)), 0);
	assert_int_equal(rtv_rfc2544_sizes_parse("512", c.lat_sizes, RTV_RFC2544_MAX_SIZES,
						 &c.nlat_sizes, err, sizeof(err)), 0);
	assert_int_equal(rtv_rfc2544_rates_parse("50%,100k", c.rates, RTV_RFC2544_MAX_RATES,
						 &c.nrates, err, sizeof(err)), 0);
	assert_int_equal(p->nseries(&c), 4);
	assert_string_equal(p->series_name(&c, 0), "64B");
	assert_string_equal(p->series_name(&c, 1), "512B");
	assert_string_equal(p->series_name(&c, 2), "512B@50%");
	assert_string_equal(p->series_name(&c, 3), "512B@100kpps");
	assert_true(p->state_size(&c) >= p->series_off + 4 * p->series_size);
	assert_int_equal(p->check(&c, err, sizeof(err)), 0);
}

/* Summaries made by hand: arm a's metric key for series i is v. */
static void put(struct rtv_rfc2544 *r, struct rtv_sum *s, int a, int i, const char *key, double v)
{
	int m = rtv_exp_metric(&r->x, key);
	struct rtv_sum *row = &s[a * r->x.nseries + i];

	assert_true(m >= 0);
	row->nruns = 1;
	row->m[m] = (struct rtv_summary){ .n = 1, .mean = v, .min = v, .max = v };
}

static const struct rtv_rfc2544_claim *find(const struct rtv_rfc2544_claim *c, int n,
					     const char *what, const char *point)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(c[i].what, what) && !strcmp(c[i].point, point))
			return &c[i];
	return NULL;
}

/* The papers' claims judged on given summaries: KBP's (busypoll below
 * vanilla), EE-KBP's (hybrid within 1.3x busypoll, its CPU falling with the
 * rate), the sockperf cross-check; none when what it compares is missing. */
static void test_claims(void **state)
{
	struct rtv_rfc2544_cfg cfg;
	struct rtv_rfc2544 r;
	struct rtv_rfc2544_claim c[64];
	const struct rtv_rfc2544_claim *k;
	struct rtv_sum *s;
	char err[256];
	int n, ns;

	(void)state;
	rtv_rfc2544_cfg_init(&cfg);
	cfg.methods = "vanilla,busypoll,hybrid";
	assert_int_equal(rtv_rfc2544_sizes_parse("64", cfg.probe.sizes, 8, &cfg.probe.nsizes, err,
						 sizeof(err)), 0);
	assert_int_equal(rtv_rfc2544_sizes_parse("64", cfg.probe.lat_sizes, 8,
						 &cfg.probe.nlat_sizes, err, sizeof(err)), 0);
	assert_int_equal(rtv_rfc2544_rates_parse("10k,100k,50%", cfg.probe.rates, 8,
						 &cfg.probe.nrates, err, sizeof(err)), 0);
	if (rtv_rfc2544_init(&r, &cfg, err, sizeof(err)) < 0) {
		print_message("%s\n", err);
		skip(); /* a method that cannot run here (no busy poll) */
		return;
	}
	assert_int_equal(r.x.nseries, 4); /* 64B, 64B@10kpps, 64B@100kpps, 64B@50% */
	ns = 3 * r.x.nseries;
	s = calloc((size_t)ns, sizeof(*s));
	assert_non_null(s);
	for (int i = 0; i < ns; i++) {
		s[i].m = calloc((size_t)r.x.nmetrics, sizeof(*s[i].m));
		assert_non_null(s[i].m);
		for (int m = 0; m < r.x.nmetrics; m++)
			s[i].m[m] = (struct rtv_summary){ 0, NAN, NAN, NAN, NAN };
	}
	/* throughput: vanilla 100k, busypoll 250k */
	put(&r, s, 0, 0, "throughput_pps", 100e3);
	put(&r, s, 0, 0, "generator_bound", 0);
	put(&r, s, 1, 0, "throughput_pps", 250e3);
	/* at 10%: busypoll's max half vanilla's, p99.9 above it; hybrid 1.2x busypoll */
	put(&r, s, 0, 1, "max_us", 1000);
	put(&r, s, 1, 1, "max_us", 500);
	put(&r, s, 0, 1, "p999_us", 100);
	put(&r, s, 1, 1, "p999_us", 120);
	put(&r, s, 2, 1, "p999_us", 144);
	/* at 100%: hybrid 1.5x busypoll */
	put(&r, s, 1, 2, "p999_us", 100);
	put(&r, s, 2, 2, "p999_us", 150);
	/* hybrid's CPU: 20% at 10k pps, 100% at 100k */
	put(&r, s, 2, 1, "offered_pps", 10e3);
	put(&r, s, 2, 1, "dut_cpu_pct", 20);
	put(&r, s, 2, 2, "offered_pps", 100e3);
	put(&r, s, 2, 2, "dut_cpu_pct", 100);
	/* sockperf at 50%: vanilla 5% off, busypoll 20% */
	put(&r, s, 0, 3, "p50_vs_sockperf", 1.05);
	put(&r, s, 1, 3, "p50_vs_sockperf", 0.8);
	/* at 50% of each one's own throughput: not compared across methods */
	put(&r, s, 0, 3, "max_us", 1000);
	put(&r, s, 1, 3, "max_us", 500);
	put(&r, s, 1, 3, "p999_us", 100);
	put(&r, s, 2, 3, "p999_us", 100);

	n = rtv_rfc2544_claims(&r, s, ns, c, 64);
	k = find(c, n, "KBP throughput", "64B");
	assert_non_null(k);
	assert_true(k->met && fabs(k->value - 2.5) < 1e-9);
	k = find(c, n, "KBP max RTT", "64B@10kpps");
	assert_true(k && k->met && fabs(k->value - 0.5) < 1e-9);
	k = find(c, n, "KBP p99.9 RTT", "64B@10kpps");
	assert_true(k && !k->met && fabs(k->value - 1.2) < 1e-9);
	assert_null(find(c, n, "KBP max RTT", "64B@100kpps")); /* vanilla not measured there */
	k = find(c, n, "EE-KBP p99.9 RTT", "64B@10kpps");
	assert_true(k && k->met && fabs(k->value - 1.2) < 1e-9);
	k = find(c, n, "EE-KBP p99.9 RTT", "64B@100kpps");
	assert_true(k && !k->met && fabs(k->value - 1.5) < 1e-9);
	k = find(c, n, "EE-KBP CPU falls with rate", "64B");
	assert_true(k && k->met && fabs(k->value - 0.2) < 1e-9);
	assert_null(find(c, n, "KBP max RTT", "64B@50%"));
	assert_null(find(c, n, "EE-KBP p99.9 RTT", "64B@50%"));
	k = NULL;
	for (int i = 0; i < n; i++)
		if (!strcmp(c[i].what, "sockperf p50"))
			assert_true(c[i].met == !strcmp(c[i].arms, "vanilla"));
	/* a CPU that does not fall: missed */
	put(&r, s, 2, 1, "dut_cpu_pct", 100);
	n = rtv_rfc2544_claims(&r, s, ns, c, 64);
	k = find(c, n, "EE-KBP CPU falls with rate", "64B");
	assert_true(k && !k->met);
	/* vanilla at the generator's limit: no throughput claim */
	put(&r, s, 0, 0, "generator_bound", 1);
	n = rtv_rfc2544_claims(&r, s, ns, c, 64);
	assert_null(find(c, n, "KBP throughput", "64B"));
	rtv_exp_sums_free(s, ns);
	rtv_rfc2544_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
