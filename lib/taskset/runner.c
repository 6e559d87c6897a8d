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
	atomic_int quit;
};

struct worker {
	struct shared *sh;
	const struct rtv_task *task;
	struct rtv_runner_stats *st;
	pthread_t thread;
};

void rtv_runner_cfg_init(struct rtv_runner_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->duration_ns = 10 * RTV_NS_PER_S;
	cfg->cpu = -1;
}

int64_t rtv_runner_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return rtv_ts_to_ns(&ts);
}

int64_t rtv_runner_spin_cpu(int64_t work_ns)
{
	int64_t t0 = rtv_runner_thread_cpu_ns(), t;

	do
		t = rtv_runner_thread_cpu_ns();
	while (t - t0 < work_ns);
	return t - t0;
}

uint64_t rtv_runner_loop(uint64_t n)
{
	uint64_t x = n;

	for (uint64_t i = 0; i < n; i++) {
		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		__asm__ volatile("" : "+r"(x)); /* keep every iteration */
	}
	return x;
}

double rtv_runner_calibrate(uint64_t loops, int trials)
{
	double best = 0;

	for (int i = 0; i < trials; i++) {
		int64_t t0 = rtv_runner_thread_cpu_ns();

		rtv_runner_loop(loops);
		double per = (double)(rtv_runner_thread_cpu_ns() - t0) / (double)loops;

		if (per > 0 && (best == 0 || per < best))
			best = per;
	}
	return best > 0 ? best : 1;
}

static volatile uint64_t sink;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	const struct rtv_task *t = w->task;
	struct rtv_runner_stats *st = w->st;
	int64_t rel, wake, fin, resp, k = 0;
	char name[16];
	uint64_t loops = 0;
	int go;

	memcpy(name, t->name, sizeof(name) - 1); /* the kernel keeps 15 bytes */
	name[sizeof(name) - 1] = '\0';
	pthread_setname_np(pthread_self(), name);
	if (sh->work == RTV_RUNNER_WORK_LOOP) {
		/* ~100 µs a trial: long against the clock's cost, short against a tick */
		st->ns_per_loop = sh->ns_per_loop > 0 ? sh->ns_per_loop
						      : rtv_runner_calibrate(100000, 20);
		loops = (uint64_t)((double)t->wcet_ns / st->ns_per_loop + 0.5);
	}
	pthread_mutex_lock(&sh->lock);
	st->tid = gettid();
	sh->ready++;
	pthread_cond_broadcast(&sh->cond);
	while (!sh->go)
		pthread_cond_wait(&sh->cond, &sh->lock);
	go = sh->go;
	pthread_mutex_unlock(&sh->lock);
	if (go < 0)
		return NULL;

	/* the hot loop: no allocation, no lock, no system call but the clocks
	 * and the sleep */
	for (rel = sh->start_ns; rel < sh->end_ns; rel = sh->start_ns + (++k) * t->period_ns) {
		if (atomic_load_explicit(&sh->quit, memory_order_relaxed))
			break;
		rtv_sleep_until_ns(rel); /* at once when rel has passed (an overrun) */
		wake = rtv_now_ns();
		int64_t work;

		if (loops) {
			int64_t c0 = rtv_runner_thread_cpu_ns();

			sink = rtv_runner_loop(loops);
			work = rtv_runner_thread_cpu_ns() - c0;
		} else {
			work = rtv_runner_spin_cpu(t->wcet_ns);
		}
		fin = rtv_now_ns();
		if (rel < sh->warm_end_ns) {
			st->warmup_jobs++;
			continue;
		}
		resp = fin - rel;
		st->jobs++;
		st->work_ns += work;
		if (resp > t->deadline_ns)
			st->misses++;
		rtv_hist_record(&st->response, resp);
		rtv_hist_record(&st->latency, wake - rel);
		rtv_hist_record(&st->norm,
				(int64_t)((double)resp * RTV_RUNNER_NORM_SCALE / (double)t->period_ns + 0.5));
	}
	return NULL;
}

/* Pin and prioritize worker i's thread (journaled), then call the hook. */
static int setup_thread(const struct rtv_taskset *ts, const struct rtv_runner_cfg *cfg, int i,
			pid_t tid)
{
	const struct rtv_task *t = &ts->task[i];
	int cpu = cfg->cpu >= 0 ? cfg->cpu : cfg->no_pin ? -1 : t->cpu;
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
	if (t->prio >= 0 && !cfg->no_prio) {
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
	int created = 0, err = 0, i;
	int64_t now;

	if (!ts || !cfg || !stats || ts->n <= 0 || !ts->task || cfg->duration_ns <= 0 ||
	    cfg->warmup_ns < 0)
		return -EINVAL;
	for (i = 0; i < ts->n; i++) {
		memset(&stats[i], 0, sizeof(stats[i]));
		rtv_hist_init(&stats[i].response);
		rtv_hist_init(&stats[i].norm);
		rtv_hist_init(&stats[i].latency);
	}
	w = calloc((size_t)ts->n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cond, NULL);
	atomic_init(&sh.quit, 0);

	for (i = 0; i < ts->n; i++) {
		w[i] = (struct worker){ .sh = &sh, .task = &ts->task[i], .st = &stats[i] };
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
		err = setup_thread(ts, cfg, i, stats[i].tid);
start:
	now = rtv_now_ns();
	pthread_mutex_lock(&sh.lock);
	sh.start_ns = now + START_DELAY_NS;
	sh.end_ns = sh.start_ns + cfg->duration_ns;
	sh.warm_end_ns = sh.start_ns + cfg->warmup_ns;
	sh.go = err ? -1 : 1;
	pthread_cond_broadcast(&sh.cond);
	pthread_mutex_unlock(&sh.lock);

	if (!err) {
		/* wait for the end, watching for a stop request */
		while (rtv_now_ns() < sh.end_ns) {
			if (cfg->stop && *cfg->stop) {
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
	return err;
}
