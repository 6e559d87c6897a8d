/* The packet engine of RFC 2544 throughput and latency tests (`rtvnet
 * rfc2544`): a UDP generator that sends numbered datagrams on an absolute
 * schedule and takes their reflections back, a reflector (the application
 * behind the device under test), and section 26.1's search for the highest
 * rate with zero loss, as the KBP and EE-KBP papers measure it with
 * Pktgen-DPDK.
 *
 * Wire format: the first RTV_UDPGEN_HDR bytes of every datagram, the rest
 * zero, in the generator's byte order (only the generator reads them back),
 * written and read with memcpy (unaligned):
 *   0  u32 tag      the trial's: replies with another are stray
 *   4  u32 seq      0, 1, 2, ... in schedule order
 *   8  i64 sent_ns  CLOCK_MONOTONIC, read once before the sendmmsg() that
 *                   carried it (the whole batch shares it)
 *
 * Frame sizes are Ethernet's as RFC 2544 counts them (section 9: FCS
 * included, preamble and inter-frame gap not): a 64-byte frame carries 18
 * bytes of UDP payload over IPv4.
 *
 * Nothing here prints; everything runs in the calling thread.
 */
#ifndef RTV_PROBE_UDPGEN_H
#define RTV_PROBE_UDPGEN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats/hist.h"

#define RTV_UDPGEN_HDR       16u  /* wire header: u32 tag, u32 seq, i64 sent_ns (CLOCK_MONOTONIC), host order, memcpy (unaligned) */
#define RTV_UDPGEN_OVERHEAD4 46u  /* 14 Ethernet + 4 FCS + 20 IPv4 + 8 UDP */
#define RTV_UDPGEN_OVERHEAD6 66u  /* ... + 40 IPv6 */
#define RTV_UDPGEN_MAX_BATCH 64
#define RTV_UDPGEN_DEFAULT_BATCH 32
#define RTV_UDPGEN_MIN_FRAME 64u
#define RTV_UDPGEN_MAX_FRAME 9018u   /* a jumbo frame, FCS included */
#define RTV_UDPGEN_MAX_PAYLOAD 65507u /* the largest IPv4 UDP payload */
#define RTV_UDPGEN_LATE_NS   INT64_C(100000)   /* a send this far behind its schedule is late */
#define RTV_UDPGEN_POLL_NS   INT64_C(10000000) /* the residual phase's longest wait in ppoll */
#define RTV_UDPGEN_STOP_CHECK_NS INT64_C(100000000) /* the reflector sees *stop within 100 ms */

/* The UDP payload that makes an Ethernet frame (FCS included) of frame
 * bytes for family AF_INET or AF_INET6: frame - 46 or frame - 66. -EINVAL
 * when the frame cannot carry the header (64 over IPv6: 82 is IPv6's
 * smallest), is below 64 or above 9018 bytes, or for another family. */
ssize_t rtv_udpgen_payload(unsigned frame, int family);

/* A generator's memory, allocated and touched (prefaulted) once here so
 * that a trial allocates nothing and takes no page fault: the send
 * batch's mmsghdr/iovec and RTV_UDPGEN_MAX_BATCH packet buffers of
 * max_payload bytes, the receive batch's (the header of each reply is
 * read, MSG_TRUNC gives its length), and a bitmap of max_packets bits, one
 * per seq. Reusable for any number of trials, one at a time. */
struct rtv_udpgen;

/* max_packets: the most packets one trial may send (the bitmap's size),
 * 1..2^32 (seq is 32 bits); max_payload: the largest payload a trial may
 * use, RTV_UDPGEN_HDR..RTV_UDPGEN_MAX_PAYLOAD. Returns NULL with errno
 * ENOMEM, or EINVAL for an argument out of range. */
struct rtv_udpgen *rtv_udpgen_new(uint64_t max_packets, size_t max_payload);
/* NULL is fine. */
void rtv_udpgen_free(struct rtv_udpgen *g);

struct rtv_udpgen_cfg {
	int fd;               /* a connected UDP socket (the generator makes it non-blocking itself);
			       * the caller sizes its SO_RCVBUF (see rx_drops) */
	double rate_pps;      /* offered rate; 0: as fast as it can (the generator's limit) */
	size_t payload;       /* >= RTV_UDPGEN_HDR */
	int64_t duration_ns;  /* sending lasts this long */
	int64_t residual_ns;  /* then replies are still taken for this long (RFC 2544 section 23: 2 s) */
	int batch;            /* packets per sendmmsg at most, 1..RTV_UDPGEN_MAX_BATCH (0: 32) */
	uint32_t tag;         /* this trial's; replies with another tag are stray (an earlier trial's late ones) */
	struct rtv_hist *rtt; /* NULL, or every reply's round trip from its actual send is recorded (stats/hist.h) */
	/* NULL, or called once when the sending ends, before the residual
	 * phase (to close a measurement of the sending time alone) */
	void (*sent)(void *arg);
	void *sent_arg;
};

struct rtv_udpgen_result {
	/* sent         packets the kernel took;
	 * received     distinct seqs of this trial's tag that came back;
	 * lost         sent - received;
	 * dups         replies of a seq already received;
	 * reordered    first replies of a seq lower than the highest received
	 *              before it (RFC 4737's reordered packets);
	 * stray        datagrams that are no reply of this trial: another tag, a
	 *              length other than the payload's, a seq never sent;
	 * send_errors  packets due that the kernel would not take (see
	 *              rtv_udpgen_trial): not sent, not lost. */
	uint64_t sent, received, lost, dups, reordered, stray, send_errors;
	int64_t t_first_ns, t_last_ns; /* the first and last send */
	double offered_pps;   /* (sent - 1) / (t_last - t_first); 0 for fewer than 2 sent */
	int64_t lag_max_ns;   /* the most a send was behind its schedule (intended time = t0 + i / rate) */
	uint64_t late;        /* sends more than 100 us behind their schedule */
	/* Datagrams the generator's own socket dropped during the trial (its
	 * receive buffer was full: SO_MEMINFO's drops, read before t0 and at
	 * the end; 0 when the kernel does not say). Replies among them count
	 * as lost: a nonzero rx_drops means the generator, not the device,
	 * may have lost them; give fd a larger SO_RCVBUF. */
	uint64_t rx_drops;
};

/* One trial: packet i is due at t0 + i/rate (absolute schedule: a late send
 * never shifts later ones; t0 is the trial's first clock read, i/rate is
 * truncated to whole ns); packets are due while i/rate < duration_ns, so a
 * trial has ceil(rate * duration) of them. Each loop iteration sends every
 * due packet (up to batch per sendmmsg, one clock read per sendmmsg: the
 * batch's sent_ns and the lag of each of its packets), then drains replies
 * with recvmmsg(MSG_DONTWAIT) (up to 16 calls of RTV_UDPGEN_MAX_BATCH while
 * they come full) and stamps them with one clock read per recvmmsg; it
 * spins, never sleeps (it stands for an external tester with a CPU of its
 * own). At rate 0 each iteration sends one batch, until duration_ns or
 * max_packets. At rate > 0 every packet of the trial is sent, a late one
 * as soon as the generator can (so sent + send_errors is exactly the
 * trial's packets unless stopped; the offered rate shows the lateness);
 * sending ends with the last one (at rate 0: at duration_ns); then replies are taken for residual_ns, ppoll() waiting at most
 * RTV_UDPGEN_POLL_NS at a time; the residual phase ends early once every
 * packet sent came back (received == sent: no reply is outstanding).
 *
 * Sends are non-blocking per call (MSG_DONTWAIT; the fd's flags are left as
 * they are). A packet the kernel will not take (EAGAIN, ENOBUFS, ENOMEM:
 * its socket buffer or queue is full) is offered once, never retried: it is
 * counted in send_errors and NOT in sent, its seq is skipped, and the
 * packets after it in the same sendmmsg call are treated alike (the call
 * stopped there; offering them again later would bunch them against the
 * schedule). A nonzero send_errors thus says the sending host could not
 * offer the rate: the caller should not take such a trial as the device's
 * loss. Errors a connected socket reports from ICMP about earlier datagrams
 * (ECONNREFUSED, EHOSTUNREACH, ...) concern the path, not the call: the
 * call is made again (up to 4 times, then its packets are send_errors),
 * and on receive they are consumed and ignored.
 *
 * One getsockopt(SO_MEMINFO) before t0 and one at the end read rx_drops.
 *
 * Stops early when *stop is set (stop may be NULL), in either phase, and
 * then returns -EINTR with r holding what was measured. From t0 to the
 * end: no allocation, no system call beyond sendmmsg/recvmmsg/clock_gettime
 * (vDSO) and, in the residual phase, ppoll. Returns 0 or -errno: -EINVAL for a bad cfg (fd < 0,
 * rate negative or not finite, payload outside RTV_UDPGEN_HDR..the
 * generator's max_payload, duration_ns <= 0, residual_ns < 0, batch out of
 * range), -E2BIG when rate * duration exceeds max_packets, -EINTR, or a
 * socket error (-EDESTADDRREQ: fd is not connected); r is zeroed first and
 * complete on return whatever is returned. */
int rtv_udpgen_trial(struct rtv_udpgen *g, const struct rtv_udpgen_cfg *cfg,
		     const volatile sig_atomic_t *stop, struct rtv_udpgen_result *r);

/* The reflector: every datagram back to its sender, byte for byte, received
 * with recvmmsg (MSG_WAITFORONE, blocking, SO_RCVTIMEO 100 ms to see *stop)
 * and sent with sendmmsg (blocking) to each one's source address. A normal
 * application: it blocks, and its socket keeps the system's default buffer
 * sizes. On a socket bound to any address each reply leaves from the
 * address its datagram was sent to (IP_PKTINFO/IPV6_PKTINFO, as NetRT's
 * server: a connected generator takes no other). Counters are stored with
 * relaxed atomics (another thread or process reads them): received
 * datagrams, reflected ones, and those sendmmsg refused (send_errors:
 * dropped, the reflector goes on). */
struct rtv_udpgen_refl_stats { uint64_t received, reflected, send_errors; };
/* A UDP socket bound to bind_addr (numeric IPv4/IPv6; NULL: any, IPv6 and
 * IPv4) and port (0: ephemeral, see rtv_netrt_sock_port()), SO_REUSEADDR,
 * CLOEXEC: rtv_netrt_server_open()'s. Returns the fd (the caller's) or -errno
 * (-EINVAL for an unparsable address). */
int rtv_udpgen_reflect_open(const char *bind_addr, uint16_t port); /* numeric v4/v6 address; fd or -errno */
/* Reflect on fd until *stop (not NULL) is set. Buffers (4 MiB: a batch of
 * 64 KiB datagrams) are allocated once before the first receive. st may be
 * NULL. Does not close fd. Returns 0 when stopped, -ENOMEM, or -errno of a
 * receive error (path errors, EINTR and the timeout are not errors). */
int rtv_udpgen_reflect(int fd, const volatile sig_atomic_t *stop, struct rtv_udpgen_refl_stats *st);

/* RFC 2544 section 26.1's search: the highest rate with zero loss.
 * trial(rate, arg) returns 0 when the trial at rate lost nothing, 1 (any
 * positive value) when it lost, -errno to abort (returned). The first
 * trial is at hi; if it passes, *best = hi (one trial). Else lo is tried
 * (a rate is claimed only once it passed; lo 0 passes untried); if it
 * fails, *best = 0. Else bisect between the highest passed rate and the
 * lowest failed one, (passed + failed) / 2 each time, until failed - passed
 * <= resolution_pct% of the failed rate or max_trials trials were run;
 * *best is then the highest passed rate (so never one that failed).
 * Trials: at most 2 + ceil(log2((hi - lo) / (resolution_pct% * lo')))
 * where lo' is the final failed rate. *ntrials (may be NULL): trials run.
 * -EINVAL for lo < 0, hi <= 0, lo > hi, resolution_pct not in (0, 100),
 * max_trials < 1, or a NULL s, trial or best_pps. *best_pps is 0 and
 * *ntrials the trials run whenever an error is returned.
 * A trial over rtv_udpgen_trial passes when r.lost == 0; one with
 * send_errors or rx_drops, or an offered rate well below the one asked,
 * measured the tester rather than the device (the caller decides: abort,
 * or count it as failed and say so). */
struct rtv_udpgen_search { double lo_pps, hi_pps, resolution_pct; int max_trials; };
int rtv_udpgen_search(const struct rtv_udpgen_search *s, int (*trial)(double rate_pps, void *arg),
		      void *arg, double *best_pps, int *ntrials);

#endif
