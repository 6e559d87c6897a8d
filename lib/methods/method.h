/* Methods: what rtvnet changes on a host so that an RT service's packets and
 * threads are served first. A method is a table row that declares what it
 * needs (the CPU partition, the receive path it sets, the RT processes'
 * priority and CPUs) and, where it changes more, a setup function; the
 * combination engine below (methods.c) carries the needs out, so that methods
 * can be combined ("prio+dedicated") and a conflict is found before anything
 * changes. Every change goes through the journal: undoing a method is one
 * general step (rtv_journal_undo_to() to the mark taken before setup), never
 * code of its own.
 *
 * Adding a method (a toy one is built in tests/unit/test_methods.c):
 *  1. write lib/methods/<name>.c defining `const struct rtv_method
 *     rtv_method_<name>`: its needs, receive path, setup (only for what the
 *     needs do not cover), whether compare runs it by default, and its
 *     expected effect as checks (struct rtv_expect);
 *  2. declare it below and add it to rtv_methods[] in methods.c;
 *  3. add the file to lib/methods/meson.build.
 * compare, apply (when it sets a receive path) and the combinations pick it
 * up by name; the README's method table describes it. */
#ifndef RTV_METHODS_METHOD_H
#define RTV_METHODS_METHOD_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testbed/testbed.h"

/* The processes an experiment starts on the testbed, as a method sees them. */
enum rtv_role { RTV_ROLE_RT_CLIENT, RTV_ROLE_RT_SERVER, RTV_ROLE_STREAM_CLIENT,
		RTV_ROLE_STREAM_SERVER, RTV_ROLE_OTHER };

/* Where the kernel processes the RT devices' packets (methods/rxpath.h). */
enum rtv_rx_mode { RTV_RX_NONE, RTV_RX_SEPARATE, RTV_RX_BUSYPOLL, RTV_RX_HYBRID };

#define RTV_METHOD_MAX_DEVS 8
#define RTV_METHOD_NOTE_LEN 512

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
	const char *debugfs_root; /* RTV_DEBUGFS_ROOT (NULL), or a fake tree */
	const char *sysctl_root;  /* "/proc/sys" (NULL), or a fake tree */
	int softirq_budget;       /* RTV_NEED_SHORT_SOFTIRQ: net.core.netdev_budget, packets
				   * per NET_RX round (0: RTV_SOFTIRQ_BUDGET) ... */
	int backlog_weight;       /* ... and net.core.dev_weight, per backlog poll (0:
				   * RTV_BACKLOG_WEIGHT); never raised */
	/* busypoll, hybrid: the poller has the RT CPU to itself, as KBP's has
	 * its core (on a real host, `rtvnet apply`, always so). On the testbed
	 * the default is shared: the RT client and server run on the RT CPU
	 * too, at SCHED_FIFO above the poller; apart, they run with the
	 * streams on the other CPUs (measured here: worse, see the README). */
	bool poller_apart;
	/* busypoll, hybrid: no partition; the RT CPU stays shared with the
	 * streams as with separate (rtv_combo_needs) */
	bool shared;
	int64_t idle_ns;          /* hybrid: sleep after this long without packets */
};

struct rtv_rx;

/* What a method leaves in place for the length of a run, beside its
 * journaled changes: pollers and the link watcher of the receive-path
 * methods (rx, NULL for the others), and a note of what it did. */
struct rtv_method_run {
	char note[RTV_METHOD_NOTE_LEN];
	struct rtv_rx *rx;
	/* A method's own processes and fds for the run (outsource: the channel
	 * that hands the RT server's seccomp listener over, and the supervisor
	 * process), ended by rtv_method_run_stop. */
	int chan[2];
	bool chan_open;
	pid_t helper;          /* 0: none */
	/* Where the RT service binds and is reached in this run when a method
	 * moves it (outsource: the RT NIC's address in rtv-host); "": the
	 * testbed's addresses. */
	char service_addr[24];
};

/* What a method needs done, carried out by the combination engine in this
 * order: the partition, the receive path (rx), the method's own setup; the
 * RT processes are placed as they start. Needs add up when methods are
 * combined; only the receive path is exclusive. */
#define RTV_NEED_PARTITION 0x1u /* the RT CPUs for the RT hosts and their packet processing
				 * alone (dedicated's partitioning): needs non-RT CPUs */
#define RTV_NEED_RT_FIFO   0x2u /* the RT client and server at SCHED_FIFO rt_prio */
#define RTV_NEED_RT_PIN    0x4u /* the RT client and server pinned to the RT CPUs (a poller's
				 * method with poller_apart: to the others) */
#define RTV_NEED_STEER     0x8u /* the bulk devices' backlog work steered (RPS) to the non-RT
				 * CPUs, the bulk applications free (methods/steer.c) */
#define RTV_NEED_SHORT_SOFTIRQ 0x20u /* NET_RX softirq rounds kept short (netdev_budget,
				      * dev_weight), so woken RT threads wait less (separate.c) */
#define RTV_NEED_PREEMPT   0x10u /* full preemption (PREEMPT_DYNAMIC's switch) where the
				  * kernel allows it; reported where it does not */

/* An expected effect of a method, checked after a comparison: the
 * method's value of metric (a metric key, e.g. "p99_us") divided by the
 * reference arm's ("idle", another method), or the value itself when ref is
 * NULL, compared with bound. */
enum rtv_cmp { RTV_CMP_LT, RTV_CMP_LE, RTV_CMP_GE, RTV_CMP_GT };
struct rtv_expect {
	const char *name;   /* what the check shows: "phenomenon", "cure", "beats prio" */
	const char *metric;
	const char *ref;    /* NULL: an absolute bound */
	enum rtv_cmp cmp;
	double bound;
};
#define RTV_EXPECT_MAX 4

struct rtv_method {
	const char *name;
	const char *summary;
	unsigned needs;          /* RTV_NEED_* */
	enum rtv_rx_mode rx;     /* the receive path it sets, RTV_RX_NONE for none */
	/* What it changes beyond its needs, before a run; journaled. tb is the
	 * testbed, or NULL on a real host (`rtvnet apply`). Writes what it did
	 * (or could not do) into run->note. NULL: nothing beyond its needs. */
	int (*setup)(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb,
		     struct rtv_method_run *run);
	/* A method that wraps a process of the run (outsource): in the child,
	 * right before its program runs (role as in rtv_combo_place), and in
	 * the parent once the child is started. NULL: nothing. */
	int (*child)(const struct rtv_method_cfg *cfg, struct rtv_method_run *run,
		     enum rtv_role role);
	int (*started)(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
		       struct rtv_method_run *run, enum rtv_role role, pid_t pid);
	bool in_default;         /* compare runs it when no --methods is given */
	struct rtv_expect expect[RTV_EXPECT_MAX]; /* ends at a row with no name */
};

extern const struct rtv_method rtv_method_vanilla;
extern const struct rtv_method rtv_method_prio;
extern const struct rtv_method rtv_method_dedicated;
extern const struct rtv_method rtv_method_separate;
extern const struct rtv_method rtv_method_busypoll;
extern const struct rtv_method rtv_method_hybrid;
extern const struct rtv_method rtv_method_outsource;
extern const struct rtv_method rtv_method_steer;

/* NULL-terminated, in the order compare runs them. */
extern const struct rtv_method *const rtv_methods[];
const struct rtv_method *rtv_method_find(const char *name);
/* "vanilla,prio,..." of the methods with in_default, in table order. */
int rtv_methods_default(char *buf, size_t len);
/* "vanilla, prio, ...": every method's name, for messages. */
int rtv_methods_known(char *buf, size_t len);

/* Set cfg's RT CPUs to rt and its non-RT CPUs to the other online ones. */
void rtv_method_cfg_cpus(struct rtv_method_cfg *cfg, const cpu_set_t *rt);

/* ---- combinations: one method, or several joined by '+' ---- */

#define RTV_COMBO_MAX 4
#define RTV_COMBO_NAME_LEN 64

struct rtv_combo {
	char name[RTV_COMBO_NAME_LEN]; /* "prio+dedicated" */
	const struct rtv_method *part[RTV_COMBO_MAX];
	int nparts;
	unsigned needs;                /* the union of the parts' */
	enum rtv_rx_mode rx;           /* the one part's that sets it, or RTV_RX_NONE */
};

/* Combine parts[0..n-1] into c. -EINVAL with a message in err naming the
 * methods and what conflicts: two receive paths, vanilla (the kernel
 * unchanged) with anything, a method twice, more than RTV_COMBO_MAX. */
int rtv_combo_of(const struct rtv_method *const *parts, int n, struct rtv_combo *c, char *err,
		 size_t errlen);
/* The same from "A" or "A+B+..." by name (rtv_methods[]); -EINVAL with a
 * message naming an unknown method and listing the known ones. */
int rtv_combo_parse(const char *spec, struct rtv_combo *c, char *err, size_t errlen);
/* The needs c carries out with cfg (c->needs, but busypoll and hybrid with
 * cfg->shared: no partition, separate's shared-CPU needs instead). */
unsigned rtv_combo_needs(const struct rtv_combo *c, const struct rtv_method_cfg *cfg);
/* Whether c applies to a real host's devices (`rtvnet apply`): it sets a
 * receive path, and each part sets one or needs only host-wide settings
 * (steer), nothing of the testbed's. */
bool rtv_combo_host(const struct rtv_combo *c);
/* The host-wide changes c's needs make beside its receive path, as text
 * for a plan (`rtvnet apply --dry-run`): at most max lines; their count. */
int rtv_combo_host_steps(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
			 char (*step)[200], int max);
/* Whether cfg's CPUs allow c: the partition needs an RT CPU and another for
 * the streams. 0, or -EINVAL with why naming the method. (A receive path is
 * checked by rtv_combo_setup before it changes anything.) */
int rtv_combo_check(const struct rtv_combo *c, const struct rtv_method_cfg *cfg, char *why,
		    size_t len);
/* Prepare the host before a run, every change journaled: the partition
 * (testbed only), the receive path (the testbed's RT devices, or cfg's on a
 * host: tb NULL), each part's setup. run->note says what was done. On error
 * what was done stays journaled, for the caller to undo. */
int rtv_combo_setup(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		    struct rtv_testbed *tb, struct rtv_method_run *run);
/* Place a process a run has just started: the RT client and server get
 * the priority and CPUs the needs ask for; other roles are left alone. */
int rtv_combo_place(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		    enum rtv_role role, pid_t pid);

/* dedicated's partitioning (RTV_NEED_PARTITION): the RT hosts' cgroups on
 * the RT CPUs, the stream hosts' on the others, the RT devices' kernel
 * threads pinned, other IRQs, movable threads and unbound workqueues moved
 * off the RT CPUs; journaled. Writes what it did into note. */
int rtv_method_partition(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb, char *note,
			 size_t len);

/* steer's need (RTV_NEED_STEER): RPS of every stream path device (tb), or of
 * cfg's non-RT devices on a host (tb NULL), set to the non-RT CPUs;
 * journaled. Writes what it did into note. */
int rtv_method_steer_bulk(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
			  char *note, size_t len);

/* separate's RTV_NEED_SHORT_SOFTIRQ: lower net.core.netdev_budget and
 * net.core.dev_weight to cfg's (or the defaults below), journaled; a host
 * already lower keeps its values. Writes what it did into note. */
#define RTV_SOFTIRQ_BUDGET 32
#define RTV_BACKLOG_WEIGHT 16
int rtv_method_short_softirq(const struct rtv_method_cfg *cfg, char *note, size_t len);

/* Each part's child hook, in the child a run starts for role, right before
 * its program; then, in the parent, each part's started hook. 0 or the
 * first -errno. */
int rtv_combo_child(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		    struct rtv_method_run *run, enum rtv_role role);
int rtv_combo_started(const struct rtv_combo *c, const struct rtv_method_cfg *cfg,
		      const struct rtv_testbed *tb, struct rtv_method_run *run, enum rtv_role role,
		      pid_t pid);

/* The part of a run a method leaves running (NULL-safe): handle link
 * events (re-apply what the kernel lost), waiting at most timeout_ms; CPU
 * time so far of its pollers and the RT devices' NAPI threads; stop its
 * threads (the journal undoes the rest). */
int rtv_method_run_poll(struct rtv_method_run *run, int timeout_ms);
int64_t rtv_method_run_cpu_ns(const struct rtv_method_run *run);
void rtv_method_run_stop(struct rtv_method_run *run);

#endif
