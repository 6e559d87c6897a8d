/* The host journal: every change rtvnet makes to the host is written here,
 * with what undoes it, before it is made (/run/rtvnet/journal, fsync'd).
 *
 * One rtvnet at a time changes the host: rtv_journal_open() takes an
 * exclusive lock for the life of the process. Entries belong either to the
 * running process ("run") or are kept on purpose after it exits ("keep": a
 * testbed brought up by `rtvnet testbed up`). Run entries found at open time
 * belong to a process that died without undoing them (kill -9, power loss):
 * rtv_journal_recover() undoes them. Undo runs in reverse order and guards
 * against pid reuse: a thread or process is touched only if its start time
 * still matches the one recorded. It has no lock: one thread of the process
 * records and undoes (the taskset probe, whose runner has threads of its
 * own, has their set-up done on the engine's thread). */
#ifndef RTV_HOST_JOURNAL_H
#define RTV_HOST_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RTV_JOURNAL_DIR "/run/rtvnet"

/* Open (creating dir) and lock. -EWOULDBLOCK when another rtvnet holds it. */
int rtv_journal_open(const char *dir);
/* Undo every run entry, then release the lock. Safe when never opened. */
void rtv_journal_close(void);
bool rtv_journal_is_open(void);
/* Undo run entries left by a dead process; returns how many were undone. */
int rtv_journal_recover(void);

/* Recording: each returns 0 or -errno; on error the change must not be made. */
int rtv_journal_add_netns(const char *name);   /* undo: delete the namespace */
int rtv_journal_add_dir(const char *path);     /* undo: kill its tasks (cgroup), rmdir */
int rtv_journal_save_file(const char *path);   /* undo: write the current contents back */
int rtv_journal_add_ctl(const char *path, const char *token); /* undo: write "-token" */
int rtv_journal_save_sched(pid_t tid);         /* undo: policy, priority and nice */
int rtv_journal_save_affinity(pid_t tid);      /* undo: CPU affinity */
int rtv_journal_add_proc(pid_t pid);           /* undo: SIGKILL if still the same process */

/* Kinds of entry defined by other modules (net/ journals NAPI settings and
 * device features this way). undo gets the entry's arguments, decoded, and
 * returns 0 or -errno; it must treat "already gone" as done (0). Register
 * every kind before rtv_journal_recover() runs, or a dead process's entries of
 * that kind cannot be undone (they are reported and dropped). At most 16
 * kinds; -EEXIST for a name taken, -ENOSPC beyond 16. */
typedef int (*rtv_journal_undo_fn)(int argc, char **argv);
int rtv_journal_register(const char *kind, rtv_journal_undo_fn undo);
/* Record an entry of a registered kind (at most 6 arguments). */
int rtv_journal_add(const char *kind, int nargs, const char *const *args);

/* Journaled write of a sysfs/procfs/cgroup file: saves, then writes. */
int rtv_host_write(const char *path, const char *value);

/* Entries are numbered in order; a mark is the count at some moment. */
size_t rtv_journal_mark(void);
/* Undo entries after mark, newest first, and drop them. Returns the number
 * undone or the first -errno (it still undoes the rest). */
int rtv_journal_undo_to(size_t mark);
/* Undo everything, kept entries too (`rtvnet revert`, `testbed down`). */
int rtv_journal_undo_all(void);
/* Make the entries after mark outlive this process. */
int rtv_journal_keep_from(size_t mark);
/* Number of kept entries (a testbed or applied method is in place). */
size_t rtv_journal_kept(void);

/* Start time of a task in clock ticks since boot (field 22 of stat), or 0. */
unsigned long long rtv_proc_starttime(pid_t pid, pid_t tid);

#endif
