/* Bulk TCP/UDP traffic: the co-located non-RT load ("NetStream") whose effect
 * on the RT UDP service rtvnet measures. A source writes as fast as it can
 * (TCP, or UDP without a rate) or on an absolute schedule (UDP with a rate);
 * a sink reads and counts. Both run in the calling thread until their
 * duration has elapsed or *stop becomes nonzero, and never print. */
#ifndef RTV_PROBE_STREAM_H
#define RTV_PROBE_STREAM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/metric.h"

#define RTV_STREAM_TCP_MSG_SIZE  (128u * 1024u) /* default TCP write size, bytes */
#define RTV_STREAM_UDP_MSG_SIZE  1472u          /* default UDP payload: 1500 MTU - IPv4 - UDP */
#define RTV_STREAM_UDP6_MSG_SIZE 1452u          /* the same to an IPv6 address: 1500 - IPv6 - UDP */
#define RTV_STREAM_UDP_MAX_SIZE  65507u         /* largest IPv4 UDP payload */
#define RTV_STREAM_UDP_MIN_SIZE  8u             /* the sequence number */
#define RTV_STREAM_TCP_MAX_SIZE  (16u * 1024u * 1024u)
#define RTV_STREAM_DEFAULT_PORT  5301           /* rtvnet's stream sink listens here */
#define RTV_STREAM_IPERF3_PORT   5201           /* iperf3's default, for iperf3 streams */
/* a source keeps retrying a refused connect this long */
#define RTV_STREAM_CONNECT_RETRY_NS INT64_C(2000000000)

struct rtv_stream_cfg {
	int proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	const char *addr;    /* source: the sink's numeric IPv4/IPv6 address;
			      * sink: address to bind, NULL for any (IPv6 and IPv4) */
	uint16_t port;
	size_t msg_size;     /* source: bytes per write (TCP) or UDP payload including
			      * the 8-byte sequence number; sink: bytes per read (TCP,
			      * at most 1 MiB) or the largest datagram copied in full
			      * (UDP; longer ones are counted whole); 0: the default,
			      * rtv_stream_msg_size() */
	double rate_bit_s;   /* UDP source: target payload rate in bits/s, 0 = as
			      * fast as possible; ignored for TCP and by sinks */
	int64_t duration_ns; /* 0 = until *stop; see the functions for when it starts */
	int64_t interval_ns; /* reporting interval; 0: 1 s */
};

struct rtv_stream_result {
	/* Payload bytes sent (source) or received (sink). Updated while running
	 * with __atomic_store_n(..., __ATOMIC_RELAXED), so that another process
	 * can watch progress through shared memory with __atomic_load_n. */
	uint64_t bytes;
	/* CLOCK_MONOTONIC ns. Source: connected (TCP) or first datagram (UDP) to
	 * the last write. Sink: first connection accepted (TCP) or first datagram
	 * (UDP) to the last data received. Both 0 when no traffic happened. */
	int64_t start_ns, end_ns;
	/* UDP only: datagrams sent or received, and (sink) datagrams missing by
	 * gaps in the sequence numbers. The sink follows one source: a datagram
	 * with sequence number 0 starts a new stream; one that arrives late
	 * counts as found again, so duplicates make `lost` an underestimate. */
	uint64_t datagrams, lost;
};

/* Called once per interval from the running function: t_ns is the end of the
 * interval in ns since res->start_ns, interval_ns its measured length (close
 * to cfg->interval_ns), interval_bytes the payload bytes in it. A last, partial
 * interval is reported when it is at least a tenth of cfg->interval_ns long. */
typedef void (*rtv_stream_report_fn)(void *arg, int64_t t_ns, uint64_t interval_bytes,
				     int64_t interval_ns);

/* Receive and count. TCP: listen (SO_REUSEADDR, backlog 64) and accept any
 * number of sources, reading each at full speed; UDP: receive datagrams (with
 * an 8 MiB receive buffer when allowed) and count gaps in their sequence
 * numbers. With addr NULL it listens on IPv6 and IPv4. Data is read into a
 * buffer of the sink's own (allocated before it listens; -ENOMEM) and
 * discarded, so sinks may run in several threads. Intervals
 * and duration_ns start at the first connection (TCP) or datagram (UDP);
 * before that the sink waits until *stop. A source that disconnects or
 * resets ends its connection, not the sink. *stop is checked at least every
 * 100 ms (epoll timeouts). report may be NULL.
 * Returns 0 when the duration elapsed or *stop became nonzero, or -errno;
 * res holds what was counted either way. */
int rtv_stream_sink_run(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
			rtv_stream_report_fn report, void *arg, struct rtv_stream_result *res);

/* Send. TCP: connect to cfg->addr (retrying for RTV_STREAM_CONNECT_RETRY_NS
 * while refused; -ETIMEDOUT after 5 s without an answer) and write msg_size
 * blocks at full speed with blocking sends; UDP: send datagrams
 * that start with a 64-bit big-endian sequence number, from 0, paced on an
 * absolute schedule to rate_bit_s when it is nonzero. duration_ns counts
 * from the connection (TCP) or the first datagram (UDP). *stop is checked at
 * least every 100 ms. report may be NULL. SIGPIPE is never raised.
 * Returns 0 when the duration elapsed or *stop became nonzero, or -errno
 * (res->start_ns is 0 when the connection never came up); res holds what was
 * sent either way. A sink that goes away mid-run gives -EPIPE or -ECONNRESET.
 * UDP datagrams refused (ICMP port unreachable: no sink yet) are not counted. */
int rtv_stream_source_run(const struct rtv_stream_cfg *cfg, const volatile sig_atomic_t *stop,
			  rtv_stream_report_fn report, void *arg, struct rtv_stream_result *res);

/* The stream and iperf3 load probes (probe/probe.h): bulk TCP at full speed
 * over the first nstreams stream pairs of the testbed (0: one). */
struct rtv_stream_probe_cfg {
	int nstreams;
};
/* The pairs a load uses: cfg's, at least one (cfg may be NULL). */
static inline int rtv_stream_probe_pairs(const struct rtv_stream_probe_cfg *cfg)
{
	return cfg && cfg->nstreams > 0 ? cfg->nstreams : 1;
}
/* The metric both measure, the receivers' throughput "stream_gbit_s"
 * (Gbit/s, a double at the start of their states). */
extern const struct rtv_metric rtv_stream_metrics[1];

/* The bytes per write or datagram cfg asks for: msg_size, or when that is 0
 * RTV_STREAM_TCP_MSG_SIZE for TCP, and for UDP the payload that fills one
 * 1500-byte packet to cfg->addr: RTV_STREAM_UDP6_MSG_SIZE to an IPv6
 * address, RTV_STREAM_UDP_MSG_SIZE otherwise (IPv4, or a sink on any). */
size_t rtv_stream_msg_size(const struct rtv_stream_cfg *cfg);

/* Payload throughput of a result in Gbit/s (10^9 bit/s); 0 when it spans no time. */
double rtv_stream_gbit_s(const struct rtv_stream_result *r);

#endif
