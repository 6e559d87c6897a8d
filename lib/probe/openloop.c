/* The open-loop client; see openloop.h. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "probe/openloop.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define RX_BATCH        16   /* datagrams taken per recvmmsg() */
#define DGRAM_MAX       RTV_OL_DGRAM_READ
/* --samples: records held in memory before they are written (at least this
 * many, a power of 2), lines written between looks at the clock and the
 * socket, and how far the next send must be for the client to write them
 * while it waits for it */
#define SAMPLES_MIN      4096u
#define SAMPLES_CHUNK    64u
#define SAMPLES_IDLE_NS  (200 * RTV_NS_PER_US)
/* the file's stdio buffer, set before the first send so that nothing is
 * allocated while running; each write() it makes is a short one */
#define SAMPLES_FILE_BUF (64u * 1024u)
#define PAGE_BYTES       4096u

/* Counters in struct rtv_ol_result may be read by another process while
 * this one writes them: one writer, relaxed atomic stores. */
static inline void count_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

/* Errors a connected UDP socket reports from ICMP messages about earlier
 * datagrams: they concern the path, not this call, and are consumed by it. */
static bool is_path_error(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN ||
	       e == ENETDOWN || e == EPROTO || e == ENONET || e == EMSGSIZE;
}

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_DONE };

struct slot {
	uint64_t seq;
	int64_t intended_ns; /* S_i */
	int64_t sent_ns;     /* actual send time */
	uint8_t state;       /* enum slot_state */
	uint8_t kind;        /* the protocol's */
	bool warm;           /* sent during the warm-up: not measured */
	bool unsent;         /* encode failed: nothing went, no reply will come */
};

/* A measured request as resolved, held until written as a samples line. */
struct sample {
	uint64_t seq;
	int64_t intended_ns; /* S_i - start_ns */
	int64_t latency_ns;  /* T_reply - S_i */
	int64_t service_ns;  /* T_reply - actual send time */
	bool lost;
};

/* A connection (TCP) or connected socket (UDP). */
struct conn {
	int fd;          /* -1: broken, or never made */
	uint64_t expect; /* replies by order: the seq the next reply answers */
	/* a stream's bytes received and not yet parsed, rx[0..rx_len) */
	unsigned char *rx;
	size_t rx_len;
	/* a stream's bytes the kernel has not taken yet, tx[tx_off..tx_len) */
	unsigned char *tx;
	size_t tx_off, tx_len;
};

struct client {
	const struct rtv_ol_cfg *cfg;
	const struct rtv_ol_proto *proto;
	struct rtv_ol_result *res;
	bool stream;
	int nconn;
	struct conn conn[RTV_OL_MAX_CONN];
	struct pollfd pfd[RTV_OL_MAX_CONN];
	int64_t timeout_ns;
	int64_t warm_end_ns; /* S_i below this: warm-up */
	uint64_t idmask;     /* a reply's id: the low bits of its seq */
	/* Outstanding requests: seq lives in ring[seq & mask]; tail is the
	 * oldest seq not yet retired, next_seq the next to send, and
	 * next_seq - tail <= mask + 1. */
	struct slot *ring;
	uint64_t mask;
	uint64_t tail, next_seq;
	uint64_t measured; /* requests sent after the warm-up */
	uint64_t pending;  /* requests sent and not yet answered or lost */
	unsigned char *txbuf; /* RTV_OL_REQ_MAX */
	/* datagrams */
	unsigned char *rx;    /* RX_BATCH * DGRAM_MAX */
	struct iovec iov[RX_BATCH];
	struct mmsghdr msgs[RX_BATCH];
	/* --samples: the file, and a ring of records not yet written to it,
	 * in the order the requests were resolved: sample[(head + i) & smask]
	 * for i < nsamples. Formatting and writing happen in client_loop(),
	 * off the path of replies: while the client waits for its next send,
	 * or, when held and outstanding would no longer fit, before it sends.
	 * A request adds one record when it resolves, so nsamples +
	 * outstanding only grows by sends, and the ring never overflows. */
	FILE *samples;
	char *samples_buf;
	struct sample *sample;
	uint64_t smask;
	uint64_t sample_head, nsamples;
};

/* Touch every page of p now, so that the loop never takes a page fault on
 * it (a memset of calloc'd memory is dropped by the compiler; volatile
 * stores are not). */
static void prefault(void *p, size_t len)
{
	volatile char *b = p;

	for (size_t i = 0; i < len; i += PAGE_BYTES)
		b[i] = 0;
}

/* Room for every request that can be outstanding: replies take at most
 * timeout, so timeout / min interval on the schedule; doubled so a burst of
 * overdue sends after the client was descheduled rarely fills it. No more
 * than the ids a reply can name. */
static uint64_t ring_size(int64_t timeout_ns, int64_t min_interval_ns, unsigned id_bits)
{
	uint64_t need, size = 64, max = RTV_OL_RING_MAX;

	if (id_bits && id_bits < 64 && (UINT64_C(1) << id_bits) < max)
		max = UINT64_C(1) << id_bits;
	if (min_interval_ns <= 0)
		need = max;
	else
		need = (uint64_t)(timeout_ns / min_interval_ns) * 2 + 2;
	while (size < need && size < max)
		size <<= 1;
	return size;
}

uint64_t rtv_ol_tag(uint64_t seed)
{
	uint64_t tag;

	if (getrandom(&tag, sizeof(tag), GRND_NONBLOCK) == (ssize_t)sizeof(tag))
		return tag;
	/* no entropy yet: different per process and per start time */
	return ((uint64_t)rtv_realtime_ns() * UINT64_C(0x9e3779b97f4a7c15)) ^
	       ((uint64_t)getpid() << 32) ^ seed;
}

/* A connection to the server: a connected UDP socket, or a TCP connection
 * made here (blocking, before the first send) with Nagle off. */
static int conn_open(const struct rtv_ol_cfg *cfg, bool stream)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	err = rtv_sockaddr_parse(cfg->addr, cfg->port, &ss, &len);
	if (err < 0)
		return err;
	if (!stream)
		return rtv_sockaddr_udp_connect(&ss, len);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The server closed or reset it, or its framing is lost: its requests
 * time out. */
static void conn_break(struct client *c, struct conn *k)
{
	if (k->fd < 0)
		return;
	close(k->fd);
	k->fd = -1;
	c->pfd[k - c->conn].fd = -1;
	count_inc(&c->res->broken);
}

/* Hand the kernel what a stream's buffer holds; 0, or -1 when the
 * connection broke. */
static int conn_flush(struct client *c, struct conn *k)
{
	ssize_t n;

	while (k->tx_off < k->tx_len) {
		n = send(k->fd, k->tx + k->tx_off, k->tx_len - k->tx_off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_break(c, k);
			return -1;
		}
		k->tx_off += (size_t)n;
	}
	if (k->tx_off == k->tx_len)
		k->tx_off = k->tx_len = 0;
	c->pfd[k - c->conn].events = POLLIN | (k->tx_len ? POLLOUT : 0);
	return 0;
}

/* Send len bytes of a request on k. A datagram that fails is lost; a
 * stream's bytes the kernel does not take wait in k->tx (behind earlier
 * ones, so the framing holds). */
static void conn_send(struct client *c, struct conn *k, const unsigned char *buf, size_t len)
{
	ssize_t n = 0;

	if (k->fd < 0)
		return;
	if (!c->stream) {
		n = send(k->fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && is_path_error(errno)) /* an earlier datagram's ICMP error, now consumed */
			(void)send(k->fd, buf, len, MSG_DONTWAIT);
		return; /* a send that still failed stays pending and times out: it is lost */
	}
	/* bytes held from earlier sends go first (a client that spins or
	 * sends a burst may not have polled for POLLOUT since) */
	if (k->tx_len && conn_flush(c, k) < 0)
		return;
	if (!k->tx_len) {
		n = send(k->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			conn_break(c, k);
			return;
		}
		if (n < 0)
			n = 0;
		if ((size_t)n == len)
			return;
	}
	if (k->tx_len + (len - (size_t)n) > RTV_OL_STREAM_BUF) {
		conn_break(c, k); /* the server stopped reading long ago */
		return;
	}
	memcpy(k->tx + k->tx_len, buf + n, len - (size_t)n);
	k->tx_len += len - (size_t)n;
	c->pfd[k - c->conn].events = POLLIN | POLLOUT;
}

/* Write the oldest n held samples to the file, one line each. */
static void samples_write(struct client *c, uint64_t n)
{
	const struct sample *r;

	for (; n > 0; n--, c->nsamples--) {
		r = &c->sample[c->sample_head];
		c->sample_head = (c->sample_head + 1) & c->smask;
		if (r->lost)
			fprintf(c->samples, "%" PRIu64 " %" PRId64 " lost\n", r->seq, r->intended_ns);
		else
			fprintf(c->samples, "%" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", r->seq,
				r->intended_ns, r->latency_ns, r->service_ns);
	}
}

/* Hold a sample for the request in s, answered at now (0: lost). No
 * formatting, no system call: there is room (see struct client). */
static void sample_record(struct client *c, const struct slot *s, int64_t now)
{
	struct sample *r;

	if (!c->samples || c->nsamples > c->smask)
		return; /* cannot happen: the guard keeps memory safe */
	r = &c->sample[(c->sample_head + c->nsamples) & c->smask];
	r->seq = s->seq;
	r->intended_ns = s->intended_ns - c->res->start_ns;
	r->latency_ns = now ? now - s->intended_ns : 0;
	r->service_ns = now ? now - s->sent_ns : 0;
	r->lost = !now;
	c->nsamples++;
}

static void dry_reply(struct client *c, struct conn *k, size_t len);

static void send_request(struct client *c, int64_t intended_ns)
{
	struct slot *s = &c->ring[c->next_seq & c->mask];
	struct conn *k = &c->conn[c->next_seq % (uint64_t)c->nconn];
	uint8_t kind = 0;
	int64_t now;
	ssize_t n;
	bool unsent;

	now = rtv_now_ns();
	n = c->proto->encode(c->cfg->proto_ctx, c->next_seq, intended_ns, now, c->txbuf,
			     RTV_OL_REQ_MAX, &kind);
	unsent = n <= 0 || (size_t)n > RTV_OL_REQ_MAX;
	if (!unsent)
		conn_send(c, k, c->txbuf, (size_t)n);
	/* a request that could not be written stays pending and times out */

	s->seq = c->next_seq;
	s->intended_ns = intended_ns;
	s->sent_ns = now;
	s->state = SLOT_PENDING;
	c->pending++;
	s->kind = kind;
	s->warm = intended_ns < c->warm_end_ns;
	s->unsent = unsent;
	c->next_seq++;
	if (s->warm) {
		count_inc(&c->res->warmup);
	} else {
		c->measured++;
		count_inc(&c->res->sent);
		if (now - intended_ns > RTV_OL_LATE_NS)
			count_inc(&c->res->late);
	}
	if (c->cfg->respond && !unsent)
		dry_reply(c, k, (size_t)n);
}

/* The reply r for request seq arrived at now: true when it resolved it. */
static bool resolve(struct client *c, uint64_t seq, const struct rtv_ol_reply *r, int64_t now)
{
	struct slot *s;

	if (seq < c->tail || seq >= c->next_seq)
		goto stray;
	s = &c->ring[seq & c->mask];
	if (s->state != SLOT_PENDING || s->seq != seq ||
	    (r->intended_ns != INT64_MIN && r->intended_ns != s->intended_ns))
		goto stray; /* a duplicate, or forged */
	if (now - s->sent_ns > c->timeout_ns)
		goto stray; /* too late: expire() counts the request lost */
	s->state = SLOT_DONE;
	c->pending--;
	if (s->warm)
		return true;
	rtv_hist_record(&c->res->rtt, now - s->intended_ns);
	rtv_hist_record(&c->res->service, now - s->sent_ns);
	count_inc(&c->res->received);
	if (r->status == RTV_OL_MISS)
		count_inc(&c->res->misses);
	else if (r->status == RTV_OL_ERROR)
		count_inc(&c->res->errors);
	sample_record(c, s, now);
	return true;
stray:
	count_inc(&c->res->stray);
	return false;
}

/* The reply r resolved request seq: its follow-ups go on k. */
static void follow_up(struct client *c, struct conn *k, uint64_t seq, const struct rtv_ol_reply *r)
{
	ssize_t n;

	for (unsigned i = 0; i < r->follow && c->proto->follow; i++) {
		n = c->proto->follow(c->cfg->proto_ctx, seq, i, c->txbuf, RTV_OL_REQ_MAX);
		if (n <= 0 || (size_t)n > RTV_OL_REQ_MAX)
			continue;
		conn_send(c, k, c->txbuf, (size_t)n);
		count_inc(&c->res->followed);
	}
}

/* A reply taken: resolve its request, or count it ignored. */
static void take(struct client *c, struct conn *k, uint64_t seq, const struct rtv_ol_reply *r,
		 int64_t now)
{
	if (r->ignore)
		count_inc(&c->res->ignored);
	else if (resolve(c, seq, r, now) && r->follow)
		follow_up(c, k, seq, r);
}

/* A reply that names its request: the outstanding seq with those low bits. */
static uint64_t seq_of_id(const struct client *c, uint64_t id)
{
	if (c->idmask == UINT64_MAX)
		return id;
	return c->tail + ((id - c->tail) & c->idmask);
}

static void handle_datagram(struct client *c, struct conn *k, const unsigned char *p, size_t len,
			    int64_t now)
{
	struct rtv_ol_reply r = { .intended_ns = INT64_MIN, .dgram_len = len };

	if ((len > DGRAM_MAX && !c->proto->truncated_ok) ||
	    c->proto->parse(c->cfg->proto_ctx, -1, p, len > DGRAM_MAX ? DGRAM_MAX : len, &r) <= 0) {
		count_inc(&c->res->stray);
		return;
	}
	take(c, k, r.ignore ? 0 : seq_of_id(c, r.id), &r, now);
}

/* Take every datagram waiting on k; 0 or -errno. */
static int recv_datagrams(struct client *c, struct conn *k)
{
	int64_t now;
	int i, n;

	for (;;) {
		/* MSG_TRUNC: msg_len is the datagram's real length, though only
		 * DGRAM_MAX bytes are copied */
		n = recvmmsg(k->fd, c->msgs, RX_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR || is_path_error(errno))
				continue; /* the server's port is closed, say: requests time out */
			return -errno;
		}
		now = rtv_now_ns();
		for (i = 0; i < n; i++)
			handle_datagram(c, k, c->rx + (size_t)i * DGRAM_MAX, c->msgs[i].msg_len, now);
		if (n < RX_BATCH)
			return 0;
	}
}

/* Take what a stream holds and the replies in it. */
/* Parse the replies a stream's buffer holds, received at now; false when
 * its framing is lost (the connection is then broken). */
static bool stream_take(struct client *c, struct conn *k, int64_t now)
{
	struct rtv_ol_reply r;
	uint64_t seq;
	size_t off = 0;
	ssize_t n;
	int kind;

	for (;;) {
		r = (struct rtv_ol_reply){ .intended_ns = INT64_MIN };
		/* replies by order: no reply comes for a request never sent */
		while (!c->proto->id_bits && k->expect < c->next_seq &&
		       c->ring[k->expect & c->mask].seq == k->expect &&
		       c->ring[k->expect & c->mask].unsent)
			k->expect += (uint64_t)c->nconn;
		seq = k->expect;
		/* a late reply's request is retired, but its slot holds
		 * its kind until a later request takes it */
		kind = c->proto->id_bits || seq >= c->next_seq || c->ring[seq & c->mask].seq != seq ?
			       -1 :
			       c->ring[seq & c->mask].kind;
		n = c->proto->parse(c->cfg->proto_ctx, kind, k->rx + off, k->rx_len - off, &r);
		if (n == 0)
			break;
		if (n < 0 || (size_t)n > k->rx_len - off) {
			count_inc(&c->res->stray);
			conn_break(c, k);
			return false;
		}
		off += (size_t)n;
		if (r.ignore) {
			count_inc(&c->res->ignored);
			continue;
		}
		if (c->proto->id_bits)
			seq = seq_of_id(c, r.id);
		else
			k->expect += (uint64_t)c->nconn;
		take(c, k, seq, &r, now);
	}
	if (off) {
		memmove(k->rx, k->rx + off, k->rx_len - off);
		k->rx_len -= off;
	}
	return true;
}

/* Take what a stream holds and the replies in it. */
static void recv_stream(struct client *c, struct conn *k)
{
	ssize_t got;

	for (;;) {
		if (k->rx_len == RTV_OL_STREAM_BUF) { /* no reply is this long */
			count_inc(&c->res->stray);
			conn_break(c, k);
			return;
		}
		got = recv(k->fd, k->rx + k->rx_len, RTV_OL_STREAM_BUF - k->rx_len, MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (got <= 0) { /* closed, or reset */
			conn_break(c, k);
			return;
		}
		k->rx_len += (size_t)got;
		if (!stream_take(c, k, rtv_now_ns()))
			return;
		if ((size_t)got < RTV_OL_STREAM_BUF / 2)
			return; /* most likely all there was */
	}
}

/* cfg->respond in place of a server: request seq (its bytes in txbuf)
 * answered at once, the reply read as one from the connection would be. */
static void dry_reply(struct client *c, struct conn *k, size_t len)
{
	ssize_t n;

	if (c->stream) {
		n = c->cfg->respond(c->cfg->respond_arg, c->txbuf, len, k->rx + k->rx_len,
				    RTV_OL_STREAM_BUF - k->rx_len);
		if (n > 0) {
			k->rx_len += (size_t)n;
			stream_take(c, k, rtv_now_ns());
		}
		return;
	}
	n = c->cfg->respond(c->cfg->respond_arg, c->txbuf, len, c->rx, DGRAM_MAX);
	if (n > 0)
		handle_datagram(c, k, c->rx, (size_t)n, rtv_now_ns());
}

/* Take every reply waiting on every connection; 0 or -errno. */
static int recv_replies(struct client *c)
{
	int i, err;

	for (i = 0; i < c->nconn; i++) {
		if (c->conn[i].fd < 0)
			continue;
		if (c->stream) {
			recv_stream(c, &c->conn[i]);
		} else {
			err = recv_datagrams(c, &c->conn[i]);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* Write held samples, SAMPLES_CHUNK lines at a time, while the next send
 * (send_ns) is at least SAMPLES_IDLE_NS away: the schedule is absolute, so
 * writing that ends before the send changes nothing for it. With force, one
 * chunk whatever the time (the ring needs room before the next send: high
 * rates only; that send is late by the chunk, and counted in `late` as any
 * late send is). Before each chunk it takes the replies that have arrived,
 * so that none is timestamped late by more than a chunk. Returns the number
 * of lines written, or -errno from recv_replies(). */
static int samples_flush(struct client *c, int64_t send_ns, bool force)
{
	uint64_t n;
	int err, done = 0;

	while (c->nsamples && (force || send_ns - rtv_now_ns() >= SAMPLES_IDLE_NS)) {
		if (c->tail != c->next_seq) {
			err = recv_replies(c);
			if (err < 0)
				return err;
		}
		n = c->nsamples < SAMPLES_CHUNK ? c->nsamples : SAMPLES_CHUNK;
		samples_write(c, n);
		done += (int)n;
		if (force)
			break;
	}
	return done;
}

/* Retire resolved requests from the tail, counting as lost those pending
 * for more than the timeout since they were sent. Sends happen in seq order
 * at non-decreasing times, so deadlines are in seq order too. */
static void expire(struct client *c, int64_t now)
{
	struct slot *s;

	while (c->tail != c->next_seq) {
		s = &c->ring[c->tail & c->mask];
		if (s->state == SLOT_PENDING) {
			if (now - s->sent_ns <= c->timeout_ns)
				break;
			c->pending--;
			if (!s->warm) {
				count_inc(&c->res->lost);
				sample_record(c, s, 0);
			}
		}
		s->state = SLOT_FREE;
		c->tail++;
	}
}

static int client_check(const struct rtv_ol_cfg *cfg)
{
	const struct rtv_ol_proto *p = cfg->proto;

	if (!cfg->addr || !p || !p->encode || !p->parse || p->id_bits > 64 ||
	    (p->socktype != SOCK_DGRAM && p->socktype != SOCK_STREAM) ||
	    (p->socktype == SOCK_DGRAM && !p->id_bits))
		return -EINVAL;
	if (cfg->nconn < 0 || cfg->nconn > RTV_OL_MAX_CONN)
		return -EINVAL;
	if (rtv_interval_check(&cfg->interval) < 0)
		return -EINVAL;
	if (cfg->duration_ns < 0 || cfg->timeout_ns < 0 || cfg->warmup_ns < 0 || cfg->spin_ns < 0)
		return -EINVAL;
	if (!cfg->duration_ns && !cfg->count)
		return -EINVAL;
	if (cfg->duration_ns && cfg->warmup_ns >= cfg->duration_ns)
		return -EINVAL;
	return 0;
}

static void result_init(struct rtv_ol_result *res)
{
	uint64_t *counter[] = { &res->sent,   &res->received, &res->lost,  &res->late,
				&res->misses, &res->errors,   &res->warmup, &res->stray,
				&res->broken, &res->ignored,  &res->followed };

	rtv_hist_init(&res->rtt);
	rtv_hist_init(&res->service);
	/* read meanwhile for a progress line, like every later update */
	for (size_t i = 0; i < sizeof(counter) / sizeof(counter[0]); i++)
		__atomic_store_n(counter[i], 0, __ATOMIC_RELAXED);
	res->start_ns = res->end_ns = 0;
}

static int client_loop(struct client *c, const volatile sig_atomic_t *stop)
{
	const struct rtv_ol_cfg *cfg = c->cfg;
	struct rtv_rng rng;
	struct timespec ts;
	int64_t t0, intended, now, wake, wait, x;
	bool sending = true, can_send;
	/* an interval of 0: as fast as the window lets, each request due when
	 * it can go (closed loop: rtt is service), the duration by the clock */
	bool closed = cfg->interval.max_ns == 0;
	int i, n, err;

	rtv_rng_seed(&rng, cfg->seed);
	t0 = rtv_now_ns();
	c->res->start_ns = t0;
	c->warm_end_ns = rtv_ns_add_sat(t0, cfg->warmup_ns);
	intended = t0; /* S_0 */

	for (;;) {
		now = rtv_now_ns();
		expire(c, now);
		if (sending && (rtv_stop_read(stop) || (cfg->duration_ns && intended - t0 >= cfg->duration_ns) ||
				(cfg->count && c->measured >= cfg->count)))
			sending = false;
		if (!sending && c->tail == c->next_seq)
			return 0;
		can_send = sending && c->next_seq - c->tail <= c->mask && /* room in the ring */
			   (!cfg->window || c->pending < cfg->window);
		if (can_send && now >= intended && c->samples &&
		    c->nsamples + (c->next_seq - c->tail) > c->smask) {
			/* the samples' ring must hold the held and every outstanding one */
			n = samples_flush(c, intended, true);
			if (n < 0)
				return n;
			continue;
		}
		if (can_send && closed)
			intended = now; /* no schedule: due when the window lets it go */
		if (can_send && now >= intended) {
			/* on time or late: send now, measured from S_i either way */
			send_request(c, intended);
			/* catching up with overdue sends (no wait between them):
			 * take the replies every RX_BATCH sends, lest they overflow
			 * the socket's receive buffer (lost, though answered) */
			if (now - intended > RTV_OL_LATE_NS && c->next_seq % RX_BATCH == 0) {
				err = recv_replies(c);
				if (err < 0)
					return err;
			}
			x = rtv_interval_next(&cfg->interval, &rng);
			intended = rtv_ns_add_sat(intended, x);
			continue;
		}

		wake = INT64_MAX;
		if (can_send)
			wake = intended - cfg->spin_ns;
		if (c->tail != c->next_seq) { /* the oldest is pending after expire() */
			x = rtv_ns_add_sat(c->ring[c->tail & c->mask].sent_ns, c->timeout_ns);
			x = rtv_ns_add_sat(x, 1);
			if (x < wake)
				wake = x;
		}
		if (can_send && now >= intended - cfg->spin_ns) {
			/* the last spin_ns before a send: poll for replies, no sleep */
			err = recv_replies(c);
			if (err < 0)
				return err;
			continue;
		}
		if (c->nsamples && can_send) {
			/* about to sleep until a send: write the samples held if there
			 * is time (not while draining: the end writes what is left) */
			n = samples_flush(c, intended - cfg->spin_ns, false);
			if (n < 0)
				return n;
			if (n > 0)
				continue; /* time has passed: look again */
		}
		wait = wake - now;
		if (wait <= 0)
			continue;
		if (wait > RTV_OL_STOP_CHECK_NS)
			wait = RTV_OL_STOP_CHECK_NS;
		ts = rtv_ns_to_ts(wait);
		n = ppoll(c->pfd, (nfds_t)c->nconn, &ts, NULL);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		for (i = 0; c->stream && i < c->nconn; i++)
			if (c->conn[i].fd >= 0 && (c->pfd[i].revents & POLLOUT))
				conn_flush(c, &c->conn[i]);
		err = recv_replies(c);
		if (err < 0)
			return err;
	}
}

static void client_free(struct client *c)
{
	for (int i = 0; i < RTV_OL_MAX_CONN; i++) {
		if (c->conn[i].fd >= 0)
			close(c->conn[i].fd);
		free(c->conn[i].rx);
		free(c->conn[i].tx);
	}
	free(c->samples_buf);
	free(c->sample);
	free(c->txbuf);
	free(c->rx);
	free(c->ring);
	free(c);
}

/* Everything the loop uses, allocated and touched before the first send. */
static int client_alloc(struct client *c, const struct rtv_ol_cfg *cfg)
{
	uint64_t size;
	int i;

	size = ring_size(c->timeout_ns, cfg->interval.min_ns, c->proto->id_bits);
	c->mask = size - 1;
	c->ring = calloc(size, sizeof(*c->ring));
	c->txbuf = calloc(1, RTV_OL_REQ_MAX);
	if (!c->ring || !c->txbuf)
		return -ENOMEM;
	prefault(c->ring, size * sizeof(*c->ring));
	prefault(c->txbuf, RTV_OL_REQ_MAX);
	if (!c->stream) {
		c->rx = calloc(RX_BATCH, DGRAM_MAX);
		if (!c->rx)
			return -ENOMEM;
		for (i = 0; i < RX_BATCH; i++) {
			c->iov[i].iov_base = c->rx + (size_t)i * DGRAM_MAX;
			c->iov[i].iov_len = DGRAM_MAX;
			c->msgs[i].msg_hdr.msg_iov = &c->iov[i];
			c->msgs[i].msg_hdr.msg_iovlen = 1;
		}
	}
	for (i = 0; c->stream && i < c->nconn; i++) {
		c->conn[i].rx = malloc(RTV_OL_STREAM_BUF);
		c->conn[i].tx = malloc(RTV_OL_STREAM_BUF);
		if (!c->conn[i].rx || !c->conn[i].tx)
			return -ENOMEM;
		prefault(c->conn[i].rx, RTV_OL_STREAM_BUF);
		prefault(c->conn[i].tx, RTV_OL_STREAM_BUF);
	}
	if (cfg->samples_path) {
		c->samples = fopen(cfg->samples_path, "we");
		if (!c->samples)
			return -errno;
		c->samples_buf = malloc(SAMPLES_FILE_BUF);
		if (c->samples_buf) {
			prefault(c->samples_buf, SAMPLES_FILE_BUF);
			setvbuf(c->samples, c->samples_buf, _IOFBF, SAMPLES_FILE_BUF);
		}
		/* room for twice every request that can be outstanding */
		c->smask = (size * 2 > SAMPLES_MIN ? size * 2 : SAMPLES_MIN) - 1;
		c->sample = calloc(c->smask + 1, sizeof(*c->sample));
		if (!c->sample)
			return -ENOMEM;
		prefault(c->sample, (c->smask + 1) * sizeof(*c->sample));
	}
	return 0;
}

int rtv_ol_run(const struct rtv_ol_cfg *cfg, const volatile sig_atomic_t *stop,
	       struct rtv_ol_result *res)
{
	struct client *c = NULL;
	int old_slack = -1, err, i;

	if (!res)
		return -EINVAL;
	result_init(res);
	if (!cfg || !stop)
		return -EINVAL;
	err = client_check(cfg);
	if (err < 0)
		return err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (i = 0; i < RTV_OL_MAX_CONN; i++)
		c->conn[i].fd = -1;
	c->cfg = cfg;
	c->proto = cfg->proto;
	c->res = res;
	c->stream = cfg->proto->socktype == SOCK_STREAM;
	c->nconn = cfg->nconn ? cfg->nconn : 1;
	c->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : RTV_OL_DEFAULT_TIMEOUT_NS;
	c->idmask = c->proto->id_bits >= 64 ? UINT64_MAX :
		    c->proto->id_bits ? (UINT64_C(1) << c->proto->id_bits) - 1 : 0;

	err = client_alloc(c, cfg);
	for (i = 0; !err && i < c->nconn; i++) {
		if (cfg->respond) { /* no server, no socket */
			c->conn[i].expect = (uint64_t)i;
			c->pfd[i] = (struct pollfd){ .fd = -1 };
			continue;
		}
		err = conn_open(cfg, c->stream);
		if (err >= 0) {
			c->conn[i].fd = err;
			c->conn[i].expect = (uint64_t)i;
			c->pfd[i] = (struct pollfd){ .fd = err, .events = POLLIN };
			err = 0;
		}
	}
	if (err < 0)
		goto out;

	old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (old_slack >= 0)
		prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	err = client_loop(c, stop);
	res->end_ns = rtv_now_ns();
out:
	if (old_slack >= 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)old_slack, 0, 0, 0);
	if (c->samples) {
		samples_write(c, c->nsamples); /* what is left, also after an error */
		if (ferror(c->samples) && !err)
			err = -EIO;
		if (fclose(c->samples) != 0 && !err)
			err = -EIO;
	}
	client_free(c);
	return err;
}
