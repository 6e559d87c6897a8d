/* A SIP proxy as the RT service: Debian's Kamailio 5.6 as a stateless proxy
 * in the RT server container, rtvnet's UAS behind it in the same container
 * (proto/sip.h), and the open-loop client (probe/openloop.h) sending
 * OPTIONS (or calls: INVITE, ACK, BYE) through the proxy. A request's time
 * is its transaction's: from
 * the intended send to the 200 OK coming back through the proxy, matched
 * by the Call-ID the client wrote (the run's tag and the request's seq).
 * Provisional responses (1xx) are taken and passed over; a final response
 * other than 2xx is counted an error. */
#ifndef RTV_PROBE_SIP_H
#define RTV_PROBE_SIP_H

#include <signal.h>
#include <stdint.h>

#include "probe/openloop.h"
#include "probe/service.h"
#include "proto/sip.h"

#define RTV_SIP_DEFAULT_PORT     5060 /* the proxy's */
#define RTV_SIP_DEFAULT_UAS_PORT 5070 /* the UAS's, beside the proxy */

struct rtv_sip_client_cfg {
	struct rtv_ol_cfg ol;     /* the proxy, the schedule, the sockets; proto and
				   * proto_ctx are the client's own */
	const char *uas_addr;     /* the Request-URI's host: NULL, the proxy's address */
	uint16_t uas_port;        /* 0: RTV_SIP_DEFAULT_UAS_PORT */
	/* Calls instead of OPTIONS: each request an INVITE, whose transaction
	 * (to its final response) is the one measured; after its 200 the
	 * client sends the ACK and a BYE in the dialog (the 200's To tag), and
	 * the BYE's answer is taken (counted as ignored) without a time. */
	bool calls;
};

/* Defaults: the proxy on port 5060, the UAS on 5070, one socket. */
void rtv_sip_client_cfg_init(struct rtv_sip_client_cfg *cfg);
/* Run the open-loop client: OPTIONS requests, each a new Call-ID. Its Via
 * names the address the route to the proxy leaves from (found before the
 * first send), and the proxy answers to the port a request came from
 * (Kamailio's configuration forces rport). 0 or -errno as rtv_ol_run(). */
int rtv_sip_client_run(const struct rtv_sip_client_cfg *cfg, const volatile sig_atomic_t *stop,
		       struct rtv_ol_result *res);
/* Send one OPTIONS after another (each waiting at most 200 ms) until one
 * is answered 200 through the proxy, for at most wait_ns: 0, or -ETIMEDOUT. */
int rtv_sip_wait_ready(const struct rtv_sip_client_cfg *cfg, const volatile sig_atomic_t *stop,
		       int64_t wait_ns);

/* ---- the probe (probe/probe.h: rtv_probe_sip) ----
 * Kamailio and the UAS in the testbed's RT server host, the client in its
 * RT client host, whose schedule, warm-up and duration are the run's.
 * Kamailio's configuration, and SIPp's scenario and files, are in a
 * journaled directory of the run's (probe/service.h: rtv_svc_workdir). */
struct rtv_sip_probe_cfg {
	struct rtv_sip_client_cfg client;
	/* SIPp (Debian's sip-tester) drives the same proxy in every run too,
	 * from the RT client host, OPTIONS at the schedule's mean rate for the
	 * whole run (its warm-up included); its response times (-trace_rtt,
	 * whole milliseconds of a coarse clock) are the metrics sipp_*. */
	bool sipp;
	int children;             /* Kamailio's UDP worker processes; 0: 1 */
	int64_t start_wait_ns;    /* how long the proxy may take to answer; 0: 5 s */
};

#endif
