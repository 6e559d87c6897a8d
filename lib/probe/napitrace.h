/* Which task did a device's NAPI polls, and whether in softirq: the evidence
 * that a busy-poll or threaded-NAPI method processes the RT packets in its
 * poller's thread and not in the softirq of whichever task happened to send
 * or be interrupted.
 *
 * How: a tracefs instance of our own (TRACEFS/instances/NAME, recorded in
 * the journal as a directory before it is made, so a crash leaves none
 * behind) with the napi:napi_poll tracepoint enabled and, optionally, a
 * filter on the device name. The kernel keeps the events in the instance's
 * own ring buffer, so no reader thread is needed: each rtv_napitrace_read()
 * consumes what has accumulated (trace_pipe) and adds it to the tally. Each
 * event line carries the polling task's name and thread id, the context
 * flags ('s' in the hardirq/softirq column: serving a softirq; a threaded
 * NAPI kthread and a busy-polling thread poll with BH disabled, 'b', not in
 * softirq) and "work", the packets that poll processed.
 *
 * Why not an in-kernel histogram (a hist trigger keyed on
 * common_pid.execname and dev_name, which would need no reading at all): the
 * development machines' 6.18 kernel is built without CONFIG_HIST_TRIGGERS
 * (the event's trigger file offers only traceon, traceoff, stacktrace,
 * enable_event, disable_event). The ring buffer works on every kernel with
 * tracing. It is finite (buffer_size_kb per CPU, 1410 KiB by default, about
 * 30,000 napi_poll events): read at least every second or so at high packet
 * rates; what the kernel could not keep is counted, never hidden (`missed`).
 *
 * napi:napi_poll on 6.18 (events/napi/napi_poll/format): napi (pointer),
 * dev_name (__data_loc char[]), work (int), budget (int); printed as
 * "napi poll on napi struct %p for device %s work %d budget %d".
 *
 * Never prints. */
#ifndef RTV_PROBE_NAPITRACE_H
#define RTV_PROBE_NAPITRACE_H

#include <stdint.h>

#define RTV_TRACEFS_ROOT "/sys/kernel/tracing"
/* Rows a tracer keeps; the events of further (device, thread) pairs are
 * counted as missed. */
#define RTV_NAPITRACE_ROWS_MAX 256

/* One (device, thread) pair: the polls that thread made on that device's
 * NAPIs. */
struct rtv_napitrace_row {
	char dev[16];     /* the device the NAPI belongs to (IFNAMSIZ) */
	char comm[16];    /* the thread's name: "napi/veth1-9", "ksoftirqd/0",
			   * "<idle>" (softirq on an idle CPU); "<...>" when
			   * the kernel had not recorded it and it could not
			   * be found in /proc */
	int32_t pid;      /* its thread id; 0 the idle tasks of every CPU */
	uint64_t polls;   /* napi_poll events */
	uint64_t work;    /* packets those polls processed (sum of work) */
	uint64_t softirq; /* of polls, those made while serving a softirq */
};

struct rtv_napitrace;

/* Make TRACEFS_ROOT/instances/INSTANCE (journaled: the journal must be open,
 * host/journal.h), set the output options the parser relies on, filter on
 * dev_name (dev_glob, a shell glob such as "rtv*"; NULL: every device) and
 * on work > 0 (polls that found no packet are not counted: a busy poller
 * makes millions of them), and enable napi:napi_poll in it. *t is the caller's, to free with
 * rtv_napitrace_free(). The instance name must be one nobody else uses
 * (e.g. with the pid in it). 0 or -errno:
 *   -ENOENT      tracefs is not mounted at tracefs_root, or the kernel has
 *                no napi:napi_poll event
 *   -EEXIST      the instance exists (someone else's: left alone)
 *   -EINVAL      a bad argument: an instance name that is empty, ".", ".."
 *                or has '/'; a glob with '"', '\\' or a newline; or a
 *                glob the kernel's filter refuses
 *   -EBADF       the journal is not open
 *   -EPERM/-EACCES without root */
int rtv_napitrace_start(struct rtv_napitrace **t, const char *tracefs_root, const char *instance,
			const char *dev_glob);

/* Consume the events the kernel has kept since the last call and return the
 * tally since start: rows in the order their pairs were first seen, the
 * first max of them copied to rows (rows may be NULL when max is 0). Returns
 * the number of rows there are, which may be more than max, or -errno.
 * *missed (may be NULL): events not in the rows, i.e. those the kernel
 * overwrote or dropped because the instance's buffer was full (its per_cpu
 * stats, "overrun" and "dropped events") and those of pairs beyond
 * RTV_NAPITRACE_ROWS_MAX. Rows are keyed by device and thread id: a thread id
 * reused by another task during the trace shares the first one's row and
 * name. */
int rtv_napitrace_read(struct rtv_napitrace *t, struct rtv_napitrace_row *rows, int max,
		       uint64_t *missed);

/* Disable the event and remove the instance. The journal entry is dropped
 * when it is still the newest one; otherwise it stays, and undoing it later
 * finds nothing to remove (done): free need not be called in any order
 * relative to other journaled changes. Accepts NULL. */
void rtv_napitrace_free(struct rtv_napitrace *t);

/* The parser, pure: add the napi_poll events of text (lines of an
 * instance's trace or trace_pipe file, with context-info and irq-info on;
 * record-tgid on or off; header, comment and other events' lines are
 * skipped) to rows[0..nrows), which the caller keeps between calls (nrows 0
 * to begin, rows then zeroed here as they are taken). A (device, thread) pair
 * not in rows takes rows[nrows] while nrows < max. Returns the new nrows, or
 * -EINVAL for a NULL text or rows with max > 0. *missed (may be NULL) grows by
 * the events not added: the kernel's "[LOST n EVENTS]" lines and the events
 * of pairs that found no free row. Lines must be whole; a line cut at the
 * end of text counts as a line. */
int rtv_napitrace_parse(const char *text, struct rtv_napitrace_row *rows, int nrows, int max,
			uint64_t *missed);


#endif
