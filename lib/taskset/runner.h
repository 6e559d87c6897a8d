/* The periodic runner behind `rtvnet taskset run`: one thread per task of a
 * taskset, each releasing its jobs on an absolute CLOCK_MONOTONIC timeline
 * (release k = start + k * T, clock_nanosleep TIMER_ABSTIME) and recording,
 * per job:
 *  - the release latency (wake-up delay): when the thread ran minus the
 *    release time;
 *  - the response time: when the job's work ended minus its release time;
 *  - the normalized response time: response / period;
 *  - a deadline miss when response > D.
 * A job whose release time already passed (the previous one overran) starts
 * at once and is still measured from its own release: nothing is skipped
 * (open loop, like rt-app's "absolute" timers).
 *
 * Work is "calibrated in time", in one of two ways (cfg.work):
 *  - RTV_RUNNER_WORK_LOOP (the default): a fixed number of iterations of an
 *    arithmetic loop, calibrated when the thread starts so that it takes C
 *    ns: the fastest of 20 trials, timed on the thread's CPU clock so that
 *    preemption during calibration does not inflate it. A job is then a
 *    fixed amount of work, like a real job and like rt-app's "run": when a
 *    hog on the SMT sibling, cache pollution or the hypervisor slows the CPU,
 *    the job takes longer, and the response times show it. Preemption does
 *    not count as work (the loop does not advance).
 *  - RTV_RUNNER_WORK_CPU_TIME: spin on CLOCK_THREAD_CPUTIME_ID until the
 *    thread consumed C ns of CPU: execution time exactly C whatever the
 *    CPU's speed (the analysis model's C), but interference that slows the
 *    CPU is hidden. A system call per iteration (some hundred ns, the
 *    granularity of a job's end).
 * rt-app's own start-up calibration was off by 1.8x on the development VMs;
 * taking the fastest of several trials on the CPU clock is what keeps ours
 * within about 1% (see bench/bench_taskset.sh).
 *
 * The hot loop allocates nothing and takes no lock: each thread writes only
 * its own struct rtv_runner_stats (plain data; may live in MAP_SHARED memory
 * so that a parent reads what a child ran). Never prints. */
#ifndef RTV_TASKSET_RUNNER_H
#define RTV_TASKSET_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats/hist.h"
#include "taskset/taskset.h"

/* The normalized response time is recorded as millionths of the period
 * (1000000 = one period) so that it fits the ns histogram with the same
 * 1/256 relative error; divide by RTV_RUNNER_NORM_SCALE to report it. */
#define RTV_RUNNER_NORM_SCALE 1000000.0

struct rtv_runner_stats {
	uint64_t jobs;            /* measured jobs (released after the warm-up) */
	uint64_t misses;          /* of those, response > deadline */
	uint64_t warmup_jobs;     /* released during the warm-up, not measured */
	int64_t work_ns;          /* CPU time the measured jobs consumed */
	double ns_per_loop;       /* calibration (RTV_RUNNER_WORK_LOOP), else 0 */
	pid_t tid;                /* the thread that ran the task (its vCPU's, in vCPU mode) */
	struct rtv_hist response; /* ns */
	struct rtv_hist norm;     /* response / period, in millionths */
	struct rtv_hist latency;  /* release latency, ns */
};

enum rtv_runner_work { RTV_RUNNER_WORK_LOOP, RTV_RUNNER_WORK_CPU_TIME };

struct rtv_runner_cfg {
	enum rtv_runner_work work;
	/* RTV_RUNNER_WORK_LOOP: ns per iteration from rtv_runner_calibrate(),
	 * or 0 to calibrate in each thread as it starts. Calibrate before
	 * starting a competing load, or the load slows the calibration and the
	 * jobs come out short. */
	double ns_per_loop;
	int64_t duration_ns; /* releases happen in [start, start + duration) */
	int64_t warmup_ns;   /* jobs released in [start, start + warmup) are not measured */
	int cpu;             /* >= 0: every task on this CPU, overriding the taskset; -1 */
	bool no_pin;         /* ignore the taskset's CPUs (when cpu < 0) */
	bool no_prio;        /* ignore the taskset's priorities: every task SCHED_OTHER */
	/* Called once per task, from the calling thread, after the task's thread
	 * started and got its CPU and priority and before its first release
	 * (e.g. to move it into a reservation). Returns 0 or -errno; an error
	 * stops the run before any job, and rtv_runner_run returns it. */
	int (*on_thread)(void *arg, int task_index, pid_t tid);
	void *on_thread_arg;
	/* vCPU mode (Abeni's reserved vCPUs), when vcpu is not NULL: the tasks
	 * get no thread each; task i runs on vCPU vcpu[i] (0..nvcpus-1), and
	 * each vCPU is one thread that runs its tasks' jobs, scheduled inside it
	 * as a guest kernel schedules a vCPU: the pending job with the highest
	 * fixed priority (vcpu_rank[i], 0 the highest: RM/DM order), or with
	 * vcpu_rank NULL the earliest absolute deadline (EDF); ties go to the
	 * lower task index. A release preempts: the running job's work is cut
	 * in chunks that end at the next release of any of the vCPU's tasks.
	 * The release latency is then the job's first start minus its release
	 * (waiting behind higher-priority jobs included). The taskset's cpu and
	 * prio are not used. vCPU k is pinned to the (k mod n)-th of the n CPUs
	 * this process may use (a VM's pinned vCPUs: unpinned, two busy vCPUs
	 * may share a CPU for a while), unless no_pin; cfg->cpu pins them all to
	 * one. on_thread gets the vCPU's index, once per vCPU. */
	const int *vcpu;
	int nvcpus;
	const int *vcpu_rank;
	/* Polled every 50 ms; non-zero ends the run early (a signal). May be NULL. */
	const volatile sig_atomic_t *stop;
};

/* Defaults: loop work, 10 s, no warm-up, the taskset's CPUs and priorities, no hook. */
void rtv_runner_cfg_init(struct rtv_runner_cfg *cfg);

/* Run ts for cfg->duration_ns; stats[i] (ts->n entries, caller-owned,
 * overwritten) receive task i's results. Pinning (a task's cpu, or cfg->cpu)
 * and SCHED_FIFO priorities (a task's prio >= 0) go through host/sched.h,
 * so they are journaled and need the host journal open (rtv_journal_open);
 * a taskset with neither needs nothing. The threads have ended when this
 * returns; the caller undoes the journal entries (rtv_journal_undo_to).
 * Returns 0, -EINTR when stopped early (stats hold what ran), or -errno:
 * -EBADF (pinning or priority without the journal), -EPERM (priority
 * without the privilege), the hook's error, or pthread's. */
int rtv_runner_run(const struct rtv_taskset *ts, const struct rtv_runner_cfg *cfg,
		   struct rtv_runner_stats *stats);

/* What rtv_runner_run does to the thread of task i (of vCPU i in vCPU mode)
 * before its first release: pin it (cfg->cpu, else the task's cpu unless
 * no_pin), give it the task's SCHED_FIFO priority (unless no_prio; never in
 * vCPU mode), both journaled, then call cfg->on_thread. Exposed for a runner
 * whose set-up is done by another thread or process (the one that holds the
 * journal, which has no lock): that runner's own cfg leaves all this to an
 * on_thread hook that asks for it (probe/taskset.h). */
int rtv_runner_setup_thread(const struct rtv_taskset *ts, const struct rtv_runner_cfg *cfg,
			    int i, pid_t tid);

/* ns of CPU time one iteration of the work loop (a dependent multiply-add,
 * about 1 ns) takes: the fastest of `trials` timings of 2 x `loops`
 * iterations less the fastest of `trials` timings of `loops`, on the
 * thread's CPU clock, so that the clock's own cost cancels. */
double rtv_runner_calibrate(uint64_t loops, int trials);

#endif
