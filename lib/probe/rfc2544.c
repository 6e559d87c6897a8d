/* RFC 2544 on the RT path: the probe; see rfc2544.h. */
#include "probe/rfc2544.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/cpuload.h"
#include "net/dropstat.h"
#include "net/netns.h"
#include "net/sockaddr.h"
#include "probe/probe.h"
#include "probe/service.h"
#include "probe/sockperf.h"
#include "probe/udpgen.h"
#include "util/file.h"
#include "util/json.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define RCVBUF_BYTES   (8 << 20)   /* the generator's: it must not be where packets drop */
#define READY_WAIT_NS  (5 * RTV_NS_PER_S)
#define SOCKPERF_EXTRA_NS (15 * RTV_NS_PER_S) /* its start and summary, beyond -t */

static inline int64_t min_ns(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static inline double min_d(double a, double b)
{
	return a < b ? a : b;
}

static const unsigned default_sizes[] = { 64, 128, 256, 512, 1024, 1280, 1518 };
static const unsigned default_lat_sizes[] = { 64, 512, 1518 };
static const struct rtv_rfc2544_rate default_rates[] = {
	{ 10, true }, { 50, true }, { 90, true }, { 100, true }, { 100e3, false }, { 1e6, false },
};

void rtv_rfc2544_probe_cfg_init(struct rtv_rfc2544_probe_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nsizes = (int)(sizeof(default_sizes) / sizeof(default_sizes[0]));
	memcpy(cfg->sizes, default_sizes, sizeof(default_sizes));
	cfg->nlat_sizes = (int)(sizeof(default_lat_sizes) / sizeof(default_lat_sizes[0]));
	memcpy(cfg->lat_sizes, default_lat_sizes, sizeof(default_lat_sizes));
	cfg->nrates = (int)(sizeof(default_rates) / sizeof(default_rates[0]));
	memcpy(cfg->rates, default_rates, sizeof(default_rates));
	cfg->trial_ns = 2 * RTV_NS_PER_S;
	cfg->residual_ns = 2 * RTV_NS_PER_S;
	cfg->settle_ns = 5 * RTV_NS_PER_S;
	cfg->min_pps = 1000;
	cfg->max_pps = 2e6;
	cfg->resolution_pct = 2;
	cfg->max_trials = 16;
	cfg->port = RTV_RFC2544_DEFAULT_PORT;
	cfg->sockperf_rate = (struct rtv_rfc2544_rate){ 50, true };
	cfg->sockperf_rx_cpu = -1;
	cfg->core_watts = 5;
}

/* ---- input ---- */

/* The comma-separated tokens of s, each to fn; the count into *n. */
static int each_token(const char *s, int max, int *n, char *err, size_t len, const char *what,
		      int (*fn)(const char *tok, int i, void *arg, char *err, size_t len), void *arg)
{
	char buf[256], *save = NULL;

	*n = 0;
	if (!s || !*s || strlen(s) >= sizeof(buf)) {
		snprintf(err, len, "'%s': expected a comma-separated list of %s", s ? s : "", what);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n >= max) {
			snprintf(err, len, "'%s': at most %d %s", s, max, what);
			return -EINVAL;
		}
		if (fn(t, *n, arg, err, len) < 0)
			return -EINVAL;
		(*n)++;
	}
	if (!*n) {
		snprintf(err, len, "'%s': no %s", s, what);
		return -EINVAL;
	}
	return 0;
}

static int size_token(const char *t, int i, void *arg, char *err, size_t len)
{
	unsigned *sizes = arg;
	long long v;

	if (rtv_parse_ll(t, RTV_RFC2544_MIN_FRAME, RTV_RFC2544_MAX_FRAME, &v) < 0) {
		snprintf(err, len, "frame size '%s': expected bytes from %d to %d (an Ethernet frame "
			 "with its FCS; the testbed's MTU is 1500)", t, RTV_RFC2544_MIN_FRAME,
			 RTV_RFC2544_MAX_FRAME);
		return -EINVAL;
	}
	for (int k = 0; k < i; k++)
		if (sizes[k] == (unsigned)v) {
			snprintf(err, len, "frame size %lld is listed twice", v);
			return -EINVAL;
		}
	sizes[i] = (unsigned)v;
	return 0;
}

int rtv_rfc2544_sizes_parse(const char *s, unsigned *sizes, int max, int *n, char *err,
			    size_t len)
{
	return each_token(s, max, n, err, len, "frame sizes", size_token, sizes);
}

static int rate_token(const char *t, int i, void *arg, char *err, size_t len)
{
	struct rtv_rfc2544_rate *r = (struct rtv_rfc2544_rate *)arg + i;
	char *end;
	double v;

	errno = 0;
	v = strtod(t, &end);
	r->pct = false;
	if (end != t && *end == '%' && !end[1]) {
		r->pct = true;
		if (!(v > 0 && v <= 100))
			goto bad;
	} else if (end != t && (!*end || ((*end == 'k' || *end == 'M') && !end[1]))) {
		v *= *end == 'k' ? 1e3 : *end == 'M' ? 1e6 : 1;
		if (!(v >= 1 && v <= 100e6))
			goto bad;
	} else {
		goto bad;
	}
	if (errno || !isfinite(v))
		goto bad;
	r->value = v;
	for (int k = 0; k < i; k++)
		if (r[-i + k].pct == r->pct && r[-i + k].value == v) {
			snprintf(err, len, "rate '%s' is listed twice", t);
			return -EINVAL;
		}
	return 0;
bad:
	snprintf(err, len, "rate '%s': expected a share of the throughput (1%% .. 100%%) or packets "
		 "per second (250000, 100k, 1M)", t);
	return -EINVAL;
}

int rtv_rfc2544_rates_parse(const char *s, struct rtv_rfc2544_rate *rates, int max, int *n,
			    char *err, size_t len)
{
	return each_token(s, max, n, err, len, "rates", rate_token, rates);
}

void rtv_rfc2544_rate_name(const struct rtv_rfc2544_rate *r, char *buf, size_t len)
{
	if (r->pct)
		snprintf(buf, len, "%g%%", r->value);
	else if (r->value >= 1e6 && fmod(r->value, 1e5) == 0)
		snprintf(buf, len, "%gMpps", r->value / 1e6);
	else if (r->value >= 1e3 && fmod(r->value, 100) == 0)
		snprintf(buf, len, "%gkpps", r->value / 1e3);
	else
		snprintf(buf, len, "%gpps", r->value);
}

static bool size_searched(const struct rtv_rfc2544_probe_cfg *cfg, unsigned size)
{
	for (int i = 0; i < cfg->nsizes; i++)
		if (cfg->sizes[i] == size)
			return true;
	return false;
}

int rtv_rfc2544_nseries(const struct rtv_rfc2544_probe_cfg *cfg)
{
	return cfg->nsizes + cfg->nlat_sizes * cfg->nrates;
}

bool rtv_rfc2544_series_is_search(const struct rtv_rfc2544_probe_cfg *cfg, int i)
{
	return i < cfg->nsizes;
}

/* Latency point (size j, rate k)'s series. */
static int lat_series(const struct rtv_rfc2544_probe_cfg *cfg, int j, int k)
{
	return cfg->nsizes + j * cfg->nrates + k;
}

/* The latency point sockperf runs at: the first latency size's, or -1. */
static int sockperf_series(const struct rtv_rfc2544_probe_cfg *cfg)
{
	for (int k = 0; k < cfg->nrates; k++)
		if (cfg->rates[k].pct == cfg->sockperf_rate.pct &&
		    cfg->rates[k].value == cfg->sockperf_rate.value)
			return lat_series(cfg, 0, k);
	return -1;
}

static int target_parse(const char *t, char *host, size_t len, uint16_t *port);

int rtv_rfc2544_cfg_check(const struct rtv_rfc2544_probe_cfg *cfg, char *err, size_t len)
{
	char r[32], host[64];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;

	if (cfg->target && (target_parse(cfg->target, host, sizeof(host), &port) < 0 ||
			    rtv_sockaddr_parse(host, port, &ss, &sl) < 0)) {
		snprintf(err, len, "option '--target': '%s' is not a numeric ADDR:PORT "
			 "(192.0.2.7:7202, [2001:db8::7]:7202)", cfg->target);
		return -EINVAL;
	}

	if (cfg->nsizes < 1 || cfg->nsizes > RTV_RFC2544_MAX_SIZES || cfg->nlat_sizes < 0 ||
	    cfg->nlat_sizes > RTV_RFC2544_MAX_SIZES || cfg->nrates < 0 ||
	    cfg->nrates > RTV_RFC2544_MAX_RATES) {
		snprintf(err, len, "between 1 and %d frame sizes, and at most %d rates",
			 RTV_RFC2544_MAX_SIZES, RTV_RFC2544_MAX_RATES);
		return -EINVAL;
	}
	for (int j = 0; j < cfg->nlat_sizes; j++)
		for (int k = 0; k < cfg->nrates; k++)
			if (cfg->rates[k].pct && !size_searched(cfg, cfg->lat_sizes[j])) {
				rtv_rfc2544_rate_name(&cfg->rates[k], r, sizeof(r));
				snprintf(err, len, "latency at %s of %u-byte frames' throughput needs "
					 "that size among the searched ones (--sizes)", r,
					 cfg->lat_sizes[j]);
				return -EINVAL;
			}
	if (!(cfg->min_pps >= 1 && cfg->max_pps > cfg->min_pps && cfg->max_pps <= 100e6)) {
		snprintf(err, len, "the search's bounds: --min-rate %g must be at least 1 and below "
			 "--max-rate %g (at most 100M)", cfg->min_pps, cfg->max_pps);
		return -EINVAL;
	}
	if (!(cfg->resolution_pct > 0 && cfg->resolution_pct < 100) || cfg->max_trials < 1 ||
	    cfg->max_trials > RTV_RFC2544_MAX_TRIALS - 1) {
		snprintf(err, len, "--resolution must be in (0, 100) %% and --max-trials 1..%d",
			 RTV_RFC2544_MAX_TRIALS - 1);
		return -EINVAL;
	}
	if (cfg->trial_ns < 100 * RTV_NS_PER_MS || cfg->residual_ns < 0 || cfg->settle_ns < 0) {
		snprintf(err, len, "a trial lasts at least 0.1 s");
		return -EINVAL;
	}
	if (cfg->max_pps * ((double)cfg->trial_ns / 1e9) > 2e9) {
		snprintf(err, len, "--max-rate x --trial is above 2e9 packets per trial");
		return -EINVAL;
	}
	if (cfg->sockperf && (!cfg->nlat_sizes || sockperf_series(cfg) < 0)) {
		rtv_rfc2544_rate_name(&cfg->sockperf_rate, r, sizeof(r));
		snprintf(err, len, "--sockperf runs at the first latency size and %s, which is not "
			 "among the latency rates (--rates)", r);
		return -EINVAL;
	}
	return 0;
}

int64_t rtv_rfc2544_run_estimate_ns(const struct rtv_rfc2544_probe_cfg *cfg)
{
	int64_t per = cfg->trial_ns + cfg->residual_ns + cfg->settle_ns;
	/* a search: the limit, hi, then about log2(range / resolution) bisections */
	double steps = 2 + ceil(log2(100.0 / cfg->resolution_pct));
	double n = cfg->nsizes * steps + cfg->nlat_sizes * cfg->nrates;

	return (int64_t)(n * (double)per) +
	       (cfg->sockperf ? cfg->trial_ns + SOCKPERF_EXTRA_NS : 0);
}

/* ---- the probe's state ---- */

struct rfc_state {
	struct rtv_svc_state svc;       /* stop, placed (sockperf's server) */
	struct rtv_udpgen_refl_stats refl;
	pid_t refl_pid;
	/* where the generator is, for the progress line */
	int cur_series, cur_trial;
	int64_t cur_rate;               /* packets per second */
	int gen_err;
	char why[160];                  /* the generator's failure */
	struct rtv_rfc2544_point pt[];  /* the series */
};

static size_t rfc_state_size(const void *cfgp)
{
	return sizeof(struct rfc_state) +
	       (size_t)rtv_rfc2544_nseries(cfgp) * sizeof(struct rtv_rfc2544_point);
}

static int rfc_nseries(const void *cfgp)
{
	return rtv_rfc2544_nseries(cfgp);
}

static const char *rfc_series_name(const void *cfgp, int i)
{
	const struct rtv_rfc2544_probe_cfg *cfg = cfgp;
	static char names[RTV_RFC2544_MAX_SIZES * (RTV_RFC2544_MAX_RATES + 1)][32];
	char r[24];

	if (i < 0 || i >= rtv_rfc2544_nseries(cfg) || i >= (int)(sizeof(names) / sizeof(names[0])))
		return "?";
	if (i < cfg->nsizes) {
		snprintf(names[i], sizeof(names[i]), "%uB", cfg->sizes[i]);
	} else {
		int j = (i - cfg->nsizes) / cfg->nrates, k = (i - cfg->nsizes) % cfg->nrates;

		rtv_rfc2544_rate_name(&cfg->rates[k], r, sizeof(r));
		snprintf(names[i], sizeof(names[i]), "%uB@%s", cfg->lat_sizes[j], r);
	}
	return names[i];
}

/* ---- the generator's side: drops and CPU around a trial ---- */

struct snap {
	struct rtv_dropstat rts, rtc, host;
	uint64_t softnet, squeezed;
	struct rtv_cpuload_snap cpu;
	int64_t self_cpu_ns;
	bool have_cpu;
};

struct gen {
	struct rtv_pctx *c;
	const struct rtv_rfc2544_probe_cfg *cfg;
	struct rfc_state *st;
	struct rtv_udpgen *g;
	int fd, family, self_ns, host_ns;
	char rts_proc[32];
	uint32_t tag;
	bool first;
	struct snap a, b;
};

static int64_t self_cpu_ns(void)
{
	struct timespec ts;

	return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) ? 0 : rtv_ts_to_ns(&ts);
}

/* The host namespace's counters: entered and left again (this process has
 * one thread). */
static void read_host(struct gen *g, struct rtv_dropstat *d)
{
	memset(d, 0, sizeof(*d));
	if (g->host_ns < 0 || g->self_ns < 0 || setns(g->host_ns, CLONE_NEWNET))
		return;
	(void)rtv_dropstat_read("/proc/self", d);
	if (setns(g->self_ns, CLONE_NEWNET))
		g->host_ns = -1; /* cannot happen; never again */
}

static void take(struct gen *g, struct snap *s)
{
	memset(&s->rts, 0, sizeof(s->rts));
	if (g->rts_proc[0])
		(void)rtv_dropstat_read(g->rts_proc, &s->rts);
	if (rtv_dropstat_read("/proc/self", &s->rtc) < 0)
		memset(&s->rtc, 0, sizeof(s->rtc));
	read_host(g, &s->host);
	if (rtv_softnet_read("/proc/net/softnet_stat", &s->softnet, &s->squeezed) < 0)
		s->softnet = s->squeezed = 0;
}

/* CPU use: every CPU's, and the generator's own; over the sending only,
 * not the residual phase, which would dilute it when packets were lost.
 * Cheap (/proc/stat and a clock): the last replies wait for it. */
static void take_cpu_at(struct gen *g, struct snap *s)
{
	memset(&s->cpu, 0, sizeof(s->cpu));
	s->have_cpu = g->c->tb && !rtv_cpuload_snap_cpus(&s->cpu);
	s->self_cpu_ns = self_cpu_ns();
}

static void take_cpu(void *arg)
{
	struct gen *g = arg;

	take_cpu_at(g, &g->b);
}

#define D(f) (b->f >= a->f ? b->f - a->f : 0)

static void account(struct gen *g, const struct snap *a, const struct snap *b,
		    struct rtv_rfc2544_trial *t)
{
	struct rtv_rfc2544_drops *d = &t->drops;

	d->rts_dev = D(rts.rx_dropped) + D(rts.tx_dropped);
	d->rts_rcvbuf = D(rts.udp_rcvbuf_errors);
	d->rts_inerr = D(rts.udp_in_errors);
	d->rtc_dev = D(rtc.rx_dropped) + D(rtc.tx_dropped);
	d->rtc_rcvbuf = D(rtc.udp_rcvbuf_errors);
	d->rtc_inerr = D(rtc.udp_in_errors);
	d->host_dev = D(host.rx_dropped) + D(host.tx_dropped);
	d->softnet = D(softnet);
	d->squeezed = D(squeezed);
	t->dut_cpu_pct = t->rt_cpu_pct = NAN;
	if (a->have_cpu && b->have_cpu) {
		struct rtv_cpuload l;
		double wall = (double)(b->cpu.t_ns - a->cpu.t_ns), rt = 0;

		rtv_cpuload_diff(&a->cpu, &b->cpu, &l);
		for (int i = 0; i < l.ncpus && i < RTV_CPUS_MAX; i++)
			if (CPU_ISSET(i, &g->cfg->rt_cpus))
				rt += l.cpu_busy_pct[i];
		t->rt_cpu_pct = rt;
		/* every CPU's busy time but the generator's own (it stands for
		 * an external tester) */
		t->dut_cpu_pct = l.busy_pct * l.ncpus -
				 (wall > 0 ? 100.0 * (double)(b->self_cpu_ns - a->self_cpu_ns) / wall : 0);
		if (t->dut_cpu_pct < 0)
			t->dut_cpu_pct = 0;
	}
}

#undef D

static bool stopped(const struct gen *g)
{
	return rtv_stop_read(&g->st->svc.stop);
}

/* One trial at rate with frame bytes: the RFC's wait before it, then the
 * counters around it. 0 or -errno (-EINTR when stopped). */
static int trial(struct gen *g, unsigned frame, double rate, struct rtv_hist *rtt,
		 struct rtv_rfc2544_trial *t)
{
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg uc;
	int64_t until;
	int err;

	memset(t, 0, sizeof(*t));
	if (!g->first) {
		until = rtv_now_ns() + g->cfg->settle_ns;
		while (rtv_now_ns() < until && !stopped(g))
			rtv_sleep_until_ns(min_ns(until, rtv_now_ns() + 100 * RTV_NS_PER_MS));
	}
	g->first = false;
	if (stopped(g))
		return -EINTR;
	__atomic_store_n(&g->st->cur_rate, (int64_t)rate, __ATOMIC_RELAXED);
	uc = (struct rtv_udpgen_cfg){ .fd = g->fd, .rate_pps = rate,
				      .payload = (size_t)rtv_udpgen_payload(frame, g->family),
				      .duration_ns = g->cfg->trial_ns,
				      .residual_ns = g->cfg->residual_ns, .tag = ++g->tag, .rtt = rtt };
	uc.sent = take_cpu;
	uc.sent_arg = g;
	g->b.have_cpu = false; /* until the sending ends */
	take(g, &g->a);
	take_cpu_at(g, &g->a);
	err = rtv_udpgen_trial(g->g, &uc, &g->st->svc.stop, &r);
	take(g, &g->b); /* drops after the residual phase; CPU at the sending's end */
	account(g, &g->a, &g->b, t);
	if (err < 0)
		return err;
	if (stopped(g))
		return -EINTR;
	t->rate_pps = rate;
	t->offered_pps = r.offered_pps;
	t->sent = r.sent;
	t->received = r.received;
	t->lost = r.lost;
	t->dups = r.dups;
	t->reordered = r.reordered;
	t->stray = r.stray;
	t->send_errors = r.send_errors;
	t->gen_rx_drops = r.rx_drops;
	t->lag_max_ns = r.lag_max_ns;
	return 0;
}

/* A trial kept in the point's list (the last slot is overwritten when full). */
static struct rtv_rfc2544_trial *next_trial(struct rtv_rfc2544_point *p)
{
	int i = p->ntrials < RTV_RFC2544_MAX_TRIALS ? p->ntrials++ : RTV_RFC2544_MAX_TRIALS - 1;

	return &p->trial[i];
}

struct search_arg {
	struct gen *g;
	struct rtv_rfc2544_point *p;
	unsigned frame;
	double best_offered; /* the offered rate of the best passing trial */
};

static int search_trial(double rate, void *argp)
{
	struct search_arg *a = argp;
	struct rtv_rfc2544_trial *t = next_trial(a->p);
	int err;

	__atomic_store_n(&a->g->st->cur_trial, a->p->ntrials, __ATOMIC_RELAXED);
	err = trial(a->g, a->frame, rate, NULL, t);
	if (err < 0)
		return err;
	if (t->lost || t->dups) /* zero loss, and nothing the path made up */
		return 1;
	if (t->offered_pps > a->best_offered)
		a->best_offered = t->offered_pps;
	return 0;
}

/* Step 1 for frame size i: the generator's limit, then the search. */
static int search(struct gen *g, int i)
{
	struct rtv_rfc2544_point *p = &g->st->pt[i];
	struct search_arg a = { g, p, g->cfg->sizes[i], 0 };
	struct rtv_udpgen_search s;
	struct rtv_rfc2544_trial *t = next_trial(p);
	double best = 0;
	int err, n = 0;

	__atomic_store_n(&g->st->cur_trial, 1, __ATOMIC_RELAXED);
	err = trial(g, a.frame, g->cfg->max_pps, NULL, t);
	if (err < 0)
		return err;
	p->limit_pps = t->offered_pps;
	if (!t->lost && !t->dups) {
		best = a.best_offered = t->offered_pps;
		p->gen_bound = 1;
		snprintf(p->note, sizeof(p->note), "no loss at the generator's limit: the path may "
			 "take more");
	} else {
		p->gen_bound = 0;
		s = (struct rtv_udpgen_search){ .lo_pps = min_d(g->cfg->min_pps, p->limit_pps),
						.hi_pps = p->limit_pps,
						.resolution_pct = g->cfg->resolution_pct,
						.max_trials = g->cfg->max_trials };
		err = rtv_udpgen_search(&s, search_trial, &a, &best, &n);
		if (err < 0)
			return err;
		if (best <= 0)
			snprintf(p->note, sizeof(p->note), "loss even at %.0f pps", s.lo_pps);
	}
	/* what the generator actually offered in the best passing trial */
	p->tput_pps = best > 0 ? min_d(best, a.best_offered) : 0;
	p->tput_mbps = p->tput_pps * a.frame * 8 / 1e6;
	return 0;
}

/* Step 2: latency point (size j, rate k). */
static int latency(struct gen *g, int j, int k)
{
	const struct rtv_rfc2544_probe_cfg *cfg = g->cfg;
	struct rtv_rfc2544_point *p = &g->st->pt[lat_series(cfg, j, k)], *s = NULL;
	const struct rtv_rfc2544_rate *r = &cfg->rates[k];
	struct rtv_rfc2544_trial *t;
	double rate;
	int err;

	for (int i = 0; i < cfg->nsizes; i++)
		if (cfg->sizes[i] == cfg->lat_sizes[j])
			s = &g->st->pt[i];
	rate = r->pct ? (s ? s->tput_pps * r->value / 100 : 0) : r->value;
	p->rate_pps = rate;
	if (rate < 1) {
		snprintf(p->note, sizeof(p->note), "not measured: no zero-loss rate to take %g%% of",
			 r->value);
		return 0;
	}
	if (!r->pct && s && rate > s->limit_pps * 1.01) {
		snprintf(p->note, sizeof(p->note), "not reachable: above the generator's limit "
			 "(%.0f pps)", s->limit_pps);
		return 0;
	}
	rtv_hist_init(&p->rtt);
	t = next_trial(p);
	__atomic_store_n(&g->st->cur_trial, 1, __ATOMIC_RELAXED);
	err = trial(g, cfg->lat_sizes[j], rate, &p->rtt, t);
	if (err < 0)
		return err;
	p->offered_pps = t->offered_pps;
	p->loss_pct = t->sent ? 100.0 * (double)t->lost / (double)t->sent : NAN;
	p->reordered = (double)t->reordered;
	p->dut_cpu_pct = t->dut_cpu_pct;
	p->rt_cpu_pct = t->rt_cpu_pct;
	p->power_w = t->dut_cpu_pct / 100 * cfg->core_watts;
	if (t->offered_pps < 0.99 * rate)
		snprintf(p->note, sizeof(p->note), "offered %.0f pps of %.0f: the generator's limit",
			 t->offered_pps, rate);
	return 0;
}

/* Step 3: sockperf's under-load client at point i's rate and frame size,
 * from here, against the server beside the reflector. */
static int cross_check(struct gen *g, int i, const struct sockaddr_storage *ss)
{
	struct rtv_rfc2544_point *p = &g->st->pt[i];
	int j = (i - g->cfg->nsizes) / g->cfg->nrates;
	struct rtv_sockperf_client_cfg sc = { 0 };
	struct rtv_sockperf_result res;
	char path[256], addr[64], argbuf[1024], *argv[32], *text, tx[16], rx[16];
	int64_t until;
	int fd, status, err;
	ssize_t n;
	pid_t pid;

	if (!(p->offered_pps > 0))
		return 0;
	if (rtv_path_find("sockperf", path, sizeof(path)) < 0) {
		snprintf(p->note, sizeof(p->note), "sockperf is not installed");
		return 0;
	}
	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), addr, sizeof(addr), NULL, 0,
			NI_NUMERICHOST))
		return -EINVAL;
	sc = (struct rtv_sockperf_client_cfg){
		.path = path, .addr = addr, .port = (uint16_t)(g->cfg->port + 1),
		.mps = p->rate_pps,
		.msg_size = (size_t)rtv_udpgen_payload(g->cfg->lat_sizes[j], g->family),
		.seconds = (int)((g->cfg->trial_ns + RTV_NS_PER_S - 1) / RTV_NS_PER_S) };
	if (g->cfg->sockperf_rx_cpu >= 0) {
		cpu_set_t mine;

		/* the sender where the generator sends from, the receiver apart */
		snprintf(rx, sizeof(rx), "%d", g->cfg->sockperf_rx_cpu);
		snprintf(tx, sizeof(tx), "%d", sched_getcpu());
		if (!sched_getaffinity(0, sizeof(mine), &mine))
			for (int k = 0; k < CPU_SETSIZE; k++)
				if (CPU_ISSET(k, &mine)) {
					snprintf(tx, sizeof(tx), "%d", k);
					break;
				}
		sc.sender_cpus = tx;
		sc.receiver_cpus = rx;
	}
	err = rtv_sockperf_client_argv(&sc, argbuf, sizeof(argbuf), argv, 32);
	if (err < 0)
		return err;
	fd = memfd_create("sockperf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	until = rtv_now_ns() + g->cfg->settle_ns;
	while (rtv_now_ns() < until && !stopped(g))
		rtv_sleep_until_ns(min_ns(until, rtv_now_ns() + 100 * RTV_NS_PER_MS));
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -errno;
	}
	if (!pid) {
		cpu_set_t all;
		int null = open("/dev/null", O_RDONLY);

		/* it ends with the generator, however that ends */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1 || null < 0 ||
		    dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		if (sc.receiver_cpus) { /* its threads pin themselves */
			CPU_ZERO(&all);
			for (int k = 0; k < (int)sysconf(_SC_NPROCESSORS_ONLN) && k < CPU_SETSIZE; k++)
				CPU_SET(k, &all);
			(void)sched_setaffinity(0, sizeof(all), &all);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	until = rtv_now_ns() + (int64_t)sc.seconds * RTV_NS_PER_S + SOCKPERF_EXTRA_NS;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (stopped(g) || rtv_now_ns() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(fd);
			if (stopped(g))
				return -EINTR;
			snprintf(p->note, sizeof(p->note), "sockperf did not end in time");
			return 0;
		}
		rtv_sleep_until_ns(rtv_now_ns() + 50 * RTV_NS_PER_MS);
	}
	n = lseek(fd, 0, SEEK_END);
	text = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (text && pread(fd, text, (size_t)n, 0) == n) {
		text[n] = '\0';
		err = rtv_sockperf_parse(text, &res);
	} else {
		err = -EIO;
	}
	if (err < 0) {
		/* its last words, for the note */
		const char *last = "";

		char *save = NULL;

		for (char *q = text ? strtok_r(text, "\n", &save) : NULL; q;
		     q = strtok_r(NULL, "\n", &save))
			if (strspn(q, " \t\r") < strlen(q))
				last = q;
		snprintf(p->note, sizeof(p->note), "sockperf gave no latency summary: %.60s", last);
	}
	free(text);
	close(fd);
	if (err < 0)
		return 0;
	p->sockperf_p50_us = res.p50_ns / 1e3;
	p->sockperf_p99_us = res.p99_ns / 1e3;
	p->sockperf_max_us = res.max_ns / 1e3;
	if (p->rtt.count && res.p50_ns > 0)
		p->sockperf_ratio = (double)rtv_hist_percentile(&p->rtt, 50) / res.p50_ns;
	return 0;
}

/* "ADDR:PORT" or "[ADDR]:PORT" into host and port: 0 or -EINVAL. */
static int target_parse(const char *t, char *host, size_t len, uint16_t *port)
{
	const char *colon = strrchr(t, ':');
	size_t n;
	long long p;

	if (!colon || colon == t || rtv_parse_ll(colon + 1, 1, 65535, &p) < 0)
		return -EINVAL;
	n = (size_t)(colon - t);
	if (t[0] == '[' && n >= 2 && t[n - 1] == ']') {
		t++;
		n -= 2;
	}
	if (!n || n >= len)
		return -EINVAL;
	memcpy(host, t, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* The reflector's address: the target's, where the method moved the
 * service, or the testbed's. */
static int reflector_addr(const struct rtv_pctx *c, struct sockaddr_storage *ss, socklen_t *len)
{
	const struct rtv_rfc2544_probe_cfg *cfg = c->cfg;
	char host[64];
	uint16_t port;

	if (!cfg->target)
		return rtv_sockaddr_parse(c->rt_service_addr ? c->rt_service_addr :
					  c->tb->rt_server.addr, cfg->port, ss, len);
	if (target_parse(cfg->target, host, sizeof(host), &port) < 0)
		return -EINVAL;
	return rtv_sockaddr_parse(host, port, ss, len);
}

static void gen_fail(struct rfc_state *st, int err, const char *what)
{
	st->gen_err = err;
	snprintf(st->why, sizeof(st->why), "%s: %s", what, strerror(-err));
}

static int gen_open(struct gen *g, struct sockaddr_storage *ss)
{
	socklen_t len;
	int size = RCVBUF_BYTES, err;

	err = reflector_addr(g->c, ss, &len);
	if (err < 0)
		return err;
	g->family = ss->ss_family;
	g->fd = rtv_sockaddr_udp_connect(ss, len);
	if (g->fd < 0)
		return g->fd;
	if (setsockopt(g->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

/* Wait for the reflector to answer. */
static int gen_ready(struct gen *g)
{
	int64_t until = rtv_now_ns() + READY_WAIT_NS;
	struct rtv_udpgen_result r;
	struct rtv_udpgen_cfg uc;
	int err;

	do {
		uc = (struct rtv_udpgen_cfg){ .fd = g->fd, .rate_pps = 100,
					      .payload = RTV_UDPGEN_HDR,
					      .duration_ns = 50 * RTV_NS_PER_MS,
					      .residual_ns = 50 * RTV_NS_PER_MS, .tag = ++g->tag };
		err = rtv_udpgen_trial(g->g, &uc, &g->st->svc.stop, &r);
		if (err < 0)
			return err;
		if (r.received)
			return 0;
	} while (rtv_now_ns() < until && !stopped(g));
	return stopped(g) ? -EINTR : -ETIMEDOUT;
}

static int gen_main(void *arg)
{
	struct rtv_pctx *c = arg;
	const struct rtv_rfc2544_probe_cfg *cfg = c->cfg;
	struct rfc_state *st = c->state;
	struct gen g = { .c = c, .cfg = cfg, .st = st, .fd = -1, .self_ns = -1, .host_ns = -1,
			 .first = true, .tag = (uint32_t)(c->seed * 2654435761u) };
	struct sockaddr_storage ss;
	int err, sp = cfg->sockperf ? sockperf_series(cfg) : -1;
	uint64_t max_packets = (uint64_t)(cfg->max_pps * ((double)cfg->trial_ns / 1e9) * 1.05) + 4096;

	for (int i = 0; i < rtv_rfc2544_nseries(cfg); i++) {
		struct rtv_rfc2544_point *p = &st->pt[i];

		rtv_hist_init(&p->rtt);
		p->frame = i < cfg->nsizes ? cfg->sizes[i] :
			   cfg->lat_sizes[(i - cfg->nsizes) / cfg->nrates];
		p->tput_pps = p->tput_mbps = p->limit_pps = p->gen_bound = NAN;
		p->rate_pps = p->offered_pps = p->loss_pct = p->reordered = NAN;
		p->dut_cpu_pct = p->rt_cpu_pct = p->power_w = NAN;
		p->sockperf_p50_us = p->sockperf_p99_us = p->sockperf_max_us = NAN;
		p->sockperf_ratio = NAN;
	}
	/* an external tester: in the RT client's namespace but in none of the
	 * testbed's cgroups, which methods may move onto the RT CPUs, and on
	 * the CPUs that are not RT, at the caller's (normal) priority */
	if (c->tb) {
		cpu_set_t peers;
		int ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

		CPU_ZERO(&peers);
		for (int i = 0; i < ncpus && i < CPU_SETSIZE; i++)
			if (!CPU_ISSET(i, &cfg->rt_cpus))
				CPU_SET(i, &peers);
		err = rtv_netns_enter(c->tb->rt_client.ns);
		if (err < 0) {
			gen_fail(st, err, "entering the RT client's namespace");
			return 1;
		}
		if (CPU_COUNT(&peers))
			(void)sched_setaffinity(0, sizeof(peers), &peers);
	}
	err = gen_open(&g, &ss);
	if (err < 0) {
		gen_fail(st, err, "the generator's socket");
		return 1;
	}
	for (int i = 0; i < cfg->nsizes + cfg->nlat_sizes; i++) {
		unsigned f = i < cfg->nsizes ? cfg->sizes[i] : cfg->lat_sizes[i - cfg->nsizes];

		if (rtv_udpgen_payload(f, g.family) < (ssize_t)RTV_UDPGEN_HDR) {
			st->gen_err = -EINVAL;
			snprintf(st->why, sizeof(st->why), "a %u-byte frame cannot carry the "
				 "generator's header over IPv6", f);
			close(g.fd);
			return 1;
		}
	}
	if (c->tb) {
		snprintf(g.rts_proc, sizeof(g.rts_proc), "/proc/%d", (int)st->refl_pid);
		g.self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (c->tb->host.ns[0])
			g.host_ns = rtv_netns_open(c->tb->host.ns);
	}
	g.g = rtv_udpgen_new(max_packets, RTV_RFC2544_MAX_FRAME);
	if (!g.g) {
		gen_fail(st, -ENOMEM, "the generator's buffers");
		return 1;
	}
	err = gen_ready(&g);
	if (err < 0) {
		gen_fail(st, err, "no answer from the reflector");
		goto out;
	}
	for (int i = 0; i < cfg->nsizes && !err; i++) {
		__atomic_store_n(&st->cur_series, i, __ATOMIC_RELAXED);
		err = search(&g, i);
	}
	for (int j = 0; j < cfg->nlat_sizes && !err; j++)
		for (int k = 0; k < cfg->nrates && !err; k++) {
			__atomic_store_n(&st->cur_series, lat_series(cfg, j, k), __ATOMIC_RELAXED);
			err = latency(&g, j, k);
		}
	if (!err && sp >= 0) {
		__atomic_store_n(&st->cur_series, sp, __ATOMIC_RELAXED);
		__atomic_store_n(&st->cur_trial, -1, __ATOMIC_RELAXED);
		err = cross_check(&g, sp, &ss);
	}
	if (err < 0 && err != -EINTR)
		gen_fail(st, err, "a trial failed");
out:
	rtv_udpgen_free(g.g);
	close(g.fd);
	if (g.self_ns >= 0)
		close(g.self_ns);
	if (g.host_ns >= 0)
		close(g.host_ns);
	return err < 0 && err != -EINTR ? 1 : 0;
}

/* ---- the reflector's side ---- */

static int refl_main(void *arg)
{
	struct rtv_pctx *c = arg;
	const struct rtv_rfc2544_probe_cfg *cfg = c->cfg;
	struct rfc_state *st = c->state;
	int fd, err;

	fd = rtv_udpgen_reflect_open(c->rt_service_addr ? c->rt_service_addr :
				     c->tb->rt_server.addr, cfg->port);
	if (fd < 0)
		return 1;
	err = rtv_udpgen_reflect(fd, &st->svc.stop, &st->refl);
	close(fd);
	return err < 0 ? 1 : 0;
}

/* ---- the probe's operations ---- */

static int rfc_check(const void *cfgp, char *why, size_t len)
{
	const struct rtv_rfc2544_probe_cfg *cfg = cfgp;
	char path[256];

	if (cfg->sockperf && rtv_path_find("sockperf", path, sizeof(path)) < 0) {
		snprintf(why, len, "--sockperf needs sockperf (Debian package sockperf)");
		return -ENOENT;
	}
	return rtv_rfc2544_cfg_check(cfg, why, len);
}

static int rfc_start(struct rtv_pctx *c)
{
	const struct rtv_rfc2544_probe_cfg *cfg = c->cfg;
	struct rfc_state *st = c->state;
	int err;

	if (!cfg->target) {
		if (!c->tb)
			return -ENOENT;
		err = rtv_probe_spawn(c, &c->tb->rt_server, RTV_ROLE_RT_SERVER, refl_main, c,
				      &st->refl_pid);
		if (err < 0)
			return err;
		if (cfg->sockperf) {
			char path[256], buf[512], *argv[16];
			const char *addr = c->rt_service_addr ? c->rt_service_addr :
					   c->tb->rt_server.addr;

			err = rtv_path_find("sockperf", path, sizeof(path));
			if (!err)
				err = rtv_sockperf_server_argv(path, addr, (uint16_t)(cfg->port + 1),
							       buf, sizeof(buf), argv, 16);
			if (err >= 0) /* the argument count */
				err = rtv_svc_exec(c, &c->tb->rt_server, RTV_ROLE_RT_SERVER, argv,
						   NULL, -1, NULL);
			if (err < 0)
				return err;
		}
		usleep(100000); /* bound */
	}
	/* here (it enters the RT client's namespace itself), in no role a
	 * method places */
	return rtv_probe_spawn(c, NULL, RTV_ROLE_OTHER, gen_main, c, &c->client);
}

static void rfc_finish(struct rtv_pctx *c)
{
	struct rfc_state *st = c->state;

	if (st->gen_err && !c->status) {
		rtv_err("rfc2544: %s", st->why);
		c->status = st->gen_err;
	}
}

static void rfc_live(const struct rtv_pctx *c, char *buf, size_t len)
{
	const struct rfc_state *st = c->state;
	int i = __atomic_load_n(&st->cur_series, __ATOMIC_RELAXED);
	int t = __atomic_load_n(&st->cur_trial, __ATOMIC_RELAXED);
	double r = (double)__atomic_load_n(&st->cur_rate, __ATOMIC_RELAXED);

	if (t < 0)
		snprintf(buf, len, "%s sockperf", rfc_series_name(c->cfg, i));
	else
		snprintf(buf, len, "%s trial %d at %.0f kpps", rfc_series_name(c->cfg, i), t,
			 r / 1e3);
}

static json_t *drops_json(const struct rtv_rfc2544_drops *d)
{
	json_t *o = json_object();

	rtv_json_set_int(o, "rts_dev_dropped", (int64_t)d->rts_dev);
	rtv_json_set_int(o, "rts_udp_rcvbuf_errors", (int64_t)d->rts_rcvbuf);
	rtv_json_set_int(o, "rts_udp_in_errors", (int64_t)d->rts_inerr);
	rtv_json_set_int(o, "rtc_dev_dropped", (int64_t)d->rtc_dev);
	rtv_json_set_int(o, "rtc_udp_rcvbuf_errors", (int64_t)d->rtc_rcvbuf);
	rtv_json_set_int(o, "rtc_udp_in_errors", (int64_t)d->rtc_inerr);
	rtv_json_set_int(o, "host_dev_dropped", (int64_t)d->host_dev);
	rtv_json_set_int(o, "softnet_dropped", (int64_t)d->softnet);
	rtv_json_set_int(o, "softnet_squeezed", (int64_t)d->squeezed);
	return o;
}

static void rfc_series_json(const struct rtv_pctx *c, int i, json_t *o)
{
	const struct rfc_state *st = c->state;
	const struct rtv_rfc2544_point *p = &st->pt[i];
	json_t *a = json_array();

	for (int k = 0; k < p->ntrials; k++) {
		const struct rtv_rfc2544_trial *t = &p->trial[k];
		json_t *j = json_object();

		rtv_json_set_num(j, "rate_pps", t->rate_pps);
		rtv_json_set_num(j, "offered_pps", t->offered_pps);
		rtv_json_set_int(j, "sent", (int64_t)t->sent);
		rtv_json_set_int(j, "received", (int64_t)t->received);
		rtv_json_set_int(j, "lost", (int64_t)t->lost);
		rtv_json_set_int(j, "duplicated", (int64_t)t->dups);
		rtv_json_set_int(j, "reordered", (int64_t)t->reordered);
		rtv_json_set_int(j, "stray", (int64_t)t->stray);
		rtv_json_set_int(j, "send_errors", (int64_t)t->send_errors);
		rtv_json_set_int(j, "generator_rx_dropped", (int64_t)t->gen_rx_drops);
		rtv_json_set_num(j, "send_lag_max_us", (double)t->lag_max_ns / 1e3);
		rtv_json_set_num(j, "dut_cpu_pct", t->dut_cpu_pct);
		rtv_json_set_num(j, "rt_cpu_pct", t->rt_cpu_pct);
		json_object_set_new(j, "drops", drops_json(&t->drops));
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "trials", a);
	if (p->note[0])
		rtv_json_set_str(o, "point_note", p->note);
	if (i == 0)
		rtv_json_set_int(o, "reflected", (int64_t)st->refl.reflected);
}

static void rfc_config_json(const void *cfgp, json_t *conf)
{
	const struct rtv_rfc2544_probe_cfg *cfg = cfgp;
	json_t *sizes = json_array(), *lat = json_array(), *rates = json_array();
	char r[24];

	for (int i = 0; i < cfg->nsizes; i++)
		json_array_append_new(sizes, json_integer(cfg->sizes[i]));
	for (int i = 0; i < cfg->nlat_sizes; i++)
		json_array_append_new(lat, json_integer(cfg->lat_sizes[i]));
	for (int i = 0; i < cfg->nrates; i++) {
		rtv_rfc2544_rate_name(&cfg->rates[i], r, sizeof(r));
		json_array_append_new(rates, json_string(r));
	}
	json_object_set_new(conf, "frame_sizes", sizes);
	json_object_set_new(conf, "latency_frame_sizes", lat);
	json_object_set_new(conf, "latency_rates", rates);
	rtv_json_set_num(conf, "trial_s", (double)cfg->trial_ns / 1e9);
	rtv_json_set_num(conf, "residual_wait_s", (double)cfg->residual_ns / 1e9);
	rtv_json_set_num(conf, "settle_wait_s", (double)cfg->settle_ns / 1e9);
	rtv_json_set_num(conf, "search_min_pps", cfg->min_pps);
	rtv_json_set_num(conf, "search_max_pps", cfg->max_pps);
	rtv_json_set_num(conf, "search_resolution_pct", cfg->resolution_pct);
	rtv_json_set_int(conf, "search_max_trials", cfg->max_trials);
	rtv_json_set_str(conf, "latency_samples", "every packet (RFC 2544 times one per trial)");
	if (cfg->target)
		rtv_json_set_str(conf, "target", cfg->target);
	if (cfg->sockperf) {
		rtv_rfc2544_rate_name(&cfg->sockperf_rate, r, sizeof(r));
		rtv_json_set_str(conf, "sockperf_rate", r);
	}
	if (cfg->sockperf)
		rtv_json_set_int(conf, "sockperf_receiver_cpu", cfg->sockperf_rx_cpu);
	rtv_json_set_num(conf, "power_core_watts", cfg->core_watts);
}

#define P(f) offsetof(struct rtv_rfc2544_point, f)
#define NUM(k_, f_, b_) { .key = k_, .off = P(f_), .better = b_ }
#define LAT(k_, st_, a_) { .key = k_, .type = RTV_METRIC_STAT, .from = "rtt", .stat = st_, \
			   .arg = a_, .per_unit = 1000, .better = RTV_BETTER_LOWER }
static const struct rtv_metric rfc_metrics[] = {
	{ .key = "rtt", .run_key = "", .type = RTV_METRIC_HIST, .off = P(rtt), .per_unit = 1000,
	  .label = "round-trip time at a fixed rate", .axis = "latency (us)" },
	NUM("frame_bytes", frame, RTV_BETTER_NONE),
	NUM("throughput_pps", tput_pps, RTV_BETTER_HIGHER),
	NUM("throughput_mbit_s", tput_mbps, RTV_BETTER_HIGHER),
	NUM("generator_limit_pps", limit_pps, RTV_BETTER_NONE),
	NUM("generator_bound", gen_bound, RTV_BETTER_NONE),
	NUM("rate_pps", rate_pps, RTV_BETTER_NONE),
	NUM("offered_pps", offered_pps, RTV_BETTER_NONE),
	NUM("loss_pct", loss_pct, RTV_BETTER_LOWER),
	NUM("reordered", reordered, RTV_BETTER_LOWER),
	LAT("mean_us", RTV_STAT_MEAN, 0),
	LAT("p50_us", RTV_STAT_PCT, 50),
	LAT("p99_us", RTV_STAT_PCT, 99),
	LAT("p999_us", RTV_STAT_PCT, 99.9),
	LAT("max_us", RTV_STAT_MAX, 0),
	NUM("dut_cpu_pct", dut_cpu_pct, RTV_BETTER_LOWER),
	NUM("rt_cpu_pct", rt_cpu_pct, RTV_BETTER_LOWER),
	NUM("power_w_estimate", power_w, RTV_BETTER_LOWER),
	NUM("sockperf_p50_us", sockperf_p50_us, RTV_BETTER_NONE),
	NUM("sockperf_p99_us", sockperf_p99_us, RTV_BETTER_NONE),
	NUM("sockperf_max_us", sockperf_max_us, RTV_BETTER_NONE),
	NUM("p50_vs_sockperf", sockperf_ratio, RTV_BETTER_NONE),
};
#undef LAT
#undef NUM
#undef P

const struct rtv_probe rtv_probe_rfc2544 = {
	.name = "rfc2544",
	.summary = "RFC 2544 on the RT path: zero-loss throughput per frame size and latency at "
		   "fixed rates (KBP's and EE-KBP's evaluation)",
	.role = RTV_PROBE_SERVICE,
	.metrics = rfc_metrics,
	.nmetrics = sizeof(rfc_metrics) / sizeof(rfc_metrics[0]),
	.state_size = rfc_state_size,
	.nseries = rfc_nseries,
	.series_name = rfc_series_name,
	.series_off = offsetof(struct rfc_state, pt),
	.series_size = sizeof(struct rtv_rfc2544_point),
	.series_head = "point",
	.check = rfc_check,
	.start = rfc_start,
	.stop = rtv_svc_stop,
	.finish = rfc_finish,
	.live = rfc_live,
	.series_json = rfc_series_json,
	.config_json = rfc_config_json,
};
