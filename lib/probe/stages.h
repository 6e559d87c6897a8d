/* Where an RT datagram's latency is spent, stage by stage, and what held the
 * RT CPU while it waited: a BPF tracer (stages.bpf.c) and the aggregator of
 * its events.
 *
 * The tracer (rtv_stages_open) loads BTF raw tracepoints (tp_btf), which
 * attach by BTF id: no tracefs is needed (the machines here have none
 * mounted). Kernel 5.5 or later with BTF (/sys/kernel/btf/vmlinux) and
 * CAP_BPF/CAP_PERFMON (root). It changes nothing on the host but the
 * programs it loads, which go when it is freed or the process exits.
 *
 * For every UDP datagram to or from the traced port ("req": to it, "rep":
 * from it) the kernel reports its points, in the order they happen:
 *   send       the send system call entered (sendto/sendmsg/sendmmsg; the
 *              thread's first xmit of a traced datagram in that call takes it)
 *   xmit:DEV   net_dev_start_xmit on each device it crosses (on a veth the
 *              enqueue on its peer, which is synchronous)
 *   rx:DEV     netif_receive_skb: the stack takes it from a NAPI or backlog
 *              poll (with the polling context: NET_RX softirq or a thread)
 *   wake       a thread that receives from the port woken on that CPU after
 *              that rx (the socket's data_ready; sched_waking)
 *   run        that thread gets the CPU (sched_switch)
 *   ret        the receive call that took it returns (recvmsg/recvmmsg/
 *              recvfrom), joined by the payload's first 16 bytes read from
 *              the caller's buffer
 * wake and run are absent when the receiver was not asleep (and for a
 * thread's first datagram: receivers are learnt from their copies). There is
 * no point at the socket enqueue: the kernel has no tracepoint there, and
 * fentry programs are refused on the machines here. A stage is the time
 * between two consecutive points and is named after them, with the
 * direction: "req rx:rtvs0>wake"; "req total" and "rep total" span a
 * direction's first to last point. When the payload comes back unchanged
 * (an echo, NetRT) a request is paired with its reply by the payload's first
 * 16 bytes (NetRT's tag and seq: probe/netrt.h), giving the stages "srv"
 * (the request's ret to the reply's send) and "rtt" (the request's first
 * point to the reply's last).
 *
 * Blockers: on the RT CPUs the tracer reports every task that ran (between
 * two switches) and every softirq at least min_occ_ns long. For the K
 * slowest round trips, the aggregator lists the occupants that overlapped
 * the windows where the datagram waited for a CPU: each xmit -> rx (waiting
 * to be polled, on the polling CPU), wake -> run (the woken thread waiting
 * to run, on the CPU it ran on) and rx -> ret with no wake-up between (the
 * receiver was not asleep: busy or preempted, on the CPU of its call), with
 * the overlap.
 *
 * Events the ring buffer had no room for are counted (drops), never hidden;
 * the aggregator counts what it could not join. Neither part prints. */
#ifndef RTV_PROBE_STAGES_H
#define RTV_PROBE_STAGES_H

#include <jansson.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probe/stages_bpf.h"
#include "stats/hist.h"

#define RTV_STAGES_MAX_STAGES 48  /* distinct stage names an aggregator keeps */
#define RTV_STAGES_NAME_LEN   56
#define RTV_STAGES_MAX_POINTS 16  /* points of one datagram's path */
#define RTV_STAGES_TOPK_MAX   32
#define RTV_STAGES_BLOCKERS   3   /* occupants kept per slow round trip */
#define RTV_STAGES_DEFAULT_TOPK 5
#define RTV_STAGES_DEFAULT_MIN_OCC_NS INT64_C(20000)

/* ---- the aggregator: pure, fed with events ---- */

struct rtv_stages_agg;

struct rtv_stages_counts {
	uint64_t events;       /* events added */
	uint64_t complete;     /* datagrams followed to their receive call's return */
	uint64_t paired;       /* round trips (a request and its reply) */
	uint64_t incomplete;   /* datagrams whose path was not followed to its receive call
				* (lost, received outside the traced namespace or host,
				* evicted, still on its way at a flush): their stages up to
				* the last point seen are recorded, their total is not */
	uint64_t nonmonotone;  /* complete ones whose points were not in time order (not
				* recorded in the stages) */
	uint64_t unjoined;     /* events that joined no datagram */
	uint64_t unnamed;      /* stages beyond RTV_STAGES_MAX_STAGES names, not recorded */
	uint64_t drops;        /* events the kernel's ring buffer had no room for (the
				* tracer's; 0 for an aggregator fed by hand) */
};

/* One occupant of a slow round trip's wait. */
struct rtv_stages_blocker {
	uint64_t seq;                      /* the request's payload seq (NetRT) */
	int64_t rtt_ns;                    /* that round trip */
	char stage[RTV_STAGES_NAME_LEN];   /* the window: "req xmit:rtvb0>rx:rtvs0" */
	int cpu;
	char comm[16];
	int32_t pid;                       /* 0: the idle task (kind "idle") */
	char kind[24];                     /* "task", "idle", "softirq:NET_RX", ... */
	int64_t ns;                        /* its overlap with the window */
};

/* Who polled a device's traced datagrams (the rx points): the context,
 * one of "NET_RX softirq" (in the softirq of whatever task was running or
 * enabled bottom halves), "ksoftirqd", "NAPI kthread" (threaded NAPI),
 * "poller" (rtvnet's busy poller), "thread" (polled outside softirq by
 * another thread: socket busy polling); its CPUs and count. */
#define RTV_STAGES_POLL_ROWS 32
struct rtv_stages_poll {
	char dev[16];
	const char *context;
	uint64_t cpus;   /* bit i: CPU i (CPUs below 64) */
	uint64_t count;
};

/* A new empty aggregator for events of CPUs 0..ncpus-1 keeping the topk
 * slowest round trips (1..RTV_STAGES_TOPK_MAX). All its memory is allocated
 * here (about 2.5 MiB + 100 KiB per CPU): adding never allocates. 0 or
 * -EINVAL, -ENOMEM. */
int rtv_stages_agg_new(struct rtv_stages_agg **a, int ncpus, int topk);
void rtv_stages_agg_free(struct rtv_stages_agg *a);
/* Forget everything measured; datagrams whose first point is before
 * since_ns are then neither recorded nor counted (the measured window's
 * start, CLOCK_MONOTONIC). */
void rtv_stages_agg_reset(struct rtv_stages_agg *a, int64_t since_ns);
/* Add one event, in the order the ring buffer gave them. */
void rtv_stages_agg_add(struct rtv_stages_agg *a, const struct rtv_stg_event *ev);
/* Datagrams not followed to their end within RTV_STAGES_OPEN_NS are given
 * up (incomplete). */
#define RTV_STAGES_OPEN_NS INT64_C(2000000000)
/* With out non-NULL, every complete datagram's points are written to out as
 * one line: "DIR SEQ KIND[:DEV]@TS ..." (DIR req or rep, TS in ns), in path
 * order, nonmonotone ones too. */
void rtv_stages_agg_set_points_file(struct rtv_stages_agg *a, FILE *out);
/* Give up every datagram still open (incomplete): at the end of a trace. */
void rtv_stages_agg_flush(struct rtv_stages_agg *a);
/* Add src's stages, round trips and counts into dst. */
void rtv_stages_agg_merge(struct rtv_stages_agg *dst, const struct rtv_stages_agg *src);

/* The stages seen, in the order first seen: their number; name and
 * histogram (ns) of stage i (NULL out of range). */
int rtv_stages_agg_nstages(const struct rtv_stages_agg *a);
const char *rtv_stages_agg_name(const struct rtv_stages_agg *a, int i);
const struct rtv_hist *rtv_stages_agg_hist(const struct rtv_stages_agg *a, int i);
/* The stage named name, or NULL. */
const struct rtv_hist *rtv_stages_agg_find(const struct rtv_stages_agg *a, const char *name);
/* The slowest round trips' occupants, slowest first, at most max of them
 * copied; returns how many there are. */
int rtv_stages_agg_blockers(const struct rtv_stages_agg *a, struct rtv_stages_blocker *out,
			    int max);
void rtv_stages_agg_counts(const struct rtv_stages_agg *a, struct rtv_stages_counts *c);
/* The counts as a JSON object (complete, paired, incomplete, nonmonotone,
 * unjoined, kernel_drops). */
json_t *rtv_stages_agg_counts_json(const struct rtv_stages_agg *a);
/* The polling contexts seen, by device then context, at most max copied;
 * returns how many there are (rows beyond RTV_STAGES_POLL_ROWS are counted
 * in counts.unjoined). */
int rtv_stages_agg_polls(const struct rtv_stages_agg *a, struct rtv_stages_poll *out, int max);
/* The polling contexts as JSON rows {method (when non-NULL), dev, context,
 * cpus (a CPU list), count} appended to polls. */
void rtv_stages_agg_polls_json(const struct rtv_stages_agg *a, const char *method, json_t *polls);

/* The stages as JSON rows {method (when non-NULL), stage, count, p50_us,
 * p99_us, max_us} appended to stages, the blockers as {method, seq, rtt_us,
 * stage, cpu, comm, pid, kind, us} to blockers (either may be NULL). */
void rtv_stages_agg_json(const struct rtv_stages_agg *a, const char *method, json_t *stages,
			 json_t *blockers);
/* The same as text tables. */
void rtv_stages_agg_write(FILE *out, const struct rtv_stages_agg *a, const char *method);

/* ---- the tracer ---- */

struct rtv_stages_cfg {
	uint16_t port;         /* the traced UDP port, 1..65535 */
	uint32_t netns_ino;    /* only sockets of this network namespace (its inode) send,
				* enqueue and copy; 0: any. Devices are traced in every one. */
	cpu_set_t rt_cpus;     /* the CPUs whose occupants are recorded (CPUs < 64);
				* empty: all */
	int64_t min_occ_ns;    /* shortest occupant recorded; 0: 20 µs */
	int topk;              /* 0: RTV_STAGES_DEFAULT_TOPK */
};

struct rtv_stages;

/* Load and attach the programs; *s is the caller's, to free with
 * rtv_stages_free(). 0 or -errno: -EINVAL (port 0, topk out of range),
 * -EPERM without privileges, -ENOENT when the kernel lacks BTF or a traced
 * function (why then says which). why may be NULL. */
int rtv_stages_open(struct rtv_stages **s, const struct rtv_stages_cfg *cfg, char *why,
		    size_t len);
/* Move what the kernel reported into the aggregator, after sleeping
 * timeout_ms (0: at once). The kernel does not wake the reader (that would
 * put it on the measured CPUs once per event): call this every 50 ms or so;
 * its ring buffer holds about 20,000 events, and what it could not hold is
 * counted as drops. Events consumed, or -errno. */
int rtv_stages_poll(struct rtv_stages *s, int timeout_ms);
/* Start measuring afresh: consume what is pending, then reset the
 * aggregator (rtv_stages_agg_reset(since_ns)) and the drop count. */
void rtv_stages_mark(struct rtv_stages *s, int64_t since_ns);
/* The tracer's aggregator (its counts' drops kept current by poll). */
struct rtv_stages_agg *rtv_stages_agg_of(struct rtv_stages *s);
/* Detach and unload. Accepts NULL. */
void rtv_stages_free(struct rtv_stages *s);

/* ---- the evidence probe (probe/probe.h: rtv_probe_stages) ----
 * The tracer on the NetRT port during each run's measured window. Each
 * run's stages and blockers go into its JSON ("stages": {rows, blockers,
 * counts}), and are merged per arm into the configuration, which the caller
 * reads after the experiment (rtv_stages_probe_json, _write) and frees with
 * rtv_stages_probe_cfg_release. A run whose tracer cannot load goes on
 * without stages; err and why say why. */
#define RTV_STAGES_ARMS_MAX 17
struct rtv_stages_probe_cfg {
	uint16_t port;
	cpu_set_t rt_cpus;
	/* filled as the experiment goes */
	struct rtv_stages *tr;  /* the current run's tracer */
	json_t *run_obj;        /* the current run's "stages" object, until recorded */
	char arm[RTV_STAGES_ARMS_MAX][48];
	struct rtv_stages_agg *merged[RTV_STAGES_ARMS_MAX];
	int narms;
	int err;                /* a run's failure to trace, -errno */
	char why[192];
};
/* stages, blockers and polls rows of every arm, as rtv_stages_agg_json and
 * rtv_stages_agg_polls_json. */
void rtv_stages_probe_json(const struct rtv_stages_probe_cfg *cfg, json_t *stages,
			   json_t *blockers, json_t *polls);
/* The stage tables of every arm (rtv_stages_agg_write). */
void rtv_stages_probe_write(FILE *out, const struct rtv_stages_probe_cfg *cfg);
void rtv_stages_probe_cfg_release(struct rtv_stages_probe_cfg *cfg);

#endif
