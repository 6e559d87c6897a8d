/* The periodic runner (see runner.h). */
#include "taskset/runner.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/sched.h"
#include "util/stop.h"
#include "util/time.h"
#include "util/banned.h"

/* The first release is this long after the setup ended, so that every
 * thread is asleep waiting for it: all tasks release together (the critical
 * instant of the analysis). */
#define START_DELAY_NS (50 * RTV_NS_PER_MS)
#define POLL_NS        (50 * RTV_NS_PER_MS)

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready; /* threads that published their tid */
	int go;    /* 0 wait, 1 run, -1 abort */
	int64_t start_ns, end_ns, warm_end_ns;
	enum rtv_runner_work work;
	double ns_per_loop;
	bool vcpus; /* vCPU mode: threads are named after their vCPU */
	atomic_int quit;
};

/* One task's state inside a vCPU (vCPU mode). */
struct vtask {
	const struct rtv_task *t;
	struct rtv_runner_stats *st;
	int rank;      /* fixed priority, 0 highest; -1: EDF */
	int64_t rel;   /* release of the current job (the oldest unfinished one) */
	int64_t left;  /* its work left: loop iterations, or ns of CPU time */
	int64_t first; /* when it first ran; 0: not yet */
	int64_t work;  /* CPU time it consumed so far */
	int64_t full;  /* a whole job's work, in the unit of left */
};

/* One runner thread: a task of its own (a thread per task), or a vCPU's
 * tasks, contiguous in the vtask array. Both run worker_main(): a thread per
 * task is a vCPU with one task. */
struct worker {
	struct shared *sh;
	struct vtask *vt;
	int nvt;
	pthread_t thread;
};

void rtv_runner_cfg_init(struct rtv_runner_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->duration_ns = 10 * RTV_NS_PER_S;
	cfg->cpu = -1;
}

/* The CPU time the calling thread has consumed, in ns. */
static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return rtv_ts_to_ns(&ts);
}

/* The work loop: n iterations of a dependent multiply-add (about 1 ns each);
 * returns a value that depends on every iteration, so it cannot be elided. */
static uint64_t work_loop(uint64_t n)
{
	uint64_t x = n;

	for (uint64_t i = 0; i < n; i++) {
		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		__asm__ volatile("" : "+r"(x)); /* keep every iteration */
	}
	return x;
}

/* The fastest of trials timings of n iterations, in ns of the thread's CPU
 * clock (the clock's own cost included). */
static int64_t fastest(uint64_t n, int trials)
{
	int64_t best = INT64_MAX;

	for (int i = 0; i < trials; i++) {
		int64_t t0 = thread_cpu_ns();

		work_loop(n);
		int64_t t = thread_cpu_ns() - t0;

		if (t > 0 && t < best)
			best = t;
	}
	return best;
}

double rtv_runner_calibrate(uint64_t loops, int trials)
{
	int64_t one, two;

	if (!loops || trials < 1)
		return 1;
	/* n and 2n iterations: the difference is n iterations with the
	 * clock's cost (a system call in a VM, a few percent of a 100 µs
	 * trial) cancelled, which otherwise made every job that much
	 * shorter than its WCET */
	one = fastest(loops, trials);
	two = fastest(2 * loops, trials);
	if (one == INT64_MAX)
		return 1;
	if (two != INT64_MAX && two > one)
		return (double)(two - one) / (double)loops;
	return (double)one / (double)loops;
}

/* Wait for the go; 0 to run, -1 to abort. Publishes the thread's tid. */
static int worker_ready(struct shared *sh, struct rtv_runner_stats *st)
{
	int go;

	pthread_mutex_lock(&sh->lock);
	st->tid = gettid();
	sh->ready++;
	pthread_cond_broadcast(&sh->cond);
	while (!sh->go)
		pthread_cond_wait(&sh->cond, &sh->lock);
	go = sh->go;
	pthread_mutex_unlock(&sh->lock);
	return go < 0 ? -1 : 0;
}

/* A job released at rel that first ran at start and ended at fin. */
static void record_job(const struct shared *sh, const struct rtv_task *t,
		       struct rtv_runner_stats *st, int64_t rel, int64_t start, int64_t fin,
		       int64_t work)
{
	int64_t resp = fin - rel;

	if (rel < sh->warm_end_ns) {
		st->warmup_jobs++;
		return;
	}
	st->jobs++;
	st->work_ns += work;
	if (resp > t->deadline_ns)
		st->misses++;
	rtv_hist_record(&st->response, resp);
	rtv_hist_record(&st->latency, start - rel);
	rtv_hist_record(&st->norm,
			(int64_t)((double)resp * RTV_RUNNER_NORM_SCALE / (double)t->period_ns + 0.5));
}

static void set_name(const char *s)
{
	char name[16];

	memcpy(name, s, sizeof(name) - 1); /* the kernel keeps 15 bytes */
	name[sizeof(name) - 1] = '\0';
	pthread_setname_np(pthread_self(), name);
}

/* The vCPU's choice among its pending jobs (rel <= now): the highest fixed
 * priority, or under EDF the earliest absolute deadline; ties to the lower
 * index. Also the next release of any task after now (INT64_MAX: none
 * before the end), and whether any task still has jobs. */
static int pick_job(const struct vtask *vt, int n, int64_t now, int64_t end, int64_t *next,
		     bool *active)
{
	int best = -1;

	*next = INT64_MAX;
	*active = false;
	for (int j = 0; j < n; j++) {
		const struct vtask *v = &vt[j];
		int64_t r;

		if (v->rel >= end)
			continue; /* released its last job and finished it */
		*active = true;
		if (v->rel <= now) {
			if (best < 0)
				best = j;
			else if (v->rank >= 0 ? v->rank < vt[best].rank
					      : v->rel + v->t->deadline_ns <
							vt[best].rel + vt[best].t->deadline_ns)
				best = j;
			r = v->rel + ((now - v->rel) / v->t->period_ns + 1) * v->t->period_ns;
		} else {
			r = v->rel;
		}
		if (r < end && r < *next)
			*next = r;
	}
	return best;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct vtask *vt = w->vt;
	double ns_per_loop = 0;
	char name[16];

	if (sh->vcpus) {
		snprintf(name, sizeof(name), "vcpu-%.10s", vt[0].t->name);
		set_name(name);
	} else {
		set_name(vt[0].t->name);
	}
	/* ~100 µs a trial: long against the clock's cost, short against a tick */
	if (sh->work == RTV_RUNNER_WORK_LOOP)
		ns_per_loop = sh->ns_per_loop > 0 ? sh->ns_per_loop : rtv_runner_calibrate(100000, 20);
	for (int j = 0; j < w->nvt; j++) {
		vt[j].st->ns_per_loop = ns_per_loop;
		vt[j].full = ns_per_loop > 0 ? (int64_t)((double)vt[j].t->wcet_ns / ns_per_loop + 0.5)
					     : vt[j].t->wcet_ns;
		if (vt[j].full < 1)
			vt[j].full = 1;
		vt[j].left = vt[j].full;
	}
	if (worker_ready(sh, vt[0].st) < 0)
		return NULL;
	for (int j = 0; j < w->nvt; j++) {
		vt[j].rel = sh->start_ns;
		vt[j].st->tid = vt[0].st->tid;
	}

	/* the hot loop: no allocation, no lock, no system call but the clocks
	 * and the sleep */
	for (;;) {
		int64_t now = rtv_now_ns(), next, c0, used;
		bool active;
		int j;

		if (atomic_load_explicit(&sh->quit, memory_order_relaxed))
			break;
		j = pick_job(vt, w->nvt, now, sh->end_ns, &next, &active);
		if (!active)
			break;
		if (j < 0) { /* idle until the next release */
			rtv_sleep_until_ns(next);
			continue;
		}
		struct vtask *v = &vt[j];

		if (!v->first)
			v->first = now;
		c0 = thread_cpu_ns();
		if (ns_per_loop > 0) { /* a chunk of the loop that ends at the next release */
			int64_t n = v->left;

			if (next != INT64_MAX) {
				int64_t until = (int64_t)((double)(next - now) / ns_per_loop);

				if (until < n)
					n = until > 0 ? until : 1;
			}
			work_loop((uint64_t)n);
			v->left -= n;
			used = thread_cpu_ns() - c0;
		} else { /* spin on the CPU clock until done or the next release */
			do
				used = thread_cpu_ns() - c0;
			while (used < v->left && (next == INT64_MAX || rtv_now_ns() < next));
			v->left -= used;
		}
		v->work += used;
		if (v->left > 0)
			continue;
		record_job(sh, v->t, v->st, v->rel, v->first, rtv_now_ns(), v->work);
		v->rel += v->t->period_ns;
		v->left = v->full;
		v->first = 0;
		v->work = 0;
	}
	return NULL;
}

/* The (n mod count)-th CPU this process may use. */
static int nth_cpu(int n)
{
	cpu_set_t set;
	int count, k = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0 || !(count = CPU_COUNT(&set)))
		return -1;
	n %= count;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set) && k++ == n)
			return cpu;
	return -1;
}

int rtv_runner_setup_thread(const struct rtv_taskset *ts, const struct rtv_runner_cfg *cfg,
			    int i, pid_t tid)
{
	const struct rtv_task *t = cfg->vcpu ? NULL : &ts->task[i];
	int cpu = cfg->cpu >= 0 ? cfg->cpu : cfg->no_pin ? -1 : t ? t->cpu : nth_cpu(i);
	int err;

	if (cpu >= 0) {
		cpu_set_t one;

		if (cpu >= CPU_SETSIZE)
			return -EINVAL;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		err = rtv_sched_set_affinity(tid, &one);
		if (err < 0)
			return err;
	}
	if (t && t->prio >= 0 && !cfg->no_prio) {
		err = rtv_sched_set(tid, SCHED_FIFO, t->prio);
		if (err < 0)
			return err;
	}
	if (cfg->on_thread)
		return cfg->on_thread(cfg->on_thread_arg, i, tid);
	return 0;
}

int rtv_runner_run(const struct rtv_taskset *ts, const struct rtv_runner_cfg *cfg,
		   struct rtv_runner_stats *stats)
{
	struct shared sh = { .ready = 0, .go = 0, .work = cfg ? cfg->work : 0,
			   .ns_per_loop = cfg ? cfg->ns_per_loop : 0 };
	struct worker *w = NULL;
	struct vtask *vt = NULL;
	int created = 0, err = 0, i, nw;
	int64_t now;

	if (!ts || !cfg || !stats || ts->n <= 0 || !ts->task || cfg->duration_ns <= 0 ||
	    cfg->warmup_ns < 0)
		return -EINVAL;
	if (cfg->vcpu) {
		if (cfg->nvcpus <= 0 || cfg->nvcpus > ts->n)
			return -EINVAL;
		for (i = 0; i < ts->n; i++)
			if (cfg->vcpu[i] < 0 || cfg->vcpu[i] >= cfg->nvcpus ||
			    (cfg->vcpu_rank && cfg->vcpu_rank[i] < 0))
				return -EINVAL;
	}
	nw = cfg->vcpu ? cfg->nvcpus : ts->n;
	for (i = 0; i < ts->n; i++) {
		memset(&stats[i], 0, sizeof(stats[i]));
		rtv_hist_init(&stats[i].response);
		rtv_hist_init(&stats[i].norm);
		rtv_hist_init(&stats[i].latency);
	}
	w = calloc((size_t)nw, sizeof(*w));
	vt = calloc((size_t)ts->n, sizeof(*vt));
	if (!w || !vt) {
		free(w);
		free(vt);
		return -ENOMEM;
	}
	/* each worker's tasks, contiguous in vt, in input order */
	for (int v = 0, k = 0; v < nw; v++) {
		w[v] = (struct worker){ .sh = &sh, .vt = vt + k };
		for (i = 0; i < ts->n; i++) {
			if ((cfg->vcpu ? cfg->vcpu[i] : i) != v)
				continue;
			vt[k++] = (struct vtask){ .t = &ts->task[i], .st = &stats[i],
						  .rank = cfg->vcpu_rank ? cfg->vcpu_rank[i] : -1 };
			w[v].nvt++;
		}
		if (!w[v].nvt) { /* every vCPU must have a task */
			free(w);
			free(vt);
			return -EINVAL;
		}
	}
	sh.vcpus = cfg->vcpu != NULL;
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cond, NULL);
	atomic_init(&sh.quit, 0);

	for (i = 0; i < nw; i++) {
		err = -pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
		if (err)
			goto start;
		created++;
	}
	pthread_mutex_lock(&sh.lock);
	while (sh.ready < created)
		pthread_cond_wait(&sh.cond, &sh.lock);
	pthread_mutex_unlock(&sh.lock);
	for (i = 0; i < created && !err; i++)
		err = rtv_runner_setup_thread(ts, cfg, i, w[i].vt[0].st->tid);
start:
	now = rtv_now_ns();
	pthread_mutex_lock(&sh.lock);
	sh.start_ns = now + START_DELAY_NS;
	sh.end_ns = rtv_ns_add_sat(sh.start_ns, cfg->duration_ns);
	sh.warm_end_ns = rtv_ns_add_sat(sh.start_ns, cfg->warmup_ns);
	sh.go = err ? -1 : 1;
	pthread_cond_broadcast(&sh.cond);
	pthread_mutex_unlock(&sh.lock);

	if (!err) {
		/* wait for the end, watching for a stop request */
		while (rtv_now_ns() < sh.end_ns) {
			if (cfg->stop && rtv_stop_read(cfg->stop)) {
				atomic_store(&sh.quit, 1);
				err = -EINTR;
				break;
			}
			int64_t until = rtv_now_ns() + POLL_NS;

			rtv_sleep_until_ns(until < sh.end_ns ? until : sh.end_ns);
		}
	}
	for (i = 0; i < created; i++)
		pthread_join(w[i].thread, NULL);
	pthread_cond_destroy(&sh.cond);
	pthread_mutex_destroy(&sh.lock);
	free(w);
	free(vt);
	return err;
}
