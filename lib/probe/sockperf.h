/* sockperf (Debian's 3.7, /usr/bin/sockperf): the field's reference UDP
 * latency tool, run beside rtvnet's reflector at the same fixed rate as one
 * of rtvnet's latency trials, to compare medians. Its command lines and the
 * parse of its client's summary. All functions are pure (no system call),
 * never print, and return 0 / a count, or -errno.
 *
 * What 3.7 does (read from its source, tag 3.7 of github.com/Mellanox/
 * sockperf, and checked by runs on loopback here; the unit test's fixtures
 * in tests/unit/data/sockperf/ are such runs, capture.sh their commands):
 *  - Messages carry a 14-byte header: -m below 14 is refused ("'-m' Invalid
 *    message size: 13 (min: 14)", then its usage) -- with exit status 0, as
 *    is a run where no reply came ("No messages were received from the
 *    server. Is the server down?"): its exit status says nothing; parse.
 *    UDP -m is at most 65507. IPv4 only (no IPv6 in 3.7).
 *  - under-load sends --mps messages per second for -t s, paced by a busy
 *    wait on the TSC (the sender spins a CPU), and receives the replies in a
 *    second thread; --reply-every 1 asks the server to answer every
 *    message (default: one in 100). It times each message from its send to
 *    its reply's receipt (RTT); --full-rtt reports that RTT, without it
 *    every figure is RTT / 2 ("avg-latency", "Latency is"): exactly half,
 *    the same samples divided by 2.
 *  - A client's run lasts about -t + 2.2 s of wall time (4.2 s for -t 2
 *    here): 0.1 s calibrating the TSC, its warm-up messages, then a fixed
 *    sleep(2) before the test; keep its server up that long. The sender
 *    busy-waits between messages: it used 1.6-1.8 s of CPU in a -t 2 run at
 *    1000 and at 20000 messages/s alike (one CPU of the client's side for
 *    the test's duration, whatever the rate).
 *  - Only messages sent in the valid window count: from 400 ms after the
 *    first one (the "Warm up time") to 50 ms before the last. A -t 2 run
 *    measures about 1.55 s (1550 of 2001 messages at --mps 1000); -t 1
 *    0.55 s. In that window a message with no reply is "dropped"; a reply
 *    received before the previous one's is "out-of-order" and left out;
 *    a second reply to one message is "duplicated". Dropped messages are
 *    not observations; a drop rate is dropped / (observations + dropped).
 *    The "[Valid Duration]" line's SentMessages is the window's sequence
 *    span up to the last reply, so sent - received need not equal dropped.
 *  - A rate it cannot reach: it sends as fast as it can (444251 messages in
 *    2 s at --mps 2000000 here), drops pile up, and it adds "Info: The
 *    requested message-per-second rate is too high" -- but only when the
 *    sender never waited once; a rate a little too high goes unsaid: check
 *    achieved_mps against the rate asked.
 *  - --no-rdtsc (CLOCK_MONOTONIC instead of the TSC) is broken in 3.7 here:
 *    it sends at about half the rate asked (955 messages in 2 s at --mps
 *    1000). So it is not used.
 *  - The summary, each line prefixed "sockperf: ", some wrapped in ANSI
 *    colour codes whatever the output is (a file or a terminal), figures
 *    in µs with 3 decimals:
 *      [Total Run] RunTime=2.000 sec; Warm up time=400 msec; SentMessages=2001; ReceivedMessages=2001
 *      ========= Printing statistics for Server No: 0
 *      [Valid Duration] RunTime=1.549 sec; SentMessages=1550; ReceivedMessages=1550
 *      ====> avg-rtt=97.502 (std-dev=188.853)
 *      # dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0
 *      Summary: Round trip is 97.502 usec
 *      Total 1550 observations; each percentile contains 15.50 observations
 *      ---> <MAX> observation = 4036.594
 *      ---> percentile 99.999 = ...   (99.999 99.990 99.900 99.000 90.000
 *      ---> percentile 50.000 =  115.176   75.000 50.000 25.000; a
 *      ---> <MIN> observation =   33.442   percentile whose rank is 0 is
 *                                          left out)
 *    Percentile p is the sorted sample of rank round(p/100 * n) (1-based,
 *    halves up): with n even, p50 is the lower middle sample. Lines such as
 *    "Test end (interrupted by signal 2)" may appear anywhere among them
 *    (another thread writes them).
 *  - The server blocks in recvfrom() (it says so: "using recvfrom() to
 *    block on socket(s)") and answers each message flagged for a reply
 *    with one send: the work of rtvnet's reflector. */
#ifndef RTV_PROBE_SOCKPERF_H
#define RTV_PROBE_SOCKPERF_H

#include <stddef.h>
#include <stdint.h>

#define RTV_SOCKPERF_MIN_MSG   14       /* its header */
#define RTV_SOCKPERF_MAX_MSG   65507    /* UDP */
#define RTV_SOCKPERF_MAX_MPS   10000000 /* its MPS_MAX_UL */
#define RTV_SOCKPERF_MAX_ARGS  24       /* argv entries either builder needs, NULL included */

/* argv (NULL-terminated, strings in buf) for the server: path server -i
 * ADDR -p PORT (UDP). path is the program ("/usr/bin/sockperf", or
 * "sockperf" for execvp). Every string, path included, is copied into buf
 * (len bytes), which must outlive argv; argv has room for max entries.
 * Returns the number of arguments (NULL not counted), -EINVAL (NULL or
 * empty path, addr not an IPv4 address, port 0) or -E2BIG (argv or buf too
 * small). */
int rtv_sockperf_server_argv(const char *path, const char *addr, uint16_t port, char *buf,
			     size_t len, char **argv, int max);

/* argv for the client: path under-load -i ADDR -p PORT --mps RATE -m
 * MSGSIZE -t SECONDS --full-rtt --reply-every 1: every message answered (the
 * same load shape as rtvnet's reflector gets), figures as RTT. Nothing else:
 * the TSC pacing is its default (see --no-rdtsc above), warm-up messages
 * are sent and left out of the figures by sockperf itself.
 * mps is rounded to the nearest whole rate (sockperf takes an integer) and
 * must be 1 .. RTV_SOCKPERF_MAX_MPS; msg_size RTV_SOCKPERF_MIN_MSG ..
 * RTV_SOCKPERF_MAX_MSG (a UDP payload: an 18-byte payload is a 64-byte
 * Ethernet frame); seconds 1 .. 36000000 (of which 0.45 s are not measured).
 * Strings in buf as rtv_sockperf_server_argv(); returns as that. */
struct rtv_sockperf_client_cfg {
	const char *path, *addr;
	uint16_t port;
	double mps;
	size_t msg_size;
	int seconds;
	/* --sender-affinity and --receiver-affinity, CPU lists; NULL: not given
	 * (both threads where the caller may run) */
	const char *sender_cpus, *receiver_cpus;
};
int rtv_sockperf_client_argv(const struct rtv_sockperf_client_cfg *c, char *buf, size_t len,
			     char **argv, int max);

/* What its summary says, in ns (RTT, as --full-rtt makes it report; RTT/2
 * when rtt is 0), NaN when absent. The µs figures are printed with 3
 * decimals: each is converted to whole ns. */
struct rtv_sockperf_result {
	double avg_ns, p50_ns, p99_ns, p999_ns, max_ns, min_ns;
	/* observations: the "Total N observations"; sent and received: the
	 * "[Valid Duration]" line's; dropped: the "# dropped messages" */
	uint64_t observations, sent_messages, received_messages, dropped_messages;
	/* added */
	double stddev_ns;          /* "std-dev", the same unit as the rest */
	double p25_ns, p75_ns, p90_ns, p9999_ns, p99999_ns;
	uint64_t duplicated_messages, ooo_messages;
	uint64_t total_sent, total_received; /* "[Total Run]": warm-up and cool-down included */
	double total_run_s, valid_run_s;     /* the two RunTime= */
	double achieved_mps;       /* total_sent / total_run_s: compare with the rate asked; NaN when unknown */
	int warmup_ms;             /* "Warm up time" (400 in 3.7), -1 when absent */
	int rtt;                   /* 1: "avg-rtt" (--full-rtt), 0: "avg-latency" (RTT / 2) */
	int rate_too_high;         /* its "rate is too high" notice was there */
};

/* Parse its stdout+stderr text (as captured, NUL-terminated). Returns 0,
 * or -EINVAL (NULL argument, or a text that holds no latency summary: the
 * avg line, the "Total N observations" line with N > 0 and the closing
 * "<MIN> observation" line are required, so a text cut before its end is
 * refused; refusals of sockperf's own, like a bad -m or no reply, hold
 * none). Only the first server's statistics are read. */
int rtv_sockperf_parse(const char *text, struct rtv_sockperf_result *r);

#endif
