/* Poller threads: a thread of rtvnet drives kernel NAPIs, with the
 * application untouched.
 *
 * - BUSY is KBP's polling thread (KBP, sect. 4.1): the NAPIs are polled
 *   continuously from our thread, so the device's receive processing never
 *   waits for NET_RX softirq or for ksoftirqd.
 * - HYBRID is EE-KBP's (Algorithm 1): poll while the NAPIs have work, sleep
 *   when they have had none for idle_ns, be woken when a packet arrives;
 *   lower the CPU frequency while asleep, raise it on waking.
 *
 * How, on an unpatched kernel (6.13 or later):
 * - io_uring static NAPI tracking: a small ring, IORING_REGISTER_NAPI with
 *   static tracking and prefer_busy_poll, each NAPI id added; then each
 *   io_uring_enter(GETEVENTS, min_complete 1) that finds no completion
 *   busy-polls those NAPIs in our thread (io_cqring_wait ->
 *   io_napi_busy_loop -> napi_busy_loop_rcu) for min(busy_poll_to, time
 *   left to the wait's timeout), or until a completion or a timeout
 *   expiry, a signal, or need_resched(). One call is one slice, ended by a
 *   timeout (see enum rtv_poller_slice_end); busy_poll_to is set beyond
 *   the slice so that the slice's end is what ends the loop. When the
 *   scheduler wants the CPU (another task on this CPU, RCU forcing a
 *   quiescent state) the loop ends early and the call sleeps until the
 *   slice's end: a short slice bounds that gap, a long one saves system
 *   calls (RTV_POLLER_SLICE_NS).
 * - "work" and "wake-up" (HYBRID): an AF_PACKET socket per device, opened
 *   in the device's network namespace, bound to it (ETH_P_ALL,
 *   PACKET_IGNORE_OUTGOING), with a TPACKET_V2 receive ring and a socket
 *   filter keeping a few bytes of each frame. While polling, the ring is
 *   read with no system call (tp_status); a frame means the NAPIs had work.
 *   While asleep the kernel's own path (softirq or the NAPI kthread, the
 *   "interrupt" here) processes the packet, the tap puts a frame in the ring
 *   and wakes our poll(). The frame's timestamp (CLOCK_REALTIME, taken when
 *   the kernel's receive path handed it to the tap) gives the wake-up
 *   latency.
 *
 * The library never prints; functions return 0 (or a count) or -errno.
 */
#ifndef RTV_METHODS_POLLER_H
#define RTV_METHODS_POLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/cpufreq.h"
#include "stats/hist.h"

#define RTV_POLLER_NAPI_MAX 8
/* Default length of one io_uring_enter busy-poll call. Between two calls
 * the NAPI is handed back to the kernel for a few µs (a packet arriving
 * then takes the ordinary path), and the stop flag is checked. */
#define RTV_POLLER_SLICE_NS     INT64_C(1000000)   /* 1 ms */
#define RTV_POLLER_SLICE_MIN_NS INT64_C(10000)     /* 10 µs */
#define RTV_POLLER_SLICE_MAX_NS INT64_C(100000000) /* 100 ms: stop is seen within this */
/* HYBRID: longest sleep in poll() before the stop flag is checked again (stop
 * also wakes it at once through an eventfd). */
#define RTV_POLLER_SLEEP_MAX_MS 100
/* HYBRID: bytes of each frame kept in the packet ring (by the socket filter) */
#define RTV_POLLER_SNAPLEN 16

enum rtv_poller_mode { RTV_POLLER_BUSY, RTV_POLLER_HYBRID };

/* What ends one busy-poll call (both poll the whole slice):
 * - SQE (default): each call submits a relative timeout SQE of one slice
 *   and waits for one CQE. The timer's expiry ends the kernel's busy loop
 *   (io_should_wake() sees cq_timeouts change) and the call returns at
 *   once, without sleeping. Measured here (1 ms slices, a packet every
 *   0.5-1 ms): 0.5% of the packets found the NAPI unowned between calls.
 * - WAIT: no SQE; io_uring_enter(GETEVENTS | EXT_ARG) with the slice as its
 *   timeout, returning -ETIME. After the busy loop io_cqring_wait() still
 *   arms an hrtimer and sleeps for it, so the CPU idles (in a VM: HLT, an
 *   exit) until the timer interrupt: 47-125 µs per call measured here,
 *   during which the NAPI is the kernel's again (5-12% of the packets went
 *   to softirq). Kept for comparison. */
enum rtv_poller_slice_end { RTV_POLLER_SLICE_SQE, RTV_POLLER_SLICE_WAIT };

struct rtv_poller_cfg {
	enum rtv_poller_mode mode;
	/* CPU the thread pins itself to (also the CPU whose frequency HYBRID
	 * steps); -1: not pinned, no frequency steps. */
	int cpu;
	/* Scheduling of the thread (SCHED_OTHER/FIFO/RR, priority), set by
	 * the thread itself before it polls; a zeroed config means
	 * SCHED_OTHER. */
	int policy;
	int prio;
	/* The NAPIs this poller owns (the caller groups them, typically one
	 * poller per RT CPU). For entry i, dev[i] is the NAPI's device and
	 * netns[i] its network namespace ("" for the caller's); HYBRID watches
	 * each distinct (netns, dev) once, BUSY ignores them. */
	uint32_t napi_id[RTV_POLLER_NAPI_MAX];
	char netns[RTV_POLLER_NAPI_MAX][32];
	char dev[RTV_POLLER_NAPI_MAX][16];
	int nnapi;
	/* HYBRID: sleep after this long without a frame (0: as soon as one
	 * slice passed without one). */
	int64_t idle_ns;
	/* Length of one busy-poll call, clamped to [SLICE_MIN, SLICE_MAX];
	 * 0: RTV_POLLER_SLICE_NS. HYBRID also caps it at idle_ns / 4 (but not
	 * below SLICE_MIN), so that idleness is seen within about idle_ns. */
	int64_t slice_ns;
	enum rtv_poller_slice_end slice_end;
	/* HYBRID frequency steps: the cpufreq sysfs root (RTV_CPUFREQ_ROOT or a
	 * fake tree); NULL: no frequency steps. The write callback (NULL:
	 * rtv_cpufreq_write_plain) is called from the poller thread; the
	 * caller saves the files once beforehand if they are to be restored by
	 * the journal (see host/cpufreq.h). */
	const char *cpufreq_root;
	rtv_cpufreq_write_fn cf_write;
	void *cf_arg;
};

/* A snapshot of a poller's counters. Counters are read while the thread
 * runs (each is atomic; together they may be a few events apart); after the
 * thread has ended they are final. The wake histogram is a consistent copy
 * (see rtv_hist_load()), or empty with wake_torn set. */
struct rtv_poller_stats {
	pid_t tid;              /* the thread's id (for affinity, tracing) */
	enum rtv_poller_mode mode;
	int cpu;
	int nnapi;
	bool running;           /* false once the thread has ended */
	int error;              /* why it ended on its own (-errno), or 0 */
	/* HYBRID frequency steps: 0 on, -ENOENT no cpufreq for the CPU (or no
	 * root given, or no CPU), or the probe's -errno. BUSY: -ENOENT. */
	int cpufreq;
	uint64_t polls;         /* io_uring_enter calls */
	uint64_t frames;        /* frames seen in the packet rings (HYBRID) */
	uint64_t sleeps;        /* times the thread went to sleep (HYBRID) */
	uint64_t wakeups;       /* times a packet woke it (HYBRID) */
	uint64_t freq_writes;   /* cpufreq writes made (low and high) */
	uint64_t freq_errors;   /* cpufreq writes that failed */
	int64_t asleep_ns;      /* total time asleep, the current sleep included */
	int64_t cpu_ns;         /* CPU time of the thread */
	int64_t wall_ns;        /* time since the thread started (to its end) */
	struct rtv_hist wake;   /* wake-up latency: frame timestamp to running */
	/* no consistent copy of wake could be taken (the thread stayed inside
	 * a record through all of rtv_hist_load()'s attempts): wake is empty */
	bool wake_torn;
};

struct rtv_poller;

/* Whether io_uring static NAPI tracking works on this kernel: sets up a
 * ring, registers static tracking and adds an id that no NAPI has, then
 * closes the ring; nothing outlives the call. Returns 0, or:
 *  -ENOSYS     no io_uring in this kernel (CONFIG_IO_URING off);
 *  -EPERM      io_uring refused (kernel.io_uring_disabled, seccomp);
 *  -EOPNOTSUPP io_uring works but has no static NAPI tracking (kernel
 *              before 6.13, or CONFIG_NET_RX_BUSY_POLL off);
 *  another -errno from io_uring_setup (-ENOMEM: locked-memory limit). */
int rtv_poller_probe(void);

/* Start a poller: the ring and the packet sockets are made in the calling
 * thread, then the thread starts, names itself "rtv-poll/CPU", pins itself
 * to cfg->cpu (sched_setaffinity on its own tid: a thread of this process
 * that ends with the poller, so nothing of the host is changed or
 * journaled; a caller that wants the journal's record may still call
 * rtv_sched_set_affinity(stats.tid) after this returns), takes cfg's
 * policy and priority, and is polling when this returns 0. *p is set on
 * success only. Errors: -EINVAL for a bad cfg (no NAPI, more than
 * RTV_POLLER_NAPI_MAX, HYBRID without a device name, negative idle_ns);
 * the probe's codes above; -ENODEV for a device not found in its namespace;
 * the -errno of a failed step (the cpufreq probe included, except -ENOENT,
 * which means running without frequency steps). */
int rtv_poller_start(struct rtv_poller **p, const struct rtv_poller_cfg *cfg);

/* Fill out with the poller's counters (zeros and running = false for
 * NULL). No lock is taken; safe while the thread runs. */
void rtv_poller_stats(const struct rtv_poller *p, struct rtv_poller_stats *out);

/* Stop the thread (it sees the stop within one slice, or at once when
 * asleep), join it, restore the CPU frequency to high if it was lowered,
 * close the ring and the sockets, free. NULL-safe. */
void rtv_poller_stop(struct rtv_poller *p);

/* ---- HYBRID's decisions, a pure state machine (no clock, no I/O but the
 * cpufreq writes through the callback) so that tests can drive it. ---- */

enum rtv_hybrid_action {
	RTV_HYBRID_POLL,  /* keep polling */
	RTV_HYBRID_SLEEP, /* go to sleep now, or stay asleep */
	RTV_HYBRID_WOKE,  /* just woken by a frame: resume polling */
};

struct rtv_hybrid {
	int64_t idle_ns;
	bool has_cf;              /* frequency steps on */
	struct rtv_cpufreq cf;
	rtv_cpufreq_write_fn write;
	void *write_arg;
	bool asleep;
	bool low;                 /* the frequency was lowered (write succeeded) */
	int64_t last_work_ns;     /* last time frames were seen (or start) */
	int64_t asleep_since_ns;
	int64_t asleep_ns;        /* total of finished sleeps */
	uint64_t sleeps, wakeups;
	uint64_t freq_writes, freq_errors;
	int last_write_err;
};

/* Start in the polling state at now_ns. cf NULL: no frequency steps; w NULL:
 * rtv_cpufreq_write_plain. Writes nothing. */
void rtv_hybrid_init(struct rtv_hybrid *h, int64_t idle_ns, const struct rtv_cpufreq *cf,
		     rtv_cpufreq_write_fn w, void *arg, int64_t now_ns);

/* One decision, given the time and the frames that arrived since the last
 * step. Polling: frames reset the idle clock (POLL); no frames for at least
 * idle_ns: lower the frequency (one write, when steps are on) and SLEEP.
 * Asleep: no frames: SLEEP again with no write; frames: raise the frequency
 * (one write, only if it was lowered), count a wake-up, WOKE (the machine is
 * polling again). A failed write is counted and leaves the frequency as it
 * was believed to be (so a failed "low" is not followed by a "high"). */
enum rtv_hybrid_action rtv_hybrid_step(struct rtv_hybrid *h, int64_t now_ns, unsigned new_frames);

/* End of the thread: close the current sleep (time asleep counted to now_ns)
 * and raise the frequency if it was lowered (one write). Idempotent. */
void rtv_hybrid_release(struct rtv_hybrid *h, int64_t now_ns);

#endif
