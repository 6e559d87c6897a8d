/* The RFC 2544 packet engine: generator, reflector, search; see udpgen.h. */
#include <errno.h>
#include <linux/sock_diag.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "probe/netrt.h"
#include "net/sockaddr.h"
#include "probe/udpgen.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define RX_SLOT      64u  /* bytes read of each reply: its header (MSG_TRUNC gives the length) */
#define DRAIN_ROUNDS 16   /* recvmmsg calls per drain at most, while they come full */
#define PATH_RETRIES 4    /* a sendmmsg made again after an ICMP-reported path error */
#define PAGE_BYTES   4096u
#define REFL_BUF     65536u /* the reflector's buffer per datagram */

#define OFF_TAG  0
#define OFF_SEQ  4
#define OFF_SENT 8

struct rtv_udpgen {
	uint64_t max_packets;
	size_t max_payload;
	uint64_t *seen;       /* one bit per seq: received */
	uint64_t nwords;      /* of seen */
	uint64_t dirty_words; /* seen[0..dirty_words) may hold bits of the last trial */
	unsigned char *tx;    /* RTV_UDPGEN_MAX_BATCH packet buffers of max_payload bytes */
	unsigned char *rx;    /* RTV_UDPGEN_MAX_BATCH slots of RX_SLOT bytes */
	struct mmsghdr txm[RTV_UDPGEN_MAX_BATCH];
	struct iovec txv[RTV_UDPGEN_MAX_BATCH];
	struct mmsghdr rxm[RTV_UDPGEN_MAX_BATCH];
	struct iovec rxv[RTV_UDPGEN_MAX_BATCH];
};

/* A trial's running state, on the caller's stack. */
struct trial {
	struct rtv_udpgen *g;
	const struct rtv_udpgen_cfg *cfg;
	struct rtv_udpgen_result *r;
	int64_t t0;
	double period_ns;   /* 1e9 / rate; 0 at rate 0 */
	uint64_t next;      /* the next seq to offer */
	uint64_t ntotal;    /* seqs in the trial */
	int64_t max_seq;    /* the highest seq received, -1 for none */
};

/* Errors a connected UDP socket reports from ICMP messages about earlier
 * datagrams: they concern the path, not this call, and are consumed by it. */
static bool is_path_error(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
	       e == ENETDOWN || e == EPROTO || e == ENONET || e == EMSGSIZE;
}

static void prefault(void *p, size_t len)
{
	volatile char *b = p;

	for (size_t i = 0; i < len; i += PAGE_BYTES)
		b[i] = 0;
	if (len)
		b[len - 1] = 0;
}

ssize_t rtv_udpgen_payload(unsigned frame, int family)
{
	unsigned over;

	if (family == AF_INET)
		over = RTV_UDPGEN_OVERHEAD4;
	else if (family == AF_INET6)
		over = RTV_UDPGEN_OVERHEAD6;
	else
		return -EINVAL;
	if (frame < RTV_UDPGEN_MIN_FRAME || frame > RTV_UDPGEN_MAX_FRAME ||
	    frame < over + RTV_UDPGEN_HDR)
		return -EINVAL;
	return (ssize_t)(frame - over);
}

/* ---- the generator ---- */

void rtv_udpgen_free(struct rtv_udpgen *g)
{
	if (!g)
		return;
	free(g->seen);
	free(g->tx);
	free(g->rx);
	free(g);
}

struct rtv_udpgen *rtv_udpgen_new(uint64_t max_packets, size_t max_payload)
{
	struct rtv_udpgen *g;
	int i;

	if (!max_packets || max_packets > (UINT64_C(1) << 32) || max_payload < RTV_UDPGEN_HDR ||
	    max_payload > RTV_UDPGEN_MAX_PAYLOAD) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->max_packets = max_packets;
	g->max_payload = max_payload;
	g->nwords = (max_packets + 63) / 64;
	g->seen = calloc(g->nwords, sizeof(*g->seen));
	g->tx = calloc(RTV_UDPGEN_MAX_BATCH, max_payload);
	g->rx = calloc(RTV_UDPGEN_MAX_BATCH, RX_SLOT);
	if (!g->seen || !g->tx || !g->rx) {
		rtv_udpgen_free(g);
		errno = ENOMEM;
		return NULL;
	}
	prefault(g->seen, g->nwords * sizeof(*g->seen));
	prefault(g->tx, RTV_UDPGEN_MAX_BATCH * max_payload);
	prefault(g->rx, RTV_UDPGEN_MAX_BATCH * RX_SLOT);
	for (i = 0; i < RTV_UDPGEN_MAX_BATCH; i++) {
		g->txv[i].iov_base = g->tx + (size_t)i * max_payload;
		g->txm[i].msg_hdr.msg_iov = &g->txv[i];
		g->txm[i].msg_hdr.msg_iovlen = 1;
		g->rxv[i].iov_base = g->rx + (size_t)i * RX_SLOT;
		g->rxv[i].iov_len = RX_SLOT;
		g->rxm[i].msg_hdr.msg_iov = &g->rxv[i];
		g->rxm[i].msg_hdr.msg_iovlen = 1;
	}
	return g;
}

static inline void put_u32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void put_i64(unsigned char *p, int64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline int64_t get_i64(const unsigned char *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Packet i's intended send time, from t0 (truncated to whole ns). */
static inline int64_t intended_ns(const struct trial *t, uint64_t i)
{
	return t->t0 + (int64_t)((double)i * t->period_ns);
}

/* Offer seqs next..next+n-1 (n <= batch) in one sendmmsg call (made again
 * after a path error); what the kernel does not take is send_errors. */
static int send_batch(struct trial *t, unsigned n)
{
	struct rtv_udpgen *g = t->g;
	struct rtv_udpgen_result *r = t->r;
	int64_t now = rtv_now_ns(), lag;
	unsigned j, tries = 0;
	int k;

	for (j = 0; j < n; j++) {
		unsigned char *p = g->txv[j].iov_base;

		put_u32(p + OFF_TAG, t->cfg->tag);
		put_u32(p + OFF_SEQ, (uint32_t)(t->next + j));
		put_i64(p + OFF_SENT, now);
	}
	do
		k = sendmmsg(t->cfg->fd, g->txm, n, MSG_DONTWAIT);
	while (k < 0 && (errno == EINTR || is_path_error(errno)) && ++tries <= PATH_RETRIES);
	if (k < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != ENOMEM &&
		    errno != EINTR && !is_path_error(errno))
			return -errno;
		k = 0;
	}
	if (k > 0) {
		if (!r->sent)
			r->t_first_ns = now;
		r->t_last_ns = now;
		r->sent += (unsigned)k;
	}
	r->send_errors += n - (unsigned)k;
	if (t->period_ns > 0) {
		for (j = 0; j < (unsigned)k; j++) {
			lag = now - intended_ns(t, t->next + j);
			if (lag > r->lag_max_ns)
				r->lag_max_ns = lag;
			if (lag > RTV_UDPGEN_LATE_NS)
				r->late++;
		}
	}
	t->next += n;
	return 0;
}

/* One reply, received at now. */
static void take(struct trial *t, const unsigned char *p, unsigned len, int64_t now)
{
	struct rtv_udpgen_result *r = t->r;
	uint64_t seq, bit, *w;

	if (len != t->cfg->payload || get_u32(p + OFF_TAG) != t->cfg->tag) {
		r->stray++;
		return;
	}
	seq = get_u32(p + OFF_SEQ);
	if (seq >= t->next) { /* never sent */
		r->stray++;
		return;
	}
	w = &t->g->seen[seq / 64];
	bit = UINT64_C(1) << (seq % 64);
	if (*w & bit) {
		r->dups++;
		return;
	}
	*w |= bit;
	r->received++;
	if ((int64_t)seq < t->max_seq)
		r->reordered++;
	else
		t->max_seq = (int64_t)seq;
	if (t->cfg->rtt)
		rtv_hist_record(t->cfg->rtt, now - get_i64(p + OFF_SENT));
}

/* Take the replies waiting, without blocking. */
static int drain(struct trial *t)
{
	struct rtv_udpgen *g = t->g;
	int64_t now;
	int n, i, round;

	for (round = 0; round < DRAIN_ROUNDS; round++) {
		n = recvmmsg(t->cfg->fd, g->rxm, RTV_UDPGEN_MAX_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    is_path_error(errno))
				return 0;
			return -errno;
		}
		now = rtv_now_ns();
		for (i = 0; i < n; i++)
			take(t, g->rx + (size_t)i * RX_SLOT, g->rxm[i].msg_len, now);
		if (n < RTV_UDPGEN_MAX_BATCH)
			return 0;
	}
	return 0;
}

/* The datagrams fd's socket has dropped since it was made (SO_MEMINFO,
 * Linux 4.12), or -1 when the kernel does not say. */
static int64_t sock_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	memset(mem, 0, sizeof(mem));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(mem[0]))
		return -1;
	return mem[SK_MEMINFO_DROPS];
}

static int trial_check(const struct rtv_udpgen *g, const struct rtv_udpgen_cfg *cfg)
{
	if (cfg->fd < 0 || !isfinite(cfg->rate_pps) || cfg->rate_pps < 0 ||
	    cfg->payload < RTV_UDPGEN_HDR || cfg->payload > g->max_payload ||
	    cfg->duration_ns <= 0 || cfg->residual_ns < 0 ||
	    cfg->batch < 0 || cfg->batch > RTV_UDPGEN_MAX_BATCH)
		return -EINVAL;
	return 0;
}

/* The packets of the trial: those with i / rate < duration (all
 * max_packets at rate 0), or -E2BIG. */
static int64_t trial_packets(const struct trial *t, uint64_t max_packets)
{
	double x;
	uint64_t n;

	if (t->period_ns <= 0)
		return (int64_t)max_packets;
	x = ceil((double)t->cfg->duration_ns / t->period_ns);
	if (x > (double)max_packets + 1)
		return -E2BIG;
	n = (uint64_t)x;
	while (n > 0 && (int64_t)((double)(n - 1) * t->period_ns) >= t->cfg->duration_ns)
		n--;
	while ((int64_t)((double)n * t->period_ns) < t->cfg->duration_ns)
		n++;
	if (n > max_packets)
		return -E2BIG;
	return (int64_t)n;
}

int rtv_udpgen_trial(struct rtv_udpgen *g, const struct rtv_udpgen_cfg *cfg,
		     const volatile sig_atomic_t *stop, struct rtv_udpgen_result *r)
{
	struct pollfd pfd;
	struct trial t;
	int64_t now, end, deadline, n64, wait, drops0, drops1;
	struct timespec ts;
	uint64_t due;
	unsigned batch, n;
	bool stopped = false;
	int err = 0, i;

	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (!g || !cfg)
		return -EINVAL;
	err = trial_check(g, cfg);
	if (err < 0)
		return err;
	memset(&t, 0, sizeof(t));
	t.g = g;
	t.cfg = cfg;
	t.r = r;
	t.max_seq = -1;
	t.period_ns = cfg->rate_pps > 0 ? 1e9 / cfg->rate_pps : 0;
	n64 = trial_packets(&t, g->max_packets);
	if (n64 < 0)
		return (int)n64;
	t.ntotal = (uint64_t)n64;
	batch = cfg->batch ? (unsigned)cfg->batch : RTV_UDPGEN_DEFAULT_BATCH;

	/* the last trial's bits off, the lengths on: before t0 */
	memset(g->seen, 0, g->dirty_words * sizeof(*g->seen));
	for (i = 0; i < RTV_UDPGEN_MAX_BATCH; i++)
		g->txv[i].iov_len = cfg->payload;

	drops0 = sock_drops(cfg->fd);
	t.t0 = rtv_now_ns();
	end = rtv_ns_add_sat(t.t0, cfg->duration_ns);
	for (;;) {
		if (stop && rtv_stop_read(stop)) {
			stopped = true;
			break;
		}
		now = rtv_now_ns();
		if (t.next >= t.ntotal || (now >= end && t.period_ns <= 0))
			break;
		if (t.period_ns > 0) {
			/* at the end (the generator was late), whatever is left is due */
			due = now >= end ? t.ntotal : (uint64_t)((double)(now - t.t0) / t.period_ns) + 1;
			if (due > t.ntotal)
				due = t.ntotal;
		} else {
			due = t.next + batch < t.ntotal ? t.next + batch : t.ntotal;
		}
		while (t.next < due) {
			n = due - t.next < batch ? (unsigned)(due - t.next) : batch;
			err = send_batch(&t, n);
			if (err < 0)
				goto out;
		}
		err = drain(&t);
		if (err < 0)
			goto out;
	}

	if (cfg->sent)
		cfg->sent(cfg->sent_arg);
	/* the residual phase: what is still on its way */
	pfd = (struct pollfd){ .fd = cfg->fd, .events = POLLIN };
	deadline = rtv_ns_add_sat(rtv_now_ns(), cfg->residual_ns);
	while (!stopped && r->received < r->sent) {
		if (stop && rtv_stop_read(stop)) {
			stopped = true;
			break;
		}
		err = drain(&t);
		if (err < 0)
			goto out;
		now = rtv_now_ns();
		wait = deadline - now;
		if (wait <= 0 || r->received >= r->sent)
			break;
		if (wait > RTV_UDPGEN_POLL_NS)
			wait = RTV_UDPGEN_POLL_NS;
		ts = rtv_ns_to_ts(wait);
		if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
	}
	if (stopped)
		err = -EINTR;
out:
	g->dirty_words = (t.next + 63) / 64; /* no seq at or above next was taken */
	drops1 = sock_drops(cfg->fd);
	if (drops0 >= 0 && drops1 >= drops0)
		r->rx_drops = (uint64_t)(drops1 - drops0);
	r->lost = r->sent - r->received;
	if (r->sent >= 2 && r->t_last_ns > r->t_first_ns)
		r->offered_pps = (double)(r->sent - 1) * 1e9 / (double)(r->t_last_ns - r->t_first_ns);
	return err;
}

/* ---- the reflector ---- */

int rtv_udpgen_reflect_open(const char *bind_addr, uint16_t port)
{
	struct rtv_netrt_server_cfg cfg = { .bind_addr = bind_addr, .port = port };

	return rtv_netrt_server_open(&cfg);
}

/* Room for a datagram's IP_PKTINFO or IPV6_PKTINFO (a socket bound to any
 * address asks for both: IPv4 on a dual-stack socket too). */
union refl_ctl {
	struct cmsghdr align;
	unsigned char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
};

static inline void count_add(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, *p + n, __ATOMIC_RELAXED);
}

int rtv_udpgen_reflect(int fd, const volatile sig_atomic_t *stop, struct rtv_udpgen_refl_stats *st)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = RTV_UDPGEN_STOP_CHECK_NS / RTV_NS_PER_US };
	struct rtv_udpgen_refl_stats dummy = { 0 };
	struct mmsghdr *m = NULL;
	struct iovec *v = NULL;
	struct sockaddr_storage *from = NULL;
	union refl_ctl *ctl = NULL;
	unsigned char *buf = NULL;
	int err = 0, n, i, k;

	if (fd < 0 || !stop)
		return -EINVAL;
	if (!st)
		st = &dummy;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	m = calloc(RTV_UDPGEN_MAX_BATCH, sizeof(*m));
	v = calloc(RTV_UDPGEN_MAX_BATCH, sizeof(*v));
	from = calloc(RTV_UDPGEN_MAX_BATCH, sizeof(*from));
	ctl = calloc(RTV_UDPGEN_MAX_BATCH, sizeof(*ctl));
	buf = malloc((size_t)RTV_UDPGEN_MAX_BATCH * REFL_BUF);
	if (!m || !v || !from || !ctl || !buf) {
		err = -ENOMEM;
		goto out;
	}
	prefault(buf, (size_t)RTV_UDPGEN_MAX_BATCH * REFL_BUF);

	while (!rtv_stop_read(stop)) {
		for (i = 0; i < RTV_UDPGEN_MAX_BATCH; i++) {
			v[i] = (struct iovec){ .iov_base = buf + (size_t)i * REFL_BUF, .iov_len = REFL_BUF };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
							.msg_iov = &v[i], .msg_iovlen = 1,
							.msg_control = ctl[i].buf,
							.msg_controllen = sizeof(ctl[i].buf) };
		}
		n = recvmmsg(fd, m, RTV_UDPGEN_MAX_BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    is_path_error(errno))
				continue;
			err = -errno;
			break;
		}
		count_add(&st->received, (uint64_t)n);
		for (i = 0; i < n; i++) {
			struct msghdr *mh = &m[i].msg_hdr;

			v[i].iov_len = m[i].msg_len; /* a longer one was cut: its first 64 KiB go */
			mh->msg_controllen = rtv_sockaddr_reply_pktinfo(mh);
			if (!mh->msg_controllen)
				mh->msg_control = NULL;
			mh->msg_flags = 0;
		}
		/* a datagram sendmmsg refuses is dropped; the rest still go */
		for (i = 0; i < n;) {
			k = sendmmsg(fd, m + i, (unsigned)(n - i), 0);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				count_add(&st->send_errors, 1);
				i++;
				continue;
			}
			count_add(&st->reflected, (uint64_t)k);
			i += k;
		}
	}
out:
	free(buf);
	free(ctl);
	free(from);
	free(v);
	free(m);
	return err;
}

/* ---- the search ---- */

int rtv_udpgen_search(const struct rtv_udpgen_search *s, int (*trial)(double rate_pps, void *arg),
		      void *arg, double *best_pps, int *ntrials)
{
	double passed, failed, mid;
	int n = 0, rc = 0;

	if (ntrials)
		*ntrials = 0;
	if (best_pps)
		*best_pps = 0;
	if (!s || !trial || !best_pps || !isfinite(s->lo_pps) || !isfinite(s->hi_pps) ||
	    s->lo_pps < 0 || s->hi_pps <= 0 || s->lo_pps > s->hi_pps || !(s->resolution_pct > 0) ||
	    !(s->resolution_pct < 100) || s->max_trials < 1)
		return -EINVAL;

	n++;
	rc = trial(s->hi_pps, arg);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		*best_pps = s->hi_pps;
		goto out;
	}
	failed = s->hi_pps;
	passed = 0;
	if (s->lo_pps > 0) {
		if (n >= s->max_trials)
			goto out;
		n++;
		rc = trial(s->lo_pps, arg);
		if (rc < 0)
			goto out;
		if (rc > 0)
			goto out; /* not even lo: 0 */
		passed = s->lo_pps;
	}
	while (failed - passed > failed * s->resolution_pct / 100 && n < s->max_trials) {
		mid = (passed + failed) / 2;
		n++;
		rc = trial(mid, arg);
		if (rc < 0)
			goto out;
		if (rc == 0)
			passed = mid;
		else
			failed = mid;
	}
	*best_pps = passed;
	rc = 0;
out:
	if (ntrials)
		*ntrials = n;
	if (rc < 0)
		*best_pps = 0;
	return rc < 0 ? rc : 0;
}
