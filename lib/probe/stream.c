/* Bulk TCP/UDP traffic: sink and source. See stream.h. */
#include "probe/stream.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "probe/probe.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

#define STOP_CHECK_NS      (100 * RTV_NS_PER_MS) /* *stop is looked at least this often */
#define CONNECT_TIMEOUT_NS (5 * RTV_NS_PER_S)    /* one connect attempt without an answer */
#define RETRY_PAUSE_NS     (50 * RTV_NS_PER_MS)  /* between refused connects */
#define SINK_READS         16                    /* reads per connection per wakeup */
#define UDP_BATCH          64                    /* datagrams per sendmmsg/recvmmsg */
#define UDP_RCVBUF         (8 * 1024 * 1024)     /* sink receive buffer, bytes */
#define MAX_EVENTS         64

/* A sink reads into a buffer of its own, of at most this many bytes, and
 * throws the data away (a UDP sink reads the sequence numbers first). It is
 * allocated before the sink's loop, never in it. */
#define SINK_BUF_MAX (1024u * 1024u)

/* Interval reporting: boundaries at start + k * interval_ns. */
struct meter {
	rtv_stream_report_fn report;
	void *arg;
	int64_t interval_ns;
	bool started;
	int64_t start_ns;
	int64_t mark_ns;  /* start of the current interval */
	int64_t next_ns;  /* its planned end */
	uint64_t mark_bytes;
};

static void meter_init(struct meter *m, const struct rtv_stream_cfg *cfg,
		       rtv_stream_report_fn report, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->report = report;
	m->arg = arg;
	m->interval_ns = cfg->interval_ns > 0 ? cfg->interval_ns : RTV_NS_PER_S;
}

static void meter_start(struct meter *m, int64_t now)
{
	m->started = true;
	m->start_ns = now;
	m->mark_ns = now;
	m->next_ns = rtv_ns_add_sat(now, m->interval_ns);
	m->mark_bytes = 0;
}

static void meter_emit(struct meter *m, int64_t now, uint64_t bytes)
{
	if (m->report)
		m->report(m->arg, now - m->start_ns, bytes - m->mark_bytes, now - m->mark_ns);
	m->mark_ns = now;
	m->mark_bytes = bytes;
}

static void meter_tick(struct meter *m, int64_t now, uint64_t bytes)
{
	if (!m->started || now < m->next_ns)
		return;
	meter_emit(m, now, bytes);
	/* boundaries that passed during a stall are merged into this interval */
	m->next_ns = rtv_ns_add_sat(m->start_ns,
				   ((now - m->start_ns) / m->interval_ns + 1) * m->interval_ns);
}

/* The last, partial interval, unless it is too short to mean anything. */
static void meter_finish(struct meter *m, int64_t now, uint64_t bytes)
{
	if (m->started && now - m->mark_ns >= m->interval_ns / 10 && now > m->mark_ns)
		meter_emit(m, now, bytes);
}

/* Milliseconds to wait in epoll/poll: until the next report, the deadline or
 * the next look at *stop, whichever comes first; rounded up. */
static int wait_ms(const struct meter *m, int64_t deadline_ns, int64_t now)
{
	int64_t until = now + STOP_CHECK_NS;

	if (m->started && m->next_ns < until)
		until = m->next_ns;
	if (deadline_ns && deadline_ns < until)
		until = deadline_ns;
	if (until <= now)
		return 0;
	return (int)((until - now + RTV_NS_PER_MS - 1) / RTV_NS_PER_MS);
}

static void res_set_bytes(struct rtv_stream_result *res, uint64_t bytes)
{
	__atomic_store_n(&res->bytes, bytes, __ATOMIC_RELAXED);
}

static void res_reset(struct rtv_stream_result *res)
{
	res_set_bytes(res, 0);
	res->start_ns = 0;
	res->end_ns = 0;
	res->datagrams = 0;
	res->lost = 0;
}

size_t rtv_stream_msg_size(const struct rtv_stream_cfg *cfg)
{
	if (cfg->msg_size)
		return cfg->msg_size;
	if (cfg->proto != IPPROTO_UDP)
		return RTV_STREAM_TCP_MSG_SIZE;
	/* numeric addresses only: IPv6 ones, and only they, hold a colon */
	return cfg->addr && strchr(cfg->addr, ':') ? RTV_STREAM_UDP6_MSG_SIZE : RTV_STREAM_UDP_MSG_SIZE;
}

static size_t msg_size_of(const struct rtv_stream_cfg *cfg)
{
	return rtv_stream_msg_size(cfg);
}

static int check_cfg(const struct rtv_stream_cfg *cfg, bool source)
{
	size_t size = msg_size_of(cfg);

	if (cfg->proto != IPPROTO_TCP && cfg->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (source && !cfg->addr)
		return -EDESTADDRREQ;
	if (cfg->duration_ns < 0 || cfg->interval_ns < 0 || !(cfg->rate_bit_s >= 0))
		return -EINVAL;
	if (cfg->proto == IPPROTO_UDP &&
	    (size < RTV_STREAM_UDP_MIN_SIZE || size > RTV_STREAM_UDP_MAX_SIZE))
		return -EMSGSIZE;
	if (cfg->proto == IPPROTO_TCP && size > RTV_STREAM_TCP_MAX_SIZE)
		return -EMSGSIZE;
	return 0;
}

/* A numeric IPv4/IPv6 address (with %scope) and port (rtv_sockaddr_parse);
 * NULL: any, IPv6 when the kernel has it (dual stack), else IPv4. */
static int stream_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (addr)
		return rtv_sockaddr_parse(addr, port, ss, len);
	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_any;
	sin6->sin6_port = htons(port);
	*len = sizeof(*sin6);
	return 0;
}

/* A bound socket for a sink: listening for TCP. Returns the fd or -errno. */
static int sink_socket(const struct rtv_stream_cfg *cfg)
{
	int type = cfg->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0, err;

	err = stream_addr(cfg->addr, cfg->port, &ss, &len);
	if (err < 0)
		return err;
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !cfg->addr && errno == EAFNOSUPPORT) {
		/* no IPv6 here: any IPv4 address instead */
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(cfg->port);
		len = sizeof(*sin);
		fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (!cfg->addr && ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		goto fail;
	if (cfg->proto == IPPROTO_UDP) {
		int rcvbuf = UDP_RCVBUF;

		/* beyond net.core.rmem_max when privileged; best effort otherwise */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	if (cfg->proto == IPPROTO_TCP && listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

struct conns {
	int *fd;
	size_t n, cap;
};

static int conns_add(struct conns *c, int fd)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		int *p = realloc(c->fd, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->fd = p;
		c->cap = cap;
	}
	c->fd[c->n++] = fd;
	return 0;
}

static void conns_close(struct conns *c, int ep, int fd)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->fd[i] == fd) {
			c->fd[i] = c->fd[--c->n];
			break;
		}
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static void conns_release(struct conns *c)
{
	for (size_t i = 0; i < c->n; i++)
		close(c->fd[i]);
	free(c->fd);
	memset(c, 0, sizeof(*c));
}

/* Accept every pending connection. */
static int sink_accept(int lfd, int ep, struct conns *c)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		int fd, err;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			return -errno;
		}
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
		err = conns_add(c, fd);
		if (err < 0) {
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			return err;
		}
	}
}

/* Read what a connection has, until EAGAIN but a bounded number of times so
 * that the others and *stop get their turn. Reading on after a short read,
 * as iperf3 does, catches data that arrived meanwhile, and while the reader
 * holds the socket the kernel leaves new segments for it to process rather
 * than doing it on the sender's CPU, which is the bottleneck on veth.
 * Returns the bytes read; *closed when it ended. */
static uint64_t sink_read(int fd, unsigned char *buf, size_t chunk, bool *closed)
{
	uint64_t got = 0;

	*closed = false;
	for (int i = 0; i < SINK_READS; i++) {
		ssize_t n = read(fd, buf, chunk);

		if (n > 0) {
			got += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* end of stream, or the source went away (ECONNRESET ...):
		 * that ends this connection, not the sink */
		*closed = true;
		break;
	}
	return got;
}

static int tcp_sink(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
		    struct meter *m, struct rtv_stream_result *res)
{
	size_t chunk = msg_size_of(cfg);
	struct epoll_event evs[MAX_EVENTS];
	struct epoll_event lev = { .events = EPOLLIN };
	struct conns conns = { 0 };
	int64_t deadline = 0, now;
	uint64_t bytes = 0;
	unsigned char *buf = NULL;
	int lfd, ep = -1, err = 0, n;

	if (chunk > SINK_BUF_MAX)
		chunk = SINK_BUF_MAX;
	lfd = sink_socket(cfg);
	if (lfd < 0)
		return lfd;
	buf = malloc(chunk);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		err = -errno;
		goto out;
	}
	lev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		now = rtv_now_ns();
		meter_tick(m, now, bytes);
		if (rtv_stop_read(stop) || (deadline && now >= deadline))
			break;
		n = epoll_wait(ep, evs, MAX_EVENTS, wait_ms(m, deadline, now));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			bool closed;
			uint64_t got;

			if (fd == lfd) {
				err = sink_accept(lfd, ep, &conns);
				if (err < 0)
					goto out;
				if (!m->started && conns.n) {
					now = rtv_now_ns();
					meter_start(m, now);
					res->start_ns = now;
					res->end_ns = now;
					if (cfg->duration_ns)
						deadline = rtv_ns_add_sat(now, cfg->duration_ns);
				}
				continue;
			}
			got = sink_read(fd, buf, chunk, &closed);
			if (got) {
				bytes += got;
				res_set_bytes(res, bytes);
				res->end_ns = rtv_now_ns();
			}
			if (closed)
				conns_close(&conns, ep, fd);
		}
	}
out:
	meter_finish(m, rtv_now_ns(), bytes);
	conns_release(&conns);
	if (ep >= 0)
		close(ep);
	close(lfd);
	free(buf);
	return err;
}

/* Sequence numbers: the next expected one and what is missing so far. */
struct seq_track {
	bool active;
	uint64_t next;
};

static void seq_see(struct seq_track *t, uint64_t seq, struct rtv_stream_result *res)
{
	if (!t->active || seq == 0) {
		t->active = true; /* a (new) stream: count gaps from here */
	} else if (seq >= t->next) {
		res->lost += seq - t->next;
	} else {
		if (res->lost) /* late, counted as lost when the gap was seen */
			res->lost--;
		return;
	}
	t->next = seq + 1;
}

static int udp_sink(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
		    struct meter *m, struct rtv_stream_result *res)
{
	size_t slot = msg_size_of(cfg);
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct epoll_event ev = { .events = EPOLLIN };
	struct seq_track track = { 0 };
	int64_t deadline = 0, now;
	uint64_t bytes = 0;
	unsigned char *buf;
	int fd, ep = -1, err = 0, n, batch;

	batch = (int)(SINK_BUF_MAX / slot);
	if (batch > UDP_BATCH)
		batch = UDP_BATCH;
	buf = malloc((size_t)batch * slot);
	if (!buf)
		return -ENOMEM;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < batch; i++) {
		iov[i].iov_base = buf + (size_t)i * slot;
		iov[i].iov_len = slot;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fd = sink_socket(cfg);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		err = -errno;
		goto out;
	}
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		now = rtv_now_ns();
		meter_tick(m, now, bytes);
		if (rtv_stop_read(stop) || (deadline && now >= deadline))
			break;
		n = epoll_wait(ep, &ev, 1, wait_ms(m, deadline, now));
		if (n < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
		if (n <= 0)
			continue;
		/* a bounded number of batches, then look at the clock again */
		for (int round = 0; round < 4; round++) {
			/* MSG_TRUNC: msg_len is the datagram's length even if
			 * it was longer than the slot */
			n = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT | MSG_TRUNC, NULL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					break;
				/* e.g. ECONNREFUSED cannot happen unconnected; anything is fatal */
				err = -errno;
				goto out;
			}
			now = rtv_now_ns();
			if (!m->started) {
				meter_start(m, now);
				res->start_ns = now;
				if (cfg->duration_ns)
					deadline = rtv_ns_add_sat(now, cfg->duration_ns);
			}
			for (int i = 0; i < n; i++) {
				unsigned len = msgs[i].msg_len;
				uint64_t seq;

				bytes += len;
				res->datagrams++;
				if (len < sizeof(seq))
					continue;
				memcpy(&seq, iov[i].iov_base, sizeof(seq));
				seq_see(&track, be64toh(seq), res);
			}
			res_set_bytes(res, bytes);
			res->end_ns = now;
			if (n < batch)
				break;
		}
	}
out:
	meter_finish(m, rtv_now_ns(), bytes);
	if (ep >= 0)
		close(ep);
	close(fd);
	free(buf);
	return err;
}

int rtv_stream_sink_run(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
			rtv_stream_report_fn report, void *arg, struct rtv_stream_result *res)
{
	struct meter m;
	int err;

	res_reset(res);
	err = check_cfg(cfg, false);
	if (err < 0)
		return err;
	meter_init(&m, cfg, report, arg);
	if (cfg->proto == IPPROTO_TCP)
		return tcp_sink(cfg, stop, &m, res);
	return udp_sink(cfg, stop, &m, res);
}

/* Sleep until an absolute time, but return early on a signal. */
static void nap_until(int64_t ns)
{
	struct timespec ts = rtv_ns_to_ts(ns);

	(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* One connect attempt, nonblocking so that *stop and a timeout are seen.
 * Returns the connected fd, 0 when stopped (*fdp untouched) or -errno. */
static int tcp_connect_once(const struct sockaddr_storage *ss, socklen_t len,
			    const volatile sig_atomic_t *stop, int *fdp)
{
	int64_t give_up = rtv_now_ns() + CONNECT_TIMEOUT_NS;
	int fd, err = 0, soerr;
	socklen_t slen = sizeof(soerr);

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int n;

		if (rtv_stop_read(stop)) {
			close(fd);
			return 0;
		}
		if (rtv_now_ns() >= give_up) {
			err = -ETIMEDOUT;
			goto fail;
		}
		n = poll(&pfd, 1, (int)(STOP_CHECK_NS / RTV_NS_PER_MS));
		if (n < 0 && errno != EINTR) {
			err = -errno;
			goto fail;
		}
		if (n > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0) {
		err = -errno;
		goto fail;
	}
	if (soerr) {
		err = -soerr;
		goto fail;
	}
done:
	*fdp = fd;
	return fd;
fail:
	close(fd);
	return err;
}

/* Connect, retrying while refused for RTV_STREAM_CONNECT_RETRY_NS (the sink
 * may not listen yet). Returns 0 with *fdp set, 0 with *fdp < 0 when
 * stopped, or -errno. */
static int tcp_connect(const struct sockaddr_storage *ss, socklen_t len,
		       const volatile sig_atomic_t *stop, int *fdp)
{
	int64_t retry_until = rtv_now_ns() + RTV_STREAM_CONNECT_RETRY_NS;
	int err;

	*fdp = -1;
	for (;;) {
		err = tcp_connect_once(ss, len, stop, fdp);
		if (err >= 0)
			return 0;
		if (err != -ECONNREFUSED || rtv_stop_read(stop) || rtv_now_ns() + RETRY_PAUSE_NS > retry_until)
			return err;
		nap_until(rtv_now_ns() + RETRY_PAUSE_NS);
		if (rtv_stop_read(stop))
			return 0;
	}
}

static int tcp_source(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
		      struct meter *m, struct rtv_stream_result *res)
{
	size_t size = msg_size_of(cfg);
	struct timeval tv = { .tv_sec = 0, .tv_usec = STOP_CHECK_NS / RTV_NS_PER_US };
	struct sockaddr_storage ss;
	int64_t deadline = 0, now;
	uint64_t bytes = 0;
	unsigned char *buf = NULL;
	socklen_t len;
	int fd = -1, err, flags;

	err = stream_addr(cfg->addr, cfg->port, &ss, &len);
	if (err < 0)
		return err;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < size; i++)
		buf[i] = (unsigned char)i;
	err = tcp_connect(&ss, len, stop, &fd);
	if (err < 0 || fd < 0)
		goto out;
	/* blocking writes, but back to the loop at least every 100 ms */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		goto out;
	}
	now = rtv_now_ns();
	meter_start(m, now);
	res->start_ns = now;
	res->end_ns = now;
	if (cfg->duration_ns)
		deadline = rtv_ns_add_sat(now, cfg->duration_ns);
	while (!rtv_stop_read(stop)) {
		ssize_t n = send(fd, buf, size, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			err = -errno;
			break;
		}
		now = rtv_now_ns();
		if (n > 0) {
			bytes += (uint64_t)n;
			res_set_bytes(res, bytes);
			res->end_ns = now;
		}
		meter_tick(m, now, bytes);
		if (deadline && now >= deadline)
			break;
	}
	meter_finish(m, rtv_now_ns(), bytes);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

static int udp_source(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
		      struct meter *m, struct rtv_stream_result *res)
{
	size_t size = msg_size_of(cfg);
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH][2];
	uint64_t seqs[UDP_BATCH];
	struct sockaddr_storage ss;
	double gap_ns = 0; /* between datagrams on the schedule */
	int64_t deadline = 0, now, start;
	uint64_t bytes = 0, seq = 0;
	unsigned char *payload = NULL;
	socklen_t len;
	int fd, err;

	err = stream_addr(cfg->addr, cfg->port, &ss, &len);
	if (err < 0)
		return err;
	fd = rtv_sockaddr_udp_connect(&ss, len);
	if (fd < 0)
		return fd;
	payload = calloc(1, size - sizeof(uint64_t) + 1);
	if (!payload) {
		err = -ENOMEM;
		goto out;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDP_BATCH; i++) {
		iov[i][0].iov_base = &seqs[i];
		iov[i][0].iov_len = sizeof(seqs[i]);
		iov[i][1].iov_base = payload;
		iov[i][1].iov_len = size - sizeof(uint64_t);
		msgs[i].msg_hdr.msg_iov = iov[i];
		msgs[i].msg_hdr.msg_iovlen = 2;
	}
	if (cfg->rate_bit_s > 0)
		gap_ns = (double)size * 8.0 * 1e9 / cfg->rate_bit_s;

	start = rtv_now_ns();
	meter_start(m, start);
	res->start_ns = start;
	res->end_ns = start;
	if (cfg->duration_ns)
		deadline = rtv_ns_add_sat(start, cfg->duration_ns);
	for (;;) {
		int64_t due = UDP_BATCH;
		int n;

		now = rtv_now_ns();
		meter_tick(m, now, bytes);
		if (rtv_stop_read(stop) || (deadline && now >= deadline))
			break;
		if (gap_ns > 0) {
			/* datagram k is due at start + k * gap_ns (absolute schedule,
			 * so oversleeping is made up for by a burst) */
			due = (int64_t)((double)(now - start) / gap_ns) + 1 - (int64_t)seq;
			if (due <= 0) {
				int64_t next = start + (int64_t)((double)seq * gap_ns);
				int64_t wake = now + STOP_CHECK_NS;

				if (next < wake)
					wake = next;
				if (m->next_ns < wake)
					wake = m->next_ns;
				if (deadline && deadline < wake)
					wake = deadline;
				nap_until(wake);
				continue;
			}
			if (due > UDP_BATCH)
				due = UDP_BATCH;
		}
		for (int64_t i = 0; i < due; i++)
			seqs[i] = htobe64(seq + (uint64_t)i);
		n = sendmmsg(fd, msgs, (unsigned)due, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* an ICMP error about earlier datagrams: no sink yet */
			if (errno == ECONNREFUSED)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				seq++; /* dropped on this host: the sink sees a gap */
				continue;
			}
			err = -errno;
			break;
		}
		seq += (uint64_t)n;
		bytes += (uint64_t)n * size;
		res->datagrams += (uint64_t)n;
		res_set_bytes(res, bytes);
		res->end_ns = rtv_now_ns();
	}
	meter_finish(m, rtv_now_ns(), bytes);
out:
	free(payload);
	close(fd);
	return err;
}

int rtv_stream_source_run(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
			  rtv_stream_report_fn report, void *arg, struct rtv_stream_result *res)
{
	struct meter m;
	int err;

	res_reset(res);
	err = check_cfg(cfg, true);
	if (err < 0)
		return err;
	meter_init(&m, cfg, report, arg);
	if (cfg->proto == IPPROTO_TCP)
		return tcp_source(cfg, stop, &m, res);
	return udp_source(cfg, stop, &m, res);
}

double rtv_stream_gbit_s(const struct rtv_stream_result *r)
{
	uint64_t bytes = __atomic_load_n(&r->bytes, __ATOMIC_RELAXED);
	int64_t span_ns = r->end_ns - r->start_ns;

	if (span_ns <= 0)
		return 0;
	/* bits per ns is Gbit/s */
	return (double)bytes * 8.0 / (double)span_ns;
}

/* ---- the stream probe: the co-located bulk TCP load (NetStream) ----
 *
 * One sink per stream pair in the testbed's stream server hosts, one source
 * in each stream client host, all at full speed; the metric is the payload
 * throughput the sinks received over the measured window. */
struct stream_state {
	double gbit_s; /* first: rtv_stream_metrics[] reads it at offset 0 */
	volatile sig_atomic_t stop;
	struct rtv_stream_result sink[RTV_TESTBED_MAX_STREAMS], src[RTV_TESTBED_MAX_STREAMS];
	uint64_t bytes_mark;
};

/* A child's argument: it gets its own copy as the parent's memory is when it
 * forks, unlike the shared state. */
struct kid {
	struct rtv_pctx *c;
	int i;
	bool sink;
};

/* A stream pair's sink (in its server host) or source (in its client host). */
static int pair_main(void *arg)
{
	const struct kid *k = arg;
	struct stream_state *st = k->c->state;
	const struct rtv_testbed *tb = k->c->tb;
	struct rtv_stream_cfg cfg = { .proto = IPPROTO_TCP, .port = RTV_STREAM_DEFAULT_PORT,
				      .addr = k->sink ? tb->stream_server[k->i].addr :
							tb->stream_client[k->i].peer };

	return k->sink ? rtv_stream_sink_run(&cfg, &st->stop, NULL, NULL, &st->sink[k->i]) :
			 rtv_stream_source_run(&cfg, &st->stop, NULL, NULL, &st->src[k->i]);
}

static int stream_start(struct rtv_pctx *c)
{
	const struct rtv_testbed *tb = c->tb;
	struct stream_state *st = c->state;
	int n = rtv_stream_probe_pairs(c->cfg), err;

	if (!tb || n > tb->nstreams)
		return -ENOENT;
	st->gbit_s = NAN;
	/* a source retries its connect until the sink listens */
	for (int i = 0; i < n; i++) {
		for (int sink = 1; sink >= 0; sink--) {
			struct kid k = { c, i, sink };

			err = rtv_probe_spawn(c, sink ? &tb->stream_server[i] : &tb->stream_client[i],
					      sink ? RTV_ROLE_STREAM_SERVER : RTV_ROLE_STREAM_CLIENT,
					      pair_main, &k, NULL);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

static uint64_t sink_bytes(const struct stream_state *st, int n)
{
	uint64_t b = 0;

	for (int i = 0; i < n; i++)
		b += __atomic_load_n(&st->sink[i].bytes, __ATOMIC_RELAXED);
	return b;
}

static void stream_mark(struct rtv_pctx *c)
{
	struct stream_state *st = c->state;

	st->bytes_mark = sink_bytes(st, rtv_stream_probe_pairs(c->cfg));
}

static void stream_collect(struct rtv_pctx *c)
{
	struct stream_state *st = c->state;

	if (c->t_end > c->t_mark)
		st->gbit_s = (double)(sink_bytes(st, rtv_stream_probe_pairs(c->cfg)) - st->bytes_mark) * 8.0 /
			     (double)(c->t_end - c->t_mark);
}

static void stream_stop(struct rtv_pctx *c)
{
	rtv_stop_set(&((struct stream_state *)c->state)->stop);
}

_Static_assert(offsetof(struct stream_state, gbit_s) == 0, "the throughput comes first");
const struct rtv_metric rtv_stream_metrics[1] = {
	{ .key = "stream_gbit_s", .off = 0, .better = RTV_BETTER_HIGHER,
	  .col = { { .table = 1, .pos = 80, .head = "Gbit/s", .width = 10, .prec = 2 } } },
};

const struct rtv_probe rtv_probe_stream = {
	.name = "stream",
	.summary = "bulk TCP at full speed across the testbed's stream pairs (rtvnet's own)",
	.role = RTV_PROBE_LOAD,
	.metrics = rtv_stream_metrics,
	.nmetrics = 1,
	.size = sizeof(struct stream_state),
	.start = stream_start,
	.mark = stream_mark,
	.collect = stream_collect,
	.stop = stream_stop,
};
