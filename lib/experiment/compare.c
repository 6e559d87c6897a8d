#include "experiment/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/energy.h"
#include "host/journal.h"
#include "methods/rxpath.h"
#include "probe/napitrace.h"
#include "probe/stream.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

#define FOREIGN_CGROUP "/" RTV_TESTBED_CGROUP

/* What the children of one run share with the parent. */
struct shm {
	volatile sig_atomic_t stop_streams, stop_rt;
	struct rtv_netrt_result rt;
	struct rtv_netrt_server_stats srv;
	struct rtv_stream_result sink[RTV_TESTBED_MAX_STREAMS];
	struct rtv_stream_result src[RTV_TESTBED_MAX_STREAMS];
};

struct child_arg {
	struct shm *shm;
	const struct rtv_compare_cfg *cfg;
	const struct rtv_testbed *tb;
	int index;       /* stream pair */
	uint64_t seed;
	char path[128];  /* iperf3 JSON output */
};

const char *rtv_load_name(enum rtv_load load)
{
	switch (load) {
	case RTV_LOAD_BUILTIN: return "stream";
	case RTV_LOAD_IPERF3: return "iperf3";
	default: return "none";
	}
}

int rtv_compare_init(struct rtv_compare *c, const struct rtv_compare_cfg *cfg)
{
	int per = 1 + cfg->nmethods, k = 0;

	memset(c, 0, sizeof(*c));
	if (cfg->repeats < 1 || cfg->repeats > RTV_COMPARE_MAX_REPEATS ||
	    cfg->nmethods > RTV_COMPARE_MAX_METHODS)
		return -EINVAL;
	c->cfg = *cfg;
	c->nruns = cfg->repeats * per;
	c->runs = calloc((size_t)c->nruns, sizeof(*c->runs));
	if (!c->runs)
		return -ENOMEM;
	for (int r = 0; r < cfg->repeats; r++)
		for (int m = 0; m < per; m++, k++) {
			struct rtv_compare_run *run = &c->runs[k];

			snprintf(run->method, sizeof(run->method), "%s",
				 m ? cfg->methods[m - 1]->name : RTV_COMPARE_IDLE);
			run->load = m ? cfg->load : RTV_LOAD_NONE;
			run->repeat = r + 1;
			run->stream_gbit_s = NAN;
		}
	return 0;
}

void rtv_compare_release(struct rtv_compare *c)
{
	free(c->runs);
	c->runs = NULL;
}

static int server_main(void *p)
{
	struct child_arg *a = p;
	struct rtv_netrt_server_cfg cfg = { .bind_addr = a->tb->rt_server.addr,
					    .port = RTV_NETRT_DEFAULT_PORT };

	return rtv_netrt_server_run(&cfg, &a->shm->stop_rt, &a->shm->srv);
}

static int client_main(void *p)
{
	struct child_arg *a = p;
	struct rtv_netrt_client_cfg cfg = {
		.addr = a->tb->rt_client.peer,
		.port = RTV_NETRT_DEFAULT_PORT,
		.payload = a->cfg->payload,
		.duration_ns = rtv_ns_add_sat(a->cfg->warmup_ns, a->cfg->duration_ns),
		.interval = a->cfg->interval,
		.seed = a->seed,
		.timeout_ns = RTV_NS_PER_S,
		.warmup_ns = a->cfg->warmup_ns,
	};

	return rtv_netrt_client_run(&cfg, &a->shm->stop_rt, &a->shm->rt);
}

static int sink_main(void *p)
{
	struct child_arg *a = p;
	struct rtv_stream_cfg cfg = {
		.proto = IPPROTO_TCP,
		.addr = a->tb->stream_server[a->index].addr,
		.port = RTV_STREAM_DEFAULT_PORT,
	};

	return rtv_stream_sink_run(&cfg, &a->shm->stop_streams, NULL, NULL, &a->shm->sink[a->index]);
}

static int source_main(void *p)
{
	struct child_arg *a = p;
	struct rtv_stream_cfg cfg = {
		.proto = IPPROTO_TCP,
		.addr = a->tb->stream_client[a->index].peer,
		.port = RTV_STREAM_DEFAULT_PORT,
	};

	return rtv_stream_source_run(&cfg, &a->shm->stop_streams, NULL, NULL, &a->shm->src[a->index]);
}

static int iperf3_server_main(void *p)
{
	struct child_arg *a = p;
	char port[16];
	int fd = open("/dev/null", O_WRONLY);

	snprintf(port, sizeof(port), "%d", RTV_STREAM_IPERF3_PORT);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execlp("iperf3", "iperf3", "-s", "-1", "-B", a->tb->stream_server[a->index].addr, "-p",
	       port, (char *)NULL);
	return -errno;
}

static int iperf3_client_main(void *p)
{
	struct child_arg *a = p;
	char port[16], secs[32];
	int fd = open("/dev/null", O_WRONLY);

	snprintf(port, sizeof(port), "%d", RTV_STREAM_IPERF3_PORT);
	/* runs out a moment after the NetRT client, then writes its JSON */
	snprintf(secs, sizeof(secs), "%.1f",
		 (double)(a->cfg->warmup_ns + a->cfg->duration_ns) / 1e9 + 0.5);
	if (fd >= 0)
		dup2(fd, 2);
	execlp("iperf3", "iperf3", "-c", a->tb->stream_client[a->index].peer, "-p", port, "-t",
	       secs, "-J", "--logfile", a->path, (char *)NULL);
	return -errno;
}

static double iperf3_gbit_s(const char *path)
{
	json_t *root = json_load_file(path, 0, NULL), *v;
	double g = NAN;

	if (!root)
		return NAN;
	v = json_object_get(json_object_get(json_object_get(root, "end"), "sum_received"),
			    "bits_per_second");
	if (json_is_number(v))
		g = json_number_value(v) / 1e9;
	json_decref(root);
	return g;
}

static uint64_t sink_bytes(const struct shm *shm, int n)
{
	uint64_t b = 0;

	for (int i = 0; i < n; i++)
		b += __atomic_load_n(&shm->sink[i].bytes, __ATOMIC_RELAXED);
	return b;
}

struct kids {
	pid_t pid[4 + 2 * RTV_TESTBED_MAX_STREAMS];
	int n;
};

/* Start fn in host h and let the run's method (NULL for idle) place it. */
static int start(struct kids *k, const struct rtv_method *m, const struct rtv_method_cfg *mcfg,
		 struct rtv_testbed *tb, const struct rtv_tb_host *h, enum rtv_role role,
		 int (*fn)(void *), void *arg)
{
	pid_t pid;
	int err;

	err = rtv_testbed_spawn(tb, h, fn, arg, &pid);
	if (err < 0)
		return err;
	k->pid[k->n++] = pid;
	if (m && m->place) {
		err = m->place(mcfg, tb, role, pid);
		if (err < 0)
			rtv_err("method '%s' cannot place process %d: %s", m->name, pid, strerror(-err));
	}
	return err;
}

static void stop_all(struct kids *k, struct shm *shm)
{
	int64_t deadline = rtv_now_ns() + 3 * RTV_NS_PER_S;

	shm->stop_rt = 1;
	shm->stop_streams = 1;
	for (int i = 0; i < k->n; i++)
		kill(k->pid[i], SIGTERM);
	for (int i = 0; i < k->n; i++) {
		while (waitpid(k->pid[i], NULL, WNOHANG) == 0) {
			if (rtv_now_ns() > deadline) {
				kill(k->pid[i], SIGKILL);
				waitpid(k->pid[i], NULL, 0);
				break;
			}
			usleep(10000);
		}
	}
	k->n = 0;
}

/* Wait until until_ns, handling the method's link events meanwhile. */
static bool sleep_checking(int64_t until_ns, const volatile sig_atomic_t *stop,
			   struct rtv_method_run *mrun)
{
	while (rtv_now_ns() < until_ns) {
		if (*stop)
			return false;
		int64_t step = until_ns - rtv_now_ns();

		if (step > 50 * RTV_NS_PER_MS)
			step = 50 * RTV_NS_PER_MS;
		if (step > 0 && rtv_method_run_poll(mrun, (int)(step / RTV_NS_PER_MS) + 1) < 0)
			rtv_warn("cannot re-apply the method's settings after a link change");
	}
	return !*stop;
}

/* NET_RX softirqs raised so far on the RT CPUs. */
static uint64_t rt_net_rx(const cpu_set_t *rt)
{
	uint64_t per[RTV_CPUS_MAX], sum = 0;
	int n = rtv_softirqs_read("/proc/softirqs", "NET_RX", per, RTV_CPUS_MAX);

	for (int i = 0; i < n; i++)
		if (CPU_ISSET(i, rt))
			sum += per[i];
	return sum;
}

/* Who polled the RT devices' NAPIs with work, over the run so far. */
static void trace_tally(struct rtv_napitrace *nt, struct rtv_compare_run *run)
{
	static struct rtv_napitrace_row rows[RTV_NAPITRACE_ROWS_MAX];
	uint64_t sirq = 0, poller = 0, kthr = 0, all = 0;
	int n = rtv_napitrace_read(nt, rows, RTV_NAPITRACE_ROWS_MAX, NULL);

	for (int i = 0; i < n && i < RTV_NAPITRACE_ROWS_MAX; i++) {
		all += rows[i].polls;
		sirq += rows[i].softirq;
		if (!strncmp(rows[i].comm, "rtv-poll", 8))
			poller += rows[i].polls - rows[i].softirq;
		else if (!strncmp(rows[i].comm, "napi/", 5))
			kthr += rows[i].polls - rows[i].softirq;
	}
	run->rt_polls = all;
	run->rt_polls_softirq_pct = all ? 100.0 * (double)sirq / (double)all : NAN;
	run->rt_polls_poller_pct = all ? 100.0 * (double)poller / (double)all : NAN;
	run->rt_polls_kthread_pct = all ? 100.0 * (double)kthr / (double)all : NAN;
}

static double energy_uj(const struct rtv_compare *c)
{
	uint64_t uj;

	if (!c->rapl || rtv_energy_read_uj(&c->energy, &uj))
		return NAN;
	return (double)uj;
}

static int one_run(struct rtv_compare *c, struct rtv_testbed *tb, struct shm *shm,
		   const volatile sig_atomic_t *stop, rtv_compare_progress_fn progress, void *parg)
{
	struct rtv_compare_run *run = &c->runs[c->done];
	const struct rtv_compare_cfg *cfg = &c->cfg;
	const struct rtv_method *m = rtv_method_find(run->method);
	struct child_arg args[2 + 2 * RTV_TESTBED_MAX_STREAMS];
	struct rtv_cpuload_snap a = { 0 }, b = { 0 };
	struct kids k = { .n = 0 };
	struct rtv_method_run mrun = { .rx = NULL };
	struct rtv_napitrace *nt = NULL;
	size_t mark = rtv_journal_mark();
	uint64_t bytes_a = 0, netrx_a = 0;
	int64_t t_start, t_a = 0, t_b, pcpu_a = 0;
	double e_a = NAN;
	struct rtv_rx_stats rxs_a;
	int err = 0, status, nargs = 0;
	bool load = run->load != RTV_LOAD_NONE, client_done = false;

	memset(shm, 0, sizeof(*shm));
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		args[i] = (struct child_arg){ .shm = shm, .cfg = cfg, .tb = tb };
		args[i].seed = cfg->seed + (uint64_t)run->repeat; /* same schedule for every method */
	}
	run->energy_j = run->energy_est_j = NAN;
	run->rt_polls_softirq_pct = run->rt_polls_poller_pct = run->rt_polls_kthread_pct = NAN;
	run->wake_p99_ns = -1;
	rtv_rx_stats(NULL, &rxs_a);
	if (m && m->setup) {
		err = m->setup(&cfg->mcfg, tb, &mrun);
		snprintf(run->note, sizeof(run->note), "%s", mrun.note);
		if (err < 0)
			goto out;
	}
	if (c->tracefs) {
		char inst[32], glob[32];

		snprintf(inst, sizeof(inst), "rtvnet-%d", getpid());
		snprintf(glob, sizeof(glob), "%.12s", tb->rt_client.dev);
		glob[strlen(glob) - 2] = '?'; /* rtvc0 and rtvs0: "rtv?0" */
		if (rtv_napitrace_start(&nt, RTV_TRACEFS_ROOT, inst, glob) < 0)
			nt = NULL;
	}
	if (m && cfg->idle_phase_ns > 0) { /* the method's cost with no traffic at all */
		int64_t t0 = rtv_now_ns(), c0 = rtv_method_run_cpu_ns(&mrun);

		if (!sleep_checking(rtv_ns_add_sat(t0, cfg->idle_phase_ns), stop, &mrun)) {
			err = -EINTR;
			goto out;
		}
		run->poller_idle_cpu_pct = 100.0 * (double)(rtv_method_run_cpu_ns(&mrun) - c0) /
					   (double)(rtv_now_ns() - t0);
	}
	for (int i = 0; load && i < cfg->nstreams; i++) {
		struct child_arg *sa = &args[nargs++], *ca = &args[nargs++];

		sa->index = ca->index = i;
		snprintf(ca->path, sizeof(ca->path), "%s/iperf3-%d.json", RTV_JOURNAL_DIR, i);
		unlink(ca->path);
		err = start(&k, m, &cfg->mcfg, tb, &tb->stream_server[i], RTV_ROLE_STREAM_SERVER,
			    run->load == RTV_LOAD_IPERF3 ? iperf3_server_main : sink_main, sa);
		if (err < 0)
			goto out;
	}
	if (load)
		usleep(100000); /* servers listening */
	for (int i = 0; load && i < cfg->nstreams; i++) {
		err = start(&k, m, &cfg->mcfg, tb, &tb->stream_client[i], RTV_ROLE_STREAM_CLIENT,
			    run->load == RTV_LOAD_IPERF3 ? iperf3_client_main : source_main,
			    &args[2 * i + 1]);
		if (err < 0)
			goto out;
	}
	err = start(&k, m, &cfg->mcfg, tb, &tb->rt_server, RTV_ROLE_RT_SERVER, server_main, &args[nargs]);
	if (err < 0)
		goto out;
	usleep(load ? 300000 : 50000); /* streams at full speed, server bound */
	err = start(&k, m, &cfg->mcfg, tb, &tb->rt_client, RTV_ROLE_RT_CLIENT, client_main, &args[nargs]);
	if (err < 0)
		goto out;
	t_start = rtv_now_ns();
	if (!sleep_checking(rtv_ns_add_sat(t_start, cfg->warmup_ns), stop, &mrun)) {
		err = -EINTR;
		goto out;
	}
	err = rtv_cpuload_snap(&a, getpid(), FOREIGN_CGROUP);
	if (err < 0)
		goto out;
	bytes_a = sink_bytes(shm, cfg->nstreams);
	netrx_a = rt_net_rx(&cfg->mcfg.rt_cpus);
	e_a = energy_uj(c);
	pcpu_a = rtv_method_run_cpu_ns(&mrun);
	rtv_rx_stats(mrun.rx, &rxs_a);
	t_a = rtv_now_ns();
	while (!client_done) {
		pid_t client = k.pid[k.n - 1];

		if (*stop) {
			err = -EINTR;
			goto out;
		}
		if (waitpid(client, &status, WNOHANG) == client) {
			client_done = true;
			k.n--; /* reaped */
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				rtv_err("the NetRT client failed in run %d (%s)", c->done + 1, run->method);
				err = -ECHILD;
				goto out;
			}
			break;
		}
		if (progress)
			progress(parg, c, c->done, (double)(rtv_now_ns() - t_start) / 1e9, &shm->rt);
		if (rtv_method_run_poll(&mrun, 250) < 0)
			rtv_warn("cannot re-apply the method's settings after a link change");
		if (nt)
			rtv_napitrace_read(nt, NULL, 0, NULL); /* keep the buffer from filling */
	}
	if (nt)
		trace_tally(nt, run);
	err = rtv_cpuload_snap(&b, getpid(), FOREIGN_CGROUP);
	if (err < 0)
		goto out;
	t_b = rtv_now_ns();
	{
		double win_s = (double)(t_b - t_a) / 1e9, e_b = energy_uj(c);
		struct rtv_rx_stats rxs_b;

		run->poller_load_cpu_pct = 100.0 * (double)(rtv_method_run_cpu_ns(&mrun) - pcpu_a) /
					   (double)(t_b - t_a);
		run->rt_net_rx_per_s = (double)(rt_net_rx(&cfg->mcfg.rt_cpus) - netrx_a) / win_s;
		rtv_rx_stats(mrun.rx, &rxs_b);
		run->wakeups = rxs_b.wakeups - rxs_a.wakeups;
		if (rxs_b.wake.count > rxs_a.wake.count)
			run->wake_p99_ns = rtv_hist_percentile(&rxs_b.wake, 99);
		if (c->rapl)
			run->energy_j = rtv_energy_delta_uj((uint64_t)e_a, (uint64_t)e_b,
							    c->energy.npkgs == 1 ?
							    c->energy.pkg[0].max_range_uj : 0) / 1e6;
	}
	rtv_cpuload_diff(&a, &b, &run->cpu);
	if (!c->rapl)
		run->energy_est_j = run->cpu.busy_pct / 100.0 * run->cpu.ncpus *
				    (double)(t_b - t_a) / 1e9 * cfg->core_watts;
	run->disturbed = run->cpu.foreign_pct > cfg->foreign_limit_pct;
	if (load && run->load == RTV_LOAD_BUILTIN)
		run->stream_gbit_s = (double)(sink_bytes(shm, cfg->nstreams) - bytes_a) * 8.0 /
				     (double)(t_b - t_a);
	run->rt = shm->rt;
	run->rt_napi_path_pct = shm->srv.napi_samples ?
		100.0 * (double)shm->srv.napi_path / (double)shm->srv.napi_samples : NAN;
	/* iperf3 reports only when it ends by itself: let the clients finish */
	for (int i = 0; run->load == RTV_LOAD_IPERF3 && i < cfg->nstreams; i++) {
		pid_t pid = k.pid[cfg->nstreams + i];
		int64_t deadline = rtv_now_ns() + 5 * RTV_NS_PER_S;

		while (waitpid(pid, NULL, WNOHANG) == 0 && rtv_now_ns() < deadline)
			usleep(20000);
	}
out:
	stop_all(&k, shm);
	rtv_method_run_stop(&mrun);
	rtv_napitrace_free(nt);
	if (!err && run->load == RTV_LOAD_IPERF3) {
		run->stream_gbit_s = 0;
		for (int i = 0; i < cfg->nstreams; i++) {
			double g = iperf3_gbit_s(args[2 * i + 1].path);

			run->stream_gbit_s += g;
			unlink(args[2 * i + 1].path);
		}
	}
	rtv_cpuload_snap_release(&a);
	rtv_cpuload_snap_release(&b);
	status = rtv_journal_undo_to(mark);
	if (status < 0 && !err)
		err = status;
	run->status = err;
	return err;
}

int rtv_compare_run(struct rtv_compare *c, const volatile sig_atomic_t *stop,
		    rtv_compare_progress_fn progress, void *arg)
{
	struct rtv_testbed tb;
	struct rtv_cgroups cg;
	struct shm *shm;
	size_t mark = rtv_journal_mark();
	int err, dma_fd = -1;

	c->start_realtime_ns = rtv_realtime_ns();
	err = rtv_cgroup_detect(RTV_CGROUP_ROOT, &cg);
	if (err < 0) {
		rtv_err("no usable cgroup hierarchy under '%s'", RTV_CGROUP_ROOT);
		return err;
	}
	c->cgroup_version = cg.version;
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return -errno;
	/* the same idle-state policy for every run, or the comparison measures
	 * C-states instead of methods (on a VM, waking a halted CPU costs about
	 * 100 us): held by an open fd, released by the kernel when this process
	 * ends however it ends */
	snprintf(c->cpuidle_driver, sizeof(c->cpuidle_driver), "unknown");
	{
		FILE *f = fopen("/sys/devices/system/cpu/cpuidle/current_driver", "re");

		if (f) {
			if (fgets(c->cpuidle_driver, sizeof(c->cpuidle_driver), f))
				c->cpuidle_driver[strcspn(c->cpuidle_driver, "\n")] = '\0';
			fclose(f);
		}
	}
	if (c->cfg.cpu_dma_latency_us >= 0) {
		int32_t us = c->cfg.cpu_dma_latency_us;

		dma_fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
		if (dma_fd >= 0 && write(dma_fd, &us, sizeof(us)) == sizeof(us))
			c->dma_latency_held = true;
		else
			rtv_warn("cannot hold /dev/cpu_dma_latency at %d us: idle states may add wake-up latency",
				 us);
	}
	c->rapl = !rtv_energy_rapl_probe(RTV_POWERCAP_ROOT, &c->energy);
	c->tracefs = !access(RTV_TRACEFS_ROOT "/events/napi/napi_poll", F_OK);
	if (!c->tracefs)
		rtv_info("tracefs is not mounted at %s: no napi_poll evidence of who processes the RT "
			 "packets (mount -t tracefs nodev %s)", RTV_TRACEFS_ROOT, RTV_TRACEFS_ROOT);
	rtv_testbed_init(&tb, c->cfg.nstreams, &cg);
	err = rtv_testbed_up(&tb);
	if (err == -EEXIST)
		rtv_err("a testbed is already up: run 'rtvnet testbed down' first");
	for (; !err && c->done < c->nruns; c->done++) {
		err = one_run(c, &tb, shm, stop, progress, arg);
		if (err < 0 && err != -EINTR)
			rtv_err("run %d (%s) failed: %s", c->done + 1, c->runs[c->done].method,
				strerror(-err));
	}
	if (rtv_journal_undo_to(mark) < 0 && !err)
		err = -EIO;
	if (dma_fd >= 0)
		close(dma_fd);
	munmap(shm, sizeof(*shm));
	c->end_realtime_ns = rtv_realtime_ns();
	return err;
}
