/* The preemption model of a PREEMPT_DYNAMIC kernel, switched at run time:
 * DEBUGFS/sched/preempt lists the models with the current one in
 * parentheses ("none voluntary (full) lazy"); writing a name switches.
 *
 * Why a method wants it: the papers ran on PREEMPT_RT. Under preempt=none
 * (the development machines' boot default), an RT thread woken on a CPU
 * where a normal thread runs in the kernel (a stream sink copying data, a
 * NAPI kthread polling) waits for that thread's next preemption point or
 * return to user space; under "full" it runs at once. Softirq work stays
 * unpreemptible either way.
 *
 * The debugfs root is a parameter (a fake tree in tests). When the real one
 * (RTV_DEBUGFS_ROOT) is not mounted, the module reads and writes through a
 * detached debugfs mount of its own (fsopen/fsmount: no mount is attached
 * anywhere, and it goes with its last fd). Kernels locked down refuse the
 * file (-EPERM) even to root; kernels without PREEMPT_DYNAMIC have no file
 * (-ENOENT). Never prints. */
#ifndef RTV_HOST_PREEMPT_H
#define RTV_HOST_PREEMPT_H

#include <stddef.h>

#define RTV_DEBUGFS_ROOT "/sys/kernel/debug"

/* The current model ("none", "full", ...) into mode. 0 or -errno. */
int rtv_preempt_get(const char *root, char *mode, size_t len);
/* Parse the file's text: the word in parentheses, or the only word. Pure. */
int rtv_preempt_parse(const char *text, char *mode, size_t len);
/* Journaled: record the current model ("preempt ROOT MODE"), then switch to
 * want; the model found goes into was (when not NULL). Already so: 0,
 * nothing recorded. On error nothing stays recorded. 0 or -errno. */
int rtv_preempt_set_journaled(const char *root, const char *want, char *was, size_t len);
/* Why the model cannot be switched, for a note: err as returned above. */
const char *rtv_preempt_why(int err);

#endif
