/* The open-loop client every RT service is measured with (NetRT's echo,
 * memcached, a SIP proxy): one schedule, one ring of outstanding requests,
 * one histogram, whatever the protocol. A protocol is a struct of
 * operations (struct rtv_ol_proto below) that writes a request and reads a
 * reply; the client does the rest.
 *
 * The schedule is fixed in advance, independent of the replies (the
 * open-loop rule, against coordinated omission): S_0 is the start,
 * S_i = S_{i-1} + X_i with X_i drawn from cfg->interval, all on one absolute
 * CLOCK_MONOTONIC timeline. A request that cannot go out at S_i (the client
 * was descheduled, or the ring of outstanding requests was full) goes out at
 * once, is still measured from S_i, and the schedule is never shifted. So a
 * server stall of 10 ms at a 1 ms interval shows as about ten slow samples,
 * not one.
 *
 * Per answered request the client records two times:
 *  - rtt:     T_reply - S_i, latency from the intended send time (the one
 *             the papers report; a user's request would have waited this long);
 *  - service: T_reply - actual send time (what a closed-loop tool such as
 *             sockperf ping-pong, netperf UDP_RR or memaslap reports).
 * T_reply is read from CLOCK_MONOTONIC just after the reply leaves the
 * receive call in user space, as sockperf does, so it includes the client's
 * wake-up.
 *
 * Requests go round-robin over cfg->nconn connections (TCP) or connected
 * sockets (UDP): request seq on connection seq % nconn. A reply is matched
 * to its request by the id it carries (the low id_bits of the request's
 * seq: NetRT's seq, memcached's UDP request id, SIP's Call-ID), or, for a
 * protocol whose replies carry none (memcached over TCP), by order: the
 * oldest request on its connection not yet answered. A connection the
 * server closes or resets is not reopened: its requests are lost.
 *
 * Nothing is allocated, locked or formatted between the first send and the
 * last reply but what the protocol's encode and parse do (they must not).
 * Neither side prints; the client runs in the calling thread. */
#ifndef RTV_PROBE_OPENLOOP_H
#define RTV_PROBE_OPENLOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats/hist.h"
#include "stats/interval.h"

#define RTV_OL_DEFAULT_TIMEOUT_NS INT64_C(1000000000) /* 1 s */
#define RTV_OL_LATE_NS        INT64_C(50000)     /* a send this much after S_i is "late" */
#define RTV_OL_STOP_CHECK_NS  INT64_C(100000000) /* *stop is seen within 100 ms */
#define RTV_OL_RING_MAX       (1u << 18)         /* outstanding requests at most */
#define RTV_OL_MAX_CONN       64
#define RTV_OL_REQ_MAX        (64u * 1024u)      /* a request's bytes at most */
#define RTV_OL_STREAM_BUF     (256u * 1024u)     /* a connection's receive and send buffers */
#define RTV_OL_DGRAM_READ     2048u              /* a reply datagram's bytes read */

/* What a reply says of its request. */
enum rtv_ol_status {
	RTV_OL_OK,    /* answered */
	RTV_OL_MISS,  /* answered: not found (a cache miss) */
	RTV_OL_ERROR, /* answered with an error (memcached's SERVER_ERROR, SIP 4xx-6xx) */
};

struct rtv_ol_reply {
	uint64_t id;        /* the request's id (protocols with id_bits), else ignored */
	enum rtv_ol_status status;
	/* the request's S_i as the reply echoes it (NetRT), checked against
	 * the request's: INT64_MIN when the protocol echoes none */
	int64_t intended_ns;
	bool ignore;        /* not a final reply (SIP's 100 Trying), or the answer to a
			     * follow-up: take it, match nothing (counted as ignored) */
	/* Messages the protocol sends next, once this reply resolved its
	 * request (SIP's ACK and BYE after an INVITE's 200): proto->follow
	 * writes each, and it goes on the connection the reply came on. */
	unsigned follow;
	/* set by the client before parse: a datagram's real length (its first
	 * RTV_OL_DGRAM_READ bytes are read) */
	size_t dgram_len;
};

struct rtv_ol_proto {
	const char *name;
	int socktype;      /* SOCK_DGRAM or SOCK_STREAM */
	/* Replies carry the low id_bits bits of their request's seq (1..64);
	 * 0: they carry none and come in order on their connection. The
	 * outstanding requests are then at most 2^id_bits. */
	unsigned id_bits;
	/* A datagram longer than RTV_OL_DGRAM_READ is parsed from its first
	 * bytes (r->dgram_len has its length); false: it is stray. */
	bool truncated_ok;
	/* Write request seq, intended at intended_ns and sent now (now_ns),
	 * into buf (cap >= RTV_OL_REQ_MAX bytes); *kind is the protocol's
	 * own note of what it was (a get or a set), handed back to parse for
	 * a reply matched by order. Returns the length, or -errno (the
	 * request is then lost). */
	ssize_t (*encode)(void *ctx, uint64_t seq, int64_t intended_ns, int64_t now_ns,
			  unsigned char *buf, size_t cap, uint8_t *kind);
	/* Read one reply at the start of buf (len bytes: a whole datagram, or
	 * what a stream holds). kind: its request's, for a reply matched by
	 * order; -1 when the reply must say which request it answers (r->id).
	 * Returns the bytes it takes (> 0), 0 when a stream holds only a part
	 * of one, or -EBADMSG (a datagram is then stray; a stream is closed,
	 * its framing lost). */
	ssize_t (*parse)(void *ctx, int kind, const unsigned char *buf, size_t len,
			 struct rtv_ol_reply *r);
	/* Follow-up i (0..r->follow - 1) of request seq, after the reply parse
	 * just read, into buf: its length, or <= 0 for none. NULL: none. */
	ssize_t (*follow)(void *ctx, uint64_t seq, unsigned i, unsigned char *buf, size_t cap);
};

struct rtv_ol_cfg {
	const char *addr;         /* the server: numeric IPv4/IPv6 address */
	uint16_t port;
	int nconn;                /* connections (or UDP sockets), 1..RTV_OL_MAX_CONN; 0: 1 */
	/* At most this many requests outstanding (sent, neither answered nor
	 * lost); a request due meanwhile waits for one to resolve, and is
	 * late. 0: as many as the ring holds. With window == nconn and an
	 * interval of 0 the client is closed-loop, one request in flight per
	 * connection, as memaslap and sockperf ping-pong are: for throughput
	 * at saturation, never for latency. */
	uint32_t window;
	int64_t duration_ns;      /* send while S_i < start + duration_ns (warm-up included); 0 = unused */
	uint64_t count;           /* or stop after this many measured (post-warm-up) requests; 0 = unused.
				   * At least one of duration_ns and count must be set; with both,
				   * whichever comes first ends the sending. */
	/* X_i. An interval of 0 (min and max): no schedule, each request is
	 * due when the window lets it go (closed loop: rtt equals service),
	 * and the duration runs by the clock; without a window it bursts
	 * until the ring is full. */
	struct rtv_interval interval;
	uint64_t seed;            /* for the X_i: the same seed gives the same schedule */
	int64_t timeout_ns;       /* no reply this long after the actual send = lost; 0: 1 s */
	int64_t warmup_ns;        /* requests with S_i < start + warmup_ns are sent but not measured */
	int64_t spin_ns;          /* busy-wait (polling for replies) the last spin_ns before each
				   * send instead of sleeping; 0 = always sleep */
	const char *samples_path; /* optional: one line per measured request, in the order they were
				   * resolved: "seq intended_ns latency_ns service_ns" or
				   * "seq intended_ns lost", intended_ns counted from start_ns */
	const struct rtv_ol_proto *proto;
	void *proto_ctx;          /* the protocol's, handed to encode and parse */
	/* No server and no socket: each request (req, len bytes) is answered
	 * at once by respond(), which writes the reply into rep (cap bytes)
	 * and returns its length (<= 0: none), read as one from the server
	 * would be. A bench's stand-in, to measure the client's own work per
	 * request with no I/O. NULL: the server at addr. */
	ssize_t (*respond)(void *arg, const unsigned char *req, size_t len, unsigned char *rep,
			   size_t cap);
	void *respond_arg;
};

struct rtv_ol_result {
	struct rtv_hist rtt;     /* T_reply - S_i, measured requests answered in time */
	struct rtv_hist service; /* T_reply - actual send time, same requests */
	/* Counters, all but warmup and stray over measured requests only, so
	 * that at the end sent == received + lost:
	 *  sent     requests sent (a send that failed locally counts, and is lost);
	 *  received answered within timeout_ns of being sent (misses and errors included);
	 *  lost     not answered in time (late replies are then stray);
	 *  late     sent more than RTV_OL_LATE_NS after S_i;
	 *  misses   answered "not found";
	 *  errors   answered with an error;
	 *  warmup   requests sent during the warm-up (not measured);
	 *  stray    replies that matched no outstanding request: foreign or
	 *           malformed, duplicates, and replies after their request was lost;
	 *  broken   connections the server closed or reset, or whose framing was lost;
	 *  ignored  replies taken that answer no request (provisional ones, the
	 *           answers to follow-ups);
	 *  followed follow-up messages sent.
	 * Updated as the client goes with __atomic_store_n(..., __ATOMIC_RELAXED),
	 * so another process can read them through MAP_SHARED memory with
	 * __atomic_load_n for a progress line; the histograms are written in place
	 * (a concurrent reader sees a snapshot a few samples apart). */
	uint64_t sent, received, lost, late, misses, errors, warmup, stray, broken, ignored, followed;
	int64_t start_ns; /* S_0, CLOCK_MONOTONIC */
	int64_t end_ns;   /* when the last request was resolved */
};

/* Run the open-loop client (see the top of this file) in the calling thread.
 * res is initialised here and complete on return, whatever is returned.
 * Sending ends at the duration, the count or when *stop becomes nonzero
 * (seen within 100 ms, and at once on a signal that interrupts the wait);
 * then the client waits at most timeout_ns for the replies still due.
 * Memory for the ring of outstanding requests (about timeout / min interval
 * entries, at most RTV_OL_RING_MAX; when full, the next send waits for the
 * oldest to resolve and is late) is allocated once before the first send, and
 * so is, with samples_path, a buffer of samples (twice the ring, at least 4096
 * of 40 bytes): they are kept in binary, never formatted on the path of a
 * reply, and written as lines while the client waits at least 200 µs for its
 * next send, at the end, and, at rates that leave no such wait, a chunk at a
 * time before a send when the buffer could not hold every outstanding request
 * (that send is then late, and counted as late).
 * A stream's bytes that the kernel does not take at once wait in a buffer of
 * the connection's (RTV_OL_STREAM_BUF) and go when it can; a connection
 * whose buffer would overflow is closed (broken) and its requests lost.
 * While running, the thread's timer slack is set to 1 ns (restored after)
 * so sleeps end on time.
 * Returns 0, or -errno: -EINVAL for a bad cfg (no proto, addr not a numeric
 * address, nconn out of range, warmup_ns >= duration_ns, neither duration_ns
 * nor count), -ECONNREFUSED (or another connect error) when a TCP connection
 * cannot be made, or a socket or samples-file error (-EIO when writing the
 * samples failed); res still holds what was measured. */
int rtv_ol_run(const struct rtv_ol_cfg *cfg, const volatile sig_atomic_t *stop,
	       struct rtv_ol_result *res);

/* A random 64-bit tag for a run: rejects other runs' and foreign replies. */
uint64_t rtv_ol_tag(uint64_t seed);

#endif
