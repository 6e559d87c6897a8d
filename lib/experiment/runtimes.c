/* rtvnet runtimes: environments compared (runtimes.h). */
#include "experiment/runtimes.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/journal.h"
#include "host/proc.h"
#include "host/sched.h"
#include "report/svg.h"
#include "stats/summary.h"
#include "util/file.h"
#include "util/log.h"
#include "util/time.h"

static const char *const load_name[RTV_RT_LOADS] = { "idle", "loaded", "reserved" };

const char *rtv_rt_load_name(int load)
{
	return load >= 0 && load < RTV_RT_LOADS ? load_name[load] : "?";
}

void rtv_rt_plan_init(struct rtv_rt_plan *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; rtv_envs[i] && p->nenvs < RTV_RT_MAX_ENVS; i++)
		p->env[p->nenvs++] = rtv_envs[i];
	p->repeats = 3;
	p->load[0] = p->load[1] = true;
	p->load_vm_mb = 64;
	rtv_cyclic_cfg_init(&p->cyc);
	p->startup_runs = 50;
	p->hyperfine = true;
	p->cpu_dma_latency_us = 0;
}

/* An absolute path of prog on PATH, or -ENOENT. */
int rtv_rt_init(struct rtv_rt *x, const struct rtv_rt_plan *p, char *err, size_t len)
{
	int nloads = p->load[0] + p->load[1] + p->load[2], k = 0;

	memset(x, 0, sizeof(*x));
	x->plan = *p;
	if (p->nenvs < 1 || p->nenvs > RTV_RT_MAX_ENVS) {
		snprintf(err, len, "no environment to run");
		return -EINVAL;
	}
	if (p->load[2] && (p->res.runtime_ns <= 0 || p->res.runtime_ns > p->res.period_ns)) {
		snprintf(err, len, "the reserved condition needs a reservation");
		return -EINVAL;
	}
	if (p->repeats < 1 || p->repeats > RTV_RT_MAX_REPEATS) {
		snprintf(err, len, "repeats must be 1 to %d", RTV_RT_MAX_REPEATS);
		return -EINVAL;
	}
	if (p->startup_runs < 0 || p->startup_runs > 10000) {
		snprintf(err, len, "startup runs must be 0 to 10000");
		return -EINVAL;
	}
	if (!nloads && !p->startup_runs) {
		snprintf(err, len, "nothing to measure: no load condition and no startup runs");
		return -EINVAL;
	}
	for (int i = 0; i < p->nenvs; i++)
		x->avail[i] = p->env[i]->detect(&x->envs, x->why[i], sizeof(x->why[i]));
	x->nlat = p->repeats * nloads * p->nenvs;
	x->lat = calloc((size_t)(x->nlat ? x->nlat : 1), sizeof(*x->lat));
	if (!x->lat)
		return -ENOMEM;
	for (int r = 1; r <= p->repeats; r++)
		for (int l = 0; l < RTV_RT_LOADS; l++)
			for (int i = 0; p->load[l] && i < p->nenvs; i++, k++) {
				x->lat[k].env = i;
				x->lat[k].load = l;
				x->lat[k].repeat = r;
				x->lat[k].cgroup_bytes = -1;
				x->lat[k].status = -ECANCELED;
			}
	return 0;
}

void rtv_rt_release(struct rtv_rt *x)
{
	for (int i = 0; x->lat && i < x->nlat; i++)
		json_decref(x->lat[i].json);
	free(x->lat);
	for (int i = 0; i < RTV_RT_MAX_ENVS; i++) {
		for (int k = 0; k <= RTV_ENV_PHASES; k++)
			free(x->start[i].phase_ms[k]);
		free(x->start[i].cmd_ms);
		free(x->start[i].hf_ms);
	}
	memset(x, 0, sizeof(*x));
}

static void progress_say(rtv_rt_progress_fn fn, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void progress_say(rtv_rt_progress_fn fn, void *arg, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(arg, buf);
}

/* -- the load: stress-ng's CPU and memory hogs on every CPU -- */

static pid_t load_start(struct rtv_rt *x)
{
	char vm[32], n[24];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t pid;

	snprintf(n, sizeof(n), "%ld", ncpu > 0 ? ncpu : 1);
	snprintf(vm, sizeof(vm), "%dM", x->plan.load_vm_mb);
	snprintf(x->load_cmd, sizeof(x->load_cmd), "stress-ng --cpu %s --vm %s --vm-bytes %s -q", n,
		 n, vm);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int nul = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		dup2(nul, 0);
		dup2(nul, 1);
		execlp("stress-ng", "stress-ng", "--cpu", n, "--vm", n, "--vm-bytes", vm, "-q",
		       (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	if (rtv_journal_is_open())
		rtv_proc_journal_add(pid);
	usleep(1000 * 1000); /* its hogs running */
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return -ENOEXEC;
	return pid;
}

static void load_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, WNOHANG);
	/* its hogs too: gone before the next run measures (and the host is
	 * as found when the run returns) */
	for (int i = 0; i < 500 && !kill(-pid, 0); i++)
		usleep(10000);
}

/* -- one cyclictest run -- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static void memory_read(struct rtv_rt *x, const struct rtv_env *env, struct rtv_env_run *r,
			struct rtv_rt_lat *l)
{
	pid_t keep[RTV_ENV_MAX_KEEP];
	uint64_t bytes;
	char path[300];

	memset(&l->mem, 0, sizeof(l->mem));
	rtv_mem_add_pid("/proc", r->pid, &l->mem);
	l->nkeepers = env->keepers ? env->keepers(&x->envs, r, keep, RTV_ENV_MAX_KEEP) : 0;
	for (int i = 0; i < l->nkeepers; i++)
		rtv_mem_add_pid("/proc", keep[i], &l->mem);
	/* the instance's own memory cgroup only: netns's on v1 has none (rtvnet
	 * makes cpuset and cpuacct cgroups), and an ancestor's charge (rtvnet's
	 * session) is not the instance's */
	l->cgroup_bytes = -1;
	if (env != &rtv_env_native &&
	    !rtv_mem_cgroup_of("/proc", RTV_CGROUP_ROOT, r->pid, &bytes, path, sizeof(path)) &&
	    (strstr(path, "/" RTV_ENV_CGROUP "/") || (r->cgroup[0] && strstr(path, r->cgroup))))
		l->cgroup_bytes = (int64_t)bytes;
}

/* After the program ended: wait (5 s at most) for the runtime's processes
 * that outlive it to end too. podman's conmon still drains the program's
 * output into the log when the program is gone; read before, the log can
 * stop in the middle of a line. */
static void keepers_done(struct rtv_rt *x, const struct rtv_env *env, struct rtv_env_run *r)
{
	pid_t keep[RTV_ENV_MAX_KEEP];
	int n = env->keepers ? env->keepers(&x->envs, r, keep, RTV_ENV_MAX_KEEP) : 0;

	for (int i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_pidfd_open, keep[i], 0);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (fd < 0)
			continue;
		poll(&p, 1, 5000);
		close(fd);
	}
}

/* Whether cyclictest's measuring threads are running their loop: want
 * threads in all, each but the main one at SCHED_FIFO, which a thread takes
 * after pinning itself to its CPU (so that widening its affinity now
 * sticks). The threads go to tids, their number to *nt. */
static bool measuring(pid_t pid, int want, pid_t *tids, int *nt)
{
	struct rtv_sched_attr a;

	*nt = rtv_proc_threads(pid, tids, RTV_CYCLIC_MAX_THREADS + 2);
	if (*nt < want)
		return false;
	for (int i = 0; i < *nt && i < RTV_CYCLIC_MAX_THREADS + 2; i++)
		if (tids[i] != pid &&
		    (rtv_sched_getattr(tids[i], &a) < 0 || a.sched_policy != SCHED_FIFO))
			return false;
	return true;
}

static void lat_run(struct rtv_rt *x, struct rtv_rt_lat *l, const char *cyclictest,
		    const volatile sig_atomic_t *stop)
{
	const struct rtv_env *env = x->plan.env[l->env];
	struct rtv_cyclic_cfg cyc = x->plan.cyc;
	struct rtv_cyclic_result text;
	struct rtv_env_run r = { .pidfd = -1 };
	char jpath[300], hostjson[300], abuf[1024], *out = NULL, *js = NULL, *errs = NULL;
	char *argv[RTV_CYCLIC_MAX_ARGS];
	int64_t sample_at;
	size_t jlen = 0;
	int ret;

	l->status = 0;
	snprintf(jpath, sizeof(jpath), "%s/cyclictest-%d-%s-%d.json",
		 env->program ? "/out" : x->envs.out, l->repeat, load_name[l->load], l->env);
	snprintf(hostjson, sizeof(hostjson), "%s/cyclictest-%d-%s-%d.json", x->envs.out,
		 l->repeat, load_name[l->load], l->env);
	cyc.json_path = jpath;
	ret = rtv_cyclic_argv(&cyc, cyclictest, argv, RTV_CYCLIC_MAX_ARGS, abuf, sizeof(abuf));
	if (ret < 0) {
		l->status = ret;
		snprintf(l->err, sizeof(l->err), "cannot build cyclictest's arguments");
		return;
	}
	ret = env->start(&x->envs, &r, (const char *const *)argv, l->err, sizeof(l->err));
	if (ret < 0) {
		l->status = ret;
		return;
	}
	if (l->load == 2) {
		/* once its measuring threads exist: a SCHED_DEADLINE task cannot
		 * make threads (clone fails with EAGAIN) */
		pid_t tids[RTV_CYCLIC_MAX_THREADS + 2];
		int want = (cyc.threads > 1 ? cyc.threads : 1) + 1;

		cpu_set_t all;
		int nt = 0;

		for (int i = 0; i < 200 && !measuring(r.pid, want, tids, &nt); i++)
			usleep(10000);
		/* cyclictest pins thread i to CPU i; a SCHED_DEADLINE thread must
		 * be allowed on its whole root domain: every CPU rtvnet may use */
		sched_getaffinity(0, sizeof(all), &all);
		for (int i = 0; i < nt && i < RTV_CYCLIC_MAX_THREADS + 2; i++)
			rtv_sched_set_affinity(tids[i], &all);
		ret = rtv_reserve_process(r.pid, &x->plan.res, l->note, sizeof(l->note));
		if (ret < 0) {
			l->status = ret;
			snprintf(l->err, sizeof(l->err), "reservation refused: %s", l->note);
			rtv_env_kill(&x->envs, env, &r);
			return;
		}
		snprintf(l->note, sizeof(l->note), "SCHED_DEADLINE %lld/%lld us",
			 (long long)(x->plan.res.runtime_ns / 1000),
			 (long long)(x->plan.res.period_ns / 1000));
	}
	/* memory once it runs: half-way, at most 2 s in */
	sample_at = rtv_now_ns() + (cyc.duration_ns / 2 < 2 * RTV_NS_PER_S ? cyc.duration_ns / 2
									 : 2 * RTV_NS_PER_S);
	if (rtv_env_wait(&r, sample_at - rtv_now_ns()) == -ETIMEDOUT)
		memory_read(x, env, &r, l);
	for (int64_t end = rtv_now_ns() + cyc.duration_ns + 30 * RTV_NS_PER_S;;) {
		ret = rtv_env_wait(&r, 200 * RTV_NS_PER_MS);
		if (ret != -ETIMEDOUT)
			break;
		if ((stop && *stop) || rtv_now_ns() > end) {
			l->status = stop && *stop ? -EINTR : -ETIMEDOUT;
			snprintf(l->err, sizeof(l->err), "%s", stop && *stop ? "stopped" :
				 "cyclictest did not end in time");
			rtv_env_kill(&x->envs, env, &r);
			return;
		}
	}
	keepers_done(x, env, &r);
	out = rtv_env_output(&r, false);
	errs = rtv_env_output(&r, true);
	ret = env->remove(&x->envs, &r);
	if (ret < 0)
		snprintf(l->note + strlen(l->note), sizeof(l->note) - strlen(l->note),
			 "%sremoval: %s", l->note[0] ? "; " : "", strerror(-ret));
	js = slurp(hostjson, &jlen);
	if (!js) {
		l->status = -ENOENT;
		snprintf(l->err, sizeof(l->err), "no JSON from cyclictest; it said: %.180s",
			 errs && errs[0] ? errs : out ? out : "");
	} else if ((ret = rtv_cyclic_parse_json(js, jlen, &l->res, &l->json, l->err,
						sizeof(l->err))) < 0) {
		l->status = ret;
	} else if (!out || (ret = rtv_cyclic_parse_text(out, &text, l->err, sizeof(l->err))) < 0) {
		l->status = out ? ret : -ENOENT;
	} else {
		l->cross_ok = !rtv_cyclic_crosscheck(&l->res, &text, l->cross_msg,
						     sizeof(l->cross_msg));
		if (l->cross_ok)
			snprintf(l->cross_msg, sizeof(l->cross_msg), "min, avg, max, cycles and "
				 "overflows of every thread as cyclictest printed them");
	}
	if (errs && errs[0]) { /* cyclictest's warnings, kept with the run */
		errs[strcspn(errs, "\n")] = '\0';
		snprintf(l->note + strlen(l->note), sizeof(l->note) - strlen(l->note), "%s%s",
			 l->note[0] ? "; " : "", errs);
	}
	free(js);
	free(out);
	free(errs);
}

/* -- startup -- */

static int alloc_start(struct rtv_rt_start *s, int n)
{
	for (int k = 0; k <= RTV_ENV_PHASES; k++)
		if (!(s->phase_ms[k] = calloc((size_t)n, sizeof(double))))
			return -ENOMEM;
	s->cmd_ms = calloc((size_t)n + 1, sizeof(double));
	s->hf_ms = calloc((size_t)n + 1, sizeof(double));
	return s->cmd_ms && s->hf_ms ? 0 : -ENOMEM;
}

/* hyperfine -N --runs K --export-json F CMD: its times appended to s. */
static int hyperfine(struct rtv_rt *x, const struct rtv_env *env, struct rtv_rt_start *s, int k)
{
	char runs[16], json[300], err[256];
	json_error_t jerr;
	json_t *doc, *times;
	size_t i;
	int st;

	if (k < 2)
		k = 2; /* hyperfine's least */
	snprintf(runs, sizeof(runs), "%d", k);
	snprintf(json, sizeof(json), "%s/hyperfine-%s.json", x->envs.dir, env->name);
	st = rtv_env_exec_out(&x->envs, env->hide_v2 && x->envs.hide_v2,
			      (const char *const[]){ "hyperfine", "-N", "--style", "none", "--runs",
						     runs, "--export-json", json, s->command,
						     NULL },
			      NULL, 0, err, sizeof(err));
	if (st) {
		snprintf(s->hf_err, sizeof(s->hf_err), "%s", st == 127 ? "hyperfine is not "
			 "installed (Debian package hyperfine)" : err);
		return -EIO;
	}
	doc = json_load_file(json, 0, &jerr);
	times = json_object_get(json_array_get(json_object_get(doc, "results"), 0), "times");
	for (i = 0; i < json_array_size(times) && s->nhf < x->plan.startup_runs + 1; i++)
		s->hf_ms[s->nhf++] = json_real_value(json_array_get(times, i)) * 1e3;
	json_decref(doc);
	unlink(json);
	if (!i) {
		snprintf(s->hf_err, sizeof(s->hf_err), "hyperfine wrote no times");
		return -EPROTO;
	}
	return 0;
}

static void cmd_time(struct rtv_rt *x, const struct rtv_env *env, struct rtv_rt_start *s,
		     const char *const *argv, int k)
{
	for (int i = 0; i < k && s->ncmd < x->plan.startup_runs + 1; i++) {
		int64_t t0 = rtv_now_ns();
		int st = rtv_env_exec(&x->envs, env->hide_v2 && x->envs.hide_v2, argv, -1, -1);

		if (st) {
			snprintf(s->hf_err, sizeof(s->hf_err), "the command failed (status %d)", st);
			return;
		}
		s->cmd_ms[s->ncmd++] = (double)(rtv_now_ns() - t0) / 1e6;
	}
}

static void crosscheck(struct rtv_rt *x, int e, const volatile sig_atomic_t *stop)
{
	const struct rtv_env *env = x->plan.env[e];
	struct rtv_rt_start *s = &x->start[e];
	const char *argv[64];
	char buf[1200];
	int n = x->plan.startup_runs, h1 = n / 2, h2 = n - n / 2;
	size_t off = 0;

	if (!env->command) {
		snprintf(s->hf_err, sizeof(s->hf_err), "no single command does it (rtvnet's own)");
		return;
	}
	if (env->command(&x->envs, (const char *const[]){ "/bin/true", NULL }, argv, 64, buf,
			 sizeof(buf)) < 0) {
		snprintf(s->hf_err, sizeof(s->hf_err), "cannot build the command");
		return;
	}
	for (int i = 0; argv[i]; i++)
		off += (size_t)snprintf(s->command + off, off < sizeof(s->command) ?
					sizeof(s->command) - off : 0, "%s%s", i ? " " : "", argv[i]);
	if (!x->plan.hyperfine) {
		snprintf(s->hf_err, sizeof(s->hf_err), "not asked for");
		return;
	}
	/* alternating halves: rtvnet, hyperfine, rtvnet, hyperfine */
	cmd_time(x, env, s, argv, h1);
	if ((stop && *stop) || hyperfine(x, env, s, h1) < 0)
		return;
	cmd_time(x, env, s, argv, h2);
	if (!(stop && *stop))
		hyperfine(x, env, s, h2);
}

static void startup(struct rtv_rt *x, const volatile sig_atomic_t *stop, rtv_rt_progress_fn fn,
		    void *arg)
{
	const char *const argv[] = { "/bin/true", NULL };
	int64_t ph[RTV_ENV_PHASES + 1];

	for (int e = 0; e < x->plan.nenvs; e++)
		if (!x->avail[e] && (x->start[e].status = alloc_start(&x->start[e],
									x->plan.startup_runs)))
			snprintf(x->start[e].err, sizeof(x->start[e].err), "out of memory");
	for (int i = 0; i < x->plan.startup_runs && !(stop && *stop); i++) {
		progress_say(fn, arg, "startup: run %d/%d of /bin/true in each environment", i + 1,
			     x->plan.startup_runs);
		for (int e = 0; e < x->plan.nenvs; e++) {
			struct rtv_rt_start *s = &x->start[e];
			int ret;

			if (x->avail[e] || s->status)
				continue;
			memset(ph, 0, sizeof(ph));
			ret = x->plan.env[e]->once(&x->envs, argv, ph, s->err, sizeof(s->err));
			if (ret < 0) {
				s->status = ret;
				continue;
			}
			for (int k = 0; k <= RTV_ENV_PHASES; k++)
				s->phase_ms[k][s->n] = (double)ph[k] / 1e6;
			s->n++;
		}
	}
	for (int e = 0; e < x->plan.nenvs && !(stop && *stop); e++)
		if (!x->avail[e] && !x->start[e].status) {
			progress_say(fn, arg, "startup: %s's one command, rtvnet and hyperfine",
				     x->plan.env[e]->name);
			crosscheck(x, e, stop);
			rtv_env_clear_cgroups();
		}
}

/* The orphans of runtimes that ended, reparented to rtvnet (subreaper). */
static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void read_cpuidle_driver(struct rtv_rt *x)
{
	if (rtv_file_read_line("/sys/devices/system/cpu/cpuidle/current_driver", x->cpuidle_driver,
			       sizeof(x->cpuidle_driver)) < 0)
		snprintf(x->cpuidle_driver, sizeof(x->cpuidle_driver), "none");
}

int rtv_rt_run(struct rtv_rt *x, const volatile sig_atomic_t *stop, rtv_rt_progress_fn fn,
	       void *arg)
{
	size_t mark = rtv_journal_is_open() ? rtv_journal_mark() : 0;
	char cyclictest[256], truebin[] = "/bin/true", err[256];
	const char *progs[3] = { cyclictest, truebin, NULL };
	int ret, dma = -1, ok = 0;
	pid_t load = 0;
	int cur_load = -1, cur_rep = -1;

	x->start_realtime_ns = rtv_realtime_ns();
	read_cpuidle_driver(x);
	/* what the runtimes leave running on its own (podman's conmon, a
	 * runtime's init) becomes rtvnet's to reap, not init's: gone, not a
	 * zombie, when a run ends */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (rtv_path_find("cyclictest", cyclictest, sizeof(cyclictest)) < 0) {
		rtv_err("cyclictest is not installed (Debian package rt-tests)");
		return -ENOENT;
	}
	ret = rtv_envs_prepare(&x->envs, x->plan.dir, progs, err, sizeof(err));
	if (ret < 0) {
		rtv_err("%s", err);
		goto out;
	}
	/* the runtimes make these when missing (crun even for --version) */
	ret = rtv_journal_is_open() ? rtv_env_journal_run_dirs() : 0;
	if (ret < 0) {
		rtv_err("cannot journal the runtimes' directories: %s", strerror(-ret));
		goto out;
	}
	for (int i = 0; i < x->plan.nenvs; i++) /* again, now that the host is known */
		x->avail[i] = x->plan.env[i]->detect(&x->envs, x->why[i], sizeof(x->why[i]));
	if (x->plan.cpu_dma_latency_us >= 0) {
		int32_t us = x->plan.cpu_dma_latency_us;

		dma = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
		x->dma_latency_held = dma >= 0 && write(dma, &us, sizeof(us)) == sizeof(us);
	}
	for (x->done = 0; x->done < x->nlat && !(stop && *stop); x->done++) {
		struct rtv_rt_lat *l = &x->lat[x->done];

		if (l->repeat != cur_rep || l->load != cur_load) {
			load_stop(load);
			load = 0;
			if (l->load >= 1) {
				progress_say(fn, arg, "starting the load (stress-ng)");
				load = load_start(x);
				if (load < 0) {
					rtv_err("cannot start the load: %s",
						load == -ENOEXEC ? "stress-ng exited (is it installed? "
						"Debian package stress-ng)" : strerror((int)-load));
					ret = (int)load;
					load = 0;
					goto out;
				}
			}
			cur_rep = l->repeat;
			cur_load = l->load;
		}
		if (x->avail[l->env]) {
			l->status = x->avail[l->env];
			snprintf(l->err, sizeof(l->err), "%s", x->why[l->env]);
			continue;
		}
		progress_say(fn, arg, "latency: repeat %d/%d, %s, %s (cyclictest %.0f s)", l->repeat,
			     x->plan.repeats, load_name[l->load], x->plan.env[l->env]->name,
			     (double)x->plan.cyc.duration_ns / 1e9);
		lat_run(x, l, cyclictest, stop);
		reap_orphans();
		ok += !l->status;
	}
	load_stop(load);
	load = 0;
	if (x->plan.startup_runs && !(stop && *stop))
		startup(x, stop, fn, arg);
	for (int e = 0; e < x->plan.nenvs; e++)
		ok += x->start[e].n > 0;
	ret = stop && *stop ? -EINTR : ok ? 0 : -EIO;
out:
	load_stop(load);
	reap_orphans();
	if (dma >= 0)
		close(dma);
	if (rtv_journal_is_open()) {
		int u = rtv_journal_undo_to(mark);

		if (u < 0 && !ret)
			ret = u;
	}
	x->end_realtime_ns = rtv_realtime_ns();
	return ret;
}

/* -- results -- */

static double us(int64_t ns)
{
	return ns < 0 ? NAN : (double)ns / 1e3;
}

/* The summary over repeats of one value of every run of (env, load). */
static void lat_summary(const struct rtv_rt *x, int e, int load, double (*get)(const struct
									       rtv_rt_lat *),
			struct rtv_summary *s)
{
	double v[RTV_RT_MAX_REPEATS];
	int n = 0;

	for (int i = 0; i < x->nlat; i++)
		if (x->lat[i].env == e && x->lat[i].load == load && !x->lat[i].status &&
		    n < RTV_RT_MAX_REPEATS)
			v[n++] = get(&x->lat[i]);
	rtv_summary_of(v, n, s);
}

static double g_min(const struct rtv_rt_lat *l) { return us(l->res.min_ns); }
static double g_avg(const struct rtv_rt_lat *l) { return l->res.avg_ns / 1e3; }
static double g_p50(const struct rtv_rt_lat *l) { return us(l->res.p50_ns); }
static double g_p99(const struct rtv_rt_lat *l) { return us(l->res.p99_ns); }
static double g_p999(const struct rtv_rt_lat *l) { return us(l->res.p999_ns); }
static double g_max(const struct rtv_rt_lat *l) { return us(l->res.max_ns); }
static double g_ovf(const struct rtv_rt_lat *l) { return (double)l->res.overflows; }
static double g_rss(const struct rtv_rt_lat *l) { return l->mem.rss ? (double)l->mem.rss / 1048576 : NAN; }
static double g_pss(const struct rtv_rt_lat *l) { return l->mem.pss ? (double)l->mem.pss / 1048576 : NAN; }
static double g_uss(const struct rtv_rt_lat *l) { return l->mem.uss ? (double)l->mem.uss / 1048576 : NAN; }
static double g_cg(const struct rtv_rt_lat *l)
{
	return l->cgroup_bytes < 0 ? NAN : (double)l->cgroup_bytes / 1048576;
}

static const struct {
	const char *key;
	double (*get)(const struct rtv_rt_lat *);
} lat_cols[] = {
	{ "min_us", g_min }, { "avg_us", g_avg }, { "p50_us", g_p50 }, { "p99_us", g_p99 },
	{ "p99_9_us", g_p999 }, { "max_us", g_max }, { "overflows", g_ovf },
};

static const struct {
	const char *key;
	double (*get)(const struct rtv_rt_lat *);
} mem_cols[] = {
	{ "rss_mb", g_rss }, { "pss_mb", g_pss }, { "uss_mb", g_uss }, { "cgroup_mb", g_cg },
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* mean, p50, p99 (nearest rank) and worst of n values */
struct dist {
	int n;
	double mean, p50, p99, max;
};

static struct dist dist_of(const double *v, int n)
{
	struct dist d = { .n = n, .mean = NAN, .p50 = NAN, .p99 = NAN, .max = NAN };
	double *s;

	if (n <= 0 || !(s = malloc((size_t)n * sizeof(*s))))
		return d;
	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	d.mean = 0;
	for (int i = 0; i < n; i++)
		d.mean += s[i] / n;
	d.p50 = s[(int)ceil(0.50 * n) - 1];
	d.p99 = s[(int)ceil(0.99 * n) - 1];
	d.max = s[n - 1];
	free(s);
	return d;
}

static void cell(FILE *f, const struct rtv_summary *s, int width)
{
	char b[48];

	if (!s->n)
		snprintf(b, sizeof(b), "-");
	else if (s->n == 1 || s->max - s->min < 0.05)
		snprintf(b, sizeof(b), "%.1f", s->mean);
	else
		snprintf(b, sizeof(b), "%.1f [%.0f-%.0f]", s->mean, s->min, s->max);
	fprintf(f, " %*s", width, b);
}

void rtv_rt_tables(FILE *f, const struct rtv_rt *x)
{
	const struct rtv_rt_plan *p = &x->plan;

	fprintf(f, "\ntimer latency: cyclictest -p%d -i%lld, %.0f s per run, %d repeat(s); "
		"mean over repeats [min-max], us\n",
		p->cyc.prio, (long long)(p->cyc.interval_ns / 1000),
		(double)p->cyc.duration_ns / 1e9, p->repeats);
	fprintf(f, "%-8s %-7s %4s %8s %8s %8s %16s %16s %18s %6s %6s\n", "env", "load", "runs", "min",
		"avg", "p50", "p99", "p99.9", "max", "ovf", "xchk");
	for (int l = 0; l < RTV_RT_LOADS; l++)
		for (int e = 0; l < RTV_RT_LOADS && p->load[l] && e < p->nenvs; e++) {
			struct rtv_summary s;
			int runs = 0, xok = 0;

			if (x->avail[e])
				continue;
			for (int i = 0; i < x->nlat; i++)
				if (x->lat[i].env == e && x->lat[i].load == l && !x->lat[i].status) {
					runs++;
					xok += x->lat[i].cross_ok;
				}
			fprintf(f, "%-8s %-7s %4d", p->env[e]->name, load_name[l], runs);
			for (size_t c = 0; c < sizeof(lat_cols) / sizeof(lat_cols[0]); c++) {
				static const int w[] = { 8, 8, 8, 16, 16, 18, 6 };

				lat_summary(x, e, l, lat_cols[c].get, &s);
				cell(f, &s, w[c]);
			}
			fprintf(f, " %3d/%-2d\n", xok, runs);
		}
	for (int i = 0; i < x->nlat; i++)
		if (x->lat[i].status && !x->avail[x->lat[i].env] && x->lat[i].status != -ECANCELED)
			fprintf(f, "  %s, %s, repeat %d failed: %s\n", p->env[x->lat[i].env]->name,
				load_name[x->lat[i].load], x->lat[i].repeat, x->lat[i].err);

	fprintf(f, "\nmemory while cyclictest runs (the program and the runtime's processes "
		"that stay; the instance's cgroup), MiB\n");
	fprintf(f, "%-8s %8s %8s %8s %8s %10s\n", "env", "RSS", "PSS", "USS", "keepers", "cgroup");
	for (int e = 0; e < p->nenvs; e++) {
		struct rtv_summary s;
		int keep = 0;

		if (x->avail[e])
			continue;
		for (int i = 0; i < x->nlat; i++)
			if (x->lat[i].env == e && !x->lat[i].status)
				keep = x->lat[i].nkeepers;
		fprintf(f, "%-8s", p->env[e]->name);
		for (size_t c = 0; c < 3; c++) {
			lat_summary(x, e, 0, mem_cols[c].get, &s);
			if (!s.n)
				lat_summary(x, e, 1, mem_cols[c].get, &s);
			fprintf(f, " %8.1f", s.n ? s.mean : NAN);
		}
		lat_summary(x, e, 0, g_cg, &s);
		if (!s.n)
			lat_summary(x, e, 1, g_cg, &s);
		fprintf(f, " %8d", keep);
		if (s.n)
			fprintf(f, " %10.1f\n", s.mean);
		else
			fprintf(f, " %10s\n", "none");
	}

	if (p->startup_runs) {
		fprintf(f, "\nstartup and removal of /bin/true, %d runs, ms: total (mean p50 p99 "
			"worst), phases (mean), one command by rtvnet and hyperfine (mean)\n",
			p->startup_runs);
		fprintf(f, "%-8s %4s %7s %7s %7s %7s  %-40s %9s %9s %6s\n", "env", "n", "mean", "p50",
			"p99", "worst", "phases", "cmd", "hyperfine", "ratio");
		for (int e = 0; e < p->nenvs; e++) {
			const struct rtv_rt_start *s = &x->start[e];
			struct dist t, c, h;
			char ph[96] = "";
			size_t off = 0;

			if (x->avail[e])
				continue;
			t = dist_of(s->phase_ms[RTV_ENV_PHASES], s->n);
			for (int k = 0; k < RTV_ENV_PHASES && p->env[e]->phase[k]; k++) {
				struct dist d = dist_of(s->phase_ms[k], s->n);

				off += (size_t)snprintf(ph + off, off < sizeof(ph) ? sizeof(ph) - off
						       : 0, "%s%s %.1f", k ? ", " : "",
							p->env[e]->phase[k], d.mean);
			}
			c = dist_of(s->cmd_ms, s->ncmd);
			h = dist_of(s->hf_ms, s->nhf);
			fprintf(f, "%-8s %4d %7.2f %7.2f %7.2f %7.2f  %-40s %9.2f %9.2f %6.3f\n",
				p->env[e]->name, s->n, t.mean, t.p50, t.p99, t.max, ph[0] ? ph : "-",
				c.mean, h.mean, c.n && h.n ? c.mean / h.mean : NAN);
			if (s->status)
				fprintf(f, "  %s failed: %s\n", p->env[e]->name, s->err);
			else if (s->hf_err[0])
				fprintf(f, "  %s: no hyperfine cross-check: %s\n", p->env[e]->name,
					s->hf_err);
		}
	}
	for (int e = 0; e < p->nenvs; e++)
		if (x->avail[e])
			fprintf(f, "%s: not run: %s\n", p->env[e]->name, x->why[e]);
}

static int env_index(const struct rtv_rt *x, const char *name)
{
	for (int e = 0; e < x->plan.nenvs; e++)
		if (!strcmp(x->plan.env[e]->name, name) && !x->avail[e])
			return e;
	return -1;
}

void rtv_rt_findings(FILE *f, const struct rtv_rt *x)
{
	int crun = env_index(x, "crun"), runc = env_index(x, "runc"), nat = env_index(x, "native");

	fprintf(f, "\nfindings (Abeni et al.: crun 15 ms mean / 19 ms worst, runc 25 / 42 ms; "
		"crun+cyclictest 18 MB, runc over 100 MB)\n");
	if (crun >= 0 && runc >= 0 && x->start[crun].n && x->start[runc].n) {
		struct dist c = dist_of(x->start[crun].phase_ms[RTV_ENV_PHASES], x->start[crun].n);
		struct dist r = dist_of(x->start[runc].phase_ms[RTV_ENV_PHASES], x->start[runc].n);

		fprintf(f, "  startup: crun %s runc: %.1f ms against %.1f ms mean (%.2fx), %.1f "
			"against %.1f ms worst (%.2fx)\n", c.mean < r.mean ? "faster than" :
			"NOT faster than", c.mean, r.mean, r.mean / c.mean, c.max, r.max,
			r.max / c.max);
	}
	if (crun >= 0 && runc >= 0) {
		struct rtv_summary c, r;

		lat_summary(x, crun, 0, g_rss, &c);
		lat_summary(x, runc, 0, g_rss, &r);
		if (c.n && r.n)
			fprintf(f, "  memory: crun + cyclictest %.1f MiB RSS, runc + cyclictest %.1f "
				"MiB: %s\n", c.mean, r.mean, fabs(c.mean - r.mean) < 0.05 * r.mean ?
				"the same, neither runtime keeps a process once the container runs "
				"(the paper counts the runtime's own while it waits)" :
				c.mean < r.mean ? "crun smaller" : "crun NOT smaller");
	}
	for (int e = 0; x->plan.load[1] && x->plan.load[2] && e < x->plan.nenvs; e++) {
		struct rtv_summary i, l, r;

		if (x->avail[e])
			continue;
		lat_summary(x, e, 0, g_p99, &i);
		lat_summary(x, e, 1, g_p99, &l);
		lat_summary(x, e, 2, g_p99, &r);
		if (l.n && r.n)
			fprintf(f, "  reservation: %s's loaded p99 %.0f us with it, %.0f us without "
				"(idle %.0f us): %s\n", x->plan.env[e]->name, r.mean, l.mean,
				i.n ? i.mean : NAN, r.mean < l.mean ? "toward idle's" :
				"NOT toward idle's");
	}
	for (int e = 0; nat >= 0 && x->plan.load[1] && e < x->plan.nenvs; e++) {
		struct rtv_summary h, c;

		if (e == nat || x->avail[e])
			continue;
		lat_summary(x, nat, 1, g_p99, &h);
		lat_summary(x, e, 1, g_p99, &c);
		if (h.n && c.n)
			fprintf(f, "  loaded p99: %s %.0f us against native %.0f us: %.2fx (target "
				"<= 1.2x: %s)\n", x->plan.env[e]->name, c.mean, h.mean,
				c.mean / h.mean, c.mean <= 1.2 * h.mean ? "met" : "MISSED");
	}
}

json_t *rtv_rt_config_json(const struct rtv_rt *x)
{
	const struct rtv_rt_plan *p = &x->plan;
	json_t *c = json_object(), *envs = json_array();

	for (int e = 0; e < p->nenvs; e++)
		json_array_append_new(envs, json_string(p->env[e]->name));
	json_object_set_new(c, "environments", envs);
	json_object_set_new(c, "repeats", json_integer(p->repeats));
	json_object_set_new(c, "idle", json_boolean(p->load[0]));
	json_object_set_new(c, "loaded", json_boolean(p->load[1]));
	json_object_set_new(c, "reserved", json_boolean(p->load[2]));
	json_object_set_new(c, "load", json_string(p->load[1] || p->load[2] ? x->load_cmd : ""));
	json_object_set_new(c, "cyclictest",
			    json_pack("{s:i, s:I, s:f, s:i, s:i}", "priority", p->cyc.prio,
				      "interval_us", (json_int_t)(p->cyc.interval_ns / 1000),
				      "duration_s", (double)p->cyc.duration_ns / 1e9, "hist_max_us",
				      p->cyc.hist_max_us, "threads", p->cyc.threads));
	json_object_set_new(c, "reserve", p->load[2] ?
			    json_pack("{s:I, s:I, s:I}", "runtime_us",
				      (json_int_t)(p->res.runtime_ns / 1000), "deadline_us",
				      (json_int_t)(p->res.deadline_ns / 1000), "period_us",
				      (json_int_t)(p->res.period_ns / 1000)) : json_null());
	json_object_set_new(c, "startup_runs", json_integer(p->startup_runs));
	json_object_set_new(c, "cpu_dma_latency_us", json_integer(p->cpu_dma_latency_us));
	json_object_set_new(c, "cpu_dma_latency_held", json_boolean(x->dma_latency_held));
	json_object_set_new(c, "cpuidle_driver", json_string(x->cpuidle_driver));
	json_object_set_new(c, "cgroup_version", json_integer(x->envs.cg.version));
	json_object_set_new(c, "crun_hides_v2", json_boolean(x->envs.hide_v2));
	json_object_set_new(c, "container_rt_runtime_us",
			    json_integer(x->envs.rt_runtime_us < 0 ? -1 :
					 rtv_env_container_rt_us(&x->envs)));
	return c;
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *dist_json(const double *v, int n)
{
	struct dist d = dist_of(v, n);

	return json_pack("{s:i, s:o, s:o, s:o, s:o}", "n", d.n, "mean_ms", num(d.mean), "p50_ms",
			 num(d.p50), "p99_ms", num(d.p99), "worst_ms", num(d.max));
}

json_t *rtv_rt_json(const struct rtv_rt *x)
{
	const struct rtv_rt_plan *p = &x->plan;
	json_t *envs = json_array();

	for (int e = 0; e < p->nenvs; e++) {
		const struct rtv_rt_start *s = &x->start[e];
		json_t *o = json_object(), *lat = json_array(), *st;

		json_object_set_new(o, "name", json_string(p->env[e]->name));
		json_object_set_new(o, "what", json_string(p->env[e]->what));
		json_object_set_new(o, "available", json_boolean(!x->avail[e]));
		if (x->avail[e]) {
			json_object_set_new(o, "why", json_string(x->why[e]));
			json_array_append_new(envs, o);
			continue;
		}
		for (int i = 0; i < x->nlat; i++) {
			const struct rtv_rt_lat *l = &x->lat[i];
			json_t *r;

			if (l->env != e || l->status == -ECANCELED)
				continue;
			r = json_pack("{s:s, s:i, s:b}", "load", load_name[l->load], "repeat",
				      l->repeat, "ok", !l->status);
			if (l->status) {
				json_object_set_new(r, "error", json_string(l->err));
				json_array_append_new(lat, r);
				continue;
			}
			for (size_t c = 0; c < sizeof(lat_cols) / sizeof(lat_cols[0]); c++)
				json_object_set_new(r, lat_cols[c].key, num(lat_cols[c].get(l)));
			json_object_set_new(r, "samples", json_integer((json_int_t)l->res.samples));
			json_object_set_new(r, "crosscheck", json_pack("{s:b, s:s}", "ok",
						l->cross_ok, "message", l->cross_msg));
			json_object_set_new(r, "memory",
					    json_pack("{s:I, s:I, s:I, s:i, s:o}", "rss_bytes",
						      (json_int_t)l->mem.rss, "pss_bytes",
						      (json_int_t)l->mem.pss, "uss_bytes",
						      (json_int_t)l->mem.uss, "keepers", l->nkeepers,
						      "cgroup_bytes", l->cgroup_bytes < 0 ?
						      json_null() : json_integer(l->cgroup_bytes)));
			if (l->note[0])
				json_object_set_new(r, "note", json_string(l->note));
			json_object_set_new(r, "cyclictest", json_incref(l->json));
			json_array_append_new(lat, r);
		}
		json_object_set_new(o, "latency", lat);
		st = json_object();
		if (p->startup_runs) {
			json_t *phases = json_object();

			json_object_set_new(st, "total", dist_json(s->phase_ms[RTV_ENV_PHASES], s->n));
			for (int k = 0; k < RTV_ENV_PHASES && p->env[e]->phase[k]; k++)
				json_object_set_new(phases, p->env[e]->phase[k],
						    dist_json(s->phase_ms[k], s->n));
			json_object_set_new(st, "phases", phases);
			json_object_set_new(st, "command", json_string(s->command));
			json_object_set_new(st, "rtvnet", dist_json(s->cmd_ms, s->ncmd));
			json_object_set_new(st, "hyperfine", dist_json(s->hf_ms, s->nhf));
			if (s->status)
				json_object_set_new(st, "error", json_string(s->err));
			if (s->hf_err[0])
				json_object_set_new(st, "no_crosscheck", json_string(s->hf_err));
		}
		json_object_set_new(o, "startup", st);
		json_array_append_new(envs, o);
	}
	return envs;
}

int rtv_rt_svg(FILE *f, const struct rtv_rt *x, int load)
{
	struct rtv_svg_series s[RTV_RT_MAX_ENVS];
	static double xs[RTV_RT_MAX_ENVS][512], ys[RTV_RT_MAX_ENVS][512];
	char title[128];
	int n = 0;

	for (int e = 0; e < x->plan.nenvs; e++) {
		struct rtv_hist h;

		if (x->avail[e])
			continue;
		rtv_hist_init(&h);
		for (int i = 0; i < x->nlat; i++)
			if (x->lat[i].env == e && x->lat[i].load == load && !x->lat[i].status)
				rtv_hist_merge(&h, &x->lat[i].res.hist);
		s[n].name = x->plan.env[e]->name;
		s[n].x_ns = xs[n];
		s[n].y = ys[n];
		s[n].n = rtv_hist_cdf(&h, xs[n], ys[n], 512);
		if (s[n].n < 0)
			s[n].n = 0;
		n++;
	}
	snprintf(title, sizeof(title), "cyclictest latency, %s", load_name[load]);
	return rtv_svg_cdf_write(f, title, s, n);
}
