/* Methods: each prepares the testbed's hosts and the kernel threads that
 * carry their packets for one run. Every change goes through the journal, so
 * undoing a method is one general step (rtv_journal_undo_to() to the mark
 * taken before setup) rather than code of its own.
 *
 * Adding a method:
 *  1. write lib/methods/<name>.c defining `const struct rtv_method rtv_method_<name>`;
 *  2. declare it below and add it to rtv_methods[] in methods.c;
 *  3. add the file to lib/methods/meson.build;
 *  4. compare picks it up by name; add it to the README's method table. */
#ifndef RTV_METHODS_METHOD_H
#define RTV_METHODS_METHOD_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testbed/testbed.h"

enum rtv_role { RTV_ROLE_RT_CLIENT, RTV_ROLE_RT_SERVER, RTV_ROLE_STREAM_CLIENT,
		RTV_ROLE_STREAM_SERVER };

#define RTV_METHOD_MAX_DEVS 8

/* A network device in a named namespace ("" for the caller's). */
struct rtv_dev {
	char netns[32];
	char name[16];
};

struct rtv_method_cfg {
	int rt_prio;        /* SCHED_FIFO priority of the RT path (1-99) */
	cpu_set_t rt_cpus;  /* the RT CPU set */
	cpu_set_t nonrt_cpus;
	/* The receive-path methods' scope: the RT devices, and the non-RT
	 * devices whose processing is kept apart from theirs. */
	struct rtv_dev rt_dev[RTV_METHOD_MAX_DEVS];
	int nrt_devs;
	struct rtv_dev nonrt_dev[RTV_METHOD_MAX_DEVS];
	int nnonrt_devs;
	const char *cpufreq_root; /* RTV_CPUFREQ_ROOT, or a fake tree */
	/* busypoll, hybrid: the poller has the RT CPU to itself, as KBP's has
	 * its core (on a real host, `rtvnet apply`, always so). On the testbed
	 * the default is shared: the RT client and server run on the RT CPU
	 * too, at SCHED_FIFO above the poller; apart, they run with the
	 * streams on the other CPUs (measured here: worse, see the README). */
	bool poller_apart;
	int64_t idle_ns;          /* hybrid: sleep after this long without packets */
};

struct rtv_rx;

/* What a method leaves in place for the length of a run, beside its
 * journaled changes: pollers and the link watcher of the receive-path
 * methods (rx, NULL for the others), and a note of what it did. */
struct rtv_method_run {
	char note[512];
	struct rtv_rx *rx;
};

struct rtv_method {
	const char *name;
	const char *summary;
	/* Prepare the host before a run; journaled. tb is the testbed, or NULL
	 * on a real host (`rtvnet apply`), where only methods with host set
	 * run. Writes what it did (or could not do) into run->note. */
	int (*setup)(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
		     struct rtv_method_run *run);
	bool host; /* applies to a real host's devices (rtvnet apply) */
	/* Place a process the run has just started (priority, affinity). */
	int (*place)(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
		     enum rtv_role role, pid_t pid);
};

extern const struct rtv_method rtv_method_vanilla;
extern const struct rtv_method rtv_method_prio;
extern const struct rtv_method rtv_method_dedicated;
extern const struct rtv_method rtv_method_separate;
extern const struct rtv_method rtv_method_busypoll;
extern const struct rtv_method rtv_method_hybrid;

/* NULL-terminated, in the order compare runs them. */
extern const struct rtv_method *const rtv_methods[];
const struct rtv_method *rtv_method_find(const char *name);

/* Kernel threads carrying a device's packets on their own: threaded IRQ
 * handlers (irq/N-DEV) and threaded NAPI (napi/DEV-ID). Returns the count. */
int rtv_method_dev_kthreads(const char *dev, pid_t *tids, int max);

/* The part of a run a method leaves running (NULL-safe): handle link
 * events (re-apply what the kernel lost), waiting at most timeout_ms; CPU
 * time so far of its pollers and the RT devices' NAPI threads; stop its
 * threads (the journal undoes the rest). */
int rtv_method_run_poll(struct rtv_method_run *run, int timeout_ms);
int64_t rtv_method_run_cpu_ns(const struct rtv_method_run *run);
void rtv_method_run_stop(struct rtv_method_run *run);

/* Shared by the methods: the RT client and server at SCHED_FIFO rt_prio on
 * the RT CPUs (a place() function). */
int rtv_method_rt_place(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			enum rtv_role role, pid_t pid);
/* busypoll's and hybrid's: the same, on the other CPUs with poller_apart. */
int rtv_method_poller_place(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			    enum rtv_role role, pid_t pid);
/* The receive-path methods' setup (enum rtv_rx_mode of methods/rxpath.h):
 * on the testbed, its RT devices (and with partition, dedicated's CPU
 * partitioning first); on a host, cfg's devices. */
int rtv_method_rx_setup(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
			struct rtv_method_run *run, int mode, bool partition);

#endif
