/* The host journal: every change rtvnet makes to the host is written here,
 * with what undoes it, before it is made (/run/rtvnet/journal, fsync'd).
 *
 * One rtvnet at a time changes the host: rtv_journal_open() takes an
 * exclusive lock for the life of the process (the lock file names the
 * holder's pid). Entries belong either to the running process or are kept
 * on purpose after it exits by an owner ("testbed": `rtvnet testbed up`,
 * "reserve": `rtvnet reserve`), undone only by that owner's command or by
 * `rtvnet revert`. Entries of the running process found at open time belong
 * to a process that died without undoing them (kill -9, power loss):
 * rtv_journal_recover() undoes them. Undo runs newest first and guards
 * against pid reuse: a thread or process is touched only if its start time
 * still matches the one recorded. An entry whose undo fails stays, with the
 * error and how often it failed, and is retried at the next start; only an
 * entry whose target is provably gone is dropped, and that is logged.
 *
 * Kinds of entry: each module that changes the host defines its kinds as
 * rows (struct rtv_journal_kind) registered at program start with
 * RTV_JOURNAL_KIND, so a dead run's entries can be undone by any rtvnet. A
 * kind also reads the current state of everything of its kind rtvnet could
 * change: rtv_journal_snapshot() prints all of them, the host as rtvnet sees
 * it, which tests compare before and after.
 *
 * It has no lock: one thread of the process records and undoes (the taskset
 * probe, whose runner has threads of its own, has their set-up done on the
 * engine's thread). */
#ifndef RTV_HOST_JOURNAL_H
#define RTV_HOST_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define RTV_JOURNAL_DIR "/run/rtvnet"

/* What an undo returns besides 0 (undone) and -errno (failed: kept). */
#define RTV_JOURNAL_GONE 1 /* its target is provably gone: dropped, logged */

struct rtv_journal_kind {
	const char *name; /* one word, at most 15 characters */
	/* Undo one entry, given its arguments decoded: 0, RTV_JOURNAL_GONE or
	 * -errno. */
	int (*undo)(int argc, char **argv);
	/* Print the current state of everything of this kind rtvnet could
	 * change, one line per item, in any order (the journal sorts them).
	 * 0 or -errno. */
	int (*snapshot)(FILE *out);
	/* Globs (fnmatch, '*' crossing '/') of the /proc and /sys files whose
	 * state the snapshot prints, NULL-terminated; NULL for none. Only
	 * files some kind claims may be written with rtv_host_write. */
	const char *const *files;
};

/* Register a kind (RTV_JOURNAL_KIND does it before main). A kind without
 * an undo or a snapshot reader, or a name taken, is a programming error:
 * it aborts with a message. */
void rtv_journal_kind_register(const struct rtv_journal_kind *k);
#define RTV_JOURNAL_KIND(k)                                                  \
	__attribute__((constructor)) static void k##_register(void)          \
	{                                                                    \
		rtv_journal_kind_register(&k);                               \
	}
/* The registered kinds, by name order: the i-th, NULL past the end. */
const struct rtv_journal_kind *rtv_journal_kind_at(size_t i);

/* Open (creating dir) and lock. -EWOULDBLOCK when another rtvnet holds it
 * (*holder, when not NULL, gets its pid, or 0 when unknown). */
int rtv_journal_open(const char *dir, pid_t *holder);
/* Undo every entry of this process, then release the lock. Safe when never
 * opened. */
void rtv_journal_close(void);
bool rtv_journal_is_open(void);
/* In a forked child: this process stops writing the journal (its parent,
 * which holds the lock, journals what the child makes, e.g. from a pid the
 * child reports); the lock stays the parent's and nothing is undone. */
void rtv_journal_forget(void);
/* Undo entries left by a dead process; returns how many were undone, or the
 * first -errno (the failed ones stay). */
int rtv_journal_recover(void);

/* Record an entry of a registered kind (at most 6 arguments): 0 or -errno;
 * on error the change must not be made. */
int rtv_journal_add(const char *kind, int nargs, const char *const *args);

/* Files (sysctls, sysfs, procfs, cgroupfs: kind "file"). rtv_host_write is
 * a journaled write: it saves, then writes. Paths under /proc and /sys that
 * no snapshot reads are refused (-EPERM): what rtvnet changes, tests see. */
int rtv_host_write(const char *path, const char *value);
int rtv_journal_save_file(const char *path); /* undo: write the current contents back */

/* A file of rtvnet's own in RTV_JOURNAL_DIR (kind "runfile": undo removes
 * it), recorded before it is made. 0 or -errno. */
int rtv_journal_add_runfile(const char *path);

/* Entries are numbered in order; a mark is the count at some moment. */
size_t rtv_journal_mark(void);
/* Undo entries after mark, newest first. Returns the number undone (not
 * counting those dropped because their target is gone) or the first -errno
 * (it still undoes the rest; the failed ones stay). The same for the undo
 * and recover calls below. */
int rtv_journal_undo_to(size_t mark);
/* Undo everything, kept entries of every owner too (`rtvnet revert`). */
int rtv_journal_undo_all(void);
/* Undo the entries kept by owner (`testbed down`: "testbed"). */
int rtv_journal_undo_owner(const char *owner);
/* Make the entries after mark outlive this process, kept by owner (one
 * word). */
int rtv_journal_keep_from(size_t mark, const char *owner);
/* Number of entries kept by owner (NULL: by anyone). */
size_t rtv_journal_kept(const char *owner);

/* What `rtvnet status` shows: the journal as it is on disk, read without
 * the lock, and who holds the lock. */
struct rtv_journal_entry {
	char owner[16];  /* "" while the process that made it runs (or died) */
	long long since; /* when it was recorded, seconds since the epoch */
	int err;         /* errno of the last failed undo, 0 when none */
	unsigned fails;  /* how many undos of it failed */
	char *line;      /* "<kind> <arguments>", arguments %-encoded */
};
struct rtv_journal_state {
	pid_t holder; /* pid holding the lock now, 0 when none */
	size_t n;
	struct rtv_journal_entry *e;
};
int rtv_journal_state_read(const char *dir, struct rtv_journal_state *st);
void rtv_journal_state_free(struct rtv_journal_state *st);

/* Print every kind's snapshot, kinds in name order, each line prefixed with
 * its kind's name and the lines of a kind sorted. 0 or the first -errno
 * (the other kinds are still printed). */
int rtv_journal_snapshot(FILE *out);

/* Start time of a task in clock ticks since boot (field 22 of stat), or 0. */
unsigned long long rtv_proc_starttime(pid_t pid, pid_t tid);
/* Whether task tid still has the start time recorded as start (a decimal
 * string): the pid-reuse guard of undo functions. */
bool rtv_journal_same_task(const char *tid, const char *start);

#endif
