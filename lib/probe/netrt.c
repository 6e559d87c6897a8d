/* NetRT: the RT UDP echo server and its open-loop client; see netrt.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "probe/probe.h"
#include "probe/netrt.h"
#include "report/histjson.h"
#include "util/json.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define SERVER_BUF_SIZE 65536u
#define RX_BATCH        16   /* replies taken per recvmmsg() */
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

/* Offsets in the payload; see netrt.h. */
#define OFF_TAG      0
#define OFF_SEQ      8
#define OFF_INTENDED 16
#define OFF_SENT     24

/* Counters in struct rtv_netrt_result may be read by another process while
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

/* ---- server ---- */

int rtv_netrt_server_open(const struct rtv_netrt_server_cfg *cfg)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	socklen_t sslen;
	int fd = -1, one = 1, zero = 0, err;

	if (!cfg)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (cfg->bind_addr) {
		err = rtv_sockaddr_parse(cfg->bind_addr, cfg->port, &ss, &sslen);
		if (err < 0)
			return err;
	} else {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons(cfg->port);
		sslen = sizeof(*a6);
	}

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && !cfg->bind_addr && errno == EAFNOSUPPORT) {
		/* no IPv6 in this kernel: IPv4 any */
		memset(&ss, 0, sizeof(ss));
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
		a4->sin_port = htons(cfg->port);
		sslen = sizeof(*a4);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
	if (!cfg->bind_addr && ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
		err = -errno;
		goto out;
	}
	/* On any address, each request's own destination address comes with
	 * it, so that the reply leaves from it: a connected client takes
	 * replies from the address it sent to only, and the kernel's choice of
	 * source may differ (a host's other IPv6 link-local address, an IPv4
	 * secondary address). IPv4 on a dual-stack socket too. */
	if (!cfg->bind_addr && ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
	if (!cfg->bind_addr && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		err = -errno;
		goto out;
	}
	err = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int rtv_netrt_sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

/* The control message a request came with, turned into the one that sends
 * its reply from the address the request was sent to: IPv6 keeps the
 * interface (a link-local address needs it); IPv4 gives the local address
 * in ipi_spec_dst and leaves the interface to routing. Returns the length
 * of the reply's control data, 0 for none (a socket bound to one address). */
static size_t reply_pktinfo(struct msghdr *mh)
{
	struct cmsghdr *cm;
	size_t len;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO)
			break;
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			pi.ipi_ifindex = 0;
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
			break;
		}
	}
	if (!cm)
		return 0;
	len = CMSG_SPACE(cm->cmsg_len - CMSG_LEN(0));
	if ((void *)cm != mh->msg_control) /* the reply's control data holds it alone */
		memmove(mh->msg_control, cm, cm->cmsg_len);
	return len;
}

int rtv_netrt_server_serve(int fd, const volatile sig_atomic_t *stop,
			   struct rtv_netrt_server_stats *st)
{
	return rtv_netrt_server_serve_delayed(fd, stop, st, 0);
}

int rtv_netrt_server_serve_delayed(int fd, const volatile sig_atomic_t *stop,
				   struct rtv_netrt_server_stats *st, int64_t reply_delay_ns)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = RTV_NETRT_STOP_CHECK_NS / RTV_NS_PER_US };
	struct rtv_netrt_server_stats dummy = { 0 };
	struct sockaddr_storage from;
	union { /* aligned for cmsghdr */
		struct cmsghdr align;
		unsigned char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				  CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	unsigned char *buf;
	ssize_t n;
	int err = 0;

	if (fd < 0 || !stop)
		return -EINVAL;
	if (!st)
		st = &dummy;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	buf = malloc(SERVER_BUF_SIZE);
	if (!buf)
		return -ENOMEM;

	while (!rtv_stop_read(stop)) {
		iov = (struct iovec){ .iov_base = buf, .iov_len = SERVER_BUF_SIZE };
		mh = (struct msghdr){ .msg_name = &from, .msg_namelen = sizeof(from),
				      .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    is_path_error(errno))
				continue;
			err = -errno;
			break;
		}
		count_inc(&st->requests);
		if (reply_delay_ns > 0)
			rtv_sleep_until_ns(rtv_now_ns() + reply_delay_ns);
		/* the same datagram back, from the address it came to */
		iov.iov_len = (size_t)n;
		mh.msg_controllen = reply_pktinfo(&mh);
		if (!mh.msg_controllen)
			mh.msg_control = NULL;
		mh.msg_flags = 0;
		/* a failure concerns this reply only: the client sees it lost */
		(void)sendmsg(fd, &mh, 0);
		if (st->requests % RTV_NETRT_NAPI_SAMPLE == 1) { /* after the reply: off its path */
			unsigned int id = 0;
			socklen_t len = sizeof(id);

			if (!getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &id, &len)) {
				__atomic_store_n(&st->napi_id, id, __ATOMIC_RELAXED);
				count_inc(&st->napi_samples);
				if (id)
					count_inc(&st->napi_path);
			}
		}
	}
	free(buf);
	return err;
}

int rtv_netrt_server_run(const struct rtv_netrt_server_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_netrt_server_stats *st)
{
	int fd, err;

	fd = rtv_netrt_server_open(cfg);
	if (fd < 0)
		return fd;
	err = rtv_netrt_server_serve(fd, stop, st);
	close(fd);
	return err;
}

/* ---- client ---- */

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_DONE };

struct slot {
	uint64_t seq;
	int64_t intended_ns; /* S_i */
	int64_t sent_ns;     /* actual send time */
	uint8_t state;       /* enum slot_state */
	bool warm;           /* sent during the warm-up: not measured */
};

/* A measured request as resolved, held until written as a samples line. */
struct sample {
	uint64_t seq;
	int64_t intended_ns; /* S_i - start_ns */
	int64_t latency_ns;  /* T_reply - S_i */
	int64_t service_ns;  /* T_reply - actual send time */
	bool lost;
};

struct client {
	const struct rtv_netrt_client_cfg *cfg;
	struct rtv_netrt_result *res;
	int fd;
	size_t payload;
	int64_t timeout_ns;
	int64_t warm_end_ns; /* S_i below this: warm-up */
	uint64_t tag;
	/* Outstanding requests: seq lives in ring[seq & mask]; tail is the
	 * oldest seq not yet retired, next_seq the next to send, and
	 * next_seq - tail <= mask + 1. */
	struct slot *ring;
	uint64_t mask;
	uint64_t tail, next_seq;
	uint64_t measured; /* requests sent after the warm-up */
	unsigned char *tx;
	unsigned char rx[RX_BATCH][RTV_NETRT_MIN_PAYLOAD];
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
 * overdue sends after the client was descheduled rarely fills it. */
static uint64_t ring_size(int64_t timeout_ns, int64_t min_interval_ns)
{
	uint64_t need, size = 64;

	if (min_interval_ns <= 0)
		need = RTV_NETRT_RING_MAX;
	else
		need = (uint64_t)(timeout_ns / min_interval_ns) * 2 + 2;
	while (size < need && size < RTV_NETRT_RING_MAX)
		size <<= 1;
	return size;
}

static uint64_t run_tag(uint64_t seed)
{
	uint64_t tag;

	if (getrandom(&tag, sizeof(tag), GRND_NONBLOCK) == (ssize_t)sizeof(tag))
		return tag;
	/* no entropy yet: different per process and per start time */
	return ((uint64_t)rtv_realtime_ns() * UINT64_C(0x9e3779b97f4a7c15)) ^
	       ((uint64_t)getpid() << 32) ^ seed;
}

static int client_connect(const struct rtv_netrt_client_cfg *cfg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err;

	err = rtv_sockaddr_parse(cfg->addr, cfg->port ? cfg->port : RTV_NETRT_DEFAULT_PORT, &ss, &len);
	return err < 0 ? err : rtv_sockaddr_udp_connect(&ss, len);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
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

static void send_request(struct client *c, int64_t intended_ns)
{
	struct slot *s = &c->ring[c->next_seq & c->mask];
	int64_t now;
	ssize_t n;

	put_u64(c->tx + OFF_SEQ, c->next_seq);
	put_u64(c->tx + OFF_INTENDED, (uint64_t)intended_ns);
	now = rtv_now_ns();
	put_u64(c->tx + OFF_SENT, (uint64_t)now);
	n = send(c->fd, c->tx, c->payload, MSG_DONTWAIT);
	if (n < 0 && is_path_error(errno)) /* an earlier datagram's ICMP error, now consumed */
		n = send(c->fd, c->tx, c->payload, MSG_DONTWAIT);
	/* a send that still failed stays pending and times out: it is lost */

	s->seq = c->next_seq;
	s->intended_ns = intended_ns;
	s->sent_ns = now;
	s->state = SLOT_PENDING;
	s->warm = intended_ns < c->warm_end_ns;
	c->next_seq++;
	if (s->warm) {
		count_inc(&c->res->warmup);
		return;
	}
	c->measured++;
	count_inc(&c->res->sent);
	if (now - intended_ns > RTV_NETRT_LATE_NS)
		count_inc(&c->res->late);
}

static void handle_reply(struct client *c, const unsigned char *p, size_t len, int64_t now)
{
	struct slot *s;
	uint64_t seq;

	if (len != c->payload || get_u64(p + OFF_TAG) != c->tag)
		goto stray;
	seq = get_u64(p + OFF_SEQ);
	if (seq < c->tail || seq >= c->next_seq)
		goto stray;
	s = &c->ring[seq & c->mask];
	if (s->state != SLOT_PENDING || s->seq != seq ||
	    (int64_t)get_u64(p + OFF_INTENDED) != s->intended_ns)
		goto stray; /* a duplicate, or forged */
	if (now - s->sent_ns > c->timeout_ns)
		goto stray; /* too late: expire() counts the request lost */
	s->state = SLOT_DONE;
	if (s->warm)
		return;
	rtv_hist_record(&c->res->rtt, now - s->intended_ns);
	rtv_hist_record(&c->res->service, now - s->sent_ns);
	count_inc(&c->res->received);
	sample_record(c, s, now);
	return;
stray:
	count_inc(&c->res->stray);
}

/* Take every reply waiting on the socket; 0 or -errno. */
static int recv_replies(struct client *c)
{
	int64_t now;
	int i, n;

	for (;;) {
		/* MSG_TRUNC: msg_len is the datagram's real length, though only
		 * its header is copied */
		n = recvmmsg(c->fd, c->msgs, RX_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR || is_path_error(errno))
				continue; /* the server's port is closed, say: requests time out */
			return -errno;
		}
		now = rtv_now_ns();
		for (i = 0; i < n; i++)
			handle_reply(c, c->rx[i], c->msgs[i].msg_len, now);
		if (n < RX_BATCH)
			return 0;
	}
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
			if (!s->warm) {
				count_inc(&c->res->lost);
				sample_record(c, s, 0);
			}
		}
		s->state = SLOT_FREE;
		c->tail++;
	}
}

static int client_check(const struct rtv_netrt_client_cfg *cfg)
{
	size_t payload = cfg->payload ? cfg->payload : RTV_NETRT_DEFAULT_PAYLOAD;

	if (!cfg->addr || payload < RTV_NETRT_MIN_PAYLOAD || payload > RTV_NETRT_MAX_PAYLOAD)
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

static void result_init(struct rtv_netrt_result *res)
{
	uint64_t *counter[] = { &res->sent, &res->received, &res->lost,
				&res->late, &res->warmup, &res->stray };

	rtv_hist_init(&res->rtt);
	rtv_hist_init(&res->service);
	/* read meanwhile for a progress line, like every later update */
	for (size_t i = 0; i < sizeof(counter) / sizeof(counter[0]); i++)
		__atomic_store_n(counter[i], 0, __ATOMIC_RELAXED);
	res->start_ns = res->end_ns = 0;
}

static int client_loop(struct client *c, const volatile sig_atomic_t *stop)
{
	const struct rtv_netrt_client_cfg *cfg = c->cfg;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct rtv_rng rng;
	struct timespec ts;
	int64_t t0, intended, now, wake, wait, x;
	bool sending = true, can_send;
	int n, err;

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
		can_send = sending && c->next_seq - c->tail <= c->mask; /* room in the ring */
		if (can_send && now >= intended && c->samples &&
		    c->nsamples + (c->next_seq - c->tail) > c->smask) {
			/* the samples' ring must hold the held and every outstanding one */
			n = samples_flush(c, intended, true);
			if (n < 0)
				return n;
			continue;
		}
		if (can_send && now >= intended) {
			/* on time or late: send now, measured from S_i either way */
			send_request(c, intended);
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
		if (wait > RTV_NETRT_STOP_CHECK_NS)
			wait = RTV_NETRT_STOP_CHECK_NS;
		ts = rtv_ns_to_ts(wait);
		n = ppoll(&pfd, 1, &ts, NULL);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			err = recv_replies(c);
			if (err < 0)
				return err;
		}
	}
}

int rtv_netrt_client_run(const struct rtv_netrt_client_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_netrt_result *res)
{
	struct client *c = NULL;
	uint64_t size;
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
	c->fd = -1;
	c->cfg = cfg;
	c->res = res;
	c->payload = cfg->payload ? cfg->payload : RTV_NETRT_DEFAULT_PAYLOAD;
	c->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : RTV_NETRT_DEFAULT_TIMEOUT_NS;
	c->tag = run_tag(cfg->seed);

	size = ring_size(c->timeout_ns, cfg->interval.min_ns);
	c->mask = size - 1;
	c->ring = calloc(size, sizeof(*c->ring));
	c->tx = calloc(1, c->payload);
	if (!c->ring || !c->tx) {
		err = -ENOMEM;
		goto out;
	}
	prefault(c->ring, size * sizeof(*c->ring));
	put_u64(c->tx + OFF_TAG, c->tag);
	for (i = 0; i < RX_BATCH; i++) {
		c->iov[i].iov_base = c->rx[i];
		c->iov[i].iov_len = sizeof(c->rx[i]);
		c->msgs[i].msg_hdr.msg_iov = &c->iov[i];
		c->msgs[i].msg_hdr.msg_iovlen = 1;
	}

	if (cfg->samples_path) {
		c->samples = fopen(cfg->samples_path, "we");
		if (!c->samples) {
			err = -errno;
			goto out;
		}
		c->samples_buf = malloc(SAMPLES_FILE_BUF);
		if (c->samples_buf) {
			prefault(c->samples_buf, SAMPLES_FILE_BUF);
			setvbuf(c->samples, c->samples_buf, _IOFBF, SAMPLES_FILE_BUF);
		}
		/* room for twice every request that can be outstanding */
		c->smask = (size * 2 > SAMPLES_MIN ? size * 2 : SAMPLES_MIN) - 1;
		c->sample = calloc(c->smask + 1, sizeof(*c->sample));
		if (!c->sample) {
			err = -ENOMEM;
			goto out;
		}
		prefault(c->sample, (c->smask + 1) * sizeof(*c->sample));
	}

	err = client_connect(cfg);
	if (err < 0)
		goto out;
	c->fd = err;

	old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (old_slack >= 0)
		prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	err = client_loop(c, stop);
	res->end_ns = rtv_now_ns();
out:
	if (old_slack >= 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)old_slack, 0, 0, 0);
	if (c->fd >= 0)
		close(c->fd);
	if (c->samples) {
		samples_write(c, c->nsamples); /* what is left, also after an error */
		if (ferror(c->samples) && !err)
			err = -EIO;
		if (fclose(c->samples) != 0 && !err)
			err = -EIO;
	}
	free(c->samples_buf);
	free(c->sample);
	free(c->tx);
	free(c->ring);
	free(c);
	return err;
}

/* ---- JSON ---- */

json_t *rtv_netrt_hist_json(const struct rtv_hist *h, uint64_t lost)
{
	json_t *stats = rtv_hist_json(h, 1e3), *o = json_object(), *v;
	bool empty = !h || h->count == 0;
	const char *key;
	int err = 0;

	if (!stats || !o) {
		err = -ENOMEM;
		goto out;
	}
	/* netrt's key order: count and lost, the statistics, over_1ms_pct */
	err |= json_object_set(o, "count", json_object_get(stats, "count"));
	err |= rtv_json_set_int(o, "lost", (int64_t)lost);
	json_object_foreach(stats, key, v) {
		if (strcmp(key, "count") != 0)
			err |= json_object_set(o, key, v);
	}
	err |= rtv_json_set_num(o, "over_1ms_pct",
				empty ? NAN : 100.0 * rtv_hist_fraction_above(h, RTV_NS_PER_MS));
out:
	json_decref(stats);
	if (err) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* ---- the NetRT probe: the RT service of the outsourcing paper's experiment ----
 *
 * The echo server in the testbed's RT server host, the open-loop client in
 * the RT client host; the client's schedule is the same in every arm (the
 * run's seed); its rtt and service distributions are the metrics, with the
 * share of requests that reached the server through a NAPI. */
struct netrt_state {
	volatile sig_atomic_t stop;
	struct rtv_netrt_result rt;
	struct rtv_netrt_server_stats srv;
	double napi_path_pct;
};

static int server_main(void *arg)
{
	struct rtv_pctx *c = arg;
	struct netrt_state *st = c->state;
	const struct rtv_netrt_probe_cfg *cfg = c->cfg;
	struct rtv_netrt_server_cfg sc = {
		.bind_addr = c->rt_service_addr ? c->rt_service_addr : c->tb->rt_server.addr,
		.port = cfg->port };

	return rtv_netrt_server_run(&sc, &st->stop, &st->srv);
}

static int client_main(void *arg)
{
	struct rtv_pctx *c = arg;
	struct netrt_state *st = c->state;
	const struct rtv_netrt_probe_cfg *cfg = c->cfg;
	struct rtv_netrt_client_cfg cc = {
		.addr = c->rt_service_addr ? c->rt_service_addr : c->tb->rt_client.peer,
		.port = cfg->port,
		.payload = cfg->payload,
		.duration_ns = rtv_ns_add_sat(c->warmup_ns, c->duration_ns),
		.interval = cfg->interval,
		.seed = c->seed, /* the same schedule in every arm */
		.timeout_ns = RTV_NETRT_DEFAULT_TIMEOUT_NS,
		.warmup_ns = c->warmup_ns,
	};

	return rtv_netrt_client_run(&cc, &st->stop, &st->rt);
}

static int netrt_start(struct rtv_pctx *c)
{
	const struct rtv_testbed *tb = c->tb;
	int err;

	if (!tb)
		return -ENOENT;
	err = rtv_probe_spawn(c, &tb->rt_server, RTV_ROLE_RT_SERVER, server_main, c, NULL);
	if (err < 0)
		return err;
	usleep(50000); /* the server bound */
	return rtv_probe_spawn(c, &tb->rt_client, RTV_ROLE_RT_CLIENT, client_main, c, &c->client);
}

static void netrt_collect(struct rtv_pctx *c)
{
	struct netrt_state *st = c->state;

	st->napi_path_pct = st->srv.napi_samples ?
		100.0 * (double)st->srv.napi_path / (double)st->srv.napi_samples : NAN;
}

static void netrt_stop(struct rtv_pctx *c)
{
	rtv_stop_set(&((struct netrt_state *)c->state)->stop);
}

static void netrt_live(const struct rtv_pctx *c, char *buf, size_t len)
{
	const struct netrt_state *st = c->state;

	snprintf(buf, len, "sent %6llu  lost %4llu",
		 (unsigned long long)__atomic_load_n(&st->rt.sent, __ATOMIC_RELAXED),
		 (unsigned long long)__atomic_load_n(&st->rt.lost, __ATOMIC_RELAXED));
}

/* The distributions' objects carry the losses and the share above 1 ms. */
static void netrt_series_json(const struct rtv_pctx *c, int i, json_t *o)
{
	const struct netrt_state *st = c->state;

	(void)i;
	json_object_set_new(o, "rtt_us", rtv_netrt_hist_json(&st->rt.rtt, st->rt.lost));
	json_object_set_new(o, "service_us", rtv_netrt_hist_json(&st->rt.service, st->rt.lost));
}

static void netrt_config_json(const void *cfgp, json_t *conf)
{
	const struct rtv_netrt_probe_cfg *cfg = cfgp;

	rtv_json_set_str(conf, "interval_dist", rtv_dist_name(cfg->interval.dist));
	rtv_json_set_num(conf, "interval_min_us", (double)cfg->interval.min_ns / 1e3);
	rtv_json_set_num(conf, "interval_max_us", (double)cfg->interval.max_ns / 1e3);
	rtv_json_set_int(conf, "payload_bytes", (int64_t)cfg->payload);
}

#define S(f) offsetof(struct netrt_state, f)
#define RTT(k_, st_, a_, head_, w_, pos_, sp_) \
	{ .key = k_, .run_key = "", .type = RTV_METRIC_STAT, .from = "rtt", .stat = st_, \
	  .arg = a_, .per_unit = 1000, .better = RTV_BETTER_LOWER, \
	  .col = { { .table = 1, .pos = pos_, .head = head_, .width = w_, .spread = sp_ } } }
static const struct rtv_metric netrt_metrics[] = {
	{ .key = "rtt", .run_key = "", .type = RTV_METRIC_HIST, .off = S(rt.rtt), .per_unit = 1000,
	  .label = "NetRT round-trip time", .axis = "latency (us)", .plot = true },
	{ .key = "service", .run_key = "", .type = RTV_METRIC_HIST, .off = S(rt.service),
	  .per_unit = 1000, .label = "NetRT service time (from the actual send)",
	  .axis = "latency (us)" },
	{ .key = "sent", .type = RTV_METRIC_U64, .off = S(rt.sent), .run_only = true },
	{ .key = "late_sends", .type = RTV_METRIC_U64, .off = S(rt.late), .run_only = true },
	RTT("mean_us", RTV_STAT_MEAN, 0, "mean", 8, 10, false),
	RTT("p50_us", RTV_STAT_PCT, 50, "p50", 18, 20, true),
	RTT("p99_us", RTV_STAT_PCT, 99, "p99", 18, 30, true),
	RTT("p999_us", RTV_STAT_PCT, 99.9, "p99.9", 18, 40, true),
	RTT("max_us", RTV_STAT_MAX, 0, "max", 8, 50, false),
	RTT("sd_us", RTV_STAT_SD, 0, "sd", 8, 60, false),
	{ .key = "over_1ms_pct", .run_key = "", .type = RTV_METRIC_STAT, .from = "rtt",
	  .stat = RTV_STAT_ABOVE_PCT, .arg = 1e6, .better = RTV_BETTER_LOWER,
	  .col = { { .table = 1, .pos = 70, .head = ">1ms %", .width = 7, .prec = 2 } } },
	{ .key = "rt_napi_path_pct", .off = S(napi_path_pct),
	  .col = { { .table = 2, .pos = 70, .head = "NAPI path %", .width = 11 } } },
};
#undef RTT
#undef S

const struct rtv_probe rtv_probe_netrt = {
	.name = "netrt",
	.summary = "the RT UDP echo service and its open-loop client (the outsourcing paper's NetRT)",
	.role = RTV_PROBE_SERVICE,
	.metrics = netrt_metrics,
	.nmetrics = sizeof(netrt_metrics) / sizeof(netrt_metrics[0]),
	.size = sizeof(struct netrt_state),
	.start = netrt_start,
	.collect = netrt_collect,
	.stop = netrt_stop,
	.live = netrt_live,
	.series_json = netrt_series_json,
	.config_json = netrt_config_json,
};
