/* memcached as the RT service: Debian's memcached 1.6 in the RT server
 * container, measured by the open-loop client (probe/openloop.h) speaking
 * memcached's protocol (proto/memcached.h): ASCII or meta commands over TCP
 * (replies matched by order on each connection), or the same over UDP in
 * memcached's frame, whose request id matches them.
 *
 * Each request is a get or a set (a share of gets), of a key drawn from
 * `keys` keys (uniform or Zipf popularity), with values of value_size
 * bytes. Before the measured run every key is set once (rtv_mc_prefill),
 * so that gets hit unless the cache evicts; misses and errors are counted,
 * and answered requests are measured whatever the answer. */
#ifndef RTV_PROBE_MEMCACHED_H
#define RTV_PROBE_MEMCACHED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/openloop.h"
#include "proto/memcached.h"

#define RTV_MC_DEFAULT_PORT  11211
#define RTV_MC_DEFAULT_KEYS  10000u
#define RTV_MC_DEFAULT_VALUE 64u
#define RTV_MC_CLIENT_VALUE_MAX (32u * 1024u) /* a reply fits a connection's buffer */
#define RTV_MC_VALUE_MAX_UDP 1200u          /* a reply fits one datagram (memcached splits at 1400) */
#define RTV_MC_KEYS_MAX      (16u * 1024u * 1024u)

struct rtv_mc_client_cfg {
	struct rtv_ol_cfg ol;     /* the server, schedule, connections; proto and proto_ctx
				   * are the client's own */
	enum rtv_mc_proto proto;  /* ASCII or meta commands */
	bool udp;                 /* memcached's UDP frame instead of TCP */
	uint32_t keys;            /* 1..RTV_MC_KEYS_MAX */
	double zipf;              /* popularity exponent s; 0: uniform */
	double get_ratio;         /* the share of gets, 0..1; the rest are sets */
	size_t value_size;        /* 1..RTV_MC_CLIENT_VALUE_MAX (UDP: ..RTV_MC_VALUE_MAX_UDP) */
};

/* Defaults: port 11211, TCP, ASCII, 10000 keys uniform, 90% gets, 64-byte
 * values, 1 connection; the schedule left to the caller. */
void rtv_mc_client_cfg_init(struct rtv_mc_client_cfg *cfg);
/* 0, or -EINVAL with why (naming the setting) for a configuration out of
 * range. */
int rtv_mc_client_check(const struct rtv_mc_client_cfg *cfg, char *why, size_t len);
/* Run the open-loop client. The keys' popularity table and the value are
 * made before the first send. 0 or -errno as rtv_ol_run(). */
int rtv_mc_client_run(const struct rtv_mc_client_cfg *cfg, const volatile sig_atomic_t *stop,
		      struct rtv_ol_result *res);
/* Set every key once over one TCP connection (whatever cfg->udp says), at
 * one set per 10 µs on the schedule, trying to connect for at most
 * wait_ns first (the server may be starting). 0 when every set was
 * stored; -ECONNREFUSED (or another connect error) when no connection
 * came, -EIO when a set was lost or refused; res (may be NULL) has the
 * counts. */
int rtv_mc_prefill(const struct rtv_mc_client_cfg *cfg, const volatile sig_atomic_t *stop,
		   int64_t wait_ns, struct rtv_ol_result *res);

/* ---- the probe (probe/probe.h: rtv_probe_memcached) ----
 * memcached in the testbed's RT server host, listening on its address on
 * TCP and UDP port `client.ol.port`, with `threads` worker threads; the
 * keys set from the RT client host; then the client there, whose schedule,
 * warm-up and duration are the run's. */
struct rtv_mc_probe_cfg {
	struct rtv_mc_client_cfg client;
	int threads;              /* memcached's -t; 0: 1 (the RT server is one thread's work) */
	int64_t start_wait_ns;    /* how long memcached may take to answer; 0: 5 s */
};

#endif
