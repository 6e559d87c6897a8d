/* NetRT: the RT UDP echo service and its open-loop latency client.
 *
 * The server echoes every datagram back to its sender, byte for byte. The
 * client sends requests on a schedule fixed in advance, independent of the
 * replies (the open-loop rule, against coordinated omission): S_0 is the start,
 * S_i = S_{i-1} + X_i with X_i drawn from cfg->interval, all on one absolute
 * CLOCK_MONOTONIC timeline. A request that cannot go out at S_i (the client
 * was descheduled, or the outstanding ring was full) goes out at once, is
 * still measured from S_i, and the schedule is never shifted. So a server
 * stall of 10 ms at a 1 ms interval shows as about ten slow samples, not one.
 *
 * Per answered request the client records two times:
 *  - rtt:     T_reply - S_i, latency from the intended send time (the one
 *             the papers report; a user's request would have waited this long);
 *  - service: T_reply - actual send time (what a closed-loop tool such as
 *             sockperf ping-pong or netperf UDP_RR reports).
 * T_reply is read from CLOCK_MONOTONIC just after the reply leaves recvmmsg()
 * in user space, as sockperf does, so it includes the client's wake-up.
 *
 * Wire format (payload >= RTV_NETRT_MIN_PAYLOAD bytes, rest zero), in the
 * client's byte order, as only the client reads it back:
 *   0  u64 tag         random per run: rejects other runs' and foreign datagrams
 *   8  u64 seq         0, 1, 2, ... in send order, warm-up requests included
 *  16  i64 intended_ns S_i
 *  24  i64 sent_ns     the actual send time
 * A reply is matched by tag, seq and intended_ns against a fixed ring of
 * outstanding requests; its length must equal the payload.
 *
 * Neither side prints; both run in the calling thread.
 */
#ifndef RTV_PROBE_NETRT_H
#define RTV_PROBE_NETRT_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/hist.h"
#include "stats/interval.h"

#define RTV_NETRT_DEFAULT_PORT    7201
#define RTV_NETRT_MIN_PAYLOAD     32u    /* the header above */
#define RTV_NETRT_DEFAULT_PAYLOAD 64u
#define RTV_NETRT_MAX_PAYLOAD     65507u /* largest IPv4 UDP payload */
#define RTV_NETRT_DEFAULT_TIMEOUT_NS INT64_C(1000000000) /* 1 s */
#define RTV_NETRT_LATE_NS         INT64_C(50000)   /* a send this much after S_i is "late" */
#define RTV_NETRT_STOP_CHECK_NS   INT64_C(100000000) /* *stop is seen within 100 ms */
#define RTV_NETRT_RING_MAX        (1u << 18)       /* outstanding requests at most */

/* ---- server ---- */

struct rtv_netrt_server_cfg {
	const char *bind_addr; /* numeric IPv4/IPv6 address; NULL = any (IPv6 and IPv4) */
	uint16_t port;         /* 0 = an ephemeral port (see rtv_netrt_sock_port()) */
};

struct rtv_netrt_server_stats {
	/* Datagrams received, each echoed unless sendto() failed. Updated
	 * while serving with __atomic_store_n(..., __ATOMIC_RELAXED), so
	 * another thread or process can read it. */
	uint64_t requests;
	/* Whether requests come through a NAPI (threaded, busy-polled) or
	 * through the backlog: SO_INCOMING_NAPI_ID sampled after the first
	 * request and every RTV_NETRT_NAPI_SAMPLE-th. napi_path counts samples
	 * with an id (a real NAPI's ids start at 2^31 / MIN_NAPI_ID); napi_id is
	 * the last id seen, 0 for none. */
	uint64_t napi_samples, napi_path;
	uint32_t napi_id;
};
#define RTV_NETRT_NAPI_SAMPLE 64

/* Create the server's UDP socket and bind it (SO_REUSEADDR, CLOEXEC), so a
 * caller knows the port is bound before it starts clients. Returns the fd,
 * owned by the caller, or -errno (-EINVAL for an unparsable bind_addr). */
int rtv_netrt_server_open(const struct rtv_netrt_server_cfg *cfg);

/* Echo datagrams on fd (from rtv_netrt_server_open()) with blocking
 * recvmsg()/sendmsg() until *stop becomes nonzero; each reply leaves from the
 * address its request was sent to (on a socket bound to any address, from
 * IP_PKTINFO/IPV6_PKTINFO: a connected client takes no other); *stop is checked at least
 * every 100 ms (a receive timeout is set on fd) and after any signal. No
 * allocation after start. st may be NULL. Does not close fd.
 * Returns 0 when stopped, or -errno on a receive error. A failing sendto()
 * (the client went away, no buffer space) drops that reply and goes on. */
int rtv_netrt_server_serve(int fd, const volatile sig_atomic_t *stop,
			   struct rtv_netrt_server_stats *st);

/* rtv_netrt_server_serve, sleeping reply_delay_ns (CLOCK_MONOTONIC, from
 * the receive call's return) before each reply: a test's known delay in one
 * stage of the round trip (probe/stages.h: "srv"). 0: none. */
int rtv_netrt_server_serve_delayed(int fd, const volatile sig_atomic_t *stop,
				   struct rtv_netrt_server_stats *st, int64_t reply_delay_ns);

/* open + serve + close. */
int rtv_netrt_server_run(const struct rtv_netrt_server_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_netrt_server_stats *st);

/* The local port fd is bound to (host order), or -errno. */
int rtv_netrt_sock_port(int fd);

/* ---- client ---- */

struct rtv_netrt_client_cfg {
	const char *addr;         /* the server: numeric IPv4/IPv6 address */
	uint16_t port;            /* 0: RTV_NETRT_DEFAULT_PORT */
	size_t payload;           /* bytes per datagram, RTV_NETRT_MIN_PAYLOAD..MAX; 0: default (64) */
	int64_t duration_ns;      /* send while S_i < start + duration_ns (warm-up included); 0 = unused */
	uint64_t count;           /* or stop after this many measured (post-warm-up) requests; 0 = unused.
				   * At least one of duration_ns and count must be set; with both,
				   * whichever comes first ends the sending. */
	struct rtv_interval interval; /* X_i; min_ns 0 is allowed but bursts */
	uint64_t seed;            /* for the X_i: the same seed gives the same schedule */
	int64_t timeout_ns;       /* no reply this long after the actual send = lost; 0: 1 s */
	int64_t warmup_ns;        /* requests with S_i < start + warmup_ns are sent but not measured */
	int64_t spin_ns;          /* busy-wait (polling for replies) the last spin_ns before each
				   * send instead of sleeping; 0 = always sleep */
	const char *samples_path; /* optional: one line per measured request, in the order they were
				   * resolved: "seq intended_ns latency_ns service_ns" or
				   * "seq intended_ns lost", intended_ns counted from start_ns */
};

struct rtv_netrt_result {
	struct rtv_hist rtt;     /* T_reply - S_i, measured requests answered in time */
	struct rtv_hist service; /* T_reply - actual send time, same requests */
	/* Counters, all but warmup and stray over measured requests only, so
	 * that at the end sent == received + lost:
	 *  sent     requests sent (a send that failed locally counts, and is lost);
	 *  received answered within timeout_ns of being sent;
	 *  lost     not answered in time (late replies are then stray);
	 *  late     sent more than RTV_NETRT_LATE_NS after S_i;
	 *  warmup   requests sent during the warm-up (not measured);
	 *  stray    datagrams that matched no outstanding request: foreign or
	 *           malformed, duplicates, and replies after their request was lost.
	 * Updated as the client goes with __atomic_store_n(..., __ATOMIC_RELAXED),
	 * so another process can read them through MAP_SHARED memory with
	 * __atomic_load_n for a progress line; the histograms are written in place
	 * (a concurrent reader sees a snapshot a few samples apart). */
	uint64_t sent, received, lost, late, warmup, stray;
	int64_t start_ns; /* S_0, CLOCK_MONOTONIC */
	int64_t end_ns;   /* when the last request was resolved */
};

/* Run the open-loop client (see the top of this file) in the calling thread.
 * res is initialised here and complete on return, whatever is returned.
 * Sending ends at the duration, the count or when *stop becomes nonzero
 * (seen within 100 ms, and at once on a signal that interrupts the wait);
 * then the client waits at most timeout_ns for the replies still due.
 * Memory for the ring of outstanding requests (about timeout / min interval
 * entries, at most RTV_NETRT_RING_MAX; when full, the next send waits for the
 * oldest to resolve and is late) is allocated once before the first send, and
 * so is, with samples_path, a buffer of samples (twice the ring, at least 4096
 * of 40 bytes): they are kept in binary, never formatted on the path of a
 * reply, and written as lines while the client waits at least 200 µs for its
 * next send, at the end, and, at rates that leave no such wait, a chunk at a
 * time before a send when the buffer could not hold every outstanding request
 * (that send is then late, and counted as late).
 * While running, the thread's timer slack is set to 1 ns (restored after)
 * so sleeps end on time.
 * Returns 0, or -errno: -EINVAL for a bad cfg (addr not a numeric address,
 * payload out of range, warmup_ns >= duration_ns, neither duration_ns nor
 * count), or a socket or samples-file error (-EIO when writing the samples
 * failed); res still holds what was measured. */
int rtv_netrt_client_run(const struct rtv_netrt_client_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_netrt_result *res);

/* The statistics of one latency histogram as a new JSON object, in µs:
 * {count, lost, mean, sd, min, p50, p90, p99, p999, p9999, max, over_1ms_pct},
 * rtv_hist_json(h, 1000) (report/histjson.h) with lost as given after count
 * and the percentage of samples above 1 ms at the end; the statistics are
 * null when h is empty. Percentiles carry the histogram's error (within
 * 0.4%). Returns a new reference, or NULL when out of memory. */
json_t *rtv_netrt_hist_json(const struct rtv_hist *h, uint64_t lost);

/* ---- the probe (probe/probe.h: rtv_probe_netrt) ----
 * The server in the testbed's RT server host, the client in its RT client
 * host, timeout RTV_NETRT_DEFAULT_TIMEOUT_NS, warm-up and duration the run's. */
struct rtv_netrt_probe_cfg {
	uint16_t port;
	size_t payload;
	struct rtv_interval interval;
};

#endif
