/* NetRT: the RT UDP echo service and its open-loop latency client.
 *
 * The server echoes every datagram back to its sender, byte for byte. The
 * client is the open-loop client (probe/openloop.h: its schedule, its rtt
 * and service times, its counters) speaking the wire format below.
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
#include <sys/types.h>

#include "probe/openloop.h"
#include "stats/hist.h"
#include "stats/interval.h"

#define RTV_NETRT_DEFAULT_PORT    7201
#define RTV_NETRT_MIN_PAYLOAD     32u    /* the header above */
#define RTV_NETRT_DEFAULT_PAYLOAD 64u
#define RTV_NETRT_MAX_PAYLOAD     65507u /* largest IPv4 UDP payload */
#define RTV_NETRT_DEFAULT_TIMEOUT_NS RTV_OL_DEFAULT_TIMEOUT_NS
#define RTV_NETRT_LATE_NS         RTV_OL_LATE_NS
#define RTV_NETRT_STOP_CHECK_NS   RTV_OL_STOP_CHECK_NS

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
	/* the server, the schedule, the counts and times, the samples file, a
	 * stand-in server (probe/openloop.h); port 0: RTV_NETRT_DEFAULT_PORT;
	 * nconn, window, proto and proto_ctx are the client's own (one socket) */
	struct rtv_ol_cfg ol;
	size_t payload;           /* bytes per datagram, RTV_NETRT_MIN_PAYLOAD..MAX; 0: default (64) */
};

/* The open-loop client (probe/openloop.h: rtv_ol_run) with NetRT's protocol
 * and one connected UDP socket: -EINVAL also for a payload out of range. */
int rtv_netrt_client_run(const struct rtv_netrt_client_cfg *cfg, const volatile sig_atomic_t *stop,
			 struct rtv_ol_result *res);

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
