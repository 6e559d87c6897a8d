/* Periodic tasksets: the model shared by the analysis (analysis/), the
 * runner (`rtvnet taskset run`) and the reservations (reserve/), and its two
 * input formats:
 *  - rtvnet's own JSON: {"tasks":[{"name","wcet_ms","period_ms",
 *    "deadline_ms"?,"cpu"?}]}
 *  - an rt-app 1.0 JSON taskset (periodic tasks: "run" or "runtime" in µs and
 *    "timer": {"period": µs}; "priority", "policy" and "cpus" read when
 *    present).
 * Times are int64_t nanoseconds. Never prints. */
#ifndef RTV_TASKSET_TASKSET_H
#define RTV_TASKSET_TASKSET_H

#include <stddef.h>
#include <stdint.h>

#define RTV_TASKSET_MAX 1024

struct rtv_task {
	char name[64];
	int64_t wcet_ns;     /* C: worst-case execution time */
	int64_t period_ns;   /* T */
	int64_t deadline_ns; /* D, relative; = T when the input has none */
	int cpu;             /* vCPU the task is pinned to, -1 free */
	int prio;            /* rt-app "priority" (SCHED_FIFO/RR), -1 none */
};

struct rtv_taskset {
	int n;
	struct rtv_task *task; /* n entries, in input order */
};

/* Parse JSON text (either format, told apart by its keys) into ts. On error
 * returns -EINVAL (or -ENOMEM) and writes to err a message naming the
 * position ("line L, column C: ...") and what is wrong: malformed or
 * truncated JSON, a missing or non-numeric field, a negative or zero
 * period, a WCET above its deadline, a deadline above its period, duplicate
 * names, more than RTV_TASKSET_MAX tasks, a total utilization above ncpus
 * (ncpus <= 0: not checked). `origin` names the input in messages. */
int rtv_taskset_parse(const char *text, size_t len, const char *origin, int ncpus,
		      struct rtv_taskset *ts, char *err, size_t errlen);
/* Read and parse a file ("-" is standard input). */
int rtv_taskset_load(const char *path, int ncpus, struct rtv_taskset *ts, char *err,
		     size_t errlen);
void rtv_taskset_release(struct rtv_taskset *ts); /* NULL-safe, idempotent */

/* Σ C/T. */
double rtv_taskset_utilization(const struct rtv_taskset *ts);

#endif
