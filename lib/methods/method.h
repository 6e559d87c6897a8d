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
#include <stddef.h>
#include <sys/types.h>

#include "testbed/testbed.h"

enum rtv_role { RTV_ROLE_RT_CLIENT, RTV_ROLE_RT_SERVER, RTV_ROLE_STREAM_CLIENT,
		RTV_ROLE_STREAM_SERVER };

struct rtv_method_cfg {
	int rt_prio;        /* SCHED_FIFO priority of the RT path (1-99) */
	cpu_set_t rt_cpus;  /* the RT CPU set (dedicated) */
	cpu_set_t nonrt_cpus;
};

struct rtv_method {
	const char *name;
	const char *summary;
	/* Prepare hosts and kernel threads before a run; journaled. May write a
	 * one-line note of what it did (or could not do) into note. */
	int (*setup)(const struct rtv_method_cfg *cfg, struct rtv_testbed *tb, char *note,
		     size_t len);
	/* Place a process the run has just started (priority, affinity). */
	int (*place)(const struct rtv_method_cfg *cfg, const struct rtv_testbed *tb,
		     enum rtv_role role, pid_t pid);
};

extern const struct rtv_method rtv_method_vanilla;
extern const struct rtv_method rtv_method_prio;
extern const struct rtv_method rtv_method_dedicated;

/* NULL-terminated, in the order compare runs them. */
extern const struct rtv_method *const rtv_methods[];
const struct rtv_method *rtv_method_find(const char *name);

/* Kernel threads carrying a device's packets on their own: threaded IRQ
 * handlers (irq/N-DEV) and threaded NAPI (napi/DEV-ID). Returns the count. */
int rtv_method_dev_kthreads(const char *dev, pid_t *tids, int max);

#endif
