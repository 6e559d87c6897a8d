/* SIP over UDP (RFC 3261) for the SIP proxy service: the open-loop client's
 * requests, a parser for requests and responses, the UAS that answers behind
 * the proxy, and the command lines and files of the two programs run around
 * it: Kamailio (the stateless proxy under test) and SIPp (the cross-check).
 *
 * The encoders and the parser do no I/O and no allocation; the parser keeps
 * pointers into its input. Only what rtvnet's flows need is understood: a
 * message is a start line, header lines and a body of Content-Length bytes;
 * lines end with CRLF (a bare LF is accepted too), the headers with an empty
 * line. Header names are case-insensitive and the compact forms i, v, f, t,
 * l are known. A header line beginning with a space or tab continues the
 * previous one (folding): its value then holds the line break.
 *
 * Wire facts checked against the programs (Debian 12: Kamailio 5.6.3,
 * SIPp 3.6.1); the unit test's data/sip/ holds the messages captured:
 *  - Kamailio's forward() puts its own Via as a new first header line
 *    ("Via: SIP/2.0/UDP addr:port;branch=z9hG4bK..."), decrements
 *    Max-Forwards in place (or, when absent, adds "Max-Forwards: 70" as the
 *    very first header line), and sends a reply on by its second Via with
 *    its own Via line removed: the client gets back its request's Call-ID
 *    and CSeq byte for byte. Its 483 (sl_send_reply) carries a To tag of
 *    its own and a Server header.
 *  - "kamailio -c" (configuration check) only reads files, but it does not
 *    run the fixups that resolve forward()'s destination: a config it
 *    passes may still fail at start ("fixing failed"); watch the start.
 *  - SIPp times a response with CLOCK_MONOTONIC_COARSE, so its response
 *    times step by the kernel's tick (4 ms on the test machine, HZ=250):
 *    a cross-check of the order of magnitude, not of microseconds.
 */
#ifndef RTV_PROTO_SIP_H
#define RTV_PROTO_SIP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "stats/hist.h"

#define RTV_SIP_MAX_VIA      16     /* Via header lines a parsed message may have */
#define RTV_SIP_MAX_DATAGRAM 65507u /* largest IPv4 UDP payload */
/* Room enough for any request rtv_sip_encode() makes from strings of at
 * most 256 bytes each. */
#define RTV_SIP_REQ_MAX      2048u

/* ---- the client's requests ---- */

/* A piece of the input: not NUL-terminated; p NULL and len 0 when absent. */
struct rtv_sip_str {
	const char *p;
	size_t len;
};

/* A request the client sends to the proxy: OPTIONS, or INVITE, ACK, BYE for
 * call flows. The strings must not hold CR or LF (not checked: they are
 * copied as they are). */
struct rtv_sip_req {
	const char *method;   /* "OPTIONS" */
	const char *ruri;     /* Request-URI: "sip:uas@198.19.0.2:5070" */
	const char *via_host; /* the client's address (Via sent-by); an IPv6 one in brackets */
	uint16_t via_port;    /* and port */
	const char *from_uri; /* "sip:rtv@198.19.0.1" (written in <>) */
	const char *to_uri;   /* "sip:uas@198.19.0.2" (written in <>) */
	uint64_t tag;         /* the run's random tag: in the From tag, Call-ID and branch */
	uint64_t seq;         /* the request's number: in the Call-ID and branch */
	uint32_t cseq;        /* the CSeq number */
	int max_forwards;     /* 70; < 0: no Max-Forwards header (the proxy adds one) */
	struct rtv_sip_str to_tag; /* the dialog's To tag (an ACK's or BYE's, from the 2xx);
				    * p NULL: none */
};

/* Write r as a complete UDP SIP request into buf (not NUL-terminated):
 *   METHOD RURI SIP/2.0
 *   Via: SIP/2.0/UDP HOST:PORT;branch=z9hG4bK<tag>.<seq>.<cseq>[a]
 *   Max-Forwards: N
 *   From: <FROM>;tag=<tag>
 *   To: <TO>[;tag=TO_TAG]
 *   Call-ID: <tag>-<seq>@rtvnet
 *   CSeq: CSEQ METHOD
 *   Content-Length: 0
 * <tag> is tag in 16 lowercase hex digits, <seq> seq in decimal (the
 * Call-ID rtv_sip_call_id() reads). The branch is unique per transaction as
 * long as (seq, cseq) is: an ACK gets "a" appended, as the ACK of a 2xx is a
 * transaction of its own. No snprintf: 200 ns for a 280-byte OPTIONS on the
 * (loaded, 2-CPU) test machine, where snprintf of the same text took
 * 1000 ns. Returns the length, -ENOSPC when cap is too small (buf then holds
 * garbage), -EINVAL for a NULL string. */
ssize_t rtv_sip_encode(const struct rtv_sip_req *r, char *buf, size_t cap);

/* ---- parsing ---- */


/* A parsed message, request or response. Every pointer points into the
 * parsed buffer, which must outlive the struct. */
struct rtv_sip_msg {
	bool is_request;
	int status;                      /* response: 100..699; request: 0 */
	const char *method;              /* request: its method; response: the CSeq's */
	size_t method_len;
	const char *call_id;             /* Call-ID value */
	size_t call_id_len;
	uint32_t cseq;                   /* CSeq number */
	const char *cseq_method;         /* CSeq method */
	size_t cseq_method_len;
	int max_forwards;                /* -1: absent */
	size_t content_length;           /* body bytes: Content-Length, or to the datagram's end
					  * when absent */
	size_t len;                      /* the whole message: headers + body */
	struct rtv_sip_str ruri;         /* request: Request-URI */
	struct rtv_sip_str reason;       /* response: reason phrase (may be empty) */
	struct rtv_sip_str from, to;     /* From and To values (name-addr and parameters) */
	struct rtv_sip_str from_tag;     /* their tag parameters; to_tag.p NULL: none */
	struct rtv_sip_str to_tag;
	size_t nvia;                     /* Via header lines, first (topmost) first */
	struct rtv_sip_str via[RTV_SIP_MAX_VIA]; /* each line's value as is (commas kept) */
	size_t header_len;               /* start line + headers + the empty line */
	const char *body;                /* content_length bytes */
};

/* Parse one message from a datagram of len bytes (buf need not be
 * NUL-terminated; nothing at or past buf[len] is read). O(len), no
 * allocation. Returns 0, or -EBADMSG when malformed or truncated: a bad
 * start line (request "METHOD URI SIP/2.0", response "SIP/2.0 NNN reason"),
 * a header line without a colon, no empty line ending the headers, a
 * Content-Length beyond the datagram, a Call-ID, CSeq, From, To or Via
 * missing, Call-ID, CSeq, From, To, Max-Forwards or Content-Length given
 * twice or not of their form (a From or To with an unclosed quote or '<'),
 * a request whose CSeq method is not its method, more than RTV_SIP_MAX_VIA
 * Via lines. Bytes after the Content-Length'th are not part of the message
 * (RFC 3261 18.3): m->len is then less than len. m's contents are
 * undefined on error. About 400 ns for a 300-byte proxied OPTIONS on the
 * test machine. */
int rtv_sip_parse(const char *buf, size_t len, struct rtv_sip_msg *m);

/* The tag and seq from the Call-ID of m as rtv_sip_encode() wrote it
 * ("<16 hex>-<decimal>@rtvnet", exactly). Returns 0, or -EBADMSG when the
 * Call-ID is not of that form (another UAC's message). */
int rtv_sip_call_id(const struct rtv_sip_msg *m, uint64_t *tag, uint64_t *seq);

/* A UAS's response to the request m into buf (not NUL-terminated):
 *   SIP/2.0 STATUS REASON
 *   every Via of m, in order, one line each
 *   From, Call-ID, CSeq as in m
 *   To as in m, with ";tag=<to_tag in 16 hex>" added when m's To has none
 *   Content-Length: 0
 * Returns the length, -ENOSPC, or -EINVAL (m not a request, status not in
 * 100..699, reason NULL or holding CR/LF). */
ssize_t rtv_sip_response(const struct rtv_sip_msg *m, int status, const char *reason,
			 uint64_t to_tag, char *buf, size_t cap);

/* rtv_sip_response() with extra header lines (each ending in CRLF, e.g.
 * "Contact: <sip:uas@198.19.0.2:5070>\r\n") put before Content-Length;
 * extra NULL or "": none. */
ssize_t rtv_sip_response_hdrs(const struct rtv_sip_msg *m, int status, const char *reason,
			      uint64_t to_tag, const char *extra, char *buf, size_t cap);

/* ---- the UAS behind the proxy ---- */

struct rtv_sip_uas_stats {
	uint64_t requests;  /* requests parsed */
	uint64_t answered;  /* responses sent */
	uint64_t malformed; /* datagrams rtv_sip_parse() refused (dropped) */
};

/* Answer SIP requests on fd, a UDP socket already bound (to one address:
 * replies leave from it), until *stop becomes nonzero; *stop is checked at
 * least every 100 ms (a receive timeout is set on fd) and after a signal.
 * OPTIONS, INVITE and BYE get 200 OK (INVITE's with "Contact: <its
 * Request-URI>", no body), ACK nothing, any other method 405 with an Allow
 * header; responses and malformed datagrams are dropped. A response goes to
 * the address and port its request came from (the proxy), whatever the Via
 * says. The To tag added is a hash of the Call-ID, so a dialog keeps one.
 * Counters in st (may be NULL) are updated with relaxed atomic stores, for
 * another thread or process to read. 192 KiB of buffers (request,
 * response, Contact line) are allocated at start, nothing while serving. Does not close fd. Returns 0 when stopped,
 * -EINVAL, -ENOMEM, or -errno of a failed receive. A failed send drops that
 * response. */
int rtv_sip_uas_serve(int fd, const volatile sig_atomic_t *stop, struct rtv_sip_uas_stats *st);

/* ---- Kamailio, the proxy under test ---- */

/* Write Kamailio 5.6's configuration of a stateless proxy to f: listen on
 * udp addr:port only (no TCP, TLS, SCTP, no DNS), children worker
 * processes, modules sl and maxfwd only, no database, no control socket
 * (so nothing is written in its runtime dir but the pid file). Its request
 * route decrements Max-Forwards (adding "Max-Forwards: 70" when absent) and
 * answers 483 Too Many Hops statelessly when it was 0, otherwise forwards
 * the request statelessly to udp uas_addr:uas_port (core forward()).
 * Replies go back by Via (Kamailio's core does it for stateless
 * forwarding), to the address and port each request came from (force_rport():
 * a client may send from several ports, whatever its Via says). addr and uas_addr are numeric IPv4 or IPv6 addresses. Returns
 * 0, -EINVAL (bad address, port 0, children not in 1..256) or -EIO (a write
 * to f failed). */
int rtv_sip_kamailio_cfg(FILE *f, const char *addr, uint16_t port, const char *uas_addr,
			 uint16_t uas_port, int children);

/* argv for running Kamailio with the configuration at cfg_path in the
 * foreground: the main process stays in the foreground (not daemonized) and
 * forks its children, logs go to stderr, shared memory 64 MiB and private
 * memory 8 MiB per process, working directory, runtime directory and pid
 * file (run_dir/kamailio.pid) in run_dir, which must exist (Kamailio makes
 * none). As the calling user (no -u/-g). Checked with 5.6.3:
 *   kamailio -f CFG -DD -E -m 64 -M 8 -w RUN_DIR -Y RUN_DIR -P RUN_DIR/kamailio.pid
 * It stops on SIGTERM (or SIGINT), its children with it, and removes the pid
 * file (not run_dir). Strings the argv needs are written in buf (len
 * bytes); argv gets them NULL-terminated (maxargv includes the NULL).
 * Returns argc, -ENOSPC or -EINVAL. */
int rtv_sip_kamailio_argv(const char *kamailio_path, const char *cfg_path, const char *run_dir,
			  char *buf, size_t len, char **argv, int maxargv);

/* ---- SIPp, the cross-check ---- */

/* Write a SIPp scenario to f: each call sends one OPTIONS to ruri (SIPp's
 * Via, From and Call-ID, "Max-Forwards: 70", CSeq 1) starting response-time
 * measure "1", and waits for a 200 that stops it. The rtt file then has one
 * line per answered call. ruri must hold none of [ ] < > & (SIPp's keywords
 * and XML), nor CR/LF: -EINVAL; so an IPv6 Request-URI is not supported.
 * Returns 0, -EINVAL or -EIO. */
int rtv_sip_sipp_scenario(FILE *f, const char *ruri);

/* Read SIPp 3.6.1's -trace_rtt file ("<scenario>_<pid>_rtt.csv" in SIPp's
 * working directory): a header line "Date_ms;response_time_ms;rtd_no" and
 * one line "DATE;RTT;NAME" per response time, DATE the ms since SIPp
 * started and RTT the time in ms (C++ ostream's default format, 6
 * significant digits: "4", "0.5", "1.23457e+06"). Each RTT goes into h (may
 * be NULL) in ns, rounded (SIPp's many 0 ms count in h's underflow), and is counted in *count (may be NULL). A last
 * line without its newline (SIPp stopped while writing) is ignored; an
 * empty text is 0 samples. Returns 0, or -EBADMSG for any other line not of
 * that form (a negative or non-finite RTT included); then nothing has been
 * recorded into h. */
int rtv_sip_sipp_rtt_parse(const char *text, size_t len, struct rtv_hist *h, uint64_t *count);

/* What rtv_sip_sipp_argv() runs. */
struct rtv_sip_sipp_cfg {
	const char *sipp_path;     /* "/usr/bin/sipp" */
	const char *scenario_path; /* from rtv_sip_sipp_scenario() */
	const char *proxy_addr;    /* numeric IPv4 address of the proxy */
	uint16_t proxy_port;
	const char *local_addr;    /* numeric IPv4 address to send from (bound: -bind_local) */
	uint16_t local_port;       /* 0: SIPp's choice, 5060 when free (give one: the proxy may
				    * listen on 5060 of the same address) */
	uint16_t ctrl_port;        /* SIPp's UDP control socket, bound on 0.0.0.0; 0: its default
				    * 8888 (it tries the next ones when taken) */
	uint16_t media_port;       /* SIPp binds UDP media_port and media_port + 2 on local_addr
				    * (RTP echo, unused here); 0: its default 6000 */
	double rate;               /* calls per second, > 0 */
	uint64_t calls;            /* stop after this many calls; 0: only duration */
	int64_t duration_ns;       /* stop after this long (-timeout, whole seconds rounded up);
				    * 0: only calls */
	int64_t recv_timeout_ns;   /* a call without its 200 this long fails; 0: 1 s */
};

/* argv running SIPp non-interactively: it reads no keys (-nostdin), draws
 * no screen when its stdout is not a terminal (give it a pipe or a file;
 * it then prints its final statistics there), writes the rtt file of every
 * response time (-trace_rtt -rtt_freq 1) in its working directory, and
 * exits by itself after calls calls or duration_ns: 0 when every call got
 * its 200, 1 when some failed, 97 when stopped by an internal command, 99 on a
 * normal exit without calls processed, 255 (-1) on a fatal error, 254 (-2)
 * when it cannot bind. Strings in buf
 * (len bytes), argv NULL-terminated (maxargv includes the NULL). Returns
 * argc, -ENOSPC or -EINVAL. */
int rtv_sip_sipp_argv(const struct rtv_sip_sipp_cfg *c, char *buf, size_t len, char **argv,
		      int maxargv);

#endif
