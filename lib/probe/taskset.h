/* The taskset probe (probe.h: rtv_probe_taskset): rtv_runner_run
 * (taskset/runner.h) as an experiment's service, in a thread of the calling
 * process or in a child process in testbed host `container`. Either way the
 * runner's threads are set up (pinned and given priorities as `runner`
 * says, then reserve[i] for runner thread i) by the engine's thread, which
 * holds the journal: the runner asks for each over a socket pair and waits
 * for the answer before the first release. The run's duration and warm-up
 * are the experiment's; with loop work and ns_per_loop 0 the loop is
 * calibrated before the first run. */
#ifndef RTV_PROBE_TASKSET_H
#define RTV_PROBE_TASKSET_H

#include <stdbool.h>
#include <sys/types.h>

#include "taskset/runner.h"

struct rtv_reserve;
struct rtv_taskset_probe_cfg {
	const struct rtv_taskset *ts;
	struct rtv_runner_cfg runner;
	const char *container;               /* a testbed host's name, NULL: here */
	const struct rtv_reserve *reserve;   /* per runner thread (task, or vCPU), or NULL */
	int nreserve;
	bool lock_memory;                    /* mlockall where the runner runs */
};

/* The set-up requests between a runner and the thread that holds the
 * journal, over a SOCK_SEQPACKET socket pair. The runner asks for thread
 * index's set-up and waits for its result (0 or -errno; -EPIPE when the
 * other end is gone). The other side serves the requests that come within
 * timeout_ms with setup(arg, index, tid) and answers each with its return;
 * returns how many it served, or -EPIPE when the runner has closed its end. */
typedef int (*rtv_taskset_setup_fn)(void *arg, int index, pid_t tid);
int rtv_taskset_rpc_ask(int sock, int index, pid_t tid);
int rtv_taskset_rpc_serve(int sock, int timeout_ms, rtv_taskset_setup_fn setup, void *arg);

#endif
